//! Units of work: a failing command handler persists and dispatches nothing; optimistic
//! concurrency rejects a write based on a stale version and persists nothing of it.

use std::sync::{Arc, Mutex};

use domain_core::prelude::*;

type Log = Arc<Mutex<Vec<String>>>;

#[aggregate]
pub struct RbWallet {
    pub owner: String,
    #[field(min = 0)]
    pub balance: i64,
}

#[aggregate]
pub struct RbReceipt {
    pub wallet_id: Identifier,
    pub amount: i64,
}

#[event(part_of = RbWallet)]
pub struct RbWalletCreated {
    pub owner: String,
}

#[event(part_of = RbWallet)]
pub struct RbWalletDebited {
    pub amount: i64,
}

#[event(part_of = RbReceipt)]
pub struct RbReceiptIssued {
    pub amount: i64,
}

#[command(part_of = RbWallet)]
pub struct RbCreate {
    pub owner: String,
}

#[command(part_of = RbWallet)]
pub struct RbCreateThenFail {
    pub owner: String,
}

#[command(part_of = RbWallet)]
pub struct RbCreateThenPanic {
    pub owner: String,
}

#[command(part_of = RbWallet)]
pub struct RbCreateInvalid {
    pub owner: String,
}

/// Spends from the stale copy of the wallet the test put in the handler.
#[command(part_of = RbWallet)]
pub struct RbSpendStale {
    #[identifier]
    pub wallet_id: Identifier,
    pub amount: i64,
}

fn created_wallet(owner: &str, balance: i64) -> RbWallet {
    let mut wallet = RbWallet::builder()
        .owner(owner)
        .balance(balance)
        .build()
        .unwrap();
    wallet.raise(RbWalletCreated {
        owner: owner.into(),
    });
    wallet
}

fn issued_receipt(wallet_id: Identifier, amount: i64) -> RbReceipt {
    let mut receipt = RbReceipt::builder()
        .wallet_id(wallet_id)
        .amount(amount)
        .build()
        .unwrap();
    receipt.raise(RbReceiptIssued { amount });
    receipt
}

pub struct RbCommands {
    stale: Arc<Mutex<Option<RbWallet>>>,
}

#[command_handler(part_of = RbWallet)]
impl RbCommands {
    #[handle(RbCreate)]
    fn create(&self, command: RbCreate, ctx: &mut Context) -> Result<Identifier> {
        let wallet = created_wallet(&command.owner, 10);
        let id = wallet.id();
        ctx.repository::<RbWallet>().add(wallet)?;
        Ok(id)
    }

    #[handle(RbCreateThenFail)]
    async fn create_then_fail(&self, command: RbCreateThenFail, ctx: &mut Context) -> Result<()> {
        let wallet = created_wallet(&command.owner, 10);
        let id = wallet.id();
        ctx.repository::<RbWallet>().add(wallet)?;
        ctx.repository::<RbReceipt>()
            .add(issued_receipt(id.clone(), 1))?;
        // The handler sees what it staged...
        assert_eq!(
            ctx.repository::<RbWallet>().get(&id).await?.owner,
            command.owner
        );
        // ...and then fails.
        Err(Error::rule("created, then changed my mind"))
    }

    #[handle(RbCreateThenPanic)]
    fn create_then_panic(&self, command: RbCreateThenPanic, ctx: &mut Context) -> Result<()> {
        ctx.repository::<RbWallet>()
            .add(created_wallet(&command.owner, 10))?;
        panic!("command handler exploded");
    }

    #[handle(RbCreateInvalid)]
    fn create_invalid(&self, command: RbCreateInvalid, ctx: &mut Context) -> Result<()> {
        ctx.repository::<RbReceipt>()
            .add(issued_receipt(Identifier::new(), 5))?;
        let mut wallet = created_wallet(&command.owner, 10);
        wallet.balance = -5; // invalid: min = 0
        ctx.repository::<RbWallet>().add(wallet)
    }

    #[handle(RbSpendStale)]
    fn spend_stale(&self, command: RbSpendStale, ctx: &mut Context) -> Result<()> {
        let mut wallet = self
            .stale
            .lock()
            .unwrap()
            .take()
            .expect("the test gives a stale copy");
        assert_eq!(wallet.id(), command.wallet_id);
        ctx.repository::<RbReceipt>()
            .add(issued_receipt(wallet.id(), command.amount))?;
        wallet.balance -= command.amount;
        wallet.raise(RbWalletDebited {
            amount: command.amount,
        });
        ctx.repository::<RbWallet>().add(wallet)
    }
}

/// Records every dispatched event.
pub struct RbObserver {
    log: Log,
}

#[event_handler(part_of = RbReceipt, stream_category = "$all")]
impl RbObserver {
    #[handle($any)]
    fn any(&self, event: &EventEnvelope) {
        let detail = match event.downcast_ref::<RbWalletDebited>() {
            Some(debit) => format!("RbWalletDebited({})", debit.amount),
            None => event.event_name().to_string(),
        };
        self.log.lock().unwrap().push(detail);
    }
}

struct Fixture {
    domain: Domain,
    log: Log,
    stale: Arc<Mutex<Option<RbWallet>>>,
}

fn fixture() -> Fixture {
    let log = Log::default();
    let stale = Arc::new(Mutex::new(None));
    let domain = Domain::builder("Rollback")
        .handler(RbCommands {
            stale: stale.clone(),
        })
        .handler(RbObserver { log: log.clone() })
        .build()
        .expect("the rollback domain is consistent");
    Fixture { domain, log, stale }
}

impl Fixture {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    async fn assert_nothing_persisted(&self) {
        assert_eq!(
            self.domain
                .repository::<RbWallet>()
                .query()
                .count()
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            self.domain
                .repository::<RbReceipt>()
                .query()
                .count()
                .await
                .unwrap(),
            0
        );
        assert_eq!(self.domain.event_store().last_position().await.unwrap(), 0);
        assert!(
            self.domain
                .event_store()
                .read_all(0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(self.log().is_empty(), "dispatched: {:?}", self.log());
    }
}

#[tokio::test]
async fn successful_command_commits_and_dispatches() {
    let f = fixture();
    let id = f
        .domain
        .process(RbCreate {
            owner: "ann".into(),
        })
        .await
        .unwrap();
    let wallet = f.domain.repository::<RbWallet>().get(&id).await.unwrap();
    assert_eq!(wallet.version(), 1);
    assert_eq!(f.log(), ["RbWalletCreated"]);
}

#[tokio::test]
async fn failing_command_persists_nothing_and_dispatches_nothing() {
    let f = fixture();
    let error = f
        .domain
        .process(RbCreateThenFail {
            owner: "bob".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Rule(message) if message == "created, then changed my mind"),
        "{error:?}"
    );
    f.assert_nothing_persisted().await;
}

#[tokio::test]
async fn panicking_command_handler_is_an_error_and_persists_nothing() {
    let f = fixture();
    let error = f
        .domain
        .process(RbCreateThenPanic { owner: "cy".into() })
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("command handler exploded"),
        "{error}"
    );
    f.assert_nothing_persisted().await;
}

#[tokio::test]
async fn invalid_staged_aggregate_fails_the_whole_unit_of_work() {
    let f = fixture();
    let error = f
        .domain
        .process(RbCreateInvalid {
            owner: "dee".into(),
        })
        .await
        .unwrap_err();
    let Error::Validation(errors) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["balance"]);
    f.assert_nothing_persisted().await;
}

#[tokio::test]
async fn concurrent_modification_is_a_conflict_and_persists_nothing_of_the_loser() {
    let f = fixture();
    let repo = f.domain.repository::<RbWallet>();
    let wallet = created_wallet("eve", 100);
    let id = wallet.id();
    repo.add(wallet).await.unwrap();

    let mut first = repo.get(&id).await.unwrap();
    let mut second = repo.get(&id).await.unwrap();
    assert_eq!((first.version(), second.version()), (1, 1));

    first.balance -= 10;
    first.raise(RbWalletDebited { amount: 10 });
    repo.add(first).await.unwrap();

    second.balance -= 50;
    second.raise(RbWalletDebited { amount: 50 });
    let error = repo.add(second).await.unwrap_err();
    match &error {
        Error::Conflict {
            aggregate,
            id: conflict_id,
            expected,
            actual,
        } => {
            assert_eq!(*aggregate, "RbWallet");
            assert_eq!(*conflict_id, id.to_string());
            assert_eq!((*expected, *actual), (1, 2));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    let stored = repo.get(&id).await.unwrap();
    assert_eq!(stored.balance, 90);
    assert_eq!(stored.version(), 2);
    let stream: Vec<String> = f
        .domain
        .event_store()
        .read_stream(&format!("rb_wallet-{id}"))
        .await
        .unwrap()
        .iter()
        .map(|e| match e.downcast_ref::<RbWalletDebited>() {
            Some(debit) => format!("RbWalletDebited({})", debit.amount),
            None => e.event_name().to_string(),
        })
        .collect();
    assert_eq!(stream, ["RbWalletCreated", "RbWalletDebited(10)"]);
    assert_eq!(f.log(), ["RbWalletCreated", "RbWalletDebited(10)"]);

    // Reloading and retrying works.
    let mut retry = repo.get(&id).await.unwrap();
    retry.balance -= 50;
    retry.raise(RbWalletDebited { amount: 50 });
    repo.add(retry).await.unwrap();
    let stored = repo.get(&id).await.unwrap();
    assert_eq!((stored.balance, stored.version()), (40, 3));
}

#[tokio::test]
async fn adding_the_same_new_aggregate_twice_conflicts() {
    let f = fixture();
    let repo = f.domain.repository::<RbWallet>();
    let wallet = RbWallet::builder().owner("fay").balance(1).build().unwrap();
    repo.add(wallet.clone()).await.unwrap();
    let error = repo.add(wallet).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(repo.query().count().await.unwrap(), 1);
}

#[tokio::test]
async fn conflict_in_a_command_rolls_back_every_staged_aggregate() {
    let f = fixture();
    let repo = f.domain.repository::<RbWallet>();
    let wallet = created_wallet("gus", 100);
    let id = wallet.id();
    repo.add(wallet).await.unwrap();

    // Someone else updates the wallet after the handler's copy was loaded.
    let stale = repo.get(&id).await.unwrap();
    let mut fresh = repo.get(&id).await.unwrap();
    fresh.owner = "gus (renamed)".into();
    repo.add(fresh).await.unwrap();
    *f.stale.lock().unwrap() = Some(stale);
    f.log.lock().unwrap().clear();

    let error = f
        .domain
        .process(RbSpendStale {
            wallet_id: id.clone(),
            amount: 30,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Conflict {
                aggregate: "RbWallet",
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{error:?}"
    );
    // The receipt staged with the stale wallet was not persisted either, and nothing dispatched.
    assert_eq!(
        f.domain
            .repository::<RbReceipt>()
            .query()
            .count()
            .await
            .unwrap(),
        0
    );
    assert!(
        f.domain
            .event_store()
            .read_category("rb_receipt", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = repo.get(&id).await.unwrap();
    assert_eq!(
        (stored.owner.as_str(), stored.balance, stored.version()),
        ("gus (renamed)", 100, 2)
    );
    assert_eq!(
        f.domain
            .event_store()
            .read_stream(&format!("rb_wallet-{id}"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(f.log().is_empty());
}
