//! `inmem-yield`: RIDDL's `on command Deposit yields Deposited` on an event-sourced entity with
//! handler states, in memory, against a hand-written fold-and-append loop doing the same work.
//!
//! Both sides run the same 10,000 commands over 100 accounts (100 each, interleaved), with a
//! snapshot every 100 events. Per command, both record the command in a command log (its id, its
//! JSON, its stream, its time, as the in-memory store keeps it), load the account (its snapshot
//! plus the events after it, folded), check that its handler is `Open`, decide (refuse a
//! negative amount), apply the event, append it to the account's stream and the global log with
//! its metadata (ids, positions, time, correlation), and snapshot when the stream passes a
//! multiple of 100. A second baseline leaves the command log out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use domain_core::prelude::*;
use uuid::Uuid;

use crate::measure::{Row, Samples};

const ACCOUNTS: usize = 100;
const SNAPSHOT_EVERY: u64 = 100;

#[handler_states]
pub enum AccountHandler {
    Open,
    Closed,
}

#[aggregate(event_sourced, snapshot_every = 100, states = AccountHandler)]
pub struct Account {
    pub balance: i64,
    pub deposits: u64,
}

#[event(part_of = Account)]
pub struct Deposited {
    pub amount: i64,
}

#[command(part_of = Account)]
pub struct Deposit {
    #[identifier]
    pub account: Identifier,
    pub amount: i64,
}

#[entity_handler]
impl Account {
    #[on_command(when = Open)]
    fn deposit(&self, command: Deposit) -> Result<Deposited> {
        if command.amount < 0 {
            return Err(Error::rule("a deposit is not negative"));
        }
        Ok(Deposited {
            amount: command.amount,
        })
    }

    #[apply]
    fn deposited(&mut self, event: &Deposited) {
        self.balance += event.amount;
        self.deposits += 1;
    }
}

/// The same flow by hand: an event-sourced account store with snapshots.
mod by_hand {
    use super::*;

    #[derive(Clone, Copy, PartialEq)]
    pub enum Handler {
        Open,
    }

    #[derive(Clone)]
    pub struct Account {
        pub balance: i64,
        pub deposits: u64,
        pub handler: Handler,
    }

    impl Account {
        fn blank() -> Self {
            Account {
                balance: 0,
                deposits: 0,
                handler: Handler::Open,
            }
        }

        fn apply(&mut self, event: &Deposited) {
            self.balance += event.amount;
            self.deposits += 1;
        }
    }

    pub struct Deposited {
        pub amount: i64,
    }

    /// The command, as the log records it.
    #[derive(serde::Serialize)]
    struct Deposit<'a> {
        account: &'a str,
        amount: i64,
    }

    #[allow(dead_code)] // held for parity with the framework's command log
    struct CommandRecord {
        id: Uuid,
        stream: Arc<str>,
        payload: Box<str>,
        timestamp: SystemTime,
        position: u64,
    }

    #[allow(dead_code)] // held for parity with the framework's stored events
    pub struct StoredEvent {
        id: Uuid,
        payload: Arc<Deposited>,
        stream: Arc<str>,
        stream_position: u64,
        global_position: u64,
        timestamp: SystemTime,
        correlation_id: Uuid,
        causation_id: Uuid,
    }

    #[derive(Default)]
    struct Stream {
        name: Arc<str>,
        /// Indexes into the log, in stream order.
        events: Vec<usize>,
        /// The state after the first `n` events.
        snapshot: Option<(u64, Account)>,
    }

    #[derive(Default)]
    pub struct Store {
        log: Vec<StoredEvent>,
        streams: HashMap<String, Stream>,
        commands: Vec<CommandRecord>,
        /// Whether commands are recorded (the second baseline leaves them out).
        pub without_command_log: bool,
    }

    impl Store {
        pub fn deposit(&mut self, account: &str, amount: i64) -> Result<(), String> {
            let command_id = Uuid::new_v4();
            if !self.without_command_log {
                let payload = serde_json::to_string(&Deposit { account, amount })
                    .map_err(|e| e.to_string())?;
                self.commands.push(CommandRecord {
                    id: command_id,
                    stream: format!("account:command-{account}").into(),
                    payload: payload.into_boxed_str(),
                    timestamp: SystemTime::now(),
                    position: self.commands.len() as u64 + 1,
                });
            }
            let stream = self
                .streams
                .entry(account.to_owned())
                .or_insert_with(|| Stream {
                    name: format!("account-{account}").into(),
                    ..Stream::default()
                });
            // Load: the snapshot, then every later event folded.
            let (from, mut state) = stream
                .snapshot
                .clone()
                .unwrap_or_else(|| (0, Account::blank()));
            for &index in &stream.events[from as usize..] {
                state.apply(&self.log[index].payload);
            }
            if state.handler != Handler::Open {
                return Ok(());
            }
            if amount < 0 {
                return Err("a deposit is not negative".into());
            }
            let event = Deposited { amount };
            state.apply(&event);
            let index = self.log.len();
            stream.events.push(index);
            let position = stream.events.len() as u64;
            self.log.push(StoredEvent {
                id: Uuid::new_v4(),
                payload: Arc::new(event),
                stream: stream.name.clone(),
                stream_position: position,
                global_position: index as u64 + 1,
                timestamp: SystemTime::now(),
                correlation_id: command_id,
                causation_id: command_id,
            });
            if position.is_multiple_of(SNAPSHOT_EVERY) {
                stream.snapshot = Some((position, state));
            }
            Ok(())
        }

        pub fn balance(&self, account: &str) -> i64 {
            let stream = &self.streams[account];
            let (from, mut state) = stream
                .snapshot
                .clone()
                .unwrap_or_else(|| (0, Account::blank()));
            for &index in &stream.events[from as usize..] {
                state.apply(&self.log[index].payload);
            }
            state.balance
        }
    }
}

/// `inmem-yield`: `n` commands over `ACCOUNTS` accounts, alternating blocks of 1,000 between the
/// framework and the hand-written store.
pub async fn yielding(n: usize) -> Vec<Row> {
    let domain = Domain::builder("Riddl").build().expect("the domain builds");
    let mut store = by_hand::Store::default();
    let mut lean = by_hand::Store::default();
    lean.without_command_log = true;
    let names: Vec<String> = (0..ACCOUNTS).map(|i| format!("account{i}")).collect();
    let ids: Vec<Identifier> = names.iter().map(|n| Identifier::from(n.as_str())).collect();
    let mut framework = Samples::with_capacity(n);
    let mut manual = Samples::with_capacity(n);
    let mut manual_lean = Samples::with_capacity(n);
    for block in crate::blocks(n) {
        for i in block.clone() {
            let account = ids[i % ACCOUNTS].clone();
            let handled = framework
                .time_async(|| {
                    domain.process(Deposit {
                        account,
                        amount: i as i64,
                    })
                })
                .await
                .expect("command succeeds");
            assert_eq!(handled.events(), 1);
        }
        for i in block.clone() {
            let account = &names[i % ACCOUNTS];
            manual
                .time(|| store.deposit(account, i as i64))
                .expect("valid");
        }
        for i in block {
            let account = &names[i % ACCOUNTS];
            manual_lean
                .time(|| lean.deposit(account, i as i64))
                .expect("valid");
        }
    }
    // Both sides did the same work.
    for (name, id) in names.iter().zip(&ids) {
        let account = domain.repository::<Account>().get(id).await.unwrap();
        assert_eq!(*account.balance(), store.balance(name));
        assert_eq!(*account.balance(), lean.balance(name));
        assert_eq!(*account.deposits(), (n / ACCOUNTS) as u64);
    }
    vec![
        Row::new(
            "inmem-yield (hand-written fold and append, with a command log)",
            &manual,
            None,
        ),
        Row::new(
            "inmem-yield: on command Deposit yields Deposited, 100 event-sourced accounts",
            &framework,
            Some(&manual),
        ),
        Row::new(
            "inmem-yield (hand-written fold and append, no command log)",
            &manual_lean,
            None,
        ),
        Row::new(
            "inmem-yield vs the baseline without a command log",
            &framework,
            Some(&manual_lean),
        ),
    ]
}
