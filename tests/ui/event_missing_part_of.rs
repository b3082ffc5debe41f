use domain_core::prelude::*;

#[event]
pub struct OrderPlaced {
    pub order_id: Identifier,
}

fn main() {}
