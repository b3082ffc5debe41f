use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[derive(Default)]
pub struct OrderCommands;

#[command_handler(part_of = Order)]
impl OrderCommands {
    #[handle($any)]
    fn anything(&self, _envelope: &EventEnvelope) {}
}

fn main() {}
