use domain_core::prelude::*;

#[aggregate]
pub struct Book {
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
    async fn add(&self, _command: AddBook) -> String {
        String::new()
    }
}

fn main() {}
