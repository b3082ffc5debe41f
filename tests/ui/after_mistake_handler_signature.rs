// A handler method with a wrong signature is one error: the command still has its handler type
// and output, so the caller below compiles as written.
use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[command(part_of = Order)]
pub struct PlaceOrder {
    pub customer: String,
}

#[derive(Default)]
pub struct OrderCommands;

#[command_handler(part_of = Order)]
impl OrderCommands {
    #[handle(PlaceOrder)]
    fn place(&self, command: &PlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let order = Order::builder().customer(command.customer.clone()).build()?;
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
