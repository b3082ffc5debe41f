impl Order {
    fn pay(&self, command: Pay) -> Paid {
        Paid { cents: command.cents }
    }
    fn note(&self, command: AddNote) -> Result<Option<Noted>> {
        Ok(Some(Noted { text: command.text }))
    }
    fn paid(&mut self, event: &Paid) {
        self.paid_cents += event.cents;
    }
    fn refunded(&self, event: &billing::Refunded) -> Noted {
        Noted {
            text: event.reason.clone(),
        }
    }
}
const _: () = {
    use ::domain_core::__private as __dc;
    const __STATES: usize = {
        let _ = <Order as __dc::HandlerStates>::__active;
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
    impl __dc::Apply<Paid> for Order {
        fn apply(&mut self, event: &Paid) {
            fn __own_event<E: __dc::Event<Aggregate = A>, A>() {}
            let _ = __own_event::<Paid, Order>;
            <Order>::paid(self, event);
            <[(); __STATES] as __StatesGate<
                Order,
            >>::set(self, <[(); __STATES] as __StatesGate<Order>>::States::Paid);
        }
    }
    const __EVENT_SOURCED: usize = {
        let _ = __dc::event_sourced_entity::<Order>;
        0
    };
    trait __YieldsGate<A, R> {
        fn raise(yielded: R, entity: &mut A) -> __dc::Result<usize>;
    }
    impl<const N: usize, A: __dc::Aggregate, R: __dc::Yields<A>> __YieldsGate<A, R>
    for [(); N] {
        fn raise(yielded: R, entity: &mut A) -> __dc::Result<usize> {
            __dc::Yields::__raise_into(yielded, entity)
        }
    }
    trait __ReactionGate<A, R> {
        fn react(
            reaction: R,
            entity: A,
            ctx: &mut __dc::Context,
        ) -> __dc::BoxFuture<'_, __dc::Result<()>>;
    }
    impl<const N: usize, A: __dc::Aggregate, R> __ReactionGate<A, R> for [(); N]
    where
        R: __dc::Yields<A> + ::core::marker::Send + 'static,
    {
        fn react(
            reaction: R,
            entity: A,
            ctx: &mut __dc::Context,
        ) -> __dc::BoxFuture<'_, __dc::Result<()>> {
            __dc::yield_reaction(reaction, entity, ctx)
        }
    }
    impl __dc::HandledCommand for Pay {
        type Handler = __dc::EntityHandlers<Order>;
        type Output = __dc::Handled;
        #[allow(clippy::manual_async_fn)]
        fn handle(
            _: &Self::Handler,
            command: Self,
            ctx: &mut __dc::Context,
        ) -> impl ::core::future::Future<
            Output = __dc::Result<__dc::Handled>,
        > + ::core::marker::Send {
            fn __own_command<C: __dc::Command<Aggregate = A>, A>() {}
            let _ = __own_command::<Pay, Order>;
            __dc::run_command_clause::<
                Order,
                Self,
                Paid,
            >(
                command,
                ctx,
                {
                    fn __accepts(entity: &Order) -> __dc::Option<&'static str> {
                        let active = <[(); __STATES] as __StatesGate<
                            Order,
                        >>::active(entity);
                        if ::core::matches!(
                            active, < [(); __STATES] as __StatesGate < Order >>
                            ::States::Unpaid
                        ) {
                            __dc::None
                        } else {
                            __dc::Some(__dc::HandlerState::name(active))
                        }
                    }
                    __accepts
                },
                <Order>::pay,
                <[(); __EVENT_SOURCED] as __YieldsGate<Order, Paid>>::raise,
            )
        }
    }
    impl __dc::HandledCommand for AddNote {
        type Handler = __dc::EntityHandlers<Order>;
        type Output = __dc::Handled;
        #[allow(clippy::manual_async_fn)]
        fn handle(
            _: &Self::Handler,
            command: Self,
            ctx: &mut __dc::Context,
        ) -> impl ::core::future::Future<
            Output = __dc::Result<__dc::Handled>,
        > + ::core::marker::Send {
            fn __own_command<C: __dc::Command<Aggregate = A>, A>() {}
            let _ = __own_command::<AddNote, Order>;
            __dc::run_command_clause::<
                Order,
                Self,
                Result<Option<Noted>>,
            >(
                command,
                ctx,
                |_: &Order| __dc::None,
                <Order>::note,
                <[(); __EVENT_SOURCED] as __YieldsGate<
                    Order,
                    Result<Option<Noted>>,
                >>::raise,
            )
        }
    }
    impl __dc::HandledQuery for PaidOf {
        #[allow(clippy::manual_async_fn)]
        fn handle(
            query: Self,
            ctx: __dc::QueryContext<'_>,
        ) -> impl ::core::future::Future<
            Output = __dc::Result<Self::Result>,
        > + ::core::marker::Send + '_ {
            {
                fn __answers<Q: __dc::QueryMessage<Result = R>, R: __dc::FromRows>() {}
                let _ = __answers::<PaidOf, PaidCents>;
                #[allow(clippy::no_effect)]
                let _ = |query: &PaidOf| {
                    let _ = &query.id;
                };
                __dc::run_sql_query::<
                    Self,
                >(
                    query,
                    ctx,
                    &[
                        __dc::SqlPart::Text(
                            "SELECT id, paid_cents FROM order_view WHERE id = ",
                        ),
                        __dc::SqlPart::Param("id"),
                    ],
                )
            }
        }
    }
    struct __Reaction0;
    fn __react_0<'a>(
        _: &'a (dyn __dc::Any + ::core::marker::Send + ::core::marker::Sync),
        envelope: &'a __dc::EventEnvelope,
        ctx: &'a mut (dyn __dc::Any + ::core::marker::Send),
    ) -> __dc::BoxFuture<'a, __dc::Result<()>> {
        ::std::boxed::Box::pin(async move {
            let ctx = __dc::context_as(ctx)?;
            let __dc::Some(event) = envelope.__downcast_payload::<billing::Refunded>()
            else {
                return __dc::Result::Ok(());
            };
            __dc::run_reaction::<
                Order,
                billing::Refunded,
                Noted,
            >(
                    event,
                    envelope,
                    ctx,
                    |event: &billing::Refunded| {
                        __dc::Some(__dc::identity_of(&event.order))
                    },
                    {
                        fn __accepts(entity: &Order) -> __dc::Option<&'static str> {
                            let active = <[(); __STATES] as __StatesGate<
                                Order,
                            >>::active(entity);
                            if ::core::matches!(
                                active, < [(); __STATES] as __StatesGate < Order >>
                                ::States::Unpaid
                            ) {
                                __dc::None
                            } else {
                                __dc::Some(__dc::HandlerState::name(active))
                            }
                        }
                        __accepts
                    },
                    <Order>::refunded,
                    <[(); __EVENT_SOURCED] as __ReactionGate<Order, Noted>>::react,
                )
                .await
        })
    }
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REACTION_0: __dc::Registration = __dc::Registration::EventHandler(__dc::EventHandlerRegistration {
        name: "Order::refunded",
        path: ::core::concat!(::core::module_path!(), "::", "Order::refunded"),
        type_id: __dc::TypeId::of::<__dc::EntityHandlers<__Reaction0>>,
        aggregate: __dc::TypeId::of::<Order>,
        aggregate_name: <Order as __dc::Aggregate>::NAME,
        stream_category: <<billing::Refunded as __dc::Event>::Aggregate as __dc::Aggregate>::CATEGORY,
        source_stream: __dc::None,
        events: &[
            __dc::HandledEventEntry {
                name: "billing::Refunded",
                type_id: __dc::TypeId::of::<billing::Refunded>,
            },
        ],
        handles_any: false,
        default_instance: __dc::entity_handlers_instance::<__Reaction0>,
        dispatch: __dc::EventDispatch::Async(__react_0),
    });
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __ENTITY_HANDLER: __dc::Registration = __dc::Registration::CommandHandler(__dc::CommandHandlerRegistration {
        name: "#[entity_handler] Order",
        type_id: __dc::TypeId::of::<__dc::EntityHandlers<Order>>,
        aggregate: __dc::TypeId::of::<Order>,
        aggregate_name: <Order as __dc::Aggregate>::NAME,
        commands: &[
            __dc::HandledCommandEntry {
                name: "Pay",
                type_id: __dc::TypeId::of::<Pay>,
                process_json: __dc::process_json::<Pay>,
                run_submitted: __dc::run_submitted::<Pay>,
            },
            __dc::HandledCommandEntry {
                name: "AddNote",
                type_id: __dc::TypeId::of::<AddNote>,
                process_json: __dc::process_json::<AddNote>,
                run_submitted: __dc::run_submitted::<AddNote>,
            },
        ],
        default_instance: __dc::entity_handlers_instance::<Order>,
    });
    impl __dc::OneEntityHandlerBlockPerEntity for Order {
        fn entity_handler_registration() -> &'static __dc::Registration {
            &__ENTITY_HANDLER
        }
    }
};
