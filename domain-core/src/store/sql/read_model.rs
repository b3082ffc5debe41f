//! What SQL query handlers read: their statements, with each named parameter bound, and the
//! views that make each aggregate's rows readable as a table with a column per field.

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
    pub async fn create_views(&self, views: &[EntityView]) -> Result<()> {
        for entity in views {
            let ddl = view_ddl(self.dialect(), entity.aggregate, &entity.view);
            let mut tx = self.pool.begin_write().await?;
            if self.dialect() == Dialect::Postgres {
                // Domains opening at once on one database: one replaces the view at a time.
                tx.execute(
                    &self.statement("SELECT pg_advisory_xact_lock(7201954402)"),
                    "locking the views",
                )
                .await?;
            }
            let mut made = Ok(());
            for statement in &ddl {
                if let Err(e) = tx
                    .execute(&self.statement(statement), "creating a view")
                    .await
                {
                    made = Err(e);
                    break;
                }
            }
            match made {
                Ok(()) => tx.commit().await?,
                Err(e) => tracing::warn!(
                    view = entity.view.name,
                    aggregate = entity.aggregate,
                    error = %e,
                    "the view of an aggregate for SQL query handlers was not made"
                ),
            }
        }
        Ok(())
    }
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

/// The statements that replace the view: drop it, then select each field from the rows' JSON
/// as a typed column. Every name in the text is a Rust identifier the macro wrote (no input
/// reaches it), quoted.
fn view_ddl(dialect: Dialect, aggregate: &str, view: &SqlView) -> [String; 2] {
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
    [
        format!("DROP VIEW IF EXISTS \"{}\"", view.name),
        format!(
            "CREATE VIEW \"{}\" AS SELECT {select} FROM aggregates WHERE aggregate_type = '{aggregate}'",
            view.name
        ),
    ]
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
