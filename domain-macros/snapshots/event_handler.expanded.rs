impl ManageInventory {
    fn reduce_stock(&self, event: &OrderShipped, ctx: &mut Context) -> Result<()> {
        todo!()
    }
    async fn audit(&self, event: &EventEnvelope) {}
}
const _: () = {
    use ::domain_core::__private as __dc;
    const _: fn() = || {
        let _ = <Inventory as __dc::Aggregate>::NAME;
        let _ = <OrderShipped as __dc::Event>::NAME;
    };
    const _: () = ::core::assert!(
        __dc::same_category(<< OrderShipped as __dc::Event > ::Aggregate as
        __dc::Aggregate > ::CATEGORY, "order"),
        "`OrderShipped` is not in stream category \"order\", which `ManageInventory` listens to, so this handler could never receive it: set `stream_category` to the category of `OrderShipped`'s aggregate, or use \"$all\""
    );
    fn __dispatch<'a>(
        instance: &'a (dyn __dc::Any + ::core::marker::Send + ::core::marker::Sync),
        envelope: &'a __dc::EventEnvelope,
        ctx: &'a mut (dyn __dc::Any + ::core::marker::Send),
    ) -> __dc::BoxFuture<'a, __dc::Result<()>> {
        ::std::boxed::Box::pin(async move {
            let this = __dc::instance_as::<
                ManageInventory,
            >(instance, "ManageInventory")?;
            let ctx = __dc::context_as(ctx)?;
            if let __dc::Some(event) = envelope.__downcast_payload::<OrderShipped>() {
                return {
                    __dc::HandlerReturn::into_result(this.reduce_stock(event, ctx))
                };
            }
            return {
                let _ = &ctx;
                __dc::HandlerReturn::into_result(this.audit(envelope).await)
            };
        })
    }
    fn __default_instance() -> __dc::Option<__dc::Instance> {
        #[allow(unused_imports)]
        use __dc::default_instance::{ViaDefault as _, WithoutDefault as _};
        (&&__dc::default_instance::Probe::<ManageInventory>(__dc::PhantomData))
            .instance()
    }
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REGISTRATION: __dc::Registration = __dc::Registration::EventHandler(__dc::EventHandlerRegistration {
        name: "ManageInventory",
        path: ::core::concat!(::core::module_path!(), "::", "ManageInventory"),
        type_id: __dc::TypeId::of::<ManageInventory>,
        aggregate: __dc::TypeId::of::<Inventory>,
        aggregate_name: <Inventory as __dc::Aggregate>::NAME,
        stream_category: "order",
        source_stream: __dc::None,
        events: &[
            __dc::HandledEventEntry {
                name: "OrderShipped",
                type_id: __dc::TypeId::of::<OrderShipped>,
            },
        ],
        handles_any: true,
        default_instance: __default_instance,
        dispatch: __dc::EventDispatch::Async(__dispatch),
    });
    impl __dc::OneAnnotatedImplBlockPerHandlerType for ManageInventory {
        fn handler_registration() -> &'static __dc::Registration {
            &__REGISTRATION
        }
    }
};
