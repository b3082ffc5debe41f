use domain_core::prelude::*;

#[aggregate(snapshot_every = 100)]
pub struct Account {
    pub balance: i64,
}

fn main() {
    let _ = Account::builder().balance(1).build();
}
