use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[aggregate]
pub struct Inventory {
    pub quantity: i64,
}

#[event(part_of = Order)]
pub struct OrderShipped {
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct InventoryEvents;

// Listens to the "inventory" category by default; `OrderShipped` is in "order".
#[event_handler(part_of = Inventory)]
impl InventoryEvents {
    #[handle(OrderShipped)]
    fn on_order_shipped(&self, _event: &OrderShipped) {}
}

fn main() {}
