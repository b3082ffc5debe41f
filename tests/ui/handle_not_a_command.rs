use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

pub struct NotACommand {
    pub customer: String,
}

#[derive(Default)]
pub struct OrderCommands;

#[command_handler(part_of = Order)]
impl OrderCommands {
    #[handle(NotACommand)]
    fn place(&self, _command: NotACommand) {}
}

fn main() {}
