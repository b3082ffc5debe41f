use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

pub struct NotAnEvent {
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct OrderEvents;

#[event_handler(part_of = Order)]
impl OrderEvents {
    #[handle(NotAnEvent)]
    fn on_not_an_event(&self, _event: &NotAnEvent) {}
}

fn main() {}
