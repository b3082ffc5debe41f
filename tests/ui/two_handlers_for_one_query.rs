use domain_core::prelude::*;

#[response]
pub struct JustGotIt {
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

#[aggregate(event_sourced)]
pub struct Archive {
    pub boxes: u32,
}

#[entity_handler]
impl Library {
    #[on_query(sql = "SELECT count FROM an_entity WHERE id = %id")]
    fn just_get_it(query: JustGetIt) -> JustGotIt;
}

#[entity_handler]
impl Archive {
    #[on_query(sql = "SELECT count FROM another WHERE id = %id")]
    fn just_get_it_too(query: JustGetIt) -> JustGotIt;
}

fn main() {}
