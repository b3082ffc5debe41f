use domain_core::prelude::*;

#[aggregate]
pub struct Thing {
    pub what: String,
}

#[event(part_of = Thing)]
pub struct ThingThatHappened {
    pub what_happened: String,
    pub example: Identifier,
}

#[aggregate(event_sourced)]
pub struct Example {
    pub heard: Vec<String>,
}

#[event(part_of = Example)]
pub struct ExternalThingHappened {
    pub what_happened: String,
}

#[entity_handler]
impl Example {
    #[react(instance = example_id)]
    fn thing_happened(&self, event: &ThingThatHappened) -> ExternalThingHappened {
        ExternalThingHappened {
            what_happened: event.what_happened.clone(),
        }
    }

    #[apply]
    fn external(&mut self, event: &ExternalThingHappened) {
        self.heard.push(event.what_happened.clone());
    }
}

fn main() {}
