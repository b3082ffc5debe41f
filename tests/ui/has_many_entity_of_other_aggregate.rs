use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    pub title: String,
}

#[entity(part_of = Book)]
pub struct Chapter {
    pub title: String,
}

#[aggregate]
pub struct Order {
    #[has_many]
    pub chapters: Vec<Chapter>,
}

fn main() {}
