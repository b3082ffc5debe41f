//! Parsing a handler impl block into a [`HandlerModel`], checking every `#[handle]` method's
//! signature and collecting every problem.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ReceiverKind, ReturnType, Type};

use super::model::{HandleMethod, HandlerKind, HandlerModel, Target};
use crate::ctxt::Ctxt;
use crate::options::{check_category, parse_macro_options};
use crate::symbol::{ANY, HANDLE};

pub fn parse(
    cx: &Ctxt,
    kind: HandlerKind,
    args: TokenStream,
    input: TokenStream,
) -> (Option<HandlerModel>, TokenStream) {
    let macro_name = kind.macro_name();
    let mut item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Impl(item)) => item,
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                format!("`#[{macro_name}]` applies to an inherent impl block: `impl MyHandler {{ #[handle(X)] fn ... }}`"),
            );
            return (None, input);
        }
        Err(error) => {
            cx.syn_error(error);
            return (None, input);
        }
    };
    let options = parse_macro_options(cx, macro_name, kind.allowed_options(), args);
    if let Some((path, _)) = &item.trait_ {
        cx.error_spanned_by(path, format!("`#[{macro_name}]` applies to an inherent impl (`impl X {{ .. }}`), not a trait impl"));
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            format!("`#[{macro_name}]` does not support generic handlers: each handler is registered in a static, and statics cannot be generic"),
        );
    }
    if let Some(category) = &options.stream_category {
        check_category(cx, category, true);
    }
    if let Some(source) = &options.source_stream {
        check_category(cx, source, false);
    }
    let self_name = match &*item.self_ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    let Some(self_name) = self_name else {
        cx.error_spanned_by(
            &item.self_ty,
            format!("`#[{macro_name}]` applies to an impl of a named struct"),
        );
        return (None, item.to_token_stream());
    };

    let mut methods = Vec::new();
    let mut seen: Vec<(String, Span)> = Vec::new();
    // Any `#[handle]` at all, even a rejected one: "no `#[handle]` method" only when there is none.
    let mut any_handle = false;
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        let (handles, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut function.attrs)
            .into_iter()
            .partition(|a| a.path().is_ident(HANDLE));
        function.attrs = kept;
        let Some(first) = handles.first() else {
            continue;
        };
        any_handle = true;
        for extra in &handles[1..] {
            cx.error_spanned_by(
                extra,
                "one `#[handle(...)]` per method: give each message its own method",
            );
        }
        let target = match parse_target(first) {
            Ok(target) => target,
            Err(error) => {
                cx.syn_error(error);
                continue;
            }
        };
        if let Target::Any(span) = &target
            && kind == HandlerKind::Command
        {
            cx.error_at(
                *span,
                "`$any` applies to event handlers only: a command handler handles named commands",
            );
            continue;
        }
        let key = match &target {
            Target::Type(ty) => ty.to_token_stream().to_string(),
            Target::Any(_) => ANY.to_string(),
        };
        if let Some((_, _)) = seen.iter().find(|(k, _)| *k == key) {
            cx.error_spanned_by(
                first,
                match kind {
                    HandlerKind::Command => format!("duplicate `#[handle({key})]` in this impl: a command has exactly one handler method"),
                    // Protean runs both methods; here one (event, handler) pair is one delivery,
                    // with one unit of work and one retry record, so two reactions are two types.
                    HandlerKind::Event => format!("duplicate `#[handle({key})]` in this impl: an event reaches one method per handler type; for a second reaction to `{key}`, move this method to an `#[event_handler]` type of its own (each then runs, and is retried, on its own)"),
                },
            );
            continue;
        }
        seen.push((key, first.span()));
        if let Some(method) = check_signature(cx, kind, function, target) {
            methods.push(method);
        }
    }
    if !any_handle {
        cx.error_at(
            item.impl_token.span,
            format!("this `#[{macro_name}]` impl has no `#[handle(...)]` method, so nothing would ever reach it"),
        );
    }
    let Some(part_of) = options.part_of else {
        cx.error_at(
            Span::call_site(),
            format!("`#[{macro_name}]` needs `part_of`: write `#[{macro_name}(part_of = YourAggregate)]`"),
        );
        return (None, item.to_token_stream());
    };
    let stripped = item.to_token_stream();
    let model = HandlerModel {
        kind,
        self_ty: (*item.self_ty).clone(),
        self_name,
        item,
        part_of,
        stream_category: options.stream_category,
        source_stream: options.source_stream,
        methods,
    };
    (Some(model), stripped)
}

fn parse_target(attr: &syn::Attribute) -> syn::Result<Target> {
    let syn::Meta::List(list) = &attr.meta else {
        return Err(syn::Error::new_spanned(
            attr,
            "name the handled message: `#[handle(MessageType)]`",
        ));
    };
    let tokens = list.tokens.clone();
    let mut iter = tokens.clone().into_iter();
    if let (
        Some(proc_macro2::TokenTree::Punct(dollar)),
        Some(proc_macro2::TokenTree::Ident(word)),
        None,
    ) = (iter.next(), iter.next(), iter.next())
        && dollar.as_char() == '$'
    {
        if word == "any" {
            return Ok(Target::Any(dollar.span()));
        }
        return Err(syn::Error::new_spanned(
            &tokens,
            format!("unknown `${word}`: the only special target is `$any`"),
        ));
    }
    syn::parse2::<Type>(tokens)
        .map(|ty| Target::Type(Box::new(ty)))
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the handled message type, e.g. `#[handle(OrderShipped)]`, or `$any`",
            )
        })
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Reference(r) => last_ident(&r.elem),
        _ => None,
    }
}

fn check_signature(
    cx: &Ctxt,
    kind: HandlerKind,
    function: &ImplItemFn,
    target: Target,
) -> Option<HandleMethod> {
    let sig = &function.sig;
    let message = kind.message();
    let mut ok = true;
    let mut fail = |tokens: &dyn ToTokens, text: String| {
        cx.error_spanned_by(tokens.to_token_stream(), text);
        ok = false;
    };
    if !sig.generics.params.is_empty() {
        fail(
            &sig.generics,
            "handler methods cannot be generic: the handled type is fixed by `#[handle]`".into(),
        );
    }
    if let Some(constness) = &sig.constness {
        fail(constness, "handler methods cannot be `const`".into());
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(receiver))
            if matches!(receiver.kind, ReceiverKind::Reference(_, _, None)) => {}
        Some(FnArg::Receiver(receiver)) => fail(
            receiver,
            "handler methods take `&self`: handlers are shared between deliveries".into(),
        ),
        _ => fail(
            &sig.ident,
            format!(
                "handler methods take `&self` first: `fn {}(&self, {message}: ..)`",
                sig.ident
            ),
        ),
    }
    let expected = match &target {
        Target::Type(ty) => ty.to_token_stream().to_string(),
        Target::Any(_) => "EventEnvelope".to_string(),
    };
    match inputs.next() {
        None => fail(
            &sig.ident,
            format!(
                "handler `{}` must take the {message}: `fn {}(&self, {message}: {}{expected}, ctx: &mut Context)`",
                sig.ident,
                sig.ident,
                if kind == HandlerKind::Event { "&" } else { "" }
            ),
        ),
        Some(FnArg::Receiver(_)) => {}
        Some(FnArg::Typed(param)) => {
            let by_ref = matches!(&*param.ty, Type::Reference(_));
            let wanted_name = match &target {
                Target::Type(ty) => last_ident(ty),
                Target::Any(_) => Some("EventEnvelope".into()),
            };
            match kind {
                HandlerKind::Event if !by_ref => fail(
                    &param.ty,
                    format!("event handlers receive the event by reference: write `&{expected}`"),
                ),
                HandlerKind::Command if by_ref => fail(
                    &param.ty,
                    format!("command handlers take the command by value: write `{expected}`"),
                ),
                _ if last_ident(&param.ty) != wanted_name => fail(
                    &param.ty,
                    format!(
                        "this parameter's type differs from the handled {message} `{expected}` named in `#[handle]`: write `{}{expected}`",
                        if by_ref { "&" } else { "" }
                    ),
                ),
                _ => {}
            }
        }
    }
    let takes_ctx = match inputs.next() {
        None => false,
        Some(FnArg::Typed(param)) => {
            let is_context = matches!(&*param.ty, Type::Reference(r) if last_ident(&r.elem).as_deref() == Some("Context"));
            if !is_context {
                fail(
                    &param.ty,
                    "the last parameter is the handler's context: write `ctx: &mut Context`".into(),
                );
            }
            true
        }
        Some(other) => {
            fail(
                other,
                "the last parameter is the handler's context: write `ctx: &mut Context`".into(),
            );
            true
        }
    };
    if let Some(extra) = inputs.next() {
        fail(
            extra,
            format!("handler methods take at most `(&self, {message}, ctx: &mut Context)`"),
        );
    }
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    ok.then(|| HandleMethod {
        target,
        method: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        takes_ctx,
        output,
    })
}
