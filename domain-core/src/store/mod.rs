//! Stores: where aggregates, events and failed deliveries live.
//!
//! The unit of work hands a store one [`CommitBatch`]; the store applies it atomically (every
//! version check passes and every row and event is written, or nothing is) and returns the
//! committed events with their positions. Only then does dispatch see them.

pub(crate) mod memory;

use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::SystemTime;

use uuid::Uuid;

use crate::identifier::Identifier;
use crate::message::EventEnvelope;
use crate::model::PendingEvent;

/// One aggregate staged for commit, with the events it raised.
pub(crate) struct StagedAggregate {
    pub type_id: TypeId,
    pub aggregate: &'static str,
    pub id: Identifier,
    /// The version the change was based on; 0 for a new aggregate.
    pub expected_version: u64,
    pub value: Arc<dyn Any + Send + Sync>,
    pub stream: Arc<str>,
    pub events: Vec<StagedEvent>,
}

/// An event about to be committed: everything but its positions is known.
pub(crate) struct StagedEvent {
    pub event: PendingEvent,
    pub type_name: Arc<str>,
}

/// The causal context shared by every event of one commit.
#[derive(Clone)]
pub(crate) struct Causation {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub origin_stream: Option<Arc<str>>,
}

/// Everything one unit of work writes.
pub(crate) struct CommitBatch {
    pub aggregates: Vec<StagedAggregate>,
    pub causation: Causation,
    pub timestamp: SystemTime,
}

/// An event delivery that failed, kept until a retry succeeds.
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    /// The record's id (give it to [`Domain::retry_delivery`](crate::Domain::retry_delivery)).
    pub id: Uuid,
    /// The handler that failed.
    pub handler: &'static str,
    /// The event it failed on.
    pub event: EventEnvelope,
    /// The last error, as text.
    pub error: String,
    /// How many deliveries were attempted.
    pub attempts: u32,
}
