use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event(part_of = Order, version = 3)]
pub struct OrderPlaced {
    pub total_cents: i64,
}

#[upcaster(OrderPlaced, from = 1)]
fn dollars_to_cents(old: JsonValue) -> JsonValue {
    old
}

fn main() {}
