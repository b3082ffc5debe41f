//! Who waits for which delivery.
//!
//! With checkpointed delivery one task may deliver another task's event: deliveries to one
//! subscription run in position order, so the task that catches a subscription up delivers every
//! event before its own, whoever committed them. A [`Chain`] is one caller's claim on the events
//! it committed (a command, its reactions, their reactions): their ids are claimed before the
//! commit that makes them visible, so whichever task delivers one of them hands the outcome (the
//! failure, the events the handler committed) to the chain, and the caller reports it and carries
//! its breadth-first delivery on as if it had delivered the event itself.
//!
//! An event nobody claims (committed by another process, by a caller whose future was dropped,
//! or before a crash) is adopted by the task that delivers it, which delivers its reactions too.

use std::sync::{Arc, Weak};

use foldhash::HashMap;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::model::error::HandlerFailure;
use crate::model::message::EventEnvelope;

/// Event id -> the chain waiting for its deliveries, shared by every chain of one domain.
pub(crate) type Owners = Mutex<HashMap<Uuid, Weak<Chain>>>;

/// The deliveries one caller waits for.
pub(crate) struct Chain {
    owners: Arc<Owners>,
    /// The ids this chain claimed, released from `owners` when it is dropped.
    claimed: Mutex<Vec<Uuid>>,
    outcomes: Mutex<Vec<Outcome>>,
}

/// What one delivery of a claimed event did.
pub(crate) struct Outcome {
    pub event_id: Uuid,
    /// The handler's full path.
    pub handler: &'static str,
    /// Set when the delivery failed (its failure record is written).
    pub failure: Option<HandlerFailure>,
    /// The events the handler committed, to be delivered next.
    pub events: Vec<EventEnvelope>,
}

impl Chain {
    pub fn new(owners: Arc<Owners>) -> Arc<Chain> {
        Arc::new(Chain {
            owners,
            claimed: Mutex::default(),
            outcomes: Mutex::default(),
        })
    }

    /// Claims events about to be committed.
    pub fn claim(self: &Arc<Self>, ids: &[Uuid]) {
        if ids.is_empty() {
            return;
        }
        let weak = Arc::downgrade(self);
        let mut owners = self.owners.lock();
        for id in ids {
            owners.insert(*id, weak.clone());
        }
        self.claimed.lock().extend_from_slice(ids);
    }

    /// Gives up events whose commit failed (they will never be seen).
    pub fn unclaim(&self, ids: &[Uuid]) {
        let mut owners = self.owners.lock();
        for id in ids {
            owners.remove(id);
        }
    }

    /// The chain waiting for the deliveries of event `id`, if any.
    pub fn owner_of(owners: &Owners, id: Uuid) -> Option<Arc<Chain>> {
        owners.lock().get(&id).and_then(Weak::upgrade)
    }

    pub fn deposit(&self, outcome: Outcome) {
        self.outcomes.lock().push(outcome);
    }

    /// The outcome of `handler`'s delivery of event `id`, if a task of this process delivered it.
    pub fn take(&self, id: Uuid, handler: &str) -> Option<Outcome> {
        let mut outcomes = self.outcomes.lock();
        let index = outcomes
            .iter()
            .position(|o| o.event_id == id && o.handler == handler)?;
        Some(outcomes.swap_remove(index))
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let claimed = std::mem::take(self.claimed.get_mut());
        if claimed.is_empty() {
            return;
        }
        let mut owners = self.owners.lock();
        for id in claimed {
            // Only this chain's entry: the weak reference no longer upgrades.
            if owners.get(&id).is_some_and(|w| w.strong_count() == 0) {
                owners.remove(&id);
            }
        }
    }
}
