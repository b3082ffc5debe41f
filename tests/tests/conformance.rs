//! The store conformance suite: every test is written once and runs against the in-memory store,
//! SQLite (a fresh file per test) and PostgreSQL (a fresh schema per test, when
//! `DOMAIN_TEST_POSTGRES_URL` is set; otherwise the PostgreSQL tests print that they were skipped).
//!
//! Covered: repository round trips (entities, value objects, `Option`s), typed queries against
//! the in-memory predicate as the reference (documents missing an `Option`'s key included),
//! event streams and metadata, category and global reads, optimistic concurrency, rollback, sync
//! dispatch after commit, failed deliveries and retry, concurrent writers on one aggregate,
//! readers following the global position while writers commit, and the command log (read by
//! stream and position, written only on commit, nested commands' causation, readers following
//! it). The durable-only behaviours (reopening, schema versions and a lost version row, the
//! command-log migration, corrupt rows and out-of-range integers, error labels, unreachable
//! servers, and checkpointed delivery: two processes on one database, `process` futures dropped
//! at every await point, a new subscription starting at the log's head) are at the end.

use std::sync::Arc;
use std::time::Duration;

use domain_core::prelude::*;
use domain_core::{
    CommandOptions, DeliveryState, DomainBuilder, EventProcessing, Filter, MessageKind, OrderBy,
    RetryPolicy, SubmissionState, Uuid,
};
use serde::{Deserialize, Serialize};
use tests::harness::{Backend, TestDb};
use tests::suite;

// ---- the model ---------------------------------------------------------------------------------

#[value_object]
pub struct CfMoney {
    pub currency: String,
    pub cents: i64,
}

/// Declared in shelf order, which is not the alphabetical order of the names: ordering by this
/// field must follow Rust's order, not the stored text's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CfShelf {
    Top,
    Middle,
    Bottom,
}

#[aggregate]
pub struct CfBook {
    pub title: String,
    pub year: i64,
    pub price: f64,
    pub rating: Option<i64>,
    pub subtitle: Option<String>,
    pub in_print: bool,
    pub shelf: CfShelf,
    pub list_price: Option<CfMoney>,
    #[has_many]
    pub copies: Vec<CfCopy>,
}

#[entity(part_of = CfBook)]
pub struct CfCopy {
    pub barcode: String,
}

#[event(part_of = CfBook)]
pub struct CfBookAdded {
    #[field(max_length = 40)]
    pub title: String,
}

#[event(part_of = CfBook)]
pub struct CfCopyShelved {
    pub barcode: String,
}

#[aggregate]
pub struct CfCounter {
    pub hits: i64,
}

#[event(part_of = CfCounter)]
pub struct CfHit {
    pub total: i64,
}

/// Created by the event handler that reacts to `CfBookAdded`.
#[aggregate]
pub struct CfStock {
    pub title: String,
}

/// While a switch is broken, the stock handler fails (a fault that a later fix repairs).
#[aggregate]
pub struct CfSwitch {
    pub broken: bool,
}

#[command(part_of = CfBook)]
pub struct CfAddBook {
    pub title: String,
    /// Stage the book, then fail: nothing may be written.
    pub then_fail: bool,
}

#[command(part_of = CfCounter)]
pub struct CfHitCounter {
    #[identifier]
    pub counter_id: Identifier,
}

#[command(part_of = CfCounter)]
pub struct CfHitAndCreate {
    #[identifier]
    pub counter_id: Identifier,
    /// The id of a counter to create in the same unit of work.
    pub new_id: Identifier,
}

/// Adds each title with a nested `CfAddBook` (`ctx.process`), then fails if asked: the nested
/// commands committed already and keep their records; this one's must not exist.
#[command(part_of = CfBook)]
pub struct CfAddSeries {
    pub titles: Vec<String>,
    pub then_fail: bool,
}

/// Adds a book after failing (with an error no refusal: retried) as many times as its title's
/// entry in `FLAKY` says.
#[command(part_of = CfBook)]
pub struct CfFlakyAddBook {
    #[field(max_length = 40)]
    pub title: String,
}

static FLAKY: std::sync::Mutex<Vec<(String, u32)>> = std::sync::Mutex::new(Vec::new());

fn set_flaky(title: &str, failures: u32) {
    let mut flaky = FLAKY.lock().unwrap();
    flaky.retain(|(t, _)| t != title);
    flaky.push((title.to_string(), failures));
}

#[derive(Default)]
pub struct CfBookCommands;

#[command_handler(part_of = CfBook)]
impl CfBookCommands {
    #[handle(CfAddSeries)]
    async fn add_series(&self, command: CfAddSeries, ctx: &mut Context) -> Result<()> {
        for title in command.titles {
            ctx.process(CfAddBook {
                title,
                then_fail: false,
            })
            .await?;
        }
        if command.then_fail {
            return Err(Error::rule("the series handler failed after its books"));
        }
        Ok(())
    }

    #[handle(CfFlakyAddBook)]
    fn add_flaky(&self, command: CfFlakyAddBook, ctx: &mut Context) -> Result<()> {
        let mut flaky = FLAKY.lock().unwrap();
        if let Some((_, left)) = flaky.iter_mut().find(|(t, _)| *t == command.title)
            && *left > 0
        {
            *left -= 1;
            return Err(Error::Other("the flaky service is down".into()));
        }
        drop(flaky);
        ctx.repository::<CfBook>()
            .add(book(&command.title, 2000, 1.0))
    }

    #[handle(CfAddBook)]
    fn add(&self, command: CfAddBook, ctx: &mut Context) -> Result<Identifier> {
        let mut book = book(&command.title, 2000, 1.0);
        book.raise(CfBookAdded {
            title: command.title.clone(),
        });
        let id = book.id();
        ctx.repository::<CfBook>().add(book)?;
        if command.then_fail {
            return Err(Error::rule("the handler failed after staging"));
        }
        Ok(id)
    }
}

#[derive(Default)]
pub struct CfCounterCommands;

#[command_handler(part_of = CfCounter)]
impl CfCounterCommands {
    #[handle(CfHitCounter)]
    async fn hit(&self, command: CfHitCounter, ctx: &mut Context) -> Result<i64> {
        let repo = ctx.repository::<CfCounter>();
        let mut counter = repo.get(&command.counter_id).await?;
        counter.hits += 1;
        counter.raise(CfHit {
            total: counter.hits,
        });
        let total = counter.hits;
        repo.add(counter)?;
        Ok(total)
    }

    #[handle(CfHitAndCreate)]
    async fn hit_and_create(&self, command: CfHitAndCreate, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<CfCounter>();
        let mut counter = repo.get(&command.counter_id).await?;
        counter.hits += 1;
        counter.raise(CfHit {
            total: counter.hits,
        });
        repo.add(counter)?;
        repo.add(CfCounter::builder().id(command.new_id).hits(0).build()?)
    }
}

#[derive(Default)]
pub struct CfStockKeeper;

#[event_handler(part_of = CfBook)]
impl CfStockKeeper {
    #[handle(CfBookAdded)]
    async fn on_added(&self, event: &CfBookAdded, ctx: &mut Context) -> Result<()> {
        let broken = ctx
            .repository::<CfSwitch>()
            .query()
            .filter(CfSwitch::BROKEN.eq(true))
            .count()
            .await?;
        if broken > 0 {
            return Err(Error::rule("the stock switch is broken"));
        }
        ctx.repository::<CfStock>()
            .add(CfStock::builder().title(event.title.clone()).build()?)
    }
}

/// While a fuse for a counter's stream is blown, the hit auditor fails on that stream's hits.
#[aggregate]
pub struct CfFuse {
    pub stream: String,
    pub blown: bool,
}

/// Written by the hit auditor, one per delivered hit.
#[aggregate]
pub struct CfAudit {
    pub stream: String,
    pub total: i64,
}

#[derive(Default)]
pub struct CfHitAuditor;

#[event_handler(part_of = CfCounter)]
impl CfHitAuditor {
    #[handle(CfHit)]
    async fn on_hit(&self, event: &CfHit, ctx: &mut Context) -> Result<()> {
        let stream = ctx.metadata().stream.to_string();
        let blown = ctx
            .repository::<CfFuse>()
            .query()
            .filter(
                CfFuse::STREAM
                    .eq(stream.clone())
                    .and(CfFuse::BLOWN.eq(true)),
            )
            .count()
            .await?;
        if blown > 0 {
            return Err(Error::rule("the fuse of this stream is blown"));
        }
        ctx.repository::<CfAudit>().add(
            CfAudit::builder()
                .stream(stream)
                .total(event.total)
                .build()?,
        )
    }
}

/// A ticket whose copier the retry test steers, per ticket label.
#[aggregate]
pub struct CfTicket {
    pub label: String,
}

#[event(part_of = CfTicket)]
pub struct CfTicketOpened {
    pub label: String,
}

/// What the copier writes, one per successful delivery.
#[aggregate]
pub struct CfTicketCopy {
    pub label: String,
}

/// How the copier treats a label's next delivery.
#[derive(Clone)]
enum CopierMode {
    Fail,
    /// Stage the copy, then wait for the signal before returning (and committing).
    Block(Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>),
    Pass,
}

static COPIER_MODES: std::sync::Mutex<Vec<(String, CopierMode)>> =
    std::sync::Mutex::new(Vec::new());

fn set_copier_mode(label: &str, mode: CopierMode) {
    let mut modes = COPIER_MODES.lock().unwrap();
    modes.retain(|(l, _)| l != label);
    modes.push((label.to_string(), mode));
}

/// Watches tickets and writes nothing: its progress is recorded lazily.
#[derive(Default)]
pub struct CfTicketWatcher;

#[event_handler(part_of = CfTicket)]
impl CfTicketWatcher {
    #[handle(CfTicketOpened)]
    fn on_opened(&self, _event: &CfTicketOpened) {}
}

#[derive(Default)]
pub struct CfTicketCopier;

#[event_handler(part_of = CfTicket)]
impl CfTicketCopier {
    #[handle(CfTicketOpened)]
    async fn on_opened(&self, event: &CfTicketOpened, ctx: &mut Context) -> Result<()> {
        let mode = COPIER_MODES
            .lock()
            .unwrap()
            .iter()
            .find(|(label, _)| *label == event.label)
            .map(|(_, mode)| mode.clone())
            .unwrap_or(CopierMode::Pass);
        ctx.repository::<CfTicketCopy>()
            .add(CfTicketCopy::builder().label(event.label.clone()).build()?)?;
        match mode {
            CopierMode::Fail => Err(Error::rule("the copier fails")),
            CopierMode::Block(started, release) => {
                started.notify_one();
                release.notified().await;
                Ok(())
            }
            CopierMode::Pass => Ok(()),
        }
    }
}

fn book(title: &str, year: i64, price: f64) -> CfBook {
    CfBook::builder()
        .title(title)
        .year(year)
        .price(price)
        .rating(None::<i64>)
        .subtitle(None::<String>)
        .in_print(true)
        .shelf(CfShelf::Middle)
        .list_price(None::<CfMoney>)
        .copies(Vec::new())
        .build()
        .unwrap()
}

// ---- an event-sourced aggregate, beside the state-stored ones ------------------------------------

#[aggregate(event_sourced)]
pub struct CfAccount {
    pub owner: String,
    pub balance: i64,
    /// Every amount in order: a replay that skipped or reordered events would show here.
    pub history: Vec<i64>,
}

#[event(part_of = CfAccount)]
pub struct CfOpened {
    pub owner: String,
}

#[event(part_of = CfAccount)]
pub struct CfDeposited {
    pub amount: i64,
}

#[apply_events]
impl CfAccount {
    #[apply]
    fn opened(&mut self, event: &CfOpened) {
        self.owner = event.owner.clone();
    }

    #[apply]
    fn deposited(&mut self, event: &CfDeposited) {
        self.balance += event.amount;
        self.history.push(event.amount);
    }
}

/// Event-sourced, with a snapshot whenever its stream passes a multiple of 3.
#[aggregate(event_sourced, snapshot_every = 3)]
pub struct CfLedger {
    pub total: i64,
    pub entries: Vec<i64>,
}

#[event(part_of = CfLedger)]
pub struct CfEntered {
    pub amount: i64,
}

#[apply_events]
impl CfLedger {
    #[apply]
    fn entered(&mut self, event: &CfEntered) {
        self.total += event.amount;
        self.entries.push(event.amount);
    }
}

/// Event-sourced, with an event at schema version 3: version 1 stored `{"n": ..}`, version 2
/// renamed it `amount`, version 3 added `note`.
#[aggregate(event_sourced)]
pub struct CfTab {
    pub total: i64,
    pub notes: Vec<String>,
}

#[event(part_of = CfTab, version = 3)]
pub struct CfTabbed {
    pub amount: i64,
    pub note: String,
}

#[upcaster(CfTabbed, from = 1)]
fn cf_tabbed_n_to_amount(mut old: JsonValue) -> JsonValue {
    old["amount"] = old["n"].take();
    old
}

#[upcaster(CfTabbed, from = 2)]
fn cf_tabbed_add_note(mut old: JsonValue) -> JsonValue {
    let amount = old["amount"].clone();
    old["note"] = format!("was {amount} before version 3").into();
    old
}

#[apply_events]
impl CfTab {
    #[apply]
    fn tabbed(&mut self, event: &CfTabbed) {
        self.total += event.amount;
        self.notes.push(event.note.clone());
    }
}

/// What `CfTabWatcher` received, by test (each test's tab has its own id).
static TAB_SEEN: std::sync::Mutex<Vec<(String, i64, String)>> = std::sync::Mutex::new(Vec::new());
/// While set, `CfTabWatcher` fails on amount 5 (to send it to the dead letters).
static TAB_REFUSES_FIVE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[derive(Default)]
pub struct CfTabWatcher;

#[event_handler(part_of = CfTab)]
impl CfTabWatcher {
    #[handle(CfTabbed)]
    fn on_tabbed(&self, event: &CfTabbed, ctx: &mut Context) -> Result<()> {
        if event.amount == 5 && TAB_REFUSES_FIVE.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Rule("refusing five".into()));
        }
        TAB_SEEN.lock().unwrap().push((
            ctx.metadata().stream.to_string(),
            event.amount,
            event.note.clone(),
        ));
        Ok(())
    }
}

/// Opens an account and counts it in a state-stored counter, in one unit of work.
#[command(part_of = CfAccount)]
pub struct CfOpenAccount {
    pub owner: String,
    pub counter: Identifier,
    pub then_fail: bool,
}

#[derive(Default)]
pub struct CfAccountCommands;

#[command_handler(part_of = CfAccount)]
impl CfAccountCommands {
    #[handle(CfOpenAccount)]
    async fn open(&self, command: CfOpenAccount, ctx: &mut Context) -> Result<Identifier> {
        let mut account = CfAccount::new();
        account.raise(CfOpened {
            owner: command.owner,
        });
        account.raise(CfDeposited { amount: 10 });
        let id = account.id();
        ctx.repository::<CfAccount>().add(account)?;
        let mut counter = ctx.repository::<CfCounter>().get(&command.counter).await?;
        counter.hits += 1;
        ctx.repository::<CfCounter>().add(counter)?;
        if command.then_fail {
            return Err(Error::Rule("refused after staging both".into()));
        }
        Ok(id)
    }
}

suite! {
    backends: [memory => Memory, sqlite => Sqlite, postgres => Postgres],
    tests: [
        aggregates_round_trip_with_entities_value_objects_and_options,
        get_of_an_unknown_id_is_not_found,
        input_no_store_could_keep_is_a_validation_error_everywhere,
        a_stale_write_is_a_conflict_and_persists_nothing,
        a_new_aggregate_with_a_taken_id_is_a_conflict,
        filters_give_the_in_memory_predicate_results,
        ordering_and_paging_match_rust_ordering,
        find_by_reports_none_and_many,
        a_missing_json_key_is_none_in_filters_and_ordering,
        streams_carry_positions_and_metadata,
        category_and_global_reads_page_by_global_position,
        a_failing_handler_rolls_back_everything_it_staged,
        a_conflict_in_a_multi_aggregate_commit_writes_nothing,
        event_handlers_run_after_the_commit,
        failed_deliveries_are_recorded_and_retried,
        racing_retriers_run_each_failed_delivery_once,
        concurrent_writers_on_one_aggregate_lose_nothing,
        readers_following_the_global_position_never_skip,
        readers_never_skip_in_async_mode,
        the_command_log_is_read_by_stream_and_by_position,
        a_command_that_does_not_commit_leaves_no_record,
        nested_commands_are_logged_with_their_causation,
        readers_following_the_command_log_never_skip,
        async_processing_delivers_after_process_returns,
        the_engine_delivers_in_the_background_and_stops_gracefully,
        a_parked_delivery_holds_back_its_stream_until_retried_or_skipped,
        submitted_commands_run_once_in_submission_order,
        a_refused_submission_fails_at_once_and_is_retried_on_request,
        a_failing_submission_is_retried_until_it_succeeds_or_runs_out,
        the_engine_runs_submitted_commands_by_itself,
        an_event_sourced_aggregate_is_its_events_replayed,
        a_stale_event_sourced_write_is_a_conflict_and_appends_nothing,
        an_event_sourced_aggregate_is_read_by_id_not_queried,
        both_aggregate_styles_commit_in_one_unit_of_work,
        snapshots_leave_loads_equal_to_a_full_replay,
    ]
}

suite! {
    backends: [sqlite_durable => Sqlite, postgres_durable => Postgres],
    tests: [
        a_reopened_database_has_everything,
        a_newer_schema_is_refused,
        a_lost_schema_version_row_is_recovered_or_explained,
        corrupt_or_unknown_event_rows_are_errors_naming_the_row,
        an_undecodable_aggregate_row_fails_only_its_reads,
        out_of_range_integers_are_errors_naming_the_row,
        a_failed_write_says_it_was_writing,
        commands_are_recorded_with_their_changes,
        stored_events_stay_readable_when_validation_rules_tighten,
        the_command_log_migration_numbers_existing_commands,
        two_processes_deliver_each_reaction_once,
        dropped_process_futures_lose_no_reaction,
        a_new_subscription_starts_at_the_head_of_the_log,
        a_retry_whose_claim_was_taken_over_commits_nothing,
        a_blocked_delivery_whose_head_is_gone_heads_its_stream,
        a_pool_the_caller_made_is_used,
        record_progress_stores_the_lazy_checkpoints,
        two_domains_run_each_submitted_command_once,
        a_submission_whose_attempts_stopped_the_process_is_failed_unrun,
        a_snapshot_is_used_and_one_of_another_schema_is_replayed_over,
        older_event_versions_are_upcast_on_every_read_path,
    ]
}

// ---- submitted commands (async command processing) ---------------------------------------------

fn add_book(title: &str) -> CfAddBook {
    CfAddBook {
        title: title.to_string(),
        then_fail: false,
    }
}

async fn book_titles(domain: &Domain) -> Vec<String> {
    let books = domain.repository::<CfBook>().query().all().await.unwrap();
    let mut titles: Vec<String> = books.items.into_iter().map(|b| b.title).collect();
    titles.sort();
    titles
}

/// `submit` logs the command and returns; `settle` (like the engine) runs each submitted command
/// once, in submission order, with its reactions. An id submitted twice is logged and run once.
async fn submitted_commands_run_once_in_submission_order(db: TestDb) {
    let domain = db.domain().await;
    let mut positions = Vec::new();
    for n in 0..4 {
        let submitted = domain.submit(add_book(&format!("sub-{n}"))).await.unwrap();
        assert!(!submitted.duplicate);
        positions.push(submitted.position);
    }
    let once = Uuid::new_v4();
    let with_id = || CommandOptions::new().command_id(once);
    let first = domain
        .submit_with(add_book("sub-once"), with_id())
        .await
        .unwrap();
    let again = domain
        .submit_with(add_book("sub-once"), with_id())
        .await
        .unwrap();
    assert_eq!((first.command_id, first.duplicate), (once, false));
    assert_eq!((again.position, again.duplicate), (first.position, true));
    positions.push(first.position);
    assert_eq!(positions, [1, 2, 3, 4, 5], "positions in the command log");

    // Nothing ran yet; the log holds each command once.
    assert!(book_titles(&domain).await.is_empty());
    let pending = domain.submission(once).await.unwrap().unwrap();
    assert_eq!(
        (pending.state, pending.attempts),
        (SubmissionState::Pending, 0)
    );
    assert_eq!(pending.command.position(), first.position);
    assert_eq!(
        domain.command_log().read_all(0, 100).await.unwrap().len(),
        5
    );

    domain.settle().await.unwrap();
    assert_eq!(
        book_titles(&domain).await,
        ["sub-0", "sub-1", "sub-2", "sub-3", "sub-once"]
    );
    let stock = stock_per_title(&domain).await;
    assert_eq!(stock.len(), 5, "the reactions of submitted commands ran");
    assert!(stock.values().all(|&n| n == 1));
    let done = domain.submission(once).await.unwrap().unwrap();
    assert_eq!((done.state, done.attempts), (SubmissionState::Done, 1));
    assert_eq!(done.last_error, None);
    // Run in submission order: the books' events are in the log in that order.
    let added: Vec<String> = domain
        .event_store()
        .read_category("cf_book", 0, 100)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.downcast_ref::<CfBookAdded>().map(|a| a.title.clone()))
        .collect();
    assert_eq!(added, ["sub-0", "sub-1", "sub-2", "sub-3", "sub-once"]);
    let caused: Vec<_> = domain
        .event_store()
        .read_all(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.metadata().causation_id == Some(once))
        .collect();
    assert_eq!(
        caused.len(),
        1,
        "the event names the submitted command as its cause"
    );
    assert_eq!(caused[0].metadata().correlation_id, once);

    // Settling again, or submitting the id again, runs nothing twice; nor is the run logged
    // as a second command.
    domain.settle().await.unwrap();
    let late = domain
        .submit_with(add_book("sub-once"), with_id())
        .await
        .unwrap();
    assert!(late.duplicate);
    domain.settle().await.unwrap();
    assert_eq!(book_titles(&domain).await.len(), 5);
    assert_eq!(
        domain.command_log().read_all(0, 100).await.unwrap().len(),
        5
    );

    // A processed command's id is taken too; neither it nor an unknown id is a submission.
    let processed = domain
        .process_with(add_book("processed"), CommandOptions::new())
        .await
        .unwrap();
    let taken = domain
        .submit_with(
            add_book("processed"),
            CommandOptions::new().command_id(processed.command_id),
        )
        .await
        .unwrap();
    assert!(taken.duplicate);
    assert!(
        domain
            .submission(processed.command_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(domain.submission(Uuid::new_v4()).await.unwrap().is_none());

    // An invalid command is refused at submit, before anything is logged.
    let logged = domain.command_log().last_position().await.unwrap();
    let long = "x".repeat(41);
    let invalid = domain
        .submit(CfFlakyAddBook {
            title: long.clone(),
        })
        .await;
    assert!(matches!(invalid, Err(Error::Validation(_))), "{invalid:?}");
    assert_eq!(domain.command_log().last_position().await.unwrap(), logged);
    // A valid command whose handler raises an invalid event fails when it runs (the event is
    // validated at commit): a refusal, not retried.
    domain.submit(add_book(&long)).await.unwrap();
    domain.settle().await.unwrap();
    let failed = domain.failed_submissions().await.unwrap();
    assert_eq!(
        failed.len(),
        1,
        "the raised event fails validation at commit"
    );
    assert_eq!(failed[0].state, SubmissionState::Failed);
}

/// A running engine runs submitted commands without `settle`, woken by the submit.
async fn the_engine_runs_submitted_commands_by_itself(db: TestDb) {
    let domain = db.domain().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn({
        // A long poll: only the submit's wake-up can start the runs in time.
        let engine = domain.engine().poll_interval(Duration::from_secs(60));
        async move {
            engine
                .run_until(async {
                    stopped.await.ok();
                })
                .await
        }
    });
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            domain
                .submit(add_book(&format!("engine-{n}")))
                .await
                .unwrap()
                .command_id,
        );
    }
    let started = std::time::Instant::now();
    for id in ids {
        while domain.submission(id).await.unwrap().unwrap().state != SubmissionState::Done {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the engine did not run {id}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(
        book_titles(&domain).await,
        ["engine-0", "engine-1", "engine-2"]
    );
    stop.send(()).unwrap();
    engine.await.unwrap().unwrap();
}

/// A handler that refuses its command fails the submission at once (no retry changes a refusal)
/// and commits nothing; `retry_submission` runs it anew on request.
async fn a_refused_submission_fails_at_once_and_is_retried_on_request(db: TestDb) {
    let domain = db.domain().await;
    let refused = domain
        .submit(CfAddBook {
            title: "refused".into(),
            then_fail: true,
        })
        .await
        .unwrap();
    domain.settle().await.unwrap();
    let failed = domain
        .submission(refused.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.state, failed.attempts),
        (SubmissionState::Failed, 1)
    );
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .contains("failed after staging"),
        "{failed:?}"
    );
    assert!(
        book_titles(&domain).await.is_empty(),
        "a refused command wrote something"
    );
    let listed = domain.failed_submissions().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].command.metadata().id, refused.command_id);

    domain.retry_submission(refused.command_id).await.unwrap();
    let pending = domain
        .submission(refused.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (pending.state, pending.attempts),
        (SubmissionState::Pending, 0)
    );
    domain.settle().await.unwrap();
    let again = domain
        .submission(refused.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.state, again.attempts), (SubmissionState::Failed, 1));

    // Only a failed submission can be retried.
    let done = domain.submit(add_book("fine")).await.unwrap();
    domain.settle().await.unwrap();
    for id in [done.command_id, Uuid::new_v4()] {
        let error = domain.retry_submission(id).await.unwrap_err();
        assert!(matches!(error, Error::NotFound { .. }), "{error}");
    }
}

/// Other errors are retried with the command retry policy's backoff: a command that fails twice
/// then succeeds is done after three attempts, with its effect once; one that keeps failing is
/// failed when its attempts run out, with nothing written.
async fn a_failing_submission_is_retried_until_it_succeeds_or_runs_out(db: TestDb) {
    let policy =
        RetryPolicy::attempts(3).backoff(Duration::from_millis(2), Duration::from_millis(5));
    let domain = Domain::builder("Conformance")
        .command_retry_policy(policy)
        .database(&db.url)
        .open()
        .await
        .unwrap();
    let (recovers, gives_up) = (
        format!("flaky-ok-{:?}", db.backend),
        format!("flaky-out-{:?}", db.backend),
    );
    set_flaky(&recovers, 2);
    set_flaky(&gives_up, 10);
    let recovering = domain
        .submit(CfFlakyAddBook {
            title: recovers.clone(),
        })
        .await
        .unwrap();
    let failing = domain
        .submit(CfFlakyAddBook {
            title: gives_up.clone(),
        })
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        domain.settle().await.unwrap();
        let states = [
            domain
                .submission(recovering.command_id)
                .await
                .unwrap()
                .unwrap()
                .state,
            domain
                .submission(failing.command_id)
                .await
                .unwrap()
                .unwrap()
                .state,
        ];
        if !states.contains(&SubmissionState::Pending) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still pending: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let recovered = domain
        .submission(recovering.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (recovered.state, recovered.attempts),
        (SubmissionState::Done, 3)
    );
    let failed = domain
        .submission(failing.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.state, failed.attempts),
        (SubmissionState::Failed, 3)
    );
    assert!(failed.last_error.unwrap().contains("flaky service is down"));
    assert_eq!(book_titles(&domain).await, [recovers]);
}

/// Two domains on one database (two processes) running the same submitted commands at once:
/// each command's effect commits once, whichever runs it.
async fn two_domains_run_each_submitted_command_once(db: TestDb) {
    let (first, second) = (db.domain().await, db.domain().await);
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(
            first
                .submit(add_book(&format!("race-{n}")))
                .await
                .unwrap()
                .command_id,
        );
    }
    let (a, b) = tokio::join!(
        tokio::spawn({
            let first = first.clone();
            async move { first.settle().await }
        }),
        tokio::spawn({
            let second = second.clone();
            async move { second.settle().await }
        })
    );
    a.unwrap().unwrap();
    b.unwrap().unwrap();
    let titles = book_titles(&first).await;
    assert_eq!(
        titles.len(),
        40,
        "a command ran twice or not at all: {titles:?}"
    );
    let stock = stock_per_title(&first).await;
    assert_eq!(stock.len(), 40);
    assert!(stock.values().all(|&n| n == 1), "a reaction ran twice");
    for id in ids {
        let submission = first.submission(id).await.unwrap().unwrap();
        assert_eq!(submission.state, SubmissionState::Done);
    }
    // What one domain submitted, a reopened one runs.
    let left = first.submit(add_book("after-reopen")).await.unwrap();
    drop(first);
    let reopened = db.domain().await;
    reopened.settle().await.unwrap();
    let done = reopened.submission(left.command_id).await.unwrap().unwrap();
    assert_eq!(done.state, SubmissionState::Done);
}

/// Attempts are counted before the handler runs: a submission whose attempts all stopped the
/// process (simulated by the count a run of crashes leaves) is failed without running again.
async fn a_submission_whose_attempts_stopped_the_process_is_failed_unrun(db: TestDb) {
    let domain = db.domain().await;
    let poison = domain.submit(add_book("poison")).await.unwrap();
    let counted = db
        .raw_sql("UPDATE commands SET attempts = 5 WHERE submission = 'pending'")
        .await;
    assert_eq!(counted, 1);
    domain.settle().await.unwrap();
    let failed = domain.submission(poison.command_id).await.unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.attempts),
        (SubmissionState::Failed, 6)
    );
    assert!(failed.last_error.unwrap().contains("stopped the process"));
    assert!(book_titles(&domain).await.is_empty(), "it ran");
}

// ---- repository --------------------------------------------------------------------------------

async fn aggregates_round_trip_with_entities_value_objects_and_options(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfBook>();
    let mut dune = book("Dune", 1965, 9.5);
    dune.rating = Some(5);
    dune.subtitle = Some("Book \"one\" — ünïcode".into());
    dune.list_price = Some(
        CfMoney::builder()
            .currency("EUR")
            .cents(950)
            .build()
            .unwrap(),
    );
    dune.copies = vec![
        CfCopy::builder().barcode("A-1").build().unwrap(),
        CfCopy::builder().barcode("A-2").build().unwrap(),
    ];
    let id = dune.id();
    repo.add(dune.clone()).await.unwrap();

    let loaded = repo.get(&id).await.unwrap();
    assert_eq!(loaded.version(), 1);
    assert_eq!(loaded.title, "Dune");
    assert_eq!(loaded.rating, Some(5));
    assert_eq!(loaded.subtitle, dune.subtitle);
    assert_eq!(loaded.list_price, dune.list_price);
    assert_eq!(loaded.shelf, CfShelf::Middle);
    let barcodes: Vec<_> = loaded.copies.iter().map(|c| c.barcode.clone()).collect();
    assert_eq!(barcodes, ["A-1", "A-2"]);
    assert_eq!(loaded.copies[0].id(), dune.copies[0].id());

    let mut changed = loaded;
    changed.rating = None;
    changed.copies.pop();
    repo.add(changed).await.unwrap();
    let again = repo.get(&id).await.unwrap();
    assert_eq!(again.version(), 2);
    assert_eq!(again.rating, None);
    assert_eq!(again.copies.len(), 1);
}

/// NUL in text, non-finite numbers and identities longer than an index entry: PostgreSQL refused
/// them with a bare store error, SQL stores wrote NaN as `null` (unreadable from then on), memory
/// took them all. Every store now refuses them the same way, naming the field, before writing.
async fn input_no_store_could_keep_is_a_validation_error_everywhere(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfBook>();
    let mut bad = book("Dune", 1965, 9.5);
    bad.subtitle = Some("nul\0inside".into());
    bad.price = f64::NAN;
    let err = repo.add(bad.clone()).await.unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("expected a validation error, got {err}")
    };
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["price", "subtitle"]);
    assert!(matches!(
        repo.get(&bad.id()).await,
        Err(Error::NotFound { .. })
    ));

    let mut long_id = book("Dune", 1965, 9.5);
    long_id.id = Identifier::from("k".repeat(3000).as_str());
    let err = repo.add(long_id).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e.fields().eq(["id"])),
        "{err}"
    );

    // Floats come back bit for bit: extremes, subnormals, and values whose shortest decimal
    // form a fast float parser rounds 1 ULP off.
    let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut prices = vec![
        0.1 + 0.2,
        f64::MIN_POSITIVE,
        5e-324,
        -f64::MAX,
        1e-310,
        123.456,
    ];
    while prices.len() < 40 {
        bits ^= bits << 13;
        bits ^= bits >> 7;
        bits ^= bits << 17;
        let value = f64::from_bits(bits >> 2);
        if value.is_finite() {
            prices.push(value);
        }
    }
    for (year, price) in prices.iter().enumerate() {
        repo.add(book("Float", year as i64, *price)).await.unwrap();
    }
    let mut stored: Vec<(i64, f64)> = repo
        .query()
        .filter(CfBook::TITLE.eq("Float".to_string()))
        .all()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|b| (b.year, b.price))
        .collect();
    stored.sort_by_key(|(year, _)| *year);
    let stored: Vec<u64> = stored.iter().map(|(_, p)| p.to_bits()).collect();
    let expected: Vec<u64> = prices.iter().map(|p| p.to_bits()).collect();
    assert_eq!(stored, expected);

    // The same values within the limits are stored faithfully.
    let mut fine = book("Dune", 1965, f64::MAX);
    fine.id = Identifier::from("k".repeat(domain_core::MAX_IDENTIFIER_BYTES).as_str());
    fine.subtitle = Some("tab\there".into());
    repo.add(fine.clone()).await.unwrap();
    let loaded = repo.get(&fine.id()).await.unwrap();
    assert_eq!(loaded.price, f64::MAX);
    assert_eq!(loaded.subtitle, fine.subtitle);
    assert_eq!(repo.query().count().await.unwrap(), 41);
}

async fn get_of_an_unknown_id_is_not_found(db: TestDb) {
    let domain = db.domain().await;
    let missing = domain
        .repository::<CfBook>()
        .get(&Identifier::new())
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
}

async fn a_stale_write_is_a_conflict_and_persists_nothing(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfBook>();
    let original = book("Emma", 1815, 4.0);
    let id = original.id();
    repo.add(original).await.unwrap();

    let mut first = repo.get(&id).await.unwrap();
    let mut second = repo.get(&id).await.unwrap();
    first.year = 1816;
    repo.add(first).await.unwrap();

    second.year = 1999;
    second.raise(CfCopyShelved {
        barcode: "lost".into(),
    });
    let conflict = repo.add(second).await.unwrap_err();
    match conflict {
        Error::Conflict {
            aggregate,
            expected,
            actual,
            ..
        } => {
            assert_eq!(aggregate, "CfBook");
            assert_eq!((expected, actual), (1, 2));
        }
        other => panic!("expected a conflict, got {other}"),
    }
    let stored = repo.get(&id).await.unwrap();
    assert_eq!((stored.year, stored.version()), (1816, 2));
    let stream = domain
        .event_store()
        .read_stream(&format!("cf_book-{id}"))
        .await
        .unwrap();
    assert!(stream.is_empty(), "the conflicting write's event leaked");
    assert_eq!(domain.event_store().last_position().await.unwrap(), 0);
}

async fn a_new_aggregate_with_a_taken_id_is_a_conflict(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfCounter>();
    let id = Identifier::from("counter-7");
    repo.add(CfCounter::builder().id(id.clone()).hits(1).build().unwrap())
        .await
        .unwrap();
    let twin = CfCounter::builder()
        .id(id.clone())
        .hits(99)
        .build()
        .unwrap();
    let err = repo.add(twin).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(repo.get(&id).await.unwrap().hits, 1);
}

/// Books whose fields exercise byte-order text, negatives, floats, `None`s and booleans.
fn catalogue() -> Vec<CfBook> {
    type Row<'a> = (
        &'a str,
        i64,
        f64,
        Option<i64>,
        Option<&'a str>,
        bool,
        CfShelf,
    );
    let rows: [Row; 9] = [
        ("apple", 1999, 10.0, Some(3), Some("b"), true, CfShelf::Top),
        ("Zebra", 2005, 2.5, None, None, false, CfShelf::Bottom),
        (
            "zeta",
            -44,
            99.99,
            Some(5),
            Some("B"),
            true,
            CfShelf::Middle,
        ),
        (
            "Apple pie",
            1999,
            0.0,
            Some(-1),
            None,
            true,
            CfShelf::Bottom,
        ),
        ("Éclair", 2021, 7.25, None, Some("a"), false, CfShelf::Top),
        ("10 cats", 0, 10.0, Some(3), Some(""), true, CfShelf::Middle),
        (
            "9 lives",
            10,
            -3.5,
            Some(10),
            Some("Z"),
            false,
            CfShelf::Top,
        ),
        (
            "O'Brien; DROP TABLE aggregates; --",
            1950,
            1.0,
            None,
            None,
            true,
            CfShelf::Bottom,
        ),
        (
            "naïve",
            2030,
            1e9,
            Some(0),
            Some("ä"),
            false,
            CfShelf::Middle,
        ),
    ];
    rows.into_iter()
        .map(|(title, year, price, rating, subtitle, in_print, shelf)| {
            let mut b = book(title, year, price);
            b.rating = rating;
            b.subtitle = subtitle.map(str::to_owned);
            b.in_print = in_print;
            b.shelf = shelf;
            b
        })
        .collect()
}

async fn stocked(db: &TestDb) -> (Domain, Vec<CfBook>) {
    let domain = db.domain().await;
    let books = catalogue();
    for b in &books {
        domain.repository::<CfBook>().add(b.clone()).await.unwrap();
    }
    (domain, books)
}

fn titles(books: impl IntoIterator<Item = CfBook>) -> Vec<String> {
    books.into_iter().map(|b| b.title).collect()
}

async fn filters_give_the_in_memory_predicate_results(db: TestDb) {
    let (domain, books) = stocked(&db).await;
    let filters: Vec<Filter<CfBook>> = vec![
        CfBook::TITLE.eq("apple"),
        CfBook::TITLE.ne("apple"),
        CfBook::TITLE.gt("Zebra"),
        CfBook::TITLE.le("apple"),
        CfBook::TITLE.is_in(["zeta", "Éclair", "missing"]),
        CfBook::TITLE.eq("O'Brien; DROP TABLE aggregates; --"),
        CfBook::YEAR.eq(1999),
        CfBook::YEAR.lt(0),
        CfBook::YEAR.ge(2005),
        CfBook::YEAR.is_in([0, 10, 1950]),
        CfBook::PRICE.gt(9.99),
        CfBook::PRICE.le(0.0),
        CfBook::PRICE.eq(10.0),
        CfBook::RATING.eq(None),
        CfBook::RATING.ne(None),
        CfBook::RATING.lt(Some(3)),
        CfBook::RATING.ge(Some(3)),
        CfBook::RATING.gt(None),
        CfBook::RATING.le(None),
        CfBook::RATING.is_in([Some(3), None]),
        CfBook::RATING.is_in([Some(5), Some(10)]),
        CfBook::SUBTITLE.lt(Some("a".to_owned())),
        CfBook::SUBTITLE.gt(Some("Z".to_owned())),
        CfBook::SUBTITLE.eq(Some(String::new())),
        CfBook::IN_PRINT.eq(true),
        CfBook::IN_PRINT.lt(true),
        CfBook::SHELF.eq(CfShelf::Top),
        CfBook::SHELF.lt(CfShelf::Bottom),
        CfBook::SHELF.is_in([CfShelf::Top, CfShelf::Bottom]),
        CfBook::YEAR.gt(1990).and(CfBook::IN_PRINT.eq(true)),
        CfBook::YEAR
            .lt(0)
            .or(CfBook::PRICE.gt(50.0))
            .or(CfBook::TITLE.eq("Zebra")),
        CfBook::RATING.gt(Some(2)).not(),
        CfBook::SUBTITLE
            .eq(None)
            .not()
            .and(CfBook::SHELF.ne(CfShelf::Middle)),
        CfBook::TITLE.is_in(Vec::<String>::new()),
        Filter::And(Vec::new()),
        Filter::Or(Vec::new()),
    ];
    let repo = domain.repository::<CfBook>();
    for filter in filters {
        let mut expected = titles(books.iter().filter(|b| filter.matches(b)).cloned());
        expected.sort();
        let page = repo.query().filter(filter.clone()).all().await.unwrap();
        let mut actual = titles(page.items);
        actual.sort();
        assert_eq!(actual, expected, "{:?} on {:?}", filter, db.backend);
        assert_eq!(page.total, expected.len(), "total of {filter:?}");
        let count = repo.query().filter(filter.clone()).count().await.unwrap();
        assert_eq!(count, expected.len(), "count of {filter:?}");
    }
}

async fn ordering_and_paging_match_rust_ordering(db: TestDb) {
    let (domain, books) = stocked(&db).await;
    let repo = domain.repository::<CfBook>();
    // Each ordering ends with the unique title, so the expected order is total.
    let orders: Vec<Vec<OrderBy<CfBook>>> = vec![
        vec![CfBook::TITLE.asc()],
        vec![CfBook::TITLE.desc()],
        vec![CfBook::YEAR.asc(), CfBook::TITLE.asc()],
        vec![CfBook::YEAR.desc(), CfBook::TITLE.desc()],
        vec![CfBook::PRICE.desc(), CfBook::TITLE.asc()],
        vec![CfBook::RATING.asc(), CfBook::TITLE.asc()],
        vec![CfBook::RATING.desc(), CfBook::TITLE.asc()],
        vec![CfBook::SUBTITLE.asc(), CfBook::TITLE.asc()],
        vec![CfBook::SUBTITLE.desc(), CfBook::TITLE.desc()],
        vec![CfBook::IN_PRINT.asc(), CfBook::TITLE.asc()],
        vec![CfBook::SHELF.asc(), CfBook::TITLE.asc()],
        vec![
            CfBook::SHELF.desc(),
            CfBook::YEAR.asc(),
            CfBook::TITLE.asc(),
        ],
    ];
    for order in orders {
        let mut expected = books.clone();
        expected.sort_by(|a, b| {
            order
                .iter()
                .map(|o| o.compare(a, b))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let expected = titles(expected);
        let fields: Vec<_> = order.iter().map(|o| (o.field, o.descending)).collect();
        let mut query = repo.query();
        for key in &order {
            query = query.order_by(key.clone());
        }
        let all = query.all().await.unwrap();
        assert_eq!(
            titles(all.items),
            expected,
            "order {fields:?} on {:?}",
            db.backend
        );

        let mut query = repo.query().offset(2).limit(3);
        for key in &order {
            query = query.order_by(key.clone());
        }
        let page = query.all().await.unwrap();
        assert_eq!(titles(page.items), expected[2..5], "page of {fields:?}");
        assert_eq!(page.total, books.len());
    }
    let past_the_end = repo
        .query()
        .filter(CfBook::IN_PRINT.eq(true))
        .order_by(CfBook::TITLE.asc())
        .offset(50)
        .all()
        .await
        .unwrap();
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, 5);
    let first = repo
        .query()
        .order_by(CfBook::PRICE.asc())
        .first()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.title, "9 lives");
}

async fn find_by_reports_none_and_many(db: TestDb) {
    let (domain, _) = stocked(&db).await;
    let repo = domain.repository::<CfBook>();
    assert_eq!(
        repo.find_by(CfBook::TITLE.eq("zeta")).await.unwrap().year,
        -44
    );
    let none = repo.find_by(CfBook::TITLE.eq("nope")).await.unwrap_err();
    assert!(matches!(none, Error::NotFound { .. }), "{none}");
    let many = repo.find_by(CfBook::YEAR.eq(1999)).await.unwrap_err();
    assert!(matches!(many, Error::TooMany { .. }), "{many}");
}

/// Rows written before an `Option` field existed have no key for it in their document; they must
/// read, filter and sort exactly as `None` (JSON `null`) does.
///
/// The durable stores get such rows by removing the key from stored documents. The in-memory
/// store holds typed values, never documents, so it has no "key missing" state: its rows hold
/// `None`, and as the reference it checks the expected results themselves.
async fn a_missing_json_key_is_none_in_filters_and_ordering(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfBook>();
    let mut books = Vec::new();
    for (title, rating, subtitle) in [
        ("old one", None, None),
        ("old two", None, None),
        ("old three", None, None),
        ("new", Some(4), Some("m")),
    ] {
        let mut b = book(title, 2000, 1.0);
        b.rating = rating;
        b.subtitle = subtitle.map(str::to_owned);
        repo.add(b.clone()).await.unwrap();
        books.push(b);
    }
    let stripped = match db.backend {
        Backend::Memory => 3,
        Backend::Sqlite => {
            db.raw_sql(
                "UPDATE aggregates SET data = json_remove(data, '$.rating', '$.subtitle') \
                 WHERE json_type(data, '$.rating') = 'null'",
            )
            .await
        }
        Backend::Postgres => {
            db.raw_sql(
                "UPDATE aggregates SET data = data - 'rating' - 'subtitle' \
                 WHERE data -> 'rating' = 'null'::jsonb",
            )
            .await
        }
    };
    assert_eq!(stripped, 3, "three rows lack the keys");

    let filters: Vec<Filter<CfBook>> = vec![
        CfBook::RATING.eq(None),
        CfBook::RATING.ne(Some(4)),
        CfBook::RATING.is_in([None]),
        CfBook::RATING.is_in([None, Some(4)]),
        CfBook::RATING.eq(Some(4)).not(),
        CfBook::RATING.eq(Some(4)),
        CfBook::RATING.ne(None),
        CfBook::RATING.lt(Some(4)),
        CfBook::RATING.le(None),
        CfBook::RATING.gt(None),
        CfBook::RATING.ge(None),
        CfBook::RATING.gt(Some(0)).not(),
        CfBook::SUBTITLE.eq(None),
        CfBook::SUBTITLE.lt(Some("m".to_owned())),
        CfBook::SUBTITLE.ge(Some("a".to_owned())),
        CfBook::SUBTITLE.ne(Some("m".to_owned())),
    ];
    for filter in filters {
        let mut expected = titles(books.iter().filter(|b| filter.matches(b)).cloned());
        expected.sort();
        let page = repo.query().filter(filter.clone()).all().await.unwrap();
        let mut actual = titles(page.items);
        actual.sort();
        assert_eq!(actual, expected, "{filter:?} on {:?}", db.backend);
        let count = repo.query().filter(filter.clone()).count().await.unwrap();
        assert_eq!(
            count,
            expected.len(),
            "count of {filter:?} on {:?}",
            db.backend
        );
    }
    for order in [
        vec![CfBook::RATING.asc(), CfBook::TITLE.asc()],
        vec![CfBook::RATING.desc(), CfBook::TITLE.asc()],
        vec![CfBook::SUBTITLE.asc(), CfBook::TITLE.asc()],
        vec![CfBook::SUBTITLE.desc(), CfBook::TITLE.desc()],
    ] {
        let mut expected = books.clone();
        expected.sort_by(|a, b| {
            order
                .iter()
                .map(|o| o.compare(a, b))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut query = repo.query();
        for key in &order {
            query = query.order_by(key.clone());
        }
        let fields: Vec<_> = order.iter().map(|o| (o.field, o.descending)).collect();
        assert_eq!(
            titles(query.all().await.unwrap().items),
            titles(expected),
            "order {fields:?} on {:?}",
            db.backend
        );
    }
    let old = repo
        .find_by(CfBook::RATING.eq(None).and(CfBook::TITLE.eq("old two")))
        .await
        .unwrap();
    assert_eq!((old.rating, old.subtitle), (None, None));
}

// ---- event-sourced aggregates --------------------------------------------------------------------

async fn an_event_sourced_aggregate_is_its_events_replayed(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfAccount>();
    let mut account = CfAccount::new();
    account.raise(CfOpened {
        owner: "Ada".into(),
    });
    account.raise(CfDeposited { amount: 5 });
    // `raise` applied both at once.
    assert_eq!((*account.balance(), account.version()), (5, 0));
    let id = account.id();
    repo.add(account).await.unwrap();

    let mut loaded = repo.get(&id).await.unwrap();
    assert_eq!(
        (loaded.owner().as_str(), *loaded.balance(), loaded.version()),
        ("Ada", 5, 1)
    );
    for amount in [7, -2, 40] {
        loaded.raise(CfDeposited { amount });
    }
    repo.add(loaded).await.unwrap();

    let reloaded = repo.get(&id).await.unwrap();
    assert_eq!(reloaded.history(), &vec![5, 7, -2, 40]);
    assert_eq!((*reloaded.balance(), reloaded.version()), (50, 2));
    let stream = domain
        .event_store()
        .read_stream(&format!("cf_account-{id}"))
        .await
        .unwrap();
    let positions: Vec<u64> = stream
        .iter()
        .map(|e| e.metadata().stream_position)
        .collect();
    assert_eq!(positions, vec![1, 2, 3, 4, 5]);
    assert!(matches!(
        repo.get(&Identifier::new()).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

async fn a_stale_event_sourced_write_is_a_conflict_and_appends_nothing(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfAccount>();
    let mut account = CfAccount::with_id("acc-1");
    account.raise(CfOpened {
        owner: "Grace".into(),
    });
    repo.add(account).await.unwrap();
    let id = Identifier::from("acc-1");

    let mut first = repo.get(&id).await.unwrap();
    let mut second = repo.get(&id).await.unwrap();
    first.raise(CfDeposited { amount: 1 });
    second.raise(CfDeposited { amount: 100 });
    repo.add(first).await.unwrap();
    let conflict = repo.add(second).await.unwrap_err();
    assert!(
        matches!(
            conflict,
            Error::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{conflict}"
    );
    let stored = repo.get(&id).await.unwrap();
    assert_eq!((stored.history(), stored.version()), (&vec![1], 2));
    // A second new aggregate under a taken id is a conflict too.
    let mut twin = CfAccount::with_id("acc-1");
    twin.raise(CfOpened {
        owner: "Twin".into(),
    });
    assert!(matches!(
        repo.add(twin).await.unwrap_err(),
        Error::Conflict { expected: 0, .. }
    ));
    let stream = domain
        .event_store()
        .read_stream("cf_account-acc-1")
        .await
        .unwrap();
    assert_eq!(stream.len(), 2, "a refused write appended events");
}

async fn an_event_sourced_aggregate_is_read_by_id_not_queried(db: TestDb) {
    let domain = db.domain().await;
    let mut account = CfAccount::new();
    account.raise(CfOpened {
        owner: "Ada".into(),
    });
    domain.repository::<CfAccount>().add(account).await.unwrap();
    let error = domain
        .repository::<CfAccount>()
        .query()
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::EventSourcedQuery {
                aggregate: "CfAccount"
            }
        ),
        "{error}"
    );
}

async fn both_aggregate_styles_commit_in_one_unit_of_work(db: TestDb) {
    let domain = db.domain().await;
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let counter_id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    let open = |then_fail| CfOpenAccount {
        owner: "Ada".into(),
        counter: counter_id.clone(),
        then_fail,
    };

    let refused = domain.process(open(true)).await.unwrap_err();
    assert!(matches!(refused, Error::Rule(_)), "{refused}");
    let counter = domain
        .repository::<CfCounter>()
        .get(&counter_id)
        .await
        .unwrap();
    assert_eq!(
        counter.hits, 0,
        "the refused command's state-stored write leaked"
    );
    assert_eq!(
        domain
            .event_store()
            .read_category("cf_account", 0, 10)
            .await
            .unwrap()
            .len(),
        0,
        "the refused command's events leaked"
    );

    let id = domain.process(open(false)).await.unwrap();
    let account = domain.repository::<CfAccount>().get(&id).await.unwrap();
    assert_eq!((account.owner().as_str(), *account.balance()), ("Ada", 10));
    let counter = domain
        .repository::<CfCounter>()
        .get(&counter_id)
        .await
        .unwrap();
    assert_eq!(counter.hits, 1);
}

/// Commits of 1, 1, 2, 4 and 1 events: the stream passes 3, 6 and 9 in the last three, so each
/// of them stores a snapshot (at 4, 8 and 9). Returns the ledger's id.
async fn ledger_with_snapshots(domain: &Domain) -> Identifier {
    let repo = domain.repository::<CfLedger>();
    let ledger = CfLedger::with_id("ledger-1");
    let id = ledger.id();
    let mut expected: Vec<i64> = Vec::new();
    let mut next = 1;
    for (commit, count) in [1, 1, 2, 4, 1].into_iter().enumerate() {
        let mut ledger = if commit == 0 {
            CfLedger::with_id("ledger-1")
        } else {
            repo.get(&id).await.unwrap()
        };
        for _ in 0..count {
            ledger.raise(CfEntered { amount: next });
            expected.push(next);
            next += 1;
        }
        repo.add(ledger).await.unwrap();
        let loaded = repo.get(&id).await.unwrap();
        assert_eq!(loaded.entries(), &expected, "after commit {}", commit + 1);
        assert_eq!(*loaded.total(), expected.iter().sum::<i64>());
        assert_eq!(loaded.version(), commit as u64 + 1);
    }
    id
}

async fn snapshots_leave_loads_equal_to_a_full_replay(db: TestDb) {
    let domain = db.domain().await;
    let id = ledger_with_snapshots(&domain).await;
    // And a write based on a copy loaded from a snapshot still checks its version.
    let repo = domain.repository::<CfLedger>();
    let mut first = repo.get(&id).await.unwrap();
    let mut second = repo.get(&id).await.unwrap();
    first.raise(CfEntered { amount: 100 });
    second.raise(CfEntered { amount: 200 });
    repo.add(first).await.unwrap();
    assert!(matches!(
        repo.add(second).await.unwrap_err(),
        Error::Conflict { .. }
    ));
    assert_eq!(repo.get(&id).await.unwrap().entries().last(), Some(&100));
}

async fn a_snapshot_is_used_and_one_of_another_schema_is_replayed_over(db: TestDb) {
    let domain = db.domain().await;
    let id = ledger_with_snapshots(&domain).await;
    let repo = domain.repository::<CfLedger>();
    let snapshot = db.row_data("ledger-1").await;
    assert_eq!(snapshot["position"], 9, "{snapshot}");
    assert_eq!(snapshot["state"]["entries"].as_array().unwrap().len(), 9);

    // A snapshot under this schema's fingerprint is what a load starts from: a doctored total
    // shows (the real fold is 45).
    let mut doctored = snapshot.clone();
    doctored["state"]["total"] = 1000.into();
    db.set_row_data("ledger-1", &doctored).await;
    assert_eq!(*repo.get(&id).await.unwrap().total(), 1000);

    // One taken under another schema is ignored: the stream is replayed from the start.
    let mut other_schema = doctored.clone();
    other_schema["fingerprint"] = 1.into();
    db.set_row_data("ledger-1", &other_schema).await;
    let replayed = repo.get(&id).await.unwrap();
    assert_eq!((*replayed.total(), replayed.version()), (45, 5));

    // So is one that no longer decodes as the state.
    let mut undecodable = snapshot.clone();
    undecodable["state"]["total"] = "forty-five".into();
    db.set_row_data("ledger-1", &undecodable).await;
    assert_eq!(*repo.get(&id).await.unwrap().total(), 45);

    // The next commit that passes a multiple of 3 writes a fresh snapshot.
    let mut ledger = repo.get(&id).await.unwrap();
    for amount in [10, 11, 12] {
        ledger.raise(CfEntered { amount });
    }
    repo.add(ledger).await.unwrap();
    let fresh = db.row_data("ledger-1").await;
    assert_eq!(
        (fresh["position"].as_u64(), fresh["state"]["total"].as_i64()),
        (Some(12), Some(78))
    );
}

/// Stored rows of versions 1 and 2 are never rewritten: each read path upcasts them to the
/// current version through both upcasters.
async fn older_event_versions_are_upcast_on_every_read_path(db: TestDb) {
    let domain = Domain::builder("Conformance")
        .event_processing(EventProcessing::Async)
        .retry_policy(RetryPolicy::attempts(1))
        .database(&db.url)
        .open()
        .await
        .unwrap();
    let mut tab = CfTab::with_id(format!("tab-{:?}", db.backend).to_lowercase());
    tab.raise(CfTabbed {
        amount: 1,
        note: "current".into(),
    });
    let id = tab.id();
    domain.repository::<CfTab>().add(tab).await.unwrap();
    let stream = format!("cf_tab-{id}");

    // Two rows as older versions of the code wrote them, after the current one.
    for (position, version, data) in [(2, 1, r#"{"n": 5}"#), (3, 2, r#"{"amount": 7}"#)] {
        let data = if db.backend == Backend::Postgres {
            format!("'{data}'::jsonb")
        } else {
            format!("'{data}'")
        };
        db.raw_sql(&format!(
            "INSERT INTO events (global_position, id, stream, category, stream_position, type_name, \
             schema_version, data, correlation_id, causation_id, origin_stream, recorded_at) \
             SELECT {position}, '{}', stream, category, {position}, 'Conformance.CfTabbed.v{version}', \
             {version}, {data}, correlation_id, causation_id, origin_stream, recorded_at \
             FROM events WHERE global_position = 1",
            Uuid::new_v4()
        ))
        .await;
    }
    db.raw_sql("UPDATE event_position SET last = 3").await;
    db.raw_sql(&format!(
        "UPDATE aggregates SET stream_position = 3 WHERE id = '{id}'"
    ))
    .await;
    let notes = |entries: &[(i64, &str)]| -> Vec<(i64, String)> {
        entries.iter().map(|(a, n)| (*a, n.to_string())).collect()
    };
    let expected = notes(&[
        (1, "current"),
        (5, "was 5 before version 3"),
        (7, "was 7 before version 3"),
    ]);

    // event_store() reads.
    let read: Vec<(i64, String)> = domain
        .event_store()
        .read_stream(&stream)
        .await
        .unwrap()
        .iter()
        .map(|e| {
            let event = e.downcast_ref::<CfTabbed>().unwrap();
            (event.amount, event.note.clone())
        })
        .collect();
    assert_eq!(read, expected);

    // Aggregate loads.
    let loaded = domain.repository::<CfTab>().get(&id).await.unwrap();
    assert_eq!(*loaded.total(), 13);
    assert_eq!(loaded.notes()[1], "was 5 before version 3");

    // Subscriptions, and dead letters: the watcher refuses the upcast version-1 event once, so
    // it is parked and the version-2 one waits behind it (per-stream order); both are listed
    // and retried from their stored rows.
    TAB_REFUSES_FIVE.store(true, std::sync::atomic::Ordering::SeqCst);
    domain.settle().await.unwrap();
    let failed = domain.failed_deliveries().await.unwrap();
    let amounts: Vec<i64> = failed
        .iter()
        .map(|f| f.event.downcast_ref::<CfTabbed>().unwrap().amount)
        .collect();
    assert_eq!(amounts, vec![5, 7], "{failed:?}");
    TAB_REFUSES_FIVE.store(false, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..3 {
        domain.retry_failed_deliveries().await;
    }
    domain.settle().await.unwrap();
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    let mut seen: Vec<(i64, String)> = TAB_SEEN
        .lock()
        .unwrap()
        .iter()
        .filter(|(s, _, _)| *s == stream)
        .map(|(_, amount, note)| (*amount, note.clone()))
        .collect();
    seen.sort();
    assert_eq!(seen, expected);

    // The stored rows are unchanged.
    let stored = db.raw_sql(&format!(
        "UPDATE events SET schema_version = schema_version WHERE stream = '{stream}' AND schema_version < 3"
    ))
    .await;
    assert_eq!(stored, 2);
}

// ---- event store -------------------------------------------------------------------------------

async fn streams_carry_positions_and_metadata(db: TestDb) {
    let domain = db.domain().await;
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    for _ in 0..3 {
        domain
            .process(CfHitCounter {
                counter_id: id.clone(),
            })
            .await
            .unwrap();
    }
    let stream_name = format!("cf_counter-{id}");
    let stream = domain
        .event_store()
        .read_stream(&stream_name)
        .await
        .unwrap();
    assert_eq!(stream.len(), 3);
    for (i, event) in stream.iter().enumerate() {
        let meta = event.metadata();
        assert_eq!(meta.stream_position, i as u64 + 1);
        assert_eq!(meta.global_position, i as u64 + 1);
        assert_eq!(meta.stream.as_ref(), stream_name);
        assert_eq!(meta.type_name.as_ref(), "Conformance.CfHit.v1");
        assert_eq!(meta.schema_version, 1);
        assert_eq!(meta.kind, MessageKind::Event);
        assert_eq!(meta.category(), "cf_counter");
        // Caused by the command: same chain, the command's stream as origin.
        assert!(meta.causation_id.is_some());
        assert_eq!(
            meta.origin_stream.as_deref(),
            Some(format!("cf_counter:command-{id}").as_str())
        );
        assert_eq!(event.downcast_ref::<CfHit>().unwrap().total, i as i64 + 1);
    }
    let correlations: std::collections::HashSet<_> =
        stream.iter().map(|e| e.metadata().correlation_id).collect();
    assert_eq!(correlations.len(), 3, "each command starts its own chain");
    assert_eq!(domain.event_store().last_position().await.unwrap(), 3);
    assert!(
        domain
            .event_store()
            .read_stream("cf_counter-nobody")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn category_and_global_reads_page_by_global_position(db: TestDb) {
    let domain = db.domain().await;
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let counter_id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    // Interleave two categories: books (1 event each) and counter hits.
    for i in 0..4 {
        domain
            .process(CfAddBook {
                title: format!("book {i}"),
                then_fail: false,
            })
            .await
            .unwrap();
        domain
            .process(CfHitCounter {
                counter_id: counter_id.clone(),
            })
            .await
            .unwrap();
    }
    let store = domain.event_store();
    let all = store.read_all(0, 100).await.unwrap();
    let positions: Vec<u64> = all.iter().map(|e| e.metadata().global_position).collect();
    assert_eq!(positions, (1..=8).collect::<Vec<_>>());

    let books = store.read_category("cf_book", 0, 100).await.unwrap();
    let book_positions: Vec<u64> = books.iter().map(|e| e.metadata().global_position).collect();
    assert_eq!(book_positions, [1, 3, 5, 7]);
    let after = store.read_category("cf_book", 3, 1).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].metadata().global_position, 5);
    assert_eq!(
        after[0].downcast_ref::<CfBookAdded>().unwrap().title,
        "book 2"
    );
    let page = store.read_all(6, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert!(store.read_all(8, 10).await.unwrap().is_empty());
    // A category no registered aggregate has is an error on every store, not an empty list.
    assert!(matches!(
        store.read_category("cf_none", 0, 10).await,
        Err(Error::UnknownCategory { .. })
    ));
    assert_eq!(store.last_position().await.unwrap(), 8);
}

// ---- rollback and dispatch ---------------------------------------------------------------------

async fn a_failing_handler_rolls_back_everything_it_staged(db: TestDb) {
    let domain = db.domain().await;
    let err = domain
        .process(CfAddBook {
            title: "never".into(),
            then_fail: true,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rule(_)), "{err}");
    assert_eq!(
        domain.repository::<CfBook>().query().count().await.unwrap(),
        0
    );
    assert_eq!(domain.event_store().last_position().await.unwrap(), 0);
    assert_eq!(
        domain
            .repository::<CfStock>()
            .query()
            .count()
            .await
            .unwrap(),
        0,
        "a handler ran for an event that was never committed"
    );
}

async fn a_conflict_in_a_multi_aggregate_commit_writes_nothing(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfCounter>();
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let counter_id = counter.id();
    repo.add(counter).await.unwrap();
    let taken = Identifier::from("taken");
    repo.add(
        CfCounter::builder()
            .id(taken.clone())
            .hits(5)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();

    let err = domain
        .process(CfHitAndCreate {
            counter_id: counter_id.clone(),
            new_id: taken.clone(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    let counter = repo.get(&counter_id).await.unwrap();
    assert_eq!((counter.hits, counter.version()), (0, 1));
    assert_eq!(repo.get(&taken).await.unwrap().hits, 5);
    assert_eq!(domain.event_store().last_position().await.unwrap(), 0);

    // The same command with a free id commits both.
    domain
        .process(CfHitAndCreate {
            counter_id: counter_id.clone(),
            new_id: Identifier::from("free"),
        })
        .await
        .unwrap();
    assert_eq!(repo.get(&counter_id).await.unwrap().hits, 1);
    assert_eq!(repo.get(&Identifier::from("free")).await.unwrap().hits, 0);
    assert_eq!(domain.event_store().last_position().await.unwrap(), 1);
}

async fn event_handlers_run_after_the_commit(db: TestDb) {
    let domain = db.domain().await;
    let book_id: Identifier = domain
        .process(CfAddBook {
            title: "Persuasion".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    // Sync dispatch: by the time `process` returns, the handler has committed its own unit.
    let stock = domain
        .repository::<CfStock>()
        .find_by(CfStock::TITLE.eq("Persuasion"))
        .await
        .unwrap();
    assert_eq!(stock.version(), 1);
    assert!(domain.repository::<CfBook>().get(&book_id).await.is_ok());
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
}

/// Two retriers at once (two processes on a durable store; two tasks on memory): each failed
/// delivery is claimed by one of them, its handler runs once, and no record is left behind.
/// Before claims, two processes ran most handlers twice and left records that never succeeded.
async fn racing_retriers_run_each_failed_delivery_once(db: TestDb) {
    const BOOKS: usize = 30;
    let domain = db.domain().await;
    let switch = CfSwitch::builder().broken(true).build().unwrap();
    let switch_id = switch.id();
    domain.repository::<CfSwitch>().add(switch).await.unwrap();
    for n in 0..BOOKS {
        let err = domain
            .process(CfAddBook {
                title: format!("Race {n}"),
                then_fail: false,
            })
            .await
            .unwrap_err();
        assert!(err.is_committed(), "{err}");
    }
    assert_eq!(domain.failed_deliveries().await.unwrap().len(), BOOKS);
    let mut fixed = domain
        .repository::<CfSwitch>()
        .get(&switch_id)
        .await
        .unwrap();
    fixed.broken = false;
    domain.repository::<CfSwitch>().add(fixed).await.unwrap();

    let other = if db.durable() {
        db.domain().await
    } else {
        domain.clone()
    };
    let first = tokio::spawn({
        let domain = domain.clone();
        async move { domain.retry_failed_deliveries().await }
    });
    let second = tokio::spawn(async move { other.retry_failed_deliveries().await });
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    for report in [&first, &second] {
        assert!(report.still_failing.is_empty(), "{report:?}");
        assert!(report.error.is_none(), "{report:?}");
    }
    assert_eq!(
        first.succeeded + second.succeeded,
        BOOKS,
        "{first:?} {second:?}"
    );
    // What one retrier ran, the other skipped (or never listed, if it listed after).
    assert!(first.claimed_elsewhere + second.claimed_elsewhere <= BOOKS);
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    // Each handler's effect happened once: one stock row per book.
    let stock = domain
        .repository::<CfStock>()
        .query()
        .count()
        .await
        .unwrap();
    assert_eq!(stock, BOOKS);
}

async fn failed_deliveries_are_recorded_and_retried(db: TestDb) {
    let domain = db.domain().await;
    let switch = CfSwitch::builder().broken(true).build().unwrap();
    let switch_id = switch.id();
    domain.repository::<CfSwitch>().add(switch).await.unwrap();

    let err = domain
        .process(CfAddBook {
            title: "Mansfield Park".into(),
            then_fail: false,
        })
        .await
        .unwrap_err();
    let Error::HandlersFailed { failures, .. } = err else {
        panic!("expected HandlersFailed, got {err}");
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].handler.as_ref(), "conformance::CfStockKeeper");
    // The command's own commit stands.
    assert_eq!(
        domain.repository::<CfBook>().query().count().await.unwrap(),
        1
    );
    let recorded = domain.failed_deliveries().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].attempts, 1);
    assert_eq!(recorded[0].handler.as_ref(), "conformance::CfStockKeeper");
    assert!(
        recorded[0].error.contains("broken"),
        "{}",
        recorded[0].error
    );
    let event = recorded[0].event.downcast_ref::<CfBookAdded>().unwrap();
    assert_eq!(event.title, "Mansfield Park");

    // Still broken: the retry fails again and counts the attempt.
    let report = domain.retry_failed_deliveries().await;
    assert_eq!((report.succeeded, report.still_failing.len()), (0, 1));
    assert_eq!(domain.failed_deliveries().await.unwrap()[0].attempts, 2);

    let mut fixed = domain
        .repository::<CfSwitch>()
        .get(&switch_id)
        .await
        .unwrap();
    fixed.broken = false;
    domain.repository::<CfSwitch>().add(fixed).await.unwrap();
    let report = domain.retry_failed_deliveries().await;
    assert_eq!((report.succeeded, report.still_failing.len()), (1, 0));
    assert!(report.error.is_none());
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    assert_eq!(
        domain
            .repository::<CfStock>()
            .find_by(CfStock::TITLE.eq("Mansfield Park"))
            .await
            .unwrap()
            .title,
        "Mansfield Park"
    );
}

// ---- concurrency -------------------------------------------------------------------------------

/// N tasks increment one counter at once, each retrying on conflict: every success shows in the
/// final count and the stream, every failure is an expected-version conflict, nothing is lost or
/// written twice.
async fn concurrent_writers_on_one_aggregate_lose_nothing(db: TestDb) {
    const TASKS: usize = 16;
    let domain = db.domain().await;
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();

    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (domain, id, start) = (domain.clone(), id.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut conflicts = 0;
            loop {
                match domain
                    .process(CfHitCounter {
                        counter_id: id.clone(),
                    })
                    .await
                {
                    Ok(total) => return (total, conflicts),
                    Err(Error::Conflict { .. }) => conflicts += 1,
                    Err(other) => panic!("a failure other than a conflict: {other}"),
                }
            }
        }));
    }
    let mut totals = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let (total, task_conflicts) = task.await.unwrap();
        totals.push(total);
        conflicts += task_conflicts;
    }
    totals.sort();
    // Each success saw a distinct count: no lost update, no double write.
    assert_eq!(totals, (1..=TASKS as i64).collect::<Vec<_>>());
    let counter = domain.repository::<CfCounter>().get(&id).await.unwrap();
    assert_eq!(counter.hits, TASKS as i64);
    assert_eq!(counter.version(), TASKS as u64 + 1);
    let stream = domain
        .event_store()
        .read_stream(&format!("cf_counter-{id}"))
        .await
        .unwrap();
    let hits: Vec<i64> = stream
        .iter()
        .map(|e| e.downcast_ref::<CfHit>().unwrap().total)
        .collect();
    assert_eq!(hits, (1..=TASKS as i64).collect::<Vec<_>>());
    let positions: Vec<u64> = stream
        .iter()
        .map(|e| e.metadata().stream_position)
        .collect();
    assert_eq!(positions, (1..=TASKS as u64).collect::<Vec<_>>());
    println!(
        "{:?}: {TASKS} writers, {conflicts} conflicts retried",
        db.backend
    );
}

/// Writers commit concurrently while a reader follows `read_all` from its last position: it must
/// see every position exactly once, in order (a position committed late is never skipped).
async fn readers_following_the_global_position_never_skip(db: TestDb) {
    readers_never_skip(db, EventProcessing::Sync).await;
}

/// The same with every handler async (commits return before any delivery): readers still see
/// dense positions in order, and each writer its own event as soon as `process` returns.
async fn readers_never_skip_in_async_mode(db: TestDb) {
    readers_never_skip(db, EventProcessing::Async).await;
}

async fn readers_never_skip(db: TestDb, mode: EventProcessing) {
    const WRITERS: usize = 6;
    const EACH: usize = 25;
    let domain = db.domain_processing(mode).await;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let domain = domain.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..EACH {
                let id = domain
                    .process(CfAddBook {
                        title: format!("w{w}-{i}"),
                        then_fail: false,
                    })
                    .await
                    .unwrap();
                let stream = domain.event_store().stream_of::<CfBook>(&id).await.unwrap();
                assert_eq!(stream.len(), 1, "a writer does not read its own event");
                assert!(stream[0].metadata().global_position > 0);
            }
        }));
    }
    let reader = {
        let domain = domain.clone();
        tokio::spawn(async move {
            let mut seen = 0u64;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while seen < (WRITERS * EACH) as u64 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "reader stalled at {seen}"
                );
                let page = domain.event_store().read_all(seen, 7).await.unwrap();
                for event in &page {
                    let position = event.metadata().global_position;
                    assert_eq!(
                        position,
                        seen + 1,
                        "the reader skipped or repeated a position"
                    );
                    seen = position;
                }
                if page.is_empty() {
                    tokio::task::yield_now().await;
                }
            }
            seen
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), (WRITERS * EACH) as u64);
    let titles: std::collections::HashSet<String> = domain
        .event_store()
        .read_category("cf_book", 0, usize::MAX)
        .await
        .unwrap()
        .iter()
        .map(|e| e.downcast_ref::<CfBookAdded>().unwrap().title.clone())
        .collect();
    assert_eq!(titles.len(), WRITERS * EACH);
}

// ---- the command log ---------------------------------------------------------------------------

/// `t` as the stores keep it: microseconds since 1970 (the SQL stores' resolution).
fn micros(t: std::time::SystemTime) -> u128 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_micros()
}

/// Commands read back by stream, by type and by position, with their metadata and payload.
async fn the_command_log_is_read_by_stream_and_by_position(db: TestDb) {
    let domain = db.domain().await;
    let log = domain.command_log();
    assert_eq!(log.last_position().await.unwrap(), 0);
    assert!(log.read_all(0, 10).await.unwrap().is_empty());

    let before = std::time::SystemTime::now();
    let request = domain_core::Uuid::new_v4();
    let added = domain
        .process_with(
            CfAddBook {
                title: "Emma".into(),
                then_fail: false,
            },
            domain_core::CommandOptions::new().correlation_id(request),
        )
        .await
        .unwrap();
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let counter_id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    let mut hits = Vec::new();
    for _ in 0..2 {
        let hit = domain
            .process_with(
                CfHitCounter {
                    counter_id: counter_id.clone(),
                },
                domain_core::CommandOptions::new(),
            )
            .await
            .unwrap();
        hits.push(hit.command_id);
    }
    let after = std::time::SystemTime::now();

    // The whole log, by position.
    let all = log.read_all(0, 100).await.unwrap();
    let positions: Vec<u64> = all.iter().map(|r| r.position()).collect();
    assert_eq!(positions, [1, 2, 3], "{all:?}");
    assert_eq!(log.last_position().await.unwrap(), 3);

    // The first record's metadata and payload.
    let emma = &all[0];
    let meta = emma.metadata();
    let stream = format!("cf_book:command-{}", added.command_id);
    assert_eq!(meta.id, added.command_id);
    assert_eq!(meta.kind, MessageKind::Command);
    assert_eq!(meta.type_name.as_ref(), "Conformance.CfAddBook.v1");
    assert_eq!(meta.stream.as_ref(), stream);
    assert_eq!(meta.global_position, 1);
    assert_eq!(meta.correlation_id, request);
    assert_eq!(meta.causation_id, None);
    assert_eq!(meta.origin_stream.as_deref(), Some(stream.as_str()));
    assert!(
        micros(before) <= micros(meta.timestamp) && micros(meta.timestamp) <= micros(after),
        "{:?}",
        meta.timestamp
    );
    assert_eq!(
        emma.payload(),
        &serde_json::json!({ "title": "Emma", "then_fail": false })
    );
    assert!(emma.is::<CfAddBook>() && !emma.is::<CfHitCounter>());
    let decoded: CfAddBook = emma.decode().unwrap();
    assert_eq!((decoded.title.as_str(), decoded.then_fail), ("Emma", false));
    let wrong = emma.decode::<CfHitCounter>().unwrap_err();
    assert!(matches!(wrong, Error::Malformed { .. }), "{wrong}");
    // The command's events name it as their cause.
    let events = domain
        .event_store()
        .stream_of::<CfBook>(&added.output)
        .await
        .unwrap();
    assert_eq!(events[0].metadata().causation_id, Some(meta.id));

    // One aggregate's command stream, in order, by name and by type.
    let by_type = log.stream_of::<CfCounter>(&counter_id).await.unwrap();
    let by_name = log
        .read_stream(&format!("cf_counter:command-{counter_id}"))
        .await
        .unwrap();
    for records in [&by_type, &by_name] {
        let ids: Vec<_> = records.iter().map(|r| r.metadata().id).collect();
        assert_eq!(ids, hits);
        let positions: Vec<u64> = records.iter().map(|r| r.position()).collect();
        assert_eq!(positions, [2, 3]);
        let target = records[1].decode::<CfHitCounter>().unwrap().counter_id;
        assert_eq!(target, counter_id);
    }
    assert_eq!(log.read_stream(&stream).await.unwrap().len(), 1);
    assert!(
        log.stream_of::<CfBook>(&Identifier::from("nobody"))
            .await
            .unwrap()
            .is_empty()
    );
    let typo = log.read_stream("cf_bok:command-1").await.unwrap_err();
    assert!(matches!(typo, Error::UnknownCategory { .. }), "{typo}");

    // Pages: after/limit, and past the end.
    let page: Vec<u64> = log
        .read_all(1, 1)
        .await
        .unwrap()
        .iter()
        .map(|r| r.position())
        .collect();
    assert_eq!(page, [2]);
    assert!(log.read_all(3, 10).await.unwrap().is_empty());
    assert!(log.read_all(u64::MAX, 10).await.unwrap().is_empty());

    // Durable stores keep the log across a reopen.
    if db.durable() {
        drop(domain);
        let reopened = db.domain().await;
        let again = reopened.command_log().read_all(0, 100).await.unwrap();
        assert_eq!(format!("{again:?}"), format!("{all:?}"));
        assert_eq!(again[2].metadata().timestamp, all[2].metadata().timestamp);
    }
}

/// A command is logged in its handler's commit: a handler error, a conflict at commit or an
/// invalid command leaves no record, and the positions stay gap-free.
async fn a_command_that_does_not_commit_leaves_no_record(db: TestDb) {
    let domain = db.domain().await;
    let taken = CfCounter::builder().hits(0).build().unwrap();
    let (taken_id, counter) = (taken.id(), CfCounter::builder().hits(0).build().unwrap());
    let counter_id = counter.id();
    domain.repository::<CfCounter>().add(taken).await.unwrap();
    domain.repository::<CfCounter>().add(counter).await.unwrap();

    let failed = domain
        .process(CfAddBook {
            title: "rolled back".into(),
            then_fail: true,
        })
        .await
        .unwrap_err();
    assert!(matches!(failed, Error::Rule(_)), "{failed}");
    let conflict = domain
        .process(CfHitAndCreate {
            counter_id: counter_id.clone(),
            new_id: taken_id,
        })
        .await
        .unwrap_err();
    assert!(matches!(conflict, Error::Conflict { .. }), "{conflict}");
    let missing = domain
        .process(CfHitCounter {
            counter_id: Identifier::from("no such counter"),
        })
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
    let log = domain.command_log();
    assert!(log.read_all(0, 10).await.unwrap().is_empty());
    assert_eq!(log.last_position().await.unwrap(), 0);
    assert!(
        log.stream_of::<CfCounter>(&counter_id)
            .await
            .unwrap()
            .is_empty()
    );

    // The next command that commits takes position 1: nothing was reserved and lost.
    domain
        .process(CfHitCounter {
            counter_id: counter_id.clone(),
        })
        .await
        .unwrap();
    let records = log.read_all(0, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].position(), 1);
    assert!(records[0].is::<CfHitCounter>());
    assert_eq!(
        log.stream_of::<CfCounter>(&counter_id).await.unwrap().len(),
        1
    );
}

/// Commands a handler processes with `ctx.process` are logged with the handler's command as
/// their cause; they commit before it, so they come first. If that handler then fails, their
/// records stay (they committed) and its own is never written.
async fn nested_commands_are_logged_with_their_causation(db: TestDb) {
    let domain = db.domain().await;
    let series = domain
        .process_with(
            CfAddSeries {
                titles: vec!["Persuasion".into(), "Sanditon".into()],
                then_fail: false,
            },
            domain_core::CommandOptions::new(),
        )
        .await
        .unwrap();
    let log = domain.command_log().read_all(0, 100).await.unwrap();
    let names: Vec<&str> = log
        .iter()
        .map(|r| r.metadata().type_name.as_ref())
        .collect();
    // The nested commands joined the parent's unit of work: one commit, logged cause first.
    assert_eq!(
        names,
        [
            "Conformance.CfAddSeries.v1",
            "Conformance.CfAddBook.v1",
            "Conformance.CfAddBook.v1"
        ]
    );
    let parent = log[0].metadata();
    assert_eq!(parent.id, series.command_id);
    assert_eq!(parent.causation_id, None);
    let parent_stream = format!("cf_book:command-{}", series.command_id);
    assert_eq!(parent.stream.as_ref(), parent_stream);
    for (child, title) in log[1..].iter().zip(["Persuasion", "Sanditon"]) {
        let meta = child.metadata();
        assert_eq!(meta.causation_id, Some(series.command_id));
        assert_eq!(meta.correlation_id, series.correlation_id);
        assert_eq!(meta.origin_stream.as_deref(), Some(parent_stream.as_str()));
        assert_eq!(meta.stream.as_ref(), format!("cf_book:command-{}", meta.id));
        assert_eq!(child.decode::<CfAddBook>().unwrap().title, title);
        // The books' events are caused by the nested command that added them.
        let book = domain
            .repository::<CfBook>()
            .find_by(CfBook::TITLE.eq(title.to_string()))
            .await
            .unwrap();
        let events = domain
            .event_store()
            .stream_of::<CfBook>(&book.id())
            .await
            .unwrap();
        assert_eq!(events[0].metadata().causation_id, Some(meta.id));
    }
    let series_payload = log[0].decode::<CfAddSeries>().unwrap();
    assert_eq!(series_payload.titles, ["Persuasion", "Sanditon"]);

    // The handler fails after its nested command: neither is logged, nothing is stored.
    let err = domain
        .process(CfAddSeries {
            titles: vec!["Lady Susan".into()],
            then_fail: true,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rule(_)), "{err}");
    assert!(
        domain
            .command_log()
            .read_all(3, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(domain.command_log().last_position().await.unwrap(), 3);
    assert!(matches!(
        domain
            .repository::<CfBook>()
            .find_by(CfBook::TITLE.eq("Lady Susan".to_string()))
            .await,
        Err(Error::NotFound { .. })
    ));
}

/// Writers commit commands concurrently while a reader follows the command log from its last
/// position: it sees every position exactly once, in order, each with its command.
async fn readers_following_the_command_log_never_skip(db: TestDb) {
    const WRITERS: usize = 6;
    const EACH: usize = 25;
    let domain = db.domain().await;
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let counter_id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let domain = domain.clone();
        let counter_id = counter_id.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..EACH {
                domain
                    .process(CfAddBook {
                        title: format!("w{w}-{i}"),
                        then_fail: false,
                    })
                    .await
                    .unwrap();
                // Conflicting commands in between: they must not take or leave positions.
                let _ = domain
                    .process(CfHitCounter {
                        counter_id: counter_id.clone(),
                    })
                    .await;
            }
        }));
    }
    let reader = {
        let domain = domain.clone();
        tokio::spawn(async move {
            let mut seen = 0u64;
            let mut titles = std::collections::HashSet::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while titles.len() < WRITERS * EACH {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "reader stalled at {seen}"
                );
                let page = domain.command_log().read_all(seen, 7).await.unwrap();
                for record in &page {
                    assert_eq!(
                        record.position(),
                        seen + 1,
                        "the reader skipped or repeated a position"
                    );
                    seen = record.position();
                    if record.is::<CfAddBook>() {
                        titles.insert(record.decode::<CfAddBook>().unwrap().title);
                    }
                }
                if page.is_empty() {
                    tokio::task::yield_now().await;
                }
            }
            titles.len()
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), WRITERS * EACH);
    let hits = domain
        .repository::<CfCounter>()
        .get(&counter_id)
        .await
        .unwrap()
        .hits;
    let log = domain.command_log();
    let total = log.last_position().await.unwrap();
    assert_eq!(total, (WRITERS * EACH) as u64 + hits as u64);
    let positions: Vec<u64> = log
        .read_all(0, usize::MAX)
        .await
        .unwrap()
        .iter()
        .map(|r| r.position())
        .collect();
    assert_eq!(positions, (1..=total).collect::<Vec<_>>());
}

// ---- dead letters --------------------------------------------------------------------------------

/// (stream, total) of every audit, sorted.
async fn audits(domain: &Domain) -> Vec<(String, i64)> {
    let mut audits: Vec<(String, i64)> = domain
        .repository::<CfAudit>()
        .query()
        .all()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|a| (a.stream, a.total))
        .collect();
    audits.sort();
    audits
}

/// A new counter: its id and its stream.
async fn new_counter(domain: &Domain) -> (Identifier, String) {
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    let stream = format!("{}-{id}", CfCounter::CATEGORY);
    (id, stream)
}

/// A blown fuse for `stream` (the hit auditor fails on it): its id.
async fn blown_fuse(domain: &Domain, stream: &str) -> Identifier {
    let fuse = CfFuse::builder()
        .stream(stream.to_string())
        .blown(true)
        .build()
        .unwrap();
    let id = fuse.id();
    domain.repository::<CfFuse>().add(fuse).await.unwrap();
    id
}

async fn set_fuse(domain: &Domain, fuse_id: &Identifier, blown: bool) {
    let mut fuse = domain.repository::<CfFuse>().get(fuse_id).await.unwrap();
    fuse.blown = blown;
    domain.repository::<CfFuse>().add(fuse).await.unwrap();
}

/// A delivery that fails is parked; later events of its stream wait behind it for that handler
/// (recorded as blocked, not run), while other streams go on. Retrying it once fixed delivers
/// the waiting ones in order; skipping it (who, why) does too; purging removes skipped records.
async fn a_parked_delivery_holds_back_its_stream_until_retried_or_skipped(db: TestDb) {
    let domain = db.domain().await;
    let (a, stream_a) = new_counter(&domain).await;
    let (b, stream_b) = new_counter(&domain).await;
    let fuse_id = blown_fuse(&domain, &stream_a).await;
    let set_fuse = |blown: bool| set_fuse(&domain, &fuse_id, blown);
    let hit = |id: &Identifier| CfHitCounter {
        counter_id: id.clone(),
    };

    // A1 fails and is parked; A2 waits behind it without running; B goes on.
    let first = domain.process(hit(&a)).await.unwrap_err();
    assert!(first.is_committed(), "{first}");
    let second = domain.process(hit(&a)).await.unwrap_err();
    assert!(second.to_string().contains("waits behind"), "{second}");
    domain.process(hit(&b)).await.unwrap();
    assert_eq!(audits(&domain).await, [(stream_b.clone(), 1)]);

    let dead = domain.failed_deliveries().await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    let (parked, blocked) = (&dead[0], &dead[1]);
    assert_eq!(parked.state, DeliveryState::Parked);
    assert_eq!(parked.attempts, 1);
    assert_eq!(blocked.state, DeliveryState::Blocked { behind: parked.id });
    assert_eq!(blocked.attempts, 0);
    assert!(matches!(
        domain.retry_delivery(blocked.id).await,
        Err(Error::DeliveryBlocked { behind, .. }) if behind == parked.id
    ));
    // Still broken: the retry fails, both stay.
    domain.retry_delivery(parked.id).await.unwrap_err();
    assert_eq!(domain.failed_deliveries().await.unwrap().len(), 2);

    // Fixed: the parked one and the one behind it are delivered, in order.
    set_fuse(false).await;
    domain.retry_delivery(parked.id).await.unwrap();
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    let mut expected = vec![
        (stream_a.clone(), 1),
        (stream_a.clone(), 2),
        (stream_b.clone(), 1),
    ];
    expected.sort();
    assert_eq!(audits(&domain).await, expected);
    // The stream is no longer parked: the next hit is delivered at once.
    domain.process(hit(&a)).await.unwrap();
    assert_eq!(audits(&domain).await.len(), 4);

    // Skipped: A4 is given up on (and kept, with who and why); A5 behind it is delivered.
    set_fuse(true).await;
    domain.process(hit(&a)).await.unwrap_err();
    domain.process(hit(&a)).await.unwrap_err();
    set_fuse(false).await;
    let dead = domain.failed_deliveries().await.unwrap();
    assert_eq!(dead.len(), 2);
    domain
        .skip_delivery(dead[0].id, "ops@example.com", "bad data")
        .await
        .unwrap();
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    let totals_a: Vec<i64> = audits(&domain)
        .await
        .into_iter()
        .filter(|(stream, _)| *stream == stream_a)
        .map(|(_, total)| total)
        .collect();
    assert_eq!(totals_a, [1, 2, 3, 5]);
    let skipped = domain.skipped_deliveries().await.unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        skipped[0].state,
        DeliveryState::Skipped {
            by: "ops@example.com".into(),
            reason: "bad data".into()
        }
    );
    assert_eq!(domain.purge_skipped_deliveries().await.unwrap(), 1);
    assert!(domain.skipped_deliveries().await.unwrap().is_empty());
}

// ---- async processing --------------------------------------------------------------------------

/// In async mode `process` returns after the command's own commit: the reaction waits, the
/// subscription reports its lag, and `settle` delivers it.
async fn async_processing_delivers_after_process_returns(db: TestDb) {
    let domain = db.domain_processing(EventProcessing::Async).await;
    for n in 0..5 {
        let processed = domain
            .process_with(
                CfAddBook {
                    title: format!("async-{n}"),
                    then_fail: false,
                },
                domain_core::CommandOptions::new(),
            )
            .await
            .unwrap();
        assert!(processed.failures.is_empty());
    }
    assert!(
        stock_per_title(&domain).await.is_empty(),
        "delivered before settle"
    );
    let keeper = domain
        .subscriptions()
        .into_iter()
        .find(|s| s.handler.ends_with("CfStockKeeper"))
        .unwrap();
    assert!(keeper.background);
    assert_eq!(keeper.lag, 5);
    let head = domain.settle().await.unwrap();
    assert_eq!(head, domain.event_store().last_position().await.unwrap());
    let per_title = stock_per_title(&domain).await;
    assert_eq!(per_title.len(), 5);
    assert!(per_title.values().all(|&n| n == 1));
    assert!(domain.subscriptions().iter().all(|s| s.lag == 0));
    // Settling again delivers nothing twice.
    domain.settle().await.unwrap();
    assert_eq!(stock_per_title(&domain).await, per_title);
}

/// A running engine delivers without being asked, and a shutdown signal stops it after the
/// delivery in progress, its checkpoints recorded.
async fn the_engine_delivers_in_the_background_and_stops_gracefully(db: TestDb) {
    let domain = db.domain_processing(EventProcessing::Async).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn({
        let engine = domain.engine().poll_interval(Duration::from_millis(20));
        async move {
            engine
                .run_until(async {
                    stopped.await.ok();
                })
                .await
        }
    });
    for n in 0..10 {
        domain
            .process(CfAddBook {
                title: format!("engine-{n}"),
                then_fail: false,
            })
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stock_per_title(&domain).await.len() < 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "the engine did not deliver in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    engine.await.unwrap().unwrap();
    let per_title = stock_per_title(&domain).await;
    assert!(per_title.values().all(|&n| n == 1), "a reaction ran twice");
    if db.durable() {
        // The checkpoint is stored: a new process starts where the engine stopped.
        drop(domain);
        let reopened = db.domain_processing(EventProcessing::Async).await;
        let keeper = reopened
            .subscriptions()
            .into_iter()
            .find(|s| s.handler.ends_with("CfStockKeeper"))
            .unwrap();
        assert_eq!(
            keeper.position,
            reopened.event_store().last_position().await.unwrap()
        );
        reopened.settle().await.unwrap();
        assert_eq!(stock_per_title(&reopened).await, per_title);
    }
}

// ---- durable stores only -----------------------------------------------------------------------

/// How many `CfStock`s each title has (the stock keeper's store-writing reaction).
async fn stock_per_title(domain: &Domain) -> std::collections::HashMap<String, usize> {
    let mut per_title = std::collections::HashMap::new();
    for stock in domain
        .repository::<CfStock>()
        .query()
        .all()
        .await
        .unwrap()
        .items
    {
        *per_title.entry(stock.title).or_insert(0) += 1;
    }
    per_title
}

/// Two domains on one database deliver like two processes: each delivers its own events and
/// whatever the other left before them, and the checkpoint's compare-and-set lets exactly one
/// delivery of each event commit.
async fn two_processes_deliver_each_reaction_once(db: TestDb) {
    let (first, second) = (db.domain().await, db.domain().await);
    let mut tasks = Vec::new();
    for (process, domain) in [first.clone(), second.clone()].into_iter().enumerate() {
        for task in 0..3 {
            let domain = domain.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..15 {
                    let title = format!("p{process}-t{task}-{n}");
                    domain
                        .process(CfAddBook {
                            title,
                            then_fail: false,
                        })
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let per_title = stock_per_title(&first).await;
    assert_eq!(per_title.len(), 90, "a reaction was lost");
    assert!(per_title.values().all(|&n| n == 1), "a reaction ran twice");
    assert!(first.failed_deliveries().await.unwrap().is_empty());
}

/// Drives a future until it has returned `Pending` `pending` times, then drops it: the caller
/// gives up at that await point (a client hanging up, a timeout, a lost `select!`). `None` if it
/// was dropped, its output if it finished first.
struct DropAfter<F: std::future::Future> {
    inner: std::pin::Pin<Box<F>>,
    pending: usize,
}

impl<F: std::future::Future> std::future::Future for DropAfter<F> {
    type Output = Option<F::Output>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.inner.as_mut().poll(cx) {
            std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
            std::task::Poll::Pending if self.pending == 0 => std::task::Poll::Ready(None),
            std::task::Poll::Pending => {
                self.pending -= 1;
                std::task::Poll::Pending
            }
        }
    }
}

/// A caller that drops `process` at any await point loses no reaction: what committed is after
/// the subscription's checkpoint, and the next delivery to the handler (here, the next command)
/// delivers it first. Every await point is tried in turn, from the first to the last, until
/// `process` finishes on its own. Reopening then delivers nothing twice.
async fn dropped_process_futures_lose_no_reaction(db: TestDb) {
    let domain = db.domain().await;
    let mut drop_points = 0;
    loop {
        let command = CfAddBook {
            title: format!("dropped-{drop_points}"),
            then_fail: false,
        };
        let future = DropAfter {
            inner: Box::pin(domain.process(command)),
            pending: drop_points,
        };
        if future.await.is_some() {
            break;
        }
        drop_points += 1;
    }
    assert!(drop_points > 2, "process awaited only {drop_points} times");
    let books = domain.repository::<CfBook>().query().count().await.unwrap();
    // The next command catches the stock keeper up before its own event.
    domain
        .process(CfAddBook {
            title: "after".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    let per_title = stock_per_title(&domain).await;
    assert_eq!(
        per_title.len(),
        books + 1,
        "dropped at {drop_points} await points; a committed book has no stock"
    );
    assert!(per_title.values().all(|&n| n == 1), "a reaction ran twice");
    drop(domain);
    let reopened = db.domain().await;
    assert_eq!(stock_per_title(&reopened).await, per_title);
}

/// A retry deletes its record in its handler's own transaction, if it still holds the claim: a
/// retrier whose claim expired while its handler ran (another one took the record over and
/// succeeded) commits nothing, so the store-writing handler takes effect once. (Before, the
/// record was deleted after the handler's commit, and both retries' writes stood.)
async fn a_retry_whose_claim_was_taken_over_commits_nothing(db: TestDb) {
    let domain = db.domain().await;
    let label = format!("ticket-{:?}", db.backend);
    set_copier_mode(&label, CopierMode::Fail);
    let mut ticket = CfTicket::builder().label(label.clone()).build().unwrap();
    ticket.raise(CfTicketOpened {
        label: label.clone(),
    });
    domain
        .repository::<CfTicket>()
        .add(ticket)
        .await
        .unwrap_err();
    let record = domain.failed_deliveries().await.unwrap()[0].id;

    // Retrier A claims the record, stages its copy and waits.
    let (started, release) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    set_copier_mode(&label, CopierMode::Block(started.clone(), release.clone()));
    let first = tokio::spawn({
        let domain = domain.clone();
        async move { domain.retry_delivery(record).await }
    });
    started.notified().await;
    // A's claim expires; retrier B takes the record over and succeeds.
    assert_eq!(
        db.raw_sql("UPDATE failed_deliveries SET claimed_until = 0")
            .await,
        1
    );
    set_copier_mode(&label, CopierMode::Pass);
    domain.retry_delivery(record).await.unwrap();
    // A finishes: its commit finds the record gone and writes nothing.
    release.notify_one();
    let outcome = first.await.unwrap();
    assert!(
        matches!(outcome, Err(Error::DeliveryClaimed { .. })),
        "{outcome:?}"
    );
    let copies = domain
        .repository::<CfTicketCopy>()
        .query()
        .filter(CfTicketCopy::LABEL.eq(label))
        .count()
        .await
        .unwrap();
    assert_eq!(
        copies, 1,
        "the handler's writes were applied {copies} times"
    );
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
}

/// A delivery recorded as blocked behind a parked one that is gone (resolved or skipped just as
/// the blocked one was recorded, by another task or process) is not stuck: retrying it makes it
/// the head of its stream, and `retry_failed_deliveries` picks it up.
async fn a_blocked_delivery_whose_head_is_gone_heads_its_stream(db: TestDb) {
    let domain = db.domain().await;
    let (id, stream) = new_counter(&domain).await;
    let fuse_id = blown_fuse(&domain, &stream).await;
    let hit = || CfHitCounter {
        counter_id: id.clone(),
    };
    domain.process(hit()).await.unwrap_err(); // parked
    domain.process(hit()).await.unwrap_err(); // blocked behind it
    let dead = domain.failed_deliveries().await.unwrap();
    let parked = dead[0].id;
    assert_eq!(dead[1].state, DeliveryState::Blocked { behind: parked });
    // The parked one disappears as if another process had resolved it meanwhile.
    let deleted = db
        .raw_sql(&format!(
            "DELETE FROM failed_deliveries WHERE id = '{parked}'"
        ))
        .await;
    assert_eq!(deleted, 1);
    set_fuse(&domain, &fuse_id, false).await;

    let report = domain.retry_failed_deliveries().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    assert_eq!(audits(&domain).await, [(stream.clone(), 2)]);
    // The stream is no longer parked for the auditor.
    domain.process(hit()).await.unwrap();
    assert_eq!(audits(&domain).await, [(stream.clone(), 2), (stream, 3)]);
}

/// A handler that writes nothing commits no checkpoint with its deliveries (they would cost a
/// transaction each); `record_progress` stores how far it got, for a graceful stop.
async fn record_progress_stores_the_lazy_checkpoints(db: TestDb) {
    let domain = db.domain().await;
    let watcher_at = |position: u64| {
        format!(
            "UPDATE subscriptions SET position = position \
             WHERE name LIKE '%CfTicketWatcher' AND position = {position}"
        )
    };
    let start = domain.event_store().last_position().await.unwrap();
    for n in 0..3 {
        let label = format!("watched-{n}");
        set_copier_mode(&label, CopierMode::Pass);
        let mut ticket = CfTicket::builder().label(label.clone()).build().unwrap();
        ticket.raise(CfTicketOpened { label });
        domain.repository::<CfTicket>().add(ticket).await.unwrap();
    }
    let head = domain.event_store().last_position().await.unwrap();
    assert_eq!(head, start + 3);
    assert_eq!(
        db.raw_sql(&watcher_at(start)).await,
        1,
        "stored lazily: still at the start"
    );
    domain.record_progress().await.unwrap();
    assert_eq!(
        db.raw_sql(&watcher_at(head)).await,
        1,
        "recorded at the head"
    );
}

/// A builder on a pool made here, as a caller would (its own options), for this database.
async fn with_callers_pool(db: &TestDb) -> DomainBuilder {
    let builder = Domain::builder("Conformance");
    match db.backend {
        Backend::Sqlite => {
            use std::str::FromStr;
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url)
                .unwrap()
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(3)
                .connect_with(options)
                .await
                .unwrap();
            builder.sqlite_pool(pool)
        }
        Backend::Postgres => builder.postgres_pool(sqlx::PgPool::connect(&db.url).await.unwrap()),
        Backend::Memory => unreachable!("a durable-only case"),
    }
}

/// A pool the caller made (their own options, or one shared with the rest of a service) runs
/// the domain: the schema is created on it, and commands and reactions go through it. A pool
/// and a URL together are refused.
async fn a_pool_the_caller_made_is_used(db: TestDb) {
    let domain = with_callers_pool(&db).await.open().await.unwrap();
    domain
        .process(CfAddBook {
            title: "pooled".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    assert_eq!(stock_per_title(&domain).await.len(), 1);
    drop(domain);
    // The same database through the URL sees what went through the pool.
    assert_eq!(stock_per_title(&db.domain().await).await.len(), 1);
    let both = with_callers_pool(&db).await.database(&db.url).open().await;
    assert!(matches!(both, Err(Error::Store(message)) if message.contains("give one")));
}

/// A handler first seen by a database that already has events reacts to new events only:
/// replaying history is a projection's choice, not a reaction's default.
async fn a_new_subscription_starts_at_the_head_of_the_log(db: TestDb) {
    let without_handler = Domain::builder("Conformance")
        .without_auto_registration()
        .register::<CfBook>()
        .register::<CfBookAdded>()
        .register::<CfAddBook>()
        .register::<CfAddSeries>()
        .register::<CfFlakyAddBook>()
        .register::<CfBookCommands>()
        .database(&db.url)
        .open()
        .await
        .unwrap();
    without_handler
        .process(CfAddBook {
            title: "before".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    drop(without_handler);
    let domain = db.domain().await;
    assert!(stock_per_title(&domain).await.is_empty());
    domain
        .process(CfAddBook {
            title: "after".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    let per_title = stock_per_title(&domain).await;
    assert_eq!(per_title.keys().collect::<Vec<_>>(), ["after"]);
}

async fn a_reopened_database_has_everything(db: TestDb) {
    assert!(db.durable());
    let switch_id;
    {
        let domain = db.domain().await;
        let switch = CfSwitch::builder().broken(true).build().unwrap();
        switch_id = switch.id();
        domain.repository::<CfSwitch>().add(switch).await.unwrap();
        let _ = domain
            .process(CfAddBook {
                title: "Sanditon".into(),
                then_fail: false,
            })
            .await
            .unwrap_err();
    }
    let domain = db.domain().await;
    let books = domain.repository::<CfBook>().query().all().await.unwrap();
    assert_eq!(titles(books.items), ["Sanditon"]);
    assert_eq!(domain.event_store().last_position().await.unwrap(), 1);
    let failures = domain.failed_deliveries().await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0]
            .event
            .downcast_ref::<CfBookAdded>()
            .unwrap()
            .title,
        "Sanditon"
    );
    assert!(
        domain
            .repository::<CfSwitch>()
            .get(&switch_id)
            .await
            .unwrap()
            .broken
    );
    // Positions continue where they stopped.
    domain
        .process(CfAddBook {
            title: "Lady Susan".into(),
            then_fail: false,
        })
        .await
        .unwrap_err();
    assert_eq!(domain.event_store().last_position().await.unwrap(), 2);
}

async fn a_newer_schema_is_refused(db: TestDb) {
    drop(db.domain().await); // creates the schema
    db.raw_sql("UPDATE schema_version SET version = 999").await;
    let err = Domain::builder("Conformance")
        .database(&db.url)
        .open()
        .await
        .err()
        .expect("a newer schema must be refused");
    assert!(
        matches!(err, Error::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
}

/// A deleted `schema_version` row: when the tables are exactly this build's, `open` records the
/// version again and carries on; when they are not, it refuses, saying what is wrong and how to
/// fix it, instead of failing on "table already exists".
async fn a_lost_schema_version_row_is_recovered_or_explained(db: TestDb) {
    let id;
    {
        let domain = db.domain().await;
        let b = book("Northanger Abbey", 1817, 3.0);
        id = b.id();
        domain.repository::<CfBook>().add(b).await.unwrap();
    }
    assert_eq!(db.raw_sql("DELETE FROM schema_version").await, 1);
    {
        let domain = db.domain().await;
        let b = domain.repository::<CfBook>().get(&id).await.unwrap();
        assert_eq!((b.title.as_str(), b.version()), ("Northanger Abbey", 1));
    }
    // The version is recorded again (this touches exactly the one row at this build's version,
    // 5: migration 1 -> 2 made the command log readable, 2 -> 3 added retry claims, 3 -> 4
    // subscriptions, 4 -> 5 submitted commands).
    assert_eq!(
        db.raw_sql("UPDATE schema_version SET version = version WHERE version = 5")
            .await,
        1
    );

    // A layout this build did not write (here: a column a newer build might have added).
    assert_eq!(db.raw_sql("DELETE FROM schema_version").await, 1);
    db.raw_sql("ALTER TABLE aggregates ADD COLUMN tenant TEXT")
        .await;
    let err = Domain::builder("Conformance")
        .database(&db.url)
        .open()
        .await
        .err()
        .expect("an unknown layout without a version must be refused");
    let message = err.to_string();
    assert!(matches!(err, Error::Store(_)), "{message}");
    for part in [
        "schema_version",
        "aggregates.tenant",
        "INSERT INTO schema_version",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    assert_eq!(
        db.raw_sql("SELECT 1 FROM schema_version").await,
        0,
        "nothing was recorded"
    );
}

async fn corrupt_or_unknown_event_rows_are_errors_naming_the_row(db: TestDb) {
    let domain = db.domain().await;
    domain
        .process(CfAddBook {
            title: "Lesley Castle".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    let stream = domain.event_store().read_all(0, 1).await.unwrap()[0]
        .metadata()
        .stream
        .to_string();
    let data = if db.backend == Backend::Postgres {
        "'{\"title\": 42}'::jsonb"
    } else {
        "'{\"title\": 42}'"
    };
    db.raw_sql(&format!(
        "INSERT INTO events (global_position, id, stream, category, stream_position, type_name, \
         schema_version, data, correlation_id, causation_id, origin_stream, recorded_at) \
         SELECT 2, id, stream, category, 2, 'Conformance.CfBookAdded.v1', 1, {data}, \
         correlation_id, causation_id, origin_stream, recorded_at FROM events WHERE global_position = 1"
    ))
    .await;
    db.raw_sql(
        "INSERT INTO events (global_position, id, stream, category, stream_position, type_name, \
         schema_version, data, correlation_id, causation_id, origin_stream, recorded_at) \
         SELECT 3, id, stream, category, 3, 'Conformance.Vanished.v1', 1, data, \
         correlation_id, causation_id, origin_stream, recorded_at FROM events WHERE global_position = 1",
    )
    .await;

    let malformed = domain.event_store().read_all(1, 1).await.unwrap_err();
    match &malformed {
        Error::UnreadableEvent {
            stream: s,
            stream_position,
            global_position,
            type_name,
            reason,
        } => {
            assert_eq!(s, &stream);
            assert_eq!((*stream_position, *global_position), (2, 2));
            assert_eq!(type_name, "Conformance.CfBookAdded.v1");
            assert!(reason.contains("integer `42`"), "{reason}");
        }
        other => panic!("expected UnreadableEvent, got {other}"),
    }
    let message = malformed.to_string();
    assert!(
        message.contains(&stream) && message.contains("position 2"),
        "{message}"
    );

    let unknown = domain.event_store().read_all(2, 1).await.unwrap_err();
    assert!(
        matches!(&unknown, Error::UnreadableEvent { type_name, global_position: 3, .. }
            if type_name == "Conformance.Vanished.v1"),
        "{unknown}"
    );
    assert!(unknown.to_string().contains("Vanished"), "{unknown}");
    // The readable row is still readable.
    assert_eq!(domain.event_store().read_all(0, 1).await.unwrap().len(), 1);
}

/// Asserts that `result` is the [`Error::UnreadableAggregate`] of the `CfBook` row `id`, and
/// returns its reason.
fn unreadable_book<T: std::fmt::Debug>(result: Result<T>, id: &Identifier) -> String {
    match result {
        Err(Error::UnreadableAggregate {
            aggregate,
            id: row,
            reason,
        }) => {
            assert_eq!(
                (aggregate, row.as_str()),
                ("CfBook", id.to_string().as_str())
            );
            reason
        }
        other => panic!("expected UnreadableAggregate of CfBook `{id}`, got {other:?}"),
    }
}

async fn an_undecodable_aggregate_row_fails_only_its_reads(db: TestDb) {
    let domain = db.domain().await;
    let repo = domain.repository::<CfBook>();
    let mut ids = Vec::new();
    for title in ["alpha", "broken", "gamma", "wrong"] {
        let b = book(title, 2000, 1.0);
        ids.push(b.id());
        repo.add(b).await.unwrap();
    }
    let (alpha, broken, wrong) = (&ids[0], &ids[1], &ids[3]);
    // `price` is an f64: `null` does not decode; `year` is an i64: a string does not either.
    let (null_price, text_year) = match db.backend {
        Backend::Postgres => (
            "jsonb_set(data, '{price}', 'null'::jsonb)",
            "jsonb_set(data, '{year}', '\"x\"'::jsonb)",
        ),
        _ => (
            "json_set(data, '$.price', json('null'))",
            "json_set(data, '$.year', 'x')",
        ),
    };
    for (set, id) in [(null_price, broken), (text_year, wrong)] {
        let changed = db
            .raw_sql(&format!(
                "UPDATE aggregates SET data = {set} WHERE id = '{id}'"
            ))
            .await;
        assert_eq!(changed, 1);
    }

    let reason = unreadable_book(repo.get(broken).await, broken);
    assert!(reason.contains("null"), "{reason}");
    let reason = unreadable_book(repo.get(wrong).await, wrong);
    assert!(reason.contains("\"x\""), "{reason}");
    let message = repo.get(broken).await.unwrap_err().to_string();
    assert!(
        message.contains("CfBook") && message.contains(&broken.to_string()),
        "{message}"
    );
    // Reads whose result does not hold a bad row are unaffected.
    assert_eq!(repo.get(alpha).await.unwrap().title, "alpha");
    assert_eq!(repo.query().count().await.unwrap(), 4);
    let good = repo
        .query()
        .filter(CfBook::TITLE.is_in(["alpha", "gamma"]))
        .order_by(CfBook::TITLE.asc())
        .all()
        .await
        .unwrap();
    assert_eq!(
        (titles(good.items), good.total),
        (vec!["alpha".into(), "gamma".into()], 2)
    );
    let page = repo
        .query()
        .order_by(CfBook::TITLE.asc())
        .offset(2)
        .limit(1)
        .all()
        .await
        .unwrap();
    assert_eq!((titles(page.items), page.total), (vec!["gamma".into()], 4));
    assert_eq!(
        repo.find_by(CfBook::TITLE.eq("alpha")).await.unwrap().id(),
        *alpha
    );
    // Reads whose result holds one fail, naming it.
    unreadable_book(
        repo.query().filter(CfBook::TITLE.eq("broken")).all().await,
        broken,
    );
    unreadable_book(repo.find_by(CfBook::TITLE.eq("wrong")).await, wrong);
    unreadable_book(
        repo.query()
            .order_by(CfBook::TITLE.asc())
            .offset(1)
            .limit(1)
            .all()
            .await,
        broken,
    );
    let all = repo.query().all().await.unwrap_err();
    assert!(
        matches!(&all, Error::UnreadableAggregate { id, .. }
            if *id == broken.to_string() || *id == wrong.to_string()),
        "{all}"
    );
}

/// Integers the store reads back (versions, positions, attempts, the schema version) that do
/// not fit their Rust type are errors naming the row, never wrapped into huge values.
async fn out_of_range_integers_are_errors_naming_the_row(db: TestDb) {
    let domain = db.domain().await;
    let b = book("Love and Freindship", 1790, 2.0);
    let book_id = b.id();
    domain.repository::<CfBook>().add(b).await.unwrap();
    let counter = CfCounter::builder().hits(0).build().unwrap();
    let counter_id = counter.id();
    domain.repository::<CfCounter>().add(counter).await.unwrap();
    domain
        .process(CfHitCounter {
            counter_id: counter_id.clone(),
        })
        .await
        .unwrap(); // event 1
    let switch = CfSwitch::builder().broken(true).build().unwrap();
    domain.repository::<CfSwitch>().add(switch).await.unwrap();
    let _ = domain
        .process(CfAddBook {
            title: "The Watsons".into(),
            then_fail: false,
        })
        .await
        .unwrap_err(); // event 2, and a failed delivery of it
    let delivery = domain.failed_deliveries().await.unwrap()[0].id;

    // An aggregate's version.
    db.raw_sql(&format!(
        "UPDATE aggregates SET version = -1 WHERE id = '{book_id}'"
    ))
    .await;
    let reason = unreadable_book(domain.repository::<CfBook>().get(&book_id).await, &book_id);
    assert!(reason.contains("-1"), "{reason}");
    unreadable_book(domain.repository::<CfBook>().query().all().await, &book_id);

    // An aggregate's last stream position, read back by the commit that appends to it: the
    // commit fails and writes nothing.
    db.raw_sql(&format!(
        "UPDATE aggregates SET stream_position = -5 WHERE id = '{counter_id}'"
    ))
    .await;
    let err = domain
        .process(CfHitCounter {
            counter_id: counter_id.clone(),
        })
        .await
        .unwrap_err();
    match &err {
        Error::UnreadableAggregate {
            aggregate,
            id,
            reason,
        } => {
            assert_eq!(
                (*aggregate, id.as_str()),
                ("CfCounter", counter_id.to_string().as_str())
            );
            assert!(reason.contains("-5"), "{reason}");
        }
        other => panic!("expected UnreadableAggregate, got {other}"),
    }
    assert_eq!(domain.event_store().last_position().await.unwrap(), 2);
    let counter = domain
        .repository::<CfCounter>()
        .get(&counter_id)
        .await
        .unwrap();
    assert_eq!((counter.hits, counter.version()), (1, 2));

    // An event's stream position.
    db.raw_sql("UPDATE events SET stream_position = -1 WHERE global_position = 1")
        .await;
    let err = domain.event_store().read_all(0, 1).await.unwrap_err();
    assert!(
        matches!(&err, Error::UnreadableEvent { global_position: 1, reason, .. } if reason.contains("-1")),
        "{err}"
    );
    assert_eq!(domain.event_store().read_all(1, 10).await.unwrap().len(), 1);

    // A failed delivery's attempts, below zero and past u32.
    for attempts in ["-1", "5000000000"] {
        db.raw_sql(&format!(
            "UPDATE failed_deliveries SET attempts = {attempts}"
        ))
        .await;
        let err = domain.failed_deliveries().await.unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, Error::Store(_))
                && message.contains(&delivery.to_string())
                && message.contains(attempts),
            "{message}"
        );
    }

    // The global position counter: read, and reserved from by a commit (which writes nothing).
    db.raw_sql("UPDATE event_position SET last = -10").await;
    let err = domain.event_store().last_position().await.unwrap_err();
    assert!(err.to_string().contains("-10"), "{err}");
    let err = domain
        .process(CfAddBook {
            title: "Catharine".into(),
            then_fail: false,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Store(_)) && err.to_string().contains("event_position"),
        "{err}"
    );
    assert_eq!(
        domain.repository::<CfBook>().query().count().await.unwrap(),
        2
    );
    drop(domain);

    // The schema version.
    db.raw_sql("UPDATE schema_version SET version = -1").await;
    let err = Domain::builder("Conformance")
        .database(&db.url)
        .open()
        .await
        .err()
        .expect("a negative schema version must be refused");
    assert!(
        matches!(err, Error::Store(_)) && err.to_string().contains("-1"),
        "{err}"
    );
}

/// Store errors say what was being done: a failed write must not be labelled as a read.
async fn a_failed_write_says_it_was_writing(db: TestDb) {
    let domain = db.domain().await;
    db.raw_sql("ALTER TABLE aggregates RENAME TO aggregates_elsewhere")
        .await;
    let err = domain
        .repository::<CfCounter>()
        .add(CfCounter::builder().hits(1).build().unwrap())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("store error: writing") && !message.contains("reading"),
        "{message}"
    );
}

async fn commands_are_recorded_with_their_changes(db: TestDb) {
    let domain = db.domain().await;
    domain
        .process(CfAddBook {
            title: "Juvenilia".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    let _ = domain
        .process(CfAddBook {
            title: "rolled back".into(),
            then_fail: true,
        })
        .await
        .unwrap_err();
    let rows: Vec<(String, String)> = match db.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query_as("SELECT type_name, data FROM commands")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query_as("SELECT type_name, data::text FROM commands")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        rows.len(),
        1,
        "the failed command's record must roll back: {rows:?}"
    );
    assert_eq!(rows[0].0, "Conformance.CfAddBook.v1");
    let payload: serde_json::Value = serde_json::from_str(&rows[0].1).unwrap();
    assert_eq!(payload["title"], "Juvenilia");
}

/// A database written before the command log was readable (schema version 1: `commands` without
/// `position` or `origin_stream`, no `command_position`) is migrated on open: its commands are
/// numbered 1..n in the order they were recorded, and new commands continue after them.
async fn the_command_log_migration_numbers_existing_commands(db: TestDb) {
    let domain = db.domain().await;
    for title in ["Emma", "Persuasion"] {
        domain
            .process(CfAddBook {
                title: title.into(),
                then_fail: false,
            })
            .await
            .unwrap();
    }
    domain
        .process(CfAddSeries {
            titles: vec!["Sanditon".into()],
            then_fail: false,
        })
        .await
        .unwrap();
    drop(domain);

    // Back to version 1's layout, rows kept.
    let json = if db.backend == Backend::Postgres {
        "JSONB"
    } else {
        "TEXT"
    };
    for sql in [
        format!(
            "CREATE TABLE commands_v1 (id TEXT PRIMARY KEY, type_name TEXT NOT NULL, \
             stream TEXT NOT NULL, data {json} NOT NULL, correlation_id TEXT NOT NULL, \
             causation_id TEXT, recorded_at BIGINT NOT NULL)"
        ),
        "INSERT INTO commands_v1 SELECT id, type_name, stream, data, correlation_id, \
         causation_id, recorded_at FROM commands"
            .into(),
        "DROP TABLE commands".into(),
        "DROP TABLE command_position".into(),
        "ALTER TABLE commands_v1 RENAME TO commands".into(),
        // Version 3's retry claims are not part of version 1 either.
        "ALTER TABLE failed_deliveries DROP COLUMN claimed_by".into(),
        "ALTER TABLE failed_deliveries DROP COLUMN claimed_until".into(),
        // Nor are version 4's subscriptions and dead-letter states.
        "DROP INDEX failed_deliveries_by_delivery".into(),
        "DROP TABLE subscriptions".into(),
        "ALTER TABLE failed_deliveries DROP COLUMN blocked_by".into(),
        "ALTER TABLE failed_deliveries DROP COLUMN skipped_by".into(),
        "ALTER TABLE failed_deliveries DROP COLUMN skip_reason".into(),
        "ALTER TABLE failed_deliveries DROP COLUMN skipped_at".into(),
        "UPDATE schema_version SET version = 1".into(),
    ] {
        db.raw_sql(&sql).await;
    }

    let domain = db.domain().await;
    let log = domain.command_log();
    let records = log.read_all(0, 100).await.unwrap();
    let positions: Vec<u64> = records.iter().map(|r| r.position()).collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    assert_eq!(log.last_position().await.unwrap(), 4);
    // Version 1 kept no commit order: recording order (the time each command was created, so a
    // command before the ones it processed) is the best there is.
    let times: Vec<_> = records.iter().map(|r| r.metadata().timestamp).collect();
    assert!(times.is_sorted(), "{records:?}");
    assert_eq!(records[0].decode::<CfAddBook>().unwrap().title, "Emma");
    assert_eq!(
        records[1].decode::<CfAddBook>().unwrap().title,
        "Persuasion"
    );
    assert!(records[2].is::<CfAddSeries>() && records[3].is::<CfAddBook>());
    // The origin stream is known for commands that started their chain.
    for record in &records {
        let meta = record.metadata();
        let expected = meta.causation_id.is_none().then(|| meta.stream.clone());
        assert_eq!(meta.origin_stream, expected, "{record:?}");
    }
    let series = records[2].metadata().stream.clone();
    assert_eq!(log.read_stream(&series).await.unwrap().len(), 1);

    domain
        .process(CfAddBook {
            title: "Lady Susan".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    let next = log.read_all(4, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].position(), 5);
    assert_eq!(
        next[0].metadata().origin_stream.as_deref(),
        Some(next[0].metadata().stream.as_ref())
    );
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let err = Domain::builder("Conformance")
        .database("postgres://nobody:secret@127.0.0.1:1/nowhere")
        .open()
        .await
        .err()
        .expect("nothing listens on port 1");
    let message = err.to_string();
    assert!(message.contains("cannot open"), "{message}");
    assert!(
        !message.contains("secret"),
        "the password leaked: {message}"
    );

    let err = Domain::builder("Conformance")
        .database("sqlite:///nonexistent-directory/sub/x.db")
        .open()
        .await
        .err()
        .expect("the directory does not exist");
    assert!(err.to_string().contains("cannot open"), "{err}");
}

/// Events are facts: one stored before a validation rule existed (here a title longer than the
/// `max_length` added since) still reads back, by stream and by category.
async fn stored_events_stay_readable_when_validation_rules_tighten(db: TestDb) {
    let domain = db.domain().await;
    domain
        .process(CfAddBook {
            title: "Lady Susan".into(),
            then_fail: false,
        })
        .await
        .unwrap();
    let long = "x".repeat(50);
    let data = if db.backend == Backend::Postgres {
        format!("'{{\"title\": \"{long}\"}}'::jsonb")
    } else {
        format!("'{{\"title\": \"{long}\"}}'")
    };
    let changed = db
        .raw_sql(&format!(
            "UPDATE events SET data = {data} WHERE type_name = 'Conformance.CfBookAdded.v1'"
        ))
        .await;
    assert_eq!(changed, 1);
    let events = domain
        .event_store()
        .read_category("cf_book", 0, 10)
        .await
        .unwrap();
    let added = events
        .iter()
        .find_map(|e| e.downcast_ref::<CfBookAdded>())
        .expect("the old event reads back");
    assert_eq!(added.title, long);
    // From outside, the same payload is refused: input is validated, history is not.
    let outside = format!(r#"{{"title": "{long}"}}"#);
    assert!(matches!(
        domain
            .event_store()
            .decode("Conformance.CfBookAdded.v1", &outside),
        Err(Error::Malformed { .. })
    ));
}
