//! The schema, as embedded migrations: migration `n` takes a database from version `n` to `n + 1`.
//!
//! A store applies the missing ones when it opens, in one transaction that also bumps
//! `schema_version`, and refuses a database whose version is newer than this build knows.
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
