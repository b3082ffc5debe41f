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

#[event_handler(part_of = Order)]
impl OrderEvents {
    #[handle(OrderPlaced)]
    fn on_order_placed(&self, _event: &OrderPlaced, _ctx: &mut Context, _extra: u32) {}
}

fn main() {}
