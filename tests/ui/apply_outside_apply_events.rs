use domain_core::prelude::*;

#[aggregate(event_sourced)]
pub struct Account {
    pub balance: i64,
}

#[event(part_of = Account)]
pub struct Deposited {
    pub amount: i64,
}

impl Account {
    #[apply]
    fn deposited(&mut self, event: &Deposited) {
        self.balance += event.amount;
    }
}

fn main() {}
