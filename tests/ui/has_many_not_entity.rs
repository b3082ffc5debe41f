use domain_core::prelude::*;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Line {
    pub quantity: i64,
}

#[aggregate]
pub struct Order {
    #[has_many]
    pub lines: Vec<Line>,
}

fn main() {}
