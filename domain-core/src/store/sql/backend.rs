//! The database drivers behind one small interface: run a [`Statement`], read rows as
//! [`FromRow`] values, open a write transaction.
//!
//! Each operation is written once; `on_backend!` expands it for each enabled driver, so the code
//! is type-checked against the concrete sqlx types (no generic bounds, no boxed dispatch).

use sqlx::AssertSqlSafe;

use super::statement::{Dialect, Param, Statement};
use crate::model::error::{Error, Result};

/// A connection pool to one of the supported databases.
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// An open write transaction. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

macro_rules! on_backend {
    ($value:expr, $Type:ident, $inner:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $Type::Sqlite($inner) => $body,
            #[cfg(feature = "postgres")]
            $Type::Postgres($inner) => $body,
        }
    };
}

/// The statement as a sqlx query with its parameters bound.
macro_rules! bound {
    ($statement:expr) => {{
        let mut query = sqlx::query(AssertSqlSafe($statement.text.clone()));
        for param in &$statement.params {
            query = match param {
                Param::Text(text) => query.bind(text.clone()),
                Param::Int(int) => query.bind(*int),
                Param::Float(float) => query.bind(*float),
                Param::Null => query.bind(None::<String>),
            };
        }
        query
    }};
}

/// Maps a driver error, saying what was being done.
pub(crate) fn db_error(doing: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::Store(format!("{doing}: {e}"))
}

/// Puts what was being done in front of a store error raised while reading a statement's result
/// rows (a column of an unexpected type), so a write's `RETURNING` row is not reported as a read.
fn in_context(doing: &'static str) -> impl FnOnce(Error) -> Error {
    move |e| match e {
        Error::Store(message) => Error::Store(format!("{doing}: {message}")),
        other => other,
    }
}

/// Typed access to a result row's columns by position.
pub(crate) trait Cells {
    fn int(&self, column: usize) -> Result<i64>;
    fn text(&self, column: usize) -> Result<String>;
    /// A text column borrowed from the row, for a reader that decodes it at once.
    fn text_ref(&self, column: usize) -> Result<&str>;
    fn optional_text(&self, column: usize) -> Result<Option<String>>;
}

macro_rules! cells_for {
    ($row:ty) => {
        impl Cells for $row {
            fn int(&self, column: usize) -> Result<i64> {
                sqlx::Row::try_get(self, column).map_err(db_error("decoding an integer column"))
            }
            fn text(&self, column: usize) -> Result<String> {
                sqlx::Row::try_get(self, column).map_err(db_error("decoding a text column"))
            }
            fn text_ref(&self, column: usize) -> Result<&str> {
                sqlx::Row::try_get(self, column).map_err(db_error("decoding a text column"))
            }
            fn optional_text(&self, column: usize) -> Result<Option<String>> {
                sqlx::Row::try_get(self, column).map_err(db_error("decoding a text column"))
            }
        }
    };
}
#[cfg(feature = "sqlite")]
cells_for!(sqlx::sqlite::SqliteRow);
#[cfg(feature = "postgres")]
cells_for!(sqlx::postgres::PgRow);

/// A value read from one result row.
pub(crate) trait FromRow: Sized {
    fn from_row(row: &dyn Cells) -> Result<Self>;
}

impl FromRow for i64 {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        row.int(0)
    }
}

impl FromRow for (String, String) {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        Ok((row.text(0)?, row.text(1)?))
    }
}

impl FromRow for (String, i64) {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        Ok((row.text(0)?, row.int(1)?))
    }
}

impl Pool {
    /// Connects to `url` (checked by the caller to name SQLite or PostgreSQL).
    pub async fn connect(
        dialect: Dialect,
        url: &str,
        settings: &crate::store::StoreOptions,
    ) -> Result<Pool> {
        let unreachable =
            |e: sqlx::Error| Error::Store(format!("cannot open `{}`: {e}", redact(url)));
        match dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
                use std::str::FromStr;
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(unreachable)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(settings.timeout)
                    .foreign_keys(true);
                // Each connection to an in-memory database is a database of its own: keep
                // exactly one, forever.
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                let pool = if in_memory {
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                } else {
                    SqlitePoolOptions::new()
                        .max_connections(settings.max_connections.unwrap_or(8))
                        .acquire_timeout(settings.timeout)
                };
                Ok(Pool::Sqlite(
                    pool.connect_with(options).await.map_err(unreachable)?,
                ))
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                // The pool retries failed connections until its acquire timeout; probe once so an
                // unreachable server is reported now, not a timeout from now.
                use sqlx::Connection;
                sqlx::PgConnection::connect(url)
                    .await
                    .map_err(unreachable)?
                    .close()
                    .await
                    .map_err(unreachable)?;
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(settings.max_connections.unwrap_or(16))
                    .acquire_timeout(settings.timeout)
                    .connect(url)
                    .await
                    .map_err(unreachable)?;
                Ok(Pool::Postgres(pool))
            }
            #[allow(unreachable_patterns)] // one dialect's feature may be off
            _ => Err(Error::Store(format!(
                "this build cannot open `{}`",
                redact(url)
            ))),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a read outside any transaction (every caller only reads); errors say "reading".
    pub async fn fetch<T: FromRow>(&self, statement: &Statement) -> Result<Vec<T>> {
        on_backend!(self, Pool, pool => {
            let rows = bound!(statement)
                .fetch_all(pool)
                .await
                .map_err(db_error("reading"))?;
            rows.iter()
                .map(|row| T::from_row(row).map_err(in_context("reading")))
                .collect()
        })
    }

    /// Runs a read like [`Pool::fetch`], turning each row into a `T` with `read`, which sees
    /// the row's cells borrowed (no owned copy of a column it only decodes).
    pub async fn fetch_with<T>(
        &self,
        statement: &Statement,
        mut read: impl FnMut(&dyn Cells) -> Result<T>,
    ) -> Result<Vec<T>> {
        on_backend!(self, Pool, pool => {
            let rows = bound!(statement)
                .fetch_all(pool)
                .await
                .map_err(db_error("reading"))?;
            rows.iter()
                .map(|row| read(row).map_err(in_context("reading")))
                .collect()
        })
    }

    /// Runs a query handler's statement, each selected row as a JSON object of its columns by
    /// name. PostgreSQL turns each row into JSON itself (`row_to_json` over the statement), so
    /// every column type keeps its JSON form; SQLite's values are its own few types, read by the
    /// type of each value.
    pub async fn fetch_json_rows(&self, statement: &Statement) -> Result<Vec<serde_json::Value>> {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let rows = bound!(statement)
                    .fetch_all(pool)
                    .await
                    .map_err(db_error("running a query handler's SQL"))?;
                rows.iter().map(sqlite_row_json).collect()
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                let wrapped = Statement {
                    dialect: statement.dialect,
                    text: format!("SELECT row_to_json(q)::text FROM ({}) AS q", statement.text),
                    params: statement.params.clone(),
                };
                let rows = bound!(wrapped)
                    .fetch_all(pool)
                    .await
                    .map_err(db_error("running a query handler's SQL"))?;
                rows.iter()
                    .map(|row| {
                        let text = row.text_ref(0)?;
                        serde_json::from_str(text).map_err(|e| {
                            Error::Store(format!("reading a query handler's row: {e}"))
                        })
                    })
                    .collect()
            }
        }
    }

    /// Starts a transaction that will write. SQLite takes its write lock now (`BEGIN
    /// IMMEDIATE`), so concurrent writers queue instead of failing at their first write.
    pub async fn begin_write(&self) -> Result<Tx> {
        on_backend!(self, Pool, pool => Ok(Tx::from(
            pool.begin_with(write_transaction(self.dialect()))
                .await
                .map_err(db_error("starting a transaction"))?,
        )))
    }
}

/// A SQLite row as a JSON object: integers, reals and text as themselves, `NULL` as `null`, a
/// blob as an array of its bytes.
#[cfg(feature = "sqlite")]
const READING_ROW: &str = "reading a query handler's row";

#[cfg(feature = "sqlite")]
fn sqlite_row_json(row: &sqlx::sqlite::SqliteRow) -> Result<serde_json::Value> {
    use serde_json::Value;
    use sqlx::{Column, Row, TypeInfo, ValueRef};
    let mut object = serde_json::Map::with_capacity(row.columns().len());
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index).map_err(db_error(READING_ROW))?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" | "INT8" | "BIGINT" => Value::from(
                    row.try_get::<i64, _>(index)
                        .map_err(db_error(READING_ROW))?,
                ),
                "REAL" => Value::from(
                    row.try_get::<f64, _>(index)
                        .map_err(db_error(READING_ROW))?,
                ),
                "BOOLEAN" => Value::from(
                    row.try_get::<bool, _>(index)
                        .map_err(db_error(READING_ROW))?,
                ),
                "BLOB" => Value::from(
                    row.try_get::<Vec<u8>, _>(index)
                        .map_err(db_error(READING_ROW))?,
                ),
                _ => Value::from(
                    row.try_get::<String, _>(index)
                        .map_err(db_error(READING_ROW))?,
                ),
            }
        };
        object.insert(column.name().to_owned(), value);
    }
    Ok(Value::Object(object))
}

fn write_transaction(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::Transaction<'static, sqlx::Sqlite>> for Tx {
    fn from(tx: sqlx::Transaction<'static, sqlx::Sqlite>) -> Tx {
        Tx::Sqlite(tx)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::Transaction<'static, sqlx::Postgres>> for Tx {
    fn from(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> Tx {
        Tx::Postgres(tx)
    }
}

/// Statements in a write transaction both read and write (`UPDATE .. RETURNING`, a version check
/// before a migration), so each call says what it does: errors carry that, never a guess.
impl Tx {
    /// Runs a statement and reads its rows; `doing` labels errors ("writing an aggregate row").
    pub async fn fetch<T: FromRow>(
        &mut self,
        statement: &Statement,
        doing: &'static str,
    ) -> Result<Vec<T>> {
        on_backend!(self, Tx, tx => {
            let rows = bound!(statement)
                .fetch_all(&mut **tx)
                .await
                .map_err(db_error(doing))?;
            rows.iter()
                .map(|row| T::from_row(row).map_err(in_context(doing)))
                .collect()
        })
    }

    /// The first row, if any; `doing` labels errors.
    pub async fn fetch_first<T: FromRow>(
        &mut self,
        statement: &Statement,
        doing: &'static str,
    ) -> Result<Option<T>> {
        Ok(self.fetch(statement, doing).await?.into_iter().next())
    }

    /// Runs a statement; returns how many rows it changed. `doing` labels errors.
    pub async fn execute(&mut self, statement: &Statement, doing: &'static str) -> Result<u64> {
        on_backend!(self, Tx, tx => Ok(bound!(statement)
            .execute(&mut **tx)
            .await
            .map_err(db_error(doing))?
            .rows_affected()))
    }

    pub async fn commit(self) -> Result<()> {
        on_backend!(self, Tx, tx => tx.commit().await.map_err(db_error("committing")))
    }
}

/// `url` without its password, for error messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if rest[..at].contains(':') => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_error_messages() {
        assert_eq!(
            super::redact("postgres://ann:s3cret@db:5432/app"),
            "postgres://ann:***@db:5432/app"
        );
        assert_eq!(super::redact("sqlite://shop.db"), "sqlite://shop.db");
        assert_eq!(
            super::redact("postgres://ann@db/app"),
            "postgres://ann@db/app"
        );
    }
}
