//! `#[aggregate]`, `#[entity]`, `#[value_object]`, `#[event]`, `#[command]`: parse -> model -> expand.

pub mod expand;
pub mod model;
pub mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use model::Kind;

/// The whole pipeline for one annotated struct. On error, the struct is still emitted (minus our
/// helper attributes) next to the errors, so one mistake does not cascade into many.
pub fn derive(kind: Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::default();
    let (model, stripped) = parse::parse(&cx, kind, args, input);
    match (cx.check(), model) {
        (Ok(()), Some(model)) => expand::expand(model),
        (Err(errors), _) => {
            let errors = errors.to_compile_error();
            quote::quote!(#stripped #errors)
        }
        (Ok(()), None) => stripped,
    }
}
