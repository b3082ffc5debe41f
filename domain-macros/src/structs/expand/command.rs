//! `#[command]`: the `Command` impl (its target identity, its JSON diagnosis) and the
//! registration.

use quote::quote;

use super::super::model::StructModel;
use super::{Parts, json, part_of};
use crate::pipeline::registration_static;

pub fn expand(model: &StructModel) -> Parts {
    let ident = model.ident();
    let name = ident.to_string();
    let part_of = part_of(model);
    let target = model.identifier.map(|index| {
        let field = &model.fields[index].ident;
        quote! {
            fn target(&self) -> __dc::Option<__dc::Identifier> {
                __dc::Some(__dc::Identifier::from(::core::clone::Clone::clone(&self.#field)))
            }
        }
    });
    let json_problems = json::json_problems_fn(model);
    let registration = registration_static(
        &quote!(#ident),
        quote! {
            __dc::Registration::Command(__dc::CommandRegistration {
                name: #name,
                module: ::core::module_path!(),
                type_id: __dc::TypeId::of::<#ident>,
                aggregate: __dc::TypeId::of::<<#ident as __dc::Command>::Aggregate>,
                aggregate_name: __dc::command_aggregate::<#ident>(),
            })
        },
    );
    Parts {
        public: quote!(),
        private: quote! {
            impl __dc::Command for #ident {
                type Aggregate = #part_of;
                const NAME: &'static str = #name;
                #target
                #json_problems
            }
            #registration
        },
    }
}
