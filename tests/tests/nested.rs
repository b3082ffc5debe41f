//! Commands processed from a handler (`ctx.process`) join that handler's unit of work: they
//! commit together or not at all; a nested handler's failure drops only its own changes; each
//! level reads what the others staged.

use domain_core::prelude::*;

#[aggregate]
pub struct NsShelf {
    pub label: String,
    pub books: i64,
}

#[command(part_of = NsShelf)]
pub struct NsOpenShelf {
    pub label: String,
    pub fail_inner: bool,
}

/// Adds a book to a shelf that the outer handler may only have staged so far.
#[command(part_of = NsShelf)]
pub struct NsShelve {
    #[identifier]
    pub shelf: Identifier,
    pub fail: bool,
}

#[event(part_of = NsShelf)]
pub struct NsShelved {
    pub books: i64,
}

#[derive(Default)]
pub struct NsCommands;

#[command_handler(part_of = NsShelf)]
impl NsCommands {
    #[handle(NsOpenShelf)]
    async fn open(&self, command: NsOpenShelf, ctx: &mut Context) -> Result<(Identifier, bool)> {
        let shelf = NsShelf::builder().label(command.label).books(0).build()?;
        let id = shelf.id();
        ctx.repository::<NsShelf>().add(shelf)?;
        // A failing nested command is this handler's to handle: it goes on without it.
        let nested = ctx
            .process(NsShelve {
                shelf: id.clone(),
                fail: command.fail_inner,
            })
            .await;
        Ok((id, nested.is_ok()))
    }

    #[handle(NsShelve)]
    async fn shelve(&self, command: NsShelve, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<NsShelf>();
        // Staged by the outer handler, not yet committed: read through its unit of work.
        let mut shelf = repo.get(&command.shelf).await?;
        shelf.books += 1;
        shelf.raise(NsShelved { books: shelf.books });
        repo.add(shelf)?;
        if command.fail {
            return Err(Error::rule("the shelf is full"));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_nested_command_reads_and_commits_with_the_outer_unit_of_work() {
    let domain = Domain::builder("Nested").build().unwrap();
    let (id, nested_ok) = domain
        .process(NsOpenShelf {
            label: "A".into(),
            fail_inner: false,
        })
        .await
        .unwrap();
    assert!(nested_ok);
    let shelf = domain.repository::<NsShelf>().get(&id).await.unwrap();
    assert_eq!(shelf.books, 1);
    // One commit: version 1, the event in the shelf's stream, both commands logged.
    assert_eq!(shelf.version(), 1);
    let events = domain
        .event_store()
        .stream_of::<NsShelf>(&id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let log = domain.command_log().read_all(0, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        events[0].metadata().causation_id,
        Some(log[1].metadata().id)
    );
}

#[tokio::test]
async fn a_failed_nested_command_drops_only_its_own_changes() {
    let domain = Domain::builder("Nested").build().unwrap();
    let (id, nested_ok) = domain
        .process(NsOpenShelf {
            label: "B".into(),
            fail_inner: true,
        })
        .await
        .unwrap();
    assert!(!nested_ok);
    let shelf = domain.repository::<NsShelf>().get(&id).await.unwrap();
    assert_eq!(shelf.books, 0, "the nested change is gone");
    assert!(
        domain
            .event_store()
            .stream_of::<NsShelf>(&id)
            .await
            .unwrap()
            .is_empty()
    );
    let log = domain.command_log().read_all(0, 10).await.unwrap();
    assert_eq!(log.len(), 1, "only the outer command is logged");
    assert!(log[0].is::<NsOpenShelf>());
}

// ---- a stale copy, concurrent nested commands, and causation per event ----------------------

#[aggregate]
pub struct NsAccount {
    pub balance: i64,
    pub note: String,
}

#[event(part_of = NsAccount)]
pub struct NsMoved {
    pub by: i64,
}

#[command(part_of = NsAccount)]
pub struct NsStaleOuter {
    #[identifier]
    pub account: Identifier,
}

#[command(part_of = NsAccount)]
pub struct NsMove {
    #[identifier]
    pub account: Identifier,
    pub by: i64,
}

#[command(part_of = NsAccount)]
pub struct NsMoveTwiceAtOnce {
    #[identifier]
    pub account: Identifier,
}

#[command(part_of = NsAccount)]
pub struct NsRaiseThenMove {
    #[identifier]
    pub account: Identifier,
}

#[derive(Default)]
pub struct NsAccounts;

#[command_handler(part_of = NsAccount)]
impl NsAccounts {
    /// Reads, processes a command that changes the account, then saves its own stale copy.
    #[handle(NsStaleOuter)]
    async fn stale_outer(&self, command: NsStaleOuter, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<NsAccount>();
        let mut account = repo.get(&command.account).await?;
        ctx.process(NsMove {
            account: command.account.clone(),
            by: 100,
        })
        .await?;
        account.note = "outer".into();
        repo.add(account)
    }

    #[handle(NsMove)]
    async fn move_by(&self, command: NsMove, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<NsAccount>();
        let mut account = repo.get(&command.account).await?;
        tokio::task::yield_now().await; // where a real store's I/O would suspend
        account.balance += command.by;
        account.raise(NsMoved { by: command.by });
        repo.add(account)
    }

    #[handle(NsMoveTwiceAtOnce)]
    async fn twice(&self, command: NsMoveTwiceAtOnce, ctx: &mut Context) -> Result<()> {
        let (one, ten) = tokio::join!(
            ctx.process(NsMove {
                account: command.account.clone(),
                by: 1
            }),
            ctx.process(NsMove {
                account: command.account.clone(),
                by: 10
            }),
        );
        one?;
        ten?;
        Ok(())
    }

    #[handle(NsRaiseThenMove)]
    async fn raise_then_move(&self, command: NsRaiseThenMove, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<NsAccount>();
        let mut account = repo.get(&command.account).await?;
        account.balance += 5;
        account.raise(NsMoved { by: 5 });
        repo.add(account)?;
        ctx.process(NsMove {
            account: command.account.clone(),
            by: 7,
        })
        .await
    }
}

async fn account(domain: &Domain) -> Identifier {
    let account = NsAccount::builder().balance(0).note("n").build().unwrap();
    let id = account.id();
    domain.repository::<NsAccount>().add(account).await.unwrap();
    id
}

/// Saving a copy read before a nested command changed the aggregate would undo that change
/// silently: it is an error, and nothing of the unit of work commits.
#[tokio::test]
async fn a_stale_copy_cannot_overwrite_a_nested_commands_change() {
    let domain = Domain::builder("Nested").build().unwrap();
    let id = account(&domain).await;
    let err = domain
        .process(NsStaleOuter {
            account: id.clone(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StaleCopy { .. }), "{err}");
    let stored = domain.repository::<NsAccount>().get(&id).await.unwrap();
    assert_eq!((stored.balance, stored.note.as_str()), (0, "n"));
    assert!(
        domain
            .event_store()
            .stream_of::<NsAccount>(&id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Two nested commands changing one aggregate at once: the second to finish read a copy the
/// first has changed since, so it fails instead of losing the first one's change.
#[tokio::test]
async fn concurrent_nested_commands_on_one_aggregate_do_not_lose_a_change() {
    let domain = Domain::builder("Nested").build().unwrap();
    let id = account(&domain).await;
    let err = domain
        .process(NsMoveTwiceAtOnce {
            account: id.clone(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StaleCopy { .. }), "{err}");
    assert_eq!(
        domain
            .repository::<NsAccount>()
            .get(&id)
            .await
            .unwrap()
            .balance,
        0
    );
}

/// Each event keeps the command that raised it, across re-stagings of its aggregate.
#[tokio::test]
async fn events_keep_the_causation_of_the_command_that_raised_them() {
    let domain = Domain::builder("Nested").build().unwrap();
    let id = account(&domain).await;
    let processed = domain
        .process_with(
            NsRaiseThenMove {
                account: id.clone(),
            },
            domain_core::CommandOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        domain
            .repository::<NsAccount>()
            .get(&id)
            .await
            .unwrap()
            .balance,
        12
    );
    let events = domain
        .event_store()
        .stream_of::<NsAccount>(&id)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].downcast_ref::<NsMoved>().unwrap().by, 5);
    assert_eq!(
        events[0].metadata().causation_id,
        Some(processed.command_id)
    );
    let log = domain.command_log().read_all(0, 10).await.unwrap();
    let nested = log.iter().find(|c| c.is::<NsMove>()).unwrap();
    assert_eq!(events[1].downcast_ref::<NsMoved>().unwrap().by, 7);
    assert_eq!(
        events[1].metadata().causation_id,
        Some(nested.metadata().id)
    );
}
