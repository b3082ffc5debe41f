impl BookCommandHandler {
    async fn add_book(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
        todo!()
    }
}
const _: () = {
    use ::domain_core::__private as __dc;
    const _: fn() = || {
        let _ = <Book as __dc::Aggregate>::NAME;
    };
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
    const __HANDLER_RETURN_0: usize = {
        let _ = <Result<Identifier> as __dc::HandlerReturn>::into_result;
        0
    };
    const _: () = ::core::assert!(
        __dc::same_category(__dc::handled_command_category:: < AddBook > (), < Book as
        __dc::Aggregate > ::CATEGORY,),
        "`AddBook` is a command of another aggregate than `Book`, which `BookCommandHandler` handles: a `#[command_handler(part_of = Book)]` handles only commands declared `part_of = Book`; move this method to a command handler of `AddBook`'s aggregate, or correct `AddBook`'s `part_of`"
    );
    impl __dc::HandledCommand for AddBook {
        type Handler = BookCommandHandler;
        type Output = <[(); __HANDLER_RETURN_0] as __HandlerReturnGate<
            Result<Identifier>,
        >>::Output;
        #[allow(clippy::manual_async_fn)]
        fn handle(
            handler: &BookCommandHandler,
            command: Self,
            ctx: &mut __dc::Context,
        ) -> impl ::core::future::Future<
            Output = __dc::Result<Self::Output>,
        > + ::core::marker::Send {
            async move {
                {
                    <[(); __HANDLER_RETURN_0] as __HandlerReturnGate<
                        Result<Identifier>,
                    >>::into_result(handler.add_book(command, ctx).await)
                }
            }
        }
    }
    fn __default_instance() -> __dc::Option<__dc::Instance> {
        #[allow(unused_imports)]
        use __dc::default_instance::{ViaDefault as _, WithoutDefault as _};
        (&&__dc::default_instance::Probe::<BookCommandHandler>(__dc::PhantomData))
            .instance()
    }
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REGISTRATION: __dc::Registration = __dc::Registration::CommandHandler(__dc::CommandHandlerRegistration {
        name: "BookCommandHandler",
        type_id: __dc::TypeId::of::<BookCommandHandler>,
        aggregate: __dc::TypeId::of::<Book>,
        aggregate_name: <Book as __dc::Aggregate>::NAME,
        commands: &[
            __dc::HandledCommandEntry {
                name: "AddBook",
                type_id: __dc::TypeId::of::<AddBook>,
                process_json: __dc::process_json::<AddBook>,
                run_submitted: __dc::run_submitted::<AddBook>,
            },
        ],
        default_instance: __default_instance,
    });
    impl __dc::OneAnnotatedImplBlockPerHandlerType for BookCommandHandler {
        fn handler_registration() -> &'static __dc::Registration {
            &__REGISTRATION
        }
    }
};
