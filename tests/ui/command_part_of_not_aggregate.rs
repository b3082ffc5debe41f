use domain_core::prelude::*;

pub struct Order {
    pub customer: String,
}

#[command(part_of = Order)]
pub struct PlaceOrder {
    pub customer: String,
}

fn main() {}
