use domain_core::prelude::*;

#[aggregate(stream_category = "Order-Items")]
pub struct Order {
    pub customer: String,
}

fn main() {}
