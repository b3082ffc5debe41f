//! Checkpointed sync delivery: every event handler is a subscription, with a checkpoint (the
//! global position up to which it has handled its events) stored in the same database as the
//! events and advanced in the same transaction as each delivery's writes.
//!
//! Delivery stays what sync mode promises: after its commit the caller delivers its events
//! breadth-first, one unit of work per (event, handler), and sees every failure. What changes is
//! how: to deliver an event to a handler, the caller *catches the handler's subscription up* to
//! the event's position, delivering every event of the handler's category after the checkpoint in
//! position order. Usually that is only its own event; when another task (or a process that
//! crashed) left events undelivered before it, those go first. So:
//! - a crash between a commit and its reactions loses nothing: the events are still after the
//!   checkpoint, and [`CheckpointedDispatcher::open`] delivers them when the next process starts;
//! - a handler whose effects are writes to the store has them applied exactly once: its writes
//!   and the checkpoint's compare-and-set commit together, so a redelivery after a crash, or a
//!   second process delivering the same event, finds the checkpoint moved and writes nothing;
//! - a failed delivery's record commits with the checkpoint's advance: it cannot be lost because
//!   it could not be written afterwards.
//!
//! Within a process, one task at a time delivers to a subscription (an async lock per
//! subscription); an event another task of this process waits for is delivered on its behalf and
//! the outcome handed over ([`Chain`]). The same catch-up is what an engine following the log in
//! the background will drive.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use foldhash::HashMap;
use uuid::Uuid;

use crate::model::error::{Error, HandlerFailure, Result};
use crate::model::message::EventEnvelope;
use crate::runtime::chain::{Chain, Outcome, Owners};
use crate::runtime::core::{Dispatcher, DomainInner};
use crate::runtime::dispatch::{blocked, deliver, describe_failure, parked};
use crate::runtime::registry::{ALL_CATEGORIES, BoxFuture, EventHandlerRegistration, Registry};
use crate::runtime::retry::POISON_LIMIT;
use crate::store::{Checkpoint, CommitBatch, DeliveryMark, FailedDelivery, Store};

/// Rounds `settle` runs while deliveries keep committing events (or other writers keep
/// committing): it returns after this many even if the head still moves.
const SETTLE_ROUNDS: usize = 100;

/// Events read per page while catching a subscription up.
const PAGE: u64 = 256;

/// A handler that writes nothing to the store commits no checkpoint with its delivery; the
/// checkpoint is written after this many such deliveries (or skipped events) instead, bounding
/// what a crash makes the next start deliver again to at-least-once handlers.
const UNPERSISTED_LIMIT: u32 = 32;

/// Delivers through the domain's subscriptions, in the committing task.
pub(crate) struct CheckpointedDispatcher {
    subscriptions: HashMap<&'static str, Subscription>,
    /// The same subscriptions in registry order (handler-name order): the engine's round order.
    order: Vec<&'static str>,
    owners: Arc<Owners>,
    /// Wakes the engine when this process commits events an engine-delivered handler may want.
    wake: tokio::sync::Notify,
    /// Whether any subscription is the engine's (async processing).
    any_async: bool,
    /// The highest global position this process has seen committed.
    head: AtomicU64,
}

struct Subscription {
    handler: &'static EventHandlerRegistration,
    /// Delivered by the committing task (sync processing), or only by the engine (async).
    inline: bool,
    cursor: tokio::sync::Mutex<Cursor>,
    /// `cursor.scanned`, readable without the lock (for lag reports).
    scanned: AtomicU64,
    /// Set until the first delivery since the process started, whose attempt is counted before
    /// the handler runs (poison detection).
    suspect: AtomicBool,
    /// Set while that counted attempt has not reached its handler yet.
    counted: AtomicBool,
}

/// What counting a delivery attempt found.
enum Attempt {
    /// Not the first delivery since the start: nothing counted.
    NotCounted,
    /// Counted; cleared when the handler returns.
    Counted,
    /// Starts stopped inside the handler this many times: park the event without running it.
    Poison(u32),
}

/// Where a subscription stands, as this process knows it.
pub(crate) struct Cursor {
    /// The checkpoint as stored (what the next delivery's compare-and-set expects).
    persisted: u64,
    /// The last position handled: `persisted`, or past it by deliveries that wrote nothing and
    /// events the handler does not route.
    scanned: u64,
    /// Deliveries and skipped events since `persisted`.
    unpersisted: u32,
}

impl Cursor {
    fn at(position: u64) -> Cursor {
        Cursor {
            persisted: position,
            scanned: position,
            unpersisted: 0,
        }
    }
}

impl CheckpointedDispatcher {
    /// Reads (or starts, at the log's head) every event handler's subscription. `is_async` says
    /// which handlers the engine delivers (the others are delivered by the committing task).
    pub async fn open(
        store: &Store,
        registry: &Registry,
        is_async: impl Fn(&EventHandlerRegistration) -> bool,
    ) -> Result<CheckpointedDispatcher> {
        let paths: Vec<&'static str> = registry.event_handlers.iter().map(|h| h.path).collect();
        let positions = store.open_subscriptions(&paths).await?;
        let mut any_async = false;
        let subscriptions = registry
            .event_handlers
            .iter()
            .zip(positions)
            .map(|(&handler, position)| {
                let inline = !is_async(handler);
                any_async |= !inline;
                let subscription = Subscription {
                    handler,
                    inline,
                    cursor: tokio::sync::Mutex::new(Cursor::at(position)),
                    scanned: AtomicU64::new(position),
                    suspect: AtomicBool::new(true),
                    counted: AtomicBool::new(false),
                };
                (handler.path, subscription)
            })
            .collect();
        Ok(CheckpointedDispatcher {
            subscriptions,
            order: paths,
            owners: Arc::default(),
            wake: tokio::sync::Notify::new(),
            any_async,
            head: AtomicU64::new(0),
        })
    }

    /// Delivers what a stop left undelivered to the handlers the committing task delivers to:
    /// catches their subscriptions up to the log's head, then delivers what those deliveries
    /// committed. Failures are recorded, as always. (The engine catches its own up.)
    pub async fn recover(&self, core: &Arc<DomainInner>) -> Result<()> {
        let head = core.store.last_position().await?;
        let chain = Chain::new(self.owners.clone());
        let mut adopted = Vec::new();
        for subscription in self.inline_subscriptions() {
            // One that cannot catch up (an event that no longer decodes) must not stop the
            // process from starting: its next delivery meets the same error and reports it.
            let goal = Goal::head(head, None);
            let caught_up = self
                .catch_up(core, subscription, goal, &chain, &mut adopted)
                .await;
            let mut cursor = subscription.cursor.lock().await;
            if let Err(error) = caught_up.and(self.persist(core, subscription, &mut cursor).await) {
                let path = subscription.handler.path;
                tracing::warn!(%error, subscription = path, "could not deliver what the last stop left");
            }
        }
        let queue = adopted.into_iter().map(|e| (e, false)).collect();
        self.deliver_all(core, queue, chain).await;
        Ok(())
    }

    fn inline_subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.order
            .iter()
            .map(|path| &self.subscriptions[path])
            .filter(|s| s.inline)
    }

    /// Catches every subscription up to the log's head, again until the head stops moving (the
    /// deliveries commit events of their own), or until `stop` is set. Returns the position
    /// every subscription has reached.
    pub async fn settle(&self, core: &Arc<DomainInner>, stop: Option<&AtomicBool>) -> Result<u64> {
        let mut head = core.store.last_position().await?;
        for _ in 0..SETTLE_ROUNDS {
            self.head.fetch_max(head, Ordering::Relaxed);
            // A new chain per round: nothing waits for what the engine delivers.
            let chain = Chain::new(self.owners.clone());
            // A subscription that fails (an event that no longer decodes) does not hold back the
            // others; the first error is returned once every one has had its turn.
            let mut first_error = None;
            for path in &self.order {
                if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    return Ok(self.reached());
                }
                let subscription = &self.subscriptions[path];
                let mut adopted = Vec::new();
                // What the handlers commit is after `head`: the next round delivers it.
                let goal = Goal::head(head, stop);
                if let Err(error) = self
                    .catch_up(core, subscription, goal, &chain, &mut adopted)
                    .await
                {
                    tracing::warn!(%error, subscription = path, "a subscription could not catch up");
                    first_error.get_or_insert(error);
                }
            }
            if let Some(error) = first_error {
                return Err(error);
            }
            let now = core.store.last_position().await?;
            if now == head {
                return Ok(head);
            }
            head = now;
        }
        Ok(head)
    }

    /// Commits every subscription's checkpoint up to what it has handled (a graceful stop).
    pub async fn persist_all(&self, core: &DomainInner) -> Result<()> {
        for subscription in self.subscriptions.values() {
            let mut cursor = subscription.cursor.lock().await;
            self.persist(core, subscription, &mut cursor).await?;
        }
        Ok(())
    }

    /// The lowest position every subscription has handled.
    fn reached(&self) -> u64 {
        self.subscriptions
            .values()
            .map(|s| s.scanned.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }

    /// The highest global position this process has seen committed.
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::Relaxed)
    }

    /// Waits for `handler`'s turn: while the guard lives, no task of this process delivers to it.
    pub async fn turn(&self, handler: &str) -> Option<tokio::sync::MutexGuard<'_, Cursor>> {
        Some(self.subscriptions.get(handler)?.cursor.lock().await)
    }

    /// Each subscription's handler path, kind and the position it has handled.
    pub fn positions(&self) -> Vec<(&'static str, bool, u64)> {
        self.order
            .iter()
            .map(|path| {
                let s = &self.subscriptions[path];
                (*path, s.inline, s.scanned.load(Ordering::Relaxed))
            })
            .collect()
    }

    /// Resolves when this process has committed events since the last call (or at once if it
    /// did before the call).
    pub async fn committed(&self) {
        self.wake.notified().await;
    }

    /// Breadth-first delivery of `queue`; the flag says whether a delivery's failure is the
    /// caller's to hear about (its own events) or only to record (events it adopted).
    async fn deliver_all(
        &self,
        core: &Arc<DomainInner>,
        mut queue: VecDeque<(EventEnvelope, bool)>,
        chain: Arc<Chain>,
    ) -> Vec<HandlerFailure> {
        let mut failures = Vec::new();
        while let Some((event, reported)) = queue.pop_front() {
            for handler in core.registry.handlers_for(&event) {
                let subscription = &self.subscriptions[handler.path];
                if !subscription.inline {
                    continue; // the engine's
                }
                let mut adopted = Vec::new();
                let caught_up = self
                    .catch_up(
                        core,
                        subscription,
                        Goal::event(&event),
                        &chain,
                        &mut adopted,
                    )
                    .await;
                queue.extend(adopted.into_iter().map(|e| (e, false)));
                let failure = match (chain.take(event.metadata.id, handler.path), caught_up) {
                    (Some(outcome), _) => {
                        queue.extend(outcome.events.into_iter().map(|e| (e, reported)));
                        outcome.failure
                    }
                    // Not delivered: the store failed first. The event stays after the
                    // checkpoint and is delivered by the next catch-up, or the next start.
                    (None, Err(error)) => {
                        let cause = Error::Store(format!(
                            "not delivered yet ({error}); the event stays in the log and is \
                             delivered by the next delivery to this handler or on the next start"
                        ));
                        Some(describe_failure(handler, &event, cause, Uuid::nil(), None))
                    }
                    // Delivered by another process: its failure, if any, is recorded.
                    (None, Ok(())) => self.recorded_failure(core, handler, &event).await,
                };
                if reported {
                    failures.extend(failure);
                }
            }
        }
        failures
    }

    /// The recorded failure of `handler`'s delivery of `event`, as the caller's failure.
    async fn recorded_failure(
        &self,
        core: &DomainInner,
        handler: &'static EventHandlerRegistration,
        event: &EventEnvelope,
    ) -> Option<HandlerFailure> {
        match core
            .store
            .failure_of(handler.path, event.metadata.global_position)
            .await
        {
            Ok(Some(record)) => {
                let cause = Error::Store(record.error);
                Some(describe_failure(handler, event, cause, record.id, None))
            }
            Ok(None) => None,
            Err(error) => {
                let cause = Error::Store(format!(
                    "delivered by another process, whose outcome could not be read: {error}"
                ));
                Some(describe_failure(handler, event, cause, Uuid::nil(), None))
            }
        }
    }

    /// Delivers every event of `subscription`'s handler after its checkpoint, up to the `goal`,
    /// in position order. Each outcome goes to the chain that claimed the event; events no chain
    /// claimed are delivered on behalf of `chain`, and what their handlers committed
    /// is pushed onto `adopted` for the caller to deliver next.
    ///
    /// An error means the store failed: the subscription stays where it got to, and the rest is
    /// delivered by a later catch-up.
    async fn catch_up(
        &self,
        core: &Arc<DomainInner>,
        subscription: &Subscription,
        goal: Goal<'_>,
        chain: &Arc<Chain>,
        adopted: &mut Vec<EventEnvelope>,
    ) -> Result<()> {
        let mut cursor = subscription.cursor.lock().await;
        let caught_up = self
            .catch_up_locked(core, subscription, &mut cursor, goal, chain, adopted)
            .await;
        subscription
            .scanned
            .store(cursor.scanned, Ordering::Relaxed);
        if cursor.unpersisted >= UNPERSISTED_LIMIT {
            // Best effort: a failure here only means more is delivered again after a crash.
            let _ = self.persist(core, subscription, &mut cursor).await;
        }
        caught_up
    }

    async fn catch_up_locked(
        &self,
        core: &Arc<DomainInner>,
        subscription: &Subscription,
        cursor: &mut Cursor,
        goal: Goal<'_>,
        chain: &Arc<Chain>,
        adopted: &mut Vec<EventEnvelope>,
    ) -> Result<()> {
        let Goal {
            up_to,
            target,
            stop,
        } = goal;
        let handler = subscription.handler;
        'pages: while cursor.scanned < up_to {
            let page = match target {
                // Positions are dense: nothing lies between the checkpoint and the event in hand.
                Some(event) if cursor.scanned + 1 == up_to => vec![event.clone()],
                _ => {
                    let limit = (up_to - cursor.scanned).min(PAGE) as usize;
                    read_after(&core.store, handler, cursor.scanned, limit).await?
                }
            };
            if page.is_empty() {
                // Nothing of the handler's categories up to `up_to`.
                cursor.scanned = up_to;
                break;
            }
            for event in page {
                let position = event.metadata.global_position;
                if position > up_to || stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    break 'pages;
                }
                if !core
                    .registry
                    .handlers_for(&event)
                    .any(|h| std::ptr::eq(h, handler))
                {
                    cursor.scanned = position;
                    cursor.unpersisted += 1;
                    continue;
                }
                // Only a committing task waits for an outcome, and only for its inline handlers.
                let owner = subscription
                    .inline
                    .then(|| Chain::owner_of(&self.owners, event.metadata.id))
                    .flatten();
                let mut committed = Vec::new();
                let stream = &event.metadata.stream;
                let failure = if let Some(behind) = core.parked.head(handler.path, stream) {
                    // Per-stream order: recorded as waiting behind the parked one, not run.
                    let (record, failure) = blocked(handler, &event, behind);
                    if !advance(core, cursor, handler.path, position, Some(record)).await? {
                        continue 'pages;
                    }
                    Some(failure)
                } else if let Attempt::Poison(crashes) =
                    self.count_attempt(core, subscription, position).await?
                {
                    let cause = Error::Rule(format!(
                        "delivering this event stopped the process {crashes} times: parked \
                         without running the handler again (a poison event?)"
                    ));
                    let (record, failure) = parked(handler, &event, cause, crashes);
                    let id = record.id;
                    if !advance(core, cursor, handler.path, position, Some(record)).await? {
                        continue 'pages;
                    }
                    core.parked.park(handler.path, stream.clone(), id);
                    Some(failure)
                } else {
                    let policy = core.retries.of(handler.path);
                    let mut attempt = 1;
                    // Whether `count_attempt` counted this one (the first since the start).
                    let mut counted = subscription.counted.swap(false, Ordering::Relaxed);
                    loop {
                        let mark = DeliveryMark::Checkpoint(Checkpoint {
                            subscription: handler.path,
                            from: cursor.persisted,
                            to: position,
                            failure: None,
                        });
                        let on_behalf_of = owner.clone().unwrap_or_else(|| chain.clone());
                        let on = Some(on_behalf_of);
                        let delivered =
                            deliver(core, handler, &event, on, Some(mark), counted).await;
                        counted = false;
                        match delivered.outcome {
                            Ok(()) => {
                                cursor.scanned = position;
                                if delivered.persisted {
                                    cursor.persisted = position;
                                    cursor.unpersisted = 0;
                                } else {
                                    cursor.unpersisted += 1;
                                }
                                committed = delivered.events;
                                break None;
                            }
                            Err(Error::CheckpointMoved { .. }) => {
                                // Another process delivered past here: its writes stand, ours
                                // rolled back.
                                *cursor = Cursor::at(core.store.checkpoint(handler.path).await?);
                                continue 'pages;
                            }
                            Err(_) if attempt < policy.max_attempts() => {
                                attempt += 1;
                                tokio::time::sleep(policy.delay_before(attempt)).await;
                            }
                            Err(cause) => {
                                let (record, failure) = parked(handler, &event, cause, attempt);
                                let id = record.id;
                                if !advance(core, cursor, handler.path, position, Some(record))
                                    .await?
                                {
                                    continue 'pages;
                                }
                                core.parked.park(handler.path, stream.clone(), id);
                                break Some(failure);
                            }
                        }
                    }
                };
                let outcome = Outcome {
                    event_id: event.metadata.id,
                    handler: handler.path,
                    failure,
                    events: committed,
                };
                match owner {
                    Some(owner) => owner.deposit(outcome),
                    None => adopted.extend(outcome.events),
                }
            }
        }
        Ok(())
    }

    /// For the first delivery of `subscription` since the process started: counts the attempt
    /// before the handler runs. [`Attempt::Poison`] with how many starts stopped inside the
    /// handler while delivering the event at `position`, if more than [`POISON_LIMIT`] did.
    async fn count_attempt(
        &self,
        core: &DomainInner,
        subscription: &Subscription,
        position: u64,
    ) -> Result<Attempt> {
        if !subscription.suspect.swap(false, Ordering::Relaxed) {
            return Ok(Attempt::NotCounted);
        }
        let path = subscription.handler.path;
        match core.store.count_attempt(path, position).await {
            Ok(attempts) if attempts > POISON_LIMIT => Ok(Attempt::Poison(attempts - 1)),
            Ok(_) => {
                subscription.counted.store(true, Ordering::Relaxed);
                Ok(Attempt::Counted)
            }
            Err(error) => {
                subscription.suspect.store(true, Ordering::Relaxed);
                Err(error)
            }
        }
    }

    /// Commits the checkpoint up to what the cursor has handled.
    async fn persist(
        &self,
        core: &DomainInner,
        subscription: &Subscription,
        cursor: &mut Cursor,
    ) -> Result<()> {
        if cursor.scanned == cursor.persisted {
            return Ok(());
        }
        let (path, to) = (subscription.handler.path, cursor.scanned);
        advance(core, cursor, path, to, None).await.map(|_| ())
    }
}

/// Commits `subscription`'s checkpoint from where `cursor` has it stored to `to`, with a failure
/// `record` if given: `true` when written, `false` when another process moved the checkpoint
/// first (the cursor is reloaded from the store; the caller reads on from there).
async fn advance(
    core: &DomainInner,
    cursor: &mut Cursor,
    subscription: &'static str,
    to: u64,
    record: Option<FailedDelivery>,
) -> Result<bool> {
    let mark = Checkpoint {
        subscription,
        from: cursor.persisted,
        to,
        failure: record,
    };
    match core.store.commit(CommitBatch::checkpoint_only(mark)).await {
        Ok(_) => {
            *cursor = Cursor::at(to);
            Ok(true)
        }
        Err(Error::CheckpointMoved { .. }) => {
            *cursor = Cursor::at(core.store.checkpoint(subscription).await?);
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// How far a catch-up goes: up to position `up_to` (that of `target`, the event in hand, when a
/// committing task delivers it), or until `stop` is set (the engine's shutdown).
struct Goal<'a> {
    up_to: u64,
    target: Option<&'a EventEnvelope>,
    stop: Option<&'a AtomicBool>,
}

impl<'a> Goal<'a> {
    fn event(event: &'a EventEnvelope) -> Goal<'a> {
        Goal {
            up_to: event.metadata.global_position,
            target: Some(event),
            stop: None,
        }
    }

    fn head(head: u64, stop: Option<&'a AtomicBool>) -> Goal<'a> {
        Goal {
            up_to: head,
            target: None,
            stop,
        }
    }
}

/// Up to `limit` events of the handler's category (every category for `$all`) after `after`.
async fn read_after(
    store: &Store,
    handler: &EventHandlerRegistration,
    after: u64,
    limit: usize,
) -> Result<Vec<EventEnvelope>> {
    if handler.stream_category == ALL_CATEGORIES {
        store.read_all(after, limit).await
    } else {
        store
            .read_category(handler.stream_category, after, limit)
            .await
    }
}

impl Dispatcher for CheckpointedDispatcher {
    fn dispatch<'a>(
        &'a self,
        core: &'a Arc<DomainInner>,
        events: Vec<EventEnvelope>,
        chain: Option<Arc<Chain>>,
    ) -> BoxFuture<'a, Vec<HandlerFailure>> {
        if let Some(last) = events.last() {
            self.head
                .fetch_max(last.metadata.global_position, Ordering::Relaxed);
        }
        if self.any_async {
            self.wake.notify_one();
        }
        let chain = chain.unwrap_or_else(|| Chain::new(self.owners.clone()));
        let queue = events.into_iter().map(|e| (e, true)).collect();
        Box::pin(self.deliver_all(core, queue, chain))
    }

    fn chain(&self) -> Option<Arc<Chain>> {
        Some(Chain::new(self.owners.clone()))
    }
}
