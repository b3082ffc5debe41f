use domain_core::prelude::*;

#[aggregate]
pub struct Order {
    pub customer: String,
}

#[aggregate]
pub struct Book {
    pub title: String,
}

#[event(part_of = Book)]
pub struct BookAdded {
    pub book_id: Identifier,
}

impl Order {
    pub fn place(&mut self) {
        self.raise(BookAdded { book_id: self.id() });
    }
}

fn main() {}
