//! Event-sourced aggregates.
//!
//! - `inmem-es-hot`: one aggregate receiving 10,000 commands (load, raise, commit) in memory:
//!   the last 1,000 against the first 1,000, with a snapshot every 100 events (the load applies
//!   at most 99 events after the snapshot, so the cost must stay flat) and, for contrast,
//!   without snapshots (the load replays the whole stream, so the cost grows with it).
//! - `sqlite-es-load`: loading an aggregate of 10,000 events without a snapshot from SQLite,
//!   against a hand-written sqlx loop reading the same rows and decoding and folding the same
//!   JSON.

use domain_core::prelude::*;
use sqlx::Row as _;

use crate::measure::{Row, Samples};

#[aggregate(event_sourced, snapshot_every = 100)]
pub struct Tally {
    pub total: i64,
    pub count: u64,
}

#[event(part_of = Tally)]
pub struct Tallied {
    pub amount: i64,
}

#[apply_events]
impl Tally {
    #[apply]
    fn tallied(&mut self, event: &Tallied) {
        self.total += event.amount;
        self.count += 1;
    }
}

/// `Tally` without snapshots.
#[aggregate(event_sourced)]
pub struct Ledger {
    pub total: i64,
    pub count: u64,
}

#[event(part_of = Ledger)]
pub struct Entered {
    pub amount: i64,
}

#[apply_events]
impl Ledger {
    #[apply]
    fn entered(&mut self, event: &Entered) {
        self.total += event.amount;
        self.count += 1;
    }
}

#[command(part_of = Tally)]
pub struct AddToTally {
    #[identifier]
    pub id: Identifier,
    pub amount: i64,
}

#[command(part_of = Ledger)]
pub struct AddToLedger {
    #[identifier]
    pub id: Identifier,
    pub amount: i64,
}

#[derive(Default)]
pub struct TallyCommands;

#[command_handler(part_of = Tally)]
impl TallyCommands {
    #[handle(AddToTally)]
    async fn add(&self, command: AddToTally, ctx: &mut Context) -> Result<()> {
        let mut tally = ctx.repository::<Tally>().get(&command.id).await?;
        tally.raise(Tallied {
            amount: command.amount,
        });
        ctx.repository::<Tally>().add(tally)
    }
}

#[derive(Default)]
pub struct LedgerCommands;

#[command_handler(part_of = Ledger)]
impl LedgerCommands {
    #[handle(AddToLedger)]
    async fn add(&self, command: AddToLedger, ctx: &mut Context) -> Result<()> {
        let mut ledger = ctx.repository::<Ledger>().get(&command.id).await?;
        ledger.raise(Entered {
            amount: command.amount,
        });
        ctx.repository::<Ledger>().add(ledger)
    }
}

/// `inmem-es-hot`.
pub async fn hot(n: usize, window: usize) -> Vec<Row> {
    let domain = Domain::builder("Sourced")
        .build()
        .expect("the domain builds");
    let mut tally = Tally::with_id("tally");
    tally.raise(Tallied { amount: 0 });
    domain
        .repository::<Tally>()
        .add(tally)
        .await
        .expect("stored");
    let mut ledger = Ledger::with_id("ledger");
    ledger.raise(Entered { amount: 0 });
    domain
        .repository::<Ledger>()
        .add(ledger)
        .await
        .expect("stored");

    // One aggregate after the other: interleaved, the long replays of the second would leave
    // the caches cold for the first.
    let mut with_snapshots = Samples::with_capacity(n);
    let mut without = Samples::with_capacity(n);
    for i in 0..n {
        let amount = i as i64;
        with_snapshots
            .time_async(|| {
                domain.process(AddToTally {
                    id: "tally".into(),
                    amount,
                })
            })
            .await
            .expect("command succeeds");
    }
    for i in 0..n {
        let amount = i as i64;
        without
            .time_async(|| {
                domain.process(AddToLedger {
                    id: "ledger".into(),
                    amount,
                })
            })
            .await
            .expect("command succeeds");
    }
    let expected = (n as i64 - 1) * n as i64 / 2;
    let tally = domain
        .repository::<Tally>()
        .get(&"tally".into())
        .await
        .unwrap();
    assert_eq!((*tally.total(), *tally.count()), (expected, n as u64 + 1));
    let ledger = domain
        .repository::<Ledger>()
        .get(&"ledger".into())
        .await
        .unwrap();
    assert_eq!((*ledger.total(), *ledger.count()), (expected, n as u64 + 1));

    let mut rows = Vec::new();
    for (samples, how) in [
        (&with_snapshots, "snapshot every 100 events"),
        (&without, "no snapshots: every load replays the stream"),
    ] {
        let first = samples.window(0..window);
        let last = samples.window(n - window..n);
        let label = |which: &str| {
            format!(
                "inmem-es-hot: {which} {window} of {n} commands to one event-sourced aggregate, {how}"
            )
        };
        rows.push(Row::new(&label("first"), &first, None));
        rows.push(Row::new(&label("last"), &last, Some(&first)));
    }
    rows
}

/// `sqlite-es-load`: `events` events in one stream, then loads alternating with the baseline.
pub async fn sqlite_load(events: usize, loads: usize) -> Vec<Row> {
    let file = std::env::temp_dir().join(format!("domain-bench-{}-es-load.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let url = format!("sqlite://{}", file.display());
    let domain = Domain::builder("Sourced")
        .database(&url)
        .open()
        .await
        .expect("the SQLite domain opens");
    // The stream, written in commits of 1,000 events.
    let id = Identifier::from("ledger");
    let mut written = 0;
    while written < events {
        let mut ledger = match domain.repository::<Ledger>().get(&id).await {
            Ok(ledger) => ledger,
            Err(_) => Ledger::with_id(id.clone()),
        };
        for _ in 0..1_000.min(events - written) {
            ledger.raise(Entered {
                amount: written as i64,
            });
            written += 1;
        }
        domain
            .repository::<Ledger>()
            .add(ledger)
            .await
            .expect("stored");
    }
    let expected = (events as i64 - 1) * events as i64 / 2;

    let pool = sqlx::SqlitePool::connect(&url).await.expect("SQLite opens");
    #[derive(serde::Deserialize)]
    struct Plain {
        amount: i64,
    }
    let mut framework = Samples::with_capacity(loads);
    let mut manual = Samples::with_capacity(loads);
    let repository = domain.repository::<Ledger>();
    let hand_written = || async {
        let rows = sqlx::query("SELECT data FROM events WHERE stream = ? ORDER BY stream_position")
            .bind("ledger-ledger")
            .fetch_all(&pool)
            .await
            .expect("reads");
        let (mut total, mut count) = (0i64, 0u64);
        for row in rows {
            let data: String = row.get(0);
            let event: Plain = serde_json::from_str(&data).expect("decodes");
            total += event.amount;
            count += 1;
        }
        (total, count)
    };
    // Alternating which goes first, so neither always runs on the other's warm cache.
    for round in 0..loads {
        for framework_turn in [round % 2 == 0, round % 2 == 1] {
            if framework_turn {
                let ledger = framework
                    .time_async(|| repository.get(&id))
                    .await
                    .expect("loads");
                assert_eq!(*ledger.total(), expected);
            } else {
                let (total, count) = manual.time_async(hand_written).await;
                assert_eq!((total, count), (expected, events as u64));
            }
        }
    }
    pool.close().await;
    drop(domain);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    vec![
        Row::new(
            &format!("sqlite-es-load: hand-written: read {events} event rows, decode, fold"),
            &manual,
            None,
        ),
        Row::new(
            &format!(
                "sqlite-es-load: framework: load an aggregate of {events} events, no snapshot"
            ),
            &framework,
            Some(&manual),
        ),
    ]
}
