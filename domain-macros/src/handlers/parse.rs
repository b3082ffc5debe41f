//! Reading a handler impl block into a [`HandlerModel`]: its options, and each `#[handle]`
//! method's target and signature. The rules across methods and options are `check`'s.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ReceiverKind, ReturnType, Type};

use super::model::{HandleMethod, HandlerKind, HandlerModel, MethodStatus, Target};
use crate::ctxt::Ctxt;
use crate::options::parse_macro_options;
use crate::symbol::HANDLE;

/// Parses `input` as a handler impl for `kind`. `Err` when it cannot be one (not an inherent impl
/// of a named, non-generic type): the input is then emitted as it is, next to the error.
pub fn parse(
    cx: &Ctxt,
    kind: HandlerKind,
    args: TokenStream,
    input: TokenStream,
) -> Result<HandlerModel, TokenStream> {
    let macro_name = kind.macro_name();
    let mut item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Impl(item)) => item,
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                format!("`#[{macro_name}]` applies to an inherent impl block: `impl MyHandler {{ #[handle(X)] fn ... }}`"),
            );
            return Err(input);
        }
        Err(error) => {
            cx.syn_error(error);
            return Err(input);
        }
    };
    let options = parse_macro_options(cx, macro_name, kind.allowed_options(), args);
    if let Some((path, _)) = &item.trait_ {
        cx.error_spanned_by(path, format!("`#[{macro_name}]` applies to an inherent impl (`impl X {{ .. }}`), not a trait impl"));
        return Err(item.to_token_stream());
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
        return Err(item.to_token_stream());
    };
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            format!("`#[{macro_name}]` does not support generic handlers: each handler is registered in a static, and statics cannot be generic"),
        );
        return Err(item.to_token_stream());
    }

    let mut methods = Vec::new();
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
        methods.push(read_method(cx, kind, function, first.clone(), target));
    }
    Ok(HandlerModel {
        kind,
        self_ty: (*item.self_ty).clone(),
        self_name,
        item,
        part_of: options.part_of,
        stream_category: options.stream_category,
        source_stream: options.source_stream,
        methods,
        any_handle,
    })
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

/// A `#[handle]` method with its signature checked against the shape handlers must have.
fn read_method(
    cx: &Ctxt,
    kind: HandlerKind,
    function: &ImplItemFn,
    attr: syn::Attribute,
    target: Target,
) -> HandleMethod {
    let sig = &function.sig;
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let mut method = HandleMethod {
        attr,
        target,
        status: MethodStatus::Handled,
        method: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        takes_ctx: false,
        output,
    };
    if matches!(method.target, Target::Any(_)) && kind == HandlerKind::Command {
        // Rejected by `check`; its signature is not worth a second error.
        method.status = MethodStatus::Rejected;
        return method;
    }
    let target = &method.target;
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
    method.takes_ctx = takes_ctx;
    if !ok {
        method.status = MethodStatus::BadSignature;
    }
    method
}
