//! `#[entity]`: the `Entity` impl, `raise` into the aggregate's stream, the builder and the
//! registration.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::model::StructModel;
use super::{Parts, builder, drain_relations, identity_expr, part_of};
use crate::pipeline::registration_static;

pub fn expand(model: &StructModel) -> Parts {
    let ident = model.ident();
    let name = ident.to_string();
    let part_of = part_of(model);
    let identity = identity_expr(model);
    let drains = drain_relations(model, &part_of);
    let builder = builder::builder(model);
    let builder_fn = builder::builder_fn(model);
    let builder_impls = &builder.private;
    let registration = registration_static(
        &quote!(#ident),
        quote! {
            __dc::Registration::Entity(__dc::EntityRegistration {
                name: #name,
                type_id: __dc::TypeId::of::<#ident>,
                aggregate: __dc::TypeId::of::<<#ident as __dc::Entity>::Aggregate>,
                aggregate_name: __dc::entity_aggregate::<#ident>(),
            })
        },
    );
    let private: TokenStream = quote! {
        impl __dc::Entity for #ident {
            type Aggregate = #part_of;
            const NAME: &'static str = #name;
            fn identifier(&self) -> __dc::Identifier { #identity }
            fn __drain_events(&mut self, out: &mut ::std::vec::Vec<__dc::PendingEvent>) {
                self.__domain.drain_into(out);
                #drains
            }
        }
        impl #ident {
            /// The identity.
            pub fn id(&self) -> __dc::Identifier { <Self as __dc::Entity>::identifier(self) }
            /// Raises an event of this entity's aggregate, committed to the aggregate's stream.
            pub fn raise<E: __dc::Event + __dc::RaisableBy<#part_of>>(&mut self, event: E) {
                self.__domain.push(event);
            }
            #builder_fn
        }
        #builder_impls
        #registration
    };
    Parts {
        public: builder.public,
        private,
    }
}
