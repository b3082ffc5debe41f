use domain_core::prelude::*;

#[aggregate(event_sourced)]
pub struct Ticket {
    pub is_closed: bool,
}

#[event(part_of = Ticket)]
pub struct TicketClosed {}

#[entity_handler]
impl Ticket {
    #[apply(become = Closed)]
    fn closed(&mut self, _event: &TicketClosed) {
        self.is_closed = true;
    }
}

fn main() {}
