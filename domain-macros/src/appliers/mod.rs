//! `#[apply_events]` and `#[entity_handler]` with their `#[apply]` and `#[on_command]` markers:
//! how an event-sourced entity's events change its state, and (RIDDL's entity handler) which
//! events its commands yield, in which handler state. parse -> check -> expand, through the
//! shared pipeline.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::pipeline::Family;
use model::ApplyModel;
pub use model::Block;

impl Family for Block {
    type Model = ApplyModel;

    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<ApplyModel, TokenStream> {
        parse::parse(cx, self, args, input)
    }

    fn check(self, cx: &Ctxt, model: &mut ApplyModel) {
        model::check(cx, model);
    }

    fn expand(self, model: &ApplyModel) -> TokenStream {
        expand::expand(model)
    }
}

/// `#[apply]` on its own: the block macro removes these markers, so reaching this means the
/// method is not inside an `#[apply_events]` or `#[entity_handler]` impl.
pub fn stray_apply(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::pipeline::stray_marker(
        args,
        input,
        "`#[apply]` only works inside an `#[apply_events]` or `#[entity_handler]` impl block of the entity (`impl YourAggregate { .. }`)",
    )
}

/// `#[on_query]` on its own: the same, for query clauses.
pub fn stray_on_query(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::pipeline::stray_marker(
        args,
        input,
        "`#[on_query]` only works inside an `#[entity_handler] impl YourEntity { .. }` block",
    )
}

/// `#[react]` on its own: the same, for reactions.
pub fn stray_react(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::pipeline::stray_marker(
        args,
        input,
        "`#[react]` only works inside an `#[entity_handler] impl YourEntity { .. }` block",
    )
}

/// `#[on_command]` on its own: the same, for clauses of an `#[entity_handler]`.
pub fn stray_on_command(args: TokenStream, input: TokenStream) -> TokenStream {
    crate::pipeline::stray_marker(
        args,
        input,
        "`#[on_command]` only works inside an `#[entity_handler] impl YourEntity { .. }` block",
    )
}
