//! The engine: delivers committed events to the handlers of async processing, from the log, in
//! the background, and runs submitted commands. Each round runs a batch of the submitted
//! commands that are due, then catches every subscription up to the log's head (the same
//! catch-up the committing task runs in sync mode), again until the head stops moving; then it
//! waits for this process to commit or submit more, or for a poll interval to pass (other
//! processes' commits, and retries whose backoff has passed).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::model::error::Result;
use crate::runtime::core::DomainInner;
use crate::runtime::submission::CommandQueue;
use crate::runtime::subscription::CheckpointedDispatcher;

/// Runs a domain's async event processing and its submitted commands
/// ([`Domain::engine`](crate::Domain::engine), [`Domain::submit`](crate::Domain::submit)).
///
/// Delivery is at least once, and exactly once in effect for handlers whose effects are writes to
/// the store (their writes and their checkpoint commit together). Several engines, in one process
/// or several, may run on one database: each subscription's checkpoint moves by compare-and-set,
/// so a delivery two of them attempt commits once.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
/// use domain_core::EventProcessing;
///
/// #[aggregate]
/// pub struct Order { pub total: i64 }
///
/// #[event(part_of = Order)]
/// pub struct OrderPlaced { pub total: i64 }
///
/// #[aggregate]
/// pub struct Invoice { pub total: i64 }
///
/// #[derive(Default)]
/// pub struct Billing;
///
/// #[event_handler(part_of = Invoice, stream_category = "order")]
/// impl Billing {
///     #[handle(OrderPlaced)]
///     fn bill(&self, event: &OrderPlaced, ctx: &mut Context) -> Result<()> {
///         ctx.repository::<Invoice>().add(Invoice::builder().total(event.total).build()?)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").event_processing(EventProcessing::Async).build()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let engine = tokio::spawn({
///     let domain = domain.clone();
///     async move { domain.engine().run_until(async { stopped.await.ok(); }).await }
/// });
///
/// let mut order = Order::builder().total(30).build()?;
/// order.raise(OrderPlaced { total: 30 });
/// domain.repository::<Order>().add(order).await?;     // returns after the order's commit
/// domain.settle().await?;                             // waits for nothing; delivers what is left
/// assert_eq!(domain.repository::<Invoice>().query().count().await?, 1);
///
/// stop.send(()).unwrap();                             // graceful: the engine finishes its delivery
/// engine.await.unwrap()?;
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
pub struct Engine {
    pub(crate) inner: Arc<DomainInner>,
    pub(crate) subscriptions: Option<Arc<CheckpointedDispatcher>>,
    pub(crate) commands: Arc<CommandQueue>,
    pub(crate) poll: Duration,
}

/// How long the engine waits, with nothing committed by its own process, before it looks at the
/// log for other processes' commits.
pub const ENGINE_POLL: Duration = Duration::from_millis(100);

impl Engine {
    /// How often the engine looks for other processes' commits ([`ENGINE_POLL`] by default).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll = interval;
        self
    }

    /// Delivers, and runs submitted commands ([`Domain::submit`](crate::Domain::submit)),
    /// until `shutdown` resolves; then finishes the delivery or command in progress, records
    /// every subscription's checkpoint, and returns. A store that fails (a database restart, an
    /// outage) is retried with backoff, from 50 ms up to 5 s; nothing is skipped meanwhile.
    /// Errors only if the final checkpoints cannot be written.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let stop = AtomicBool::new(false);
        let stopped = tokio::sync::Notify::new();
        let watch = async {
            shutdown.await;
            stop.store(true, Ordering::Relaxed);
            stopped.notify_one();
        };
        let work = async {
            let mut backoff = Duration::from_millis(50);
            while !stop.load(Ordering::Relaxed) {
                let wait = match self.round(&stop).await {
                    Ok(_) => {
                        backoff = Duration::from_millis(50);
                        self.poll
                    }
                    Err(error) => {
                        tracing::warn!(%error, ?backoff, "the engine could not deliver; retrying");
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        backoff
                    }
                };
                tokio::select! {
                    () = self.committed() => {}
                    () = self.commands.woken() => {}
                    () = tokio::time::sleep(wait) => {}
                    () = stopped.notified() => {}
                }
            }
            match &self.subscriptions {
                Some(subscriptions) => subscriptions.persist_all(&self.inner).await,
                None => Ok(()),
            }
        };
        let ((), result) = tokio::join!(watch, work);
        result
    }

    /// One round: submitted commands due now, then every subscription brought to the head.
    async fn round(&self, stop: &AtomicBool) -> Result<()> {
        let ran = self
            .commands
            .run_due(&self.inner, Some(1), Some(stop))
            .await?;
        if let Some(subscriptions) = &self.subscriptions {
            subscriptions.settle(&self.inner, Some(stop)).await?;
        }
        if ran > 0 {
            self.commands.submitted(); // maybe more are due: the next round starts at once
        }
        Ok(())
    }

    /// Resolves when this process commits events (never without subscriptions: the in-memory
    /// store in sync mode delivers them as it commits).
    async fn committed(&self) {
        match &self.subscriptions {
            Some(subscriptions) => subscriptions.committed().await,
            None => std::future::pending().await,
        }
    }

    /// Delivers for ever (until the task running it is dropped, which loses nothing either).
    pub async fn run(&self) -> Result<()> {
        self.run_until(std::future::pending()).await
    }
}

/// Where one subscription stands ([`Domain::subscriptions`](crate::Domain::subscriptions)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionStatus {
    /// The event handler's full path.
    pub handler: &'static str,
    /// Whether the engine delivers to it (`true`) or the committing task (`false`).
    pub background: bool,
    /// The global position up to which it has handled the log.
    pub position: u64,
    /// How many positions of the log it has not looked at yet (events of other categories count
    /// until it next catches up; the engine brings every subscription to the head each round).
    pub lag: u64,
}
