use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event(part_of = Order)]
pub struct OrderPlaced {
    pub order_id: Identifier,
}

pub struct Inventory {
    pub quantity: i64,
}

#[derive(Default)]
pub struct InventoryEvents;

#[event_handler(part_of = Inventory)]
impl InventoryEvents {
    #[handle(OrderPlaced)]
    fn on_order_placed(&self, _event: &OrderPlaced) {}
}

fn main() {}
