use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event(part_of = Order, versoin = 2, aggregate = Order)]
pub struct OrderPlaced {
    pub order_id: Identifier,
}

fn main() {}
