//! The schema, as embedded migrations: migration `n` takes a database from version `n` to `n + 1`.
//!
//! A store applies the missing ones when it opens, in one transaction that also bumps
//! `schema_version`, and refuses a database whose version is newer than this build knows. If the
//! `schema_version` row is gone but the tables are there, it records the version again when the
//! tables are exactly this build's ([`LAYOUT`]) and refuses to guess otherwise.
//!
//! Tables (the same in both dialects; `data` is JSONB on PostgreSQL, JSON text on SQLite):
//! - `aggregates`: one row per aggregate (`aggregate_type`, `id`), its `version` (optimistic
//!   concurrency) and the last `stream_position` of its event stream, plus the document.
//! - `events`: the log. `global_position` is dense and commit-ordered (see `event_position`);
//!   `(stream, stream_position)` is unique; `(category, global_position)` serves category reads.
//! - `event_position`: one row holding the last global position handed out. Committers lock it
//!   last and hold it to commit, so positions are assigned in commit order with no gaps.
//! - `commands`: every processed command, written in its handler's transaction.
//! - `failed_deliveries`: event deliveries that failed, by handler and global position.

use super::statement::Dialect;

/// The version this build writes: the number of migrations.
pub(crate) fn current_version(dialect: Dialect) -> i64 {
    migrations(dialect).len() as i64
}

/// Every table the migrations create and its columns, as they stand at [`current_version`] (the
/// same names in both dialects; `schema_version` itself is not listed).
///
/// `open` compares a database's tables with this when its `schema_version` row is missing: the
/// same layout means this build wrote it, so the version can be recorded again; anything else
/// could be an older or newer build's layout, which this build must not guess at. Keep it in
/// step with the migrations (the unit test below checks it against the `CREATE TABLE`s).
pub(crate) const LAYOUT: &[(&str, &[&str])] = &[
    (
        "aggregates",
        &["aggregate_type", "id", "version", "stream_position", "data"],
    ),
    (
        "events",
        &[
            "global_position",
            "id",
            "stream",
            "category",
            "stream_position",
            "type_name",
            "schema_version",
            "data",
            "correlation_id",
            "causation_id",
            "origin_stream",
            "recorded_at",
        ],
    ),
    ("event_position", &["singleton", "last"]),
    (
        "commands",
        &[
            "id",
            "type_name",
            "stream",
            "data",
            "correlation_id",
            "causation_id",
            "recorded_at",
        ],
    ),
    (
        "failed_deliveries",
        &[
            "id",
            "handler",
            "global_position",
            "error",
            "attempts",
            "recorded_at",
        ],
    ),
];

/// Migrations in order; each entry is a list of statements.
pub(crate) fn migrations(dialect: Dialect) -> &'static [&'static [&'static str]] {
    match dialect {
        Dialect::Postgres => POSTGRES,
        Dialect::Sqlite => SQLITE,
    }
}

const POSTGRES: &[&[&str]] = &[&[
    "CREATE TABLE aggregates (
        aggregate_type TEXT NOT NULL,
        id TEXT NOT NULL,
        version BIGINT NOT NULL,
        stream_position BIGINT NOT NULL,
        data JSONB NOT NULL,
        PRIMARY KEY (aggregate_type, id)
    )",
    "CREATE TABLE events (
        global_position BIGINT PRIMARY KEY,
        id TEXT NOT NULL,
        stream TEXT NOT NULL,
        category TEXT NOT NULL,
        stream_position BIGINT NOT NULL,
        type_name TEXT NOT NULL,
        schema_version BIGINT NOT NULL,
        data JSONB NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        origin_stream TEXT,
        recorded_at BIGINT NOT NULL,
        UNIQUE (stream, stream_position)
    )",
    "CREATE INDEX events_by_category ON events (category, global_position)",
    "CREATE TABLE event_position (
        singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
        last BIGINT NOT NULL
    )",
    "INSERT INTO event_position (last) VALUES (0)",
    "CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        type_name TEXT NOT NULL,
        stream TEXT NOT NULL,
        data JSONB NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        recorded_at BIGINT NOT NULL
    )",
    "CREATE TABLE failed_deliveries (
        id TEXT PRIMARY KEY,
        handler TEXT NOT NULL,
        global_position BIGINT NOT NULL REFERENCES events (global_position),
        error TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        recorded_at BIGINT NOT NULL
    )",
]];

const SQLITE: &[&[&str]] = &[&[
    "CREATE TABLE aggregates (
        aggregate_type TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        stream_position INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (aggregate_type, id)
    ) WITHOUT ROWID",
    "CREATE TABLE events (
        global_position INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        stream TEXT NOT NULL,
        category TEXT NOT NULL,
        stream_position INTEGER NOT NULL,
        type_name TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        data TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        origin_stream TEXT,
        recorded_at INTEGER NOT NULL,
        UNIQUE (stream, stream_position)
    )",
    "CREATE INDEX events_by_category ON events (category, global_position)",
    "CREATE TABLE event_position (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        last INTEGER NOT NULL
    )",
    "INSERT INTO event_position (singleton, last) VALUES (1, 0)",
    "CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        type_name TEXT NOT NULL,
        stream TEXT NOT NULL,
        data TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        recorded_at INTEGER NOT NULL
    )",
    "CREATE TABLE failed_deliveries (
        id TEXT PRIMARY KEY,
        handler TEXT NOT NULL,
        global_position INTEGER NOT NULL REFERENCES events (global_position),
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        recorded_at INTEGER NOT NULL
    )",
]];

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables and columns the `CREATE TABLE` statements of every migration name (one column
    /// per line, constraints on lines of their own, as the migrations are written).
    fn created(dialect: Dialect) -> Vec<(String, Vec<String>)> {
        let mut tables = Vec::new();
        for ddl in migrations(dialect).iter().flat_map(|m| m.iter()) {
            let Some(rest) = ddl.strip_prefix("CREATE TABLE ") else {
                assert!(
                    !ddl.starts_with("ALTER TABLE"),
                    "a migration alters a table: teach this test to follow it"
                );
                continue;
            };
            let (name, body) = rest.split_once(" (").unwrap();
            let columns = body
                .lines()
                .map(str::trim)
                .filter_map(|line| line.split_whitespace().next())
                .filter(|word| !["PRIMARY", "UNIQUE", ")", ");"].contains(word))
                .filter(|word| !word.starts_with(')'))
                .map(str::to_owned)
                .collect();
            tables.push((name.to_owned(), columns));
        }
        tables
    }

    #[test]
    fn the_layout_is_what_the_migrations_create() {
        let layout: Vec<(String, Vec<String>)> = LAYOUT
            .iter()
            .map(|(table, columns)| {
                let columns = columns.iter().map(|c| (*c).to_owned()).collect();
                ((*table).to_owned(), columns)
            })
            .collect();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(created(dialect), layout, "{dialect:?}");
        }
    }
}
