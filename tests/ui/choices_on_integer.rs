use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    #[field(choices = ["A", "B"])]
    pub quantity: i64,
}

fn main() {}
