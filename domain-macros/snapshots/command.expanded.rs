#[derive(
    ::core::clone::Clone,
    ::core::fmt::Debug,
    ::domain_core::__private::serde::Serialize,
    ::domain_core::__private::serde::Deserialize
)]
#[serde(crate = "::domain_core::__private::serde")]
#[serde(deny_unknown_fields)]
pub struct AddBook {
    pub isbn: String,
    pub title: String,
    pub price: Money,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "__domain_default_AddBook_copies")]
    pub copies: i64,
    pub subtitle: Option<String>,
}
#[doc(hidden)]
#[allow(non_snake_case)]
fn __domain_default_AddBook_copies() -> i64 {
    1
}
const _: () = {
    use ::domain_core::__private as __dc;
    impl __dc::Command for AddBook {
        type Aggregate = Book;
        const NAME: &'static str = "AddBook";
        fn target(&self) -> __dc::Option<__dc::Identifier> {
            __dc::Some(__dc::Identifier::from(::core::clone::Clone::clone(&self.isbn)))
        }
        fn __json_problems(
            __value: &__dc::JsonValue,
            __path: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            #[allow(unused_imports)]
            use __dc::json::{
                DecodeFieldList as _, DecodeFields as _, DecodeOptionalFields as _,
                DecodeWhole as _,
            };
            let __dc::Some(mut __fields) = __dc::json::Fields::of::<
                Self,
            >(__value, __path, __errors) else {
                return;
            };
            __fields
                .field(
                    "isbn",
                    true,
                    (&&__dc::json::Slot::<String>(__dc::PhantomData)).decoder(),
                    Self::__check_isbn,
                );
            __fields
                .field(
                    "title",
                    true,
                    (&&__dc::json::Slot::<String>(__dc::PhantomData)).decoder(),
                    Self::__check_title,
                );
            __fields
                .field(
                    "price",
                    true,
                    (&&__dc::json::Slot::<Money>(__dc::PhantomData)).decoder(),
                    Self::__check_price,
                );
            __fields
                .field(
                    "tags",
                    false,
                    (&&__dc::json::Slot::<Vec<String>>(__dc::PhantomData)).decoder(),
                    Self::__check_tags,
                );
            __fields
                .field(
                    "copies",
                    false,
                    (&&__dc::json::Slot::<i64>(__dc::PhantomData)).decoder(),
                    Self::__check_copies,
                );
            __fields
                .field(
                    "subtitle",
                    false,
                    (&&__dc::json::Slot::<Option<String>>(__dc::PhantomData)).decoder(),
                    Self::__check_subtitle,
                );
            __fields.deny_unknown("AddBook");
        }
    }
    #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
    #[linkme(crate = __dc::linkme)]
    static __REGISTRATION: __dc::Registration = __dc::Registration::Command(__dc::CommandRegistration {
        name: "AddBook",
        module: ::core::module_path!(),
        type_id: __dc::TypeId::of::<AddBook>,
        aggregate: __dc::TypeId::of::<<AddBook as __dc::Command>::Aggregate>,
        aggregate_name: __dc::command_aggregate::<AddBook>(),
    });
    impl __dc::Register for AddBook {
        fn registration() -> &'static __dc::Registration {
            &__REGISTRATION
        }
    }
    #[doc(hidden)]
    impl AddBook {
        fn __check_isbn(
            __value: &String,
            __field: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            __dc::check::identity(
                &__dc::Identifier::from(::core::clone::Clone::clone(__value)),
                __field,
                __errors,
            );
            __dc::check::required_text(__value, __field, __errors);
            __dc::Validate::validate_into(__value, __field, __errors);
        }
        fn __check_title(
            __value: &String,
            __field: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            __dc::check::required_text(__value, __field, __errors);
            __dc::check::max_length(
                {
                    let __value = __value;
                    __value
                },
                {
                    let __bound = 200;
                    __bound
                },
                __field,
                __errors,
            );
            __dc::Validate::validate_into(__value, __field, __errors);
        }
        fn __check_price(
            __value: &Money,
            __field: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            {
                #[allow(unused_imports)]
                use __dc::check::{SkipNested as _, ValidateNested as _};
                (&&__dc::check::Nested(__value)).validate_nested(__field, __errors);
            }
        }
        fn __check_tags(
            __value: &Vec<String>,
            __field: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            {
                #[allow(unused_imports)]
                use __dc::check::{SkipNested as _, ValidateNested as _};
                (&&__dc::check::Nested(__value)).validate_nested(__field, __errors);
            }
        }
        fn __check_copies(
            __value: &i64,
            __field: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            __dc::check::min(
                {
                    let __value = __value;
                    __value
                },
                {
                    let __bound = 1;
                    __bound
                },
                __field,
                __errors,
            );
        }
        fn __check_subtitle(
            __value: &Option<String>,
            __field: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            __dc::Validate::validate_into(__value, __field, __errors);
        }
    }
    impl __dc::Validate for AddBook {
        fn validate_into(
            &self,
            __path: &__dc::FieldPath<'_>,
            __errors: &mut __dc::ValidationErrors,
        ) {
            let _ = (&__path, &__errors);
            Self::__check_isbn(&self.isbn, &__path.field("isbn"), __errors);
            Self::__check_title(&self.title, &__path.field("title"), __errors);
            Self::__check_price(&self.price, &__path.field("price"), __errors);
            Self::__check_tags(&self.tags, &__path.field("tags"), __errors);
            Self::__check_copies(&self.copies, &__path.field("copies"), __errors);
            Self::__check_subtitle(&self.subtitle, &__path.field("subtitle"), __errors);
        }
    }
};
