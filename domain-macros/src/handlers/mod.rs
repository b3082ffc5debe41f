//! `#[command_handler]`, `#[event_handler]` and their `#[handle]` markers: parse -> check ->
//! expand.

mod check;
mod expand;
pub mod model;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::pipeline::Family;
use model::{HandlerKind, HandlerModel};

impl Family for HandlerKind {
    type Model = HandlerModel;

    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<HandlerModel, TokenStream> {
        parse::parse(cx, self, args, input)
    }

    fn check(self, cx: &Ctxt, model: &mut HandlerModel) {
        check::check(cx, model);
    }

    fn expand(self, model: &HandlerModel) -> TokenStream {
        expand::expand(model)
    }
}

/// `#[handle]` on its own: the outer handler macro removes these markers, so reaching this means
/// the method is not inside a handler impl.
pub fn stray_handle(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::pipeline::stray_marker(
        args,
        input,
        "`#[handle(...)]` only works inside an impl annotated with `#[command_handler(part_of = ...)]` or `#[event_handler(part_of = ...)]`",
    )
}
