use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event(part_of = Order, version = 2)]
pub struct OrderPlaced {
    pub total_cents: i64,
}

#[upcaster(OrderPlaced, from = 1)]
fn v1(old: JsonValue) -> JsonValue {
    old
}

#[upcaster(OrderPlaced, from = 2)]
fn v2(old: JsonValue) -> JsonValue {
    old
}

fn main() {}
