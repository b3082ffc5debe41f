use domain_core::prelude::*;

#[aggregate]
pub struct Thing {
    pub what: String,
}

#[event(part_of = Thing)]
pub struct ThingThatHappened {
    pub example: Identifier,
}

#[command(part_of = Thing)]
pub struct Rename {
    #[identifier]
    pub thing: Identifier,
}

#[derive(Default)]
pub struct Things;

#[command_handler(part_of = Thing)]
impl Things {
    #[handle(Rename)]
    fn rename(&self, _command: Rename, _ctx: &mut Context) -> Result<()> {
        Ok(())
    }
}

#[aggregate(event_sourced)]
pub struct Example {
    pub heard: u32,
}

#[event(part_of = Example)]
pub struct Heard {}

#[entity_handler]
impl Example {
    // A reaction converts a foreign event into a command of its own entity, not another's.
    #[react(instance = example)]
    fn thing_happened(&self, event: &ThingThatHappened) -> Process<Rename> {
        Process(Rename {
            thing: event.example.clone(),
        })
    }

    #[apply]
    fn on_heard(&mut self, _event: &Heard) {
        self.heard += 1;
    }
}

fn main() {}
