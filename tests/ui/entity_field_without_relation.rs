use domain_core::prelude::*;

#[aggregate]
pub struct Loan {
    pub member: String,
    // Stored, but the events these entities raise would be dropped: needs `#[has_many]`.
    pub history: Vec<LoanHistory>,
    pub current: Option<LoanHistory>,
}

#[entity(part_of = Loan)]
pub struct LoanHistory {
    pub note: String,
}

fn main() {
    // Used after the mistake: one error per field, no cascade here.
    let _ = Loan::builder().member("ann").build();
}
