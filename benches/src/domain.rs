//! The bookshelf flow written with the framework.

use std::sync::atomic::{AtomicUsize, Ordering};

use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    #[field(max_length = 200)]
    pub title: String,
    #[field(max_length = 150)]
    pub author: String,
    pub price: f64,
}

#[event(part_of = Book)]
pub struct BookAdded {
    pub book_id: Identifier,
    #[field(max_length = 200)]
    pub title: String,
}

/// A change to an existing book: the `inmem-hot` scenario sends every one to the same book.
#[command(part_of = Book)]
pub struct Reprice {
    #[identifier]
    pub book_id: Identifier,
    pub price: f64,
}

#[event(part_of = Book)]
pub struct BookRepriced {
    pub book_id: Identifier,
    pub price: f64,
}

#[aggregate]
pub struct Inventory {
    pub book_id: Identifier,
    #[field(max_length = 200)]
    pub title: String,
    pub quantity: i64,
}

#[command(part_of = Book)]
pub struct AddBook {
    #[field(max_length = 200)]
    pub title: String,
    #[field(max_length = 150)]
    pub author: String,
    pub price: f64,
}

/// `count` books in one command, so one commit: how the engine scenarios fill a backlog of
/// 100,000 `BookAdded` events in seconds (each book raises its event, as `AddBook`'s does).
#[command(part_of = Book)]
pub struct AddBooks {
    pub first: u64,
    pub count: u64,
}

#[derive(Default)]
pub struct BookCommands;

#[command_handler(part_of = Book)]
impl BookCommands {
    #[handle(AddBook)]
    fn add_book(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
        let mut book = Book::builder()
            .title(command.title)
            .author(command.author)
            .price(command.price)
            .build()?;
        book.raise(BookAdded {
            book_id: book.id(),
            title: book.title.clone(),
        });
        let id = book.id();
        ctx.repository::<Book>().add(book)?;
        Ok(id)
    }

    #[handle(AddBooks)]
    fn add_books(&self, command: AddBooks, ctx: &mut Context) -> Result<()> {
        for i in command.first..command.first + command.count {
            let AddBook {
                title,
                author,
                price,
            } = add_book(i as usize);
            let mut book = Book::builder()
                .title(title)
                .author(author)
                .price(price)
                .build()?;
            book.raise(BookAdded {
                book_id: book.id(),
                title: book.title.clone(),
            });
            ctx.repository::<Book>().add(book)?;
        }
        Ok(())
    }

    #[handle(Reprice)]
    async fn reprice(&self, command: Reprice, ctx: &mut Context) -> Result<()> {
        let repository = ctx.repository::<Book>();
        let mut book = repository.get(&command.book_id).await?;
        book.price = command.price;
        book.raise(BookRepriced {
            book_id: book.id(),
            price: command.price,
        });
        repository.add(book)
    }
}

/// Set by the latency scenario: the reaction then records when it ran (one relaxed load
/// otherwise, in every scenario).
pub static REACTIONS_TIMED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// (book title, when its reaction ran), while `REACTIONS_TIMED` is set.
pub static REACTED: std::sync::Mutex<Vec<(String, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

/// Deliveries of `BookAdded` to `Stocking` so far, in this process, and the count at which
/// `STOCKED_GOAL_REACHED` is notified: the engine scenarios end the engine's last turn by it.
pub static STOCKED: AtomicUsize = AtomicUsize::new(0);
pub static STOCKED_GOAL: AtomicUsize = AtomicUsize::new(usize::MAX);
pub static STOCKED_GOAL_REACHED: tokio::sync::Notify = tokio::sync::Notify::const_new();

#[derive(Default)]
pub struct Stocking;

#[event_handler(part_of = Inventory, stream_category = "book")]
impl Stocking {
    #[handle(BookAdded)]
    fn on_book_added(&self, event: &BookAdded, ctx: &mut Context) -> Result<()> {
        let inventory = Inventory::builder()
            .book_id(event.book_id.clone())
            .title(event.title.clone())
            .quantity(10)
            .build()?;
        if REACTIONS_TIMED.load(std::sync::atomic::Ordering::Relaxed) {
            let now = std::time::Instant::now();
            REACTED.lock().unwrap().push((event.title.clone(), now));
        }
        if STOCKED.fetch_add(1, Ordering::Relaxed) + 1 == STOCKED_GOAL.load(Ordering::Relaxed) {
            STOCKED_GOAL_REACHED.notify_one();
        }
        ctx.repository::<Inventory>().add(inventory)
    }
}

pub fn new_domain() -> Domain {
    Domain::builder("Bench")
        .build()
        .expect("the benchmark domain is consistent")
}

pub fn add_book(i: usize) -> AddBook {
    AddBook {
        title: format!("Book {i}"),
        author: "A. Author".into(),
        price: 12.5,
    }
}

pub async fn raise_and_add(domain: &Domain, i: usize) {
    let mut book = Book::builder()
        .title(format!("Book {i}"))
        .author("A. Author")
        .price(12.5)
        .build()
        .expect("valid");
    book.raise(BookAdded {
        book_id: book.id(),
        title: book.title.clone(),
    });
    domain
        .repository::<Book>()
        .add(book)
        .await
        .expect("commit succeeds");
}

pub async fn inventory_count(domain: &Domain) -> usize {
    domain
        .repository::<Inventory>()
        .query()
        .count()
        .await
        .expect("query succeeds")
}

/// `n` books, `batch` to a command, the commands one after another: a backlog of `n`
/// `BookAdded` events (for a domain in async mode, with no engine running).
pub async fn fill_backlog(domain: &Domain, n: usize, batch: usize) {
    for first in (0..n).step_by(batch) {
        let count = batch.min(n - first);
        domain
            .process(AddBooks {
                first: first as u64,
                count: count as u64,
            })
            .await
            .expect("the fill commits");
    }
}

pub fn reprice(book_id: &Identifier, i: usize) -> Reprice {
    Reprice {
        book_id: book_id.clone(),
        price: 10.0 + i as f64,
    }
}
