//! The peer: the bookshelf flow written in cqrs-es 0.5, built only with `--features peer`.
//!
//! cqrs-es is event-sourced, so the flow maps onto it like this: `AddBook` is a `BookCommand`
//! executed by a `CqrsFramework<Book, _>`; the aggregate validates it and writes `BookAdded`
//! (which carries the book's fields, because in cqrs-es an aggregate's state is its events);
//! the framework commits it to the store and hands the committed envelope to its queries; the
//! `Stocking` query reacts by executing `CreateInventory` on a second framework for inventories.
//! That is the same work as our event handler: a second aggregate created from the event.
//!
//! In memory, two stores are measured. `MemStore` is cqrs-es's own in-memory store, as shipped: it prints a
//! line to stdout on every load and commit, so the runner runs it in a child process whose stdout
//! is `/dev/null` (the cheapest place those lines can go). `QuietStore` is the same code with the
//! printing removed, to show how much of the gap is the logging and how much is the framework.
//!
//! On PostgreSQL ([`PostgresPeer`]), the same aggregates and query run on postgres-es 0.5, the
//! PostgreSQL event repository made for cqrs-es 0.5, as an event store (`postgres_cqrs`): a
//! command loads its aggregate's events (none, for a new book), then commits its event in a
//! transaction; the query's `CreateInventory` does the same for the inventory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use cqrs_es::Query;
use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::{MemStore, MemStoreAggregateContext};
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, DomainEvent, EventEnvelope, EventStore};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::measure::Samples;

#[derive(Default, Serialize, Deserialize)]
pub struct Book {
    title: String,
    author: String,
    price: f64,
}

pub enum BookCommand {
    AddBook {
        book_id: String,
        title: String,
        author: String,
        price: f64,
    },
    Reprice {
        price: f64,
    },
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum BookEvent {
    BookAdded {
        book_id: String,
        title: String,
        author: String,
        price: f64,
    },
    BookRepriced {
        price: f64,
    },
}

impl DomainEvent for BookEvent {
    fn event_type(&self) -> String {
        match self {
            BookEvent::BookAdded { .. } => "BookAdded".into(),
            BookEvent::BookRepriced { .. } => "BookRepriced".into(),
        }
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

/// The validation failure: the same length limits as the framework's `#[field(max_length)]`.
#[derive(Debug)]
pub struct Invalid(&'static str);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Invalid {}

impl Aggregate for Book {
    const TYPE: &'static str = "book";
    type Command = BookCommand;
    type Event = BookEvent;
    type Error = Invalid;
    type Services = ();

    async fn handle(
        &mut self,
        command: BookCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Invalid> {
        let (book_id, title, author, price) = match command {
            BookCommand::AddBook {
                book_id,
                title,
                author,
                price,
            } => (book_id, title, author, price),
            BookCommand::Reprice { price } => {
                sink.write(BookEvent::BookRepriced { price }, self).await;
                return Ok(());
            }
        };
        if title.chars().count() > 200 {
            return Err(Invalid("title longer than 200"));
        }
        if author.chars().count() > 150 {
            return Err(Invalid("author longer than 150"));
        }
        let event = BookEvent::BookAdded {
            book_id,
            title,
            author,
            price,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: BookEvent) {
        match event {
            BookEvent::BookAdded {
                title,
                author,
                price,
                ..
            } => {
                *self = Book {
                    title,
                    author,
                    price,
                }
            }
            BookEvent::BookRepriced { price } => self.price = price,
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct Inventory {
    book_id: String,
    title: String,
    quantity: i64,
}

pub enum InventoryCommand {
    CreateInventory {
        book_id: String,
        title: String,
        quantity: i64,
    },
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum InventoryEvent {
    InventoryCreated {
        book_id: String,
        title: String,
        quantity: i64,
    },
}

impl DomainEvent for InventoryEvent {
    fn event_type(&self) -> String {
        "InventoryCreated".into()
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

impl Aggregate for Inventory {
    const TYPE: &'static str = "inventory";
    type Command = InventoryCommand;
    type Event = InventoryEvent;
    type Error = Invalid;
    type Services = ();

    async fn handle(
        &mut self,
        command: InventoryCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Invalid> {
        let InventoryCommand::CreateInventory {
            book_id,
            title,
            quantity,
        } = command;
        if title.chars().count() > 200 {
            return Err(Invalid("title longer than 200"));
        }
        let event = InventoryEvent::InventoryCreated {
            book_id,
            title,
            quantity,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: InventoryEvent) {
        let InventoryEvent::InventoryCreated {
            book_id,
            title,
            quantity,
        } = event;
        *self = Inventory {
            book_id,
            title,
            quantity,
        };
    }
}

/// The event handler: on `BookAdded`, create the book's inventory through the second framework.
struct Stocking<S: EventStore<Inventory>> {
    inventories: CqrsFramework<Inventory, S>,
    created: Arc<AtomicUsize>,
}

#[async_trait]
impl<S: EventStore<Inventory>> Query<Book> for Stocking<S>
where
    S::AC: Send,
{
    async fn dispatch(&self, _: &str, events: &[EventEnvelope<Book>]) {
        for envelope in events {
            let BookEvent::BookAdded { book_id, title, .. } = &envelope.payload else {
                continue;
            };
            let command = InventoryCommand::CreateInventory {
                book_id: book_id.clone(),
                title: title.clone(),
                quantity: 10,
            };
            // cqrs-es queries cannot return an error; a failed reaction would be lost, so the
            // benchmark panics instead of reporting a throughput for work that was not done.
            self.inventories
                .execute(&Uuid::new_v4().to_string(), command)
                .await
                .expect("the inventory is created");
            self.created.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// cqrs-es's `MemStore` without its `println!`s: the same map, the same clone-and-reinsert commit.
pub struct QuietStore<A: Aggregate> {
    events: Arc<RwLock<HashMap<String, Vec<EventEnvelope<A>>>>>,
}

impl<A: Aggregate> Default for QuietStore<A> {
    fn default() -> Self {
        QuietStore {
            events: Arc::default(),
        }
    }
}

impl<A: Aggregate> EventStore<A> for QuietStore<A> {
    type AC = MemStoreAggregateContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let events = self.events.read().expect("not poisoned");
        Ok(events.get(aggregate_id).cloned().unwrap_or_default())
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<MemStoreAggregateContext<A>, AggregateError<A::Error>> {
        let mut aggregate = A::default();
        let mut current_sequence = 0;
        for envelope in self.load_events(aggregate_id).await? {
            current_sequence = envelope.sequence;
            aggregate.apply(envelope.payload);
        }
        Ok(MemStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            current_sequence,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: MemStoreAggregateContext<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let mut sequence = context.current_sequence;
        let wrapped: Vec<EventEnvelope<A>> = events
            .into_iter()
            .map(|payload| {
                sequence += 1;
                EventEnvelope {
                    aggregate_id: context.aggregate_id.clone(),
                    sequence,
                    payload,
                    metadata: metadata.clone(),
                }
            })
            .collect();
        if wrapped.is_empty() {
            return Ok(wrapped);
        }
        let mut stored = self.load_events(&context.aggregate_id).await?;
        stored.extend(wrapped.iter().cloned());
        self.events
            .write()
            .expect("not poisoned")
            .insert(context.aggregate_id, stored);
        Ok(wrapped)
    }
}

/// Which store the peer runs on.
#[derive(Clone, Copy)]
pub enum Store {
    /// cqrs-es's own `MemStore`, printing its lines.
    MemStore,
    /// `MemStore` minus the printing.
    Quiet,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::MemStore => "memstore",
            Store::Quiet => "quiet",
        }
    }

    pub fn parse(name: &str) -> Option<Store> {
        [Store::MemStore, Store::Quiet]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// Which flow the peer runs.
#[derive(Clone, Copy)]
pub enum Flow {
    /// `n` AddBook commands, each creating a book and, by reaction, its inventory.
    NewBooks,
    /// One AddBook, then `n` Reprice commands to that same book.
    HotBook,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::NewBooks => "new",
            Flow::HotBook => "hot",
        }
    }

    pub fn parse(name: &str) -> Option<Flow> {
        [Flow::NewBooks, Flow::HotBook]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// Runs `flow` with `n` timed commands through cqrs-es on `store`.
pub async fn run(store: Store, flow: Flow, n: usize) -> Samples {
    match store {
        Store::MemStore => run_on(MemStore::default(), MemStore::default(), flow, n).await,
        Store::Quiet => run_on(QuietStore::default(), QuietStore::default(), flow, n).await,
    }
}

async fn run_on<B: EventStore<Book>, I: EventStore<Inventory> + 'static>(
    books: B,
    inventories: I,
    flow: Flow,
    n: usize,
) -> Samples
where
    I::AC: Send,
{
    let created = Arc::new(AtomicUsize::new(0));
    let stocking = Stocking {
        inventories: CqrsFramework::new(inventories, vec![], ()),
        created: created.clone(),
    };
    let framework = CqrsFramework::new(books, vec![Box::new(stocking)], ());
    match flow {
        Flow::NewBooks => new_books(&framework, &created, n).await,
        Flow::HotBook => hot_book(&framework, n).await,
    }
}

/// The `i`th book's `AddBook`, with the identity cqrs-es executes it on (the caller picks it).
fn add_book(i: usize) -> (String, BookCommand) {
    let book_id = Uuid::new_v4().to_string();
    let command = BookCommand::AddBook {
        book_id: book_id.clone(),
        title: format!("Book {i}"),
        author: "A. Author".into(),
        price: 12.5,
    };
    (book_id, command)
}

async fn new_books<B: EventStore<Book>>(
    framework: &CqrsFramework<Book, B>,
    created: &AtomicUsize,
    n: usize,
) -> Samples {
    let mut samples = Samples::with_capacity(n);
    for i in 0..n {
        samples
            .time_async(|| async {
                let (book_id, command) = add_book(i);
                framework.execute(&book_id, command).await
            })
            .await
            .expect("the command succeeds");
    }
    assert_eq!(
        created.load(Ordering::Relaxed),
        n,
        "every command created an inventory"
    );
    samples
}

async fn hot_book<B: EventStore<Book>>(framework: &CqrsFramework<Book, B>, n: usize) -> Samples {
    let book_id = Uuid::new_v4().to_string();
    let add = BookCommand::AddBook {
        book_id: book_id.clone(),
        title: "Hot".into(),
        author: "A. Author".into(),
        price: 10.0,
    };
    framework.execute(&book_id, add).await.expect("added");
    let mut samples = Samples::with_capacity(n);
    for i in 0..n {
        let price = 10.0 + i as f64;
        samples
            .time_async(|| framework.execute(&book_id, BookCommand::Reprice { price }))
            .await
            .expect("the command succeeds");
    }
    samples
}

/// The tables postgres-es expects, from its repository's `db/init.sql` (the `test_view` table and
/// the test rows there are its own tests'); created in the schema the connection's `search_path`
/// names.
const POSTGRES_ES_TABLES: [&str; 2] = [
    "CREATE TABLE events
    (
        aggregate_type text                         NOT NULL,
        aggregate_id   text                         NOT NULL,
        sequence       bigint CHECK (sequence >= 0) NOT NULL,
        event_type     text                         NOT NULL,
        event_version  text                         NOT NULL,
        payload        json                         NOT NULL,
        metadata       json                         NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, sequence)
    )",
    "CREATE TABLE snapshots
    (
        aggregate_type   text                                 NOT NULL,
        aggregate_id     text                                 NOT NULL,
        last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
        current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
        payload          json                                 NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
    )",
];

/// The bookshelf flow in cqrs-es 0.5 on PostgreSQL, through postgres-es 0.5 (and its sqlx 0.8).
pub struct PostgresPeer {
    books: postgres_es::PostgresCqrs<Book>,
    created: Arc<AtomicUsize>,
}

impl PostgresPeer {
    /// Creates postgres-es's tables in the (empty) schema `url`'s `search_path` names, and both
    /// frameworks on one pool of `connections`.
    pub async fn connect(url: &str, connections: u32) -> PostgresPeer {
        let pool = sqlx08::postgres::PgPoolOptions::new()
            .max_connections(connections)
            .connect(url)
            .await
            .expect("the peer's pool connects");
        for ddl in POSTGRES_ES_TABLES {
            sqlx08::query(ddl)
                .execute(&pool)
                .await
                .expect("postgres-es's tables");
        }
        let created = Arc::new(AtomicUsize::new(0));
        let stocking = Stocking {
            inventories: postgres_es::postgres_cqrs(pool.clone(), vec![], ()),
            created: created.clone(),
        };
        let books = postgres_es::postgres_cqrs(pool, vec![Box::new(stocking)], ());
        PostgresPeer { books, created }
    }

    /// One `AddBook`: its event commits, then the query creates the book's inventory.
    pub async fn add_book(&self, i: usize) {
        let (book_id, command) = add_book(i);
        self.books
            .execute(&book_id, command)
            .await
            .expect("the command succeeds");
    }

    /// How many inventories the query has created.
    pub fn inventories_created(&self) -> usize {
        self.created.load(Ordering::Relaxed)
    }
}
