use domain_core::prelude::*;

#[aggregate(event_sourced)]
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

#[apply_events]
impl Ticket {
    #[on_command]
    fn note(&self, _command: Note) -> Noted {
        Noted {}
    }

    #[apply]
    fn noted(&mut self, _event: &Noted) {
        self.notes += 1;
    }
}

fn main() {}
