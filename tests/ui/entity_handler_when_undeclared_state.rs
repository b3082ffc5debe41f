use domain_core::prelude::*;

#[handler_states]
pub enum Phase {
    Open,
    Closed,
}

#[aggregate(event_sourced, states = Phase)]
pub struct Ticket {
    pub notes: u32,
}

#[event(part_of = Ticket)]
pub struct Noted {}

#[command(part_of = Ticket)]
pub struct Note {
    #[identifier]
    pub ticket: Identifier,
}

#[entity_handler]
impl Ticket {
    #[on_command(when = [Open, Reopened])]
    fn note(&self, _command: Note) -> Noted {
        Noted {}
    }

    #[apply]
    fn noted(&mut self, _event: &Noted) {
        self.notes += 1;
    }
}

fn main() {}
