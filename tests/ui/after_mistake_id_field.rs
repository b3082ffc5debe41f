// A field named `id` without `#[identifier]` is one error: it is taken as the identity, so the
// struct does not get a second `id` and its uses compile.
use domain_core::prelude::*;

#[aggregate]
pub struct Account {
    pub id: String,
    pub owner: String,
}

fn open() -> Account {
    let account = Account::builder().id("acc-1").owner("Ada").build().unwrap();
    let _ = account.id();
    account
}

fn main() {
    let _ = open;
}
