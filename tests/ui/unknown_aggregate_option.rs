use domain_core::prelude::*;

#[aggregate(stream = "order")]
pub struct Order {
    pub customer: String,
}

fn main() {}
