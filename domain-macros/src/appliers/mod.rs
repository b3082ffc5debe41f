//! `#[apply_events]` and its `#[apply]` markers: how an event-sourced aggregate's events change
//! its state. parse -> check -> expand, through the shared pipeline.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::pipeline::Family;
use model::ApplyModel;

/// The `#[apply_events]` family.
#[derive(Clone, Copy)]
pub struct ApplyEvents;

impl Family for ApplyEvents {
    type Model = ApplyModel;

    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<ApplyModel, TokenStream> {
        parse::parse(cx, args, input)
    }

    fn check(self, cx: &Ctxt, model: &mut ApplyModel) {
        model::check(cx, model);
    }

    fn expand(self, model: &ApplyModel) -> TokenStream {
        expand::expand(model)
    }
}

/// `#[apply]` on its own: `#[apply_events]` removes these markers, so reaching this means the
/// method is not inside an `#[apply_events]` impl.
pub fn stray_apply(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::pipeline::stray_marker(
        args,
        input,
        "`#[apply]` only works inside an `#[apply_events] impl YourAggregate { .. }` block",
    )
}
