use domain_core::prelude::*;

#[aggregate]
pub struct Book<T> {
    pub title: String,
    pub extra: T,
}

fn main() {}
