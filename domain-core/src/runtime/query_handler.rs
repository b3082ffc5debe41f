//! Answering queries (RIDDL's `on query` clauses): the contract between `#[on_query]` and the
//! runtime, the read-only context a Rust handler gets, and running a SQL handler with its named
//! parameters bound from the query's fields.

use std::future::Future;

use crate::model::Aggregate;
use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::query::Filter;
use crate::model::query_message::{FromRows, QueryMessage, SqlPart};
use crate::runtime::context::{Query, Reader};

/// Links a query to its one handler. An `#[on_query]` clause implements it; a second handler for
/// the same query is a conflicting implementation, so "one handler per query" is checked by the
/// compiler. [`Domain::query`](crate::Domain::query) is typed by it.
///
/// ```
/// use domain_core::prelude::*;
/// use domain_core::HandledQuery;
///
/// #[aggregate]
/// pub struct Room { pub seats: i64 }
///
/// #[response]
/// pub struct Capacity { pub seats: i64 }
///
/// #[query(result = Capacity)]
/// pub struct CapacityOf { pub room: Identifier }
///
/// #[aggregate(event_sourced)]
/// pub struct Venue { pub rooms: u32 }
///
/// #[entity_handler]
/// impl Venue {
///     #[on_query]
///     async fn capacity(query: CapacityOf, ctx: QueryContext<'_>) -> Result<Capacity> {
///         let room = ctx.get::<Room>(&query.room).await?;
///         Ok(Capacity { seats: room.seats })
///     }
/// }
///
/// fn answered<Q: HandledQuery>() {}
/// answered::<CapacityOf>();
/// ```
#[diagnostic::on_unimplemented(
    message = "no handler answers the query `{Self}`",
    label = "`{Self}` has no `#[on_query]` clause",
    note = "add `#[on_query] async fn ..(query: {Self}, ctx: QueryContext<'_>) -> Result<..>`, or `#[on_query(sql = \"SELECT ..\")] fn ..(query: {Self}) -> ..;`, to an `#[entity_handler]` impl"
)]
pub trait HandledQuery: QueryMessage {
    /// Answers the query.
    fn handle(
        query: Self,
        ctx: QueryContext<'_>,
    ) -> impl Future<Output = Result<Self::Result>> + Send + '_;
}

/// What a Rust query handler reads with: aggregates by id, by filter and by query, from the
/// store (a query changes nothing, so there is no unit of work to stage into).
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Item { pub price: i64 }
///
/// #[response]
/// pub struct Cheapest { pub price: Option<i64> }
///
/// #[query(result = Cheapest)]
/// pub struct CheapestItem {}
///
/// #[aggregate(event_sourced)]
/// pub struct Shop { pub open: bool }
///
/// #[entity_handler]
/// impl Shop {
///     #[on_query]
///     async fn cheapest(_query: CheapestItem, ctx: QueryContext<'_>) -> Result<Cheapest> {
///         let items = ctx.query::<Item>().order_by(Item::PRICE.asc()).limit(1).all().await?;
///         Ok(Cheapest { price: items.items.first().map(|item| item.price) })
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// for price in [30, 10, 20] {
///     domain.repository::<Item>().add(Item::builder().price(price).build()?).await?;
/// }
/// assert_eq!(domain.query(CheapestItem {}).await?.price, Some(10));
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy)]
pub struct QueryContext<'d> {
    pub(crate) reader: Reader<'d>,
}

impl<'d> QueryContext<'d> {
    /// The `A` with identity `id`: [`Error::NotFound`](crate::Error::NotFound) if there is none.
    pub async fn get<A: Aggregate>(&self, id: &Identifier) -> Result<A> {
        self.reader.get(id).await
    }

    /// The one `A` matching `filter` (see [`Repository::find_by`](crate::Repository::find_by)).
    pub async fn find_by<A: Aggregate>(&self, filter: Filter<A>) -> Result<A> {
        self.reader.find_by(filter).await
    }

    /// A query over every `A` (see [`Query`]).
    pub fn query<A: Aggregate>(&self) -> Query<'d, A> {
        Query::new(self.reader)
    }
}

/// Runs a SQL query handler: `sql` as split at compile time, each named parameter bound from
/// the query's field of that name (as JSON: text, number, boolean or null), never spliced into
/// the text; the selected rows become the query's result.
#[doc(hidden)]
pub async fn run_sql_query<Q: QueryMessage>(
    query: Q,
    ctx: QueryContext<'_>,
    sql: &'static [SqlPart],
) -> Result<Q::Result>
where
    Q::Result: FromRows,
{
    let fields = serde_json::to_value(&query)
        .map_err(|e| Error::Store(format!("serializing query `{}`: {e}", Q::NAME)))?;
    let rows = ctx
        .reader
        .inner
        .store
        .sql_query(Q::NAME, sql, &fields)
        .await?;
    Q::Result::from_rows(Q::NAME, rows)
}
