//! Code generation for handler impl blocks: the impl itself, then per kind the trait impls,
//! compile-time checks and registration (`command_handler`, `event_handler`), from the shared
//! pieces here.

mod command_handler;
mod event_handler;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{HandleMethod, HandlerKind, HandlerModel, MethodStatus, Target};
use crate::pipeline::in_const;

pub fn expand(model: &HandlerModel) -> TokenStream {
    let item = &model.item;
    let body = match model.kind {
        HandlerKind::Command => command_handler::expand(model),
        HandlerKind::Event => event_handler::expand(model),
    };
    let body = in_const(body);
    quote! {
        #item
        #body
    }
}

/// The methods generated for: those whose target and signature are valid.
fn handled(model: &HandlerModel) -> impl Iterator<Item = &HandleMethod> {
    model
        .methods
        .iter()
        .filter(|m| m.status == MethodStatus::Handled)
}

/// The `part_of` path as written, or the placeholder aggregate when it is missing (already an
/// error; its category is empty, which the category assertions accept).
fn part_of(model: &HandlerModel) -> TokenStream {
    match &model.part_of {
        Some(path) => quote!(#path),
        None => quote!(__dc::MissingPartOf),
    }
}

/// Bound checks spanned at the user's tokens: `part_of` names an aggregate, each handled type is
/// a command / an event.
fn assertions(model: &HandlerModel) -> TokenStream {
    let part_of = part_of(model);
    let part_of_check =
        quote_spanned! {part_of.span()=> let _ = <#part_of as __dc::Aggregate>::NAME; };
    let message_checks = model
        .methods
        .iter()
        .filter(|m| m.status != MethodStatus::Rejected)
        .filter_map(|m| match (&m.target, model.kind) {
            (Target::Type(ty), HandlerKind::Event) => {
                Some(quote_spanned! {ty.span()=> let _ = <#ty as __dc::Event>::NAME; })
            }
            _ => None,
        });
    quote! {
        const _: fn() = || {
            #part_of_check
            #(#message_checks)*
        };
    }
}

/// The call of a handler method, its value turned into `Result<Output>` by `into_result` (a path to
/// an `into_result(value) -> Result<_>` function).
fn call(
    method: &HandleMethod,
    receiver: TokenStream,
    message: TokenStream,
    into_result: TokenStream,
) -> TokenStream {
    let name = &method.method;
    let ctx = method.takes_ctx.then(|| quote!(, ctx));
    let ignore_ctx = (!method.takes_ctx).then(|| quote!(let _ = &ctx;));
    // Every token at the return type: a type that is not `Result<T>` or `()` is reported there.
    let span = method.output.span();
    let name = syn::Ident::new(&name.to_string(), span);
    let await_ = method.is_async.then(|| quote_spanned!(span=> .await));
    let receiver = crate::paths::respan(receiver, span);
    let message = crate::paths::respan(message, span);
    let into_result = crate::paths::respan(into_result, span);
    quote_spanned!(span=> { #ignore_ctx #into_result(#receiver.#name(#message #ctx) #await_) })
}

/// A command handler's return type is used in three items (`HandledCommand::Output`, the
/// signature of `handle` and its body), and rustc reports an unsatisfied bound once per item. So
/// `R: HandlerReturn` is required in one item only, a constant per method (spanned at the user's
/// return type: the one error); the three items reach `R`'s output through this gate, keyed by
/// that constant. When the constant has an error, the gate's type `[(); ERR]` is an error too, and
/// rustc reports nothing more about it.
fn return_gate() -> TokenStream {
    quote! {
        pub trait __HandlerReturnGate<R> {
            type Output;
            fn into_result(value: R) -> __dc::Result<Self::Output>;
        }
        impl<const N: usize, R: __dc::HandlerReturn> __HandlerReturnGate<R> for [(); N] {
            type Output = <R as __dc::HandlerReturn>::Output;
            fn into_result(value: R) -> __dc::Result<Self::Output> {
                __dc::HandlerReturn::into_result(value)
            }
        }
    }
}

fn default_instance(model: &HandlerModel) -> TokenStream {
    let self_ty = &model.self_ty;
    quote! {
        fn __default_instance() -> __dc::Option<__dc::Instance> {
            #[allow(unused_imports)]
            use __dc::default_instance::{ViaDefault as _, WithoutDefault as _};
            (&&__dc::default_instance::Probe::<#self_ty>(__dc::PhantomData)).instance()
        }
    }
}
