//! The child process of the crash harness (`tests/tests/crash.rs`).
//!
//! `crash_child <database-url> run` opens the domain (which delivers whatever the last run left
//! undelivered), prints `ready`, then processes commands from four concurrent tasks until it is
//! killed. Each `CrAddBook` commits a book and its `CrBookAdded` event; the event's handler
//! commits one `CrReceipt` per delivery, so a lost reaction is a book without a receipt and a
//! reaction applied twice is a book with two.
//!
//! `crash_child <database-url> check` opens the domain the same way, delivers what is left
//! (`settle`), then prints `books=<n> receipts=<n> lost=<n> doubled=<n> dead=<n>` and each dead
//! letter's error. `crash_child <database-url> poison` processes a book whose reaction aborts
//! the process.
//!
//! With `DOMAIN_EVENT_PROCESSING=async` the commands return after their own commit and an engine
//! task delivers the reactions in the background. With `CRASH_COMMANDS=submit` as well, the
//! tasks submit the commands (`domain.submit`) and the engine runs them too; `poison-command`
//! submits a command whose handler aborts the process.
//!
//! `check` also follows the command log: every logged `CrAddBook` must have made exactly one
//! book (`commands_lost`, `commands_doubled`), and failed submissions count as dead letters.

use std::collections::HashMap;

use domain_core::Uuid;
use domain_core::prelude::*;

#[aggregate]
pub struct CrBook {
    pub title: String,
}

#[event(part_of = CrBook)]
pub struct CrBookAdded {
    pub book: Identifier,
    pub title: String,
}

#[aggregate]
pub struct CrReceipt {
    pub book: Identifier,
}

#[command(part_of = CrBook)]
pub struct CrAddBook {
    pub title: String,
}

#[derive(Default)]
pub struct CrBooks;

#[command_handler(part_of = CrBook)]
impl CrBooks {
    #[handle(CrAddBook)]
    fn add(&self, command: CrAddBook, ctx: &mut Context) -> Result<()> {
        if command.title == "poison-command" {
            std::process::abort(); // the process dies in the command's handler
        }
        let mut book = CrBook::builder().title(command.title.clone()).build()?;
        book.raise(CrBookAdded {
            book: book.id(),
            title: command.title,
        });
        ctx.repository::<CrBook>().add(book)
    }
}

/// The reaction: a write to the store per delivery, deliberately not idempotent.
#[derive(Default)]
pub struct CrReceipts;

#[event_handler(part_of = CrReceipt, stream_category = "cr_book")]
impl CrReceipts {
    #[handle(CrBookAdded)]
    fn on_added(&self, event: &CrBookAdded, ctx: &mut Context) -> Result<()> {
        if event.title == "poison" {
            // What no `catch_unwind` can stop: the process dies while delivering this event.
            std::process::abort();
        }
        let receipt = CrReceipt::builder().book(event.book.clone()).build()?;
        ctx.repository::<CrReceipt>().add(receipt)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(mode)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: crash_child <database-url> run|check");
        std::process::exit(2);
    };
    let domain = Domain::builder("Crash")
        .database(url.as_str())
        .open()
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    match mode.as_str() {
        "run" => run(domain).await,
        "check" => check(domain).await,
        "poison" => {
            println!("ready");
            let poison = CrAddBook {
                title: "poison".into(),
            };
            let _ = domain.process(poison).await;
            domain.settle().await.unwrap(); // async mode: the engine's delivery, here
            unreachable!("the poison event's handler aborts the process");
        }
        "poison-command" => {
            println!("ready");
            let poison = CrAddBook {
                title: "poison-command".into(),
            };
            domain.submit(poison).await.unwrap();
            domain.settle().await.unwrap(); // runs it, here
            unreachable!("the poison command's handler aborts the process");
        }
        other => panic!("unknown mode `{other}`"),
    }
}

async fn run(domain: Domain) {
    // The engine delivers the async handlers (a domain in sync mode has none for it).
    let engine = domain.engine();
    tokio::spawn(async move { engine.run().await });
    println!("ready");
    let submit = std::env::var("CRASH_COMMANDS").is_ok_and(|c| c == "submit");
    let mut tasks = Vec::new();
    for task in 0..4 {
        let domain = domain.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0u64.. {
                // Unique across runs: a title made twice is a command run twice.
                let title = format!("{}-{task}-{n}", std::process::id());
                let command = CrAddBook { title };
                // A conflict or a store error is the caller's to see; keep going until killed.
                let outcome = if submit {
                    domain.submit(command).await.map(drop)
                } else {
                    domain.process(command).await
                };
                if let Err(error) = outcome {
                    eprintln!("command failed: {error}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

async fn check(domain: Domain) {
    domain.settle().await.unwrap();
    let books = domain
        .repository::<CrBook>()
        .query()
        .all()
        .await
        .unwrap()
        .items;
    let receipts = domain
        .repository::<CrReceipt>()
        .query()
        .all()
        .await
        .unwrap()
        .items;
    let mut per_book: HashMap<Identifier, usize> = HashMap::new();
    for receipt in &receipts {
        *per_book.entry(receipt.book.clone()).or_default() += 1;
    }
    let lost = books
        .iter()
        .filter(|b| !per_book.contains_key(&b.id()))
        .count();
    let doubled = per_book.values().filter(|&&n| n > 1).count();
    let dead = domain.failed_deliveries().await.unwrap();
    let failed_submissions = domain.failed_submissions().await.unwrap();
    let (commands_lost, commands_doubled) = commands_against_books(&domain, &books).await;
    println!(
        "books={} receipts={} lost={lost} doubled={doubled} dead={} commands_lost={commands_lost} \
         commands_doubled={commands_doubled}",
        books.len(),
        receipts.len(),
        dead.len() + failed_submissions.len()
    );
    for record in dead {
        println!("dead-letter: {}", record.error);
    }
    for submission in failed_submissions {
        println!(
            "failed-submission: {}",
            submission.last_error.unwrap_or_default()
        );
    }
}

/// Every `CrAddBook` in the command log (processed, or submitted and run by `settle`) against
/// the books: (logged commands that made no book, titles that made more than one). A failed
/// submission made no book and is not counted lost (it is reported as a dead letter).
async fn commands_against_books(domain: &Domain, books: &[CrBook]) -> (usize, usize) {
    let mut made: HashMap<&str, usize> = HashMap::new();
    for book in books {
        *made.entry(book.title.as_str()).or_default() += 1;
    }
    let failed: Vec<Uuid> = domain
        .failed_submissions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.command.metadata().id)
        .collect();
    let mut lost = 0;
    let mut after = 0;
    loop {
        let page = domain.command_log().read_all(after, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position();
        for record in &page {
            let title = record.payload()["title"].as_str().unwrap_or_default();
            if !made.contains_key(title) && !failed.contains(&record.metadata().id) {
                lost += 1;
            }
        }
    }
    (lost, made.values().filter(|&&n| n > 1).count())
}
