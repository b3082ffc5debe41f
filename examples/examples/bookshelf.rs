//! The bookshelf of Protean's tutorial, chapter 6 ("Events and Reactions"), ported.
//!
//! Adding a book raises `BookAdded`; an event handler reacts by stocking inventory. Orders go
//! through commands; their events notify. Every operation flows through `domain.process()`, and
//! the handlers run after each commit. Exits non-zero if any check fails.
//!
//! Run it: `cargo run --example bookshelf` (in memory), or on a database with
//! `cargo run --example bookshelf -- --database sqlite://bookshelf.db` or
//! `DOMAIN_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run --example bookshelf`.

use domain_core::prelude::*;
use examples::{check, database_flag};

#[value_object]
pub struct Money {
    #[field(max_length = 3, default = "USD")]
    pub currency: String,
    pub amount: f64,
}

#[aggregate]
pub struct Book {
    #[field(max_length = 200)]
    pub title: String,
    #[field(max_length = 150)]
    pub author: String,
    #[field(max_length = 13)]
    pub isbn: Option<String>,
    pub price: Option<Money>,
    pub description: Option<String>,
}

impl Book {
    /// Raises a `BookAdded` event to notify the rest of the system.
    pub fn add_to_catalog(&mut self) {
        self.raise(BookAdded {
            book_id: self.id(),
            title: self.title.clone(),
            author: self.author.clone(),
            price_amount: Some(self.price.as_ref().map_or(0.0, |p| *p.amount())),
        });
    }
}

#[event(part_of = Book)]
pub struct BookAdded {
    pub book_id: Identifier,
    #[field(max_length = 200)]
    pub title: String,
    #[field(max_length = 150)]
    pub author: String,
    pub price_amount: Option<f64>,
}

#[aggregate]
pub struct Order {
    #[field(max_length = 150)]
    pub customer_name: String,
    #[field(max_length = 20, choices = ["PENDING", "CONFIRMED", "SHIPPED"], default = "PENDING")]
    pub status: String,
    #[has_many]
    pub items: Vec<OrderItem>,
}

impl Order {
    pub fn confirm(&mut self) {
        self.status = "CONFIRMED".into();
        self.raise(OrderConfirmed {
            order_id: self.id(),
            customer_name: self.customer_name.clone(),
        });
    }

    pub fn ship(&mut self) {
        self.status = "SHIPPED".into();
        self.raise(OrderShipped {
            order_id: self.id(),
            customer_name: self.customer_name.clone(),
        });
    }
}

#[entity(part_of = Order)]
pub struct OrderItem {
    #[field(max_length = 200)]
    pub book_title: String,
    #[field(min = 1)]
    pub quantity: i64,
    pub unit_price: Option<Money>,
}

#[event(part_of = Order)]
pub struct OrderConfirmed {
    pub order_id: Identifier,
    #[field(max_length = 150)]
    pub customer_name: String,
}

#[event(part_of = Order)]
pub struct OrderShipped {
    pub order_id: Identifier,
    #[field(max_length = 150)]
    pub customer_name: String,
}

#[aggregate]
pub struct Inventory {
    pub book_id: Identifier,
    #[field(max_length = 200)]
    pub title: String,
    #[field(default = 0)]
    pub quantity: i64,
}

impl Inventory {
    pub fn adjust_stock(&mut self, amount: i64) {
        self.quantity += amount;
    }
}

#[derive(Default)]
pub struct BookEventHandler;

#[event_handler(part_of = Book)]
impl BookEventHandler {
    /// When a book is added to the catalog, create an inventory record.
    #[handle(BookAdded)]
    fn on_book_added(&self, event: &BookAdded, ctx: &mut Context) -> Result<()> {
        let inventory = Inventory::builder()
            .book_id(event.book_id.clone())
            .title(event.title.clone())
            .quantity(10) // start with 10 copies
            .build()?;
        ctx.repository::<Inventory>().add(inventory)?;
        println!("  [Inventory] Stocked 10 copies of '{}'", event.title);
        Ok(())
    }
}

#[derive(Default)]
pub struct OrderEventHandler;

#[event_handler(part_of = Order)]
impl OrderEventHandler {
    #[handle(OrderConfirmed)]
    fn on_order_confirmed(&self, event: &OrderConfirmed) {
        println!(
            "  [Notification] Order {} confirmed for {}",
            event.order_id, event.customer_name
        );
    }

    #[handle(OrderShipped)]
    fn on_order_shipped(&self, event: &OrderShipped) {
        println!(
            "  [Notification] Order {} shipped to {}",
            event.order_id, event.customer_name
        );
    }
}

#[command(part_of = Book)]
pub struct AddBook {
    #[field(max_length = 200)]
    pub title: String,
    #[field(max_length = 150)]
    pub author: String,
    #[field(max_length = 13)]
    pub isbn: Option<String>,
    pub price_amount: f64,
    pub description: Option<String>,
}

#[command(part_of = Order)]
pub struct PlaceOrder {
    #[field(max_length = 150)]
    pub customer_name: String,
    #[field(max_length = 200)]
    pub book_title: String,
    pub quantity: i64,
    pub unit_price_amount: f64,
}

#[command(part_of = Order)]
pub struct ConfirmOrder {
    #[identifier]
    pub order_id: Identifier,
}

#[command(part_of = Order)]
pub struct ShipOrder {
    #[identifier]
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct BookCommandHandler;

#[command_handler(part_of = Book)]
impl BookCommandHandler {
    #[handle(AddBook)]
    fn add_book(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
        let mut book = Book::builder()
            .title(command.title)
            .author(command.author)
            .isbn(command.isbn)
            .price(Money::builder().amount(command.price_amount).build()?)
            .description(command.description)
            .build()?;
        book.add_to_catalog();
        let id = book.id();
        ctx.repository::<Book>().add(book)?;
        Ok(id)
    }
}

#[derive(Default)]
pub struct OrderCommandHandler;

#[command_handler(part_of = Order)]
impl OrderCommandHandler {
    #[handle(PlaceOrder)]
    fn place_order(&self, command: PlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let item = OrderItem::builder()
            .book_title(command.book_title)
            .quantity(command.quantity)
            .unit_price(Money::builder().amount(command.unit_price_amount).build()?)
            .build()?;
        let order = Order::builder()
            .customer_name(command.customer_name)
            .items(vec![item])
            .build()?;
        let id = order.id();
        ctx.repository::<Order>().add(order)?;
        Ok(id)
    }

    #[handle(ConfirmOrder)]
    async fn confirm_order(&self, command: ConfirmOrder, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<Order>();
        let mut order = repo.get(&command.order_id).await?;
        order.confirm();
        repo.add(order)
    }

    #[handle(ShipOrder)]
    async fn ship_order(&self, command: ShipOrder, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<Order>();
        let mut order = repo.get(&command.order_id).await?;
        order.ship();
        repo.add(order)
    }
}

async fn run() -> Result<()> {
    let mut builder = Domain::builder("Bookshelf");
    if let Some(url) = database_flag("bookshelf")? {
        builder = builder.database(url);
    }
    let domain = builder.open().await?;
    // With DOMAIN_EVENT_PROCESSING=async, `process` returns after each command's own commit and
    // this engine delivers the events in the background (in sync mode it has nothing to do).
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn({
        let engine = domain.engine();
        async move {
            engine
                .run_until(async {
                    stopped.await.ok();
                })
                .await
        }
    });
    // On a database kept from an earlier run, the checks below look only at this run's records.
    let events_before = domain.event_store().last_position().await?;

    // Add a book — BookAdded event triggers inventory creation
    println!("Adding book to catalog...");
    let book_id: Identifier = domain
        .process(AddBook {
            title: "The Great Gatsby".into(),
            author: "F. Scott Fitzgerald".into(),
            isbn: Some("9780743273565".into()),
            price_amount: 12.99,
            description: None,
        })
        .await?;
    // Async mode: deliver what the engine has not yet (in sync mode, already delivered).
    domain.settle().await?;

    // Verify inventory was created by the event handler
    let inventories = domain
        .repository::<Inventory>()
        .query()
        .filter(Inventory::BOOK_ID.eq(book_id))
        .all()
        .await?;
    check(inventories.total == 1, "one inventory record")?;
    let inv = &inventories.items[0];
    check(inv.quantity == 10, "ten copies stocked")?;
    println!("  Inventory: {}, qty={}", inv.title, inv.quantity);

    // Place an order — through the command pipeline
    println!("\nPlacing an order...");
    let order_id = domain
        .process(PlaceOrder {
            customer_name: "Alice Johnson".into(),
            book_title: "The Great Gatsby".into(),
            quantity: 2,
            unit_price_amount: 12.99,
        })
        .await?;

    // Confirm the order — triggers OrderConfirmed event
    println!("Confirming order...");
    domain
        .process(ConfirmOrder {
            order_id: order_id.clone(),
        })
        .await?;

    // Ship the order — triggers OrderShipped event
    println!("Shipping order...");
    domain
        .process(ShipOrder {
            order_id: order_id.clone(),
        })
        .await?;

    // Verify final state
    let order = domain.repository::<Order>().get(&order_id).await?;
    check(order.status == "SHIPPED", "order status is SHIPPED")?;
    check(order.items.len() == 1, "order has one item")?;
    let events = domain.event_store().last_position().await? - events_before;
    check(
        events == 3,
        "three events: BookAdded, OrderConfirmed, OrderShipped",
    )?;

    // Graceful stop: the engine finishes its delivery and records its checkpoints.
    domain.settle().await?;
    stop.send(()).ok();
    engine
        .await
        .map_err(|e| Error::rule(format!("the engine task failed: {e}")))??;
    // And the handlers `process` delivered to: their lazily kept progress, recorded.
    domain.record_progress().await?;
    println!("\nAll checks passed!");
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
