//! The unit of work: changes staged by one handler, committed atomically or not at all.
//!
//! Repositories stage aggregates here (validated as they are added). `commit` turns them into one
//! [`CommitBatch`] for the store; dropping the unit of work without committing is the rollback —
//! nothing staged ever reached the store, and no event was dispatched.

use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::SystemTime;

use smallvec::SmallVec;

use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::validation::{FieldPath, ValidationErrors};
use crate::model::{Aggregate, PendingEvent};
use crate::runtime::registry::Registry;
use crate::store::{
    Causation, CommitBatch, PendingCommands, RowWrite, StagedAggregate, StagedEvent,
};

#[derive(Default)]
pub(crate) struct UnitOfWork {
    /// Most handlers stage one aggregate: it lives in the unit of work's own allocation.
    entries: SmallVec<[Entry; 1]>,
}

struct Entry {
    type_id: TypeId,
    id: Identifier,
    aggregate: &'static str,
    category: &'static str,
    expected_version: u64,
    /// Shared-pointer from the start so the store keeps it without a copy. Its raised events
    /// are taken out when it is staged (`events`), so a copy read back carries none.
    value: Arc<dyn Any + Send + Sync>,
    to_json: fn(&(dyn Any + Send + Sync)) -> Result<String>,
    sourcing: Sourcing,
    /// Every event raised on this aggregate in this unit of work, in raise order. Kept across
    /// re-stagings, so no event is lost or re-attributed.
    events: Vec<PendingEvent>,
    /// For each of `events`, the causation of the nested command that raised it (`None`: the
    /// unit's own message). Empty until a nested command's staging is absorbed, so the usual
    /// unit of work allocates nothing for it.
    causes: Vec<Option<Causation>>,
    /// How many nested commands' changes to this aggregate were absorbed (see `put`).
    revision: u64,
    /// The `revision` of the staged copy this value was read from (0: read from the store).
    read_revision: u64,
}

fn aggregate_to_json<A: Aggregate>(value: &(dyn Any + Send + Sync)) -> Result<String> {
    let aggregate = value
        .downcast_ref::<A>()
        .ok_or_else(|| Error::Store(format!("staged value is not a `{}`", A::NAME)))?;
    serde_json::to_string(aggregate)
        .map_err(|e| Error::Store(format!("serializing `{}`: {e}", A::NAME)))
}

/// How a staged aggregate keeps its state.
#[derive(Clone, Copy)]
enum Sourcing {
    StateStored,
    /// Its stream position when loaded, and when to snapshot: decides the row it writes.
    EventSourced {
        stream_position: u64,
        snapshot_every: u64,
        fingerprint: u64,
    },
}

impl Sourcing {
    /// What the row holds after a commit appending `added` events.
    fn row(self, added: usize) -> RowWrite {
        match self {
            Sourcing::StateStored => RowWrite::State,
            Sourcing::EventSourced {
                stream_position,
                snapshot_every,
                fingerprint,
            } => {
                let after = stream_position + added as u64;
                if snapshot_every > 0 && after / snapshot_every > stream_position / snapshot_every {
                    RowWrite::Snapshot {
                        position: after,
                        fingerprint,
                    }
                } else {
                    RowWrite::Head
                }
            }
        }
    }
}

impl UnitOfWork {
    /// Stages `aggregate`, replacing an earlier staging of the same identity (whose raised events
    /// are kept). A copy read before a nested command changed the aggregate is refused
    /// ([`Error::StaleCopy`]): saving it would silently undo that command's change.
    pub fn stage<A: Aggregate>(&mut self, mut aggregate: A) -> Result<()> {
        let mut raised = Vec::new();
        aggregate.__drain_events(&mut raised);
        let read_revision = aggregate.__state().staged_revision;
        let sourcing = if crate::model::is_event_sourced::<A>() {
            Sourcing::EventSourced {
                stream_position: aggregate.__state().stream_position,
                snapshot_every: A::SNAPSHOT_EVERY,
                fingerprint: A::SCHEMA_FINGERPRINT,
            }
        } else {
            Sourcing::StateStored
        };
        let entry = Entry {
            type_id: TypeId::of::<A>(),
            expected_version: aggregate.__state().version(),
            id: aggregate.identifier(),
            aggregate: A::NAME,
            category: A::CATEGORY,
            value: Arc::new(aggregate),
            to_json: aggregate_to_json::<A>,
            sourcing,
            events: raised,
            causes: Vec::new(),
            revision: 0,
            read_revision,
        };
        self.put(entry, false)
    }

    /// Adds `entry`, replacing an earlier staging of the same identity and keeping its events.
    /// `absorbed`: the entry comes from a nested command, which counts as a new revision.
    fn put(&mut self, mut entry: Entry, absorbed: bool) -> Result<()> {
        // Units of work hold a handful of aggregates: a linear scan beats hashing here.
        match self
            .entries
            .iter_mut()
            .find(|e| e.type_id == entry.type_id && e.id == entry.id)
        {
            Some(existing) => {
                if entry.read_revision < existing.revision {
                    return Err(Error::StaleCopy {
                        aggregate: entry.aggregate,
                        id: entry.id.to_string(),
                    });
                }
                let mut events = std::mem::take(&mut existing.events);
                let mut causes = std::mem::take(&mut existing.causes);
                if !causes.is_empty() || !entry.causes.is_empty() {
                    causes.resize(events.len(), None);
                    entry.causes.resize(entry.events.len(), None);
                    causes.append(&mut entry.causes);
                }
                events.append(&mut entry.events);
                entry.events = events;
                entry.causes = causes;
                entry.revision = existing.revision + u64::from(absorbed);
                *existing = entry;
            }
            None => {
                entry.revision = u64::from(absorbed);
                self.entries.push(entry);
            }
        }
        Ok(())
    }

    /// Takes in what a nested command's handler staged (it commits with this unit of work, or
    /// not at all). The events it raised are caused by that command (`causation`), unless a
    /// command nested deeper raised them.
    pub fn absorb(&mut self, nested: UnitOfWork, causation: &Causation) -> Result<()> {
        for mut entry in nested.entries {
            entry.causes.resize(entry.events.len(), None);
            for cause in &mut entry.causes {
                cause.get_or_insert_with(|| causation.clone());
            }
            self.put(entry, true)?;
        }
        Ok(())
    }

    /// The staged `A` with this identity, if any.
    pub fn staged<A: Aggregate>(&self, id: &Identifier) -> Option<A> {
        let type_id = TypeId::of::<A>();
        self.entries
            .iter()
            .find(|e| e.type_id == type_id && &e.id == id)
            .and_then(|e| {
                let mut copy = e.value.downcast_ref::<A>()?.clone();
                copy.__state_mut().staged_revision = e.revision;
                Some(copy)
            })
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
        for entry in self.entries {
            let (mut raised, mut causes) = (entry.events, entry.causes);
            // Raise order across the aggregate and its entities (rarely out of order).
            if raised.windows(2).any(|w| w[0].seq > w[1].seq) {
                let mut pairs: Vec<(PendingEvent, Option<Causation>)> = raised
                    .into_iter()
                    .zip(causes.into_iter().chain(std::iter::repeat(None)))
                    .collect();
                pairs.sort_by_key(|(event, _)| event.seq);
                (raised, causes) = pairs.into_iter().unzip();
            }
            let mut causes = causes.into_iter();
            let mut events = Vec::with_capacity(raised.len());
            for event in raised {
                let cause = causes.next().flatten();
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
                    // Chosen before the commit, so a delivery can be claimed by the task that
                    // waits for it before any other task can see the event.
                    id: uuid::Uuid::new_v4(),
                    event,
                    type_name: info.type_name.clone(),
                    causation: cause.unwrap_or_else(|| causation.clone()),
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
                row: entry.sourcing.row(events.len()),
                events,
            });
        }
        invalid.into_result()?;
        Ok(CommitBatch {
            aggregates,
            commands: PendingCommands::new(),
            timestamp: SystemTime::now(),
            mark: None,
        })
    }
}
