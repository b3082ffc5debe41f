// A command without `part_of` is one error, not a second one at its handler or its caller.
use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[command]
pub struct PlaceOrder {
    pub customer: String,
}

#[derive(Default)]
pub struct OrderCommands;

#[command_handler(part_of = Order)]
impl OrderCommands {
    #[handle(PlaceOrder)]
    fn place(&self, command: PlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let order = Order::builder().customer(command.customer).build()?;
        let id = order.id();
        ctx.repository::<Order>().add(order)?;
        Ok(id)
    }
}

async fn use_it(domain: &Domain) -> Result<Identifier> {
    domain.process(PlaceOrder { customer: "Ada".into() }).await
}

fn main() {
    let _ = use_it;
}
