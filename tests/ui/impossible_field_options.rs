use domain_core::prelude::*;

#[aggregate]
pub struct Loan {
    // No value could ever pass: `max` below `min`.
    #[field(min = 10, max = 3)]
    pub days: i64,
    // Every loan built without a status would fail validation.
    #[field(choices = ["OPEN", "RETURNED"], default = "LENT")]
    pub status: String,
    #[field(min = -0.5, max = -1.5)]
    pub fee: f64,
}

fn main() {}
