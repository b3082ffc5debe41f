use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    pub title: String,
    pub author: String,
    pub pages: u32,
}

fn main() {
    let _book = Book::builder().title("x").build();
}
