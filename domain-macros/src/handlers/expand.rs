//! Code generation for handler impl blocks.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{HandleMethod, HandlerKind, HandlerModel, Target};
use crate::paths;
use crate::structs::expand::handler_registration_static;
use crate::symbol::ALL;

pub fn expand(model: HandlerModel) -> TokenStream {
    let item = &model.item;
    let import = paths::import();
    let body = match model.kind {
        HandlerKind::Command => command_handler(&model),
        HandlerKind::Event => event_handler(&model),
    };
    quote! {
        #item
        const _: () = {
            #import
            #body
        };
    }
}

/// Bound checks spanned at the user's tokens: `part_of` names an aggregate, each handled type is
/// a command / an event.
fn assertions(model: &HandlerModel) -> TokenStream {
    let part_of = &model.part_of;
    let part_of_check =
        quote_spanned! {part_of.span()=> let _ = <#part_of as __dc::Aggregate>::NAME; };
    let message_checks = model
        .methods
        .iter()
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

fn command_handler(model: &HandlerModel) -> TokenStream {
    let self_ty = &model.self_ty;
    let part_of = &model.part_of;
    let name = &model.self_name;
    let assertions = assertions(model);
    let part_of_name = part_of.to_token_stream().to_string().replace(' ', "");
    let mut impls = vec![return_gate()];
    let mut entries = Vec::new();
    for (index, method) in model.methods.iter().enumerate() {
        let Target::Type(ty) = &method.target else {
            continue;
        };
        let output = &method.output;
        // The one check of the return type (see `return_gate`).
        let checked = format_ident!("__HANDLER_RETURN_{}", index);
        // The path `<R as HandlerReturn>::into_result` starts at `R`'s first token and ends at its
        // last: the type and the path are both spanned at the whole return type, so their two
        // unsatisfied bounds are one error, which points at all of `R`.
        let mut tokens = output.to_token_stream().into_iter();
        let first = tokens
            .next()
            .map_or_else(|| output.span(), |token| token.span());
        let last = tokens.last().map_or(first, |token| token.span());
        let open = quote_spanned!(first=> <);
        let close = quote_spanned!(last=> as __dc::HandlerReturn>::into_result);
        impls.push(quote_spanned! {output.span()=>
            const #checked: usize = {
                let _ = #open #output #close;
                0
            };
        });
        let gate = quote_spanned!(output.span()=> <[(); #checked] as __HandlerReturnGate<#output>>);
        let output_type = quote_spanned!(output.span()=> type Output = #gate::Output;);
        let call = call(
            method,
            quote!(handler),
            quote!(command),
            quote!(#gate::into_result),
        );
        // At the return type too: what is wrong with the future `handle` returns (one that is not
        // `Send`, say) is reported there.
        let handle_fn = quote_spanned! {output.span()=>
            #[allow(clippy::manual_async_fn)]
            fn handle(
                handler: &#self_ty,
                command: Self,
                ctx: &mut __dc::Context,
            ) -> impl ::core::future::Future<Output = __dc::Result<Self::Output>> + ::core::marker::Send {
                async move { #call }
            }
        };
        let ty_name = ty.to_token_stream().to_string().replace(' ', "");
        // A command of another aggregate is a compile error at the user's `#[handle(X)]`; the
        // registry guarantees one aggregate per category, so equal categories mean one aggregate.
        let message = format!(
            "`{ty_name}` is a command of another aggregate than `{part_of_name}`, which `{name}` handles: a `#[command_handler(part_of = {part_of_name})]` handles only commands declared `part_of = {part_of_name}`; move this method to a command handler of `{ty_name}`'s aggregate, or correct `{ty_name}`'s `part_of`"
        );
        impls.push(quote_spanned! {ty.span()=>
            const _: () = ::core::assert!(
                __dc::str_eq(
                    __dc::handled_command_category::<#ty>(),
                    <#part_of as __dc::Aggregate>::CATEGORY,
                ),
                #message
            );
        });
        // Spanned at the user's `#[handle(X)]` so a second handler for `X` is reported there as a
        // conflicting implementation: one command, one handler, checked by coherence.
        impls.push(quote_spanned! {ty.span()=>
            impl __dc::HandledCommand for #ty {
                type Handler = #self_ty;
                #output_type
                #handle_fn
            }
        });
        entries.push(quote! {
            __dc::HandledCommandEntry {
                name: #ty_name,
                type_id: __dc::TypeId::of::<#ty>,
                process_json: __dc::process_json::<#ty>,
                run_submitted: __dc::run_submitted::<#ty>,
            }
        });
    }
    let default_instance = default_instance(model);
    let registration = handler_registration_static(
        &quote!(#self_ty),
        quote! {
            __dc::Registration::CommandHandler(__dc::CommandHandlerRegistration {
                name: #name,
                type_id: __dc::TypeId::of::<#self_ty>,
                aggregate: __dc::TypeId::of::<#part_of>,
                aggregate_name: <#part_of as __dc::Aggregate>::NAME,
                commands: &[#(#entries),*],
                default_instance: __default_instance,
            })
        },
    );
    quote! {
        #assertions
        #(#impls)*
        #default_instance
        #registration
    }
}

fn event_handler(model: &HandlerModel) -> TokenStream {
    let self_ty = &model.self_ty;
    let part_of = &model.part_of;
    let name = &model.self_name;
    let assertions = assertions(model);
    let listens_to_all = model
        .stream_category
        .as_ref()
        .is_some_and(|c| c.value() == ALL);
    let category = match &model.stream_category {
        Some(literal) => quote!(#literal),
        None => quote!(<#part_of as __dc::Aggregate>::CATEGORY),
    };

    // A handled event whose aggregate is in another category could never be delivered: a const
    // assertion, spanned at the event type, turns that into a compile error.
    let category_checks = (!listens_to_all).then(|| {
        let checks = model.methods.iter().filter_map(|m| {
            let Target::Type(ty) = &m.target else { return None };
            let ty_name = ty.to_token_stream().to_string().replace(' ', "");
            let message = match &model.stream_category {
                Some(literal) => format!(
                    "`{ty_name}` is not in stream category \"{}\", which `{name}` listens to, so this handler could never receive it: set `stream_category` to the category of `{ty_name}`'s aggregate, or use \"$all\"",
                    literal.value()
                ),
                None => format!(
                    "`{ty_name}` is not in the stream category of `{}`, which `{name}` listens to by default, so this handler could never receive it: add `stream_category = \"...\"` with the category of `{ty_name}`'s aggregate",
                    part_of.to_token_stream().to_string().replace(' ', "")
                ),
            };
            Some(quote_spanned! {ty.span()=>
                const _: () = ::core::assert!(
                    __dc::str_eq(<<#ty as __dc::Event>::Aggregate as __dc::Aggregate>::CATEGORY, #category),
                    #message
                );
            })
        });
        quote!(#(#checks)*)
    });

    let mut arms = Vec::new();
    let mut any_arm = None;
    let mut entries = Vec::new();
    for method in &model.methods {
        match &method.target {
            Target::Type(ty) => {
                let call = call(
                    method,
                    quote!(this),
                    quote!(event),
                    quote!(__dc::HandlerReturn::into_result),
                );
                let ty_name = ty.to_token_stream().to_string().replace(' ', "");
                arms.push(quote! {
                    if let __dc::Some(event) = envelope.__downcast_payload::<#ty>() {
                        return #call;
                    }
                });
                entries.push(quote! {
                    __dc::HandledEventEntry { name: #ty_name, type_id: __dc::TypeId::of::<#ty> }
                });
            }
            Target::Any(_) => {
                let call = call(
                    method,
                    quote!(this),
                    quote!(envelope),
                    quote!(__dc::HandlerReturn::into_result),
                );
                any_arm = Some(quote!(return #call;));
            }
        }
    }
    let fallthrough = if any_arm.is_some() {
        quote!()
    } else {
        quote!(__dc::Result::Ok(()))
    };
    let handles_any = any_arm.is_some();
    let source_stream = match &model.source_stream {
        Some(literal) => quote!(__dc::Some(#literal)),
        None => quote!(__dc::None),
    };
    let default_instance = default_instance(model);
    let registration = handler_registration_static(
        &quote!(#self_ty),
        quote! {
            __dc::Registration::EventHandler(__dc::EventHandlerRegistration {
                name: #name,
                path: ::core::concat!(::core::module_path!(), "::", #name),
                type_id: __dc::TypeId::of::<#self_ty>,
                aggregate: __dc::TypeId::of::<#part_of>,
                aggregate_name: <#part_of as __dc::Aggregate>::NAME,
                stream_category: #category,
                source_stream: #source_stream,
                events: &[#(#entries),*],
                handles_any: #handles_any,
                default_instance: __default_instance,
                dispatch: __dispatch,
            })
        },
    );
    quote! {
        #assertions
        #category_checks
        fn __dispatch<'a>(
            instance: &'a (dyn __dc::Any + ::core::marker::Send + ::core::marker::Sync),
            envelope: &'a __dc::EventEnvelope,
            ctx: &'a mut (dyn __dc::Any + ::core::marker::Send),
        ) -> __dc::BoxFuture<'a, __dc::Result<()>> {
            ::std::boxed::Box::pin(async move {
                let this = __dc::instance_as::<#self_ty>(instance, #name)?;
                let ctx = __dc::context_as(ctx)?;
                #(#arms)*
                #any_arm
                #fallthrough
            })
        }
        #default_instance
        #registration
    }
}
