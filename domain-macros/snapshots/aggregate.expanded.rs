#[derive(
    ::core::clone::Clone,
    ::core::fmt::Debug,
    ::domain_core::__private::serde::Serialize,
    ::domain_core::__private::serde::Deserialize
)]
#[serde(crate = "::domain_core::__private::serde")]
pub struct Book {
    /// The identity, assigned on construction.
    pub id: ::domain_core::Identifier,
    pub title: String,
    pub isbn: Option<String>,
    pub price: Option<Money>,
    #[serde(default = "__domain_default_Book_stock")]
    pub stock: i64,
    #[serde(skip)]
    #[doc(hidden)]
    __domain: ::domain_core::__private::AggregateState,
}
#[doc(hidden)]
#[allow(non_snake_case)]
fn __domain_default_Book_stock() -> i64 {
    10
}
///Builds a [`Book`] with [`Book::builder`]. Required fields are checked at compile time: `build()` exists once every one is set.
#[must_use = "call `.build()` to get the value"]
#[allow(non_camel_case_types)]
pub struct BookBuilder<__Title = ::domain_core::__private::Unset> {
    id: ::core::option::Option<::domain_core::Identifier>,
    title: __Title,
    isbn: ::core::option::Option<Option<String>>,
    price: ::core::option::Option<Option<Money>>,
    stock: ::core::option::Option<i64>,
}
const _: () = {
    use ::domain_core::__private as __dc;
    impl __dc::Aggregate for Book {
        const NAME: &'static str = "Book";
        const CATEGORY: &'static str = "book";
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
        type Sourcing = __dc::StateStored;
    }
    impl Book {
        ///The `title` field, for typed queries.
        pub const TITLE: __dc::Field<Book, String> = {
            fn get(value: &Book) -> &String {
                &value.title
            }
            __dc::Field::new("title", get)
        };
        ///The `isbn` field, for typed queries.
        pub const ISBN: __dc::Field<Book, Option<String>> = {
            fn get(value: &Book) -> &Option<String> {
                &value.isbn
            }
            __dc::Field::new("isbn", get)
        };
        ///The `price` field, for typed queries.
        pub const PRICE: __dc::Field<Book, Option<Money>> = {
            fn get(value: &Book) -> &Option<Money> {
                &value.price
            }
            __dc::Field::new("price", get)
        };
        ///The `stock` field, for typed queries.
        pub const STOCK: __dc::Field<Book, i64> = {
            fn get(value: &Book) -> &i64 {
                &value.stock
            }
            __dc::Field::new("stock", get)
        };
        /// The identity.
        pub fn id(&self) -> __dc::Identifier {
            <Self as __dc::Aggregate>::identifier(self)
        }
        /// The version loaded from the store (0: never persisted); used for optimistic concurrency.
        pub fn version(&self) -> u64 {
            self.__domain.version()
        }
        /// Raises an event of this aggregate: it is committed with the aggregate and
        /// dispatched after the commit succeeds.
        pub fn raise<E: __dc::Event + __dc::RaisableBy<Self>>(&mut self, event: E) {
            self.__domain.events.push(event);
        }
        ///Starts building a [`Book`]: set every required field, then call `build()`.
        pub fn builder() -> BookBuilder {
            BookBuilder {
                id: __dc::None,
                title: __dc::Unset,
                isbn: __dc::None,
                price: __dc::None,
                stock: __dc::None,
            }
        }
    }
    impl<__Title> BookBuilder<__Title> {
        ///Sets `id`.
        pub fn id(
            mut self,
            value: impl ::core::convert::Into<::domain_core::Identifier>,
        ) -> Self {
            self.id = __dc::Some(::core::convert::Into::into(value));
            self
        }
        ///Sets `title`.
        pub fn title(
            self,
            value: impl ::core::convert::Into<String>,
        ) -> BookBuilder<__dc::Set<String>> {
            BookBuilder {
                id: self.id,
                title: __dc::Set(::core::convert::Into::into(value)),
                isbn: self.isbn,
                price: self.price,
                stock: self.stock,
            }
        }
        ///Sets `isbn`.
        pub fn isbn(mut self, value: impl __dc::IntoOptional<String>) -> Self {
            self.isbn = __dc::Some(__dc::IntoOptional::into_optional(value));
            self
        }
        ///Sets `price`.
        pub fn price(mut self, value: impl __dc::IntoOptional<Money>) -> Self {
            self.price = __dc::Some(__dc::IntoOptional::into_optional(value));
            self
        }
        ///Sets `stock`.
        pub fn stock(mut self, value: i64) -> Self {
            self.stock = __dc::Some(value);
            self
        }
    }
    #[diagnostic::on_unimplemented(
        message = "missing required field `title` for `Book`",
        label = "call `.title(...)` on the builder before `.build()`",
        note = "required fields are those that are not `Option`, not collections, and have no `#[field(default)]`"
    )]
    trait __RequiredTitle {
        fn take(self) -> String;
    }
    impl __RequiredTitle for __dc::Set<String> {
        fn take(self) -> String {
            self.0
        }
    }
    impl<__Title> BookBuilder<__Title> {
        /// Assigns the identity, applies defaults and validates every field; reports every
        /// failing field at once.
        #[allow(private_bounds)]
        pub fn build(self) -> __dc::StdResult<Book, __dc::ValidationErrors>
        where
            __Title: __RequiredTitle,
        {
            let value = Book {
                id: self.id.unwrap_or_else(|| __dc::Identifier::new()),
                title: __RequiredTitle::take(self.title),
                isbn: self.isbn.unwrap_or_else(|| __dc::None),
                price: self.price.unwrap_or_else(|| __dc::None),
                stock: self.stock.unwrap_or_else(|| 10),
                __domain: ::core::default::Default::default(),
            };
            __dc::Validate::validate(&value)?;
            __dc::StdResult::Ok(value)
        }
    }
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REGISTRATION: __dc::Registration = __dc::Registration::Aggregate(__dc::AggregateRegistration {
        name: "Book",
        module: ::core::module_path!(),
        type_id: __dc::TypeId::of::<Book>,
        category: <Book as __dc::Aggregate>::CATEGORY,
        sql_view: __dc::Some(__dc::SqlView {
            name: "book",
            columns: &[
                __dc::ViewColumn {
                    name: "title",
                    kind: __dc::ColumnKind::Text,
                },
                __dc::ViewColumn {
                    name: "isbn",
                    kind: __dc::ColumnKind::Text,
                },
                __dc::ViewColumn {
                    name: "price",
                    kind: __dc::ColumnKind::Json,
                },
                __dc::ViewColumn {
                    name: "stock",
                    kind: __dc::ColumnKind::Int,
                },
            ],
            state_key: __dc::None,
        }),
    });
    impl __dc::Register for Book {
        fn registration() -> &'static __dc::Registration {
            &__REGISTRATION
        }
    }
    impl __dc::Validate for Book {
        fn validate_into(
            &self,
            __path: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            let _ = (&__path, &__errors);
            __dc::check::identity(&self.id, &__path.field("id"), __errors);
            {
                let __field = __path.field("title");
                __dc::check::required_text(&self.title, &__field, __errors);
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
            {
                let __field = __path.field("isbn");
                __dc::check::max_length(
                    &self.isbn,
                    {
                        let __bound = 13;
                        __bound
                    },
                    &__field,
                    __errors,
                );
                __dc::Validate::validate_into(&self.isbn, &__field, __errors);
            }
            {
                let __field = __path.field("price");
                {
                    #[allow(unused_imports)]
                    use __dc::check::{SkipNested as _, ValidateNested as _};
                    (&&__dc::check::Nested(&self.price))
                        .validate_nested(&__field, __errors);
                }
            }
            {
                let __field = __path.field("stock");
                __dc::check::min(
                    &self.stock,
                    {
                        let __bound = 0;
                        __bound
                    },
                    &__field,
                    __errors,
                );
            }
        }
    }
    const _: fn() = || {
        #[allow(unused_imports)]
        use __dc::entity_fields::{
            HoldsEntity as _, HoldsEntities as _, HoldsOptionalEntity as _,
            HoldsNoEntity as _,
        };
        (&&__dc::entity_fields::RelationProbe::<Option<Money>>(__dc::PhantomData))
            .entities_need_a_relation();
    };
};
