use domain_core::prelude::*;

#[query]
pub struct JustGetIt {
    pub id: Identifier,
}

fn main() {
    // Still a query after the mistake.
    let _ = JustGetIt { id: Identifier::new() };
}
