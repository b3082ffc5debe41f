//! The state every part of the runtime shares: the domain's name, its checked registry, handler
//! instances, the store, and the dispatcher that delivers committed events. It sits below the
//! handler context, dispatch and the `Domain` API, and imports none of them (only the chain of
//! claimed deliveries, which imports nothing of the runtime).

use std::any::{Any, TypeId};
use std::sync::Arc;

use foldhash::HashMap;
use uuid::Uuid;

use crate::model::clause::IgnoredMessages;
use crate::model::error::{HandlerFailure, Result};
use crate::model::message::{EventEnvelope, Metadata};
use crate::runtime::chain::Chain;
use crate::runtime::registry::{BoxFuture, Instance, Registry};
use crate::runtime::retry::{Parked, RetryPolicies};
use crate::store::{CommitBatch, Store};

pub(crate) struct DomainInner {
    pub name: Arc<str>,
    pub registry: Registry,
    pub instances: HashMap<TypeId, Instance>,
    pub store: Store,
    /// Delivers committed events to their handlers: the seam between sync delivery (today) and
    /// delivery by an engine reading the log.
    pub dispatcher: Arc<dyn Dispatcher>,
    /// Each handler's retry policy.
    pub retries: RetryPolicies,
    /// The streams parked for each handler (dead letters that later events wait behind).
    pub parked: Parked,
    /// What a message its entity's active handler has no clause for does.
    pub ignored: IgnoredMessages,
}

impl DomainInner {
    pub(crate) fn instance(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        self.instances.get(&type_id).map(|i| i.as_ref())
    }
}

/// Delivers committed events to the handlers that listen to them. Every path that commits —
/// processing a command, a repository `add`, a delivery and its retry — hands what it committed
/// to the domain's dispatcher, so how delivery happens is decided here once: in the caller's task
/// without recorded progress (`dispatch::SyncDispatcher`, the in-memory store), or in the caller's
/// task through subscriptions whose checkpoints commit with each delivery
/// (`subscription::CheckpointedDispatcher`, the durable stores); later, by an engine following
/// the log.
pub(crate) trait Dispatcher: Send + Sync {
    /// Delivers `events` (and what their handlers commit in turn); returns every failed
    /// delivery, each recorded for retry. `chain` is the caller's claim on the events it
    /// committed ([`Dispatcher::chain`]).
    fn dispatch<'a>(
        &'a self,
        core: &'a Arc<DomainInner>,
        events: Vec<EventEnvelope>,
        chain: Option<Arc<Chain>>,
    ) -> BoxFuture<'a, Vec<HandlerFailure>>;

    /// True for delivery in the committing task without recorded progress: the runtime then
    /// calls it directly, without boxing its future (the hot path of every in-memory command).
    fn delivers_inline(&self) -> bool {
        false
    }

    /// A new caller's claim on the events it is about to commit, for dispatchers where another
    /// task may deliver them; `None` where the committing task always delivers its own.
    fn chain(&self) -> Option<Arc<Chain>> {
        None
    }
}

impl DomainInner {
    /// Commits `batch`, first claiming its events for `chain` (so that whichever task delivers
    /// them hands the outcome to the caller waiting for it).
    pub(crate) async fn commit(
        &self,
        batch: CommitBatch,
        chain: Option<&Arc<Chain>>,
    ) -> Result<Vec<EventEnvelope>> {
        let claimed = chain.map(|chain| {
            let ids: Vec<Uuid> = batch
                .aggregates
                .iter()
                .flat_map(|a| a.events.iter().map(|e| e.id))
                .collect();
            chain.claim(&ids);
            (chain, ids)
        });
        // One await of the store's commit, not one per branch: each would take its own space in
        // this function's future.
        let committed = self.store.commit(batch).await;
        if committed.is_err()
            && let Some((chain, ids)) = claimed
        {
            chain.unclaim(&ids);
        }
        committed
    }
}

/// Caller-given metadata for one command ([`Domain::process_with`](crate::Domain::process_with)).
///
/// ```
/// let request_id = domain_core::Uuid::new_v4();
/// let options = domain_core::CommandOptions::new().correlation_id(request_id);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CommandOptions {
    pub(crate) correlation_id: Option<Uuid>,
    pub(crate) command_id: Option<Uuid>,
}

impl CommandOptions {
    /// No caller metadata: the command's id is new and it starts its own correlation.
    pub fn new() -> Self {
        CommandOptions::default()
    }

    /// The correlation id every message of this command's chain carries (an HTTP request id, a
    /// saga id); by default the command's own id.
    pub fn correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// The command's message id (for example a client-chosen id), new by default. It becomes the
    /// causation id of the events the command raises.
    pub fn command_id(mut self, id: Uuid) -> Self {
        self.command_id = Some(id);
        self
    }
}

/// Where a command's metadata comes from: a caller of the domain, or the message being handled.
pub(crate) enum Parent<'a> {
    Caller(CommandOptions),
    Message(&'a Metadata),
}

/// The origin stream a child of `parent` inherits: the chain's origin, or the parent's own stream.
pub(crate) fn origin_of(parent: &Metadata) -> Arc<str> {
    parent
        .origin_stream
        .clone()
        .unwrap_or_else(|| parent.stream.clone())
}
