use domain_core::prelude::*;

#[aggregate]
pub struct Book(pub String);

fn main() {}
