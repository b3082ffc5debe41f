//! The same work as the framework scenarios, hand-written with no framework: structs, hash maps,
//! a vector of events with the same metadata, direct calls. This is what "2x the baseline" means:
//! the framework's cost over code a careful engineer would write by hand for this one flow.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use uuid::Uuid;

#[derive(serde::Serialize)]
pub struct AddBook {
    title: String,
    author: String,
    price: f64,
}

impl AddBook {
    pub fn new(i: usize) -> Self {
        AddBook {
            title: format!("Book {i}"),
            author: "A. Author".into(),
            price: 12.5,
        }
    }
}

#[derive(Clone)]
#[allow(dead_code)] // held for parity with the framework's stored state
pub struct Book {
    id: Uuid,
    title: String,
    author: String,
    price: f64,
    version: u64,
}

#[derive(Clone)]
#[allow(dead_code)]
pub struct Inventory {
    id: Uuid,
    book_id: Uuid,
    title: String,
    quantity: i64,
    version: u64,
}

#[allow(dead_code)]
pub struct BookAdded {
    book_id: Uuid,
    title: String,
}

#[allow(dead_code)]
pub struct StoredEvent {
    id: Uuid,
    payload: Arc<BookAdded>,
    stream: Arc<str>,
    stream_position: u64,
    global_position: u64,
    timestamp: SystemTime,
    correlation_id: Uuid,
    causation_id: Uuid,
}

/// A processed command, as the framework's in-memory command log keeps one: its id, its JSON,
/// its stream, its time and its place in the log.
#[allow(dead_code)]
pub struct CommandRecord {
    id: Uuid,
    stream: Arc<str>,
    payload: Box<str>,
    timestamp: SystemTime,
    position: u64,
}

#[derive(Default)]
pub struct Store {
    pub books: HashMap<Uuid, Book>,
    pub inventories: HashMap<Uuid, Inventory>,
    pub events: Vec<StoredEvent>,
    pub streams: HashMap<Arc<str>, Vec<usize>>,
    /// Every command, when `log_commands` is set (the framework logs every command: the
    /// second baseline measures what that costs by hand).
    pub commands: Vec<CommandRecord>,
    pub log_commands: bool,
}

impl Store {
    /// Validate, create the book, record its event, then react by creating the inventory.
    pub fn add_book(&mut self, command: AddBook) -> Result<Uuid, String> {
        if command.title.chars().count() > 200 || command.author.chars().count() > 150 {
            return Err("invalid".into());
        }
        let command_id = Uuid::new_v4();
        if self.log_commands {
            let payload = serde_json::to_string(&command).map_err(|e| e.to_string())?;
            self.commands.push(CommandRecord {
                id: command_id,
                stream: format!("book:command-{command_id}").into(),
                payload: payload.into_boxed_str(),
                timestamp: SystemTime::now(),
                position: self.commands.len() as u64 + 1,
            });
        }
        let book = Book {
            id: Uuid::new_v4(),
            title: command.title,
            author: command.author,
            price: command.price,
            version: 0,
        };
        let id = book.id;
        let event = BookAdded {
            book_id: id,
            title: book.title.clone(),
        };
        self.save_book(book, event, command_id);
        Ok(id)
    }

    /// The same without a command: build, raise, save, react.
    pub fn raise_and_add(&mut self, i: usize) -> Result<Uuid, String> {
        let book = Book {
            id: Uuid::new_v4(),
            title: format!("Book {i}"),
            author: "A. Author".into(),
            price: 12.5,
            version: 0,
        };
        if book.title.chars().count() > 200 {
            return Err("invalid".into());
        }
        let id = book.id;
        let event = BookAdded {
            book_id: id,
            title: book.title.clone(),
        };
        self.save_book(book, event, Uuid::new_v4());
        Ok(id)
    }

    fn save_book(&mut self, mut book: Book, event: BookAdded, cause: Uuid) {
        book.version += 1;
        let stream: Arc<str> = format!("book-{}", book.id).into();
        self.books.insert(book.id, book);
        let index = self.events.len();
        let positions = self.streams.entry(stream.clone()).or_default();
        positions.push(index);
        let stored = StoredEvent {
            id: Uuid::new_v4(),
            payload: Arc::new(event),
            stream,
            stream_position: positions.len() as u64,
            global_position: index as u64 + 1,
            timestamp: SystemTime::now(),
            correlation_id: cause,
            causation_id: cause,
        };
        let payload = stored.payload.clone();
        self.events.push(stored);
        // The reaction, called directly.
        if payload.title.chars().count() <= 200 {
            let inventory = Inventory {
                id: Uuid::new_v4(),
                book_id: payload.book_id,
                title: payload.title.clone(),
                quantity: 10,
                version: 1,
            };
            self.inventories.insert(inventory.id, inventory);
        }
    }
}
