use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event(part_of = Order)]
pub struct OrderPlaced {
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct OrderEvents;

#[event_handler]
impl OrderEvents {
    #[handle(OrderPlaced)]
    fn on_order_placed(&self, _event: &OrderPlaced) {}
}

fn main() {}
