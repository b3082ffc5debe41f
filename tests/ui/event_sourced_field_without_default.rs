use domain_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Currency(pub String);

#[aggregate(event_sourced)]
pub struct Account {
    pub balance: i64,
    pub currency: Currency,
}

fn main() {}
