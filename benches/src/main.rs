//! The benchmark runner. Every framework figure is printed next to a baseline measured in the
//! same run on the same machine, because this machine is shared and noisy: ratios, not seconds.
//!
//! ```text
//! cargo run --release -p benches                      # every scenario
//! cargo run --release -p benches -- inmem-command     # one scenario
//! ```

mod baseline;
mod chart;
mod compile;
mod domain;
mod durable;
mod measure;
#[cfg(feature = "peer")]
mod peer;
mod riddl;
mod sourced;

use measure::{Row, Samples, print_table};

const SCENARIOS: &[&str] = &[
    "inmem-command",
    "inmem-hot",
    "inmem-raise",
    "inmem-es-hot",
    "inmem-yield",
    "sqlite-es-load",
    "scaling",
    "memory",
    "sqlite-command",
    "postgres-command",
    "sqlite-async",
    "postgres-async",
    "postgres-async-clients",
    "sqlite-scaling",
    "postgres-scaling",
    "sqlite-engine",
    "postgres-engine",
    "postgres-peer-clients",
    "compile",
];

/// Commands sent to one aggregate in `inmem-hot`, and the window compared at each end.
const HOT_COMMANDS: usize = 10_000;
const HOT_WINDOW: usize = 1_000;

/// Commands per durable scenario (each is two commits with a sync to disk).
const DURABLE_COMMANDS: usize = 1_000;
/// Store sizes the durable scaling scenarios measure at, and the window measured at each.
const DURABLE_SIZES: &[usize] = &[10_000, 200_000];
const DURABLE_WINDOW: usize = 1_000;

/// Events in the backlog the engine scenarios deliver (the issue's 100,000), unless
/// `BENCH_ENGINE_EVENTS` says otherwise (a quicker run).
const ENGINE_EVENTS: usize = 100_000;

/// `postgres-peer-clients`: concurrent clients (unless `BENCH_PEER_CLIENTS` says otherwise),
/// commands per system, and rounds they are split into (each round rotates which system goes
/// first).
#[cfg(feature = "peer")]
const PEER_CLIENTS: usize = 16;
#[cfg(feature = "peer")]
const PEER_COMMANDS: usize = 2_000;
#[cfg(feature = "peer")]
const PEER_ROUNDS: usize = 4;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEMORY_CHILD) {
        memory_child(args.get(1).map(String::as_str));
        return;
    }
    #[cfg(feature = "peer")]
    if args.first().map(String::as_str) == Some(PEER_CHILD) {
        peer_child(&args[1..]);
        return;
    }
    if let Some(unknown) = args.iter().find(|a| !SCENARIOS.contains(&a.as_str())) {
        eprintln!(
            "unknown scenario `{unknown}`; expected one of: {}",
            SCENARIOS.join(", ")
        );
        std::process::exit(2);
    }
    let wanted = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let mut rows = Vec::new();
    if wanted("inmem-command") {
        rows.extend(runtime.block_on(inmem_command(100_000)));
    }
    if wanted("inmem-hot") {
        rows.extend(runtime.block_on(inmem_hot(HOT_COMMANDS, HOT_WINDOW)));
    }
    if wanted("inmem-raise") {
        rows.extend(runtime.block_on(inmem_raise(100_000)));
    }
    if wanted("inmem-es-hot") {
        rows.extend(runtime.block_on(sourced::hot(HOT_COMMANDS, HOT_WINDOW)));
    }
    if wanted("inmem-yield") {
        rows.extend(runtime.block_on(riddl::yielding(HOT_COMMANDS)));
    }

    // The chart's lines: one per scaling scenario run.
    let mut series = Vec::new();
    if wanted("scaling") {
        let (scaling_rows, line) = runtime.block_on(scaling());
        rows.extend(scaling_rows);
        series.push(line);
    }
    if wanted("memory") {
        rows.extend(memory());
    }
    // Durable scenarios wait on the database: a multi-threaded runtime lets clients overlap.
    let durable_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if wanted("sqlite-es-load") {
        rows.extend(durable_runtime.block_on(sourced::sqlite_load(10_000, 40)));
    }
    use durable::Database::{Postgres, Sqlite};
    if wanted("sqlite-command") {
        rows.extend(durable_runtime.block_on(durable::command(Sqlite, DURABLE_COMMANDS, 1)));
    }
    if wanted("postgres-command") {
        rows.extend(durable_runtime.block_on(durable::command(Postgres, DURABLE_COMMANDS, 16)));
    }
    if wanted("sqlite-async") {
        rows.extend(durable_runtime.block_on(durable::async_mode(Sqlite, DURABLE_COMMANDS)));
    }
    if wanted("postgres-async") {
        rows.extend(durable_runtime.block_on(durable::async_mode(Postgres, DURABLE_COMMANDS)));
    }
    if wanted("postgres-async-clients") {
        rows.extend(durable_runtime.block_on(durable::async_clients(Postgres, 2_000, 16)));
    }
    for (scenario, database) in [("sqlite-scaling", Sqlite), ("postgres-scaling", Postgres)] {
        if wanted(scenario) {
            let (scaling_rows, line) =
                durable_runtime.block_on(durable::scaling(database, DURABLE_SIZES, DURABLE_WINDOW));
            rows.extend(scaling_rows);
            series.extend(line);
        }
    }
    let engine_events = std::env::var("BENCH_ENGINE_EVENTS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("BENCH_ENGINE_EVENTS is a number of events")
        })
        .unwrap_or(ENGINE_EVENTS);
    if wanted("sqlite-engine") {
        rows.extend(durable_runtime.block_on(durable::engine(Sqlite, engine_events)));
    }
    if wanted("postgres-engine") {
        rows.extend(durable_runtime.block_on(durable::engine(Postgres, engine_events)));
    }
    if wanted("postgres-peer-clients") {
        #[cfg(feature = "peer")]
        let clients = std::env::var("BENCH_PEER_CLIENTS")
            .ok()
            .map(|v| {
                v.parse()
                    .expect("BENCH_PEER_CLIENTS is a number of clients")
            })
            .unwrap_or(PEER_CLIENTS);
        #[cfg(feature = "peer")]
        rows.extend(durable_runtime.block_on(durable::peer_clients(
            PEER_COMMANDS,
            clients,
            PEER_ROUNDS,
        )));
        #[cfg(not(feature = "peer"))]
        rows.push(Row::note(
            "postgres-peer-clients",
            "not built: add --features peer",
        ));
    }
    if wanted("compile") {
        rows.extend(compile::compile());
    }
    print_table(&rows);
    if !series.is_empty() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scaling.svg");
        match chart::draw(&path, &series) {
            Ok(()) => println!("\nchart: {}", path.display()),
            Err(e) => eprintln!("could not draw the chart: {e}"),
        }
    }
}

/// `0..n` in blocks of 1,000. The in-memory scenarios alternate framework and baseline blocks,
/// so that a noisy neighbour slowing the machine for a while slows both sides alike.
fn blocks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    const BLOCK: usize = 1_000;
    (0..n)
        .step_by(BLOCK)
        .map(move |start| start..(start + BLOCK).min(n))
}

/// The bookshelf flow through `domain.process`: AddBook -> handler builds a Book and raises
/// BookAdded -> commit -> event handler creates an Inventory. Baseline: the same work by hand.
async fn inmem_command(n: usize) -> Vec<Row> {
    let domain = domain::new_domain();
    let mut store = baseline::Store::default();
    let mut logging = baseline::Store {
        log_commands: true,
        ..baseline::Store::default()
    };
    let mut framework = Samples::with_capacity(n);
    let mut manual = Samples::with_capacity(n);
    let mut manual_logged = Samples::with_capacity(n);
    for block in blocks(n) {
        for i in block.clone() {
            framework
                .time_async(|| domain.process(domain::add_book(i)))
                .await
                .expect("command succeeds");
        }
        for i in block.clone() {
            manual
                .time(|| store.add_book(baseline::AddBook::new(i)))
                .expect("valid");
        }
        for i in block {
            manual_logged
                .time(|| logging.add_book(baseline::AddBook::new(i)))
                .expect("valid");
        }
    }
    assert_eq!(logging.commands.len(), n);
    assert_eq!(
        domain::inventory_count(&domain).await,
        n,
        "every command created an inventory"
    );
    assert_eq!(store.inventories.len(), n);
    #[allow(unused_mut)] // the peer rows are only added with `--features peer`
    let mut rows = vec![
        Row::new("inmem-command (hand-written)", &manual, None),
        Row::new("inmem-command", &framework, Some(&manual)),
        Row::new(
            "inmem-command (hand-written, with a command log)",
            &manual_logged,
            None,
        ),
        Row::new(
            "inmem-command vs the baseline with a command log",
            &framework,
            Some(&manual_logged),
        ),
    ];
    #[cfg(feature = "peer")]
    rows.extend(peer_rows(n, &framework, &manual));
    #[cfg(not(feature = "peer"))]
    rows.push(Row::note(
        "inmem-command (cqrs-es 0.5)",
        "not built: add --features peer",
    ));
    rows
}

#[cfg(feature = "peer")]
const PEER_CHILD: &str = "__peer-child";

/// The cqrs-es rows. Each store runs in a child process with stdout on `/dev/null`, because
/// cqrs-es's `MemStore` prints a line per load and commit; the child returns its timings on
/// stderr. The ratio column is against the hand-written baseline like every row; the note row
/// gives the framework's throughput as a multiple of each peer's.
#[cfg(feature = "peer")]
fn peer_rows(n: usize, framework: &Samples, manual: &Samples) -> Vec<Row> {
    let mut rows = Vec::new();
    for store in [peer::Store::MemStore, peer::Store::Quiet] {
        let samples = peer_samples(store, peer::Flow::NewBooks, n);
        let name = format!("inmem-command ({})", peer_label(store));
        rows.push(Row::new(&name, &samples, Some(manual)));
        rows.push(Row::note(
            &format!("inmem-command vs {name}"),
            &format!(
                "{:.1}x the peer's throughput",
                samples.mean_ns() / framework.mean_ns()
            ),
        ));
    }
    rows
}

#[cfg(feature = "peer")]
fn peer_label(store: peer::Store) -> &'static str {
    match store {
        peer::Store::MemStore => "cqrs-es 0.5 MemStore",
        peer::Store::Quiet => "cqrs-es 0.5, MemStore minus println",
    }
}

/// Runs the peer in a child process with stdout on `/dev/null` (cqrs-es's `MemStore` prints a
/// line per load and commit) and reads back its timings, which the child prints on stderr.
#[cfg(feature = "peer")]
fn peer_samples(store: peer::Store, flow: peer::Flow, n: usize) -> Samples {
    let exe = std::env::current_exe().expect("the runner's path");
    let output = std::process::Command::new(exe)
        .args([PEER_CHILD, store.name(), flow.name(), &n.to_string()])
        .stdout(std::process::Stdio::null())
        .output()
        .expect("the peer child runs");
    assert!(output.status.success(), "the peer child failed");
    Samples::from_nanos(
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .map(|l| l.parse().expect("the child prints nanoseconds")),
    )
}

/// `__peer-child <store> <flow> <n>`: run the peer and print each command's nanoseconds on stderr.
#[cfg(feature = "peer")]
fn peer_child(args: &[String]) {
    let store = args
        .first()
        .and_then(|s| peer::Store::parse(s))
        .expect("a peer store name");
    let flow = args
        .get(1)
        .and_then(|s| peer::Flow::parse(s))
        .expect("a peer flow name");
    let n = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .expect("a command count");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let samples = runtime.block_on(peer::run(store, flow, n));
    let mut text = String::new();
    for ns in samples.nanos() {
        text.push_str(&ns.to_string());
        text.push('\n');
    }
    eprint!("{text}");
}

/// One aggregate receiving command after command (load, change, raise, commit): the cost of
/// the last window against the first. The framework loads the aggregate's stored state, so the
/// cost must not grow with its history; an event-sourced store that replays the stream on every
/// load (cqrs-es, with `--features peer`) grows linearly with it.
async fn inmem_hot(n: usize, window: usize) -> Vec<Row> {
    let domain = domain::new_domain();
    let book_id = domain
        .process(domain::add_book(0))
        .await
        .expect("command succeeds");
    let mut samples = Samples::with_capacity(n);
    for i in 0..n {
        samples
            .time_async(|| domain.process(domain::reprice(&book_id, i)))
            .await
            .expect("command succeeds");
    }
    let book = domain
        .repository::<domain::Book>()
        .get(&book_id)
        .await
        .expect("the book is stored");
    assert_eq!(book.version(), n as u64 + 1, "every reprice was committed");
    assert_eq!(book.price, 10.0 + (n - 1) as f64);
    let first = samples.window(0..window);
    let last = samples.window(n - window..n);
    let label = |which: &str, system: &str| {
        format!("inmem-hot: {which} {window} of {n} commands to one aggregate{system}")
    };
    #[allow(unused_mut)] // the peer rows are only added with `--features peer`
    let mut rows = vec![
        Row::new(&label("first", ""), &first, None),
        Row::new(&label("last", ""), &last, Some(&first)),
    ];
    #[cfg(feature = "peer")]
    for store in [peer::Store::MemStore, peer::Store::Quiet] {
        let peer_samples = peer_samples(store, peer::Flow::HotBook, n);
        let peer_first = peer_samples.window(0..window);
        let peer_last = peer_samples.window(n - window..n);
        let system = format!(" ({})", peer_label(store));
        rows.push(Row::new(&label("first", &system), &peer_first, None));
        rows.push(Row::new(
            &label("last", &system),
            &peer_last,
            Some(&peer_first),
        ));
        rows.push(Row::note(
            &format!("inmem-hot, last {window}: framework vs{system}"),
            &format!(
                "{:.1}x the peer's throughput",
                peer_last.mean_ns() / last.mean_ns()
            ),
        ));
    }
    rows
}

/// Without the command layer: an aggregate method raises, repository add commits, a handler reacts.
async fn inmem_raise(n: usize) -> Vec<Row> {
    let domain = domain::new_domain();
    let mut store = baseline::Store::default();
    let mut framework = Samples::with_capacity(n);
    let mut manual = Samples::with_capacity(n);
    for block in blocks(n) {
        for i in block.clone() {
            framework
                .time_async(|| domain::raise_and_add(&domain, i))
                .await;
        }
        for i in block {
            manual.time(|| store.raise_and_add(i)).expect("valid");
        }
    }
    assert_eq!(domain::inventory_count(&domain).await, n);
    assert_eq!(store.inventories.len(), n);
    vec![
        Row::new("inmem-raise (hand-written)", &manual, None),
        Row::new("inmem-raise", &framework, Some(&manual)),
    ]
}

/// Per-command cost measured over 10,000 commands once the store holds 10k, 100k and 1M events.
///
/// Each window alternates blocks of 1,000 commands with a reference: a fresh store filled to
/// 10k events, so the ratio column (size's cost / reference's cost, measured side by side) is the
/// slowdown due to the store's size, not to whatever else the machine was doing at that moment.
/// A single 10k window measured once, seconds before the 1M one, moved the ratio by ±50%.
async fn scaling() -> (Vec<Row>, chart::Series) {
    const WINDOW: usize = 10_000;
    const REFERENCE_SIZE: usize = 10_000;
    let domain = domain::new_domain();
    let mut stored = 0;
    let mut rows = Vec::new();
    let mut line = chart::Series {
        name: "in memory".into(),
        points: Vec::new(),
    };
    for size in [10_000, 100_000, 1_000_000] {
        while stored < size {
            domain
                .process(domain::add_book(stored))
                .await
                .expect("command succeeds");
            stored += 1;
        }
        let reference = domain::new_domain();
        for i in 0..REFERENCE_SIZE {
            reference
                .process(domain::add_book(i))
                .await
                .expect("command succeeds");
        }
        let mut samples = Samples::with_capacity(WINDOW);
        let mut reference_samples = Samples::with_capacity(WINDOW);
        for block in blocks(WINDOW) {
            for (target, out) in [
                (&domain, &mut samples),
                (&reference, &mut reference_samples),
            ] {
                for i in block.clone() {
                    out.time_async(|| target.process(domain::add_book(stored + i)))
                        .await
                        .expect("command succeeds");
                }
            }
        }
        stored += WINDOW;
        rows.push(Row::new(
            &format!("scaling @ {size} events: the 10k reference beside it"),
            &reference_samples,
            None,
        ));
        rows.push(Row::new(
            &format!("scaling @ {size} events"),
            &samples,
            Some(&reference_samples),
        ));
        line.points.push((size as f64, samples.mean_ns() / 1000.0));
    }
    (rows, line)
}

const MEMORY_CHILD: &str = "__memory-child";
const MEMORY_EVENTS: usize = 1_000_000;

/// Peak resident memory added by one million stored events (each with its book and inventory),
/// from the kernel's high-water mark. Each side runs in a fresh child process, so neither sees
/// the other's (or an earlier scenario's) peak; the hand-written store is the baseline.
fn memory() -> Vec<Row> {
    let measure = |side: &str| -> u64 {
        let exe = std::env::current_exe().expect("the runner's path");
        let output = std::process::Command::new(exe)
            .args([MEMORY_CHILD, side])
            .output()
            .expect("child runs");
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("child prints bytes")
    };
    let manual = measure("baseline");
    let framework = measure("framework");
    vec![
        Row::memory("memory per 1M events (hand-written)", manual, None),
        Row::memory("memory per 1M events", framework, Some(manual)),
    ]
}

fn memory_child(side: Option<&str>) {
    let before = measure::peak_rss_bytes();
    match side {
        Some("baseline") => {
            let mut store = baseline::Store::default();
            for i in 0..MEMORY_EVENTS {
                store.add_book(baseline::AddBook::new(i)).expect("valid");
            }
            assert_eq!(store.events.len(), MEMORY_EVENTS);
            println!("{}", measure::peak_rss_bytes().saturating_sub(before));
        }
        _ => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a tokio runtime");
            let domain = domain::new_domain();
            runtime.block_on(async {
                for i in 0..MEMORY_EVENTS {
                    domain
                        .process(domain::add_book(i))
                        .await
                        .expect("command succeeds");
                }
                let stored = domain.event_store().last_position().await.unwrap();
                assert_eq!(stored, MEMORY_EVENTS as u64);
            });
            println!("{}", measure::peak_rss_bytes().saturating_sub(before));
        }
    }
}
