use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    pub title: String,
}

#[event(part_of = Book)]
pub struct BookAdded {
    pub title: String,
}

#[command(part_of = Book)]
pub struct AddBook {
    pub title: String,
}

#[derive(Default)]
pub struct Books;

#[command_handler(part_of = Book)]
impl Books {
    #[handle(AddBook)]
    fn add(&self, _command: AddBook) {}
}

#[event_handler(part_of = Book)]
impl Books {
    #[handle(BookAdded)]
    fn added(&self, _event: &BookAdded) {}
}

fn main() {}
