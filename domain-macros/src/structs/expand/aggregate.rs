//! `#[aggregate]`: the `Aggregate` impl, `raise`, and the registration; for a state-stored
//! aggregate the builder and field constants for typed queries, for an event-sourced one
//! (`event_sourced`) getters, a blank constructor and a `raise` that applies the event at once.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{DefaultValue, StructModel};
use super::definition::default_value;
use super::{Parts, builder, drain_relations, getters, identity_expr};
use crate::pipeline::registration_static;

pub fn expand(model: &StructModel) -> Parts {
    let trait_impl = trait_impl(model);
    let registration = registration(model);
    if model.event_sourced {
        let inherent = event_sourced_impl(model);
        return Parts {
            public: quote!(),
            private: quote!(#trait_impl #inherent #registration),
        };
    }
    let builder = builder::builder(model);
    let inherent = state_stored_impl(model);
    let private = &builder.private;
    Parts {
        public: builder.public,
        private: quote!(#trait_impl #inherent #private #registration),
    }
}

fn trait_impl(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let name = ident.to_string();
    let category = &model.category;
    let identity = identity_expr(model);
    let drains = drain_relations(model, &quote!(#ident));
    let sourcing = if model.event_sourced {
        let blank = blank(model);
        let (every, fingerprint) = (model.snapshot_every, model.fingerprint);
        quote! {
            type Sourcing = __dc::EventSourced;
            const SNAPSHOT_EVERY: u64 = #every;
            const SCHEMA_FINGERPRINT: u64 = #fingerprint;
            fn __blank(id: &__dc::Identifier) -> __dc::Option<Self> { __dc::Some(#blank) }
        }
    } else {
        quote!(
            type Sourcing = __dc::StateStored;
        )
    };
    quote! {
        impl __dc::Aggregate for #ident {
            const NAME: &'static str = #name;
            const CATEGORY: &'static str = #category;
            fn identifier(&self) -> __dc::Identifier { #identity }
            fn __state(&self) -> &__dc::AggregateState { &self.__domain }
            fn __state_mut(&mut self) -> &mut __dc::AggregateState { &mut self.__domain }
            fn __drain_events(&mut self, out: &mut ::std::vec::Vec<__dc::PendingEvent>) {
                self.__domain.events.drain_into(out);
                #drains
            }
            #sourcing
        }
    }
}

/// The state before the first event, with identity `id`: each field at its `#[field(default)]`,
/// or its type's `Default` (a type without one is an error at the field's type).
fn blank(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let generated_id = model
        .identifier
        .is_none()
        .then(|| quote!(id: ::core::clone::Clone::clone(id),));
    let fields = model.fields.iter().enumerate().map(|(index, field)| {
        let name = &field.ident;
        let ty = &field.ty;
        let value = if model.identifier == Some(index) {
            quote_spanned!(ty.span()=> <#ty as __dc::FromIdentity>::from_identity(id))
        } else {
            match &field.default {
                Some(default) => default_value(field, default),
                None => default_value(field, &DefaultValue::TypeDefault),
            }
        };
        // Every token at the field's type: a type without `Default` is reported there.
        let value = crate::paths::respan(value, ty.span());
        quote!(#name: #value,)
    });
    let handler = model
        .states
        .as_ref()
        .map(|states| quote_spanned!(states.span()=> __handler: <#states as ::core::default::Default>::default(),));
    quote! {
        #ident {
            #generated_id
            #(#fields)*
            __domain: ::core::default::Default::default(),
            #handler
        }
    }
}

fn state_stored_impl(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let field_consts = model.fields.iter().map(|field| {
        let name = &field.ident;
        let name_str = name.to_string();
        let konst = format_ident!("{}", name_str.to_uppercase());
        let ty = &field.ty;
        let doc = format!("The `{name_str}` field, for typed queries.");
        quote! {
            #[doc = #doc]
            pub const #konst: __dc::Field<#ident, #ty> = {
                fn get(value: &#ident) -> &#ty { &value.#name }
                __dc::Field::new(#name_str, get)
            };
        }
    });
    let builder_fn = builder::builder_fn(model);
    quote! {
        impl #ident {
            #(#field_consts)*
            /// The identity.
            pub fn id(&self) -> __dc::Identifier { <Self as __dc::Aggregate>::identifier(self) }
            /// The version loaded from the store (0: never persisted); used for optimistic concurrency.
            pub fn version(&self) -> u64 { self.__domain.version() }
            /// Raises an event of this aggregate: it is committed with the aggregate and
            /// dispatched after the commit succeeds.
            pub fn raise<E: __dc::Event + __dc::RaisableBy<Self>>(&mut self, event: E) {
                self.__domain.events.push(event);
            }
            #builder_fn
        }
    }
}

/// The entity's handler states: which is active, and the switch `#[apply(become = ..)]` makes.
fn handler_states(model: &StructModel) -> TokenStream {
    let Some(states) = &model.states else {
        return quote!();
    };
    let ident = model.ident();
    let trait_impl = quote_spanned! {states.span()=>
        impl __dc::HandlerStates for #ident {
            type States = #states;
            fn __active(&self) -> #states { self.__handler }
            fn __become(&mut self, state: #states) { self.__handler = state; }
        }
    };
    quote! {
        #trait_impl
        impl #ident {
            /// The active handler: which of the entity's handler states answers its next
            /// message (RIDDL: one handler active at any moment).
            pub fn active_handler(&self) -> #states { self.__handler }
        }
    }
}

fn event_sourced_impl(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let getters = getters(model);
    let handler_states = handler_states(model);
    let new = model.identifier.is_none().then(|| {
        quote! {
            /// A new aggregate with a generated identity, before its first event: raise one to
            /// give it state.
            pub fn new() -> Self {
                Self::with_id(__dc::Identifier::new())
            }
        }
    });
    quote! {
        #handler_states
        impl #ident {
            #getters
            #new
            /// The aggregate with identity `id` before its first event: raise one to give it
            /// state.
            pub fn with_id(id: impl ::core::convert::Into<__dc::Identifier>) -> Self {
                let id: __dc::Identifier = ::core::convert::Into::into(id);
                match <Self as __dc::Aggregate>::__blank(&id) {
                    __dc::Some(blank) => blank,
                    __dc::None => ::core::unreachable!("an event-sourced aggregate has a blank state"),
                }
            }
            /// The identity.
            pub fn id(&self) -> __dc::Identifier { <Self as __dc::Aggregate>::identifier(self) }
            /// The version loaded from the store (0: never persisted); used for optimistic concurrency.
            pub fn version(&self) -> u64 { self.__domain.version() }
            /// Raises an event of this aggregate: its `#[apply]` method changes the state at
            /// once, and the event is committed with the aggregate and dispatched after the
            /// commit succeeds.
            pub fn raise<E: __dc::Event + __dc::RaisableBy<Self>>(&mut self, event: E)
            where
                Self: __dc::Apply<E>,
            {
                <Self as __dc::Apply<E>>::apply(self, &event);
                self.__domain.events.push(event);
            }
        }
    }
}

/// How SQL query handlers read the aggregate: a view of its name in snake_case, a column per
/// field. Only where its row holds its current state: a state-stored aggregate's always, an
/// event-sourced one's when it snapshots every event.
fn sql_view(model: &StructModel) -> TokenStream {
    let state_key = match (model.event_sourced, model.snapshot_every) {
        (false, _) => quote!(__dc::None),
        (true, 1) => quote!(__dc::Some("state")),
        (true, _) => return quote!(__dc::None),
    };
    let name = crate::naming::snake_case(&model.ident().to_string());
    let columns = model.fields.iter().map(|field| {
        let key = super::field_key(field);
        let kind = super::column_kind(&field.ty);
        quote!(__dc::ViewColumn { name: #key, kind: __dc::ColumnKind::#kind })
    });
    quote! {
        __dc::Some(__dc::SqlView {
            name: #name,
            columns: &[#(#columns),*],
            state_key: #state_key,
        })
    }
}

fn registration(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let name = ident.to_string();
    let sql_view = sql_view(model);
    registration_static(
        &quote!(#ident),
        quote! {
            __dc::Registration::Aggregate(__dc::AggregateRegistration {
                name: #name,
                module: ::core::module_path!(),
                type_id: __dc::TypeId::of::<#ident>,
                category: <#ident as __dc::Aggregate>::CATEGORY,
                sql_view: #sql_view,
            })
        },
    )
}
