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

#[entity_handler]
impl Ticket {
    #[on_command]
    fn note(&self, _command: Note) -> Noted {
        Noted {}
    }

    #[on_command]
    fn note_again(&self, _command: Note) -> Noted {
        Noted {}
    }

    #[apply]
    fn noted(&mut self, _event: &Noted) {
        self.notes += 1;
    }
}

fn main() {}
