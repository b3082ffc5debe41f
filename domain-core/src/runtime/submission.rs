//! Async command processing: commands submitted to the command log ([`Domain::submit`]) and run
//! by the engine, or by `settle`, from there.
//!
//! A submitted command waits in the command log as `pending`. A run counts an attempt first (so
//! a command whose handler kills the process is given up on after its attempts, not run at every
//! start), then runs the handler in a unit of work whose commit also moves the record from
//! `pending` to `done` by compare-and-set: two engines that run one command commit it once, and
//! a crash before the commit leaves it pending for the next run. Its events are then delivered
//! like those of any command. A handler that refuses the command (a validation or rule error,
//! a panic) fails it at once; any other error is retried with the command retry policy's backoff,
//! and fails it when its attempts run out. Failed submissions are listed, and retried, by the
//! domain.
//!
//! [`Domain::submit`]: crate::Domain::submit

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use crate::model::error::{Error, Result};
use crate::model::message::RecordedCommand;
use crate::runtime::context::Context;
use crate::runtime::core::DomainInner;
use crate::runtime::handler::{CatchPanic, HandledCommand, handler_of};
use crate::runtime::registry::BoxFuture;
use crate::runtime::retry::RetryPolicy;
use crate::store::{NextAttempt, Submission};

/// How many due submissions one look at the log fetches.
const BATCH: usize = 64;

/// The state this process keeps for running submitted commands.
pub(crate) struct CommandQueue {
    /// One run at a time in this process (the engine and `settle` take turns), so that an
    /// attempt is counted once per run.
    turn: tokio::sync::Mutex<()>,
    /// Wakes the engine when this process submits a command.
    wake: tokio::sync::Notify,
    /// Attempts and backoff for every submitted command.
    pub policy: RetryPolicy,
}

impl CommandQueue {
    pub fn new(policy: RetryPolicy) -> CommandQueue {
        CommandQueue {
            turn: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            policy,
        }
    }

    /// Tells the engine there is work.
    pub fn submitted(&self) {
        self.wake.notify_one();
    }

    /// Resolves when this process has submitted a command since the last call.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Runs the submissions due now, oldest first, until none is due, or `batches` batches of
    /// them (the engine runs one per round, so a steady stream of submissions does not hold
    /// back event delivery), or `stop` is set between two runs; returns how many runs were made.
    pub async fn run_due(
        &self,
        core: &Arc<DomainInner>,
        batches: Option<usize>,
        stop: Option<&AtomicBool>,
    ) -> Result<usize> {
        let _turn = self.turn.lock().await;
        let stopped = || stop.is_some_and(|stop| stop.load(Ordering::Relaxed));
        let mut runs = 0;
        let mut batch = 0;
        while !stopped() && batches.is_none_or(|most| batch < most) {
            batch += 1;
            let due = core.store.due_submissions(SystemTime::now(), BATCH).await?;
            if due.is_empty() {
                break;
            }
            for submission in due {
                if stopped() {
                    break;
                }
                self.run_one(core, submission).await?;
                runs += 1;
            }
        }
        Ok(runs)
    }

    /// One attempt at one submission. An `Err` is the store's: the attempt's outcome could not be
    /// recorded, and the submission stays pending.
    async fn run_one(&self, core: &Arc<DomainInner>, submission: Submission) -> Result<()> {
        let record = &submission.command;
        let position = record.position();
        let store = &core.store;
        let Some(attempts) = store
            .count_submission_attempt(position, SystemTime::now())
            .await?
        else {
            return Ok(()); // settled, or failed and rescheduled, by another engine since read
        };
        if attempts > self.policy.max_attempts() {
            // Every attempt counted so far stopped before recording its outcome.
            let error = format!(
                "given up after {} attempts that stopped the process before their outcome was \
                 recorded; last recorded error: {}",
                attempts - 1,
                submission.last_error.as_deref().unwrap_or("none")
            );
            return store
                .submission_failed(position, &error, NextAttempt::Never)
                .await;
        }
        let entry = record
            .type_id
            .and_then(|type_id| core.registry.commands.get(&type_id))
            .and_then(|info| info.entry);
        let Some(entry) = entry else {
            let error = format!(
                "no handler of `{}` is registered with this domain",
                record.metadata.type_name
            );
            return store
                .submission_failed(position, &error, NextAttempt::Never)
                .await;
        };
        let span = tracing::info_span!(
            "domain.submitted_command",
            message_id = %record.metadata.id,
            type_name = %record.metadata.type_name,
            position,
            attempt = attempts,
            correlation_id = %record.metadata.correlation_id,
        );
        let run = (entry.run_submitted)(core as &(dyn Any + Send + Sync), record);
        let outcome = if span.is_disabled() {
            run.await
        } else {
            tracing::Instrument::instrument(run, span).await
        };
        match outcome {
            Ok(()) | Err(Error::SubmissionSettled { .. }) => Ok(()),
            Err(error) => {
                let next = if refuses(&error) || attempts >= self.policy.max_attempts() {
                    NextAttempt::Never
                } else {
                    NextAttempt::At(SystemTime::now() + self.policy.delay_before(attempts + 1))
                };
                tracing::warn!(%error, command = %record.metadata.id, attempts, "a submitted command failed");
                store
                    .submission_failed(position, &error.to_string(), next)
                    .await
            }
        }
    }
}

/// Whether `error` is the handler's answer to the command itself, which running it again would
/// not change (so it is not retried).
fn refuses(error: &Error) -> bool {
    matches!(
        error,
        Error::Validation(_)
            | Error::Rule(_)
            | Error::NotFound { .. }
            | Error::TooMany { .. }
            | Error::NoHandler { .. }
            | Error::Ignored { .. }
            | Error::Malformed { .. }
            | Error::UnknownMessageType { .. }
            | Error::UnreadableCommand { .. }
    )
}

/// Runs the submitted command `record` of type `C` (the erased entry behind the engine's runs):
/// decodes and validates it, runs its handler in a unit of work committed with the record's
/// settlement, then delivers the events. Failed reactions are recorded as failed deliveries, as
/// for any command; the `Err` is the command's own.
#[doc(hidden)]
pub fn run_submitted<'a, C: HandledCommand>(
    core: &'a (dyn Any + Send + Sync),
    record: &'a RecordedCommand,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let core = core.downcast_ref::<Arc<DomainInner>>().ok_or_else(|| {
            Error::Store("run_submitted was given something other than a domain".into())
        })?;
        let command =
            crate::model::json::decode_command::<C>(&record.metadata.type_name, &record.payload)?;
        command.validate()?;
        let handler = handler_of::<C>(core)?;
        let chain = core.dispatcher.chain();
        let mut ctx = Context::new(core.clone(), record.metadata.clone(), chain.clone());
        let handled = C::handle(handler, command, &mut ctx);
        let outcome = CatchPanic(std::pin::pin!(handled)).await.map(drop);
        let events = ctx.finish_submission(outcome, record.position()).await?;
        core.deliver_committed(events, chain).await;
        Ok(())
    })
}
