//! `#[value_object]`: the `ValueObject` impl with its JSON diagnosis, getters (fields are
//! private: a changed value is a new, validated value) and the builder. Not registered: a value
//! object lives inside an aggregate, an entity or a message.

use quote::quote;

use super::super::model::StructModel;
use super::{Parts, builder, getters, json};

pub fn expand(model: &StructModel) -> Parts {
    let ident = model.ident();
    let json_problems = json::json_problems_fn(model);
    let getters = getters(model);
    let builder = builder::builder(model);
    let builder_fn = builder::builder_fn(model);
    let builder_impls = &builder.private;
    Parts {
        public: builder.public,
        private: quote! {
            impl __dc::ValueObject for #ident { #json_problems }
            impl #ident {
                #getters
                #builder_fn
            }
            #builder_impls
        },
    }
}
