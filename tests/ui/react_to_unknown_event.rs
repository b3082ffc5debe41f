use domain_core::prelude::*;

pub mod path {
    pub mod to {
        pub mod context {
            use domain_core::prelude::*;

            #[aggregate]
            pub struct Thing {
                pub what: String,
            }

            #[event(part_of = Thing)]
            pub struct ThingThatHappened {
                pub what_happened: String,
            }
        }
    }
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
    // RIDDL: `on event Path.To.Context.ThingThatHappend yields ExternalThingHappened` (a typo).
    #[react]
    fn thing_happened(&self, event: &path::to::context::ThingThatHappend) -> ExternalThingHappened {
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
