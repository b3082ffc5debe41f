//! Rules across a handler's options and methods: categories are well formed, `part_of` is there,
//! there is something to handle, and each message has one method.

use proc_macro2::Span;
use quote::ToTokens;

use super::model::{HandlerKind, HandlerModel, MethodStatus, Target};
use crate::ctxt::Ctxt;
use crate::options::check_category;
use crate::symbol::ANY;

pub fn check(cx: &Ctxt, model: &mut HandlerModel) {
    let kind = model.kind;
    let macro_name = kind.macro_name();
    if let Some(category) = &model.stream_category {
        check_category(cx, category, true);
    }
    if let Some(source) = &model.source_stream {
        check_category(cx, source, false);
    }
    if !model.any_handle {
        cx.error_at(
            model.item.impl_token.span,
            format!("this `#[{macro_name}]` impl has no `#[handle(...)]` method, so nothing would ever reach it"),
        );
    }
    if model.part_of.is_none() {
        cx.error_at(
            Span::call_site(),
            format!("`#[{macro_name}]` needs `part_of`: write `#[{macro_name}(part_of = YourAggregate)]`"),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for method in &mut model.methods {
        if let Target::Any(span) = &method.target
            && kind == HandlerKind::Command
        {
            cx.error_at(
                *span,
                "`$any` applies to event handlers only: a command handler handles named commands",
            );
            method.status = MethodStatus::Rejected;
            continue;
        }
        let key = match &method.target {
            Target::Type(ty) => ty.to_token_stream().to_string(),
            Target::Any(_) => ANY.to_string(),
        };
        if seen.contains(&key) {
            cx.error_spanned_by(
                &method.attr,
                match kind {
                    HandlerKind::Command => format!("duplicate `#[handle({key})]` in this impl: a command has exactly one handler method"),
                    // Protean runs both methods; here one (event, handler) pair is one delivery,
                    // with one unit of work and one retry record, so two reactions are two types.
                    HandlerKind::Event => format!("duplicate `#[handle({key})]` in this impl: an event reaches one method per handler type; for a second reaction to `{key}`, move this method to an `#[event_handler]` type of its own (each then runs, and is retried, on its own)"),
                },
            );
            method.status = MethodStatus::Rejected;
            continue;
        }
        seen.push(key);
    }
}
