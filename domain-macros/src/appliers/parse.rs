//! Reading an `#[apply_events]` impl block: each `#[apply]` method must be
//! `fn name(&mut self, event: &Event)`, returning nothing.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ImplItem, Item, ReceiverKind, ReturnType, Type};

use super::model::{ApplyMethod, ApplyModel};
use crate::ctxt::Ctxt;
use crate::symbol::APPLY;

pub fn parse(cx: &Ctxt, args: TokenStream, input: TokenStream) -> Result<ApplyModel, TokenStream> {
    if let Some(first) = args.into_iter().next() {
        cx.error_spanned_by(first, "`#[apply_events]` takes no options");
    }
    let mut item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Impl(item)) if item.trait_.is_none() && item.generics.params.is_empty() => item,
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                "`#[apply_events]` applies to the inherent impl block of an event-sourced aggregate: `impl Order { #[apply] fn placed(&mut self, event: &OrderPlaced) { .. } }`",
            );
            return Err(input);
        }
        Err(error) => {
            cx.syn_error(error);
            return Err(input);
        }
    };
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        let (marks, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut function.attrs)
            .into_iter()
            .partition(|a| a.path().is_ident(APPLY));
        function.attrs = kept;
        let Some(mark) = marks.first() else {
            continue;
        };
        if !matches!(mark.meta, syn::Meta::Path(_)) {
            cx.error_spanned_by(
                mark,
                "`#[apply]` takes no arguments: the event is the method's parameter type",
            );
        }
        let (event, bad_signature) = read_signature(cx, &function.sig);
        if let Some(event) = event {
            methods.push(ApplyMethod {
                method: function.sig.ident.clone(),
                event,
                duplicate: false,
                bad_signature,
            });
        }
    }
    if methods.is_empty() && !cx.has_errors() {
        cx.error_at(
            item.impl_token.span,
            "this `#[apply_events]` impl has no `#[apply]` method",
        );
    }
    Ok(ApplyModel {
        self_ty: (*item.self_ty).clone(),
        item,
        methods,
    })
}

/// The event type of `fn name(&mut self, event: &Event)` (`None` if there is no `&Event`
/// parameter), and whether the signature is wrong (reported here).
fn read_signature(cx: &Ctxt, sig: &syn::Signature) -> (Option<Type>, bool) {
    let shape = "an `#[apply]` method is `fn name(&mut self, event: &Event)`: it changes the state and cannot fail (decide in the command handler, before raising)";
    let mut inputs = sig.inputs.iter();
    let receiver_ok = matches!(
        inputs.next(),
        Some(FnArg::Receiver(receiver)) if matches!(receiver.kind, ReceiverKind::Reference(_, _, Some(_)))
    );
    let event = match inputs.next() {
        Some(FnArg::Typed(param)) => match &*param.ty {
            Type::Reference(reference) if reference.mutability.is_none() => {
                Some((*reference.elem).clone())
            }
            _ => None,
        },
        _ => None,
    };
    let extra = inputs.next();
    let returns = !matches!(&sig.output, ReturnType::Default);
    let other = sig.asyncness.is_some() || !sig.generics.params.is_empty();
    let bad = event.is_none() || !receiver_ok || extra.is_some() || returns || other;
    if bad {
        cx.error_spanned_by(sig.to_token_stream(), shape);
    }
    (event, bad)
}
