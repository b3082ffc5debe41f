use domain_core::prelude::*;

#[aggregate(event_sourced)]
pub struct Account {
    pub balance: i64,
}

#[event(part_of = Account)]
pub struct Deposited {
    pub amount: i64,
}

#[aggregate(event_sourced)]
pub struct Ledger {
    pub lines: i64,
}

#[event(part_of = Ledger)]
pub struct LineAdded {
    pub amount: i64,
}

#[apply_events]
impl Ledger {
    #[apply]
    fn line_added(&mut self, _event: &LineAdded) {
        self.lines += 1;
    }
}

#[command(part_of = Account)]
pub struct Deposit {
    #[identifier]
    pub account: Identifier,
    pub amount: i64,
}

#[entity_handler]
impl Account {
    // RIDDL: `on command Deposit yields LineAdded`, an event of another entity.
    #[on_command]
    fn deposit(&self, command: Deposit) -> LineAdded {
        LineAdded { amount: command.amount }
    }

    #[apply]
    fn deposited(&mut self, event: &Deposited) {
        self.balance += event.amount;
    }
}

fn main() {}
