use domain_core::prelude::*;

#[aggregate(event_sourced)]
pub struct Account {
    pub balance: i64,
}

#[event(part_of = Account)]
pub struct Deposited {
    pub amount: i64,
}

#[aggregate]
pub struct Ledger {
    pub lines: i64,
}

#[event(part_of = Ledger)]
pub struct LineAdded {
    pub amount: i64,
}

#[apply_events]
impl Account {
    #[apply]
    fn deposited(&mut self, event: &Deposited) {
        self.balance += event.amount;
    }

    #[apply]
    fn line_added(&mut self, event: &LineAdded) {
        self.balance += event.amount;
    }
}

fn main() {}
