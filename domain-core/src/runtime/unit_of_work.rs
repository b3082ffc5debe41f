//! The unit of work: changes staged by one handler, committed atomically or not at all.
//!
//! Repositories stage aggregates here (validated as they are added). `commit` turns them into one
//! [`CommitBatch`] for the store; dropping the unit of work without committing is the rollback —
//! nothing staged ever reached the store, and no event was dispatched.

use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::SystemTime;

use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::validation::{FieldPath, ValidationErrors};
use crate::model::{Aggregate, PendingEvent, sort_by_raise_order};
use crate::runtime::registry::Registry;
use crate::store::{Causation, CommitBatch, StagedAggregate, StagedEvent};

#[derive(Default)]
pub(crate) struct UnitOfWork {
    entries: Vec<Entry>,
}

struct Entry {
    type_id: TypeId,
    id: Identifier,
    aggregate: &'static str,
    category: &'static str,
    expected_version: u64,
    /// Shared-pointer from the start so the store keeps it without a copy; the unit of work
    /// holds the only reference until commit, so draining events can borrow it mutably.
    value: Arc<dyn Any + Send + Sync>,
    drain: fn(&mut (dyn Any + Send + Sync), &mut Vec<PendingEvent>),
    to_json: fn(&(dyn Any + Send + Sync)) -> Result<String>,
    /// Set when a nested command staged it: its events are caused by that command, not by the
    /// message of the unit of work it joined.
    causation: Option<Causation>,
}

fn aggregate_to_json<A: Aggregate>(value: &(dyn Any + Send + Sync)) -> Result<String> {
    let aggregate = value
        .downcast_ref::<A>()
        .ok_or_else(|| Error::Store(format!("staged value is not a `{}`", A::NAME)))?;
    serde_json::to_string(aggregate)
        .map_err(|e| Error::Store(format!("serializing `{}`: {e}", A::NAME)))
}

fn drain_events<A: Aggregate>(value: &mut (dyn Any + Send + Sync), out: &mut Vec<PendingEvent>) {
    if let Some(aggregate) = value.downcast_mut::<A>() {
        aggregate.__drain_events(out);
    }
}

impl UnitOfWork {
    /// Stages `aggregate`, replacing an earlier staging of the same identity.
    pub fn stage<A: Aggregate>(&mut self, aggregate: A) {
        let id = aggregate.identifier();
        let type_id = TypeId::of::<A>();
        let entry = Entry {
            type_id,
            expected_version: aggregate.__state().version(),
            id,
            aggregate: A::NAME,
            category: A::CATEGORY,
            value: Arc::new(aggregate),
            drain: drain_events::<A>,
            to_json: aggregate_to_json::<A>,
            causation: None,
        };
        self.put(entry);
    }

    /// Adds `entry`, replacing an earlier staging of the same identity.
    fn put(&mut self, entry: Entry) {
        // Units of work hold a handful of aggregates: a linear scan beats hashing here.
        match self
            .entries
            .iter_mut()
            .find(|e| e.type_id == entry.type_id && e.id == entry.id)
        {
            Some(existing) => *existing = entry,
            None => self.entries.push(entry),
        }
    }

    /// Takes in what a nested command's handler staged (it commits with this unit of work, or
    /// not at all); its aggregates' events are caused by that command (`causation`), unless a
    /// command nested deeper staged them.
    pub fn absorb(&mut self, nested: UnitOfWork, causation: &Causation) {
        for mut entry in nested.entries {
            entry.causation.get_or_insert_with(|| causation.clone());
            self.put(entry);
        }
    }

    /// The staged `A` with this identity, if any.
    pub fn staged<A: Aggregate>(&self, id: &Identifier) -> Option<A> {
        let type_id = TypeId::of::<A>();
        self.entries
            .iter()
            .find(|e| e.type_id == type_id && &e.id == id)
            .and_then(|e| e.value.downcast_ref::<A>())
            .cloned()
    }

    /// Every staged `A`.
    pub fn staged_of<A: Aggregate>(&self) -> impl Iterator<Item = &A> {
        self.entries
            .iter()
            .filter_map(|e| e.value.downcast_ref::<A>())
    }

    pub fn has_staged<A: Aggregate>(&self) -> bool {
        let type_id = TypeId::of::<A>();
        self.entries.iter().any(|e| e.type_id == type_id)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The batch the store commits: aggregates with their events, in raise order, named.
    ///
    /// Raised events are validated here, before anything reaches the store: `raise()` cannot
    /// fail, and an invalid event (a `NaN`, a NUL in text) must not be committed, since a durable
    /// store could not keep it or read it back. Failures are reported under the event's name
    /// (`BookAdded.title`), and nothing of the unit of work is committed.
    pub fn into_batch(self, registry: &Registry, causation: Causation) -> Result<CommitBatch> {
        let mut aggregates = Vec::with_capacity(self.entries.len());
        let mut invalid = ValidationErrors::default();
        for mut entry in self.entries {
            let mut raised = Vec::new();
            let value = Arc::get_mut(&mut entry.value)
                .expect("a staged aggregate is shared with no one before its commit");
            (entry.drain)(value, &mut raised);
            sort_by_raise_order(&mut raised);
            let mut events = Vec::with_capacity(raised.len());
            for event in raised {
                let name = FieldPath::ROOT;
                (event.vtable.validate)(
                    &*event.payload,
                    &name.field(event.vtable.name),
                    &mut invalid,
                );
                let type_id = (event.vtable.type_id)();
                let info = registry.events.get(&type_id).ok_or_else(|| {
                    Error::Registry(vec![format!(
                        "event `{}` raised by `{}` is not registered in this domain: register it with `.register::<{}>()`",
                        event.vtable.name, entry.aggregate, event.vtable.name
                    )])
                })?;
                events.push(StagedEvent {
                    event,
                    type_name: info.type_name.clone(),
                });
            }
            aggregates.push(StagedAggregate {
                type_id: entry.type_id,
                aggregate: entry.aggregate,
                category: entry.category,
                id: entry.id,
                expected_version: entry.expected_version,
                value: entry.value,
                to_json: entry.to_json,
                events,
                causation: entry.causation.unwrap_or_else(|| causation.clone()),
            });
        }
        invalid.into_result()?;
        Ok(CommitBatch {
            aggregates,
            commands: Vec::new(),
            timestamp: SystemTime::now(),
        })
    }
}
