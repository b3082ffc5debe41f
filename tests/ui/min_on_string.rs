use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    #[field(min = 1)]
    pub customer: String,
}

fn main() {}
