use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[derive(Default)]
pub struct OrderEvents;

#[event_handler(part_of = Order)]
impl OrderEvents {
    #[handle]
    fn on_something(&self, _event: &EventEnvelope) {}
}

fn main() {}
