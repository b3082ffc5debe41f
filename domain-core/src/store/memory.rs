//! The in-memory store: hash maps and an append-only log behind one lock.
//!
//! Every per-operation path is O(1) amortized whatever the store size: load and save are hash-map
//! operations, appending an event is a push plus two index pushes, reading a stream walks only that
//! stream's index. (Protean's memory store copies the whole database per unit of work.) The single
//! `RwLock` is what makes a commit atomic: all version checks run before the first write, under the
//! same write guard.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use uuid::Uuid;

use super::{CommitBatch, FailedDelivery};
use crate::error::{Error, Result};
use crate::identifier::Identifier;
use crate::message::{EventEnvelope, MessageKind, Metadata};
use crate::model::Aggregate;
use crate::query::Filter;

#[derive(Default)]
pub(crate) struct MemoryStore {
    state: RwLock<State>,
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
    failed: Vec<FailedDelivery>,
}

struct Row {
    version: u64,
    value: Arc<dyn std::any::Any + Send + Sync>,
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

impl MemoryStore {
    pub fn load<A: Aggregate>(&self, id: &Identifier) -> Result<Option<A>> {
        let state = self.state.read();
        match state.tables.get(&TypeId::of::<A>()).and_then(|t| t.get(id)) {
            Some(row) => typed(row).map(Some),
            None => Ok(None),
        }
    }

    /// Every stored `A` matching `filter`, except those whose id is in `skip`.
    pub fn matching<A: Aggregate>(
        &self,
        filter: Option<&Filter<A>>,
        skip: &dyn Fn(&Identifier) -> bool,
    ) -> Result<Vec<A>> {
        let state = self.state.read();
        let Some(table) = state.tables.get(&TypeId::of::<A>()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (id, row) in table {
            if skip(id) {
                continue;
            }
            if let Some(aggregate) = row.value.downcast_ref::<A>()
                && filter.is_none_or(|f| f.matches(aggregate))
            {
                out.push(typed(row)?);
            }
        }
        Ok(out)
    }

    pub fn commit(&self, batch: CommitBatch) -> Result<Vec<EventEnvelope>> {
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
        let mut committed =
            Vec::with_capacity(batch.aggregates.iter().map(|a| a.events.len()).sum());
        for staged in batch.aggregates {
            state.tables.entry(staged.type_id).or_default().insert(
                staged.id,
                Row {
                    version: staged.expected_version + 1,
                    value: staged.value,
                },
            );
            if staged.events.is_empty() {
                continue;
            }
            let stream_index = state.streams.entry(staged.stream.clone()).or_default();
            for event in staged.events {
                let index = state.log.len();
                stream_index.push(index);
                let vtable = event.event.vtable;
                let envelope = EventEnvelope {
                    payload: event.event.payload,
                    vtable,
                    metadata: Arc::new(Metadata {
                        id: Uuid::new_v4(),
                        kind: MessageKind::Event,
                        type_name: event.type_name,
                        stream: staged.stream.clone(),
                        stream_position: stream_index.len() as u64,
                        global_position: index as u64 + 1,
                        timestamp: batch.timestamp,
                        correlation_id: batch.causation.correlation_id,
                        causation_id: batch.causation.causation_id,
                        origin_stream: batch.causation.origin_stream.clone(),
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

    pub fn read_stream(&self, stream: &str) -> Vec<EventEnvelope> {
        let state = self.state.read();
        state
            .streams
            .get(stream)
            .map(|idx| idx.iter().map(|&i| state.log[i].clone()).collect())
            .unwrap_or_default()
    }

    /// Events of `category` with a global position greater than `after`, at most `limit`.
    pub fn read_category(&self, category: &str, after: u64, limit: usize) -> Vec<EventEnvelope> {
        let state = self.state.read();
        let Some(index) = state.categories.get(category) else {
            return Vec::new();
        };
        // Indexes are ascending, and position = index + 1: binary search for the start.
        let start = index.partition_point(|&i| (i as u64) < after);
        index[start..]
            .iter()
            .take(limit)
            .map(|&i| state.log[i].clone())
            .collect()
    }

    /// Every event with a global position greater than `after`, at most `limit`.
    pub fn read_all(&self, after: u64, limit: usize) -> Vec<EventEnvelope> {
        let state = self.state.read();
        let start = (after as usize).min(state.log.len());
        state.log[start..].iter().take(limit).cloned().collect()
    }

    pub fn last_position(&self) -> u64 {
        self.state.read().log.len() as u64
    }

    pub fn record_failure(&self, failure: FailedDelivery) {
        self.state.write().failed.push(failure);
    }

    pub fn failed_deliveries(&self) -> Vec<FailedDelivery> {
        self.state.read().failed.clone()
    }

    pub fn take_failure(&self, id: Uuid) -> Option<FailedDelivery> {
        let mut state = self.state.write();
        let position = state.failed.iter().position(|f| f.id == id)?;
        Some(state.failed.remove(position))
    }
}
