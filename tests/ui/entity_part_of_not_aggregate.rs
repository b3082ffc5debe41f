use domain_core::prelude::*;

pub struct Order {
    pub customer: String,
}

#[entity(part_of = Order)]
pub struct OrderItem {
    pub quantity: i64,
}

fn main() {}
