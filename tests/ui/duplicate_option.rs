use domain_core::prelude::*;

#[aggregate(stream_category = "order", stream_category = "orders")]
pub struct Order {
    pub customer: String,
}

fn main() {}
