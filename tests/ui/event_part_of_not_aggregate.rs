use domain_core::prelude::*;

pub struct Order {
    pub customer: String,
}

#[event(part_of = Order)]
pub struct OrderPlaced {
    pub order_id: Identifier,
}

fn main() {}
