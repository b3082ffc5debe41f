//! `#[command_handler]`: one `HandledCommand` impl per handled command (coherence rejects a
//! second handler for it), the check that each command belongs to `part_of`, the registration.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{HandlerModel, MethodStatus, Target};
use super::{assertions, call, default_instance, part_of, return_gate};
use crate::pipeline::handler_registration_static;

pub fn expand(model: &HandlerModel) -> TokenStream {
    let self_ty = &model.self_ty;
    let part_of = part_of(model);
    let name = &model.self_name;
    let assertions = assertions(model);
    let part_of_name = part_of.to_token_stream().to_string().replace(' ', "");
    let mut impls = vec![return_gate()];
    let mut entries = Vec::new();
    for (index, method) in model.methods.iter().enumerate() {
        let Target::Type(ty) = &method.target else {
            continue;
        };
        if method.status == MethodStatus::Rejected {
            continue;
        }
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
        // A method whose signature is wrong is not called (that is already an error), but the
        // command still gets its impl: `domain.process(command)` then type-checks as written.
        let call = if method.status == MethodStatus::Handled {
            call(
                method,
                quote!(handler),
                quote!(command),
                quote!(#gate::into_result),
            )
        } else {
            quote!({
                let _ = (handler, command, ctx);
                ::core::unreachable!("a handler with a compile error never runs")
            })
        };
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
                __dc::same_category(
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
        if method.status != MethodStatus::Handled {
            continue;
        }
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
