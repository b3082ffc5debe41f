use domain_core::prelude::*;

#[aggregate]
pub struct Note {
    // An `Option<String>` may already be absent: `allow_blank` is for required text.
    #[field(allow_blank)]
    pub body: Option<String>,
}

fn main() {}
