//! What SQL query handlers read: their statements, with each named parameter bound, and the
//! views that make each aggregate's rows readable as a table with a column per field.

use foldhash::HashMap;

use super::SqlStore;
use super::statement::{Dialect, Param};
use crate::model::error::{Error, Result};
use crate::model::query_message::{ColumnKind, SqlPart, SqlView};
use crate::store::EntityView;

impl SqlStore {
    /// Runs a query handler's statement: its text as written, each `%name` a placeholder bound
    /// to the query's field `name` (from `fields`, the query as JSON).
    pub async fn sql_query(
        &self,
        sql: &'static [SqlPart],
        fields: &serde_json::Value,
    ) -> Result<Vec<serde_json::Value>> {
        let mut statement = self.statement("");
        for part in sql {
            match part {
                SqlPart::Text(text) => {
                    statement.push(text);
                }
                SqlPart::Param(name) => {
                    statement.bind(param(fields.get(*name))?);
                }
            }
        }
        self.pool.fetch_json_rows(&statement).await
    }

    /// (Re)creates the view of each aggregate in `views`, so that a query handler can select
    /// from it. A view that cannot be made (a table of that name exists, say) is left out with a
    /// warning: only a query that reads it fails, saying the table is missing.
    ///
    /// A view already made by the same statement is left as it is: opening a domain runs no DDL
    /// then (no lock on the views a running query may be reading, and a view of the user's own
    /// built on one of them keeps working). SQLite keeps the statement that made a view, which
    /// is compared with this build's. PostgreSQL keeps only its own rendering of a view: this
    /// method writes the statement and that rendering as the view's comment, and a view is
    /// current when its comment holds this build's statement and its rendering today, so a view
    /// replaced by other means (`CREATE OR REPLACE VIEW` keeps the comment) is made again. On
    /// PostgreSQL a changed view is first replaced in place (`CREATE OR REPLACE`, which keeps the
    /// views built on it when columns are only added at the end), and dropped and made anew
    /// only if that fails.
    pub async fn create_views(&self, views: &[EntityView]) -> Result<()> {
        if views.is_empty() {
            return Ok(());
        }
        let existing = self.made_views().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the views in the database could not be listed: making them all again");
            HashMap::default()
        });
        for entity in views {
            let name = entity.view.name;
            let create = create_view(self.dialect(), entity.aggregate, &entity.view);
            if existing.get(name).is_some_and(|made| made.is(&create)) {
                continue;
            }
            let drop = format!("DROP VIEW IF EXISTS \"{name}\"");
            let made = match self.dialect() {
                Dialect::Sqlite => self.run_ddl(&[drop, create]).await,
                Dialect::Postgres => {
                    let comment = comment_view(name, &create);
                    let replace = create.replacen("CREATE VIEW", "CREATE OR REPLACE VIEW", 1);
                    match self.run_ddl(&[replace, comment.clone()]).await {
                        Ok(()) => Ok(()),
                        Err(_) => self.run_ddl(&[drop, create, comment]).await,
                    }
                }
            };
            if let Err(e) = made {
                tracing::warn!(
                    view = name,
                    aggregate = entity.aggregate,
                    error = %e,
                    "the view of an aggregate for SQL query handlers was not made"
                );
            }
        }
        Ok(())
    }

    /// Runs `ddl` in one transaction (on PostgreSQL under a lock, so that domains opening at
    /// once on one database replace one view at a time).
    async fn run_ddl(&self, ddl: &[String]) -> Result<()> {
        let mut tx = self.pool.begin_write().await?;
        if self.dialect() == Dialect::Postgres {
            tx.execute(
                &self.statement("SELECT pg_advisory_xact_lock(7201954402)"),
                "locking the views",
            )
            .await?;
        }
        for statement in ddl {
            tx.execute(&self.statement(statement), "making a view")
                .await?;
        }
        tx.commit().await
    }

    /// Each view of this database (of the current schema, on PostgreSQL) by name, with what
    /// tells whether it is current (see [`MadeView`]).
    async fn made_views(&self) -> Result<HashMap<String, MadeView>> {
        let list = match self.dialect() {
            Dialect::Sqlite => {
                "SELECT name, sql AS record, '' AS rendering \
                                FROM sqlite_master WHERE type = 'view'"
            }
            Dialect::Postgres => {
                "SELECT c.relname AS name, \
                 coalesce(obj_description(c.oid, 'pg_class'), '') AS record, \
                 pg_get_viewdef(c.oid) AS rendering \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'v' AND n.nspname = current_schema()"
            }
        };
        let rows = self.pool.fetch_json_rows(&self.statement(list)).await?;
        let dialect = self.dialect();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let text = |column: &str| row.get(column)?.as_str().map(str::to_owned);
                let made = MadeView {
                    dialect,
                    record: text("record")?,
                    rendering: text("rendering")?,
                };
                Some((text("name")?, made))
            })
            .collect())
    }
}

/// What the database says of one of its views.
struct MadeView {
    dialect: Dialect,
    /// SQLite: the statement that made it. PostgreSQL: its comment (empty if it has none).
    record: String,
    /// PostgreSQL: its rendering of the view's query today (`pg_get_viewdef`).
    rendering: String,
}

impl MadeView {
    /// Whether the view is the one `create` makes, unchanged since.
    fn is(&self, create: &str) -> bool {
        match self.dialect {
            Dialect::Sqlite => self.record == create,
            Dialect::Postgres => self.record == format!("{create}\n{}", self.rendering),
        }
    }
}

/// The PostgreSQL statement that records, as the view's comment, the statement that made it and
/// PostgreSQL's rendering of it right after (see [`MadeView::is`]). `COMMENT` takes only a
/// literal, so the comment is built and run in a `DO` block.
fn comment_view(name: &str, create: &str) -> String {
    format!(
        "DO $view$ BEGIN EXECUTE format('COMMENT ON VIEW %I IS %L', '{name}', \
         '{}' || chr(10) || pg_get_viewdef('\"{name}\"'::regclass)); END $view$",
        create.replace('\'', "''")
    )
}

/// A query field's JSON value as a bound parameter. Every name was checked against the query's
/// fields at compile time; a field the query's serde form leaves out is `NULL`.
fn param(value: Option<&serde_json::Value>) -> Result<Param> {
    use serde_json::Value;
    Ok(match value {
        None | Some(Value::Null) => Param::Null,
        Some(Value::String(text)) => Param::Text(text.clone()),
        Some(Value::Bool(flag)) => Param::Int(i64::from(*flag)),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(int) => Param::Int(int),
            None => Param::Float(number.as_f64().ok_or_else(|| {
                Error::Store(format!("the query parameter {number} is out of range"))
            })?),
        },
        Some(other) => Param::Text(other.to_string()),
    })
}

/// The statement that makes the view: each field selected from the rows' JSON as a typed column.
/// Every name in the text is a Rust identifier the macro wrote (no input reaches it), quoted.
fn create_view(dialect: Dialect, aggregate: &str, view: &SqlView) -> String {
    let columns: Vec<String> = view
        .columns
        .iter()
        .map(|column| {
            let path = match view.state_key {
                Some(key) => vec![key, column.name],
                None => vec![column.name],
            };
            format!(
                "{} AS \"{}\"",
                extract(dialect, &path, column.kind),
                column.name
            )
        })
        .collect();
    let select = std::iter::once("id".to_string())
        .chain(std::iter::once("version".to_string()))
        .chain(columns)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE VIEW \"{}\" AS SELECT {select} FROM aggregates WHERE aggregate_type = '{aggregate}'",
        view.name
    )
}

/// The SQL that reads the JSON value at `path` in `data` as a column of `kind`.
fn extract(dialect: Dialect, path: &[&str], kind: ColumnKind) -> String {
    match dialect {
        Dialect::Sqlite => {
            let path = path.join(".");
            format!("json_extract(data, '$.{path}')")
        }
        Dialect::Postgres => {
            let keys = path
                .iter()
                .map(|key| format!("'{key}'"))
                .collect::<Vec<_>>()
                .join(",");
            match kind {
                ColumnKind::Json => format!("data #> ARRAY[{keys}]"),
                ColumnKind::Int => format!("(data #>> ARRAY[{keys}])::bigint"),
                ColumnKind::Float => format!("(data #>> ARRAY[{keys}])::double precision"),
                ColumnKind::Bool => format!("(data #>> ARRAY[{keys}])::boolean"),
                ColumnKind::Text => format!("data #>> ARRAY[{keys}]"),
            }
        }
    }
}
