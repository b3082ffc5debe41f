#[derive(
    ::core::clone::Clone,
    ::core::fmt::Debug,
    ::domain_core::__private::serde::Serialize,
    ::domain_core::__private::serde::Deserialize
)]
#[serde(crate = "::domain_core::__private::serde")]
pub struct BookAdded {
    pub book_id: Identifier,
    pub title: String,
}
const _: () = {
    use ::domain_core::__private as __dc;
    const __PART_OF: usize = {
        let _ = <Book as __dc::Aggregate>::NAME;
        0
    };
    impl __dc::Event for BookAdded {
        type Aggregate = <[(); __PART_OF] as __dc::PartOfGate<Book>>::Aggregate;
        const NAME: &'static str = "BookAdded";
        const VERSION: u32 = 1u32;
        const __APPLY: __dc::Option<&'static __dc::Applier> = <<Self::Aggregate as __dc::Aggregate>::Sourcing as __dc::ApplyRule<
            Self::Aggregate,
            Self,
        >>::APPLY;
    }
    impl __dc::RaisableBy<Book> for BookAdded {}
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REGISTRATION: __dc::Registration = __dc::Registration::Event(__dc::EventRegistration {
        name: "BookAdded",
        module: ::core::module_path!(),
        version: <BookAdded as __dc::Event>::VERSION,
        type_id: __dc::TypeId::of::<BookAdded>,
        aggregate: __dc::TypeId::of::<<BookAdded as __dc::Event>::Aggregate>,
        aggregate_name: __dc::event_aggregate::<BookAdded>().0,
        category: __dc::event_aggregate::<BookAdded>().1,
        decode: __dc::decode_event::<BookAdded>,
        upcasters: &[],
    });
    impl __dc::Register for BookAdded {
        fn registration() -> &'static __dc::Registration {
            &__REGISTRATION
        }
    }
    impl __dc::Validate for BookAdded {
        fn validate_into(
            &self,
            __path: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            let _ = (&__path, &__errors);
            {
                let __field = __path.field("book_id");
                {
                    #[allow(unused_imports)]
                    use __dc::check::{SkipNested as _, ValidateNested as _};
                    (&&__dc::check::Nested(&self.book_id))
                        .validate_nested(&__field, __errors);
                }
            }
            {
                let __field = __path.field("title");
                __dc::check::max_length(
                    &self.title,
                    {
                        let __bound = 200;
                        __bound
                    },
                    &__field,
                    __errors,
                );
                __dc::Validate::validate_into(&self.title, &__field, __errors);
            }
        }
    }
};
