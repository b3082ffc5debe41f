//! Stores: where aggregates, events, command records and failed deliveries live.
//!
//! The unit of work hands a store one [`CommitBatch`]; the store applies it atomically (every
//! version check passes and every row and event is written, or nothing is) and returns the
//! committed events with their positions. Only then does dispatch see them.
//!
//! [`Store`] is the one boundary the rest of the runtime calls: the in-memory store, and with the
//! `sqlite` / `postgres` features the durable ones. It is an enum rather than a trait object so
//! the in-memory path stays static dispatch (no boxed futures per operation).

pub(crate) mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;

use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::SystemTime;

use smallvec::SmallVec;
use uuid::Uuid;

use crate::model::codec::Codec;
use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::message::{EventEnvelope, RecordedCommand};
use crate::model::query::{Filter, QueryResult, QuerySpec};
use crate::model::{Aggregate, Fold, PendingEvent};

/// An aggregate readable by SQL query handlers: `view` over the rows of type `aggregate`.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) struct EntityView {
    pub aggregate: &'static str,
    pub view: crate::model::query_message::SqlView,
}

/// One aggregate staged for commit, with the events it raised.
pub(crate) struct StagedAggregate {
    pub type_id: TypeId,
    pub aggregate: &'static str,
    pub id: Identifier,
    /// The version the change was based on; 0 for a new aggregate.
    pub expected_version: u64,
    pub value: Arc<dyn Any + Send + Sync>,
    /// Serializes `value` (durable stores write aggregates as JSON documents).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub to_json: fn(&(dyn Any + Send + Sync)) -> crate::model::error::Result<String>,
    /// The aggregate's stream category; see [`StagedAggregate::stream`].
    pub category: &'static str,
    pub events: Vec<StagedEvent>,
    /// What its row holds after the commit.
    pub row: RowWrite,
}

/// What a staged aggregate's row holds after the commit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RowWrite {
    /// A state-stored aggregate: its state (`to_json`).
    State,
    /// An event-sourced aggregate with no snapshot due: the row keeps what it held (JSON `null`
    /// when new); it is the aggregate's head, carrying its version.
    Head,
    /// An event-sourced aggregate whose commit takes its stream past a multiple of its
    /// `snapshot_every`: a snapshot of the state after the commit, at stream `position`.
    Snapshot { position: u64, fingerprint: u64 },
}

/// A snapshot as a durable store keeps it in the row's `data`: the state with the stream
/// position it folds and the fingerprint of the schema it was written under.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SnapshotEnvelope<S> {
    pub fingerprint: u64,
    pub position: u64,
    pub state: S,
}

impl SnapshotEnvelope<()> {
    /// The row data of a snapshot of `state_json` (the aggregate's JSON).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub fn wrap(state_json: &str, position: u64, fingerprint: u64) -> String {
        format!("{{\"fingerprint\":{fingerprint},\"position\":{position},\"state\":{state_json}}}")
    }
}

/// An event-sourced aggregate's row as read back: its version, and its snapshot if it has one.
pub(crate) struct Head {
    pub version: u64,
    pub snapshot: Option<StoredSnapshot>,
}

/// A stored snapshot: the durable stores' row data (decoded by the reader, who knows the type
/// and its fingerprint), or the in-memory store's value.
pub(crate) enum StoredSnapshot {
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    Json(String),
    Value {
        position: u64,
        value: Arc<dyn Any + Send + Sync>,
    },
}

impl StagedAggregate {
    /// The stream the events are appended to, `{category}-{id}`. Built only when there are
    /// events to append: most commits of a reaction stage aggregates that raise none.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub fn stream(&self) -> Arc<str> {
        self.with_stream(|name| Arc::from(name))
    }

    /// Calls `f` with the stream's name, built on the stack (the in-memory store looks an
    /// existing stream up with it and shares the name it already holds).
    pub fn with_stream<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        self.id.with_prefixed(&[self.category, "-"], f)
    }
}

/// An event about to be committed: everything but its positions is known.
pub(crate) struct StagedEvent {
    /// The event's message id.
    pub id: Uuid,
    pub event: PendingEvent,
    pub type_name: Arc<str>,
    /// The message whose handler raised it (a nested command's events commit with the outer
    /// handler's unit of work, under their own command).
    pub causation: Causation,
}

/// The causal context of a staged event.
#[derive(Clone)]
pub(crate) struct Causation {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub origin_stream: Option<Arc<str>>,
}

/// A batch's commands: usually the one command whose handler staged it, kept inline (no
/// allocation per command).
pub(crate) type PendingCommands = SmallVec<[PendingCommand; 1]>;

/// Everything one unit of work writes.
pub(crate) struct CommitBatch {
    pub aggregates: Vec<StagedAggregate>,
    /// The commands whose handlers produced this batch, in the order they were processed: the
    /// outer one first, then those it processed with `ctx.process` (they commit together).
    pub commands: PendingCommands,
    pub timestamp: SystemTime,
    /// Set when the batch is a delivery's: the subscription's progress (and the delivery's
    /// failure, if the handler failed) commit with the handler's writes, or not at all.
    /// Boxed: most batches have none, and every commit future carries the batch.
    pub mark: Option<Box<DeliveryMark>>,
}

/// What a delivery's commit records besides the handler's writes.
pub(crate) enum DeliveryMark {
    /// A subscription's progress.
    Checkpoint(Checkpoint),
    /// A retried failed delivery: its record is deleted in the same transaction as the
    /// handler's writes, if `claimant` still holds the retry's claim on it; otherwise the commit
    /// writes nothing and fails with [`Error::DeliveryClaimed`]. So a crash between the
    /// handler's commit and the record's deletion cannot run a store-writing handler twice.
    Retry { id: Uuid, claimant: Uuid },
    /// A submitted command run by the engine: its log record goes from `pending` to `done` in
    /// the same transaction as its handler's writes, if it is still pending; otherwise the
    /// commit writes nothing and fails with [`Error::SubmissionSettled`] (another engine ran it,
    /// or gave up on it, meanwhile). So the command's effect on the store happens once.
    Submission { position: u64, id: Uuid },
}

/// A subscription's progress, committed in the same transaction as a delivery's writes.
///
/// The store first moves the subscription's checkpoint from `from` to `to` with a compare and
/// set. If the checkpoint is not at `from`, another process delivered first: the commit writes
/// nothing and fails with [`Error::CheckpointMoved`], and the runtime re-reads the checkpoint.
/// So a handler whose effects are writes to this store has them applied exactly once, even
/// across crashes: its writes and its checkpoint are one transaction.
pub(crate) struct Checkpoint {
    /// The subscription: the event handler's full path.
    pub subscription: &'static str,
    pub from: u64,
    pub to: u64,
    /// The record of a failed delivery, written with the advance so it cannot be lost.
    pub failure: Option<FailedDelivery>,
}

impl CommitBatch {
    /// A batch that only records a subscription's progress (a handler that wrote nothing, or
    /// failed).
    pub fn checkpoint_only(checkpoint: Checkpoint) -> CommitBatch {
        CommitBatch {
            aggregates: Vec::new(),
            commands: PendingCommands::new(),
            timestamp: SystemTime::now(),
            mark: Some(Box::new(DeliveryMark::Checkpoint(checkpoint))),
        }
    }
}

/// A processed command, written in the same transaction as its handler's changes by every store.
///
/// The payload is JSON text, serialized once before the handler takes the command: the SQL
/// stores bind it as is, and the in-memory store keeps it without building a `Value` tree. A
/// boxed `str` of its exact size, not a `String`: the in-memory log keeps every payload, so spare
/// capacity would be memory held per command.
pub(crate) struct PendingCommand {
    pub metadata: Arc<crate::model::message::Metadata>,
    pub payload: Box<str>,
}

/// How a durable store connects: the size of its connection pool, and how long an operation
/// may wait for the database before failing. The default waits at most 10 seconds, so that when
/// the database is down or saturated a command fails with [`Error::Store`](crate::Error::Store)
/// instead of hanging; the store reconnects by itself once the database is back.
///
/// ```
/// use std::time::Duration;
/// use domain_core::StoreOptions;
///
/// let options = StoreOptions::new().max_connections(32).timeout(Duration::from_secs(2));
/// assert_eq!(options.timeout_duration(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub(crate) max_connections: Option<u32>,
    pub(crate) timeout: std::time::Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: None,
            timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl StoreOptions {
    /// The defaults: 8 connections on SQLite, 16 on PostgreSQL, a 10 second timeout.
    pub fn new() -> Self {
        StoreOptions::default()
    }

    /// The most connections the pool opens (an in-memory SQLite database always has one).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// How long an operation waits for a connection (PostgreSQL, SQLite) or for a lock held by
    /// another writer (SQLite) before it fails.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The configured timeout.
    pub fn timeout_duration(&self) -> std::time::Duration {
        self.timeout
    }
}

/// An event delivery that failed (a dead letter), kept until a retry succeeds, or skipped.
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    /// The record's id (give it to [`Domain::retry_delivery`](crate::Domain::retry_delivery)).
    pub id: Uuid,
    /// The full path of the handler that failed (`my_shop::mail::Mailer`).
    pub handler: Arc<str>,
    /// The event it failed on.
    pub event: EventEnvelope,
    /// The last error, as text.
    pub error: String,
    /// How many deliveries were attempted (0 for one that waits behind another and never ran).
    pub attempts: u32,
    /// Whether it failed itself, waits behind an earlier failure of its stream, or was skipped.
    pub state: DeliveryState,
}

/// Where a failed delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    /// The handler failed on this event (after its retries); later events of the same stream
    /// wait behind it for this handler, so that the handler sees each stream in order.
    Parked,
    /// Not run: an earlier event of the same stream is parked for this handler (`behind`).
    /// Delivered, in order, when that one is retried successfully or skipped.
    Blocked {
        /// The parked delivery it waits behind.
        behind: Uuid,
    },
    /// Given up on by an operator ([`Domain::skip_delivery`](crate::Domain::skip_delivery)):
    /// kept for the record until purged.
    Skipped {
        /// Who skipped it.
        by: String,
        /// Why.
        reason: String,
    },
}

impl DeliveryState {
    /// The state stored as (`blocked_by`, `skipped_by`, `skip_reason`) columns.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn from_columns(
        blocked_by: Option<String>,
        skipped_by: Option<String>,
        reason: Option<String>,
    ) -> Result<DeliveryState> {
        Ok(match (blocked_by, skipped_by) {
            (_, Some(by)) => DeliveryState::Skipped {
                by,
                reason: reason.unwrap_or_default(),
            },
            (Some(behind), None) => DeliveryState::Blocked {
                behind: Uuid::parse_str(&behind)
                    .map_err(|e| Error::Store(format!("bad blocked_by `{behind}`: {e}")))?,
            },
            (None, None) => DeliveryState::Parked,
        })
    }
}

/// A command submitted for the engine to run ([`Domain::submit`](crate::Domain::submit)), as its
/// log record stands.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The command as logged: its metadata (id, type, stream, correlation) and payload;
    /// `command.position()` is its place in the command log.
    pub command: RecordedCommand,
    /// Where it stands.
    pub state: SubmissionState,
    /// How many runs were started (counted before the handler runs, so a run that stopped
    /// the process counts; a run that found the attempts used up and gave up counts too).
    pub attempts: u32,
    /// The error of the last failed attempt, if any.
    pub last_error: Option<String>,
}

/// Where a submitted command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionState {
    /// Waiting for the engine (not run yet, or failed and waiting for its next attempt).
    Pending,
    /// Its handler ran and committed, once.
    Done,
    /// Given up on: its handler refused it (a validation or rule error, which no retry changes)
    /// or kept failing until its attempts ran out. Retry it with
    /// [`Domain::retry_submission`](crate::Domain::retry_submission).
    Failed,
}

impl SubmissionState {
    /// The `submission` column's text.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn column(self) -> &'static str {
        match self {
            SubmissionState::Pending => "pending",
            SubmissionState::Done => "done",
            SubmissionState::Failed => "failed",
        }
    }

    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn from_column(text: &str) -> Result<SubmissionState> {
        [
            SubmissionState::Pending,
            SubmissionState::Done,
            SubmissionState::Failed,
        ]
        .into_iter()
        .find(|state| state.column() == text)
        .ok_or_else(|| Error::Store(format!("bad command submission state `{text}`")))
    }
}

/// What the engine does with a submitted command after a failed attempt.
pub(crate) enum NextAttempt {
    /// Try again, not before this time.
    At(SystemTime),
    /// Give up: the submission is failed.
    Never,
}

/// The store a domain runs on.
// One per domain, inside its `Arc`: the size difference costs nothing, while boxing the memory
// store would add a pointer hop to every in-memory operation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Store {
    Memory(memory::MemoryStore),
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    Sql(sql::SqlStore),
}

/// Runs the same async call on whichever store this is.
///
/// The SQL futures are large (driver state across many awaits); boxing them keeps every caller's
/// future small, so the in-memory path does not pay for copying space it never uses.
macro_rules! each_store {
    ($store:expr, $s:ident => $call:expr) => {
        match $store {
            Store::Memory($s) => $call.await,
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Store::Sql($s) => Box::pin($call).await,
        }
    };
}

impl Store {
    /// Opens the store `url` names: `memory:`, `sqlite://path.db`, `sqlite::memory:`,
    /// `postgres://...`. Durable stores connect and migrate their schema now.
    /// Opens the store at `url`; `codec` is what it decodes stored messages with.
    pub async fn open(url: &str, codec: Arc<Codec>, options: &StoreOptions) -> Result<Store> {
        #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
        let _ = options;
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "memory" => Ok(Store::Memory(memory::MemoryStore::new(codec))),
            #[cfg(feature = "sqlite")]
            "sqlite" => Ok(Store::Sql(sql::SqlStore::open(url, codec, options).await?)),
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                Ok(Store::Sql(sql::SqlStore::open(url, codec, options).await?))
            }
            #[allow(unreachable_patterns)] // reachable only when a feature is off
            "sqlite" | "postgres" | "postgresql" => Err(Error::Store(format!(
                "`{url}` needs the `{}` feature of domain-core, which this build does not enable",
                if scheme == "sqlite" {
                    "sqlite"
                } else {
                    "postgres"
                }
            ))),
            _ => Err(Error::Store(format!(
                "unsupported database URL `{url}`: expected `memory:`, `sqlite://<path>`, `sqlite::memory:` or `postgres://...`"
            ))),
        }
    }

    /// A durable store on a pool the caller made; its schema is created or upgraded now.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub async fn on_pool(pool: sql::GivenPool, codec: Arc<Codec>) -> Result<Store> {
        Ok(Store::Sql(sql::SqlStore::with_pool(pool, codec).await?))
    }

    /// Runs a SQL query handler's statement (`query` names it in errors): `sql` with each
    /// parameter bound from `fields`, the query's JSON; each selected row as a JSON object of its
    /// columns. The in-memory store has no SQL.
    pub async fn sql_query(
        &self,
        query: &'static str,
        sql: &'static [crate::model::query_message::SqlPart],
        fields: &serde_json::Value,
    ) -> Result<Vec<serde_json::Value>> {
        match self {
            Store::Memory(_) => {
                let _ = (sql, fields);
                Err(Error::SqlQueryOnMemory { query })
            }
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Store::Sql(store) => Box::pin(store.sql_query(sql, fields)).await,
        }
    }

    /// Makes each aggregate in `views` readable by SQL as a view of its name (durable stores;
    /// the in-memory store has no SQL).
    pub async fn create_views(&self, views: &[EntityView]) -> Result<()> {
        match self {
            Store::Memory(_) => {
                let _ = views;
                Ok(())
            }
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Store::Sql(store) => Box::pin(store.create_views(views)).await,
        }
    }

    pub async fn load<A: Aggregate>(&self, id: &Identifier) -> Result<Option<A>> {
        if crate::model::is_event_sourced::<A>() {
            return self.replay::<A>(id).await;
        }
        each_store!(self, s => s.load::<A>(id))
    }

    /// An event-sourced aggregate: its snapshot (if it has one taken under this schema's
    /// fingerprint; otherwise its blank state) with every later event of its stream applied in
    /// order, at the version of its row. The row is the aggregate's head, on which commits check
    /// and take the version, as for state-stored aggregates.
    async fn replay<A: Aggregate>(&self, id: &Identifier) -> Result<Option<A>> {
        let Some(head) = each_store!(self, s => s.head_of::<A>(id))? else {
            return Ok(None);
        };
        let unreadable = |reason: String| Error::UnreadableAggregate {
            aggregate: A::NAME,
            id: id.to_string(),
            reason,
        };
        let (mut aggregate, mut position) = match head.snapshot.and_then(restore::<A>) {
            Some(restored) => restored,
            None => (
                A::__blank(id).ok_or_else(|| {
                    unreadable("it has no blank state to replay its events on".into())
                })?,
                0,
            ),
        };
        let stream_parts = [A::CATEGORY, "-"];
        let mut fold = Fold::new(&mut aggregate);
        match self {
            Store::Memory(store) => {
                position = id
                    .with_prefixed(&stream_parts, |stream| {
                        store.fold_stream(stream, position, |vtable, payload| {
                            fold.apply(vtable, payload)
                        })
                    })
                    .map_err(unreadable)?;
            }
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Store::Sql(store) => {
                let stream = id.prefixed_with(&stream_parts);
                let events = Box::pin(store.replay_events(&stream, position)).await?;
                for (at, event) in events {
                    fold.apply(event.vtable, event.payload.as_ref())
                        .map_err(unreadable)?;
                    position = at;
                }
            }
        }
        let state = aggregate.__state_mut();
        state.version = head.version;
        state.stream_position = position;
        Ok(Some(aggregate))
    }

    /// Every stored `A` matching `filter` whose id is not in `skip` (no order, no paging).
    pub async fn matching<A: Aggregate>(
        &self,
        filter: Option<&Filter<A>>,
        skip: &[Identifier],
    ) -> Result<Vec<A>> {
        refuse_event_sourced_query::<A>()?;
        each_store!(self, s => s.matching(filter, skip))
    }

    /// Runs a whole query: filter, order, paging and count.
    pub async fn query<A: Aggregate>(&self, spec: &QuerySpec<A>) -> Result<QueryResult<A>> {
        refuse_event_sourced_query::<A>()?;
        each_store!(self, s => s.query(spec))
    }

    pub async fn commit(&self, batch: CommitBatch) -> Result<Vec<EventEnvelope>> {
        match self {
            // Called directly: the in-memory commit does not wait, and a future of its own would
            // hold a second copy of the batch inside every commit's future.
            Store::Memory(s) => s.commit_now(batch),
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Store::Sql(s) => Box::pin(s.commit(batch)).await,
        }
    }

    pub async fn read_stream(&self, stream: &str) -> Result<Vec<EventEnvelope>> {
        each_store!(self, s => s.read_stream(stream))
    }

    pub async fn read_category(
        &self,
        category: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>> {
        each_store!(self, s => s.read_category(category, after, limit))
    }

    pub async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>> {
        each_store!(self, s => s.read_all(after, limit))
    }

    pub async fn last_position(&self) -> Result<u64> {
        each_store!(self, s => s.last_position())
    }

    /// The commands of one command stream, in the order they committed.
    pub async fn read_command_stream(&self, stream: &str) -> Result<Vec<RecordedCommand>> {
        each_store!(self, s => s.read_command_stream(stream))
    }

    /// Up to `limit` commands with a command-log position after `after`, in position order.
    pub async fn read_commands(&self, after: u64, limit: usize) -> Result<Vec<RecordedCommand>> {
        each_store!(self, s => s.read_commands(after, limit))
    }

    /// The command-log position of the last committed command (0 when none).
    pub async fn last_command_position(&self) -> Result<u64> {
        each_store!(self, s => s.last_command_position())
    }

    /// Records a failed delivery, or updates the record with the same id.
    pub async fn record_failure(&self, failure: &FailedDelivery) -> Result<()> {
        each_store!(self, s => s.record_failure(failure))
    }

    /// The deliveries waiting behind parked delivery `id`, in log order.
    pub async fn blocked_behind(&self, id: Uuid) -> Result<Vec<FailedDelivery>> {
        each_store!(self, s => s.blocked_behind(id))
    }

    /// Makes `next` (blocked behind `head`) the stream's parked delivery, and the others behind
    /// `head` wait behind `next`; `head` itself is gone (resolved or skipped).
    pub async fn promote(&self, head: Uuid, next: Uuid) -> Result<()> {
        each_store!(self, s => s.promote(head, next))
    }

    /// Marks `id` skipped by `by` for `reason`, unless someone holds a retry claim on it.
    pub async fn skip_failure(&self, id: Uuid, by: &str, reason: &str) -> Result<bool> {
        each_store!(self, s => s.skip_failure(id, by, reason))
    }

    /// Skipped deliveries, oldest first.
    pub async fn skipped_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        each_store!(self, s => s.skipped_deliveries())
    }

    /// Deletes every skipped delivery; returns how many.
    pub async fn purge_skipped(&self) -> Result<u64> {
        each_store!(self, s => s.purge_skipped())
    }

    /// Clears the attempts counted on subscription `name` (its handler returned).
    pub async fn clear_attempts(&self, name: &str) -> Result<()> {
        each_store!(self, s => s.clear_attempts(name))
    }

    /// Counts an attempt to deliver the event at `position` on subscription `name` before the
    /// handler runs; returns the attempts counted for that position so far (this one included).
    pub async fn count_attempt(&self, name: &str, position: u64) -> Result<u32> {
        each_store!(self, s => s.count_attempt(name, position))
    }

    pub async fn failed_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        each_store!(self, s => s.failed_deliveries())
    }

    /// The failure record of `handler`'s delivery of the event at `global_position`, if any.
    pub async fn failure_of(
        &self,
        handler: &str,
        global_position: u64,
    ) -> Result<Option<FailedDelivery>> {
        each_store!(self, s => s.failure_of(handler, global_position))
    }

    /// The checkpoints of the named subscriptions, in order. A subscription not yet stored starts
    /// at the log's head: a handler added to a running system reacts to new events only.
    pub async fn open_subscriptions(&self, names: &[&'static str]) -> Result<Vec<u64>> {
        each_store!(self, s => s.open_subscriptions(names))
    }

    /// One subscription's stored checkpoint.
    pub async fn checkpoint(&self, name: &str) -> Result<u64> {
        each_store!(self, s => s.checkpoint(name))
    }

    pub async fn failure(&self, id: Uuid) -> Result<Option<FailedDelivery>> {
        each_store!(self, s => s.failure(id))
    }

    /// Deletes a failure record once its retry succeeded.
    /// Claims a failed delivery for a retry (see the stores' `claim_failure`).
    pub async fn claim_failure(
        &self,
        id: Uuid,
        claimant: Uuid,
        now: std::time::SystemTime,
        until: std::time::SystemTime,
    ) -> Result<Option<FailedDelivery>> {
        each_store!(self, s => s.claim_failure(id, claimant, now, until))
    }

    pub async fn release_failure(&self, id: Uuid, claimant: Uuid, error: &str) -> Result<()> {
        each_store!(self, s => s.release_failure(id, claimant, error))
    }

    pub async fn resolve_failure(&self, id: Uuid, claimant: Uuid) -> Result<()> {
        each_store!(self, s => s.resolve_failure(id, claimant))
    }

    // ---- submitted commands ----------------------------------------------------------------

    /// Logs a submitted command as pending; returns its command-log position, and whether it
    /// is new (`false`: a command with this id is in the log already, and nothing was written).
    pub async fn submit(&self, command: PendingCommand) -> Result<(u64, bool)> {
        each_store!(self, s => s.submit(command))
    }

    /// Pending submissions whose next attempt is due at `now`, oldest first, at most `limit`.
    pub async fn due_submissions(&self, now: SystemTime, limit: usize) -> Result<Vec<Submission>> {
        each_store!(self, s => s.due_submissions(now, limit))
    }

    /// Counts an attempt at the submission at `position` before its handler runs; the attempts
    /// so far (this one included), or `None` if it is no longer pending or not due at `now`
    /// (another run failed it and set its next attempt since it was read).
    pub async fn count_submission_attempt(
        &self,
        position: u64,
        now: SystemTime,
    ) -> Result<Option<u32>> {
        each_store!(self, s => s.count_submission_attempt(position, now))
    }

    /// Records a failed attempt at a pending submission: retried at a time, or failed for good.
    pub async fn submission_failed(
        &self,
        position: u64,
        error: &str,
        next: NextAttempt,
    ) -> Result<()> {
        each_store!(self, s => s.submission_failed(position, error, next))
    }

    /// The submission of the command with this id, if it was submitted.
    pub async fn submission(&self, id: Uuid) -> Result<Option<Submission>> {
        each_store!(self, s => s.submission(id))
    }

    /// Every failed submission, oldest first.
    pub async fn failed_submissions(&self) -> Result<Vec<Submission>> {
        each_store!(self, s => s.failed_submissions())
    }

    /// Makes a failed submission pending again with its attempts reset; `false` if it is not
    /// failed.
    pub async fn resubmit(&self, id: Uuid) -> Result<bool> {
        each_store!(self, s => s.resubmit(id))
    }
}

/// An event-sourced aggregate's row holds no state to filter on: it is read by id only.
fn refuse_event_sourced_query<A: Aggregate>() -> Result<()> {
    if crate::model::is_event_sourced::<A>() {
        return Err(Error::EventSourcedQuery { aggregate: A::NAME });
    }
    Ok(())
}

/// The state and stream position a snapshot holds, if it is usable: taken under `A`'s current
/// fingerprint and decodable. Anything else means replaying from the start, never a failed load
/// (a snapshot is a cache of the events, which stay the truth).
fn restore<A: Aggregate>(snapshot: StoredSnapshot) -> Option<(A, u64)> {
    match snapshot {
        StoredSnapshot::Value { position, value } => {
            Some((value.downcast_ref::<A>()?.clone(), position))
        }
        StoredSnapshot::Json(data) => {
            let envelope: SnapshotEnvelope<&serde_json::value::RawValue> =
                serde_json::from_str(&data).ok()?;
            if envelope.fingerprint != A::SCHEMA_FINGERPRINT {
                return None;
            }
            let state: A = serde_json::from_str(envelope.state.get()).ok()?;
            Some((state, envelope.position))
        }
    }
}
