//! `#[react]` clauses: each is a subscription of the delivery engine, with a marker type for its
//! registration and a delivery function that runs the clause on each foreign event.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{ApplyModel, ReactClause};
use super::accepts;
use crate::paths::respan;

/// A reaction's subscription: a marker type for its registration, the delivery function that
/// runs the clause on each foreign event, and the registration (its own subscription, named by
/// the entity and the clause, in the foreign event's stream category).
pub(super) fn reaction(model: &ApplyModel, index: usize, clause: &ReactClause) -> TokenStream {
    let self_ty = &model.self_ty;
    let event = &clause.event;
    let output = &clause.output;
    let method = &clause.method;
    let marker = quote::format_ident!("__Reaction{index}");
    let dispatch = quote::format_ident!("__react_{index}");
    let registration = quote::format_ident!("__REACTION_{index}");
    let entity_name = self_ty.to_token_stream().to_string().replace(' ', "");
    let name = format!("{entity_name}::{method}");
    let event_name = event.to_token_stream().to_string().replace(' ', "");
    let accepts = accepts(self_ty, clause.when.as_ref());
    // What the reaction returns is checked in one place, at the user's return type: events it
    // yields, or (spelled `Process<C>`) a command of this entity to process.
    let react = if returns_process(output) {
        respan(quote!(__dc::process_reaction::<#self_ty, _>), output.span())
    } else {
        respan(
            quote!(<[(); __EVENT_SOURCED] as __ReactionGate<#self_ty, #output>>::react),
            output.span(),
        )
    };
    let target = match &clause.instance {
        // At the user's field name: a field the event does not have is reported there.
        Some(field) => quote_spanned!(field.span()=> |event: &#event| {
            __dc::Some(__dc::identity_of(&event.#field))
        }),
        None => quote!(|_: &#event| __dc::None),
    };
    let run = if clause.bad_signature {
        quote!({
            let _ = (event, ctx);
            ::core::unreachable!("a clause with a compile error never runs")
        })
    } else {
        quote!(__dc::run_reaction::<#self_ty, #event, #output>(
            event, envelope, ctx, #target, #accepts, <#self_ty>::#method, #react,
        ).await)
    };
    quote! {
        struct #marker;
        fn #dispatch<'a>(
            _: &'a (dyn __dc::Any + ::core::marker::Send + ::core::marker::Sync),
            envelope: &'a __dc::EventEnvelope,
            ctx: &'a mut (dyn __dc::Any + ::core::marker::Send),
        ) -> __dc::BoxFuture<'a, __dc::Result<()>> {
            ::std::boxed::Box::pin(async move {
                let ctx = __dc::context_as(ctx)?;
                let __dc::Some(event) = envelope.__downcast_payload::<#event>() else {
                    return __dc::Result::Ok(());
                };
                #run
            })
        }
        #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
        #[linkme(crate = __dc::linkme)]
        static #registration: __dc::Registration =
            __dc::Registration::EventHandler(__dc::EventHandlerRegistration {
                name: #name,
                path: ::core::concat!(::core::module_path!(), "::", #name),
                type_id: __dc::TypeId::of::<__dc::EntityHandlers<#marker>>,
                aggregate: __dc::TypeId::of::<#self_ty>,
                aggregate_name: <#self_ty as __dc::Aggregate>::NAME,
                stream_category: <<#event as __dc::Event>::Aggregate as __dc::Aggregate>::CATEGORY,
                source_stream: __dc::None,
                events: &[__dc::HandledEventEntry { name: #event_name, type_id: __dc::TypeId::of::<#event> }],
                handles_any: false,
                default_instance: __dc::entity_handlers_instance::<#marker>,
                dispatch: __dc::EventDispatch::Async(#dispatch),
            });
    }
}

/// Whether a reaction's return type is `Process<..>` (a command to process), as written.
pub(super) fn returns_process(output: &syn::Type) -> bool {
    matches!(output, syn::Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Process"))
}
