#[derive(
    ::core::clone::Clone,
    ::core::marker::Copy,
    ::core::fmt::Debug,
    ::core::cmp::PartialEq,
    ::core::cmp::Eq,
    ::core::hash::Hash,
    ::domain_core::__private::serde::Serialize,
    ::domain_core::__private::serde::Deserialize
)]
#[serde(crate = "::domain_core::__private::serde")]
pub enum OrderHandler {
    Unpaid,
    Paid,
    Shipped,
}
const _: () = {
    use ::domain_core::__private as __dc;
    impl ::core::default::Default for OrderHandler {
        /// The first state: where a new entity starts.
        fn default() -> Self {
            OrderHandler::Unpaid
        }
    }
    impl __dc::HandlerState for OrderHandler {
        const NAMES: &'static [&'static str] = &["Unpaid", "Paid", "Shipped"];
        fn name(self) -> &'static str {
            match self {
                OrderHandler::Unpaid => "Unpaid",
                OrderHandler::Paid => "Paid",
                OrderHandler::Shipped => "Shipped",
            }
        }
    }
};
