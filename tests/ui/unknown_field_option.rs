use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    #[field(maxlen = 200)]
    pub title: String,
}

fn main() {}
