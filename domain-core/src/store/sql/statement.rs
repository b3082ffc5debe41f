//! SQL text with bound parameters, and the translation of typed queries into it.
//!
//! Values never enter the SQL text: every operand, and every field name too, is a bound
//! parameter. The text only ever holds fixed fragments written here.
//!
//! The translation is exact or absent. Each condition's SQL gives the result the in-memory
//! predicate gives, `None` included (Rust orders `None` before every `Some`); where no exact form
//! exists (ordering an enum, comparing structs on SQLite) the builder reports it, and the store
//! evaluates that query in Rust instead.

use serde_json::Value;

use crate::model::query::{Condition, Filter, Op, OrderBy};

/// Which SQL the text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    /// SQL `NULL` (bound as text).
    Null,
}

/// A statement being built: text plus the parameters its placeholders refer to, in order.
pub(crate) struct Statement {
    pub dialect: Dialect,
    pub text: String,
    pub params: Vec<Param>,
}

impl Statement {
    pub fn new(dialect: Dialect, text: &str) -> Self {
        Statement {
            dialect,
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends fixed SQL.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder for `param`.
    pub fn bind(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.params.len().to_string());
            }
        }
        self
    }

    pub fn bind_text(&mut self, text: impl Into<String>) -> &mut Self {
        self.bind(Param::Text(text.into()))
    }

    pub fn bind_int(&mut self, value: i64) -> &mut Self {
        self.bind(Param::Int(value))
    }

    /// Appends the JSON value of `field` in the row's `data` document.
    ///
    /// PostgreSQL yields `jsonb` (JSON `null` stays a JSON value); SQLite yields the SQL value
    /// `json_extract` gives (text, integer, real; JSON `null` becomes SQL `NULL`).
    ///
    /// A document without the key (a row written before an `Option` field was added) decodes
    /// that field as `None`, so it must compare and sort as JSON `null` too. SQLite's
    /// `json_extract` gives `NULL` for both already; PostgreSQL's `->` gives SQL `NULL` for a
    /// missing key, which would make every comparison unknown (and sort last), so it is turned
    /// into JSON `null` here, where every condition and ordering reads the field.
    ///
    /// The expression is parenthesized: callers append it right after a function name
    /// (`jsonb_typeof`).
    fn field(&mut self, field: &str) -> &mut Self {
        match self.dialect {
            Dialect::Postgres => self
                .push("(COALESCE(data -> ")
                .bind_text(field)
                .push("::text, 'null'::jsonb))"),
            Dialect::Sqlite => self
                .push("json_extract(data, ")
                .bind_text(json_path(field))
                .push(")"),
        }
    }

    /// Appends `filter` as a boolean SQL expression, or returns false if part of it has no exact
    /// SQL form (the statement is then unusable).
    ///
    /// Every expression written here is two-valued (never SQL `NULL`), so `NOT` is exact.
    pub fn filter<A>(&mut self, filter: &Filter<A>) -> bool {
        match filter {
            Filter::Condition(c) => self.condition(c),
            Filter::And(all) => self.junction(all, " AND ", "(1=1)"),
            Filter::Or(any) => self.junction(any, " OR ", "(1=0)"),
            Filter::Not(inner) => {
                self.push("(NOT ");
                let ok = self.filter(inner);
                self.push(")");
                ok
            }
        }
    }

    fn junction<A>(&mut self, parts: &[Filter<A>], joiner: &str, empty: &str) -> bool {
        if parts.is_empty() {
            self.push(empty);
            return true;
        }
        self.push("(");
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.push(joiner);
            }
            if !self.filter(part) {
                return false;
            }
        }
        self.push(")");
        true
    }

    fn condition<A>(&mut self, c: &Condition<A>) -> bool {
        let ordering = !matches!(c.op, Op::Eq | Op::Ne | Op::In);
        if ordering && !c.json_ordered {
            return false;
        }
        match self.dialect {
            Dialect::Postgres => self.postgres_condition(c),
            Dialect::Sqlite => self.sqlite_condition(c),
        }
    }

    /// PostgreSQL compares `jsonb` values: equal JSON is equal, and `null` sorts before every
    /// other value, as `None` does. Strings are compared as text in the "C" collation (byte
    /// order, like Rust's `str`), since `jsonb` compares them in the database's collation.
    fn postgres_condition<A>(&mut self, c: &Condition<A>) -> bool {
        let json = c.value.to_string();
        match (c.op, &c.value) {
            (Op::In, _) => {
                self.push("(")
                    .field(c.field)
                    .push(" IN (SELECT jsonb_array_elements(")
                    .bind_text(json)
                    .push("::jsonb)))");
            }
            (Op::Eq | Op::Ne, _) | (_, Value::Null | Value::Number(_) | Value::Bool(_)) => {
                self.push("(")
                    .field(c.field)
                    .push(sql_operator(c.op))
                    .bind_text(json)
                    .push("::jsonb)");
            }
            (_, Value::String(text)) => {
                // A non-string here is JSON null (`None`), which sorts before any string.
                let when_null = if matches!(c.op, Op::Lt | Op::Le) {
                    "TRUE"
                } else {
                    "FALSE"
                };
                self.push("(CASE WHEN jsonb_typeof")
                    .field(c.field)
                    .push(" = 'string' THEN (data ->> ")
                    .bind_text(c.field)
                    .push(r#"::text) COLLATE "C""#)
                    .push(sql_operator(c.op))
                    .bind_text(text.clone())
                    .push(" ELSE ")
                    .push(when_null)
                    .push(" END)");
            }
            // Ordering arrays or objects: `jsonb` orders them unlike Rust.
            (_, Value::Array(_) | Value::Object(_)) => return false,
        }
        true
    }

    /// SQLite: `json_extract` turns JSON `null` into SQL `NULL`, so every comparison says what a
    /// `NULL` (`None`) field yields. Booleans come back as 0/1, which order like Rust's.
    fn sqlite_condition<A>(&mut self, c: &Condition<A>) -> bool {
        // What `None op <some value>` is in Rust, where `None` sorts first.
        let none_result = match c.op {
            Op::Ne | Op::Lt | Op::Le => "1",
            Op::Eq | Op::Gt | Op::Ge | Op::In => "0",
        };
        match (&c.value, c.op) {
            (Value::Null, op) => {
                let test = match op {
                    Op::Eq | Op::Le => " IS NULL)",
                    Op::Ne | Op::Gt => " IS NOT NULL)",
                    Op::Ge => " IS NULL OR 1=1)",
                    Op::Lt => " IS NULL AND 1=0)",
                    Op::In => return false, // `In` always carries an array
                };
                self.push("(").field(c.field).push(test);
            }
            (Value::Array(items), Op::In) => {
                if items
                    .iter()
                    .any(|v| matches!(v, Value::Array(_) | Value::Object(_)))
                {
                    return false; // json_each yields composite elements as text
                }
                let has_none = items.iter().any(Value::is_null);
                self.push("(COALESCE(")
                    .field(c.field)
                    .push(" IN (SELECT value FROM json_each(")
                    .bind_text(c.value.to_string())
                    .push(")), 0)");
                if has_none {
                    self.push(" OR ").field(c.field).push(" IS NULL");
                }
                self.push(")");
            }
            (scalar, op) => {
                let Some(param) = sqlite_scalar(scalar) else {
                    return false; // an array or object: json_extract returns its text
                };
                self.push("COALESCE(")
                    .field(c.field)
                    .push(sql_operator(op))
                    .bind(param)
                    .push(", ")
                    .push(none_result)
                    .push(")");
            }
        }
        true
    }

    /// Appends `ORDER BY` for `order` (then `id`, so pages are stable), or returns false if a key
    /// has no exact SQL ordering.
    pub fn order_by<A>(&mut self, order: &[OrderBy<A>]) -> bool {
        if order.iter().any(|o| !o.json_ordered) {
            return false;
        }
        self.push(" ORDER BY ");
        for key in order {
            let dir = if key.descending { " DESC, " } else { " ASC, " };
            match self.dialect {
                // `None` (JSON null) first, then strings by bytes, then other JSON by value.
                Dialect::Postgres => {
                    self.push("(jsonb_typeof")
                        .field(key.field)
                        .push(" <> 'null')")
                        .push(dir)
                        .push("(CASE WHEN jsonb_typeof")
                        .field(key.field)
                        .push(" = 'string' THEN data ->> ")
                        .bind_text(key.field)
                        .push(r#"::text END) COLLATE "C""#)
                        .push(dir)
                        .field(key.field)
                        .push(dir);
                }
                // SQLite sorts NULL first, numbers by value, text by bytes.
                Dialect::Sqlite => {
                    self.field(key.field).push(dir);
                }
            }
        }
        self.push("id");
        true
    }
}

fn sql_operator(op: Op) -> &'static str {
    match op {
        Op::Eq => " = ",
        Op::Ne => " <> ",
        Op::Gt => " > ",
        Op::Ge => " >= ",
        Op::Lt => " < ",
        Op::Le => " <= ",
        Op::In => " IN ",
    }
}

/// A JSON scalar as the SQL value `json_extract` would return for it.
fn sqlite_scalar(value: &Value) -> Option<Param> {
    Some(match value {
        Value::String(s) => Param::Text(s.clone()),
        Value::Bool(b) => Param::Int(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Param::Int(i),
            None => Param::Float(n.as_f64()?),
        },
        _ => return None,
    })
}

/// The SQLite JSON path of a top-level field, quoted so any name is taken literally.
fn json_path(field: &str) -> String {
    format!("$.\"{}\"", field.replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::query::Field;

    struct Row {
        title: String,
        pages: Option<i64>,
    }
    const TITLE: Field<Row, String> = Field::new("title", |r| &r.title);
    const PAGES: Field<Row, Option<i64>> = Field::new("pages", |r| &r.pages);

    #[test]
    fn operands_and_field_names_are_parameters_not_text() {
        let filter = TITLE
            .eq("x'); DROP TABLE events; --")
            .and(PAGES.gt(Some(3)));
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let mut sql = Statement::new(dialect, "");
            assert!(sql.filter(&filter));
            assert!(!sql.text.contains("DROP"), "{}", sql.text);
            assert!(!sql.text.contains("title"), "{}", sql.text);
            assert_eq!(sql.params.len(), 4, "{:?}", sql.params);
        }
        let _ = Row {
            title: String::new(),
            pages: None,
        };
    }

    #[test]
    fn postgres_placeholders_are_numbered_in_bind_order() {
        let mut sql = Statement::new(Dialect::Postgres, "SELECT 1 WHERE ");
        sql.filter(&TITLE.is_in(["a", "b"]));
        assert_eq!(
            sql.text,
            "SELECT 1 WHERE ((COALESCE(data -> $1::text, 'null'::jsonb)) IN (SELECT jsonb_array_elements($2::jsonb)))"
        );
    }
}
