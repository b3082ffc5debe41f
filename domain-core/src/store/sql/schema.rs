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
//! - `commands`: the command log, every processed command, written in its handler's transaction.
//!   `position` is dense and commit-ordered like `global_position`, from `command_position`;
//!   `(stream, position)` serves command-stream reads.
//! - `command_position`: one row holding the last command position handed out, locked like
//!   `event_position` (and always before it, so the two cannot deadlock).
//! - `failed_deliveries`: event deliveries that failed, by handler and global position.
//! - `subscriptions`: each event handler's checkpoint, advanced with each delivery's writes.
//! - `commands.submission`: set for a command submitted for the engine to run (`pending`, then
//!   `done` in its handler's transaction, or `failed`); `NULL` for a command processed at once.

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
        "failed_deliveries",
        &[
            "id",
            "handler",
            "global_position",
            "error",
            "attempts",
            "recorded_at",
            "claimed_by",
            "claimed_until",
            "blocked_by",
            "skipped_by",
            "skip_reason",
            "skipped_at",
        ],
    ),
    (
        "commands",
        &[
            "position",
            "id",
            "type_name",
            "stream",
            "data",
            "correlation_id",
            "causation_id",
            "origin_stream",
            "recorded_at",
            "submission",
            "attempts",
            "last_error",
            "retry_at",
        ],
    ),
    ("command_position", &["singleton", "last"]),
    (
        "subscriptions",
        &[
            "name",
            "segment",
            "position",
            "owner",
            "lease_until",
            "fence",
            "updated_at",
            "attempt_position",
            "attempts",
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

const POSTGRES: &[&[&str]] = &[
    &[
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
    ],
    COMMAND_LOG_POSTGRES,
    RETRY_CLAIMS_POSTGRES,
    SUBSCRIPTIONS_POSTGRES,
    SUBMISSIONS_POSTGRES,
];

/// Migration 4 -> 5: commands submitted for the engine to run (async command processing) wait
/// in the command log itself. `submission` is `pending` until the handler's transaction sets it
/// to `done` (a compare-and-set: two engines running one command commit once), or `failed` when
/// its attempts ran out or its handler refused it; `NULL` for a command processed at once.
/// `attempts` is counted before the handler runs (a command that kills the process is given up
/// on, not run for ever); `last_error` and `retry_at` (micros) schedule the next attempt. The
/// partial index holds only pending rows, so finding work costs nothing per processed command.
const SUBMISSIONS_POSTGRES: &[&str] = &[
    "ALTER TABLE commands ADD COLUMN submission TEXT",
    "ALTER TABLE commands ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE commands ADD COLUMN last_error TEXT",
    "ALTER TABLE commands ADD COLUMN retry_at BIGINT",
    "CREATE INDEX commands_pending ON commands (position) WHERE submission = 'pending'",
    "CREATE INDEX commands_failed ON commands (position) WHERE submission = 'failed'",
];

/// Migration 3 -> 4: every event handler is a subscription with a checkpoint, the global
/// position up to which it has handled its events, advanced in the same transaction as each
/// delivery's writes. One row per subscription and `segment` (0 until scale-out partitions a
/// subscription by a stable hash of the stream id); `owner`, `lease_until` and `fence` are the
/// lease and fencing token worker processes will take; `attempt_position`/`attempts` count the
/// attempts to deliver one event made right after a start, before the handler runs, so that an
/// event whose handler kills the process is parked instead of crashing every start. Failure
/// records are looked up by delivery (handler, event), and become dead letters: one that waits
/// behind an earlier failure of its stream names it (`blocked_by`); one an operator gave up on
/// says who and why (`skipped_by`, `skip_reason`, `skipped_at`).
const SUBSCRIPTIONS_POSTGRES: &[&str] = &[
    "CREATE TABLE subscriptions (
        name TEXT NOT NULL,
        segment BIGINT NOT NULL,
        position BIGINT NOT NULL,
        owner TEXT,
        lease_until BIGINT,
        fence BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        attempt_position BIGINT,
        attempts BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (name, segment)
    )",
    "CREATE INDEX failed_deliveries_by_delivery ON failed_deliveries (handler, global_position)",
    "ALTER TABLE failed_deliveries ADD COLUMN blocked_by TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN skipped_by TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN skip_reason TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN skipped_at BIGINT",
];

/// Migration 2 -> 3: a retry claims its failed delivery first (who, until when), so two
/// processes retrying at once never run one handler twice; a claim whose process died expires.
const RETRY_CLAIMS_POSTGRES: &[&str] = &[
    "ALTER TABLE failed_deliveries ADD COLUMN claimed_by TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN claimed_until BIGINT",
];

/// Migration 1 -> 2: the command log becomes readable. `commands` is rebuilt with a dense,
/// commit-ordered `position` (existing rows numbered in recording order) and the
/// `origin_stream` every other message keeps (known for old rows only when they started their
/// chain, i.e. had no causation id); `command_position` holds the last position handed out.
/// A rebuild rather than `ALTER TABLE .. ADD COLUMN`: SQLite cannot add a `NOT NULL` column
/// without a default, and both dialects are kept to one layout.
const COMMAND_LOG_POSTGRES: &[&str] = &[
    "CREATE TABLE commands_v2 (
        position BIGINT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type_name TEXT NOT NULL,
        stream TEXT NOT NULL,
        data JSONB NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        origin_stream TEXT,
        recorded_at BIGINT NOT NULL
    )",
    "INSERT INTO commands_v2 (position, id, type_name, stream, data, correlation_id, \
     causation_id, origin_stream, recorded_at) \
     SELECT row_number() OVER (ORDER BY recorded_at, id), id, type_name, stream, data, \
     correlation_id, causation_id, CASE WHEN causation_id IS NULL THEN stream END, recorded_at \
     FROM commands",
    "DROP TABLE commands",
    "ALTER TABLE commands_v2 RENAME TO commands",
    "CREATE INDEX commands_by_stream ON commands (stream, position)",
    "CREATE TABLE command_position (
        singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
        last BIGINT NOT NULL
    )",
    "INSERT INTO command_position (last) SELECT count(*) FROM commands",
];

const SQLITE: &[&[&str]] = &[
    &[
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
    ],
    COMMAND_LOG_SQLITE,
    RETRY_CLAIMS_SQLITE,
    SUBSCRIPTIONS_SQLITE,
    SUBMISSIONS_SQLITE,
];

/// Migration 4 -> 5 on SQLite: see [`SUBMISSIONS_POSTGRES`].
const SUBMISSIONS_SQLITE: &[&str] = &[
    "ALTER TABLE commands ADD COLUMN submission TEXT",
    "ALTER TABLE commands ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE commands ADD COLUMN last_error TEXT",
    "ALTER TABLE commands ADD COLUMN retry_at INTEGER",
    "CREATE INDEX commands_pending ON commands (position) WHERE submission = 'pending'",
    "CREATE INDEX commands_failed ON commands (position) WHERE submission = 'failed'",
];

/// Migration 3 -> 4 on SQLite: see [`SUBSCRIPTIONS_POSTGRES`].
const SUBSCRIPTIONS_SQLITE: &[&str] = &[
    "CREATE TABLE subscriptions (
        name TEXT NOT NULL,
        segment INTEGER NOT NULL,
        position INTEGER NOT NULL,
        owner TEXT,
        lease_until INTEGER,
        fence INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        attempt_position INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, segment)
    ) WITHOUT ROWID",
    "CREATE INDEX failed_deliveries_by_delivery ON failed_deliveries (handler, global_position)",
    "ALTER TABLE failed_deliveries ADD COLUMN blocked_by TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN skipped_by TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN skip_reason TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN skipped_at INTEGER",
];

/// Migration 2 -> 3 on SQLite: see [`RETRY_CLAIMS_POSTGRES`].
const RETRY_CLAIMS_SQLITE: &[&str] = &[
    "ALTER TABLE failed_deliveries ADD COLUMN claimed_by TEXT",
    "ALTER TABLE failed_deliveries ADD COLUMN claimed_until INTEGER",
];

/// Migration 1 -> 2 on SQLite: see [`COMMAND_LOG_POSTGRES`].
const COMMAND_LOG_SQLITE: &[&str] = &[
    "CREATE TABLE commands_v2 (
        position INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type_name TEXT NOT NULL,
        stream TEXT NOT NULL,
        data TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        origin_stream TEXT,
        recorded_at INTEGER NOT NULL
    )",
    "INSERT INTO commands_v2 (position, id, type_name, stream, data, correlation_id, \
     causation_id, origin_stream, recorded_at) \
     SELECT row_number() OVER (ORDER BY recorded_at, id), id, type_name, stream, data, \
     correlation_id, causation_id, CASE WHEN causation_id IS NULL THEN stream END, recorded_at \
     FROM commands",
    "DROP TABLE commands",
    "ALTER TABLE commands_v2 RENAME TO commands",
    "CREATE INDEX commands_by_stream ON commands (stream, position)",
    "CREATE TABLE command_position (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        last INTEGER NOT NULL
    )",
    "INSERT INTO command_position (singleton, last) SELECT 1, count(*) FROM commands",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables and columns left by the `CREATE TABLE`, `DROP TABLE` and `ALTER TABLE ..
    /// RENAME TO` statements of every migration, in order (one column per line, constraints on
    /// lines of their own, as the migrations are written).
    fn created(dialect: Dialect) -> Vec<(String, Vec<String>)> {
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        for ddl in migrations(dialect).iter().flat_map(|m| m.iter()) {
            if let Some(name) = ddl.strip_prefix("DROP TABLE ") {
                tables.retain(|(table, _)| table != name);
                continue;
            }
            if let Some(rest) = ddl.strip_prefix("ALTER TABLE ")
                && let Some((table, column)) = rest.split_once(" ADD COLUMN ")
            {
                let column = column.split_whitespace().next().unwrap().to_owned();
                let table = tables.iter_mut().find(|(name, _)| name == table).unwrap();
                table.1.push(column);
                continue;
            }
            if let Some(rest) = ddl.strip_prefix("ALTER TABLE ") {
                let (from, to) = rest
                    .split_once(" RENAME TO ")
                    .expect("a migration alters a table other than by renaming it: teach this test to follow it");
                let table = tables.iter_mut().find(|(table, _)| table == from).unwrap();
                table.0 = to.to_owned();
                continue;
            }
            let Some(rest) = ddl.strip_prefix("CREATE TABLE ") else {
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
