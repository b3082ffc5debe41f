use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    #[field(max_length = 3)]
    pub quantity: i64,
}

fn main() {}
