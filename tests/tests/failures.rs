//! Event-handler failures: the command's commit stands, sibling handlers still run, the failed
//! delivery is recorded and named (handler and event), a panic is recorded rather than
//! propagated, and a retry after the fix succeeds and removes the record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use domain_core::prelude::*;

#[aggregate]
pub struct FlAccount {
    pub owner: String,
}

#[aggregate]
pub struct FlEntry {
    pub source: String,
    pub owner: String,
}

#[event(part_of = FlAccount)]
pub struct FlAccountOpened {
    pub account_id: Identifier,
    pub owner: String,
}

#[event(part_of = FlEntry)]
pub struct FlEntryWritten {
    pub source: String,
}

#[command(part_of = FlAccount)]
pub struct FlOpenAccount {
    pub owner: String,
}

#[command(part_of = FlEntry)]
pub struct FlWriteEntry {
    pub source: String,
    pub owner: String,
}

fn opened_account(owner: &str) -> FlAccount {
    let mut account = FlAccount::builder().owner(owner).build().unwrap();
    account.raise(FlAccountOpened {
        account_id: account.id(),
        owner: owner.into(),
    });
    account
}

fn entry(source: &str, owner: &str, raise: bool) -> Result<FlEntry> {
    let mut entry = FlEntry::builder().source(source).owner(owner).build()?;
    if raise {
        entry.raise(FlEntryWritten {
            source: source.into(),
        });
    }
    Ok(entry)
}

#[derive(Default)]
pub struct FlCommands;

#[command_handler(part_of = FlAccount)]
impl FlCommands {
    #[handle(FlOpenAccount)]
    fn open(&self, command: FlOpenAccount, ctx: &mut Context) -> Result<Identifier> {
        let account = opened_account(&command.owner);
        let id = account.id();
        ctx.repository::<FlAccount>().add(account)?;
        Ok(id)
    }
}

#[derive(Default)]
pub struct FlEntryCommands;

#[command_handler(part_of = FlEntry)]
impl FlEntryCommands {
    #[handle(FlWriteEntry)]
    fn write(&self, command: FlWriteEntry, ctx: &mut Context) -> Result<()> {
        ctx.repository::<FlEntry>()
            .add(entry(&command.source, &command.owner, true)?)
    }
}

/// What the handlers share with a test: a log and switches.
#[derive(Clone, Default)]
struct Probe {
    log: Arc<Mutex<Vec<String>>>,
    fail: Arc<AtomicBool>,
    panic: Arc<AtomicBool>,
    nest: Arc<AtomicBool>,
    /// With `nest`: the nester succeeds after its nested command (by default it fails).
    nest_succeeds: Arc<AtomicBool>,
}

impl Probe {
    fn record(&self, entry: impl Into<String>) {
        self.log.lock().unwrap().push(entry.into());
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn count(&self, entry: &str) -> usize {
        self.log().iter().filter(|e| *e == entry).count()
    }
}

// Handlers of FlAccountOpened run in name order: AaRecorder, BbFlaky, CcPanicker, EeNester, ZzAfter.

pub struct AaRecorder {
    probe: Probe,
}

#[event_handler(part_of = FlEntry, stream_category = "fl_account")]
impl AaRecorder {
    #[handle(FlAccountOpened)]
    fn on_opened(&self, event: &FlAccountOpened, ctx: &mut Context) -> Result<()> {
        self.probe.record("AaRecorder");
        ctx.repository::<FlEntry>()
            .add(entry("recorder", &event.owner, false)?)
    }
}

/// Stages an entry, then fails while `fail` is set; once fixed, writes it with an event.
pub struct BbFlaky {
    probe: Probe,
}

#[event_handler(part_of = FlEntry, stream_category = "fl_account")]
impl BbFlaky {
    #[handle(FlAccountOpened)]
    fn on_opened(&self, event: &FlAccountOpened, ctx: &mut Context) -> Result<()> {
        ctx.repository::<FlEntry>()
            .add(entry("flaky", &event.owner, true)?)?;
        if self.probe.fail.load(Ordering::SeqCst) {
            return Err(Error::rule("flaky is down"));
        }
        self.probe.record("BbFlaky");
        Ok(())
    }
}

pub struct CcPanicker {
    probe: Probe,
}

#[event_handler(part_of = FlEntry, stream_category = "fl_account")]
impl CcPanicker {
    #[handle(FlAccountOpened)]
    fn on_opened(&self, _event: &FlAccountOpened) -> Result<()> {
        if self.probe.panic.load(Ordering::SeqCst) {
            panic!("boom in panicker");
        }
        self.probe.record("CcPanicker");
        Ok(())
    }
}

/// When `nest` is set: processes a command (its own unit of work, committed), then fails.
pub struct EeNester {
    probe: Probe,
}

#[event_handler(part_of = FlEntry, stream_category = "fl_account")]
impl EeNester {
    #[handle(FlAccountOpened)]
    async fn on_opened(&self, event: &FlAccountOpened, ctx: &mut Context) -> Result<()> {
        if !self.probe.nest.load(Ordering::SeqCst) {
            return Ok(());
        }
        ctx.process(FlWriteEntry {
            source: "nested".into(),
            owner: event.owner.clone(),
        })
        .await?;
        if self.probe.nest_succeeds.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(Error::rule("nester fails after its nested command"))
    }
}

pub struct ZzAfter {
    probe: Probe,
}

#[event_handler(part_of = FlEntry, stream_category = "fl_account")]
impl ZzAfter {
    #[handle(FlAccountOpened)]
    fn on_opened(&self, _event: &FlAccountOpened) {
        self.probe.record("ZzAfter");
    }
}

/// Handles the events the other handlers' entries raise.
pub struct DdFollower {
    probe: Probe,
}

#[event_handler(part_of = FlEntry)]
impl DdFollower {
    #[handle(FlEntryWritten)]
    fn on_written(&self, event: &FlEntryWritten) {
        self.probe.record(format!("DdFollower:{}", event.source));
    }
}

fn domain() -> (Domain, Probe) {
    let probe = Probe::default();
    let domain = Domain::builder("Failures")
        .handler(AaRecorder {
            probe: probe.clone(),
        })
        .handler(BbFlaky {
            probe: probe.clone(),
        })
        .handler(CcPanicker {
            probe: probe.clone(),
        })
        .handler(DdFollower {
            probe: probe.clone(),
        })
        .handler(EeNester {
            probe: probe.clone(),
        })
        .handler(ZzAfter {
            probe: probe.clone(),
        })
        .build()
        .expect("the failures domain is consistent");
    (domain, probe)
}

async fn entry_sources(domain: &Domain) -> Vec<String> {
    let mut sources: Vec<String> = domain
        .repository::<FlEntry>()
        .query()
        .all()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.source)
        .collect();
    sources.sort();
    sources
}

fn handler_failures(error: Error) -> Vec<domain_core::HandlerFailure> {
    match error {
        Error::HandlersFailed { failures, .. } => failures,
        other => panic!("expected HandlersFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn failing_handler_keeps_the_commit_runs_siblings_and_is_retried() {
    let (domain, probe) = domain();
    probe.fail.store(true, Ordering::SeqCst);

    let error = domain
        .process(FlOpenAccount {
            owner: "ann".into(),
        })
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("committed"), "{text}");
    assert!(
        text.contains("failures::BbFlaky"),
        "the error names the handler: {text}"
    );
    assert!(
        text.contains("Failures.FlAccountOpened.v1"),
        "the error names the event: {text}"
    );
    assert!(text.contains("flaky is down"), "{text}");
    let failures = handler_failures(error);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].handler.as_ref(), "failures::BbFlaky");
    assert_eq!(failures[0].event_type, "Failures.FlAccountOpened.v1");
    assert!(failures[0].cause.contains("flaky is down"));

    // The command's commit stands: the account and its event are stored.
    let account = domain
        .repository::<FlAccount>()
        .find_by(FlAccount::OWNER.eq("ann"))
        .await
        .unwrap();
    let events = domain
        .event_store()
        .read_stream(&format!("fl_account-{}", account.id()))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(failures[0].event_id, events[0].metadata().id);

    // Siblings before and after the failing handler ran; its own staged entry was rolled back.
    assert_eq!(probe.log(), ["AaRecorder", "CcPanicker", "ZzAfter"]);
    assert_eq!(entry_sources(&domain).await, ["recorder"]);

    // The failed delivery is recorded.
    let recorded = domain.failed_deliveries().await.unwrap();
    assert_eq!(recorded.len(), 1);
    let record = &recorded[0];
    assert_eq!(record.id, failures[0].delivery_id);
    assert_eq!(record.handler.as_ref(), "failures::BbFlaky");
    assert_eq!(
        &*record.event.metadata().type_name,
        "Failures.FlAccountOpened.v1"
    );
    assert_eq!(
        record
            .event
            .downcast_ref::<FlAccountOpened>()
            .unwrap()
            .owner,
        "ann"
    );
    assert!(record.error.contains("flaky is down"));
    assert_eq!(record.attempts, 1);

    // Retrying before the fix fails again and keeps the record, with one more attempt.
    let again = handler_failures(domain.retry_delivery(record.id).await.unwrap_err());
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].handler.as_ref(), "failures::BbFlaky");
    let recorded = domain.failed_deliveries().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].id, record.id);
    assert_eq!(recorded[0].attempts, 2);
    assert_eq!(entry_sources(&domain).await, ["recorder"]);

    // After the fix the retry succeeds, removes the record, commits, and dispatches what the
    // handler raised. Only the failed handler runs again.
    probe.fail.store(false, Ordering::SeqCst);
    domain.retry_delivery(record.id).await.unwrap();
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    assert_eq!(entry_sources(&domain).await, ["flaky", "recorder"]);
    assert_eq!(probe.count("BbFlaky"), 1);
    assert_eq!(probe.count("DdFollower:flaky"), 1);
    assert_eq!(probe.count("AaRecorder"), 1);
    assert_eq!(probe.count("ZzAfter"), 1);

    // The record is gone: retrying it again is NotFound.
    assert!(matches!(
        domain.retry_delivery(record.id).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn panicking_handler_is_recorded_not_propagated() {
    let (domain, probe) = domain();
    probe.panic.store(true, Ordering::SeqCst);

    let failures = handler_failures(
        domain
            .process(FlOpenAccount {
                owner: "bob".into(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].handler.as_ref(), "failures::CcPanicker");
    assert!(
        failures[0].cause.contains("panicked"),
        "{}",
        failures[0].cause
    );
    assert!(failures[0].cause.contains("boom in panicker"));

    // Everything else ran, including the events raised by siblings.
    assert_eq!(
        probe.log(),
        ["AaRecorder", "BbFlaky", "ZzAfter", "DdFollower:flaky"]
    );
    assert_eq!(
        domain
            .repository::<FlAccount>()
            .query()
            .count()
            .await
            .unwrap(),
        1
    );
    let recorded = domain.failed_deliveries().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].handler.as_ref(), "failures::CcPanicker");
    assert!(recorded[0].error.contains("boom in panicker"));

    probe.panic.store(false, Ordering::SeqCst);
    let report = domain.retry_failed_deliveries().await;
    assert_eq!(report.succeeded, 1);
    assert!(report.still_failing.is_empty());
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    assert_eq!(probe.count("CcPanicker"), 1);
}

#[tokio::test]
async fn every_failure_is_reported_and_retried_independently() {
    let (domain, probe) = domain();
    probe.fail.store(true, Ordering::SeqCst);
    probe.panic.store(true, Ordering::SeqCst);

    let failures = handler_failures(
        domain
            .process(FlOpenAccount { owner: "cy".into() })
            .await
            .unwrap_err(),
    );
    let handlers: Vec<_> = failures.iter().map(|f| f.handler.as_ref()).collect();
    assert_eq!(handlers, ["failures::BbFlaky", "failures::CcPanicker"]);
    assert_eq!(probe.log(), ["AaRecorder", "ZzAfter"]);
    assert_eq!(domain.failed_deliveries().await.unwrap().len(), 2);

    // Fix one of the two.
    probe.panic.store(false, Ordering::SeqCst);
    let report = domain.retry_failed_deliveries().await;
    assert_eq!(report.succeeded, 1);
    assert_eq!(report.still_failing.len(), 1);
    assert_eq!(
        report.still_failing[0].handler.as_ref(),
        "failures::BbFlaky"
    );
    let recorded = domain.failed_deliveries().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].handler.as_ref(), "failures::BbFlaky");
    assert_eq!(recorded[0].attempts, 2);

    probe.fail.store(false, Ordering::SeqCst);
    let report = domain.retry_failed_deliveries().await;
    assert_eq!(report.succeeded, 1);
    assert!(report.still_failing.is_empty());
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    assert_eq!(entry_sources(&domain).await, ["flaky", "recorder"]);
}

#[tokio::test]
async fn failure_after_a_plain_repository_add_keeps_the_add() {
    let (domain, probe) = domain();
    probe.fail.store(true, Ordering::SeqCst);
    let account = opened_account("dee");
    let id = account.id();
    let failures = handler_failures(
        domain
            .repository::<FlAccount>()
            .add(account)
            .await
            .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].handler.as_ref(), "failures::BbFlaky");
    assert_eq!(
        domain
            .repository::<FlAccount>()
            .get(&id)
            .await
            .unwrap()
            .owner,
        "dee"
    );
    assert_eq!(domain.failed_deliveries().await.unwrap().len(), 1);
}

#[tokio::test]
async fn succeeding_handlers_leave_no_record() {
    let (domain, probe) = domain();
    domain
        .process(FlOpenAccount {
            owner: "eve".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        probe.log(),
        [
            "AaRecorder",
            "BbFlaky",
            "CcPanicker",
            "ZzAfter",
            "DdFollower:flaky"
        ]
    );
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    let report = domain.retry_failed_deliveries().await;
    assert_eq!(report.succeeded, 0);
    assert!(report.still_failing.is_empty());
}

/// A handler that processes a command and then fails takes the command down with it: the nested
/// command joined the handler's unit of work (as in Protean), so nothing of it is persisted or
/// dispatched. The retry runs handler and command again, and the command's effect then happens
/// once — with separate commits it happened twice.
#[tokio::test]
async fn a_nested_command_rolls_back_with_the_handler_that_processed_it() {
    let (domain, probe) = domain();
    probe.nest.store(true, Ordering::SeqCst);
    let failures = handler_failures(
        domain
            .process(FlOpenAccount {
                owner: "fay".into(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].handler.as_ref(), "failures::EeNester");
    // Nothing of the nested command: no entry, no event, no delivery.
    assert!(!entry_sources(&domain).await.contains(&"nested".to_string()));
    let written = domain
        .event_store()
        .read_category("fl_entry", 0, 100)
        .await
        .unwrap();
    assert!(
        !written
            .iter()
            .any(|e| e.downcast_ref::<FlEntryWritten>().unwrap().source == "nested")
    );
    assert_eq!(
        probe.count("DdFollower:nested"),
        0,
        "log: {:?}",
        probe.log()
    );

    // Fixed, the retry processes the nested command again: its effect happens once in all.
    probe.nest_succeeds.store(true, Ordering::SeqCst);
    let report = domain.retry_failed_deliveries().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    let nested = entry_sources(&domain)
        .await
        .into_iter()
        .filter(|s| s == "nested")
        .count();
    assert_eq!(nested, 1);
    assert_eq!(
        probe.count("DdFollower:nested"),
        1,
        "log: {:?}",
        probe.log()
    );
}

/// A nested command's changes commit with the handler's, and its events are dispatched after
/// that commit, caused by the nested command.
#[tokio::test]
async fn a_nested_command_commits_with_its_handler_and_its_events_are_delivered() {
    let (domain, probe) = domain();
    probe.nest.store(true, Ordering::SeqCst);
    probe.nest_succeeds.store(true, Ordering::SeqCst);
    domain
        .process(FlOpenAccount {
            owner: "gus".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        entry_sources(&domain)
            .await
            .iter()
            .filter(|s| *s == "nested")
            .count(),
        1
    );
    assert_eq!(
        probe.count("DdFollower:nested"),
        1,
        "log: {:?}",
        probe.log()
    );
    let written = domain
        .event_store()
        .read_category("fl_entry", 0, 100)
        .await
        .unwrap();
    let nested = written
        .iter()
        .find(|e| e.downcast_ref::<FlEntryWritten>().unwrap().source == "nested")
        .unwrap();
    let logged = domain.command_log().read_all(0, 100).await.unwrap();
    let write_entry = logged
        .iter()
        .find(|c| c.is::<FlWriteEntry>())
        .expect("the nested command is logged");
    assert_eq!(
        nested.metadata().causation_id,
        Some(write_entry.metadata().id)
    );
}

#[tokio::test]
async fn a_committed_command_keeps_its_output_when_a_handler_fails() {
    let (domain, probe) = domain();
    probe.fail.store(true, Ordering::SeqCst);
    let err = domain
        .process(FlOpenAccount {
            owner: "ann".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_committed(), "{err}");
    assert!(err.to_string().contains("committed"), "{err}");
    // The caller gets the new account's id back, and the failed delivery.
    let (id, failures) = err.into_committed::<Identifier>().unwrap();
    assert_eq!(
        domain
            .repository::<FlAccount>()
            .get(&id)
            .await
            .unwrap()
            .owner,
        "ann"
    );
    assert_eq!(failures.len(), 1);
    assert_eq!(&*failures[0].handler, "failures::BbFlaky");

    // Asking for the wrong type gives the error back, failures intact.
    probe.fail.store(true, Ordering::SeqCst);
    let err = domain
        .process(FlOpenAccount {
            owner: "bob".into(),
        })
        .await
        .unwrap_err();
    // Asking for the wrong type keeps the value in the error for another try.
    let err = err.into_committed::<String>().unwrap_err();
    let (id, failures) = err.into_committed::<Identifier>().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        domain
            .repository::<FlAccount>()
            .get(&id)
            .await
            .unwrap()
            .owner,
        "bob"
    );

    // An error that is not a committed command is given back unchanged.
    let not_committed = Error::rule("refused")
        .into_committed::<Identifier>()
        .unwrap_err();
    assert!(matches!(not_committed, Error::Rule(_)));
}

#[tokio::test]
async fn process_with_reports_output_ids_and_failures_without_an_error() {
    let (domain, probe) = domain();
    probe.fail.store(true, Ordering::SeqCst);
    let request_id = domain_core::Uuid::new_v4();
    let command_id = domain_core::Uuid::new_v4();
    let processed = domain
        .process_with(
            FlOpenAccount { owner: "cy".into() },
            domain_core::CommandOptions::new()
                .correlation_id(request_id)
                .command_id(command_id),
        )
        .await
        .unwrap();
    assert_eq!(processed.correlation_id, request_id);
    assert_eq!(processed.command_id, command_id);
    assert_eq!(processed.failures.len(), 1);
    let events = domain
        .event_store()
        .stream_of::<FlAccount>(&processed.output)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].metadata().correlation_id, request_id);
    assert_eq!(events[0].metadata().causation_id, Some(command_id));
    // Without options: a new command id, which is also the correlation id.
    probe.fail.store(false, Ordering::SeqCst);
    let processed = domain
        .process_with(
            FlOpenAccount { owner: "di".into() },
            domain_core::CommandOptions::new(),
        )
        .await
        .unwrap();
    assert!(processed.failures.is_empty());
    assert_eq!(processed.correlation_id, processed.command_id);
    let processed = processed.into_result().unwrap();
    assert_eq!(
        domain
            .repository::<FlAccount>()
            .get(&processed)
            .await
            .unwrap()
            .owner,
        "di"
    );

    // Reactions carry the caller's correlation id down the chain (BbFlaky's entry raises an event).
    let request_id = domain_core::Uuid::new_v4();
    domain
        .process_with(
            FlOpenAccount { owner: "ed".into() },
            domain_core::CommandOptions::new().correlation_id(request_id),
        )
        .await
        .unwrap();
    let written = domain
        .event_store()
        .read_category("fl_entry", 0, 100)
        .await
        .unwrap();
    let chained = written
        .iter()
        .filter(|e| e.metadata().correlation_id == request_id)
        .count();
    assert_eq!(
        chained, 1,
        "BbFlaky's FlEntryWritten carries the request id"
    );
}

#[tokio::test]
async fn reading_an_unknown_category_or_stream_is_an_error_not_an_empty_list() {
    let (domain, _probe) = domain();
    let store = domain.event_store();
    let err = store.read_category("fl_acount", 0, 10).await.unwrap_err();
    assert!(matches!(err, Error::UnknownCategory { .. }), "{err}");
    assert!(
        err.to_string().contains("fl_account"),
        "names the known ones: {err}"
    );
    let err = store.read_stream("fl_acount-42").await.unwrap_err();
    assert!(matches!(err, Error::UnknownCategory { .. }), "{err}");
    // A known category with no events, and an aggregate with no stream yet, are empty, not errors.
    assert!(
        store
            .read_category("fl_account", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.read_stream("fl_account-42").await.unwrap().is_empty());
    let none = store
        .stream_of::<FlAccount>(&Identifier::new())
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[derive(Debug, PartialEq)]
pub enum FlLedgerError {
    Locked { account: String, minutes: u32 },
}

impl std::fmt::Display for FlLedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for FlLedgerError {}

impl From<FlLedgerError> for Error {
    fn from(error: FlLedgerError) -> Self {
        Error::other(error)
    }
}

#[aggregate]
pub struct FlLedger {
    pub account: String,
}

#[event(part_of = FlLedger)]
pub struct FlLedgerOpened {
    pub account: String,
}

#[derive(Default)]
pub struct FlLockedLedger;

#[event_handler(part_of = FlLedger)]
impl FlLockedLedger {
    #[handle(FlLedgerOpened)]
    fn on_opened(&self, event: &FlLedgerOpened) -> std::result::Result<(), FlLedgerError> {
        Err(FlLedgerError::Locked {
            account: event.account.clone(),
            minutes: 5,
        })
    }
}

#[tokio::test]
async fn a_failed_handler_keeps_its_own_error_type_and_variant() {
    let (domain, probe) = domain();
    let mut ledger = FlLedger::builder().account("acc-1").build().unwrap();
    ledger.raise(FlLedgerOpened {
        account: "acc-1".into(),
    });
    let err = domain
        .repository::<FlLedger>()
        .add(ledger)
        .await
        .unwrap_err();
    let failures = handler_failures(err);
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].downcast_ref::<FlLedgerError>(),
        Some(&FlLedgerError::Locked {
            account: "acc-1".into(),
            minutes: 5
        })
    );
    // The failure is an error whose source is the handler's error.
    let source = std::error::Error::source(&failures[0]).unwrap();
    assert!(source.to_string().contains("Locked"), "{source}");

    // A framework error keeps its variant too.
    probe.fail.store(true, Ordering::SeqCst);
    let err = domain
        .process(FlOpenAccount {
            owner: "fay".into(),
        })
        .await
        .unwrap_err();
    let failures = handler_failures(err);
    assert!(matches!(
        failures[0].downcast_ref::<Error>(),
        Some(Error::Rule(message)) if message == "flaky is down"
    ));
    // Records read back from the store have the text only.
    let recorded = domain.failed_deliveries().await.unwrap();
    assert!(recorded.iter().any(|r| r.error.contains("flaky is down")));
}

/// Two handlers with one short name in different modules: a failure of one is retried by that
/// one, never by its namesake (which once reported success and deleted the record).
mod twin_a {
    use super::*;

    #[derive(Default)]
    pub struct FlTwin;

    #[event_handler(part_of = FlLedger)]
    impl FlTwin {
        #[handle(FlLedgerOpened)]
        fn on_opened(&self, event: &FlLedgerOpened) -> Result<()> {
            if event.account == "twin" {
                return Err(Error::rule("twin_a is down"));
            }
            Ok(())
        }
    }
}

mod twin_b {
    use super::*;

    #[derive(Default)]
    pub struct FlTwin;

    #[event_handler(part_of = FlLedger)]
    impl FlTwin {
        #[handle(FlLedgerOpened)]
        fn on_opened(&self, _event: &FlLedgerOpened) {}
    }
}

#[tokio::test]
async fn handlers_with_one_short_name_are_told_apart_by_their_path() {
    let (domain, _probe) = domain();
    let mut ledger = FlLedger::builder().account("twin").build().unwrap();
    ledger.raise(FlLedgerOpened {
        account: "twin".into(),
    });
    let err = domain
        .repository::<FlLedger>()
        .add(ledger)
        .await
        .unwrap_err();
    let twins: Vec<String> = handler_failures(err)
        .into_iter()
        .map(|f| f.handler.to_string())
        .filter(|h| h.ends_with("FlTwin"))
        .collect();
    assert_eq!(twins, ["failures::twin_a::FlTwin"]);
    // The retry runs twin_a again (still failing): the record stays, with one more attempt.
    let report = domain.retry_failed_deliveries().await;
    let retried: Vec<&str> = report
        .still_failing
        .iter()
        .map(|f| f.handler.as_ref())
        .filter(|h| h.ends_with("FlTwin"))
        .collect();
    assert_eq!(retried, ["failures::twin_a::FlTwin"]);
    let records = domain.failed_deliveries().await.unwrap();
    let twin = records
        .iter()
        .find(|r| r.handler.as_ref() == "failures::twin_a::FlTwin")
        .expect("the record is kept");
    assert_eq!(twin.attempts, 2);
}
