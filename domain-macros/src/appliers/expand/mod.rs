//! An `Apply<Event>` impl per `#[apply]` method, with the check that the event is the
//! aggregate's own (spanned at the user's event type) and the handler switch of `become`; for an
//! `#[entity_handler]`, the gates its clauses share and its registration, with each kind of
//! clause in a module of its own (`command`, `query`, `reaction`).

mod command;
mod query;
mod reaction;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{ApplyMethod, ApplyModel, Block};
use crate::paths::respan;
use crate::pipeline::in_const;
use command::command_impl;
use query::query_impl;
use reaction::{reaction, returns_process};

pub fn expand(model: &ApplyModel) -> TokenStream {
    let item = &model.item;
    let applies = model
        .methods
        .iter()
        .filter(|m| !m.duplicate)
        .map(|m| apply_impl(model, m));
    let entity_handler = (model.block == Block::EntityHandler).then(|| entity_handler(model));
    let states_gate = states_gate(model);
    let body = in_const(quote!(#states_gate #(#applies)* #entity_handler));
    quote! {
        #item
        #body
    }
}

fn apply_impl(model: &ApplyModel, m: &ApplyMethod) -> TokenStream {
    let self_ty = &model.self_ty;
    let event = &m.event;
    let method = &m.method;
    let call = if m.bad_signature {
        quote!({
            let _ = event;
            ::core::unreachable!("an `#[apply]` method with a compile error never runs")
        })
    } else {
        quote!(<#self_ty>::#method(self, event))
    };
    // `become = State`: the entity's states at the keyword (an entity without states is reported
    // there), the state at the user's name (a state that does not exist is reported there).
    let become_ = m.become_.as_ref().map(|transition| {
        let state = &transition.state;
        quote!(<[(); __STATES] as __StatesGate<#self_ty>>::set(
            self,
            <[(); __STATES] as __StatesGate<#self_ty>>::States::#state,
        );)
    });
    // `Event<Aggregate = Self>` at the user's event type: applying another aggregate's event
    // is a type mismatch reported there.
    quote_spanned! {event.span()=>
        impl __dc::Apply<#event> for #self_ty {
            fn apply(&mut self, event: &#event) {
                fn __own_event<E: __dc::Event<Aggregate = A>, A>() {}
                let _ = __own_event::<#event, #self_ty>;
                #call;
                #become_
            }
        }
    }
}

/// What `become` and `when` reach the entity's states through. `<A as HandlerStates>` would be
/// checked at every use, and an entity without states would be one error per use (and more for
/// each state named through the unresolved type); so the bound is checked once, in a constant
/// spanned at the first `become` or `when`, and every use goes through a gate keyed by that
/// constant: when it is an error, the gate's type `[(); ERR]` is one too, and rustc reports
/// nothing more about it (as the handlers' return gate does).
fn states_gate(model: &ApplyModel) -> TokenStream {
    let keyword = model
        .methods
        .iter()
        .filter_map(|m| m.become_.as_ref().map(|t| &t.keyword))
        .chain(
            model
                .commands
                .iter()
                .filter_map(|c| c.when.as_ref().map(|w| &w.0)),
        )
        .next();
    let Some(keyword) = keyword else {
        return quote!();
    };
    let self_ty = &model.self_ty;
    let check = respan(
        quote!(<#self_ty as __dc::HandlerStates>::__active),
        keyword.span(),
    );
    quote! {
        const __STATES: usize = {
            let _ = #check;
            0
        };
        trait __StatesGate<A> {
            type States: __dc::HandlerState;
            fn active(entity: &A) -> Self::States;
            fn set(entity: &mut A, state: Self::States);
        }
        impl<const N: usize, A: __dc::HandlerStates> __StatesGate<A> for [(); N] {
            type States = A::States;
            fn active(entity: &A) -> A::States {
                entity.__active()
            }
            fn set(entity: &mut A, state: A::States) {
                entity.__become(state)
            }
        }
    }
}

/// Whether the active handler runs a clause: `None`, or the active handler's name (it ignores
/// the message). Without `when`, every handler runs it.
pub(super) fn accepts(
    self_ty: &syn::Type,
    when: Option<&(syn::Ident, Vec<syn::Ident>)>,
) -> TokenStream {
    let Some((_, states)) = when else {
        return quote!(|_: &#self_ty| __dc::None);
    };
    let gate = quote!(<[(); __STATES] as __StatesGate<#self_ty>>);
    let patterns = states.iter().map(|state| quote!(#gate::States::#state));
    quote!({
        fn __accepts(entity: &#self_ty) -> __dc::Option<&'static str> {
            let active = #gate::active(entity);
            if ::core::matches!(active, #(#patterns)|*) {
                __dc::None
            } else {
                __dc::Some(__dc::HandlerState::name(active))
            }
        }
        __accepts
    })
}

/// How a clause's yield is applied: checked in one place, at the user's return type.
pub(super) fn raise(self_ty: &syn::Type, output: &syn::Type) -> TokenStream {
    respan(
        quote!(<[(); __EVENT_SOURCED] as __YieldsGate<#self_ty, #output>>::raise),
        output.span(),
    )
}

/// Everything an `#[entity_handler]` block adds beside its `Apply` impls: the command clauses'
/// `HandledCommand` impls, the query clauses' `HandledQuery` impls, each reaction's subscription,
/// and the block's registration.
fn entity_handler(model: &ApplyModel) -> TokenStream {
    let self_ty = &model.self_ty;
    // The entity must be event-sourced: checked once, at its name. What each clause yields is
    // checked through a gate keyed by this constant (see `states_gate`), so a state-stored entity
    // is that one error, not one more per clause whose events it cannot apply. (Registered as the
    // command handler of its `#[on_command]` clauses; reactions and queries are generated here too.)
    let check = respan(
        quote!(__dc::event_sourced_entity::<#self_ty>),
        self_ty.span(),
    );
    // The gate of reactions that yield events, like `__YieldsGate` (only with such reactions).
    let reaction_gate = model
        .reactions
        .iter()
        .any(|r| !returns_process(&r.output))
        .then(|| {
            quote! {
                trait __ReactionGate<A, R> {
                    fn react(reaction: R, entity: A, ctx: &mut __dc::Context)
                        -> __dc::BoxFuture<'_, __dc::Result<()>>;
                }
                impl<const N: usize, A: __dc::Aggregate, R> __ReactionGate<A, R> for [(); N]
                where
                    R: __dc::Yields<A> + ::core::marker::Send + 'static,
                {
                    fn react(reaction: R, entity: A, ctx: &mut __dc::Context)
                        -> __dc::BoxFuture<'_, __dc::Result<()>> {
                        __dc::yield_reaction(reaction, entity, ctx)
                    }
                }
            }
        });
    // Query clauses read other aggregates: a block of those alone needs no event sourcing.
    let folds =
        !model.commands.is_empty() || !model.methods.is_empty() || !model.reactions.is_empty();
    let event_sourced = folds.then(|| quote! {
        const __EVENT_SOURCED: usize = {
            let _ = #check;
            0
        };
        trait __YieldsGate<A, R> {
            fn raise(yielded: R, entity: &mut A) -> __dc::Result<usize>;
        }
        impl<const N: usize, A: __dc::Aggregate, R: __dc::Yields<A>> __YieldsGate<A, R> for [(); N] {
            fn raise(yielded: R, entity: &mut A) -> __dc::Result<usize> {
                __dc::Yields::__raise_into(yielded, entity)
            }
        }
    });
    let clauses = model
        .commands
        .iter()
        .filter(|c| !c.duplicate)
        .map(|c| command_impl(model, c));
    let queries = model
        .queries
        .iter()
        .filter(|q| !q.duplicate)
        .map(|q| query_impl(model, q));
    let reactions = model
        .reactions
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.duplicate)
        .map(|(index, r)| reaction(model, index, r));
    let entries = model
        .commands
        .iter()
        .filter(|c| !c.duplicate && !c.bad_signature)
        .map(|clause| {
            let command = &clause.command;
            let name = command.to_token_stream().to_string().replace(' ', "");
            quote! {
                __dc::HandledCommandEntry {
                    name: #name,
                    type_id: __dc::TypeId::of::<#command>,
                    process_json: __dc::process_json::<#command>,
                    run_submitted: __dc::run_submitted::<#command>,
                }
            }
        });
    let name = format!(
        "#[entity_handler] {}",
        self_ty.to_token_stream().to_string().replace(' ', "")
    );
    // Keyed by the entity (a second block for it is a conflicting implementation, reported under
    // the trait's name); registered as the command handler of its clauses.
    let registration = quote_spanned! {self_ty.span()=>
        #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
        #[linkme(crate = __dc::linkme)]
        static __ENTITY_HANDLER: __dc::Registration =
            __dc::Registration::CommandHandler(__dc::CommandHandlerRegistration {
                name: #name,
                type_id: __dc::TypeId::of::<__dc::EntityHandlers<#self_ty>>,
                aggregate: __dc::TypeId::of::<#self_ty>,
                aggregate_name: <#self_ty as __dc::Aggregate>::NAME,
                commands: &[#(#entries),*],
                default_instance: __dc::entity_handlers_instance::<#self_ty>,
            });
        impl __dc::OneEntityHandlerBlockPerEntity for #self_ty {
            fn entity_handler_registration() -> &'static __dc::Registration { &__ENTITY_HANDLER }
        }
    };
    quote! {
        #event_sourced
        #reaction_gate
        #(#clauses)*
        #(#queries)*
        #(#reactions)*
        #registration
    }
}
