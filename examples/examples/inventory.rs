//! Protean's event-handler page, ported: shipping an order reduces the stock of its book.
//!
//! `ManageInventory` is part of `Inventory` but listens to the `order` stream category. It
//! finds the inventory by `book_id` with a typed filter, decrements it, and stages it back; the
//! change commits in the handler's own unit of work. Exits non-zero if the stock is not 90.
//!
//! Run it: `cargo run --example inventory`

use domain_core::prelude::*;

#[event(part_of = Order)]
pub struct OrderShipped {
    pub order_id: Identifier,
    pub book_id: Identifier,
    pub quantity: i64,
    pub total_amount: i64,
}

#[aggregate]
pub struct Order {
    pub book_id: Identifier,
    pub quantity: i64,
    pub total_amount: i64,
    #[field(choices = ["PENDING", "SHIPPED", "DELIVERED"], default = "PENDING")]
    pub status: String,
}

impl Order {
    pub fn ship_order(&mut self) {
        self.status = "SHIPPED".into();
        self.raise(OrderShipped {
            order_id: self.id(),
            book_id: self.book_id.clone(),
            quantity: self.quantity,
            total_amount: self.total_amount,
        });
    }
}

#[aggregate]
pub struct Inventory {
    pub book_id: Identifier,
    pub in_stock: i64,
}

#[derive(Default)]
pub struct ManageInventory;

#[event_handler(part_of = Inventory, stream_category = "order")]
impl ManageInventory {
    #[handle(OrderShipped)]
    async fn reduce_stock_level(&self, event: &OrderShipped, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<Inventory>();
        let mut inventory = repo
            .find_by(Inventory::BOOK_ID.eq(event.book_id.clone()))
            .await?;
        inventory.in_stock -= event.quantity;
        repo.add(inventory)
    }
}

async fn run() -> Result<()> {
    let domain = Domain::builder("Shop").build()?;

    // Persist Order
    let mut order = Order::builder()
        .book_id(1)
        .quantity(10)
        .total_amount(100)
        .build()?;
    domain.repository::<Order>().add(order.clone()).await?;
    order = domain.repository::<Order>().get(&order.id()).await?;

    // Persist Inventory
    let inventory = Inventory::builder().book_id(1).in_stock(100).build()?;
    let inventory_id = inventory.id();
    domain.repository::<Inventory>().add(inventory).await?;

    // Ship Order
    order.ship_order();
    domain.repository::<Order>().add(order).await?;

    // Verify that Inventory Level has been reduced
    let stock = domain.repository::<Inventory>().get(&inventory_id).await?;
    let as_map = serde_json::to_string_pretty(&stock).map_err(Error::other)?;
    println!("{as_map}");
    if stock.in_stock != 90 {
        return Err(Error::rule(format!(
            "expected in_stock 90, found {}",
            stock.in_stock
        )));
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
