//! An `Apply<Event>` impl per `#[apply]` method, with the check that the event is the
//! aggregate's own (spanned at the user's event type) and the handler switch of `become`; for an
//! `#[entity_handler]`, a `HandledCommand` impl per `#[on_command]` clause and the registration
//! of the entity's handler.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{
    Answer, ApplyMethod, ApplyModel, Block, CommandClause, QueryClause, ReactClause, SqlPiece,
};
use crate::paths::respan;
use crate::pipeline::in_const;

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
fn accepts(self_ty: &syn::Type, when: Option<&(syn::Ident, Vec<syn::Ident>)>) -> TokenStream {
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
fn raise(self_ty: &syn::Type, output: &syn::Type) -> TokenStream {
    respan(
        quote!(<[(); __EVENT_SOURCED] as __YieldsGate<#self_ty, #output>>::raise),
        output.span(),
    )
}

/// A reaction's subscription: a marker type for its registration, the delivery function that
/// runs the clause on each foreign event, and the registration (its own subscription, named by
/// the entity and the clause, in the foreign event's stream category).
fn reaction(model: &ApplyModel, index: usize, clause: &ReactClause) -> TokenStream {
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
                dispatch: #dispatch,
            });
    }
}

/// Whether a reaction's return type is `Process<..>` (a command to process), as written.
fn returns_process(output: &syn::Type) -> bool {
    matches!(output, syn::Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Process"))
}

/// The entity's `#[on_command]` clauses as command handlers, and their registration.
fn entity_handler(model: &ApplyModel) -> TokenStream {
    let self_ty = &model.self_ty;
    // The entity must be event-sourced: checked once, at its name. What each clause yields is
    // checked through a gate keyed by this constant (see `states_gate`), so a state-stored entity
    // is that one error, not one more per clause whose events it cannot apply.
    let check = respan(
        quote!(__dc::event_sourced_entity::<#self_ty>),
        self_ty.span(),
    );
    // The gate of reactions that yield events, like `__YieldsGate` (only with such reactions).
    let reaction_gate = model
        .reactions
        .iter()
        .any(|r| !returns_process(&r.output))
        .then(|| quote! {
        trait __ReactionGate<A, R> {
            fn react(reaction: R, entity: A, ctx: &mut __dc::Context) -> __dc::BoxFuture<'_, __dc::Result<()>>;
        }
        impl<const N: usize, A: __dc::Aggregate, R: __dc::Yields<A> + ::core::marker::Send + 'static> __ReactionGate<A, R> for [(); N] {
            fn react(reaction: R, entity: A, ctx: &mut __dc::Context) -> __dc::BoxFuture<'_, __dc::Result<()>> {
                __dc::yield_reaction(reaction, entity, ctx)
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

/// `HandledQuery` for one query clause: its Rust body, or its SQL with each parameter bound.
fn query_impl(model: &ApplyModel, clause: &QueryClause) -> TokenStream {
    let self_ty = &model.self_ty;
    let query = &clause.query;
    let output = &clause.output;
    let method = &clause.method;
    let answer = if clause.bad_signature {
        quote!(async move {
            let _ = (query, ctx);
            ::core::unreachable!("a clause with a compile error never runs")
        })
    } else {
        match &clause.answer {
            Answer::Rust { is_async } => {
                let await_ = is_async.then(|| quote!(.await));
                // At the user's return type: one that is not `Result<the query's result>` is
                // reported there.
                let call = respan(
                    quote!(<#self_ty>::#method(query, ctx) #await_),
                    output.span(),
                );
                quote_spanned!(output.span()=> async move { #call })
            }
            Answer::Sql { literal, parts } => {
                let pieces = parts.iter().map(|part| match part {
                    SqlPiece::Text(text) => quote!(__dc::SqlPart::Text(#text)),
                    SqlPiece::Param(name) => quote!(__dc::SqlPart::Param(#name)),
                });
                // Each parameter names a field of the query: a missing one is reported at the
                // SQL text, naming the field.
                let fields = parts.iter().filter_map(|part| match part {
                    SqlPiece::Param(name) => {
                        let field = syn::Ident::new(name, literal.span());
                        Some(quote_spanned!(literal.span()=> let _ = &query.#field;))
                    }
                    SqlPiece::Text(_) => None,
                });
                // The declared return type is the query's result (a mismatch is reported at the
                // user's type), and decodes from rows.
                let answers = quote_spanned! {output.span()=>
                    fn __answers<Q: __dc::QueryMessage<Result = R>, R: __dc::FromRows>() {}
                    let _ = __answers::<#query, #output>;
                };
                quote!({
                    #answers
                    #[allow(clippy::no_effect)]
                    let _ = |query: &#query| { #(#fields)* };
                    __dc::run_sql_query::<Self>(query, ctx, &[#(#pieces),*])
                })
            }
        }
    };
    // Spanned at the user's query type: a second handler for it is a conflicting implementation
    // reported there.
    quote_spanned! {query.span()=>
        impl __dc::HandledQuery for #query {
            #[allow(clippy::manual_async_fn)]
            fn handle(
                query: Self,
                ctx: __dc::QueryContext<'_>,
            ) -> impl ::core::future::Future<Output = __dc::Result<Self::Result>> + ::core::marker::Send + '_ {
                #answer
            }
        }
    }
}

/// `HandledCommand` for one clause's command: load the entity, ask its active handler, run the
/// clause, apply what it yields.
fn command_impl(model: &ApplyModel, clause: &CommandClause) -> TokenStream {
    let self_ty = &model.self_ty;
    let command = &clause.command;
    let output = &clause.output;
    let method = &clause.method;
    let accepts = accepts(self_ty, clause.when.as_ref());
    let raise = raise(self_ty, output);
    let run = if clause.bad_signature {
        quote!(async move {
            let _ = (command, ctx);
            ::core::unreachable!("a clause with a compile error never runs")
        })
    } else {
        quote!(__dc::run_command_clause::<#self_ty, Self, #output>(
            command,
            ctx,
            #accepts,
            <#self_ty>::#method,
            #raise,
        ))
    };
    // Spanned at the user's command type: a second clause or handler for it is a conflicting
    // implementation reported there, and so is a command of another entity.
    quote_spanned! {command.span()=>
        impl __dc::HandledCommand for #command {
            type Handler = __dc::EntityHandlers<#self_ty>;
            type Output = __dc::Handled;
            #[allow(clippy::manual_async_fn)]
            fn handle(
                _: &Self::Handler,
                command: Self,
                ctx: &mut __dc::Context,
            ) -> impl ::core::future::Future<Output = __dc::Result<__dc::Handled>> + ::core::marker::Send {
                fn __own_command<C: __dc::Command<Aggregate = A>, A>() {}
                let _ = __own_command::<#command, #self_ty>;
                #run
            }
        }
    }
}
