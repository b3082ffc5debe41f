//! `#[aggregate]`: the `Aggregate` impl, field constants for typed queries, `raise`, the builder
//! and the registration.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::super::model::StructModel;
use super::{Parts, builder, drain_relations, identity_expr};
use crate::pipeline::registration_static;

pub fn expand(model: &StructModel) -> Parts {
    let builder = builder::builder(model);
    let trait_impl = trait_impl(model);
    let inherent = inherent_impl(model);
    let registration = registration(model);
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
        }
    }
}

fn inherent_impl(model: &StructModel) -> TokenStream {
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

fn registration(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let name = ident.to_string();
    registration_static(
        &quote!(#ident),
        quote! {
            __dc::Registration::Aggregate(__dc::AggregateRegistration {
                name: #name,
                module: ::core::module_path!(),
                type_id: __dc::TypeId::of::<#ident>,
                category: <#ident as __dc::Aggregate>::CATEGORY,
            })
        },
    )
}
