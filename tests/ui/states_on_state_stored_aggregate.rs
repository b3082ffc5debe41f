use domain_core::prelude::*;

#[handler_states]
pub enum Phase {
    Open,
    Closed,
}

#[aggregate(states = Phase)]
pub struct Ticket {
    pub notes: u32,
}

fn main() {}
