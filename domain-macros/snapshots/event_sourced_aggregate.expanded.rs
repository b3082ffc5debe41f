#[derive(
    ::core::clone::Clone,
    ::core::fmt::Debug,
    ::domain_core::__private::serde::Serialize,
    ::domain_core::__private::serde::Deserialize
)]
#[serde(crate = "::domain_core::__private::serde")]
pub struct Account {
    /// The identity, assigned on construction.
    pub id: ::domain_core::Identifier,
    owner: String,
    #[serde(default = "__domain_default_Account_balance")]
    balance: i64,
    #[serde(skip)]
    #[doc(hidden)]
    __domain: ::domain_core::__private::AggregateState,
}
#[doc(hidden)]
#[allow(non_snake_case)]
fn __domain_default_Account_balance() -> i64 {
    0
}
const _: () = {
    use ::domain_core::__private as __dc;
    impl __dc::Aggregate for Account {
        const NAME: &'static str = "Account";
        const CATEGORY: &'static str = "account";
        fn identifier(&self) -> __dc::Identifier {
            ::core::clone::Clone::clone(&self.id)
        }
        fn __state(&self) -> &__dc::AggregateState {
            &self.__domain
        }
        fn __state_mut(&mut self) -> &mut __dc::AggregateState {
            &mut self.__domain
        }
        fn __drain_events(&mut self, out: &mut ::std::vec::Vec<__dc::PendingEvent>) {
            self.__domain.events.drain_into(out);
        }
        type Sourcing = __dc::EventSourced;
        const SNAPSHOT_EVERY: u64 = 0u64;
        const SCHEMA_FINGERPRINT: u64 = 16279504219320900083u64;
        fn __blank(id: &__dc::Identifier) -> __dc::Option<Self> {
            __dc::Some(Account {
                id: ::core::clone::Clone::clone(id),
                owner: ::core::default::Default::default(),
                balance: 0,
                __domain: ::core::default::Default::default(),
            })
        }
    }
    impl Account {
        ///The `owner` value.
        pub fn owner(&self) -> &String {
            &self.owner
        }
        ///The `balance` value.
        pub fn balance(&self) -> &i64 {
            &self.balance
        }
        /// A new aggregate with a generated identity, before its first event: raise one to
        /// give it state.
        pub fn new() -> Self {
            Self::with_id(__dc::Identifier::new())
        }
        /// The aggregate with identity `id` before its first event: raise one to give it
        /// state.
        pub fn with_id(id: impl ::core::convert::Into<__dc::Identifier>) -> Self {
            let id: __dc::Identifier = ::core::convert::Into::into(id);
            match <Self as __dc::Aggregate>::__blank(&id) {
                __dc::Some(blank) => blank,
                __dc::None => {
                    ::core::unreachable!("an event-sourced aggregate has a blank state")
                }
            }
        }
        /// The identity.
        pub fn id(&self) -> __dc::Identifier {
            <Self as __dc::Aggregate>::identifier(self)
        }
        /// The version loaded from the store (0: never persisted); used for optimistic concurrency.
        pub fn version(&self) -> u64 {
            self.__domain.version()
        }
        /// Raises an event of this aggregate: its `#[apply]` method changes the state at
        /// once, and the event is committed with the aggregate and dispatched after the
        /// commit succeeds.
        pub fn raise<E: __dc::Event + __dc::RaisableBy<Self>>(&mut self, event: E)
        where
            Self: __dc::Apply<E>,
        {
            <Self as __dc::Apply<E>>::apply(self, &event);
            self.__domain.events.push(event);
        }
    }
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REGISTRATION: __dc::Registration = __dc::Registration::Aggregate(__dc::AggregateRegistration {
        name: "Account",
        module: ::core::module_path!(),
        type_id: __dc::TypeId::of::<Account>,
        category: <Account as __dc::Aggregate>::CATEGORY,
        sql_view: __dc::None,
    });
    impl __dc::Register for Account {
        fn registration() -> &'static __dc::Registration {
            &__REGISTRATION
        }
    }
    impl __dc::Validate for Account {
        fn validate_into(
            &self,
            __path: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            let _ = (&__path, &__errors);
            __dc::check::identity(&self.id, &__path.field("id"), __errors);
            {
                let __field = __path.field("owner");
                __dc::check::required_text(&self.owner, &__field, __errors);
                __dc::Validate::validate_into(&self.owner, &__field, __errors);
            }
        }
    }
};
