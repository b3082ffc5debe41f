use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event(part_of = Order)]
pub struct OrderPlaced {
    pub order_id: Identifier,
}

#[event(part_of = Order)]
pub struct OrderShipped {
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct OrderEvents;

#[event_handler(part_of = Order)]
impl OrderEvents {
    #[handle(OrderPlaced)]
    fn on_order_placed(&mut self, _event: &OrderPlaced) {}

    #[handle(OrderShipped)]
    fn on_order_shipped(self, _event: &OrderShipped) {}
}

fn main() {}
