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

#[response]
pub struct SomethingElse {
    pub count: i64,
}

#[query(result = JustGotIt)]
pub struct JustGetIt {
    pub id: Identifier,
}

#[query(result = JustGotIt)]
pub struct JustCountIt {
    pub id: Identifier,
}

#[aggregate(event_sourced)]
pub struct Library {
    pub shelves: u32,
}

#[entity_handler]
impl Library {
    #[on_query(sql = "SELECT count FROM an_entity WHERE id = %id")]
    fn just_get_it(query: JustGetIt) -> SomethingElse;

    #[on_query]
    async fn just_count_it(query: JustCountIt, ctx: QueryContext<'_>) -> Result<SomethingElse> {
        let entity = ctx.get::<AnEntity>(&query.id).await?;
        Ok(SomethingElse { count: entity.count })
    }
}

fn main() {}
