//! Reading an `#[apply_events]` or `#[entity_handler]` impl block: each `#[apply]` method must
//! be `fn name(&mut self, event: &Event)` returning nothing, each `#[on_command]` clause
//! `fn name(&self, command: Command) -> Yielded`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parse;
use syn::{Attribute, FnArg, Ident, ImplItem, Item, ReceiverKind, ReturnType, Type};

use super::model::{ApplyMethod, ApplyModel, Block, CommandClause, Transition};
use crate::ctxt::Ctxt;
use crate::symbol::{APPLY, BECOME, ON_COMMAND, WHEN};

pub fn parse(
    cx: &Ctxt,
    block: Block,
    args: TokenStream,
    input: TokenStream,
) -> Result<ApplyModel, TokenStream> {
    let name = block.macro_name();
    if let Some(first) = args.into_iter().next() {
        cx.error_spanned_by(
            first,
            format!("`#[{name}]` takes no options: it applies to the entity's own impl block"),
        );
    }
    let mut item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Impl(item)) if item.trait_.is_none() && item.generics.params.is_empty() => item,
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                format!("`#[{name}]` applies to the inherent impl block of an event-sourced aggregate: `impl Order {{ #[apply] fn placed(&mut self, event: &OrderPlaced) {{ .. }} }}`"),
            );
            return Err(input);
        }
        Err(error) => {
            cx.syn_error(error);
            return Err(input);
        }
    };
    let mut methods = Vec::new();
    let mut commands = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        let (marks, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut function.attrs)
            .into_iter()
            .partition(|a| a.path().is_ident(APPLY) || a.path().is_ident(ON_COMMAND));
        function.attrs = kept;
        let Some(mark) = marks.first() else {
            continue;
        };
        if let Some(second) = marks.get(1) {
            cx.error_spanned_by(second, "one clause marker per method");
        }
        if mark.path().is_ident(APPLY) {
            let become_ = read_become(cx, mark);
            let (event, bad_signature) = read_apply_signature(cx, &function.sig);
            if let Some(event) = event {
                methods.push(ApplyMethod {
                    method: function.sig.ident.clone(),
                    event,
                    become_,
                    duplicate: false,
                    bad_signature,
                });
            }
        } else if block == Block::ApplyEvents {
            cx.error_spanned_by(
                mark,
                "`#[on_command]` clauses belong to an entity handler: write `#[entity_handler]` instead of `#[apply_events]` on this impl block",
            );
        } else {
            let when = read_when(cx, mark);
            let (command, output, bad_signature) = read_command_signature(cx, &function.sig);
            if let Some(command) = command {
                commands.push(CommandClause {
                    method: function.sig.ident.clone(),
                    command,
                    output,
                    when,
                    duplicate: false,
                    bad_signature,
                });
            }
        }
    }
    if methods.is_empty() && commands.is_empty() && !cx.has_errors() {
        let wanted = match block {
            Block::ApplyEvents => "`#[apply]` method",
            Block::EntityHandler => "clause (`#[on_command]` or `#[apply]`)",
        };
        cx.error_at(
            item.impl_token.span,
            format!("this `#[{name}]` impl has no {wanted}"),
        );
    }
    Ok(ApplyModel {
        block,
        self_ty: (*item.self_ty).clone(),
        item,
        methods,
        commands,
    })
}

/// `#[apply]` or `#[apply(become = State)]`.
fn read_become(cx: &Ctxt, mark: &Attribute) -> Option<Transition> {
    if matches!(mark.meta, syn::Meta::Path(_)) {
        return None;
    }
    let mut transition = None;
    let result = mark.parse_nested_meta(|meta| {
        if meta.path.is_ident(BECOME) && transition.is_none() {
            let keyword = meta.path.get_ident().cloned().expect("an identifier");
            let state: Ident = meta.value()?.parse()?;
            transition = Some(Transition { keyword, state });
            Ok(())
        } else {
            Err(meta.error(
                "`#[apply]` takes one option, `become = State`: the handler state the entity switches to when the event is applied (the event itself is the method's parameter type)",
            ))
        }
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    transition
}

/// `#[on_command]`, `#[on_command(when = State)]` or `#[on_command(when = [A, B])]`.
fn read_when(cx: &Ctxt, mark: &Attribute) -> Option<(Ident, Vec<Ident>)> {
    if matches!(mark.meta, syn::Meta::Path(_)) {
        return None;
    }
    let mut when = None;
    let result = mark.parse_nested_meta(|meta| {
        if meta.path.is_ident(WHEN) && when.is_none() {
            let keyword = meta.path.get_ident().cloned().expect("an identifier");
            let value = meta.value()?;
            let states = if value.peek(syn::token::Bracket) {
                let content;
                syn::bracketed!(content in value);
                content
                    .parse_terminated(Ident::parse, syn::Token![,])?
                    .into_iter()
                    .collect()
            } else {
                vec![value.parse::<Ident>()?]
            };
            if states.is_empty() {
                return Err(meta.error("`when = []` names no handler state: the clause could never run"));
            }
            when = Some((keyword, states));
            Ok(())
        } else {
            Err(meta.error(
                "`#[on_command]` takes one option, `when = State` or `when = [State, ..]`: the handler states the clause runs in (without it, every state)",
            ))
        }
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    when
}

/// The event type of `fn name(&mut self, event: &Event)` (`None` if there is no `&Event`
/// parameter), and whether the signature is wrong (reported here).
fn read_apply_signature(cx: &Ctxt, sig: &syn::Signature) -> (Option<Type>, bool) {
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

/// The command and return types of `fn name(&self, command: Command) -> Yielded`, and whether
/// the signature is wrong (reported here).
fn read_command_signature(cx: &Ctxt, sig: &syn::Signature) -> (Option<Type>, Type, bool) {
    let shape = "an `#[on_command]` clause is `fn name(&self, command: Command) -> Yielded`: it reads the entity's state and returns the events the command yields (an event, `Option`, `Vec`, tuple, or `Result` of them); the framework applies and appends them";
    let mut inputs = sig.inputs.iter();
    let receiver_ok = matches!(
        inputs.next(),
        Some(FnArg::Receiver(receiver)) if matches!(receiver.kind, ReceiverKind::Reference(_, _, None))
    );
    let command = match inputs.next() {
        Some(FnArg::Typed(param)) if !matches!(&*param.ty, Type::Reference(_)) => {
            Some((*param.ty).clone())
        }
        _ => None,
    };
    let extra = inputs.next();
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let other = sig.asyncness.is_some() || !sig.generics.params.is_empty();
    let bad = command.is_none() || !receiver_ok || extra.is_some() || other;
    if bad {
        cx.error_spanned_by(sig.to_token_stream(), shape);
    }
    (command, output, bad)
}
