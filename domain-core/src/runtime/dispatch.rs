//! Sync delivery: the committed events of one call are delivered in the caller's task,
//! breadth-first. Each (event, handler) pair runs in its own unit of work, and the events it
//! commits join the back of the queue. A failing handler never undoes the commit before it, never
//! stops its siblings, and is recorded for retry.

use std::collections::VecDeque;
use std::sync::Arc;

use uuid::Uuid;

use crate::model::error::{Error, HandlerFailure};
use crate::model::message::EventEnvelope;
use crate::runtime::chain::Chain;
use crate::runtime::context::{Context, FinishedDelivery};
use crate::runtime::core::{Dispatcher, DomainInner};
use crate::runtime::handler::{CatchPanic, catch_panic};
use crate::runtime::registry::{BoxFuture, EventDispatch, EventHandlerRegistration};
use crate::store::{DeliveryMark, DeliveryState, FailedDelivery};

/// Delivers in the task that committed, before `process` returns.
pub(crate) struct SyncDispatcher;

impl Dispatcher for SyncDispatcher {
    fn dispatch<'a>(
        &'a self,
        core: &'a Arc<DomainInner>,
        events: Vec<EventEnvelope>,
        _chain: Option<Arc<Chain>>,
    ) -> BoxFuture<'a, Vec<HandlerFailure>> {
        Box::pin(dispatch_all(core, events))
    }

    fn delivers_inline(&self) -> bool {
        true
    }
}

impl DomainInner {
    /// The one way from a commit to its reactions: every path that commits (a command, a
    /// repository `add`, a retried delivery) hands its committed events here.
    /// `chain` is the caller's claim on `events` (see [`Dispatcher::chain`]).
    pub(crate) async fn deliver_committed(
        self: &Arc<Self>,
        events: Vec<EventEnvelope>,
        chain: Option<Arc<Chain>>,
    ) -> Vec<HandlerFailure> {
        if events.is_empty() {
            return Vec::new();
        }
        if self.dispatcher.delivers_inline() {
            dispatch_all(self, events).await
        } else {
            self.dispatcher.dispatch(self, events, chain).await
        }
    }
}

/// Dispatches `events` breadth-first; returns every failed delivery (all recorded).
pub(crate) async fn dispatch_all(
    core: &Arc<DomainInner>,
    events: Vec<EventEnvelope>,
) -> Vec<HandlerFailure> {
    let mut queue = VecDeque::from(events);
    let mut failures = Vec::new();
    while let Some(event) = queue.pop_front() {
        for handler in core.registry.handlers_for(&event) {
            if let Some(behind) = core.parked.head(handler.path, &event.metadata.stream) {
                let (record, failure) = blocked(handler, &event, behind);
                let unrecorded = core.store.record_failure(&record).await.err();
                failures.push(with_unrecorded(failure, unrecorded));
                continue;
            }
            let mut attempt = 1;
            let delivered = loop {
                let delivered = deliver(core, handler, &event, None, None, false).await;
                // The policy is looked up only on failure: success costs no lookup.
                if delivered.outcome.is_ok()
                    || attempt >= core.retries.of(handler.path).max_attempts()
                {
                    break delivered;
                }
                attempt += 1;
                let policy = core.retries.of(handler.path);
                // Boxed: the sleep would otherwise enlarge every delivery's future.
                Box::pin(tokio::time::sleep(policy.delay_before(attempt))).await;
            };
            if let Err(cause) = delivered.outcome {
                failures.push(record_failure(core, handler, &event, cause, attempt).await);
            }
            queue.extend(delivered.events);
        }
    }
    failures
}

/// The record and the caller's view of `handler`'s delivery of `event`, not run because delivery
/// `behind` of the same stream is parked.
pub(crate) fn blocked(
    handler: &'static EventHandlerRegistration,
    event: &EventEnvelope,
    behind: Uuid,
) -> (FailedDelivery, HandlerFailure) {
    let id = Uuid::new_v4();
    let cause = Error::DeliveryBlocked { id, behind };
    dead_letter(
        id,
        handler,
        event,
        cause,
        0,
        DeliveryState::Blocked { behind },
    )
}

/// `failure`, noting that its record could not be written.
fn with_unrecorded(mut failure: HandlerFailure, unrecorded: Option<Error>) -> HandlerFailure {
    if let Some(error) = unrecorded {
        failure.cause = format!(
            "{} (and recording the failure failed: {error})",
            failure.cause
        );
    }
    failure
}

/// One (event, handler) delivery in its own unit of work; returns its outcome and, if it
/// succeeded, the events it committed (commands it processed commit with it, or not at all).
/// With a `mark` (a delivery on a subscription) the subscription's progress commits with the
/// handler's writes; `chain` claims the events the handler commits for the caller waiting for
/// them.
///
/// `counted`: an attempt was counted before this delivery (poison detection); it is cleared as
/// soon as the handler returns, so only a process that stops *inside* the handler leaves it
/// counted (not one stopped while its commit waits for the database).
pub(crate) async fn deliver(
    core: &Arc<DomainInner>,
    handler: &'static EventHandlerRegistration,
    event: &EventEnvelope,
    chain: Option<Arc<Chain>>,
    mark: Option<DeliveryMark>,
    counted: bool,
) -> FinishedDelivery {
    let Some(instance) = core.instance((handler.type_id)()) else {
        return FinishedDelivery {
            outcome: Err(Error::Store(format!(
                "no instance of handler `{}`",
                handler.name
            ))),
            ..FinishedDelivery::default()
        };
    };
    let meta = &event.metadata;
    // Field values are formatted only when a subscriber enables the span.
    let span = tracing::info_span!(
        "domain.delivery",
        handler = handler.path,
        message_id = %meta.id,
        type_name = %meta.type_name,
        stream = %meta.stream,
        global_position = meta.global_position,
        correlation_id = %meta.correlation_id,
        causation_id = ?meta.causation_id,
    );
    let delivery = async move {
        let mut ctx =
            Context::for_delivery(core.clone(), event.metadata.clone(), chain, handler.path);
        let outcome = match handler.dispatch {
            // `dispatch` returns a boxed future already.
            EventDispatch::Async(dispatch) => CatchPanic(dispatch(instance, event, &mut ctx)).await,
            EventDispatch::Sync(dispatch) => catch_panic(|| dispatch(instance, event, &mut ctx)),
        };
        if counted && let Err(error) = Box::pin(core.store.clear_attempts(handler.path)).await {
            // Left counted: a later start counts one more attempt than ran to its end.
            tracing::warn!(%error, "could not clear a counted delivery attempt");
        }
        let finished = match mark {
            // Boxed: the direct path (no mark) would otherwise carry its size in every delivery.
            Some(mark) => Box::pin(ctx.finish_delivery(outcome, mark)).await,
            None => {
                let (outcome, events) = ctx.finish(outcome).await;
                FinishedDelivery {
                    outcome,
                    events,
                    persisted: false,
                }
            }
        };
        if let Err(error) = &finished.outcome
            && !matches!(error, Error::CheckpointMoved { .. })
        {
            tracing::warn!(%error, "delivery failed; recorded for retry");
        }
        finished
    };
    if span.is_disabled() {
        delivery.await
    } else {
        tracing::Instrument::instrument(delivery, span).await
    }
}

/// The record and the caller's view of `handler`'s delivery of `event`, failed after `attempts`
/// attempts: parked.
pub(crate) fn parked(
    handler: &'static EventHandlerRegistration,
    event: &EventEnvelope,
    cause: Error,
    attempts: u32,
) -> (FailedDelivery, HandlerFailure) {
    let id = Uuid::new_v4();
    dead_letter(id, handler, event, cause, attempts, DeliveryState::Parked)
}

/// A failed delivery's record (a dead letter) and the caller's view of it.
fn dead_letter(
    id: Uuid,
    handler: &'static EventHandlerRegistration,
    event: &EventEnvelope,
    cause: Error,
    attempts: u32,
    state: DeliveryState,
) -> (FailedDelivery, HandlerFailure) {
    let record = FailedDelivery {
        id,
        // The full path: a retry must find this handler, not another of the same short name.
        handler: Arc::from(handler.path),
        event: event.clone(),
        error: cause.to_string(),
        attempts,
        state,
    };
    (record, describe_failure(handler, event, cause, id, None))
}

/// Records a delivery that failed after `attempts` attempts, parking its stream for the handler,
/// and describes it (retries update their record through their claim instead). If the store
/// cannot record it, the description says so: the caller still learns of the failure.
async fn record_failure(
    core: &DomainInner,
    handler: &'static EventHandlerRegistration,
    event: &EventEnvelope,
    cause: Error,
    attempts: u32,
) -> HandlerFailure {
    let (record, failure) = parked(handler, event, cause, attempts);
    let unrecorded = core.store.record_failure(&record).await.err();
    if unrecorded.is_none() {
        core.parked
            .park(handler.path, event.metadata.stream.clone(), record.id);
    }
    with_unrecorded(failure, unrecorded)
}

/// The caller's view of a failed delivery: which handler, which event, the handler's own error,
/// and whether the store could not record it (`unrecorded`).
pub(crate) fn describe_failure(
    handler: &'static EventHandlerRegistration,
    event: &EventEnvelope,
    cause: Error,
    id: Uuid,
    unrecorded: Option<Error>,
) -> HandlerFailure {
    let failure = HandlerFailure {
        delivery_id: id,
        handler: Arc::from(handler.path),
        event_type: event.metadata.type_name.to_string(),
        event_id: event.metadata.id,
        cause: cause.to_string(),
        error: Some(Arc::new(cause)),
    };
    with_unrecorded(failure, unrecorded)
}
