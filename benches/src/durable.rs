//! The durable scenarios: the bookshelf flow on SQLite and PostgreSQL, against raw sqlx code
//! writing the same rows, and the per-command cost as the tables grow.
//!
//! SQLite runs on a file in the temporary directory. PostgreSQL runs on the server named by
//! `DOMAIN_BENCH_POSTGRES_URL` (else `DOMAIN_TEST_POSTGRES_URL`), in a schema of its own that is
//! dropped and recreated first; without either variable the PostgreSQL rows say they were skipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain_core::Domain;
use sqlx::{AssertSqlSafe, Executor};

use crate::chart::Series;
use crate::domain;
use crate::measure::{Row, Samples};
use raw::Commits;

/// Where a durable scenario runs.
#[derive(Clone, Copy, PartialEq)]
pub enum Database {
    Sqlite,
    Postgres,
}

impl Database {
    pub fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }

    /// A URL to a fresh, empty database for `label`, or `None` if PostgreSQL is not configured.
    async fn fresh(self, label: &str) -> Option<String> {
        match self {
            Database::Sqlite => {
                let file = std::env::temp_dir()
                    .join(format!("domain-bench-{}-{label}.db", std::process::id()));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                Some(format!("sqlite://{}", file.display()))
            }
            Database::Postgres => {
                let server = std::env::var("DOMAIN_BENCH_POSTGRES_URL")
                    .or_else(|_| std::env::var("DOMAIN_TEST_POSTGRES_URL"))
                    .ok()?;
                let schema = format!("bench_{}", label.replace('-', "_"));
                let pool = sqlx::PgPool::connect(&server)
                    .await
                    .expect("the PostgreSQL benchmark server accepts connections");
                for ddl in [
                    format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                    format!("CREATE SCHEMA {schema}"),
                ] {
                    pool.execute(AssertSqlSafe(ddl))
                        .await
                        .expect("schema reset");
                }
                pool.close().await;
                let joiner = if server.contains('?') { '&' } else { '?' };
                Some(format!(
                    "{server}{joiner}options=-c%20search_path%3D{schema}"
                ))
            }
        }
    }
}

async fn open_domain(url: &str) -> Domain {
    Domain::builder("Bench")
        .database(url)
        .open()
        .await
        .expect("the benchmark database opens")
}

fn skipped(name: &str) -> Vec<Row> {
    vec![Row::note(
        name,
        "skipped: set DOMAIN_BENCH_POSTGRES_URL or DOMAIN_TEST_POSTGRES_URL",
    )]
}

/// Async mode's command path with `clients` concurrent clients (no engine runs), against raw sqlx
/// writing the command's rows (book, command record, event) in one transaction each.
pub async fn async_clients(database: Database, n: usize, clients: usize) -> Vec<Row> {
    let name = format!("{}-async-command", database.name());
    let (Some(framework_url), Some(raw_url)) = (
        database.fresh(&format!("{name}-clients-framework")).await,
        database.fresh(&format!("{name}-clients-raw")).await,
    ) else {
        return skipped(&name);
    };
    let domain = open_async_domain(&framework_url).await;
    drop(open_domain(&raw_url).await);
    let raw = Arc::new(raw::Writer::connect(database, &raw_url).await);
    let mut rows = Vec::new();
    for round in 0..2 {
        let label = format!("{name} x{clients} clients, round {round}");
        rows.extend(clients_against_raw(&domain, &raw, clients, n, round * n, &label).await);
    }
    rows
}

/// `n` bookshelf commands (books `first..first + n`) from `clients` concurrent clients: raw sqlx
/// in one transaction each, then the framework; a row for each, the framework's against raw.
async fn clients_against_raw(
    domain: &Domain,
    raw: &Arc<raw::Writer>,
    clients: usize,
    n: usize,
    first: usize,
    label: &str,
) -> [Row; 2] {
    let (manual, manual_wall) = concurrently(clients, n, {
        let raw = raw.clone();
        move |i| {
            let raw = raw.clone();
            async move { raw.add_book(first + i, Commits::One).await }
        }
    })
    .await;
    let (framework, framework_wall) = concurrently(clients, n, {
        let domain = domain.clone();
        move |i| {
            let domain = domain.clone();
            async move {
                domain
                    .process(domain::add_book(first + i))
                    .await
                    .expect("command succeeds");
            }
        }
    })
    .await;
    [
        Row::concurrent(&format!("{label} (raw sqlx)"), &manual, manual_wall, None),
        Row::concurrent(label, &framework, framework_wall, Some(manual_wall)),
    ]
}

/// `n` bookshelf commands one after another, framework vs the raw driver; for PostgreSQL also
/// with `clients` concurrent clients.
pub async fn command(database: Database, n: usize, clients: usize) -> Vec<Row> {
    let name = format!("{}-command", database.name());
    let (Some(framework_url), Some(raw_url)) = (
        database.fresh(&format!("{name}-framework")).await,
        database.fresh(&format!("{name}-raw")).await,
    ) else {
        return skipped(&name);
    };
    let domain = open_domain(&framework_url).await;
    // The raw side writes into the same schema the framework created, so both write identical rows.
    let raw_domain = open_domain(&raw_url).await;
    drop(raw_domain);
    let raw = raw::Writer::connect(database, &raw_url).await;

    let mut manual = Samples::with_capacity(n);
    for i in 0..n {
        manual.time_async(|| raw.add_book(i, Commits::One)).await;
    }
    let mut manual_two = Samples::with_capacity(n);
    for i in 0..n {
        manual_two
            .time_async(|| raw.add_book(n * 3 + i, Commits::Two))
            .await;
    }
    let mut framework = Samples::with_capacity(n);
    for i in 0..n {
        framework
            .time_async(|| domain.process(domain::add_book(i)))
            .await
            .expect("command succeeds");
    }
    assert_eq!(domain::inventory_count(&domain).await, n);
    assert_eq!(raw.inventories().await, 2 * n);
    let mut rows = vec![
        Row::new(&format!("{name} (raw sqlx, 1 tx)"), &manual, None),
        Row::new(
            &format!("{name} (raw sqlx, 2 tx)"),
            &manual_two,
            Some(&manual),
        ),
        Row::new(&name, &framework, Some(&manual)),
        Row::new(
            &format!("{name}, ratio to raw 2 tx"),
            &framework,
            Some(&manual_two),
        ),
    ];

    if clients > 1 {
        let raw = Arc::new(raw);
        let label = format!("{name} x{clients} clients");
        rows.extend(clients_against_raw(&domain, &raw, clients, n, n, &label).await);
    }
    rows
}

/// Async mode on `database`: (1) the command path, `n` commands that return after their own
/// commit, against raw sqlx writing the command's rows (book, command record, event) in one
/// transaction; (2) the engine delivering those `n` events (a transaction each: the inventory
/// row and the checkpoint), against a hand-written loop reading the same events by page and
/// writing the same rows; (3) commit-to-handler latency with the engine running, one command
/// at a time.
pub async fn async_mode(database: Database, n: usize) -> Vec<Row> {
    let name = format!("{}-async", database.name());
    let (Some(framework_url), Some(raw_url)) = (
        database.fresh(&format!("{name}-framework")).await,
        database.fresh(&format!("{name}-raw")).await,
    ) else {
        return skipped(&name);
    };
    let domain = Domain::builder("Bench")
        .event_processing(domain_core::EventProcessing::Async)
        .database(&framework_url)
        .open()
        .await
        .expect("the benchmark database opens");
    drop(open_domain(&raw_url).await);
    let raw = raw::Writer::connect(database, &raw_url).await;

    // (1) The command path: nothing delivers meanwhile (no engine runs).
    let mut manual = Samples::with_capacity(n);
    for i in 0..n {
        manual
            .time_async(|| raw.add_book(i, Commits::CommandOnly))
            .await;
    }
    let mut framework = Samples::with_capacity(n);
    for i in 0..n {
        framework
            .time_async(|| domain.process(domain::add_book(i)))
            .await
            .expect("command succeeds");
    }
    let mut rows = vec![
        Row::new(
            &format!("{name} command path (raw sqlx, 1 tx)"),
            &manual,
            None,
        ),
        Row::new(&format!("{name} command path"), &framework, Some(&manual)),
    ];

    // (2) Delivering the backlog of `n` events.
    let (manual, engine) = deliver_backlogs(&domain, &raw, n).await;
    rows.extend(delivery_rows(&name, n, &manual, &engine));

    // (3) Commit-to-handler latency, the engine running in the background.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let engine = domain.engine();
        async move {
            engine
                .run_until(async {
                    stopped.await.ok();
                })
                .await
        }
    });
    domain::REACTIONS_TIMED.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut latency = Samples::with_capacity(n / 4);
    for i in 0..n / 4 {
        let command = domain::add_book(n + i);
        let title = command.title.clone();
        domain.process(command).await.expect("command succeeds");
        let committed = Instant::now();
        let reacted = loop {
            let found = domain::REACTED
                .lock()
                .unwrap()
                .iter()
                .find(|(t, _)| *t == title)
                .map(|(_, at)| *at);
            match found {
                Some(at) => break at,
                None => tokio::time::sleep(Duration::from_micros(50)).await,
            }
        };
        domain::REACTED.lock().unwrap().clear();
        latency.push(reacted.saturating_duration_since(committed));
    }
    domain::REACTIONS_TIMED.store(false, std::sync::atomic::Ordering::Relaxed);
    stop.send(()).ok();
    running.await.expect("engine task").expect("engine stops");
    rows.push(Row::new(
        &format!("{name} commit-to-handler latency (engine running)"),
        &latency,
        None,
    ));
    rows
}

/// How long each side delivers before the other takes its turn, in [`deliver_backlogs`].
const SLICE: Duration = Duration::from_secs(2);

/// One side's turns at delivering a backlog: wall-clock time, and this process's CPU time.
#[derive(Default)]
struct Turns {
    wall: Duration,
    user: Duration,
    system: Duration,
}

impl Turns {
    /// Runs one turn, `delivery`, adding up its wall-clock and CPU time.
    async fn take<T>(&mut self, delivery: impl std::future::Future<Output = T>) -> T {
        let (user, system) = crate::measure::cpu_time();
        let started = Instant::now();
        let output = delivery.await;
        self.wall += started.elapsed();
        let (user_after, system_after) = crate::measure::cpu_time();
        self.user += user_after.saturating_sub(user);
        self.system += system_after.saturating_sub(system);
        output
    }
}

/// Times two deliveries of a backlog of `n` events, each in its own database: the hand-written
/// loop ([`raw::Writer::deliver_backlog`]) on `raw`'s, and the engine ([`Domain::engine`]) on
/// `domain`'s. The two take turns of [`SLICE`] each, the loop first, until both have delivered
/// the whole backlog, so that a neighbour loading the machine for a while slows both alike; the
/// engine is stopped at the end of each turn (it finishes the delivery in progress) and started
/// again at its next. Returns each side's turns (loop, engine).
async fn deliver_backlogs(domain: &Domain, raw: &raw::Writer, n: usize) -> (Turns, Turns) {
    use std::sync::atomic::Ordering::Relaxed;
    let engine = domain.engine();
    let (mut manual, mut engine_turns) = (Turns::default(), Turns::default());
    let mut manual_done = 0;
    let first = domain::STOCKED.load(Relaxed);
    let engine_done = || domain::STOCKED.load(Relaxed) - first;
    domain::STOCKED_GOAL.store(first + n, Relaxed);
    while manual_done < n || engine_done() < n {
        if manual_done < n {
            let until = Instant::now() + SLICE;
            manual_done += manual.take(raw.deliver_backlog(until)).await;
        }
        if engine_done() < n {
            // The turn ends after a slice, or once the handler has seen the backlog's last event
            // (a timer polling for it instead cost the engine's side 10-20 µs of CPU per event).
            let turn_over = async {
                tokio::select! {
                    () = tokio::time::sleep(SLICE) => {}
                    () = domain::STOCKED_GOAL_REACHED.notified() => {}
                }
            };
            engine_turns
                .take(engine.run_until(turn_over))
                .await
                .expect("the engine stops");
        }
    }
    domain::STOCKED_GOAL.store(usize::MAX, Relaxed);
    assert_eq!(manual_done, n, "the loop delivered the whole backlog");
    assert_eq!(raw.inventories().await, n);
    assert_eq!(engine_done(), n);
    assert_eq!(
        domain::inventory_count(domain).await,
        n,
        "the engine delivered the whole backlog"
    );
    (manual, engine_turns)
}

fn delivery_rows(name: &str, n: usize, manual: &Turns, engine: &Turns) -> Vec<Row> {
    vec![
        Row::batch(
            &format!("{name} delivery of {n} events (hand-written loop)"),
            n,
            manual.wall,
            None,
        ),
        Row::batch(
            &format!("{name} delivery of {n} events by the engine"),
            n,
            engine.wall,
            Some(manual.wall),
        ),
    ]
}

/// Books per command when filling a backlog (one commit each).
const FILL_BATCH: usize = 500;

/// The engine delivering a backlog of `n` `BookAdded` events to the bench's event handler, which
/// writes one row (an `Inventory`) per event: one transaction per event, holding that row and the
/// subscription's checkpoint, as in [`async_mode`] but at the size. Baseline: the
/// hand-written loop reading the same events by page of 256 and writing the same rows in the
/// same transactions.
///
/// Setup, not measured: each side's backlog is written by the framework in async mode with no
/// engine running, [`FILL_BATCH`] books to a command, into a database of its own; so both sides
/// read identical events (and on PostgreSQL, `VACUUM ANALYZE` then runs on both sides' tables).
pub async fn engine(database: Database, n: usize) -> Vec<Row> {
    let name = format!("{}-engine", database.name());
    let (Some(framework_url), Some(raw_url)) = (
        database.fresh(&format!("{name}-framework")).await,
        database.fresh(&format!("{name}-raw")).await,
    ) else {
        return skipped(&name);
    };
    let setup = Instant::now();
    let domain = open_async_domain(&framework_url).await;
    domain::fill_backlog(&domain, n, FILL_BATCH).await;
    let raw_domain = open_async_domain(&raw_url).await;
    domain::fill_backlog(&raw_domain, n, FILL_BATCH).await;
    drop(raw_domain);
    let raw = raw::Writer::connect(database, &raw_url).await;
    let framework_tables = raw::Writer::connect(database, &framework_url).await;
    framework_tables.prepare_to_read().await;
    framework_tables.close().await;
    raw.prepare_to_read().await;
    let setup = setup.elapsed();

    let (manual, engine) = deliver_backlogs(&domain, &raw, n).await;
    raw.close().await;
    drop(domain);
    // A SQLite backlog of 100,000 events is about 90 MB a side: not left in the temp directory.
    for url in [&framework_url, &raw_url] {
        if let Some(file) = url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{file}{suffix}"));
            }
        }
    }
    let mut rows = vec![Row::note(
        &format!("{name} setup: a backlog of {n} events on each side"),
        &format!("{:.1} s, not measured", setup.as_secs_f64()),
    )];
    rows.extend(delivery_rows(&name, n, &manual, &engine));
    rows.push(Row::note(
        &format!("{name}: the engine vs the hand-written loop"),
        &format!(
            "{:.2}x the loop's throughput (target >= 0.8)",
            manual.wall.as_secs_f64() / engine.wall.as_secs_f64()
        ),
    ));
    // This process's CPU per event (the database server's is not in it): user + system.
    let per_event = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    rows.push(Row::note(
        &format!("{name}: client CPU per event, user + system"),
        &format!(
            "loop {:.0} + {:.0} µs, engine {:.0} + {:.0} µs",
            per_event(manual.user),
            per_event(manual.system),
            per_event(engine.user),
            per_event(engine.system)
        ),
    ));
    rows
}

async fn open_async_domain(url: &str) -> Domain {
    Domain::builder("Bench")
        .event_processing(domain_core::EventProcessing::Async)
        .database(url)
        .open()
        .await
        .expect("the benchmark database opens")
}

/// The bookshelf flow from `clients` concurrent PostgreSQL clients on three systems: raw sqlx
/// writing the rows in one transaction per command (the baseline of `postgres-command`'s clients
/// rows), the framework (sync mode: the command's transaction, then the reaction's), and cqrs-es
/// 0.5 on postgres-es (an event store: `AddBook`'s event in one transaction, then its query
/// executes `CreateInventory`, whose event commits in a second). Each system has a schema of its
/// own. `n` commands per system, in `rounds` rounds that rotate which system goes first, after
/// an unmeasured warm-up round that opens every pool's connections.
#[cfg(feature = "peer")]
pub async fn peer_clients(n: usize, clients: usize, rounds: usize) -> Vec<Row> {
    use crate::peer::PostgresPeer;

    let name = "postgres-peer-clients";
    let (Some(framework_url), Some(raw_url), Some(peer_url)) = (
        Database::Postgres.fresh(&format!("{name}-framework")).await,
        Database::Postgres.fresh(&format!("{name}-raw")).await,
        Database::Postgres.fresh(&format!("{name}-cqrs-es")).await,
    ) else {
        return skipped(name);
    };
    let domain = open_domain(&framework_url).await;
    drop(open_domain(&raw_url).await);
    let raw = Arc::new(raw::Writer::connect(Database::Postgres, &raw_url).await);
    // 16 connections: the framework's default pool, and the raw writer's.
    let peer = Arc::new(PostgresPeer::connect(&peer_url, 16).await);

    // Each round gives every system the next `per_round` command numbers.
    let per_round = n / rounds;
    let warm_up = clients * 4;
    let run = |system: usize, first: usize, count: usize| {
        let (domain, raw, peer) = (domain.clone(), raw.clone(), peer.clone());
        concurrently(clients, count, move |i| {
            let (domain, raw, peer) = (domain.clone(), raw.clone(), peer.clone());
            async move {
                match system {
                    0 => raw.add_book(first + i, Commits::One).await,
                    1 => {
                        domain
                            .process(domain::add_book(first + i))
                            .await
                            .expect("command succeeds");
                    }
                    _ => peer.add_book(first + i).await,
                }
            }
        })
    };
    for system in 0..3 {
        run(system, 0, warm_up).await;
    }
    let mut samples: Vec<Samples> = (0..3).map(|_| Samples::with_capacity(n)).collect();
    let mut walls = [Duration::ZERO; 3];
    for round in 0..rounds {
        for k in 0..3 {
            let system = (round + k) % 3;
            let (taken, wall) = run(system, warm_up + round * per_round, per_round).await;
            samples[system].extend(taken);
            walls[system] += wall;
        }
    }
    let done = warm_up + rounds * per_round;
    assert_eq!(raw.inventories().await, done);
    assert_eq!(domain::inventory_count(&domain).await, done);
    assert_eq!(peer.inventories_created(), done);

    let label = format!("{name} x{clients}");
    vec![
        Row::concurrent(
            &format!("{label} (raw sqlx, 1 tx)"),
            &samples[0],
            walls[0],
            None,
        ),
        Row::concurrent(&label, &samples[1], walls[1], Some(walls[0])),
        Row::concurrent(
            &format!("{label} (cqrs-es 0.5, postgres-es 0.5)"),
            &samples[2],
            walls[2],
            Some(walls[0]),
        ),
        Row::note(
            &format!("{label}: framework vs cqrs-es"),
            &format!(
                "{:.2}x the peer's throughput (target >= 1.5)",
                walls[2].as_secs_f64() / walls[1].as_secs_f64()
            ),
        ),
    ]
}

/// Runs `n` operations split over `clients` tasks; returns each operation's latency and the
/// wall-clock time of the whole run.
async fn concurrently<F, Fut>(clients: usize, n: usize, op: F) -> (Samples, Duration)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in (client..n).step_by(clients) {
                let begin = Instant::now();
                op(i).await;
                samples.push(begin.elapsed());
            }
            samples
        }));
    }
    let mut all = Samples::with_capacity(n);
    for task in tasks {
        for sample in task.await.expect("client task") {
            all.push(sample);
        }
    }
    (all, start.elapsed())
}

/// Per-command cost over `window` commands once the store holds each of `sizes` events. The
/// tables are grown to each size by bulk SQL (the same rows commands write: an event, a book and
/// an inventory per event), which takes seconds instead of the minutes commands would.
pub async fn scaling(
    database: Database,
    sizes: &[usize],
    window: usize,
) -> (Vec<Row>, Option<Series>) {
    let name = format!("{}-scaling", database.name());
    let Some(url) = database.fresh(&name).await else {
        return (skipped(&name), None);
    };
    let mut line = Series {
        name: database.name().into(),
        points: Vec::new(),
    };
    let domain = open_domain(&url).await;
    let raw = raw::Writer::connect(database, &url).await;
    let mut rows = Vec::new();
    let mut first: Option<Samples> = None;
    let mut next_command = 0;
    for &size in sizes {
        let stored = domain
            .event_store()
            .last_position()
            .await
            .expect("position") as usize;
        raw.bulk_fill(stored, size).await;
        let mut samples = Samples::with_capacity(window);
        for _ in 0..window {
            samples
                .time_async(|| domain.process(domain::add_book(next_command)))
                .await
                .expect("command succeeds");
            next_command += 1;
        }
        rows.push(Row::new(
            &format!("{name} @ {size} events"),
            &samples,
            first.as_ref(),
        ));
        line.points.push((size as f64, samples.mean_ns() / 1000.0));
        if first.is_none() {
            first = Some(samples);
        }
    }
    (rows, Some(line))
}

/// Hand-written sqlx code writing the rows the framework writes for one `AddBook`.
mod raw {
    use super::Database;
    use sqlx::AssertSqlSafe;
    use std::time::Instant;
    use uuid::Uuid;

    /// How the raw code groups one command's rows.
    #[derive(Clone, Copy, PartialEq)]
    pub enum Commits {
        /// Every row in one transaction (the baseline).
        One,
        /// Book, command record and event, then the inventory: the framework's two units of work.
        Two,
        /// Book, command record and event only: async mode's command path.
        CommandOnly,
    }

    pub enum Writer {
        Sqlite(sqlx::SqlitePool),
        Postgres(sqlx::PgPool),
    }

    /// The same statements in both dialects: `?` placeholders become `$n` on PostgreSQL, and JSON
    /// parameters get a `::jsonb` cast.
    fn sql(database: Database, text: &str) -> String {
        match database {
            Database::Sqlite => text.replace("::jsonb", ""),
            Database::Postgres => {
                let mut out = String::new();
                let mut n = 0;
                for c in text.chars() {
                    if c == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    const INSERT_AGGREGATE: &str = "INSERT INTO aggregates (aggregate_type, id, version, stream_position, data) VALUES (?, ?, 1, ?, ?::jsonb)";
    const RESERVE_COMMAND: &str = "UPDATE command_position SET last = last + 1 RETURNING last";
    const INSERT_COMMAND: &str = "INSERT INTO commands (position, id, type_name, stream, data, correlation_id, causation_id, origin_stream, recorded_at) VALUES (?, ?, ?, ?, ?::jsonb, ?, NULL, NULL, ?)";
    /// The reaction's subscription checkpoint (the bench domain has one event handler), moved
    /// in the reaction's transaction as the framework does.
    const ADVANCE: &str = "UPDATE subscriptions SET position = ?, updated_at = ? WHERE segment = 0";
    const RESERVE: &str = "UPDATE event_position SET last = last + 1 RETURNING last";
    const READ_PAGE: &str = "SELECT global_position, CAST(data AS TEXT) FROM events WHERE category = 'book' AND global_position > ? ORDER BY global_position LIMIT 256";
    const INSERT_EVENT: &str = "INSERT INTO events (category, global_position, id, stream, stream_position, type_name, schema_version, data, correlation_id, causation_id, origin_stream, recorded_at) VALUES (?, ?, ?, ?, 1, ?, 1, ?::jsonb, ?, ?, ?, ?)";

    /// One command's rows, serialized the way the framework serializes them.
    struct Rows {
        book_id: String,
        book: String,
        command_id: String,
        command: String,
        event: String,
        inventory_id: String,
        inventory: String,
    }

    fn rows(i: usize) -> Rows {
        let book_id = Uuid::new_v4().to_string();
        let title = format!("Book {i}");
        Rows {
            book: serde_json::json!({"id": book_id, "title": title, "author": "A. Author", "price": 12.5}).to_string(),
            command: serde_json::json!({"title": title, "author": "A. Author", "price": 12.5}).to_string(),
            event: serde_json::json!({"book_id": book_id, "title": title}).to_string(),
            inventory_id: Uuid::new_v4().to_string(),
            inventory: serde_json::json!({"book_id": book_id, "title": title, "quantity": 10}).to_string(),
            command_id: Uuid::new_v4().to_string(),
            book_id,
        }
    }

    /// The body of one transaction, written once for both drivers.
    macro_rules! add_book_in {
        ($database:expr, $pool:expr, $i:expr, $commits:expr) => {{
            let r = rows($i);
            let now = 0i64;
            let begin = || async {
                match $database {
                    Database::Sqlite => $pool.begin_with("BEGIN IMMEDIATE").await,
                    Database::Postgres => $pool.begin().await,
                }
                .expect("begin")
            };
            let mut tx = begin().await;
            let stream = format!("book-{}", r.book_id);
            sqlx::query(AssertSqlSafe(sql($database, INSERT_AGGREGATE)))
                .bind("Book")
                .bind(&r.book_id)
                .bind(1i64)
                .bind(&r.book)
                .execute(&mut *tx)
                .await
                .expect("book row");
            let (command_position,): (i64,) =
                sqlx::query_as(AssertSqlSafe(sql($database, RESERVE_COMMAND)))
                    .fetch_one(&mut *tx)
                    .await
                    .expect("command position");
            sqlx::query(AssertSqlSafe(sql($database, INSERT_COMMAND)))
                .bind(command_position)
                .bind(&r.command_id)
                .bind("Bench.AddBook.v1")
                .bind(format!("book:command-{}", r.book_id))
                .bind(&r.command)
                .bind(&r.command_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .expect("command row");
            let (position,): (i64,) = sqlx::query_as(AssertSqlSafe(sql($database, RESERVE)))
                .fetch_one(&mut *tx)
                .await
                .expect("position");
            sqlx::query(AssertSqlSafe(sql($database, INSERT_EVENT)))
                .bind("book")
                .bind(position)
                .bind(Uuid::new_v4().to_string())
                .bind(&stream)
                .bind("Bench.BookAdded.v1")
                .bind(&r.event)
                .bind(&r.command_id)
                .bind(&r.command_id)
                .bind(format!("book:command-{}", r.book_id))
                .bind(now)
                .execute(&mut *tx)
                .await
                .expect("event row");
            if $commits == Commits::CommandOnly {
                tx.commit().await.expect("commit");
                return;
            }
            if $commits == Commits::Two {
                // As the framework does: the reaction runs after the command's commit.
                tx.commit().await.expect("commit");
                tx = begin().await;
            }
            sqlx::query(AssertSqlSafe(sql($database, ADVANCE)))
                .bind(position)
                .bind(now)
                .execute(&mut *tx)
                .await
                .expect("checkpoint");
            sqlx::query(AssertSqlSafe(sql($database, INSERT_AGGREGATE)))
                .bind("Inventory")
                .bind(&r.inventory_id)
                .bind(0i64)
                .bind(&r.inventory)
                .execute(&mut *tx)
                .await
                .expect("inventory row");
            tx.commit().await.expect("commit");
        }};
    }

    /// The body of [`Writer::deliver_backlog`], written once for both drivers.
    macro_rules! deliver_backlog_in {
        ($database:expr, $pool:expr, $until:expr) => {{
            let (mut after,): (i64,) = sqlx::query_as(
                "SELECT position FROM subscriptions WHERE segment = 0",
            )
            .fetch_one($pool)
            .await
            .expect("checkpoint");
            let mut delivered = 0;
            loop {
                if Instant::now() >= $until {
                    break delivered;
                }
                let page: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(sql(
                    $database,
                    READ_PAGE,
                )))
                .bind(after)
                .fetch_all($pool)
                .await
                .expect("page");
                if page.is_empty() {
                    break delivered;
                }
                for (position, data) in page {
                    if Instant::now() >= $until {
                        break;
                    }
                    let event: serde_json::Value = serde_json::from_str(&data).expect("event");
                    let inventory = serde_json::json!({
                        "book_id": event["book_id"], "title": event["title"], "quantity": 10
                    })
                    .to_string();
                    let mut tx = match $database {
                        Database::Sqlite => $pool.begin_with("BEGIN IMMEDIATE").await,
                        Database::Postgres => $pool.begin().await,
                    }
                    .expect("begin");
                    sqlx::query(AssertSqlSafe(sql($database, ADVANCE)))
                        .bind(position)
                        .bind(0i64)
                        .execute(&mut *tx)
                        .await
                        .expect("checkpoint");
                    sqlx::query(AssertSqlSafe(sql($database, INSERT_AGGREGATE)))
                        .bind("Inventory")
                        .bind(Uuid::new_v4().to_string())
                        .bind(0i64)
                        .bind(inventory)
                        .execute(&mut *tx)
                        .await
                        .expect("inventory row");
                    tx.commit().await.expect("commit");
                    after = position;
                    delivered += 1;
                }
            }
        }};
    }

    impl Writer {
        pub async fn connect(database: Database, url: &str) -> Writer {
            match database {
                Database::Sqlite => Writer::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(8)
                        .connect_with(
                            url.parse::<sqlx::sqlite::SqliteConnectOptions>()
                                .expect("url")
                                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                                .busy_timeout(std::time::Duration::from_secs(30)),
                        )
                        .await
                        .expect("connect"),
                ),
                Database::Postgres => Writer::Postgres(
                    sqlx::postgres::PgPoolOptions::new()
                        .max_connections(16)
                        .connect(url)
                        .await
                        .expect("connect"),
                ),
            }
        }

        /// One `AddBook`'s rows: book, command record (with its position), event, then the
        /// reaction's checkpoint and inventory; in one transaction or the framework's two.
        pub async fn add_book(&self, i: usize, commits: Commits) {
            match self {
                Writer::Sqlite(pool) => add_book_in!(Database::Sqlite, pool, i, commits),
                Writer::Postgres(pool) => add_book_in!(Database::Postgres, pool, i, commits),
            }
        }

        /// A hand-written engine: reads the book events after the stored checkpoint, a page at a
        /// time, and for each one writes its inventory row and the checkpoint in one
        /// transaction, until none is left or `until` has passed. Returns how many it delivered.
        pub async fn deliver_backlog(&self, until: Instant) -> usize {
            match self {
                Writer::Sqlite(pool) => deliver_backlog_in!(Database::Sqlite, pool, until),
                Writer::Postgres(pool) => deliver_backlog_in!(Database::Postgres, pool, until),
            }
        }

        /// After a bulk write: on PostgreSQL, vacuums and analyzes the tables a delivery reads
        /// and writes, so that neither side meets autovacuum or stale statistics on its own.
        pub async fn prepare_to_read(&self) {
            if let Writer::Postgres(pool) = self {
                sqlx::query("VACUUM ANALYZE events, aggregates, subscriptions, commands")
                    .execute(pool)
                    .await
                    .expect("vacuum");
            }
        }

        pub async fn close(self) {
            match self {
                Writer::Sqlite(pool) => pool.close().await,
                Writer::Postgres(pool) => pool.close().await,
            }
        }

        pub async fn inventories(&self) -> usize {
            let query = "SELECT count(*) FROM aggregates WHERE aggregate_type = 'Inventory'";
            let (count,): (i64,) = match self {
                Writer::Sqlite(pool) => sqlx::query_as(query).fetch_one(pool).await,
                Writer::Postgres(pool) => sqlx::query_as(query).fetch_one(pool).await,
            }
            .expect("count");
            count as usize
        }

        /// Grows the store from `from` to `to` events, with a book and an inventory per event.
        pub async fn bulk_fill(&self, from: usize, to: usize) {
            if to <= from {
                return;
            }
            let (from, to) = (from as i64 + 1, to as i64);
            let statements = [
                "INSERT INTO events (category, global_position, id, stream, stream_position, type_name, schema_version, data, correlation_id, causation_id, origin_stream, recorded_at) \
                 SELECT 'book', g, 'fill-' || g, 'book-fill-' || g, 1, 'Bench.BookAdded.v1', 1, \
                 '{\"book_id\": \"fill\", \"title\": \"Filler\"}'::jsonb, 'fill', NULL, NULL, 0 FROM series",
                "INSERT INTO aggregates (aggregate_type, id, version, stream_position, data) \
                 SELECT 'Book', 'fill-' || g, 1, 1, '{\"id\": \"fill\", \"title\": \"Filler\", \"author\": \"A\", \"price\": 1.0}'::jsonb FROM series",
                "INSERT INTO aggregates (aggregate_type, id, version, stream_position, data) \
                 SELECT 'Inventory', 'fill-' || g, 1, 0, '{\"book_id\": \"fill\", \"title\": \"Filler\", \"quantity\": 10}'::jsonb FROM series",
            ];
            // The numbers `from..=to`, as a CTE each statement reads.
            let series = match self {
                Writer::Sqlite(_) => format!(
                    "WITH RECURSIVE series(g) AS (SELECT {from} UNION ALL SELECT g + 1 FROM series WHERE g < {to})"
                ),
                Writer::Postgres(_) => format!(
                    "WITH series(g) AS (SELECT generate_series({from}::bigint, {to}::bigint))"
                ),
            };
            let database = match self {
                Writer::Sqlite(_) => Database::Sqlite,
                Writer::Postgres(_) => Database::Postgres,
            };
            let mut texts: Vec<String> = statements
                .iter()
                .map(|statement| sql(database, &format!("{series} {statement}")))
                .collect();
            texts.push(format!("UPDATE event_position SET last = {to}"));
            macro_rules! run_in_one_transaction {
                ($tx:expr) => {{
                    let mut tx = $tx.expect("begin");
                    for text in texts {
                        sqlx::query(AssertSqlSafe(text))
                            .execute(&mut *tx)
                            .await
                            .expect("fill");
                    }
                    tx.commit().await.expect("commit");
                }};
            }
            match self {
                Writer::Sqlite(pool) => {
                    run_in_one_transaction!(pool.begin_with("BEGIN IMMEDIATE").await)
                }
                Writer::Postgres(pool) => {
                    run_in_one_transaction!(pool.begin().await);
                    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
                }
            }
        }
    }
}
