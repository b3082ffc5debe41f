//! `#[event_handler]`: the dispatcher from an event envelope to the handler's method, the checks
//! that each event can reach it, the registration.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{HandlerModel, Target};
use super::{assertions, call, default_instance, handled, part_of};
use crate::pipeline::handler_registration_static;
use crate::symbol::ALL;

pub fn expand(model: &HandlerModel) -> TokenStream {
    let self_ty = &model.self_ty;
    let part_of = part_of(model);
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
        let checks = handled(model).filter_map(|m| {
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
                    __dc::same_category(<<#ty as __dc::Event>::Aggregate as __dc::Aggregate>::CATEGORY, #category),
                    #message
                );
            })
        });
        quote!(#(#checks)*)
    });

    let mut arms = Vec::new();
    let mut any_arm = None;
    let mut entries = Vec::new();
    for method in handled(model) {
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
    let is_async = handled(model).any(|m| m.is_async);
    let dispatch_arm = if is_async {
        quote!(__dc::EventDispatch::Async(__dispatch))
    } else {
        quote!(__dc::EventDispatch::Sync(__dispatch))
    };
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
                dispatch: #dispatch_arm,
            })
        },
    );
    // Without an `async` method, the body is a plain function that a delivery calls directly:
    // no async block, no state machine, no boxed future per delivery.
    let dispatch = if is_async {
        quote! {
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
        }
    } else {
        quote! {
            fn __dispatch(
                instance: &(dyn __dc::Any + ::core::marker::Send + ::core::marker::Sync),
                envelope: &__dc::EventEnvelope,
                ctx: &mut (dyn __dc::Any + ::core::marker::Send),
            ) -> __dc::Result<()> {
                let __dc::Some(this) = instance.downcast_ref::<#self_ty>() else {
                    return ::core::result::Result::Err(__dc::wrong_instance(#name));
                };
                let ctx = __dc::context_as(ctx)?;
                #(#arms)*
                #any_arm
                #fallthrough
            }
        }
    };
    quote! {
        #assertions
        #category_checks
        #dispatch
        #default_instance
        #registration
    }
}
