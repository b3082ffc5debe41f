use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    pub title: String,
}

#[event(part_of = Book)]
pub struct BookAdded {
    pub title: String,
}

#[event(part_of = Book)]
pub struct BookRemoved {
    pub title: String,
}

#[derive(Default)]
pub struct Catalog;

#[event_handler(part_of = Book)]
impl Catalog {
    #[handle(BookAdded)]
    fn added(&self, _event: &BookAdded) {}
}

#[event_handler(part_of = Book)]
impl Catalog {
    #[handle(BookRemoved)]
    fn removed(&self, _event: &BookRemoved) {}
}

fn main() {}
