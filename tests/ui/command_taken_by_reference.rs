use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[command(part_of = Order)]
pub struct PlaceOrder {
    pub customer: String,
}

#[derive(Default)]
pub struct OrderCommands;

#[command_handler(part_of = Order)]
impl OrderCommands {
    #[handle(PlaceOrder)]
    fn place(&self, _command: &PlaceOrder) {}
}

fn main() {}
