use domain_core::prelude::*;

#[handler_states]
pub enum Phase {
    Open,
    Closed { reason: String },
}

fn main() {
    // The enum is still usable after the mistake.
    assert_eq!(Phase::default(), Phase::Open);
}
