// A missing `part_of` is one error: the event is still an event that its aggregate can raise and
// a handler can receive.
use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[event]
pub struct OrderPlaced {
    pub customer: String,
}

#[derive(Default)]
pub struct Mailer;

#[event_handler(part_of = Order)]
impl Mailer {
    #[handle(OrderPlaced)]
    fn on_placed(&self, _event: &OrderPlaced) {}
}

fn place(order: &mut Order) {
    order.raise(OrderPlaced { customer: order.customer.clone() });
}

fn main() {
    let _ = place;
}
