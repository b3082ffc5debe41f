//! The in-memory store: hash maps and append-only logs (events, commands) behind one lock.
//!
//! Every per-operation path is O(1) amortized whatever the store size: load and save are hash-map
//! operations, appending an event is a push plus two index pushes, logging a command is a push
//! (plus an index push once command streams are read), reading a stream walks only that
//! stream's index. (Protean's memory store copies the whole database per unit of work.) The single
//! `RwLock` is what makes a commit atomic: all version checks run before the first write, under the
//! same write guard.

use foldhash::{HashMap, HashSet};
use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::{RwLock, RwLockUpgradableReadGuard};
use uuid::Uuid;

use super::{
    CommitBatch, DeliveryMark, DeliveryState, FailedDelivery, Head, NextAttempt, PendingCommand,
    RowWrite, StoredSnapshot, Submission, SubmissionState,
};
use crate::model::codec::Codec;
use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::message::{EventEnvelope, MessageKind, Metadata, RecordedCommand};
use crate::model::query::{Filter, QueryResult, QuerySpec};
use crate::model::{Aggregate, EventVTable};

#[derive(Default)]
pub(crate) struct MemoryStore {
    state: RwLock<State>,
    /// Names the types of logged commands when they are read back.
    codec: Arc<Codec>,
}

impl MemoryStore {
    pub fn new(codec: Arc<Codec>) -> Self {
        MemoryStore {
            state: RwLock::default(),
            codec,
        }
    }
}

#[derive(Default)]
struct State {
    tables: HashMap<TypeId, HashMap<Identifier, Row>>,
    /// Every committed event; global position = index + 1.
    log: Vec<EventEnvelope>,
    /// Stream name -> indexes into `log`, in stream order.
    streams: HashMap<Arc<str>, Vec<usize>>,
    /// Category -> indexes into `log`, ascending.
    categories: HashMap<&'static str, Vec<usize>>,
    /// Every committed command, as the unit of work handed it over (metadata shared with the
    /// handler's context, payload as JSON text); command-log position = index + 1. Records are
    /// built at read time so that commits stay a push.
    commands: Vec<PendingCommand>,
    /// Command stream -> indexes into `commands`, ascending. Built by the first command-stream
    /// read (one scan) and kept up to date by every commit after, like the equality indexes:
    /// until something reads a command stream, logging a command is one push and no hashing
    /// (most commands start a stream of their own, so indexing each would cost a hash-map insert
    /// and an allocation per command for an index that may never be read).
    command_streams: Option<HashMap<Arc<str>, Vec<usize>>>,
    /// Command id -> index into `commands`. Built by the first submit (one scan), which must
    /// tell a new id from a logged one, and kept up to date by every commit after; until then
    /// logging a command costs no hashing, as for `command_streams`.
    command_ids: Option<HashMap<Uuid, usize>>,
    /// Submitted commands (async command processing), by index into `commands`.
    submissions: HashMap<usize, SubmissionRow>,
    /// The pending ones, in log order: what the engine looks through for due work.
    pending: std::collections::BTreeSet<usize>,
    failed: Vec<FailedDelivery>,
    /// Retry claims: failed delivery -> (claimant, valid until).
    claims: HashMap<Uuid, (Uuid, SystemTime)>,
    /// Subscription (event handler path) -> checkpoint (the last global position handled).
    subscriptions: HashMap<&'static str, u64>,
    /// Subscription -> (position, attempts counted before running its handler there).
    attempts: HashMap<String, (u64, u32)>,
    /// Equality indexes, built on the first `find_by`/query on a field and kept up to date by
    /// every commit after, so lookups by value cost O(matches), not O(table).
    indexes: HashMap<TypeId, Vec<EqIndex>>,
}

/// Keys a stored row for one index (`None` if the row is of another type).
type ErasedKey = Box<dyn Fn(&(dyn Any + Send + Sync)) -> Option<String> + Send + Sync>;

struct EqIndex {
    field: &'static str,
    key_of: ErasedKey,
    buckets: HashMap<String, HashSet<Identifier>>,
}

impl EqIndex {
    fn insert(&mut self, id: &Identifier, value: &(dyn Any + Send + Sync)) {
        if let Some(key) = (self.key_of)(value) {
            self.buckets.entry(key).or_default().insert(id.clone());
        }
    }

    fn remove(&mut self, id: &Identifier, value: &(dyn Any + Send + Sync)) {
        if let Some(key) = (self.key_of)(value)
            && let Some(bucket) = self.buckets.get_mut(&key)
        {
            bucket.remove(id);
            if bucket.is_empty() {
                self.buckets.remove(&key);
            }
        }
    }
}

/// A submitted command's progress, beside its log record.
struct SubmissionRow {
    state: SubmissionState,
    attempts: u32,
    last_error: Option<String>,
    retry_at: Option<SystemTime>,
}

struct Row {
    version: u64,
    value: Arc<dyn Any + Send + Sync>,
    /// An event-sourced aggregate's last snapshot and the stream position it folds.
    snapshot: Option<(u64, Arc<dyn Any + Send + Sync>)>,
}

fn typed<A: Aggregate>(row: &Row) -> Result<A> {
    let mut aggregate = row
        .value
        .downcast_ref::<A>()
        .ok_or_else(|| {
            Error::Store(format!(
                "a row of the `{}` table holds another type",
                A::NAME
            ))
        })?
        .clone();
    aggregate.__state_mut().version = row.version;
    Ok(aggregate)
}

/// `row` with its `A`, if it holds an `A` that `filter` accepts.
fn row_matching<'r, A: Aggregate>(
    row: &'r Row,
    filter: Option<&Filter<A>>,
) -> Option<(&'r Row, &'r A)> {
    let aggregate = row.value.downcast_ref::<A>()?;
    filter
        .is_none_or(|f| f.matches(aggregate))
        .then_some((row, aggregate))
}

impl MemoryStore {
    pub async fn load<A: Aggregate>(&self, id: &Identifier) -> Result<Option<A>> {
        let state = self.state.read();
        match state.tables.get(&TypeId::of::<A>()).and_then(|t| t.get(id)) {
            Some(row) => typed(row).map(Some),
            None => Ok(None),
        }
    }

    /// An event-sourced `A`'s row for `id`: its version and its snapshot.
    pub async fn head_of<A: Aggregate>(&self, id: &Identifier) -> Result<Option<Head>> {
        let state = self.state.read();
        Ok(state
            .tables
            .get(&TypeId::of::<A>())
            .and_then(|t| t.get(id))
            .map(|row| Head {
                version: row.version,
                snapshot: row
                    .snapshot
                    .as_ref()
                    .map(|(position, value)| StoredSnapshot::Value {
                        position: *position,
                        value: value.clone(),
                    }),
            }))
    }

    pub async fn query<A: Aggregate>(&self, spec: &QuerySpec<A>) -> Result<QueryResult<A>> {
        self.with_matching(spec.filter.as_ref(), &[], |rows| {
            let (total, page) = spec.page(rows, |(_, aggregate)| aggregate);
            let items = page.into_iter().map(|(row, _)| typed::<A>(row));
            Ok(QueryResult {
                total,
                items: items.collect::<Result<_>>()?,
            })
        })
    }

    /// Every stored `A` matching `filter`, except those whose id is in `skip`.
    pub async fn matching<A: Aggregate>(
        &self,
        filter: Option<&Filter<A>>,
        skip: &[Identifier],
    ) -> Result<Vec<A>> {
        self.with_matching(filter, skip, |rows| {
            rows.into_iter().map(|(row, _)| typed(row)).collect()
        })
    }

    /// Calls `then` with the rows of `A` matching `filter` (minus the ids in `skip`), by
    /// reference and under the read lock: callers clone only what they return.
    fn with_matching<A: Aggregate, T>(
        &self,
        filter: Option<&Filter<A>>,
        skip: &[Identifier],
        then: impl FnOnce(Vec<(&Row, &A)>) -> Result<T>,
    ) -> Result<T> {
        let skip = |id: &Identifier| skip.contains(id);
        let type_id = TypeId::of::<A>();
        if let Some(equality) = filter.and_then(Filter::required_equality)
            && let Some((field, key, key_of)) = equality.equality_index()
        {
            let state = self.indexed(type_id, field, key_of);
            let Some(table) = state.tables.get(&type_id) else {
                return then(Vec::new());
            };
            let index = state
                .indexes
                .get(&type_id)
                .and_then(|all| all.iter().find(|i| i.field == field));
            let rows = index
                .and_then(|i| i.buckets.get(&key))
                .into_iter()
                .flatten()
                .filter(|id| !skip(id))
                .filter_map(|id| table.get(id))
                .filter_map(|row| row_matching(row, filter))
                .collect();
            return then(rows);
        }
        let state = self.state.read();
        let Some(table) = state.tables.get(&type_id) else {
            return then(Vec::new());
        };
        let rows = table
            .iter()
            .filter(|(id, _)| !skip(id))
            .filter_map(|(_, row)| row_matching(row, filter))
            .collect();
        then(rows)
    }

    /// A read guard under which `type_id` has an equality index on `field` (built now if missing:
    /// one scan, the first time a field is looked up by value).
    fn indexed<A: Aggregate>(
        &self,
        type_id: TypeId,
        field: &'static str,
        key_of: &crate::model::query::IndexKey<A>,
    ) -> parking_lot::RwLockReadGuard<'_, State> {
        let guard = self.state.upgradable_read();
        let exists = guard
            .indexes
            .get(&type_id)
            .is_some_and(|all| all.iter().any(|i| i.field == field));
        if exists {
            return RwLockUpgradableReadGuard::downgrade(guard);
        }
        let mut state = RwLockUpgradableReadGuard::upgrade(guard);
        let key_of = key_of.clone();
        let mut index = EqIndex {
            field,
            key_of: Box::new(move |value| value.downcast_ref::<A>().map(|a| key_of(a))),
            buckets: HashMap::default(),
        };
        for (id, row) in state.tables.get(&type_id).into_iter().flatten() {
            index.insert(id, row.value.as_ref());
        }
        state.indexes.entry(type_id).or_default().push(index);
        parking_lot::RwLockWriteGuard::downgrade(state)
    }

    /// Commits `batch` at once (the in-memory store never waits).
    pub(crate) fn commit_now(&self, batch: CommitBatch) -> Result<Vec<EventEnvelope>> {
        let mut guard = self.state.write();
        let state = &mut *guard;
        // Check every version before writing anything: a conflict leaves the store untouched.
        for staged in &batch.aggregates {
            let actual = state
                .tables
                .get(&staged.type_id)
                .and_then(|t| t.get(&staged.id))
                .map_or(0, |row| row.version);
            if actual != staged.expected_version {
                return Err(Error::Conflict {
                    aggregate: staged.aggregate,
                    id: staged.id.to_string(),
                    expected: staged.expected_version,
                    actual,
                });
            }
        }
        match batch.mark.as_deref() {
            Some(DeliveryMark::Checkpoint(mark)) => {
                let at = state.subscriptions.get(mark.subscription).copied();
                if at != Some(mark.from) {
                    return Err(Error::CheckpointMoved {
                        subscription: mark.subscription.to_string(),
                        expected: mark.from,
                    });
                }
            }
            Some(DeliveryMark::Submission { position, id }) => {
                let pending =
                    submission_index(*position).is_some_and(|index| state.pending.contains(&index));
                if !pending {
                    return Err(Error::SubmissionSettled { id: *id });
                }
            }
            Some(DeliveryMark::Retry { id, claimant }) => {
                let held = state.claims.get(id).is_some_and(|(by, _)| by == claimant);
                let skipped = state
                    .failed
                    .iter()
                    .any(|f| f.id == *id && matches!(f.state, DeliveryState::Skipped { .. }));
                if !held || skipped {
                    return Err(Error::DeliveryClaimed { id: *id });
                }
            }
            None => {}
        }
        // Nothing below can fail: the command is logged exactly when the changes are written.
        match batch.mark.map(|mark| *mark) {
            Some(DeliveryMark::Checkpoint(mark)) => {
                state.subscriptions.insert(mark.subscription, mark.to);
                state.attempts.remove(mark.subscription);
                if let Some(failure) = mark.failure {
                    state.failed.retain(|f| f.id != failure.id);
                    state.failed.push(failure);
                }
            }
            Some(DeliveryMark::Retry { id, .. }) => {
                state.claims.remove(&id);
                state.failed.retain(|f| f.id != id);
            }
            Some(DeliveryMark::Submission { position, .. }) => {
                if let Some(index) = submission_index(position) {
                    state.pending.remove(&index);
                    if let Some(row) = state.submissions.get_mut(&index) {
                        row.state = SubmissionState::Done;
                        row.last_error = None;
                        row.retry_at = None;
                    }
                }
            }
            None => {}
        }
        for command in batch.commands {
            if let Some(ids) = &mut state.command_ids {
                // The first command logged with an id keeps it, as the SQL stores' unique id.
                ids.entry(command.metadata.id)
                    .or_insert(state.commands.len());
            }
            if let Some(streams) = &mut state.command_streams {
                let stream = command.metadata.stream.clone();
                streams
                    .entry(stream)
                    .or_default()
                    .push(state.commands.len());
            }
            state.commands.push(command);
        }
        let mut committed =
            Vec::with_capacity(batch.aggregates.iter().map(|a| a.events.len()).sum());
        for staged in batch.aggregates {
            // An existing stream's name is shared from its index (no allocation per commit).
            let stream = (!staged.events.is_empty()).then(|| {
                staged.with_stream(|name| {
                    state
                        .streams
                        .get_key_value(name)
                        .map_or_else(|| Arc::from(name), |(known, _)| known.clone())
                })
            });
            let table = state.tables.entry(staged.type_id).or_default();
            if let Some(indexes) = state.indexes.get_mut(&staged.type_id) {
                for index in indexes {
                    if let Some(old) = table.get(&staged.id) {
                        index.remove(&staged.id, old.value.as_ref());
                    }
                    index.insert(&staged.id, staged.value.as_ref());
                }
            }
            let snapshot = match staged.row {
                RowWrite::State => None,
                RowWrite::Head => table.get(&staged.id).and_then(|row| row.snapshot.clone()),
                RowWrite::Snapshot { position, .. } => Some((position, staged.value.clone())),
            };
            table.insert(
                staged.id,
                Row {
                    version: staged.expected_version + 1,
                    value: staged.value,
                    snapshot,
                },
            );
            let Some(stream) = stream else { continue };
            let stream_index = state.streams.entry(stream.clone()).or_default();
            for event in staged.events {
                let index = state.log.len();
                stream_index.push(index);
                let vtable = event.event.vtable;
                let envelope = EventEnvelope {
                    payload: event.event.payload,
                    vtable,
                    metadata: Arc::new(Metadata {
                        id: event.id,
                        kind: MessageKind::Event,
                        type_name: event.type_name,
                        stream: stream.clone(),
                        stream_position: stream_index.len() as u64,
                        global_position: index as u64 + 1,
                        timestamp: batch.timestamp,
                        correlation_id: event.causation.correlation_id,
                        causation_id: event.causation.causation_id,
                        origin_stream: event.causation.origin_stream.clone(),
                        schema_version: vtable.version,
                    }),
                };
                state
                    .categories
                    .entry(vtable.category)
                    .or_default()
                    .push(index);
                state.log.push(envelope.clone());
                committed.push(envelope);
            }
        }
        Ok(committed)
    }

    /// The events of `stream` after stream position `after`, for an aggregate's replay: each
    /// one's stream position and payload.
    /// Calls `apply` with each event of `stream` after position `after`, in order, under the
    /// read lock: a replay folds the stored payloads in place, without collecting them first
    /// (an in-memory load does no more than a hand-written fold). Returns the stream position of
    /// the last event (`after` if there is none after it).
    pub fn fold_stream<E>(
        &self,
        stream: &str,
        after: u64,
        mut apply: impl FnMut(&'static EventVTable, &(dyn Any + Send + Sync)) -> Result<(), E>,
    ) -> Result<u64, E> {
        let state = self.state.read();
        let skip = usize::try_from(after).unwrap_or(usize::MAX);
        let Some(indexes) = state.streams.get(stream) else {
            return Ok(after);
        };
        for &i in indexes.iter().skip(skip) {
            let event = &state.log[i];
            apply(event.vtable, event.payload.as_ref())?;
        }
        // A stream's positions run 1, 2, 3..: its n-th index is position n, which spares
        // reading each event's metadata.
        Ok(after.max(indexes.len() as u64))
    }

    pub async fn read_stream(&self, stream: &str) -> Result<Vec<EventEnvelope>> {
        let state = self.state.read();
        Ok(state
            .streams
            .get(stream)
            .map(|idx| idx.iter().map(|&i| state.log[i].clone()).collect())
            .unwrap_or_default())
    }

    /// Events of `category` with a global position greater than `after`, at most `limit`.
    pub async fn read_category(
        &self,
        category: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>> {
        let state = self.state.read();
        let Some(index) = state.categories.get(category) else {
            return Ok(Vec::new());
        };
        // Indexes are ascending, and position = index + 1: binary search for the start.
        let start = index.partition_point(|&i| (i as u64) < after);
        Ok(index[start..]
            .iter()
            .take(limit)
            .map(|&i| state.log[i].clone())
            .collect())
    }

    /// Every event with a global position greater than `after`, at most `limit`.
    pub async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>> {
        let state = self.state.read();
        let start = (after as usize).min(state.log.len());
        Ok(state.log[start..].iter().take(limit).cloned().collect())
    }

    pub async fn last_position(&self) -> Result<u64> {
        Ok(self.state.read().log.len() as u64)
    }

    /// The commands of `stream`, in commit order.
    pub async fn read_command_stream(&self, stream: &str) -> Result<Vec<RecordedCommand>> {
        let state = self.command_streams_indexed();
        let streams = state.command_streams.as_ref().expect("indexed above");
        let Some(index) = streams.get(stream) else {
            return Ok(Vec::new());
        };
        index
            .iter()
            .map(|&i| recorded(&self.codec, &state.commands[i], i))
            .collect()
    }

    /// A read guard under which the command-stream index exists (built now if missing).
    fn command_streams_indexed(&self) -> parking_lot::RwLockReadGuard<'_, State> {
        let guard = self.state.upgradable_read();
        if guard.command_streams.is_some() {
            return RwLockUpgradableReadGuard::downgrade(guard);
        }
        let mut state = RwLockUpgradableReadGuard::upgrade(guard);
        let mut streams: HashMap<Arc<str>, Vec<usize>> = HashMap::default();
        for (index, command) in state.commands.iter().enumerate() {
            let stream = command.metadata.stream.clone();
            streams.entry(stream).or_default().push(index);
        }
        state.command_streams = Some(streams);
        parking_lot::RwLockWriteGuard::downgrade(state)
    }

    /// Commands with a command-log position greater than `after`, at most `limit`.
    pub async fn read_commands(&self, after: u64, limit: usize) -> Result<Vec<RecordedCommand>> {
        let state = self.state.read();
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(state.commands.len());
        state.commands[start..]
            .iter()
            .take(limit)
            .enumerate()
            .map(|(offset, command)| recorded(&self.codec, command, start + offset))
            .collect()
    }

    pub async fn last_command_position(&self) -> Result<u64> {
        Ok(self.state.read().commands.len() as u64)
    }

    pub async fn record_failure(&self, failure: &FailedDelivery) -> Result<()> {
        let mut state = self.state.write();
        match state.failed.iter_mut().find(|f| f.id == failure.id) {
            Some(existing) => *existing = failure.clone(),
            None => state.failed.push(failure.clone()),
        }
        Ok(())
    }

    pub async fn failure_of(
        &self,
        handler: &str,
        global_position: u64,
    ) -> Result<Option<FailedDelivery>> {
        Ok(self
            .state
            .read()
            .failed
            .iter()
            .find(|f| &*f.handler == handler && f.event.metadata.global_position == global_position)
            .cloned())
    }

    pub async fn open_subscriptions(&self, names: &[&'static str]) -> Result<Vec<u64>> {
        let mut state = self.state.write();
        let head = state.log.len() as u64;
        Ok(names
            .iter()
            .map(|name| *state.subscriptions.entry(name).or_insert(head))
            .collect())
    }

    pub async fn checkpoint(&self, name: &str) -> Result<u64> {
        Ok(self
            .state
            .read()
            .subscriptions
            .get(name)
            .copied()
            .unwrap_or_default())
    }

    pub async fn failed_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        Ok(self
            .state
            .read()
            .failed
            .iter()
            .filter(|f| !matches!(f.state, DeliveryState::Skipped { .. }))
            .cloned()
            .collect())
    }

    pub async fn blocked_behind(&self, id: Uuid) -> Result<Vec<FailedDelivery>> {
        let mut behind: Vec<FailedDelivery> = self
            .state
            .read()
            .failed
            .iter()
            .filter(|f| f.state == DeliveryState::Blocked { behind: id })
            .cloned()
            .collect();
        behind.sort_by_key(|f| f.event.metadata.global_position);
        Ok(behind)
    }

    pub async fn promote(&self, head: Uuid, next: Uuid) -> Result<()> {
        let mut state = self.state.write();
        for failed in &mut state.failed {
            if failed.id == next {
                failed.state = DeliveryState::Parked;
            } else if failed.state == (DeliveryState::Blocked { behind: head }) {
                failed.state = DeliveryState::Blocked { behind: next };
            }
        }
        Ok(())
    }

    pub async fn skip_failure(&self, id: Uuid, by: &str, reason: &str) -> Result<bool> {
        let mut state = self.state.write();
        // As on SQL: refused only while a retry's claim is still valid.
        let now = SystemTime::now();
        if state
            .claims
            .get(&id)
            .is_some_and(|(_, until)| *until >= now)
        {
            return Ok(false);
        }
        state.claims.remove(&id);
        let Some(failed) = state.failed.iter_mut().find(|f| f.id == id) else {
            return Ok(false);
        };
        failed.state = DeliveryState::Skipped {
            by: by.to_string(),
            reason: reason.to_string(),
        };
        Ok(true)
    }

    pub async fn skipped_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        Ok(self
            .state
            .read()
            .failed
            .iter()
            .filter(|f| matches!(f.state, DeliveryState::Skipped { .. }))
            .cloned()
            .collect())
    }

    pub async fn purge_skipped(&self) -> Result<u64> {
        let mut state = self.state.write();
        let before = state.failed.len();
        state
            .failed
            .retain(|f| !matches!(f.state, DeliveryState::Skipped { .. }));
        Ok((before - state.failed.len()) as u64)
    }

    pub async fn clear_attempts(&self, name: &str) -> Result<()> {
        self.state.write().attempts.remove(name);
        Ok(())
    }

    pub async fn count_attempt(&self, name: &str, position: u64) -> Result<u32> {
        let mut state = self.state.write();
        let entry = state
            .attempts
            .entry(name.to_string())
            .or_insert((position, 0));
        if entry.0 != position {
            *entry = (position, 0);
        }
        entry.1 += 1;
        Ok(entry.1)
    }

    pub async fn failure(&self, id: Uuid) -> Result<Option<FailedDelivery>> {
        Ok(self
            .state
            .read()
            .failed
            .iter()
            .find(|f| f.id == id)
            .cloned())
    }

    pub async fn claim_failure(
        &self,
        id: Uuid,
        claimant: Uuid,
        now: SystemTime,
        until: SystemTime,
    ) -> Result<Option<FailedDelivery>> {
        let mut state = self.state.write();
        if state
            .claims
            .get(&id)
            .is_some_and(|(_, valid)| *valid >= now)
        {
            return Ok(None);
        }
        let Some(failed) = state
            .failed
            .iter_mut()
            .find(|f| f.id == id && !matches!(f.state, DeliveryState::Skipped { .. }))
        else {
            return Ok(None);
        };
        failed.attempts += 1;
        let claimed = failed.clone();
        state.claims.insert(id, (claimant, until));
        Ok(Some(claimed))
    }

    pub async fn release_failure(&self, id: Uuid, claimant: Uuid, error: &str) -> Result<()> {
        let mut state = self.state.write();
        if state
            .claims
            .get(&id)
            .is_some_and(|(holder, _)| *holder == claimant)
        {
            state.claims.remove(&id);
            if let Some(failed) = state.failed.iter_mut().find(|f| f.id == id) {
                failed.error = error.to_string();
            }
        }
        Ok(())
    }

    pub async fn resolve_failure(&self, id: Uuid, claimant: Uuid) -> Result<()> {
        let mut state = self.state.write();
        if state
            .claims
            .get(&id)
            .is_some_and(|(holder, _)| *holder == claimant)
        {
            state.claims.remove(&id);
            state.failed.retain(|f| f.id != id);
        }
        Ok(())
    }
}

/// The index into `commands` of command-log position `position`.
fn submission_index(position: u64) -> Option<usize> {
    usize::try_from(position).ok()?.checked_sub(1)
}

impl MemoryStore {
    pub async fn submit(&self, command: PendingCommand) -> Result<(u64, bool)> {
        let mut guard = self.state.write();
        let state = &mut *guard;
        let ids = state.command_ids.get_or_insert_with(|| {
            let commands = state.commands.iter().enumerate();
            commands.map(|(index, c)| (c.metadata.id, index)).collect()
        });
        if let Some(&index) = ids.get(&command.metadata.id) {
            return Ok((index as u64 + 1, false));
        }
        let index = state.commands.len();
        ids.insert(command.metadata.id, index);
        if let Some(streams) = &mut state.command_streams {
            let stream = command.metadata.stream.clone();
            streams.entry(stream).or_default().push(index);
        }
        state.commands.push(command);
        state.submissions.insert(
            index,
            SubmissionRow {
                state: SubmissionState::Pending,
                attempts: 0,
                last_error: None,
                retry_at: None,
            },
        );
        state.pending.insert(index);
        Ok((index as u64 + 1, true))
    }

    pub async fn due_submissions(&self, now: SystemTime, limit: usize) -> Result<Vec<Submission>> {
        let state = self.state.read();
        state
            .pending
            .iter()
            .filter(|index| {
                let row = &state.submissions[*index];
                row.retry_at.is_none_or(|at| at <= now)
            })
            .take(limit)
            .map(|&index| self.submission_at(&state, index))
            .collect()
    }

    fn submission_at(&self, state: &State, index: usize) -> Result<Submission> {
        let row = &state.submissions[&index];
        Ok(Submission {
            command: recorded(&self.codec, &state.commands[index], index)?,
            state: row.state,
            attempts: row.attempts,
            last_error: row.last_error.clone(),
        })
    }

    pub async fn count_submission_attempt(
        &self,
        position: u64,
        now: SystemTime,
    ) -> Result<Option<u32>> {
        let mut state = self.state.write();
        let Some(index) = submission_index(position).filter(|i| state.pending.contains(i)) else {
            return Ok(None);
        };
        let row = state
            .submissions
            .get_mut(&index)
            .expect("pending rows exist");
        if row.retry_at.is_some_and(|at| at > now) {
            return Ok(None); // not due: another run set its next attempt since it was read
        }
        row.attempts += 1;
        Ok(Some(row.attempts))
    }

    pub async fn submission_failed(
        &self,
        position: u64,
        error: &str,
        next: NextAttempt,
    ) -> Result<()> {
        let mut state = self.state.write();
        let Some(index) = submission_index(position).filter(|i| state.pending.contains(i)) else {
            return Ok(());
        };
        let row = state
            .submissions
            .get_mut(&index)
            .expect("pending rows exist");
        row.last_error = Some(error.to_owned());
        match next {
            NextAttempt::At(at) => row.retry_at = Some(at),
            NextAttempt::Never => {
                row.state = SubmissionState::Failed;
                row.retry_at = None;
                state.pending.remove(&index);
            }
        }
        Ok(())
    }

    pub async fn submission(&self, id: Uuid) -> Result<Option<Submission>> {
        let state = self.state.read();
        let Some(&index) = state.command_ids.as_ref().and_then(|ids| ids.get(&id)) else {
            return Ok(None);
        };
        if !state.submissions.contains_key(&index) {
            return Ok(None);
        }
        self.submission_at(&state, index).map(Some)
    }

    pub async fn failed_submissions(&self) -> Result<Vec<Submission>> {
        let state = self.state.read();
        let mut failed: Vec<usize> = state
            .submissions
            .iter()
            .filter(|(_, row)| row.state == SubmissionState::Failed)
            .map(|(index, _)| *index)
            .collect();
        failed.sort_unstable();
        failed
            .into_iter()
            .map(|index| self.submission_at(&state, index))
            .collect()
    }

    pub async fn resubmit(&self, id: Uuid) -> Result<bool> {
        let mut guard = self.state.write();
        let state = &mut *guard;
        let Some(&index) = state.command_ids.as_ref().and_then(|ids| ids.get(&id)) else {
            return Ok(false);
        };
        match state.submissions.get_mut(&index) {
            Some(row) if row.state == SubmissionState::Failed => {
                row.state = SubmissionState::Pending;
                row.attempts = 0;
                row.retry_at = None;
                state.pending.insert(index);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// The record of the logged command at `index` (its position is `index + 1`).
fn recorded(codec: &Codec, command: &PendingCommand, index: usize) -> Result<RecordedCommand> {
    let position = index as u64 + 1;
    let meta = &command.metadata;
    // The text was serialized from the command by serde_json, so it parses; the error is kept
    // rather than a panic all the same.
    let payload = serde_json::from_str(&command.payload).map_err(|e| Error::UnreadableCommand {
        position,
        stream: meta.stream.to_string(),
        type_name: meta.type_name.to_string(),
        reason: format!("its payload is not JSON: {e}"),
    })?;
    Ok(RecordedCommand {
        metadata: Arc::new(Metadata {
            global_position: position,
            ..Metadata::clone(meta)
        }),
        payload,
        type_id: codec.command_type_id(&meta.type_name),
    })
}

#[cfg(test)]
#[allow(unsafe_code)] // the registration statics `#[aggregate]` emits use linkme's link sections
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::store::StagedAggregate;

    #[aggregate(stream_category = "memory_store_test_shelf")]
    pub struct Shelf {
        pub label: String,
    }

    fn save(store: &MemoryStore, shelf: &Shelf, expected_version: u64) -> Result<()> {
        let batch = CommitBatch {
            aggregates: vec![StagedAggregate {
                type_id: TypeId::of::<Shelf>(),
                aggregate: "Shelf",
                id: shelf.id(),
                expected_version,
                value: Arc::new(shelf.clone()),
                to_json: |_| Ok(String::new()),
                category: "shelf",
                events: Vec::new(),
                row: RowWrite::State,
            }],
            commands: Default::default(),
            mark: None,
            timestamp: std::time::SystemTime::now(),
        };
        store.commit_now(batch).map(|_| ())
    }

    fn labelled(store: &MemoryStore, label: &str) -> Vec<String> {
        let filter = Shelf::LABEL.eq(label);
        let mut found: Vec<String> = store
            .with_matching(Some(&filter), &[], |rows| {
                Ok(rows
                    .into_iter()
                    .map(|(_, shelf)| shelf.label.clone())
                    .collect())
            })
            .unwrap();
        found.sort();
        found
    }

    #[test]
    fn equality_index_follows_updates_after_it_is_built() {
        let store = MemoryStore::default();
        let mut a = Shelf::builder().label("red").build().unwrap();
        let b = Shelf::builder().label("blue").build().unwrap();
        save(&store, &a, 0).unwrap();
        save(&store, &b, 0).unwrap();
        assert_eq!(labelled(&store, "red"), ["red"]); // builds the index
        a.label = "blue".into();
        save(&store, &a, 1).unwrap(); // moves `a` between buckets
        assert_eq!(labelled(&store, "red"), Vec::<String>::new());
        assert_eq!(labelled(&store, "blue"), ["blue", "blue"]);
        // A failed (conflicting) commit leaves the index untouched.
        a.label = "green".into();
        assert!(save(&store, &a, 1).is_err());
        assert_eq!(labelled(&store, "green"), Vec::<String>::new());
    }
}
