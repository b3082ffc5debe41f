//! The user's own derives on annotated structs: serde's (which the macros also need) and
//! comparisons (which must ignore the framework's hidden state).

use std::collections::HashSet;

use domain_core::prelude::*;

#[aggregate]
#[derive(PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DvShelf {
    pub label: String,
    #[has_many]
    pub slots: Vec<DvSlot>,
}

#[entity(part_of = DvShelf)]
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DvSlot {
    #[serde(rename = "pos")]
    pub position: i64,
}

#[value_object]
#[derive(serde::Serialize)]
pub struct DvSize {
    pub width: i64,
}

#[event(part_of = DvShelf)]
#[derive(PartialEq)]
pub struct DvShelfLabelled {
    pub label: String,
}

#[test]
fn user_derives_of_serde_and_comparisons_work_on_annotated_structs() {
    let id = Identifier::new();
    let slot = DvSlot::builder()
        .id(Identifier::from("s1"))
        .position(3)
        .build()
        .unwrap();
    let a = DvShelf::builder()
        .id(id.clone())
        .label("A")
        .slots(vec![slot.clone()])
        .build()
        .unwrap();
    let mut b = a.clone();
    // Pending events are hidden state: they do not make two equal shelves different.
    b.raise(DvShelfLabelled { label: "A".into() });
    assert_eq!(a, b);
    assert_eq!(HashSet::from([a.clone(), b]).len(), 1);
    let c = DvShelf::builder().id(id).label("C").build().unwrap();
    assert_ne!(a, c);

    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["slots"][0]["pos"], 3, "{json}");
    let back: DvShelf = serde_json::from_value(json).unwrap();
    assert_eq!(back, a);
    assert!(slot <= slot.clone());
    assert_eq!(
        serde_json::to_value(DvSize::builder().width(2).build().unwrap()).unwrap()["width"],
        2
    );
}
