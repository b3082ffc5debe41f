//! RIDDL's queries, typed: a query message (`#[query(result = R)]`; RIDDL: `type JustGetIt =
//! query { .. }`) names the response it is answered with (`#[response]`; RIDDL: `type JustGotIt
//! = response { .. }`), and the one handler that answers it (an `#[on_query]` clause) is found by
//! the compiler. SQL handlers' rows become responses through [`FromRows`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::error::{Error, Result};
use crate::model::validation::Validate;

/// A question asked of the domain, answered by its handler with a [`QueryMessage::Result`].
/// Implemented by `#[query(result = R)]`.
///
/// ```
/// use domain_core::prelude::*;
/// use domain_core::QueryMessage;
///
/// #[response]
/// pub struct Balance { pub cents: i64 }
///
/// #[query(result = Balance)]
/// pub struct GetBalance { pub account: Identifier }
///
/// assert_eq!(<GetBalance as QueryMessage>::NAME, "GetBalance");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a query",
    label = "expected a struct annotated with `#[query(result = ..)]`",
    note = "annotate `{Self}` with `#[query(result = TheResponse)]`"
)]
pub trait QueryMessage: Validate + Serialize + Send + Sync + 'static {
    /// What the query is answered with: a response, or an `Option` or `Vec` of them.
    type Result: Send + 'static;
    /// The type's name.
    const NAME: &'static str;
}

/// The message a query is answered with. Implemented by `#[response]`.
///
/// ```
/// use domain_core::prelude::*;
/// use domain_core::Response;
///
/// #[response]
/// pub struct Headcount { pub people: i64 }
///
/// assert_eq!(<Headcount as Response>::NAME, "Headcount");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a response",
    label = "expected a struct annotated with `#[response]`",
    note = "annotate `{Self}` with `#[response]`: a query handler's rows are decoded into it by column name"
)]
pub trait Response: DeserializeOwned + Send + 'static {
    /// The type's name.
    const NAME: &'static str;
    /// Its `bool` fields: SQLite has no boolean values (a view reads `true` as 1), so a 0 or 1
    /// selected into one of these is read as `false` or `true`.
    #[doc(hidden)]
    const __BOOL_FIELDS: &'static [&'static str] = &[];
}

/// How the rows a SQL query handler selects become its query's result: exactly one row for a
/// response `R`, at most one for `Option<R>` (another count is [`Error::QueryRows`]), every row
/// for `Vec<R>`. Each row is a JSON object of its columns by name,
/// decoded into `R` with serde.
///
/// ```
/// use domain_core::prelude::*;
/// use domain_core::FromRows;
///
/// #[response]
/// pub struct Seat { pub row: i64, pub taken: bool }
///
/// let rows = vec![serde_json::json!({"row": 3, "taken": 1})];   // SQLite's `true` is 1
/// let seats = <Vec<Seat>>::from_rows("FreeSeats", rows)?;
/// assert_eq!(seats, [Seat { row: 3, taken: true }]);
/// assert!(<Option<Seat>>::from_rows("FreeSeats", vec![])?.is_none());
/// assert!(<Seat>::from_rows("FreeSeats", vec![]).is_err());   // exactly one row, or an error
/// # Ok::<(), domain_core::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "a SQL query handler cannot return `{Self}`",
    label = "the result of a query answered by SQL is a `#[response]`, or an `Option` or `Vec` of one",
    note = "declare the result type with `#[response]`: its fields are read from the selected columns of the same names"
)]
pub trait FromRows: Sized {
    /// The result of a query that selected `rows`.
    fn from_rows(query: &'static str, rows: Vec<serde_json::Value>) -> Result<Self>;
}

impl<R: Response> FromRows for R {
    fn from_rows(query: &'static str, rows: Vec<serde_json::Value>) -> Result<Self> {
        match <Option<R>>::from_rows(query, rows)? {
            Some(response) => Ok(response),
            None => Err(Error::QueryRows {
                query,
                expected: "exactly one",
                found: 0,
            }),
        }
    }
}

impl<R: Response> FromRows for Option<R> {
    fn from_rows(query: &'static str, rows: Vec<serde_json::Value>) -> Result<Self> {
        if rows.len() > 1 {
            return Err(Error::QueryRows {
                query,
                expected: "at most one",
                found: rows.len(),
            });
        }
        rows.into_iter()
            .next()
            .map(|row| decode_row(query, row))
            .transpose()
    }
}

impl<R: Response> FromRows for Vec<R> {
    fn from_rows(query: &'static str, rows: Vec<serde_json::Value>) -> Result<Self> {
        rows.into_iter().map(|row| decode_row(query, row)).collect()
    }
}

fn decode_row<R: Response>(query: &'static str, mut row: serde_json::Value) -> Result<R> {
    for field in R::__BOOL_FIELDS {
        if let Some(value) = row.get_mut(*field)
            && let Some(number) = value.as_i64()
        {
            *value = serde_json::Value::Bool(number != 0);
        }
    }
    serde_json::from_value(row).map_err(|e| {
        Error::Store(format!(
            "a row of query `{query}` does not decode as `{}`: {e} (the response's fields are read from the selected columns of the same names)",
            R::NAME
        ))
    })
}

/// A piece of a SQL query handler's text, split at compile time: fixed SQL, or a named parameter
/// (`%name`) that is bound from the query's field of that name, never spliced into the text.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlPart {
    /// SQL text as written.
    Text(&'static str),
    /// A bound parameter: the query's field `name`.
    Param(&'static str),
}

/// How an aggregate is readable by SQL query handlers: a view named after it (snake_case) with
/// an `id` and a `version` column and one column per field. Generated by `#[aggregate]` for a
/// state-stored aggregate, and for an event-sourced one whose row holds its current state
/// (`snapshot_every = 1`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct SqlView {
    /// The view's name: the aggregate's name in snake_case.
    pub name: &'static str,
    /// The field columns.
    pub columns: &'static [ViewColumn],
    /// Where the fields are in the row's document: at the top (`None`), or under a key (an
    /// event-sourced aggregate's snapshot holds them under `state`).
    pub state_key: Option<&'static str>,
}

/// One field column of a [`SqlView`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ViewColumn {
    /// The field's name (its JSON key).
    pub name: &'static str,
    /// The SQL type the column is read as.
    pub kind: ColumnKind,
}

/// The SQL type of a view column, from the field's Rust type.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Integers: `BIGINT`.
    Int,
    /// Floats: `DOUBLE PRECISION`.
    Float,
    /// `bool`: `BOOLEAN` (SQLite: 0 or 1).
    Bool,
    /// Text and identifiers: `TEXT`.
    Text,
    /// Anything else (value objects, lists, enums): its JSON.
    Json,
}
