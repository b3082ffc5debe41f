//! The crash harness: a child process (`src/bin/crash_child.rs`) runs commands in a loop on a
//! durable store and is killed with SIGKILL at a random moment, again and again; each restart
//! delivers what the kill interrupted. At the end every committed book must have exactly one
//! receipt: none means a reaction was lost, two means a store-writing reaction ran twice.
//!
//! Each store runs in both event-processing modes: sync (the committing task delivers) and async
//! (an engine task in the child delivers; the check settles what is left); and in `submit`
//! mode, async with the commands submitted and run by the engine too. Every command in the
//! command log must also have made exactly one book: none means a submitted command was lost,
//! two means a command ran twice.
//!
//! `CRASH_KILLS` sets the kills per store and mode (20 by default; the figures use 100).
//! `CRASH_SEED` replays a run's random kill times (each run prints its seed). PostgreSQL runs
//! when `DOMAIN_TEST_POSTGRES_URL` is set, and is skipped (saying so) otherwise.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::AssertSqlSafe;

const CHILD: &str = env!("CARGO_BIN_EXE_crash_child");

/// A small deterministic generator for kill delays (xorshift64*).
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}

fn kills() -> usize {
    std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20)
}

fn seed() -> u64 {
    std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

/// The child for `mode` (`sync`, `async`, or `submit`: async with submitted commands).
fn child(mode: &str) -> Command {
    let mut command = Command::new(CHILD);
    match mode {
        "submit" => command
            .env("DOMAIN_EVENT_PROCESSING", "async")
            .env("CRASH_COMMANDS", "submit"),
        mode => command.env("DOMAIN_EVENT_PROCESSING", mode),
    };
    command
}

/// Starts the child in `run` mode and waits until it has opened the domain (and so delivered
/// what the previous run left).
fn start(url: &str, mode: &str) -> Child {
    let mut child = child(mode)
        .args([url, "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the crash child");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the child did not open the domain");
    child
}

/// Runs `check`: its output, or `None` if the child died.
fn try_check(url: &str, mode: &str) -> Option<String> {
    let output = child(mode)
        .args([url, "check"])
        .stderr(Stdio::null())
        .output()
        .expect("running the crash check");
    output
        .status
        .success()
        .then(|| String::from_utf8(output.stdout).unwrap())
}

/// What `check` reports: (books, receipts, lost, doubled, dead letters, commands lost, commands
/// doubled), and its whole text.
type Counts = (usize, usize, usize, usize, usize, usize, usize);

fn check(url: &str, mode: &str) -> (Counts, String) {
    let text = try_check(url, mode).expect("the check failed");
    let field = |name: &str| -> usize {
        text.split_whitespace()
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no `{name}` in `{text}`"))
    };
    let counts = (
        field("books"),
        field("receipts"),
        field("lost"),
        field("doubled"),
        field("dead"),
        field("commands_lost"),
        field("commands_doubled"),
    );
    (counts, text)
}

/// Kills the child `kills()` times at random moments, then checks the store.
fn harness(store: &str, mode: &str, url: &str) {
    let seed = seed();
    let mut random = Random(seed);
    let kills = kills();
    let started = Instant::now();
    for _ in 0..kills {
        let mut child = start(url, mode);
        // Most kills land mid-command: the child commits a few hundred times a second.
        std::thread::sleep(Duration::from_millis(10 + random.below(240)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let ((books, receipts, lost, doubled, dead, commands_lost, commands_doubled), text) =
        check(url, mode);
    println!(
        "crash harness on {store}, {mode} mode: {kills} kills in {:.1} s (seed {seed}): {books} books, \
         {receipts} receipts, {lost} lost, {doubled} doubled, {dead} dead letters, \
         {commands_lost} commands lost, {commands_doubled} commands run twice",
        started.elapsed().as_secs_f64()
    );
    assert!(books > 0, "the child committed nothing in {kills} runs");
    assert_eq!(
        (lost, doubled, dead, commands_lost, commands_doubled),
        (0, 0, 0, 0, 0),
        "reactions or commands lost, doubled or failed (seed {seed}): {text}"
    );
    assert_eq!(receipts, books);
}

/// Runs the child's `poison` run (`poison` or `poison-command`), which must stop the process,
/// then checks until a start survives: how many starts the poison stopped after the first
/// crash, and the surviving check's report.
fn starts_stopped_by(url: &str, mode: &str, poison: &str) -> (usize, String) {
    let status = child(mode)
        .args([url, poison])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "the {poison} run did not stop the process"
    );
    let mut failed_starts = 0;
    loop {
        if let Some(text) = try_check(url, mode) {
            return (failed_starts, text);
        }
        failed_starts += 1;
        assert!(failed_starts < 10, "the {poison} run stops every start");
    }
}

/// A poison event (its handler aborts the process) stops each start until the attempts counted
/// before the handler runs pass [`domain_core::POISON_LIMIT`]; then it is parked without running
/// and the next start opens.
fn poison(url: &str, mode: &str) {
    let (failed_starts, text) = starts_stopped_by(url, mode, "poison");
    println!(
        "poison event, {mode} mode: {failed_starts} starts stopped after the first crash; {text}"
    );
    // The first crash, then each start until the limit is passed.
    assert_eq!(failed_starts + 1, domain_core::POISON_LIMIT as usize);
    assert!(text.contains("dead=1"), "{text}");
    assert!(text.contains("stopped the process 3 times"), "{text}");
}

/// A poison command (its handler aborts the process) submitted for the engine: each start that
/// runs it stops, until the attempts counted before its handler runs pass the command retry
/// policy's five; then it is failed without running, and the next start opens.
#[test]
fn a_poison_command_is_failed_after_it_stops_the_process_five_times() {
    let (dir, url) = sqlite_file("poison-command");
    let (failed_starts, text) = starts_stopped_by(&url, "submit", "poison-command");
    println!("poison command: {failed_starts} starts stopped after the first crash; {text}");
    assert_eq!(failed_starts + 1, 5);
    assert!(text.contains("dead=1"), "{text}");
    assert!(text.contains("stopped the process"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn sqlite_file(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("domain-crash-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("crash.db");
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite://{}", file.display());
    (dir, url)
}

fn sqlite(mode: &str) {
    let (dir, url) = sqlite_file(mode);
    harness("SQLite", mode, &url);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_poison_event_is_parked_after_it_stops_the_process_three_times_in_sync_mode() {
    let (dir, url) = sqlite_file("poison-sync");
    poison(&url, "sync");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_poison_event_is_parked_after_it_stops_the_process_three_times_in_async_mode() {
    let (dir, url) = sqlite_file("poison-async");
    poison(&url, "async");
    let _ = std::fs::remove_dir_all(&dir);
}

fn postgres(mode: &str) {
    let Ok(server) = std::env::var("DOMAIN_TEST_POSTGRES_URL") else {
        println!("skipped: the PostgreSQL crash harness needs DOMAIN_TEST_POSTGRES_URL");
        return;
    };
    let schema = format!("crash_harness_{mode}");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::PgPool::connect(&server).await.unwrap();
        for ddl in [
            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
            format!("CREATE SCHEMA {schema}"),
        ] {
            sqlx::query(AssertSqlSafe(ddl))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    });
    let joiner = if server.contains('?') { '&' } else { '?' };
    harness(
        "PostgreSQL",
        mode,
        &format!("{server}{joiner}options=-c%20search_path%3D{schema}"),
    );
}

#[test]
fn sigkill_in_sync_mode_loses_no_reaction_and_doubles_none_on_sqlite() {
    sqlite("sync");
}

#[test]
fn sigkill_in_async_mode_loses_no_reaction_and_doubles_none_on_sqlite() {
    sqlite("async");
}

#[test]
fn sigkill_with_submitted_commands_loses_none_and_runs_none_twice_on_sqlite() {
    sqlite("submit");
}

#[test]
fn sigkill_with_submitted_commands_loses_none_and_runs_none_twice_on_postgres() {
    postgres("submit");
}

#[test]
fn sigkill_in_sync_mode_loses_no_reaction_and_doubles_none_on_postgres() {
    postgres("sync");
}

#[test]
fn sigkill_in_async_mode_loses_no_reaction_and_doubles_none_on_postgres() {
    postgres("async");
}
