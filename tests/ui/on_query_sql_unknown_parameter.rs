use domain_core::prelude::*;

#[aggregate]
pub struct AnEntity {
    pub count: i64,
}

#[response]
pub struct JustGotIt {
    pub id: Identifier,
    pub count: i64,
}

#[query(result = JustGotIt)]
pub struct JustGetIt {
    pub id: Identifier,
}

#[aggregate(event_sourced)]
pub struct Library {
    pub shelves: u32,
}

#[entity_handler]
impl Library {
    #[on_query(sql = "SELECT id, count FROM an_entity WHERE id = %entity_id")]
    fn just_get_it(query: JustGetIt) -> JustGotIt;
}

fn main() {}
