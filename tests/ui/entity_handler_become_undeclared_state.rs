use domain_core::prelude::*;

#[handler_states]
pub enum Phase {
    Open,
    Closed,
}

#[aggregate(event_sourced, states = Phase)]
pub struct Ticket {
    pub is_closed: bool,
}

#[event(part_of = Ticket)]
pub struct TicketClosed {}

#[entity_handler]
impl Ticket {
    #[apply(become = Archived)]
    fn closed(&mut self, _event: &TicketClosed) {
        self.is_closed = true;
    }
}

fn main() {}
