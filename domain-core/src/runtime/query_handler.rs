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
