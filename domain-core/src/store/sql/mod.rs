//! The durable stores: SQLite (feature `sqlite`) and PostgreSQL (feature `postgres`).
//!
//! One implementation serves both; the differences live in [`statement`] (SQL dialect),
//! [`schema`] (DDL) and [`backend`] (drivers).
//!
//! # One transaction per unit of work
//!
//! [`SqlStore::commit`] serializes everything first, then in one transaction:
//! 1. writes each aggregate row, in (type, id) order so concurrent commits lock rows in the same
//!    order and cannot deadlock. A new aggregate is an `INSERT .. ON CONFLICT DO NOTHING`, a
//!    changed one an `UPDATE .. WHERE version = <expected>`; no row written means another writer
//!    got there first, and the commit fails with [`Error::Conflict`], writing nothing;
//! 2. reserves the command's position by incrementing the single `command_position` row, and
//!    writes the command record. Like `event_position` below (and for the same reason), that
//!    row is locked until commit; every transaction takes it before `event_position`, so the
//!    two locks are always taken in one order and cannot deadlock;
//! 3. reserves global positions by incrementing the single `event_position` row. That row lock is
//!    taken last and held until commit, so a later committer gets later positions only after the
//!    earlier one is visible: readers following `global_position` never see position `n + 1`
//!    before `n`, and a rolled-back commit returns its positions (the counter update rolls back
//!    too), so there are no gaps. The price is that event-writing commits serialize on that row
//!    for their last few statements;
//! 4. inserts the events, and commits. Only then does dispatch see them.
//!
//! The framework does not retry a conflicting command itself: the handler decided on state that
//! is now stale, and only the caller knows whether re-running it is right.

mod backend;
mod read_model;
mod schema;
mod statement;

/// A connection pool the caller made ([`DomainBuilder::sqlite_pool`](crate::DomainBuilder::sqlite_pool),
/// [`DomainBuilder::postgres_pool`](crate::DomainBuilder::postgres_pool)).
pub(crate) use backend::Pool as GivenPool;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use self::backend::{Cells, FromRow, Pool, Tx};
use self::statement::{Dialect, Param, Statement};
use super::{
    CommitBatch, DeliveryState, FailedDelivery, Head, NextAttempt, PendingCommand, RowWrite,
    SnapshotEnvelope, StoredSnapshot, Submission, SubmissionState,
};
use crate::model::Aggregate;
use crate::model::codec::{Codec, DecodedEvent};
use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::message::{EventEnvelope, MessageKind, Metadata, RecordedCommand};
use crate::model::query::{Filter, QueryResult, QuerySpec};

/// At most this many events per `INSERT` (each binds 12 parameters; both drivers cap them).
const EVENTS_PER_INSERT: usize = 500;

const EVENT_COLUMNS: &str = "global_position, id, stream, stream_position, type_name, \
     schema_version, data, correlation_id, causation_id, origin_stream, recorded_at";

const COMMAND_COLUMNS: &str = "position, id, type_name, stream, data, correlation_id, \
     causation_id, origin_stream, recorded_at";

/// A store on SQLite or PostgreSQL.
pub(crate) struct SqlStore {
    pool: Pool,
    /// Decodes stored events and names the types of logged commands.
    codec: Arc<Codec>,
}

impl SqlStore {
    /// Connects to `url` and brings its schema up to date.
    pub async fn open(
        url: &str,
        codec: Arc<Codec>,
        options: &crate::store::StoreOptions,
    ) -> Result<SqlStore> {
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        let store = SqlStore {
            pool: Pool::connect(dialect, url, options).await?,
            codec,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A store on a pool the caller made; brings its schema up to date.
    pub async fn with_pool(pool: Pool, codec: Arc<Codec>) -> Result<SqlStore> {
        let store = SqlStore { pool, codec };
        store.migrate().await?;
        Ok(store)
    }

    fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    fn statement(&self, text: &str) -> Statement {
        Statement::new(self.dialect(), text)
    }

    /// `data` as JSON text in a select list.
    fn data_text(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => "data::text",
            Dialect::Sqlite => "data",
        }
    }

    /// The cast that turns a bound text parameter into the `data` column's type.
    fn json_cast(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => "::jsonb",
            Dialect::Sqlite => "",
        }
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin_write().await?;
        if self.dialect() == Dialect::Postgres {
            // Two processes opening a fresh database at once: one migrates, the other waits.
            tx.execute(
                &self.statement("SELECT pg_advisory_xact_lock(4747114712)"),
                "locking the schema for migration",
            )
            .await?;
        }
        tx.execute(
            &self.statement("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"),
            "creating the schema_version table",
        )
        .await?;
        let found: Option<i64> = tx
            .fetch_first(
                &self.statement("SELECT version FROM schema_version"),
                "reading the schema version",
            )
            .await?;
        let supported = schema::current_version(self.dialect());
        let found = match found {
            Some(version) => version,
            None => {
                let version = self.unrecorded_version(&mut tx, supported).await?;
                let mut insert = self.statement("INSERT INTO schema_version (version) VALUES (");
                insert.bind_int(version).push(")");
                tx.execute(&insert, "writing the schema version").await?;
                version
            }
        };
        if found > supported {
            return Err(Error::SchemaTooNew { found, supported });
        }
        // A negative version would index the migrations from far past their end.
        let applied = usize::try_from(found).map_err(|_| {
            Error::Store(format!(
                "the `schema_version` table holds {found}, which is not a schema version \
                 (they start at 0): correct it with `UPDATE schema_version SET version = \
                 <version>`, or restore the database from a backup"
            ))
        })?;
        for migration in &schema::migrations(self.dialect())[applied..] {
            for ddl in *migration {
                tx.execute(&self.statement(ddl), "migrating the schema")
                    .await?;
            }
        }
        let mut update = self.statement("UPDATE schema_version SET version = ");
        update.bind_int(supported);
        tx.execute(&update, "writing the schema version").await?;
        tx.commit().await
    }

    /// The version of a database whose `schema_version` table has no row: 0 when none of the
    /// framework's tables exist (a new database), `supported` when they are exactly this build's
    /// (the row was deleted; recording it again is safe because this build wrote that layout).
    ///
    /// Any other layout is refused rather than guessed at: calling it this build's version could
    /// let this build write to a newer build's tables (what [`Error::SchemaTooNew`] prevents),
    /// and calling it 0 would fail on "table already exists".
    async fn unrecorded_version(&self, tx: &mut Tx, supported: i64) -> Result<i64> {
        let columns = match self.dialect() {
            Dialect::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()"
            }
            Dialect::Sqlite => {
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table'"
            }
        };
        let known = |table: &str| schema::LAYOUT.iter().any(|(name, _)| *name == table);
        let mut found: Vec<String> = tx
            .fetch::<(String, String)>(&self.statement(columns), "reading the existing tables")
            .await?
            .into_iter()
            .filter(|(table, _)| known(table))
            .map(|(table, column)| format!("{table}.{column}"))
            .collect();
        if found.is_empty() {
            return Ok(0);
        }
        let mut expected: Vec<String> = schema::LAYOUT
            .iter()
            .flat_map(|(table, columns)| columns.iter().map(move |c| format!("{table}.{c}")))
            .collect();
        found.sort();
        expected.sort();
        if found == expected {
            return Ok(supported);
        }
        let missing: Vec<&str> = expected
            .iter()
            .filter(|c| !found.contains(c))
            .map(String::as_str)
            .collect();
        let unexpected: Vec<&str> = found
            .iter()
            .filter(|c| !expected.contains(c))
            .map(String::as_str)
            .collect();
        Err(Error::Store(format!(
            "the `schema_version` table has no row, and the framework's tables in the database \
             do not match this build's schema version {supported} (missing columns: [{}]; \
             unexpected columns: [{}]), so the version they were written at is unknown. Record \
             it with `INSERT INTO schema_version (version) VALUES (<version>)`, or restore the \
             database from a backup",
            missing.join(", "),
            unexpected.join(", ")
        )))
    }

    // ---- repository ------------------------------------------------------------------------

    pub async fn load<A: Aggregate>(&self, id: &Identifier) -> Result<Option<A>> {
        let mut select = self.aggregate_select::<A>(false);
        select.push(" AND id = ").bind_text(id.to_string());
        let rows: Vec<StoredAggregate> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .next()
            .map(StoredAggregate::decode)
            .transpose()
    }

    /// An event-sourced `A`'s row for `id`: its version (how many commits it has had) and its
    /// snapshot, if its data holds one (JSON `null` otherwise), left for the reader to decode.
    pub async fn head_of<A: Aggregate>(&self, id: &Identifier) -> Result<Option<Head>> {
        let mut select = self.aggregate_select::<A>(false);
        select.push(" AND id = ").bind_text(id.to_string());
        let rows: Vec<StoredAggregate> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .next()
            .map(|row| {
                let version =
                    u64::try_from(row.version).map_err(|_| Error::UnreadableAggregate {
                        aggregate: A::NAME,
                        id: id.to_string(),
                        reason: format!("its stored version {} is negative", row.version),
                    })?;
                let snapshot = (row.data != "null").then_some(StoredSnapshot::Json(row.data));
                Ok(Head { version, snapshot })
            })
            .transpose()
    }

    /// `SELECT id, version, data, <total> FROM aggregates WHERE aggregate_type = <A>`.
    ///
    /// The id is read back so that a row that does not decode can be named in the error.
    fn aggregate_select<A: Aggregate>(&self, with_total: bool) -> Statement {
        let total = if with_total {
            "count(*) OVER ()"
        } else {
            "CAST(0 AS BIGINT)"
        };
        let mut select = self.statement(&format!(
            "SELECT id, version, {}, {total} FROM aggregates WHERE aggregate_type = ",
            self.data_text()
        ));
        select.bind_text(A::NAME);
        select
    }

    /// Every stored `A` matching `filter` whose id is not in `skip`.
    ///
    /// Only the rows the SQL filter selects are decoded, so a row that no longer decodes fails
    /// only the reads that select it. When the filter has no SQL form every row of the type must
    /// be decoded to test it, and a bad row is an error: whether it matches cannot be known.
    pub async fn matching<A: Aggregate>(
        &self,
        filter: Option<&Filter<A>>,
        skip: &[Identifier],
    ) -> Result<Vec<A>> {
        let mut select = self.aggregate_select::<A>(false);
        if let Some(filter) = filter {
            select.push(" AND ");
            if !select.filter(filter) {
                // No exact SQL form: read the type's rows and test them in Rust below.
                select = self.aggregate_select::<A>(false);
            }
        }
        let rows: Vec<StoredAggregate> = self.pool.fetch(&select).await?;
        // Skipped rows (shadowed by staged versions) are left out before decoding: a bad stored
        // row that the caller is replacing does not fail its read.
        let skip: Vec<String> = skip.iter().map(Identifier::to_string).collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if skip.contains(&row.id) {
                continue;
            }
            let aggregate: A = row.decode()?;
            if filter.is_none_or(|f| f.matches(&aggregate)) {
                out.push(aggregate);
            }
        }
        Ok(out)
    }

    pub async fn query<A: Aggregate>(&self, spec: &QuerySpec<A>) -> Result<QueryResult<A>> {
        let count_only = spec.limit == Some(0);
        let mut select = if count_only {
            let mut count =
                self.statement("SELECT count(*) FROM aggregates WHERE aggregate_type = ");
            count.bind_text(A::NAME);
            count
        } else {
            self.aggregate_select::<A>(true)
        };
        let translated = spec.filter.as_ref().is_none_or(|filter| {
            select.push(" AND ");
            select.filter(filter)
        }) && (count_only || select.order_by(&spec.order));
        if !translated {
            return Ok(spec.apply(self.matching(spec.filter.as_ref(), &[]).await?));
        }
        if count_only {
            let total: Vec<i64> = self.pool.fetch(&select).await?;
            return Ok(QueryResult {
                total: row_count(total.first().copied().unwrap_or(0))?,
                items: Vec::new(),
            });
        }
        match (spec.limit, self.dialect()) {
            (Some(limit), _) => {
                select.push(" LIMIT ").bind_int(to_i64(limit));
            }
            (None, Dialect::Sqlite) => {
                select.push(" LIMIT -1"); // SQLite needs a LIMIT before OFFSET
            }
            (None, Dialect::Postgres) => {}
        }
        select.push(" OFFSET ").bind_int(to_i64(spec.offset));
        let rows: Vec<StoredAggregate> = self.pool.fetch(&select).await?;
        let total = match rows.first() {
            Some(first) => row_count(first.total)?,
            // An empty page says nothing about the total when it starts past the end.
            None if spec.offset > 0 => {
                let count = QuerySpec {
                    filter: spec.filter.clone(),
                    order: Vec::new(),
                    limit: Some(0),
                    offset: 0,
                };
                return Ok(QueryResult {
                    total: Box::pin(self.query(&count)).await?.total,
                    items: Vec::new(),
                });
            }
            None => 0,
        };
        let items = rows
            .into_iter()
            .map(StoredAggregate::decode)
            .collect::<Result<_>>()?;
        Ok(QueryResult { total, items })
    }

    // ---- commit ----------------------------------------------------------------------------

    pub async fn commit(&self, batch: CommitBatch) -> Result<Vec<EventEnvelope>> {
        // Serialize before the transaction: nothing slow happens while rows are locked.
        let recorded_at = micros(batch.timestamp);
        let mut writes = Vec::with_capacity(batch.aggregates.len());
        for (index, staged) in batch.aggregates.iter().enumerate() {
            let mut events = Vec::with_capacity(staged.events.len());
            for event in &staged.events {
                events
                    .push((event.event.vtable.to_json)(event.event.payload.as_ref())?.to_string());
            }
            writes.push(AggregateWrite {
                index,
                id: staged.id.to_string(),
                data: match staged.row {
                    RowWrite::State => Some((staged.to_json)(staged.value.as_ref())?),
                    RowWrite::Head => None,
                    RowWrite::Snapshot {
                        position,
                        fingerprint,
                    } => Some(SnapshotEnvelope::wrap(
                        &(staged.to_json)(staged.value.as_ref())?,
                        position,
                        fingerprint,
                    )),
                },
                events,
            });
        }
        writes.sort_by(|a, b| {
            let (x, y) = (&batch.aggregates[a.index], &batch.aggregates[b.index]);
            (x.aggregate, &a.id).cmp(&(y.aggregate, &b.id))
        });

        let mut tx = self.pool.begin_write().await?;
        // A delivery's progress first (lock order: checkpoint row, aggregate rows, counters).
        if let Some(mark) = &batch.mark {
            self.advance(&mut tx, mark, recorded_at).await?;
        }
        // Each aggregate's last stream position before this commit, by batch index.
        let mut stream_start = vec![0u64; batch.aggregates.len()];
        for write in &writes {
            let staged = &batch.aggregates[write.index];
            let added = column(write.events.len(), "an event count")?;
            let mut statement;
            if staged.expected_version == 0 {
                statement = self.statement(
                    "INSERT INTO aggregates (aggregate_type, id, version, stream_position, data) VALUES (",
                );
                statement
                    .bind_text(staged.aggregate)
                    .push(", ")
                    .bind_text(write.id.clone())
                    .push(", 1, ")
                    .bind_int(added)
                    .push(", ")
                    .bind_text(write.data.clone().unwrap_or_else(|| "null".to_owned()))
                    .push(self.json_cast())
                    .push(") ON CONFLICT DO NOTHING RETURNING stream_position");
            } else {
                statement = self.statement(
                    "UPDATE aggregates SET version = version + 1, stream_position = stream_position + ",
                );
                statement.bind_int(added);
                if let Some(data) = &write.data {
                    statement
                        .push(", data = ")
                        .bind_text(data.clone())
                        .push(self.json_cast());
                }
                statement
                    .push(" WHERE aggregate_type = ")
                    .bind_text(staged.aggregate)
                    .push(" AND id = ")
                    .bind_text(write.id.clone())
                    .push(" AND version = ")
                    .bind_int(column(staged.expected_version, "a version")?)
                    .push(" RETURNING stream_position");
            }
            match tx
                .fetch_first::<i64>(&statement, "writing an aggregate row")
                .await?
            {
                // The stream's last position before this commit, which numbers its new events:
                // a corrupt (negative) one must not wrap into huge positions.
                Some(last) => {
                    stream_start[write.index] = last
                        .checked_sub(added)
                        .and_then(|before| u64::try_from(before).ok())
                        .ok_or_else(|| Error::UnreadableAggregate {
                            aggregate: staged.aggregate,
                            id: write.id.clone(),
                            reason: format!(
                                "its stored stream position {} is out of range",
                                last.saturating_sub(added)
                            ),
                        })?;
                }
                None => return Err(self.conflict(&mut tx, staged, &write.id).await),
            }
        }
        for command in &batch.commands {
            self.log_command(&mut tx, command, None).await?;
        }

        let total_events: usize = writes.iter().map(|w| w.events.len()).sum();
        if total_events == 0 {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let reserved = column(total_events, "an event count")?;
        let mut reserve = self.statement("UPDATE event_position SET last = last + ");
        reserve.bind_int(reserved).push(" RETURNING last");
        let last = tx
            .fetch_first::<i64>(&reserve, "reserving global positions")
            .await?
            .ok_or_else(|| Error::Store("the event_position row is missing".into()))?;
        let before = last.saturating_sub(reserved);
        // `before` is at most `i64::MAX`, so adding 1 cannot overflow a u64.
        let first_global = u64::try_from(before).map_err(|_| last_position_error(before))? + 1;

        // Envelopes in batch order (the order the in-memory store uses too).
        let mut envelopes = Vec::with_capacity(total_events);
        let mut event_json = Vec::with_capacity(total_events);
        writes.sort_by_key(|w| w.index);
        for (staged, write) in batch.aggregates.iter().zip(writes) {
            if staged.events.is_empty() {
                continue;
            }
            let stream = staged.stream();
            for (offset, (event, json)) in staged.events.iter().zip(write.events).enumerate() {
                let vtable = event.event.vtable;
                envelopes.push(EventEnvelope {
                    payload: event.event.payload.clone(),
                    vtable,
                    metadata: Arc::new(Metadata {
                        id: event.id,
                        kind: MessageKind::Event,
                        type_name: event.type_name.clone(),
                        stream: stream.clone(),
                        stream_position: stream_start[write.index] + offset as u64 + 1,
                        global_position: first_global + envelopes.len() as u64,
                        timestamp: batch.timestamp,
                        correlation_id: event.causation.correlation_id,
                        causation_id: event.causation.causation_id,
                        origin_stream: event.causation.origin_stream.clone(),
                        schema_version: vtable.version,
                    }),
                });
                event_json.push(json);
            }
        }
        for (chunk, json) in envelopes
            .chunks(EVENTS_PER_INSERT)
            .zip(event_json.chunks(EVENTS_PER_INSERT))
        {
            let mut insert = self.statement(&format!(
                "INSERT INTO events (category, {EVENT_COLUMNS}) VALUES "
            ));
            for (i, (envelope, data)) in chunk.iter().zip(json).enumerate() {
                let meta = &envelope.metadata;
                let global_position = column(meta.global_position, "a global position")?;
                let stream_position = column(meta.stream_position, "a stream position")?;
                if i > 0 {
                    insert.push(", ");
                }
                insert
                    .push("(")
                    .bind_text(envelope.vtable.category)
                    .push(", ")
                    .bind_int(global_position)
                    .push(", ")
                    .bind_text(meta.id.to_string())
                    .push(", ")
                    .bind_text(meta.stream.as_ref())
                    .push(", ")
                    .bind_int(stream_position)
                    .push(", ")
                    .bind_text(meta.type_name.as_ref())
                    .push(", ")
                    .bind_int(i64::from(meta.schema_version))
                    .push(", ")
                    .bind_text(data.clone())
                    .push(self.json_cast())
                    .push(", ")
                    .bind_text(meta.correlation_id.to_string())
                    .push(", ")
                    .bind(optional_text(meta.causation_id))
                    .push(", ")
                    .bind(optional_text(meta.origin_stream.as_deref()))
                    .push(", ")
                    .bind_int(recorded_at)
                    .push(")");
            }
            tx.execute(&insert, "writing events").await?;
        }
        tx.commit().await?;
        Ok(envelopes)
    }

    /// Appends `command` to the command log at the next command position (locking the
    /// `command_position` row to the end of `tx`); `submission` marks one submitted for the
    /// engine. Returns its position.
    async fn log_command(
        &self,
        tx: &mut Tx,
        command: &PendingCommand,
        submission: Option<SubmissionState>,
    ) -> Result<i64> {
        let meta = &command.metadata;
        let reserve = self.statement("UPDATE command_position SET last = last + 1 RETURNING last");
        let position = tx
            .fetch_first::<i64>(&reserve, "reserving a command position")
            .await?
            .ok_or_else(|| Error::Store("the command_position row is missing".into()))?;
        let mut insert = self.statement(&format!(
            "INSERT INTO commands ({COMMAND_COLUMNS}, submission) VALUES ("
        ));
        insert
            .bind_int(position)
            .push(", ")
            .bind_text(meta.id.to_string())
            .push(", ")
            .bind_text(meta.type_name.as_ref())
            .push(", ")
            .bind_text(meta.stream.as_ref())
            .push(", ")
            .bind_text(&*command.payload)
            .push(self.json_cast())
            .push(", ")
            .bind_text(meta.correlation_id.to_string())
            .push(", ")
            .bind(optional_text(meta.causation_id))
            .push(", ")
            .bind(optional_text(meta.origin_stream.as_deref()))
            .push(", ")
            .bind_int(micros(meta.timestamp))
            .push(", ")
            .bind(optional_text(submission.map(SubmissionState::column)))
            .push(")");
        tx.execute(&insert, "writing the command record").await?;
        Ok(position)
    }

    /// Moves a subscription's checkpoint `from` -> `to` (and writes the delivery's failure
    /// record) in `tx`; [`Error::CheckpointMoved`] if the checkpoint is elsewhere. For a retried
    /// delivery, deletes its record instead; [`Error::DeliveryClaimed`] if the claim was lost.
    /// For a submitted command, marks it done; [`Error::SubmissionSettled`] if it is no longer
    /// pending.
    async fn advance(&self, tx: &mut Tx, mark: &super::DeliveryMark, now: i64) -> Result<()> {
        let mark = match mark {
            super::DeliveryMark::Checkpoint(checkpoint) => checkpoint,
            super::DeliveryMark::Submission { position, id } => {
                let mut done = self.statement(
                    "UPDATE commands SET submission = 'done', last_error = NULL, retry_at = NULL \
                     WHERE submission = 'pending' AND position = ",
                );
                done.bind_int(column(*position, "a command position")?);
                if tx.execute(&done, "settling a submitted command").await? == 0 {
                    return Err(Error::SubmissionSettled { id: *id });
                }
                return Ok(());
            }
            super::DeliveryMark::Retry { id, claimant } => {
                // Not if an operator skipped it meanwhile (after this retry's claim expired).
                let mut delete = self
                    .statement("DELETE FROM failed_deliveries WHERE skipped_by IS NULL AND id = ");
                delete
                    .bind_text(id.to_string())
                    .push(" AND claimed_by = ")
                    .bind_text(claimant.to_string());
                if tx.execute(&delete, "deleting a retried delivery").await? == 0 {
                    return Err(Error::DeliveryClaimed { id: *id });
                }
                return Ok(());
            }
        };
        let mut update = self.statement("UPDATE subscriptions SET position = ");
        update
            .bind_int(column(mark.to, "a checkpoint")?)
            .push(", updated_at = ")
            .bind_int(now)
            // A delivery that commits clears the attempts counted before it (poison detection).
            .push(", attempts = 0, attempt_position = NULL WHERE name = ")
            .bind_text(mark.subscription)
            .push(" AND segment = 0 AND position = ")
            .bind_int(column(mark.from, "a checkpoint")?);
        if tx.execute(&update, "advancing a subscription").await? == 0 {
            return Err(Error::CheckpointMoved {
                subscription: mark.subscription.to_string(),
                expected: mark.from,
            });
        }
        if let Some(failure) = &mark.failure {
            tx.execute(&self.failure_upsert(failure)?, "writing a failed delivery")
                .await?;
        }
        Ok(())
    }

    /// The checkpoints of `names`; those not stored yet start at the log's head.
    pub async fn open_subscriptions(&self, names: &[&'static str]) -> Result<Vec<u64>> {
        let mut tx = self.pool.begin_write().await?;
        for name in names {
            // `WHERE true`: SQLite's parser needs it between `SELECT` and `ON CONFLICT`.
            let mut insert = self.statement(
                "INSERT INTO subscriptions (name, segment, position, fence, updated_at) SELECT ",
            );
            insert
                .bind_text(*name)
                .push(", 0, last, 0, ")
                .bind_int(micros(SystemTime::now()))
                .push(" FROM event_position WHERE true ON CONFLICT DO NOTHING");
            tx.execute(&insert, "registering a subscription").await?;
        }
        tx.commit().await?;
        let rows: Vec<(String, i64)> = self
            .pool
            .fetch(&self.statement("SELECT name, position FROM subscriptions WHERE segment = 0"))
            .await?;
        names
            .iter()
            .map(|name| {
                let (_, position) = rows
                    .iter()
                    .find(|(stored, _)| stored == name)
                    .ok_or_else(|| Error::Store(format!("subscription `{name}` was not stored")))?;
                checkpoint_value(name, *position)
            })
            .collect()
    }

    /// One subscription's stored checkpoint.
    pub async fn checkpoint(&self, name: &str) -> Result<u64> {
        let mut select =
            self.statement("SELECT position FROM subscriptions WHERE segment = 0 AND name = ");
        select.bind_text(name);
        let rows: Vec<i64> = self.pool.fetch(&select).await?;
        let position = rows
            .first()
            .copied()
            .ok_or_else(|| Error::Store(format!("subscription `{name}` is not stored")))?;
        checkpoint_value(name, position)
    }

    /// The error for a write that found another version in the store (and rolls `tx` back).
    async fn conflict(&self, tx: &mut Tx, staged: &super::StagedAggregate, id: &str) -> Error {
        let mut select = self.statement("SELECT version FROM aggregates WHERE aggregate_type = ");
        select
            .bind_text(staged.aggregate)
            .push(" AND id = ")
            .bind_text(id);
        match tx
            .fetch_first::<i64>(&select, "reading the stored version after a conflict")
            .await
        {
            Ok(actual) => match u64::try_from(actual.unwrap_or(0)) {
                Ok(actual) => Error::Conflict {
                    aggregate: staged.aggregate,
                    id: id.to_owned(),
                    expected: staged.expected_version,
                    actual,
                },
                Err(_) => Error::UnreadableAggregate {
                    aggregate: staged.aggregate,
                    id: id.to_owned(),
                    reason: format!("its stored version {} is out of range", actual.unwrap_or(0)),
                },
            },
            Err(e) => e,
        }
    }

    // ---- event store -----------------------------------------------------------------------

    fn event_select(&self) -> Statement {
        let columns = EVENT_COLUMNS.replace(" data,", &format!(" {},", self.data_text()));
        self.statement(&format!("SELECT {columns} FROM events WHERE "))
    }

    async fn read_events(&self, select: Statement) -> Result<Vec<EventEnvelope>> {
        let rows: Vec<EventRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .map(|row| row.decode(&self.codec))
            .collect()
    }

    /// The events of `stream` after stream position `after`, for an aggregate's replay: each
    /// one's stream position and decoded payload, without the metadata a reader of the event
    /// store gets (three columns read instead of twelve, no id or timestamp parsed per row).
    pub async fn replay_events(
        &self,
        stream: &str,
        after: u64,
    ) -> Result<Vec<(u64, DecodedEvent)>> {
        let mut select = self.statement(&format!(
            "SELECT type_name, {} FROM events WHERE stream = ",
            self.data_text()
        ));
        select
            .bind_text(stream)
            .push(" AND stream_position > ")
            .bind_int(to_i64(after))
            .push(" ORDER BY stream_position");
        // A stream's positions run 1, 2, 3.. (each commit appends after the row's position, and
        // (stream, stream_position) is unique): the n-th row read is position `after + n`, so the
        // column is not read. Each row is decoded from the borrowed cells: no owned copy of its
        // type name or data.
        let mut position = after;
        self.pool
            .fetch_with(&select, |row| {
                position += 1;
                let (type_name, data) = (row.text_ref(0)?, row.text_ref(1)?);
                // The global position is not read (a replay does not need it): 0 here, and a
                // reader of the event store sees the row with it.
                let decoded = self.codec.decode_event(type_name, data).map_err(|e| {
                    Error::UnreadableEvent {
                        stream: stream.to_owned(),
                        stream_position: position,
                        global_position: 0,
                        type_name: type_name.to_owned(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((position, decoded))
            })
            .await
    }

    pub async fn read_stream(&self, stream: &str) -> Result<Vec<EventEnvelope>> {
        let mut select = self.event_select();
        select
            .push("stream = ")
            .bind_text(stream)
            .push(" ORDER BY stream_position");
        self.read_events(select).await
    }

    pub async fn read_category(
        &self,
        category: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>> {
        let mut select = self.event_select();
        select
            .push("category = ")
            .bind_text(category)
            .push(" AND global_position > ")
            .bind_int(to_i64(after))
            .push(" ORDER BY global_position LIMIT ")
            .bind_int(to_i64(limit));
        self.read_events(select).await
    }

    pub async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>> {
        let mut select = self.event_select();
        select
            .push("global_position > ")
            .bind_int(to_i64(after))
            .push(" ORDER BY global_position LIMIT ")
            .bind_int(to_i64(limit));
        self.read_events(select).await
    }

    pub async fn last_position(&self) -> Result<u64> {
        let last: Vec<i64> = self
            .pool
            .fetch(&self.statement("SELECT last FROM event_position"))
            .await?;
        let last = last.first().copied().unwrap_or(0);
        u64::try_from(last).map_err(|_| last_position_error(last))
    }

    // ---- command log -----------------------------------------------------------------------

    fn command_select(&self) -> Statement {
        let columns = COMMAND_COLUMNS.replace(" data,", &format!(" {},", self.data_text()));
        self.statement(&format!("SELECT {columns} FROM commands WHERE "))
    }

    async fn read_command_rows(&self, select: Statement) -> Result<Vec<RecordedCommand>> {
        let rows: Vec<CommandRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .map(|row| row.decode(&self.codec))
            .collect()
    }

    pub async fn read_command_stream(&self, stream: &str) -> Result<Vec<RecordedCommand>> {
        let mut select = self.command_select();
        select
            .push("stream = ")
            .bind_text(stream)
            .push(" ORDER BY position");
        self.read_command_rows(select).await
    }

    pub async fn read_commands(&self, after: u64, limit: usize) -> Result<Vec<RecordedCommand>> {
        let mut select = self.command_select();
        select
            .push("position > ")
            .bind_int(to_i64(after))
            .push(" ORDER BY position LIMIT ")
            .bind_int(to_i64(limit));
        self.read_command_rows(select).await
    }

    pub async fn last_command_position(&self) -> Result<u64> {
        let last: Vec<i64> = self
            .pool
            .fetch(&self.statement("SELECT last FROM command_position"))
            .await?;
        let last = last.first().copied().unwrap_or(0);
        u64::try_from(last).map_err(|_| {
            Error::Store(format!(
                "the `command_position` row says the last command position is {last}, which is \
                 not a position: set it to the highest `position` in `commands`"
            ))
        })
    }

    // ---- submitted commands ----------------------------------------------------------------

    pub async fn submit(&self, command: PendingCommand) -> Result<(u64, bool)> {
        let id = command.metadata.id;
        if let Some(position) = self.position_of_command(id).await? {
            return Ok((position, false));
        }
        let logged = {
            let mut tx = self.pool.begin_write().await?;
            match self
                .log_command(&mut tx, &command, Some(SubmissionState::Pending))
                .await
            {
                Ok(position) => tx.commit().await.map(|()| position),
                // Rolled back (dropped) here, before the lookup takes another connection.
                Err(error) => Err(error),
            }
        };
        match logged {
            Ok(position) => Ok((to_position(position)?, true)),
            // Submitted by someone else since the lookup (the id is unique): theirs stands.
            Err(error) => match self.position_of_command(id).await? {
                Some(position) => Ok((position, false)),
                None => Err(error),
            },
        }
    }

    async fn position_of_command(&self, id: Uuid) -> Result<Option<u64>> {
        let mut find = self.statement("SELECT position FROM commands WHERE id = ");
        find.bind_text(id.to_string());
        let found: Vec<i64> = self.pool.fetch(&find).await?;
        found.first().map(|&p| to_position(p)).transpose()
    }

    fn submission_select(&self) -> Statement {
        let columns = COMMAND_COLUMNS.replace(" data,", &format!(" {},", self.data_text()));
        self.statement(&format!(
            "SELECT {columns}, submission, attempts, last_error FROM commands WHERE "
        ))
    }

    async fn read_submissions(&self, select: Statement) -> Result<Vec<Submission>> {
        let rows: Vec<SubmissionRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .map(|row| row.decode(&self.codec))
            .collect()
    }

    pub async fn due_submissions(&self, now: SystemTime, limit: usize) -> Result<Vec<Submission>> {
        let mut select = self.submission_select();
        select
            .push("submission = 'pending' AND (retry_at IS NULL OR retry_at <= ")
            .bind_int(micros(now))
            .push(") ORDER BY position LIMIT ")
            .bind_int(to_i64(limit));
        self.read_submissions(select).await
    }

    pub async fn count_submission_attempt(
        &self,
        position: u64,
        now: SystemTime,
    ) -> Result<Option<u32>> {
        let mut count = self.statement(
            "UPDATE commands SET attempts = attempts + 1 WHERE submission = 'pending' \
             AND (retry_at IS NULL OR retry_at <= ",
        );
        count
            .bind_int(micros(now))
            .push(") AND position = ")
            .bind_int(column(position, "a command position")?)
            .push(" RETURNING attempts");
        let mut tx = self.pool.begin_write().await?;
        let attempts = tx
            .fetch_first::<i64>(&count, "counting a command attempt")
            .await?;
        tx.commit().await?;
        Ok(attempts.map(|a| u32::try_from(a).unwrap_or(u32::MAX)))
    }

    pub async fn submission_failed(
        &self,
        position: u64,
        error: &str,
        next: NextAttempt,
    ) -> Result<()> {
        let mut update = self.statement("UPDATE commands SET last_error = ");
        update.bind_text(error);
        match next {
            NextAttempt::At(at) => update.push(", retry_at = ").bind_int(micros(at)),
            NextAttempt::Never => update.push(", retry_at = NULL, submission = 'failed'"),
        };
        update
            .push(" WHERE submission = 'pending' AND position = ")
            .bind_int(column(position, "a command position")?);
        let mut tx = self.pool.begin_write().await?;
        tx.execute(&update, "recording a failed command attempt")
            .await?;
        tx.commit().await
    }

    pub async fn submission(&self, id: Uuid) -> Result<Option<Submission>> {
        let mut select = self.submission_select();
        select
            .push("submission IS NOT NULL AND id = ")
            .bind_text(id.to_string());
        Ok(self.read_submissions(select).await?.into_iter().next())
    }

    pub async fn failed_submissions(&self) -> Result<Vec<Submission>> {
        let mut select = self.submission_select();
        select.push("submission = 'failed' ORDER BY position");
        self.read_submissions(select).await
    }

    pub async fn resubmit(&self, id: Uuid) -> Result<bool> {
        let mut update = self.statement(
            "UPDATE commands SET submission = 'pending', attempts = 0, retry_at = NULL \
             WHERE submission = 'failed' AND id = ",
        );
        update.bind_text(id.to_string());
        let mut tx = self.pool.begin_write().await?;
        let changed = tx.execute(&update, "resubmitting a failed command").await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    // ---- failed deliveries -----------------------------------------------------------------

    pub async fn record_failure(&self, failure: &FailedDelivery) -> Result<()> {
        let upsert = self.failure_upsert(failure)?;
        let mut tx = self.pool.begin_write().await?;
        tx.execute(&upsert, "writing a failed delivery").await?;
        tx.commit().await
    }

    /// Writes `failure`, or updates the record with its id.
    fn failure_upsert(&self, failure: &FailedDelivery) -> Result<Statement> {
        let global_position = column(failure.event.metadata.global_position, "a global position")?;
        let mut upsert = self.statement(
            "INSERT INTO failed_deliveries (id, handler, global_position, error, attempts, recorded_at, blocked_by) VALUES (",
        );
        let blocked_by = match &failure.state {
            DeliveryState::Blocked { behind } => Some(behind),
            DeliveryState::Parked | DeliveryState::Skipped { .. } => None,
        };
        upsert
            .bind_text(failure.id.to_string())
            .push(", ")
            .bind_text(failure.handler.as_ref())
            .push(", ")
            .bind_int(global_position)
            .push(", ")
            .bind_text(failure.error.clone())
            .push(", ")
            .bind_int(i64::from(failure.attempts))
            .push(", ")
            .bind_int(micros(SystemTime::now()))
            .push(", ")
            .bind(optional_text(blocked_by))
            .push(
                ") ON CONFLICT (id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts",
            );
        Ok(upsert)
    }

    /// The failure record of `handler`'s delivery of the event at `global_position`.
    pub async fn failure_of(
        &self,
        handler: &str,
        global_position: u64,
    ) -> Result<Option<FailedDelivery>> {
        let mut select = self.failure_select();
        select
            .push(" WHERE f.handler = ")
            .bind_text(handler)
            .push(" AND f.global_position = ")
            .bind_int(to_i64(global_position));
        let rows: Vec<FailureRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .next()
            .map(|row| row.decode(&self.codec))
            .transpose()
    }

    fn failure_select(&self) -> Statement {
        let columns = EVENT_COLUMNS
            .split(", ")
            .map(|c| match c {
                "data" => format!("e.{}", self.data_text()),
                c => format!("e.{c}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.statement(&format!(
            "SELECT f.id, f.handler, f.error, f.attempts, f.blocked_by, f.skipped_by, \
             f.skip_reason, {columns} FROM failed_deliveries f \
             JOIN events e ON e.global_position = f.global_position"
        ))
    }

    pub async fn failed_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        let mut select = self.failure_select();
        select.push(" WHERE f.skipped_by IS NULL ORDER BY f.recorded_at, f.global_position, f.id");
        let rows: Vec<FailureRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .map(|row| row.decode(&self.codec))
            .collect()
    }

    pub async fn failure(&self, id: Uuid) -> Result<Option<FailedDelivery>> {
        let mut select = self.failure_select();
        select.push(" WHERE f.id = ").bind_text(id.to_string());
        let rows: Vec<FailureRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .next()
            .map(|row| row.decode(&self.codec))
            .transpose()
    }

    /// Claims the failed delivery `id` for `claimant` until `until`, counting the attempt before
    /// the handler runs; `None` if there is no such record or another claim on it is still
    /// valid at `now`. One conditional `UPDATE`: of two racing claimants, one wins.
    pub async fn claim_failure(
        &self,
        id: Uuid,
        claimant: Uuid,
        now: SystemTime,
        until: SystemTime,
    ) -> Result<Option<FailedDelivery>> {
        let mut update = self.statement("UPDATE failed_deliveries SET claimed_by = ");
        update
            .bind_text(claimant.to_string())
            .push(", claimed_until = ")
            .bind_int(micros(until))
            .push(", attempts = attempts + 1 WHERE skipped_by IS NULL AND id = ")
            .bind_text(id.to_string())
            .push(" AND (claimed_until IS NULL OR claimed_until < ")
            .bind_int(micros(now))
            .push(")");
        let mut tx = self.pool.begin_write().await?;
        let claimed = tx.execute(&update, "claiming a failed delivery").await?;
        tx.commit().await?;
        if claimed == 0 {
            return Ok(None);
        }
        self.failure(id).await
    }

    /// The deliveries blocked behind `id`, in log order.
    pub async fn blocked_behind(&self, id: Uuid) -> Result<Vec<FailedDelivery>> {
        let mut select = self.failure_select();
        select
            .push(" WHERE f.blocked_by = ")
            .bind_text(id.to_string())
            .push(" ORDER BY f.global_position");
        let rows: Vec<FailureRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .map(|row| row.decode(&self.codec))
            .collect()
    }

    /// Makes `next` the parked head of its stream, and re-points the rest behind `head` at it.
    pub async fn promote(&self, head: Uuid, next: Uuid) -> Result<()> {
        let mut parked =
            self.statement("UPDATE failed_deliveries SET blocked_by = NULL WHERE id = ");
        parked.bind_text(next.to_string());
        let mut rest = self.statement("UPDATE failed_deliveries SET blocked_by = ");
        rest.bind_text(next.to_string())
            .push(" WHERE blocked_by = ")
            .bind_text(head.to_string());
        let mut tx = self.pool.begin_write().await?;
        tx.execute(&parked, "promoting a blocked delivery").await?;
        tx.execute(&rest, "re-pointing blocked deliveries").await?;
        tx.commit().await
    }

    /// Marks `id` skipped, unless a retry's claim on it is still valid.
    pub async fn skip_failure(&self, id: Uuid, by: &str, reason: &str) -> Result<bool> {
        let now = micros(SystemTime::now());
        let mut update = self.statement("UPDATE failed_deliveries SET skipped_by = ");
        update
            .bind_text(by)
            .push(", skip_reason = ")
            .bind_text(reason)
            .push(", skipped_at = ")
            .bind_int(now)
            .push(", blocked_by = NULL WHERE skipped_by IS NULL AND id = ")
            .bind_text(id.to_string())
            .push(" AND (claimed_until IS NULL OR claimed_until < ")
            .bind_int(now)
            .push(")");
        let mut tx = self.pool.begin_write().await?;
        let skipped = tx.execute(&update, "skipping a failed delivery").await?;
        tx.commit().await?;
        Ok(skipped == 1)
    }

    pub async fn skipped_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        let mut select = self.failure_select();
        select.push(" WHERE f.skipped_by IS NOT NULL ORDER BY f.skipped_at, f.id");
        let rows: Vec<FailureRow> = self.pool.fetch(&select).await?;
        rows.into_iter()
            .map(|row| row.decode(&self.codec))
            .collect()
    }

    pub async fn purge_skipped(&self) -> Result<u64> {
        let delete = self.statement("DELETE FROM failed_deliveries WHERE skipped_by IS NOT NULL");
        let mut tx = self.pool.begin_write().await?;
        let purged = tx.execute(&delete, "purging skipped deliveries").await?;
        tx.commit().await?;
        Ok(purged)
    }

    /// Clears the attempts counted on subscription `name`.
    pub async fn clear_attempts(&self, name: &str) -> Result<()> {
        let mut update = self.statement(
            "UPDATE subscriptions SET attempts = 0, attempt_position = NULL WHERE segment = 0 AND name = ",
        );
        update.bind_text(name);
        let mut tx = self.pool.begin_write().await?;
        tx.execute(&update, "clearing delivery attempts").await?;
        tx.commit().await
    }

    /// Counts an attempt at `position` on subscription `name` (see the `subscriptions` table).
    pub async fn count_attempt(&self, name: &str, position: u64) -> Result<u32> {
        let position = column(position, "a position")?;
        let mut update =
            self.statement("UPDATE subscriptions SET attempts = CASE WHEN attempt_position = ");
        update
            .bind_int(position)
            .push(" THEN attempts + 1 ELSE 1 END, attempt_position = ")
            .bind_int(position)
            .push(" WHERE segment = 0 AND name = ")
            .bind_text(name)
            .push(" RETURNING attempts");
        let mut tx = self.pool.begin_write().await?;
        let attempts = tx
            .fetch_first::<i64>(&update, "counting a delivery attempt")
            .await?
            .ok_or_else(|| Error::Store(format!("subscription `{name}` is not stored")))?;
        tx.commit().await?;
        u32::try_from(attempts)
            .map_err(|_| Error::Store(format!("subscription `{name}` counts {attempts} attempts")))
    }

    /// Gives up `claimant`'s claim on `id` after another failure, keeping `error`.
    pub async fn release_failure(&self, id: Uuid, claimant: Uuid, error: &str) -> Result<()> {
        let mut update = self.statement("UPDATE failed_deliveries SET error = ");
        update
            .bind_text(error)
            .push(", claimed_by = NULL, claimed_until = NULL WHERE id = ")
            .bind_text(id.to_string())
            .push(" AND claimed_by = ")
            .bind_text(claimant.to_string());
        let mut tx = self.pool.begin_write().await?;
        tx.execute(&update, "releasing a failed delivery").await?;
        tx.commit().await
    }

    /// Deletes `id` after a successful retry, if `claimant` still holds it.
    pub async fn resolve_failure(&self, id: Uuid, claimant: Uuid) -> Result<()> {
        let mut delete =
            self.statement("DELETE FROM failed_deliveries WHERE skipped_by IS NULL AND id = ");
        delete
            .bind_text(id.to_string())
            .push(" AND claimed_by = ")
            .bind_text(claimant.to_string());
        let mut tx = self.pool.begin_write().await?;
        tx.execute(&delete, "deleting a failed delivery").await?;
        tx.commit().await
    }
}

/// One aggregate's serialized write, remembering its place in the batch.
struct AggregateWrite {
    index: usize,
    id: String,
    /// The row's new data; `None` keeps what it holds (an event-sourced aggregate with no
    /// snapshot due).
    data: Option<String>,
    events: Vec<String>,
}

/// An `aggregates` row: id, version, document, and the query's total match count.
struct StoredAggregate {
    id: String,
    version: i64,
    data: String,
    total: i64,
}

impl FromRow for StoredAggregate {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        Ok(StoredAggregate {
            id: row.text(0)?,
            version: row.int(1)?,
            data: row.text(2)?,
            total: row.int(3)?,
        })
    }
}

impl StoredAggregate {
    /// The typed aggregate; a row that does not decode is an [`Error::UnreadableAggregate`]
    /// naming it, so one bad row fails only the reads that return it.
    fn decode<A: Aggregate>(self) -> Result<A> {
        let unreadable = |reason: String| Error::UnreadableAggregate {
            aggregate: A::NAME,
            id: self.id.clone(),
            reason,
        };
        // Stored rows start at version 1 (0 means "not stored yet" to the unit of work).
        let version = u64::try_from(self.version)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                unreadable(format!(
                    "its version {} is out of range (versions start at 1)",
                    self.version
                ))
            })?;
        let mut aggregate: A = serde_json::from_str(&self.data).map_err(|e| {
            unreadable(format!(
                "the document (version {version}) does not decode: {e}"
            ))
        })?;
        aggregate.__state_mut().version = version;
        Ok(aggregate)
    }
}

/// An `events` row, as read (columns in [`EVENT_COLUMNS`] order from `first`).
struct EventRow {
    global_position: i64,
    id: String,
    stream: String,
    stream_position: i64,
    type_name: String,
    schema_version: i64,
    data: String,
    correlation_id: String,
    causation_id: Option<String>,
    origin_stream: Option<String>,
    recorded_at: i64,
}

impl EventRow {
    fn read(row: &dyn Cells, first: usize) -> Result<Self> {
        Ok(EventRow {
            global_position: row.int(first)?,
            id: row.text(first + 1)?,
            stream: row.text(first + 2)?,
            stream_position: row.int(first + 3)?,
            type_name: row.text(first + 4)?,
            schema_version: row.int(first + 5)?,
            data: row.text(first + 6)?,
            correlation_id: row.text(first + 7)?,
            causation_id: row.optional_text(first + 8)?,
            origin_stream: row.optional_text(first + 9)?,
            recorded_at: row.int(first + 10)?,
        })
    }

    /// The typed envelope; a row that does not decode is an [`Error::UnreadableEvent`] naming it.
    fn decode(self, codec: &Codec) -> Result<EventEnvelope> {
        // Positions start at 1; an out-of-range one is reported as 0 in the error's field (which
        // cannot hold it) and with its stored value in the reason.
        let position = |stored: i64| u64::try_from(stored).ok().filter(|p| *p >= 1);
        let (stream_position, global_position) = (
            position(self.stream_position),
            position(self.global_position),
        );
        let unreadable = |reason: String| Error::UnreadableEvent {
            stream: self.stream.clone(),
            stream_position: stream_position.unwrap_or(0),
            global_position: global_position.unwrap_or(0),
            type_name: self.type_name.clone(),
            reason,
        };
        let out_of_range =
            |what: &str, stored: i64| unreadable(format!("its {what} {stored} is out of range"));
        let stream_position =
            stream_position.ok_or_else(|| out_of_range("stream position", self.stream_position))?;
        let global_position =
            global_position.ok_or_else(|| out_of_range("global position", self.global_position))?;
        // Microseconds since 1970: commits never write a negative one (`micros`).
        let timestamp = u64::try_from(self.recorded_at)
            .ok()
            .and_then(|micros| UNIX_EPOCH.checked_add(Duration::from_micros(micros)))
            .ok_or_else(|| out_of_range("timestamp", self.recorded_at))?;
        let uuid = |text: &str, what: &str| {
            Uuid::parse_str(text).map_err(|e| unreadable(format!("bad {what} `{text}`: {e}")))
        };
        let decoded = codec
            .decode_event(&self.type_name, &self.data)
            .map_err(|e| unreadable(e.to_string()))?;
        let causation_id = match &self.causation_id {
            Some(text) => Some(uuid(text, "causation id")?),
            None => None,
        };
        let metadata = Metadata {
            id: uuid(&self.id, "event id")?,
            kind: MessageKind::Event,
            type_name: Arc::from(self.type_name.as_str()),
            stream: Arc::from(self.stream.as_str()),
            stream_position,
            global_position,
            timestamp,
            correlation_id: uuid(&self.correlation_id, "correlation id")?,
            causation_id,
            origin_stream: self.origin_stream.as_deref().map(Arc::from),
            schema_version: u32::try_from(self.schema_version)
                .map_err(|_| unreadable(format!("bad schema version {}", self.schema_version)))?,
        };
        Ok(EventEnvelope {
            payload: decoded.payload,
            vtable: decoded.vtable,
            metadata: Arc::new(metadata),
        })
    }
}

impl FromRow for EventRow {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        EventRow::read(row, 0)
    }
}

/// A `commands` row, as read (columns in [`COMMAND_COLUMNS`] order).
struct CommandRow {
    position: i64,
    id: String,
    type_name: String,
    stream: String,
    data: String,
    correlation_id: String,
    causation_id: Option<String>,
    origin_stream: Option<String>,
    recorded_at: i64,
}

/// A `commands` row with its submission columns, as read by `submission_select`.
struct SubmissionRow {
    command: CommandRow,
    state: String,
    attempts: i64,
    last_error: Option<String>,
}

impl FromRow for SubmissionRow {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        Ok(SubmissionRow {
            command: CommandRow::from_row(row)?,
            state: row.text(9)?,
            attempts: row.int(10)?,
            last_error: row.optional_text(11)?,
        })
    }
}

impl SubmissionRow {
    fn decode(self, codec: &Codec) -> Result<Submission> {
        Ok(Submission {
            command: self.command.decode(codec)?,
            state: SubmissionState::from_column(&self.state)?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            last_error: self.last_error,
        })
    }
}

impl FromRow for CommandRow {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        Ok(CommandRow {
            position: row.int(0)?,
            id: row.text(1)?,
            type_name: row.text(2)?,
            stream: row.text(3)?,
            data: row.text(4)?,
            correlation_id: row.text(5)?,
            causation_id: row.optional_text(6)?,
            origin_stream: row.optional_text(7)?,
            recorded_at: row.int(8)?,
        })
    }
}

impl CommandRow {
    /// The record; a row that cannot be read is an [`Error::UnreadableCommand`] naming it. The
    /// payload only has to be JSON: whether it still decodes into its type is for
    /// [`RecordedCommand::decode`] to say, so the log stays readable after a command changes.
    fn decode(self, codec: &Codec) -> Result<RecordedCommand> {
        let position = u64::try_from(self.position).ok().filter(|p| *p >= 1);
        let unreadable = |reason: String| Error::UnreadableCommand {
            position: position.unwrap_or(0),
            stream: self.stream.clone(),
            type_name: self.type_name.clone(),
            reason,
        };
        let position = position
            .ok_or_else(|| unreadable(format!("its position {} is out of range", self.position)))?;
        let timestamp = u64::try_from(self.recorded_at)
            .ok()
            .and_then(|micros| UNIX_EPOCH.checked_add(Duration::from_micros(micros)))
            .ok_or_else(|| {
                unreadable(format!(
                    "its timestamp {} is out of range",
                    self.recorded_at
                ))
            })?;
        let uuid = |text: &str, what: &str| {
            Uuid::parse_str(text).map_err(|e| unreadable(format!("bad {what} `{text}`: {e}")))
        };
        let causation_id = match &self.causation_id {
            Some(text) => Some(uuid(text, "causation id")?),
            None => None,
        };
        let payload = serde_json::from_str(&self.data)
            .map_err(|e| unreadable(format!("its payload is not JSON: {e}")))?;
        let metadata = Metadata {
            id: uuid(&self.id, "command id")?,
            kind: MessageKind::Command,
            type_name: Arc::from(self.type_name.as_str()),
            stream: Arc::from(self.stream.as_str()),
            stream_position: 0,
            global_position: position,
            timestamp,
            correlation_id: uuid(&self.correlation_id, "correlation id")?,
            causation_id,
            origin_stream: self.origin_stream.as_deref().map(Arc::from),
            schema_version: 1,
        };
        Ok(RecordedCommand {
            type_id: codec.command_type_id(&self.type_name),
            metadata: Arc::new(metadata),
            payload,
        })
    }
}

/// A `failed_deliveries` row joined with its event.
struct FailureRow {
    id: String,
    handler: String,
    error: String,
    attempts: i64,
    blocked_by: Option<String>,
    skipped_by: Option<String>,
    skip_reason: Option<String>,
    event: EventRow,
}

impl FromRow for FailureRow {
    fn from_row(row: &dyn Cells) -> Result<Self> {
        Ok(FailureRow {
            id: row.text(0)?,
            handler: row.text(1)?,
            error: row.text(2)?,
            attempts: row.int(3)?,
            blocked_by: row.optional_text(4)?,
            skipped_by: row.optional_text(5)?,
            skip_reason: row.optional_text(6)?,
            event: EventRow::read(row, 7)?,
        })
    }
}

impl FailureRow {
    fn decode(self, codec: &Codec) -> Result<FailedDelivery> {
        Ok(FailedDelivery {
            id: Uuid::parse_str(&self.id)
                .map_err(|e| Error::Store(format!("bad failure id `{}`: {e}", self.id)))?,
            handler: Arc::from(self.handler.as_str()),
            attempts: u32::try_from(self.attempts).map_err(|_| {
                Error::Store(format!(
                    "failed delivery `{}`: its attempt count {} is out of range",
                    self.id, self.attempts
                ))
            })?,
            event: self.event.decode(codec)?,
            error: self.error,
            state: DeliveryState::from_columns(self.blocked_by, self.skipped_by, self.skip_reason)?,
        })
    }
}

/// A timestamp as stored: microseconds since 1970. A clock set before 1970 records 0 and one
/// past the year 294,000 saturates; neither is a stored value being misread.
fn micros(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A position read from a column, which must be one (at least 1).
fn to_position(value: i64) -> Result<u64> {
    u64::try_from(value)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| Error::Store(format!("a stored position {value} is out of range")))
}

/// A query bound (`LIMIT`, `OFFSET`, "after position"), saturated at `i64::MAX`: no table holds
/// more rows or higher positions than that, so the saturated bound selects the same rows.
fn to_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// A value written into a `BIGINT` column. One past `i64::MAX` cannot be stored: an error, where
/// `as i64` would write a negative number.
fn column<T: TryInto<i64> + Copy + std::fmt::Display>(value: T, what: &str) -> Result<i64> {
    value
        .try_into()
        .map_err(|_| Error::Store(format!("{what} of {value} does not fit a BIGINT column")))
}

/// A `count(*)` as a `usize`.
fn row_count(count: i64) -> Result<usize> {
    usize::try_from(count).map_err(|_| Error::Store(format!("the database counted {count} rows")))
}

/// A stored checkpoint as a position (checkpoints are never written below 0).
fn checkpoint_value(name: &str, stored: i64) -> Result<u64> {
    u64::try_from(stored).map_err(|_| {
        Error::Store(format!(
            "subscription `{name}` is stored at position {stored}, which is not a position"
        ))
    })
}

/// The error for an `event_position` row whose last position is not one (it is below 0).
fn last_position_error(last: i64) -> Error {
    Error::Store(format!(
        "the `event_position` row says the last global position is {last}, which is not a \
         position: set it to the highest `global_position` in `events`"
    ))
}

fn optional_text(value: Option<impl ToString>) -> Param {
    value.map_or(Param::Null, |v| Param::Text(v.to_string()))
}
