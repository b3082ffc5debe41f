//! The tutorial's order, event-sourced: its state is the fold of its events, changed only by
//! `#[apply]` methods, loaded by replaying its stream from the latest snapshot; an event whose
//! schema changed is read through upcasters.
//!
//! `cargo run --example orders` (in memory), or on a database:
//! `cargo run --example orders -- --database sqlite://orders.db`,
//! `DOMAIN_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run --example orders`.

use domain_core::prelude::*;
use examples::{check, database_flag};

#[aggregate(event_sourced, snapshot_every = 3)]
pub struct Order {
    pub customer: String,
    pub lines: Vec<String>,
    pub total_cents: i64,
    pub status: String,
}

#[event(part_of = Order)]
pub struct OrderPlaced {
    pub customer: String,
}

/// Version 1 stored the price in dollars as `price`; version 2 stores `price_cents`.
#[event(part_of = Order, version = 2)]
pub struct ItemAdded {
    pub title: String,
    pub price_cents: i64,
}

#[upcaster(ItemAdded, from = 1)]
fn dollars_to_cents(mut old: JsonValue) -> JsonValue {
    let dollars = old["price"].as_f64().unwrap_or_default();
    old["price_cents"] = ((dollars * 100.0).round() as i64).into();
    old
}

#[event(part_of = Order)]
pub struct OrderShipped {}

#[apply_events]
impl Order {
    #[apply]
    fn placed(&mut self, event: &OrderPlaced) {
        self.customer = event.customer.clone();
        self.status = "PLACED".into();
    }

    #[apply]
    fn item_added(&mut self, event: &ItemAdded) {
        self.lines.push(event.title.clone());
        self.total_cents += event.price_cents;
    }

    #[apply]
    fn shipped(&mut self, _event: &OrderShipped) {
        self.status = "SHIPPED".into();
    }
}

#[command(part_of = Order)]
pub struct PlaceOrder {
    pub customer: String,
}

#[command(part_of = Order)]
pub struct AddItem {
    #[identifier]
    pub order_id: Identifier,
    pub title: String,
    pub price_cents: i64,
}

#[command(part_of = Order)]
pub struct ShipOrder {
    #[identifier]
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct OrderCommands;

#[command_handler(part_of = Order)]
impl OrderCommands {
    #[handle(PlaceOrder)]
    fn place(&self, command: PlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let mut order = Order::new();
        order.raise(OrderPlaced {
            customer: command.customer,
        });
        let id = order.id();
        ctx.repository::<Order>().add(order)?;
        Ok(id)
    }

    #[handle(AddItem)]
    async fn add_item(&self, command: AddItem, ctx: &mut Context) -> Result<()> {
        let mut order = ctx.repository::<Order>().get(&command.order_id).await?;
        // Decide on the state, then record the fact: the apply method cannot refuse.
        if order.status() != "PLACED" {
            return Err(Error::rule("items can be added to a placed order only"));
        }
        order.raise(ItemAdded {
            title: command.title,
            price_cents: command.price_cents,
        });
        ctx.repository::<Order>().add(order)
    }

    #[handle(ShipOrder)]
    async fn ship(&self, command: ShipOrder, ctx: &mut Context) -> Result<()> {
        let mut order = ctx.repository::<Order>().get(&command.order_id).await?;
        if order.lines().is_empty() {
            return Err(Error::rule("an empty order cannot ship"));
        }
        order.raise(OrderShipped {});
        ctx.repository::<Order>().add(order)
    }
}

async fn run() -> Result<()> {
    let mut builder = Domain::builder("Shop");
    if let Some(url) = database_flag("orders")? {
        builder = builder.database(url);
    }
    let domain = builder.open().await?;

    let order_id = domain
        .process(PlaceOrder {
            customer: "Ada".into(),
        })
        .await?;
    println!("Placed order {order_id} for Ada");
    for (title, price_cents) in [("Dune", 1299), ("Emma", 899), ("Ulysses", 1550)] {
        domain
            .process(AddItem {
                order_id: order_id.clone(),
                title: title.into(),
                price_cents,
            })
            .await?;
        println!("  added {title} ({price_cents} cents)");
    }
    domain
        .process(ShipOrder {
            order_id: order_id.clone(),
        })
        .await?;

    // Loading replays the stream (from the snapshot taken when it passed 3 events).
    let order = domain.repository::<Order>().get(&order_id).await?;
    println!(
        "Loaded by replay: {} order of {} for {}, {} cents, version {}",
        order.status(),
        order.lines().join(", "),
        order.customer(),
        order.total_cents(),
        order.version()
    );
    check(order.status() == "SHIPPED", "the order shipped")?;
    check(
        *order.total_cents() == 3748,
        "the total is the fold of the items",
    )?;
    check(order.version() == 5, "five commits")?;

    let refused = domain
        .process(AddItem {
            order_id: order_id.clone(),
            title: "Late".into(),
            price_cents: 100,
        })
        .await;
    println!(
        "Adding to a shipped order: {}",
        refused
            .as_ref()
            .map_or_else(ToString::to_string, |_| "accepted".into())
    );
    check(refused.is_err(), "a shipped order takes no items")?;

    // An `ItemAdded` stored by version 1 of the code is read through its upcaster.
    let old = domain.event_store().decode(
        "Shop.ItemAdded.v1",
        r#"{"title": "Old stock", "price": 4.5}"#,
    )?;
    let old = old.downcast_ref::<ItemAdded>().expect("an ItemAdded");
    println!(
        "A version-1 ItemAdded reads as: {} at {} cents",
        old.title, old.price_cents
    );
    check(
        old.price_cents == 450,
        "the upcaster turned dollars into cents",
    )?;
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
