//! `#[query(result = R)]` and `#[response]` (RIDDL's `query` and `response` types): the
//! `QueryMessage` and `Response` impls. Not registered: a query is routed to its one handler by
//! the compiler (`HandledQuery`), and a response is only ever a value.

use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::StructModel;
use super::Parts;

pub fn expand_query(model: &StructModel) -> Parts {
    let ident = model.ident();
    let name = ident.to_string();
    let result = model
        .result
        .as_ref()
        .expect("check gives every query a result type");
    // At the user's type: a result that is not `Send + 'static` is reported there.
    let result = quote_spanned!(result.span()=> #result);
    Parts {
        public: quote!(),
        private: quote! {
            impl __dc::QueryMessage for #ident {
                type Result = #result;
                const NAME: &'static str = #name;
            }
        },
    }
}

pub fn expand_response(model: &StructModel) -> Parts {
    let ident = model.ident();
    let name = ident.to_string();
    let bools = model
        .fields
        .iter()
        .filter(|field| super::column_kind(&field.ty) == "Bool")
        .map(super::field_key);
    Parts {
        public: quote!(),
        private: quote! {
            impl __dc::Response for #ident {
                const NAME: &'static str = #name;
                const __BOOL_FIELDS: &'static [&'static str] = &[#(#bools),*];
            }
        },
    }
}
