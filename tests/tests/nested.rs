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
