//! `#[command_handler]`, `#[event_handler]` and their `#[handle]` markers: parse -> model -> expand.

pub mod expand;
pub mod model;
pub mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use model::HandlerKind;

/// The whole pipeline for one handler impl. On error the impl is still emitted (minus the
/// `#[handle]` markers) next to the errors, so its methods stay usable and nothing cascades.
pub fn derive(kind: HandlerKind, args: TokenStream, input: TokenStream) -> TokenStream {
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

/// `#[handle]` on its own: the outer handler macro removes these markers, so reaching this means
/// the method is not inside a handler impl.
pub fn stray_handle(args: TokenStream, input: TokenStream) -> TokenStream {
    let span = args
        .clone()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span());
    let error = syn::Error::new(
        span,
        "`#[handle(...)]` only works inside an impl annotated with `#[command_handler(part_of = ...)]` or `#[event_handler(part_of = ...)]`",
    )
    .to_compile_error();
    quote::quote!(#input #error)
}
