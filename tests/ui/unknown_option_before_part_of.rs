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

// The unknown key comes first: `part_of` after it must still be read (no "needs `part_of`").
#[event_handler(category = "order", part_of = Order)]
impl OrderEvents {
    #[handle(OrderPlaced)]
    fn on_order_placed(&self, _event: &OrderPlaced) {}
}

fn main() {}
