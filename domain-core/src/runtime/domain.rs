//! The `Domain` API: building a domain, processing commands, repositories, and reading the event
//! store and the command log.
//!
//! `process(cmd)` runs the command's one handler in a unit of work, commits, and only then hands
//! the committed events to the domain's dispatcher (`runtime::dispatch`), as does every other path
//! that commits: a repository `add` and a retried delivery.

use std::any::{Any, TypeId};

use foldhash::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use uuid::Uuid;

use crate::model::clause::IgnoredMessages;
use crate::model::error::{CommittedOutput, Error, HandlerFailure, Result};
use crate::model::identifier::Identifier;
use crate::model::message::{EventEnvelope, Metadata, RecordedCommand, stream_category};
use crate::model::query::Filter;
use crate::model::{Aggregate, Command};
use crate::runtime::chain::Chain;
use crate::runtime::context::{Context, Query, Reader};
use crate::runtime::core::{CommandOptions, Dispatcher, DomainInner, Parent};
use crate::runtime::dispatch::{SyncDispatcher, deliver, describe_failure};
use crate::runtime::engine::{ENGINE_POLL, Engine, SubscriptionStatus};
use crate::runtime::handler::{CatchPanic, HandledCommand, pending_command, prepare};
use crate::runtime::query_handler::{HandledQuery, QueryContext};
use crate::runtime::registry::{
    DOMAIN_CORE_REGISTRATIONS, EventHandlerRegistration, Instance, Register, Registration, Registry,
};
use crate::runtime::retry::{Parked, RetryPolicies, RetryPolicy};
use crate::runtime::submission::CommandQueue;
use crate::runtime::subscription::CheckpointedDispatcher;
use crate::runtime::unit_of_work::UnitOfWork;
use crate::store::memory::MemoryStore;
use crate::store::{
    Causation, DeliveryMark, DeliveryState, FailedDelivery, Store, StoreOptions, Submission,
};

/// A running domain: registry, stores and processing. Cheap to clone (shared inside).
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Book { #[field(max_length = 200)] pub title: String }
///
/// #[command(part_of = Book)]
/// pub struct AddBook { pub title: String }
///
/// #[derive(Default)]
/// pub struct Books;
///
/// #[command_handler(part_of = Book)]
/// impl Books {
///     #[handle(AddBook)]
///     fn add(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
///         let book = Book::builder().title(command.title).build()?;
///         let id = book.id();
///         ctx.repository::<Book>().add(book)?;
///         Ok(id)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Bookshelf").build()?;
/// let id: Identifier = domain.process(AddBook { title: "Dune".into() }).await?;
/// assert_eq!(domain.repository::<Book>().get(&id).await?.title, "Dune");
///
/// let too_long = domain.process(AddBook { title: "x".repeat(201) }).await.unwrap_err();
/// assert!(matches!(too_long, Error::Validation(_)));
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Domain {
    inner: Arc<DomainInner>,
    /// The subscriptions, when delivery goes through them (durable stores, async processing).
    subscriptions: Option<Arc<CheckpointedDispatcher>>,
    /// Runs submitted commands (async command processing).
    commands: Arc<CommandQueue>,
}

/// Configures and builds a [`Domain`].
///
/// By default every element linked into the binary registers itself (linkme). Elements from a
/// library crate that the binary never names are not linked: name the crate (`use my_domain as _;`)
/// or register its types explicitly with [`DomainBuilder::register`].
pub struct DomainBuilder {
    name: String,
    auto_registration: bool,
    explicit: Vec<&'static Registration>,
    instances: HashMap<TypeId, Instance>,
    database: Option<String>,
    external_categories: Vec<String>,
    store_options: StoreOptions,
    event_processing: Option<EventProcessing>,
    handler_processing: HashMap<TypeId, EventProcessing>,
    retry_policy: Option<RetryPolicy>,
    handler_retry: HashMap<TypeId, RetryPolicy>,
    command_retry: Option<RetryPolicy>,
    ignored: IgnoredMessages,
    /// The type names given to `handler_processing` / `handler_retry_policy`, checked at build:
    /// each must be a registered event handler.
    handler_options: Vec<(TypeId, &'static str)>,
    /// A pool the caller made, used instead of connecting to a URL.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pool: Option<crate::store::sql::GivenPool>,
}

/// How a domain's event handlers receive committed events.
///
/// - `Sync` (the default): `process` delivers the command's events, and the reactions they
///   cause, before it returns, and reports every failed delivery to its caller.
/// - `Async`: `process` returns after the command's own commit; the domain's [`Engine`] delivers
///   from the log, in the background, at least once (exactly once in effect for handlers whose
///   effects are writes to the store). Failures are recorded for retry, not returned. Run the
///   engine (`tokio::spawn(domain.engine().run_until(shutdown))`), or call
///   [`Domain::settle`] to deliver everything committed so far.
///
/// Set it for the domain with [`DomainBuilder::event_processing`] or the
/// `DOMAIN_EVENT_PROCESSING` environment variable (`sync` or `async`), and per handler with
/// [`DomainBuilder::handler_processing`].
///
/// ```
/// use domain_core::EventProcessing;
/// assert_eq!("async".parse::<EventProcessing>(), Ok(EventProcessing::Async));
/// assert!("later".parse::<EventProcessing>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventProcessing {
    /// Delivered by `process` before it returns.
    Sync,
    /// Delivered by the engine after `process` returns.
    Async,
}

impl std::str::FromStr for EventProcessing {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sync" => Ok(EventProcessing::Sync),
            "async" => Ok(EventProcessing::Async),
            _ => Err(format!(
                "`{text}` is not an event processing mode: expected `sync` or `async`"
            )),
        }
    }
}

/// The environment variable [`DomainBuilder::build`] and [`DomainBuilder::open`] read the event
/// processing mode from when [`DomainBuilder::event_processing`] was not called.
///
/// ```
/// // DOMAIN_EVENT_PROCESSING=async ./my-service
/// assert_eq!(domain_core::EVENT_PROCESSING_VAR, "DOMAIN_EVENT_PROCESSING");
/// ```
pub const EVENT_PROCESSING_VAR: &str = "DOMAIN_EVENT_PROCESSING";

/// The environment variable [`DomainBuilder::open`] reads the database URL from when
/// [`DomainBuilder::database`] was not called: `sqlite://app.db`, `postgres://...` or `memory:`.
///
/// ```
/// // DOMAIN_DATABASE_URL=sqlite://shop.db ./my-service
/// assert_eq!(domain_core::DATABASE_URL_VAR, "DOMAIN_DATABASE_URL");
/// ```
pub const DATABASE_URL_VAR: &str = "DOMAIN_DATABASE_URL";

impl Domain {
    /// Starts configuring a domain named `name` (the prefix of message type names).
    pub fn builder(name: impl Into<String>) -> DomainBuilder {
        DomainBuilder {
            name: name.into(),
            auto_registration: true,
            explicit: Vec::new(),
            instances: HashMap::default(),
            database: None,
            external_categories: Vec::new(),
            store_options: StoreOptions::default(),
            event_processing: None,
            handler_processing: HashMap::default(),
            retry_policy: None,
            handler_retry: HashMap::default(),
            command_retry: None,
            ignored: IgnoredMessages::Report,
            handler_options: Vec::new(),
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            pool: None,
        }
    }

    /// The domain's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Processes a command: runs its handler, commits, dispatches the events, and returns the
    /// handler's value. If event handlers fail, the command's commit stands, every failed delivery
    /// is recorded, and the error lists them with the handler's value
    /// ([`Error::HandlersFailed`]; take the value with [`Error::into_committed`]).
    pub async fn process<C: HandledCommand>(&self, command: C) -> Result<C::Output> {
        self.process_with(command, CommandOptions::default())
            .await?
            .into_result()
    }

    /// Answers a query (RIDDL: `on query JustGetIt { then return JustGotIt .. }`) with its one
    /// `#[on_query]` handler: Rust over the aggregates, or SQL whose `%name` parameters are bound
    /// from the query's fields. The query is validated first. A query answered by SQL on the
    /// in-memory store is [`Error::SqlQueryOnMemory`].
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Shelf { pub books: i64 }
    ///
    /// #[response]
    /// pub struct Count { pub books: i64 }
    ///
    /// #[query(result = Count)]
    /// pub struct CountBooks { pub shelf: Identifier }
    ///
    /// #[command(part_of = Shelf)]
    /// pub struct Unused {}
    ///
    /// #[aggregate(event_sourced)]
    /// pub struct Library { pub shelves: u32 }
    ///
    /// #[entity_handler]
    /// impl Library {
    ///     #[on_query]
    ///     async fn count_books(query: CountBooks, ctx: QueryContext<'_>) -> Result<Count> {
    ///         let shelf = ctx.get::<Shelf>(&query.shelf).await?;
    ///         Ok(Count { books: shelf.books })
    ///     }
    /// }
    /// # #[derive(Default)] pub struct Desk;
    /// # #[command_handler(part_of = Shelf)]
    /// # impl Desk { #[handle(Unused)] fn unused(&self, _c: Unused, _ctx: &mut Context) -> Result<()> { Ok(()) } }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Library").build()?;
    /// let shelf = Shelf::builder().books(3).build()?;
    /// let id = shelf.id();
    /// domain.repository::<Shelf>().add(shelf).await?;
    /// assert_eq!(domain.query(CountBooks { shelf: id }).await?, Count { books: 3 });
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn query<Q: HandledQuery>(&self, query: Q) -> Result<Q::Result> {
        query.validate()?;
        let reader = Reader {
            inner: &self.inner,
            units: &[],
        };
        Q::handle(query, QueryContext { reader }).await
    }

    /// Processes a command with caller-given metadata, and reports what happened without turning
    /// failed deliveries into an error: the handler's value, the command's message id and
    /// correlation id, and the failed deliveries (recorded for retry). An `Err` means the command
    /// did not commit (invalid, refused by its handler, a conflict, a store failure).
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    /// use domain_core::{CommandOptions, Uuid};
    ///
    /// #[aggregate]
    /// pub struct Ticket { pub title: String }
    ///
    /// #[event(part_of = Ticket)]
    /// pub struct TicketOpened { pub title: String }
    ///
    /// #[command(part_of = Ticket)]
    /// pub struct OpenTicket { pub title: String }
    ///
    /// #[derive(Default)]
    /// pub struct Desk;
    ///
    /// #[command_handler(part_of = Ticket)]
    /// impl Desk {
    ///     #[handle(OpenTicket)]
    ///     fn open(&self, command: OpenTicket, ctx: &mut Context) -> Result<Identifier> {
    ///         let mut ticket = Ticket::builder().title(command.title.clone()).build()?;
    ///         ticket.raise(TicketOpened { title: command.title });
    ///         let id = ticket.id();
    ///         ctx.repository::<Ticket>().add(ticket)?;
    ///         Ok(id)
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Helpdesk").build()?;
    /// let request_id = Uuid::new_v4();                      // e.g. an HTTP request id
    /// let processed = domain
    ///     .process_with(OpenTicket { title: "printer".into() }, CommandOptions::new().correlation_id(request_id))
    ///     .await?;
    /// assert!(processed.failures.is_empty());
    /// assert_eq!(processed.correlation_id, request_id);
    ///
    /// let stream = domain.event_store().stream_of::<Ticket>(&processed.output).await?;
    /// assert_eq!(stream[0].metadata().correlation_id, request_id);
    /// assert_eq!(stream[0].metadata().causation_id, Some(processed.command_id));
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn process_with<C: HandledCommand>(
        &self,
        command: C,
        options: CommandOptions,
    ) -> Result<Processed<C::Output>> {
        let chain = self.inner.dispatcher.chain();
        let (output, events, started) = self
            .inner
            .execute(command, Parent::Caller(options), chain.clone())
            .await;
        // A failed handler committed nothing, nested commands included: nothing to deliver.
        let output = output?;
        let (metadata, span) = started.expect("a command that committed has metadata");
        // Deliveries are children of the command's span.
        let delivery = self.inner.deliver_committed(events, chain);
        let failures = if span.is_disabled() {
            delivery.await
        } else {
            tracing::Instrument::instrument(delivery, span).await
        };
        Ok(Processed {
            output,
            command_id: metadata.id,
            correlation_id: metadata.correlation_id,
            failures,
        })
    }

    /// Processes a serialized command, named by its type name (`Bookshelf.AddBook.v1`) or its short
    /// name (`AddBook`). The handler's value is returned boxed.
    ///
    /// Bad input gets one complete answer, as from a builder: every missing field ("is
    /// required"), mistyped field (serde's message for that field alone: what was expected),
    /// undeclared field ("is not a field of `AddBook`") and field failing its `#[field(...)]`
    /// options is listed in one [`Error::Validation`], by path (`price.amount`,
    /// `items[1].quantity` inside value objects). Fields that decoded are validated even when
    /// others did not, so both kinds come together. Absent `Option`, collection and
    /// `#[field(default)]` fields take their defaults.
    ///
    /// Input that is not JSON, or JSON that is not an object, is [`Error::Malformed`]: there are
    /// no fields to name. So is any failure of a command whose struct or fields carry their own
    /// `#[serde(..)]` attributes (only serde knows that JSON form; its first error is reported),
    /// and a value object with them is reported at the field holding it. Quoted input is cut
    /// short, and at most 20 undeclared fields, or failing elements of one list, are named.
    ///
    /// Decoding is serde's, as for any message: the field-by-field walk runs only when it fails,
    /// so valid input costs what it did.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Book { pub title: String }
    ///
    /// #[value_object]
    /// pub struct Money {
    ///     #[field(min = 0.0)]
    ///     pub amount: f64,
    /// }
    ///
    /// #[command(part_of = Book)]
    /// pub struct AddBook {
    ///     #[field(max_length = 200)]
    ///     pub title: String,
    ///     pub author: String,
    ///     pub price: Money,
    /// }
    ///
    /// #[derive(Default)]
    /// pub struct Books;
    ///
    /// #[command_handler(part_of = Book)]
    /// impl Books {
    ///     #[handle(AddBook)]
    ///     fn add(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
    ///         let book = Book::builder().title(command.title).build()?;
    ///         let id = book.id();
    ///         ctx.repository::<Book>().add(book)?;
    ///         Ok(id)
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Bookshelf").build()?;
    /// let json = r#"{"title": "Dune", "author": "Herbert", "price": {"amount": 9.5}}"#;
    /// let output = domain.process_json("AddBook", json).await?;
    /// let id = output.downcast::<Identifier>().expect("the handler's value");
    /// assert_eq!(domain.repository::<Book>().get(&id).await?.title, "Dune");
    ///
    /// // Missing, mistyped, undeclared and invalid, nested too: all in one answer.
    /// let json = r#"{"title": 1965, "price": {"amount": -1}, "isbn": "9780441013593"}"#;
    /// let Err(Error::Validation(errors)) = domain.process_json("AddBook", json).await else {
    ///     panic!("expected a validation error");
    /// };
    /// assert_eq!(errors.fields().collect::<Vec<_>>(), ["author", "isbn", "price.amount", "title"]);
    /// assert_eq!(errors.messages("author"), ["is required"]);
    /// assert_eq!(errors.messages("isbn"), ["is not a field of `AddBook`"]);
    /// assert_eq!(errors.messages("price.amount"), ["is less than the minimum 0 (got -1)"]);
    /// assert_eq!(errors.messages("title"), ["invalid type: integer `1965`, expected a string"]);
    ///
    /// // Not an object: no fields to name.
    /// let not_an_object = domain.process_json("AddBook", "[1, 2]").await.unwrap_err();
    /// assert!(matches!(not_an_object, Error::Malformed { .. }));
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn process_json(&self, type_name: &str, json: &str) -> Result<Box<dyn Any + Send>> {
        let registry = &self.inner.registry;
        let full = if type_name.contains('.') {
            type_name.to_string()
        } else {
            format!("{}.{type_name}.v1", self.inner.name)
        };
        let Some(type_id) = registry.commands_by_name.get(full.as_str()) else {
            return Err(Error::UnknownMessageType {
                type_name: crate::model::error::shorten(type_name),
                known: registry.known_commands(),
            });
        };
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::malformed(&full, e))?;
        let entry = registry.commands[type_id]
            .entry
            .ok_or_else(|| Error::NoHandler {
                command: full.clone(),
                hint: "",
            })?;
        (entry.process_json)(self, value).await
    }

    /// Submits a command for the engine to run (async command processing; Protean's
    /// `command_processing = "async"`), and returns as soon as it is in the command log: its
    /// id and its position there. The command is validated and its handler looked up first, so
    /// bad input and an unregistered command are errors here, not later.
    ///
    /// The engine ([`Domain::engine`], or [`Domain::settle`]) runs submitted commands in
    /// submission order, each in a unit of work whose commit also marks it done: its effect on
    /// the store happens once, even with several engines or a crash mid-handler. (Its handler
    /// may *run* more than once then: effects outside the store should be idempotent, keyed by
    /// the command id.) An id
    /// submitted twice ([`CommandOptions::command_id`]) is logged and run once; the second
    /// submit returns the first's position with `duplicate` set. A handler that refuses the
    /// command (a validation or rule error, a panic) fails it at once; other errors are retried
    /// with backoff ([`DomainBuilder::command_retry_policy`]) and fail it when the attempts run
    /// out. An attempt is counted before the handler runs, so a command that kills the process
    /// is given up on too. See where a command stands with [`Domain::submission`].
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    /// use domain_core::{CommandOptions, SubmissionState, Uuid};
    ///
    /// #[aggregate]
    /// pub struct Ticket { pub title: String }
    ///
    /// #[command(part_of = Ticket)]
    /// pub struct OpenTicket { pub title: String }
    ///
    /// #[derive(Default)]
    /// pub struct Desk;
    ///
    /// #[command_handler(part_of = Ticket)]
    /// impl Desk {
    ///     #[handle(OpenTicket)]
    ///     fn open(&self, command: OpenTicket, ctx: &mut Context) -> Result<()> {
    ///         ctx.repository::<Ticket>().add(Ticket::builder().title(command.title).build()?)
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Helpdesk").build()?;
    /// let id = Uuid::new_v4(); // e.g. the client's idempotency key
    /// let submitted = domain
    ///     .submit_with(OpenTicket { title: "printer".into() }, CommandOptions::new().command_id(id))
    ///     .await?;
    /// assert_eq!((submitted.command_id, submitted.duplicate), (id, false));
    /// let again = domain
    ///     .submit_with(OpenTicket { title: "printer".into() }, CommandOptions::new().command_id(id))
    ///     .await?;
    /// assert!(again.duplicate && again.position == submitted.position);
    ///
    /// domain.settle().await?; // or let the engine run it
    /// assert_eq!(domain.submission(id).await?.unwrap().state, SubmissionState::Done);
    /// assert_eq!(domain.repository::<Ticket>().query().count().await?, 1);
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn submit<C: HandledCommand>(&self, command: C) -> Result<Submitted> {
        self.submit_with(command, CommandOptions::default()).await
    }

    /// [`Domain::submit`] with caller-given metadata (the command id that makes a submit
    /// idempotent, a correlation id).
    pub async fn submit_with<C: HandledCommand>(
        &self,
        command: C,
        options: CommandOptions,
    ) -> Result<Submitted> {
        let (_, metadata) = prepare(&self.inner, &command, Parent::Caller(options))?;
        let record = pending_command(&command, metadata.clone())?;
        let (position, fresh) = self.inner.store.submit(record).await?;
        if fresh {
            self.commands.submitted();
        }
        Ok(Submitted {
            command_id: metadata.id,
            correlation_id: metadata.correlation_id,
            position,
            duplicate: !fresh,
        })
    }

    /// Where the submitted command with this id stands: pending, done or failed, with its
    /// attempts and last error; `None` for an id that was never submitted.
    pub async fn submission(&self, command_id: Uuid) -> Result<Option<Submission>> {
        self.inner.store.submission(command_id).await
    }

    /// The submitted commands that failed (refused by their handler, or out of attempts),
    /// oldest first.
    pub async fn failed_submissions(&self) -> Result<Vec<Submission>> {
        self.inner.store.failed_submissions().await
    }

    /// Makes a failed submission pending again, with its attempts reset: the engine runs it
    /// anew. [`Error::NotFound`] if no failed submission has this id.
    pub async fn retry_submission(&self, command_id: Uuid) -> Result<()> {
        if self.inner.store.resubmit(command_id).await? {
            self.commands.submitted();
            return Ok(());
        }
        Err(Error::NotFound {
            aggregate: "failed submission",
            id: command_id.to_string(),
        })
    }

    /// The engine that delivers to the handlers of async processing ([`EventProcessing`]), and
    /// runs submitted commands ([`Domain::submit`]): run it in a task of its own
    /// (`tokio::spawn(domain.engine().run_until(shutdown))`).
    pub fn engine(&self) -> Engine {
        Engine {
            inner: self.inner.clone(),
            subscriptions: self.subscriptions.clone(),
            commands: self.commands.clone(),
            poll: ENGINE_POLL,
        }
    }

    /// Delivers everything committed so far, in the caller's task, to every handler (the
    /// engine's too), and runs every submitted command that is due ([`Domain::submit`]; one
    /// waiting out its retry backoff stays pending), with what those commit in turn, until the
    /// log's head stops moving; returns that head. For tests and for callers that need the reactions now; safe
    /// while an engine runs (deliveries to one subscription take turns). With the in-memory
    /// store in sync mode, everything is delivered already.
    pub async fn settle(&self) -> Result<u64> {
        loop {
            let head = match &self.subscriptions {
                Some(subscriptions) => subscriptions.settle(&self.inner, None).await?,
                None => self.inner.store.last_position().await?,
            };
            // Submitted commands due now run too; what they commit is delivered next round.
            if self.commands.run_due(&self.inner, None, None).await? == 0 {
                return Ok(head);
            }
        }
    }

    /// Records every subscription's checkpoint where this process has got to: call it on a
    /// graceful stop. Handlers that write nothing record their progress lazily (every 32
    /// deliveries); without this, the next start delivers those again (at least once, as
    /// promised, but avoidable). The engine does it itself when it stops. Nothing to do for the
    /// in-memory store in sync mode.
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Shop").build()?;
    /// // ... serve requests ..., then on SIGTERM:
    /// domain.record_progress().await?;
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn record_progress(&self) -> Result<()> {
        match &self.subscriptions {
            Some(subscriptions) => subscriptions.persist_all(&self.inner).await,
            None => Ok(()),
        }
    }

    /// Where each event handler's subscription stands: its position in the log and its lag
    /// behind the head as this process last saw it. Empty for the in-memory store in sync mode,
    /// which delivers without subscriptions.
    pub fn subscriptions(&self) -> Vec<SubscriptionStatus> {
        let Some(subscriptions) = &self.subscriptions else {
            return Vec::new();
        };
        let positions = subscriptions.positions();
        let head = positions
            .iter()
            .map(|p| p.2)
            .max()
            .unwrap_or(0)
            .max(subscriptions.head());
        positions
            .into_iter()
            .map(|(handler, inline, position)| SubscriptionStatus {
                handler,
                background: !inline,
                position,
                lag: head.saturating_sub(position),
            })
            .collect()
    }

    /// The repository of `A` (reads, and writes that commit and dispatch at once).
    pub fn repository<A: Aggregate>(&self) -> DomainRepository<'_, A> {
        DomainRepository {
            domain: self,
            _aggregate: PhantomData,
        }
    }

    /// Reads the event store.
    pub fn event_store(&self) -> EventStore<'_> {
        EventStore { domain: self }
    }

    /// Reads the command log: every command that committed, with its metadata and payload.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Book { pub title: String }
    ///
    /// #[command(part_of = Book)]
    /// pub struct AddBook { pub title: String }
    ///
    /// #[derive(Default)]
    /// pub struct Books;
    ///
    /// #[command_handler(part_of = Book)]
    /// impl Books {
    ///     #[handle(AddBook)]
    ///     fn add(&self, command: AddBook, ctx: &mut Context) -> Result<()> {
    ///         ctx.repository::<Book>().add(Book::builder().title(command.title).build()?)
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Bookshelf").build()?;
    /// domain.process(AddBook { title: "Dune".into() }).await?;
    /// let commands = domain.command_log().read_all(0, 100).await?;
    /// assert_eq!(commands[0].decode::<AddBook>()?.title, "Dune");
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn command_log(&self) -> CommandLog<'_> {
        CommandLog { domain: self }
    }

    /// The type name of event or command `T` in this domain, e.g. `Bookshelf.BookAdded.v1`.
    pub fn type_name_of<T: 'static>(&self) -> Option<&str> {
        let registry = &self.inner.registry;
        let id = TypeId::of::<T>();
        registry
            .events
            .get(&id)
            .map(|e| &*e.type_name)
            .or_else(|| registry.commands.get(&id).map(|c| &*c.type_name))
    }

    /// Every failed delivery still open (parked, or blocked behind a parked one of its
    /// stream), oldest first: the dead letters. Skipped ones are in
    /// [`Domain::skipped_deliveries`].
    pub async fn failed_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        self.inner.store.failed_deliveries().await
    }

    /// Retries one parked delivery. The record is claimed first (one attempt counted before the
    /// handler runs), so two processes retrying at once never run the handler twice: the loser
    /// gets [`Error::DeliveryClaimed`]. On success the record is removed, the events the handler
    /// committed are dispatched, and the deliveries blocked behind it (later events of its
    /// stream) are delivered in order; one that fails becomes the stream's parked delivery. On
    /// failure the claim is released and the record stays, with the new error. The record is
    /// deleted in the handler's own transaction, so a store-writing handler's retry takes effect
    /// once even if the process dies right after; a retry whose claim expired
    /// ([`RETRY_CLAIM`]) while its handler ran finds the record taken by another retrier and
    /// commits nothing ([`Error::DeliveryClaimed`]). A handler that writes nothing has its record
    /// deleted after it returns (at least once). A blocked delivery cannot be retried before the
    /// one it waits behind ([`Error::DeliveryBlocked`]).
    pub async fn retry_delivery(&self, id: Uuid) -> Result<()> {
        let record = self.open_record(id).await?;
        if let DeliveryState::Blocked { behind } = record.state {
            if self.inner.store.failure(behind).await?.is_some() {
                return Err(Error::DeliveryBlocked { id, behind });
            }
            // What it waited behind is gone (resolved or skipped as this was recorded): it heads
            // its stream now.
            self.inner.store.promote(behind, id).await?;
            if let Some(handler) = self.inner.registry.event_handler(&record.handler) {
                let stream = &record.event.metadata.stream;
                self.inner.parked.replace(handler.path, stream, Some(id));
            }
        }
        let mut failures = Vec::new();
        if self.retry_one(id, &mut failures).await?
            && let Err(error) = self.release_stream(&record, &mut failures).await
        {
            // It succeeded: what failed is the release of those behind it.
            failures.push(Self::unreleased(&record, error));
        }
        failures_to_result(failures)
    }

    /// The record `id`, if it is still open (not skipped).
    async fn open_record(&self, id: Uuid) -> Result<FailedDelivery> {
        match self.inner.store.failure(id).await? {
            Some(record) if !matches!(record.state, DeliveryState::Skipped { .. }) => Ok(record),
            _ => Err(Error::NotFound {
                aggregate: "FailedDelivery",
                id: id.to_string(),
            }),
        }
    }

    /// Claims and runs the delivery `id` once; `true` if it succeeded (its record is gone).
    /// Failures (its own, or of what its handler's events caused) are pushed onto `failures`.
    async fn retry_one(&self, id: Uuid, failures: &mut Vec<HandlerFailure>) -> Result<bool> {
        let inner = &self.inner;
        let claimant = Uuid::new_v4();
        let now = SystemTime::now();
        let Some(failed) = inner
            .store
            .claim_failure(id, claimant, now, now + RETRY_CLAIM)
            .await?
        else {
            return Err(match inner.store.failure(id).await? {
                Some(_) => Error::DeliveryClaimed { id },
                None => Error::NotFound {
                    aggregate: "FailedDelivery",
                    id: id.to_string(),
                },
            });
        };
        let Some(handler) = inner.registry.event_handler(&failed.handler) else {
            let error = format!(
                "handler `{}` is no longer registered (or its short name is now ambiguous)",
                failed.handler
            );
            inner.store.release_failure(id, claimant, &error).await?;
            return Err(Error::Store(error));
        };
        let chain = inner.dispatcher.chain();
        // The record is deleted in the handler's own transaction: a crash after that commit
        // cannot leave it to be retried again.
        let mark = DeliveryMark::Retry { id, claimant };
        let delivered = deliver(
            inner,
            handler,
            &failed.event,
            chain.clone(),
            Some(mark),
            false,
        )
        .await;
        let succeeded = match delivered.outcome {
            Ok(()) => {
                // A handler that wrote nothing committed nothing: its record is deleted now. If
                // that fails, the claim expires and a later retry runs it again (at least once).
                if !delivered.persisted
                    && let Err(error) = inner.store.resolve_failure(id, claimant).await
                {
                    tracing::warn!(%error, delivery = %id, "a retried delivery succeeded but its record was not deleted");
                }
                true
            }
            // Our claim expired and another retrier took the record: our writes rolled back.
            Err(Error::DeliveryClaimed { .. }) => return Err(Error::DeliveryClaimed { id }),
            Err(cause) => {
                let text = cause.to_string();
                let note = inner.store.release_failure(id, claimant, &text).await.err();
                failures.push(describe_failure(handler, &failed.event, cause, id, note));
                false
            }
        };
        failures.extend(inner.deliver_committed(delivered.events, chain).await);
        Ok(succeeded)
    }

    /// After the parked delivery `head` succeeded or was skipped: delivers the ones blocked
    /// behind it, in log order, until one fails (it becomes the stream's parked delivery).
    async fn release_stream(
        &self,
        head: &FailedDelivery,
        failures: &mut Vec<HandlerFailure>,
    ) -> Result<()> {
        let inner = &self.inner;
        let stream = head.event.metadata.stream.clone();
        let handler = inner.registry.event_handler(&head.handler).map(|h| h.path);
        let mut current = head.id;
        loop {
            // From one head to the next while no delivery to this handler can look at the parked
            // streams (its subscription's turn): none records itself behind a head that is going.
            let next = {
                let _turn = match (&self.subscriptions, handler) {
                    (Some(subscriptions), Some(handler)) => subscriptions.turn(handler).await,
                    _ => None,
                };
                let next = inner
                    .store
                    .blocked_behind(current)
                    .await?
                    .into_iter()
                    .next();
                if let Some(next) = &next {
                    inner.store.promote(current, next.id).await?;
                }
                if let Some(handler) = handler {
                    inner
                        .parked
                        .replace(handler, &stream, next.as_ref().map(|n| n.id));
                }
                next
            };
            let Some(next) = next else {
                return Ok(());
            };
            current = next.id;
            if !self.retry_one(current, failures).await? {
                return Ok(());
            }
        }
    }

    /// The caller's view of deliveries blocked behind `head` that could not be released.
    fn unreleased(head: &FailedDelivery, error: Error) -> HandlerFailure {
        HandlerFailure {
            delivery_id: head.id,
            handler: head.handler.clone(),
            event_type: head.event.metadata.type_name.to_string(),
            event_id: head.event.metadata.id,
            cause: format!(
                "the deliveries waiting behind it were not all delivered ({error}); retry them \
                 with `retry_failed_deliveries`"
            ),
            error: Some(Arc::new(error)),
        }
    }

    /// Gives up on a failed delivery: it is kept as skipped, with who skipped it and why (see
    /// [`Domain::skipped_deliveries`]), until purged. If it was parked, the deliveries blocked
    /// behind it are delivered now, in order. [`Error::DeliveryClaimed`] while a retry holds it.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    /// use domain_core::DeliveryState;
    ///
    /// #[aggregate]
    /// pub struct Order { pub total: i64 }
    ///
    /// #[event(part_of = Order)]
    /// pub struct OrderPlaced { pub total: i64 }
    ///
    /// #[derive(Default)]
    /// pub struct Fraud;
    ///
    /// #[event_handler(part_of = Order)]
    /// impl Fraud {
    ///     #[handle(OrderPlaced)]
    ///     fn check(&self, event: &OrderPlaced) -> Result<()> {
    ///         if event.total < 0 { Err(Error::rule("a negative total")) } else { Ok(()) }
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Shop").build()?;
    /// let mut order = Order::builder().total(-5).build()?;
    /// order.raise(OrderPlaced { total: -5 });
    /// domain.repository::<Order>().add(order).await.unwrap_err();
    ///
    /// let dead = domain.failed_deliveries().await?;
    /// domain.skip_delivery(dead[0].id, "ops@example.com", "test data").await?;
    /// assert!(domain.failed_deliveries().await?.is_empty());
    /// let skipped = domain.skipped_deliveries().await?;
    /// assert!(matches!(&skipped[0].state, DeliveryState::Skipped { by, .. } if by == "ops@example.com"));
    /// assert_eq!(domain.purge_skipped_deliveries().await?, 1);
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn skip_delivery(&self, id: Uuid, by: &str, reason: &str) -> Result<()> {
        let record = self.open_record(id).await?;
        if !self.inner.store.skip_failure(id, by, reason).await? {
            return Err(Error::DeliveryClaimed { id });
        }
        tracing::info!(delivery = %id, handler = %record.handler, by, reason, "failed delivery skipped");
        let mut failures = Vec::new();
        if record.state == DeliveryState::Parked
            && let Err(error) = self.release_stream(&record, &mut failures).await
        {
            failures.push(Self::unreleased(&record, error));
        }
        failures_to_result(failures)
    }

    /// The deliveries operators skipped, with who and why, oldest first.
    pub async fn skipped_deliveries(&self) -> Result<Vec<FailedDelivery>> {
        self.inner.store.skipped_deliveries().await
    }

    /// Deletes every skipped delivery's record; returns how many.
    pub async fn purge_skipped_deliveries(&self) -> Result<u64> {
        self.inner.store.purge_skipped().await
    }

    /// Retries every parked delivery once (each also delivers what waits behind it); returns
    /// how many now succeeded and the ones still failing.
    pub async fn retry_failed_deliveries(&self) -> RetryReport {
        let mut report = RetryReport::default();
        let failed_deliveries = match self.failed_deliveries().await {
            Ok(all) => all,
            Err(error) => {
                report.error = Some(error);
                return report;
            }
        };
        for failed in failed_deliveries {
            let blocked = matches!(failed.state, DeliveryState::Blocked { .. });
            match self.retry_delivery(failed.id).await {
                // Still waiting behind its parked delivery, or delivered behind it just now.
                Err(Error::DeliveryBlocked { .. } | Error::NotFound { .. }) if blocked => {}
                Ok(()) => report.succeeded += 1,
                Err(Error::HandlersFailed { failures, .. }) => {
                    report.still_failing.extend(failures)
                }
                // Another retrier holds it right now, or resolved it since it was listed.
                Err(Error::DeliveryClaimed { .. } | Error::NotFound { .. }) => {
                    report.claimed_elsewhere += 1
                }
                Err(other) => report.still_failing.push(HandlerFailure {
                    delivery_id: failed.id,
                    handler: failed.handler.clone(),
                    event_type: failed.event.metadata.type_name.to_string(),
                    event_id: failed.event.metadata.id,
                    cause: other.to_string(),
                    error: Some(Arc::new(other)),
                }),
            }
        }
        report
    }
}

/// How long a retry's claim on a failed delivery lasts: another retrier may take the record over
/// once it expires (the process holding it may have died).
pub const RETRY_CLAIM: Duration = Duration::from_secs(300);

/// `Ok(())`, or [`Error::HandlersFailed`] without a command value (a retry, a repository `add`).
fn failures_to_result(failures: Vec<HandlerFailure>) -> Result<()> {
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::HandlersFailed {
            failures,
            output: CommittedOutput::none(),
        })
    }
}

/// What [`Domain::submit`] reports: the command is in the command log, for the engine to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Submitted {
    /// The command's message id (the caller's, if given with [`CommandOptions::command_id`]).
    pub command_id: Uuid,
    /// The correlation id its messages will carry.
    pub correlation_id: Uuid,
    /// Its position in the command log ([`Domain::command_log`]).
    pub position: u64,
    /// Whether a command with this id had been submitted (or processed) already: nothing new was
    /// logged, and `position` is the first one's.
    pub duplicate: bool,
}

/// What [`Domain::process_with`] reports about a committed command.
#[derive(Debug)]
#[non_exhaustive]
pub struct Processed<T> {
    /// The command handler's value.
    pub output: T,
    /// The command's message id: the causation id of the events it raised.
    pub command_id: Uuid,
    /// The correlation id of the command's chain.
    pub correlation_id: Uuid,
    /// Deliveries of its events that failed, each recorded for retry; empty when all succeeded.
    pub failures: Vec<HandlerFailure>,
}

impl<T: Send + 'static> Processed<T> {
    /// The value, or [`Error::HandlersFailed`] carrying it when deliveries failed (what
    /// [`Domain::process`] returns).
    pub fn into_result(self) -> Result<T> {
        if self.failures.is_empty() {
            Ok(self.output)
        } else {
            Err(Error::HandlersFailed {
                failures: self.failures,
                output: CommittedOutput::new(self.output),
            })
        }
    }
}

/// The outcome of [`Domain::retry_failed_deliveries`].
#[derive(Debug, Default)]
pub struct RetryReport {
    /// Deliveries that succeeded this time (their records are gone).
    pub succeeded: usize,
    /// Deliveries that failed again, or that their retry caused; all recorded.
    pub still_failing: Vec<HandlerFailure>,
    /// Deliveries another retrier held a claim on (left to it) or resolved since they were listed.
    pub claimed_elsewhere: usize,
    /// Set if the failed deliveries could not be read at all (the store is unreachable).
    pub error: Option<Error>,
}

impl DomainBuilder {
    /// Registers `T` explicitly (for targets without linkme, or with auto-registration off).
    pub fn register<T: Register>(mut self) -> Self {
        self.explicit.push(T::registration());
        self
    }

    /// Uses only explicitly registered elements.
    pub fn without_auto_registration(mut self) -> Self {
        self.auto_registration = false;
        self
    }

    /// Declares a stream category that another service writes (into this store today; through a
    /// broker later). Event handlers may listen to it, and events of it may be registered, though
    /// no aggregate of this domain has it. Without the declaration such a handler fails
    /// `build()` as "could never fire", which is what catches a misspelt category.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Invoice { pub total: i64 }
    ///
    /// #[derive(Default)]
    /// pub struct Audit;
    ///
    /// #[event_handler(part_of = Invoice, stream_category = "billing")]
    /// impl Audit {
    ///     #[handle($any)]
    ///     fn on_any(&self, _event: &EventEnvelope) {}
    /// }
    ///
    /// assert!(Domain::builder("Accounts").build().is_err());          // "could never fire"
    /// let domain = Domain::builder("Accounts").external_category("billing").build()?;
    /// # let _ = domain;
    /// # Ok::<(), domain_core::Error>(())
    /// ```
    pub fn external_category(mut self, category: impl Into<String>) -> Self {
        self.external_categories.push(category.into());
        self
    }

    /// Gives a handler instance (one holding dependencies); required for handlers without `Default`.
    pub fn handler<H: Send + Sync + 'static>(mut self, instance: H) -> Self {
        self.instances.insert(TypeId::of::<H>(), Arc::new(instance));
        self
    }

    /// How the domain's event handlers receive events ([`EventProcessing`]); without this call,
    /// the `DOMAIN_EVENT_PROCESSING` environment variable decides, else `Sync`.
    pub fn event_processing(mut self, mode: EventProcessing) -> Self {
        self.event_processing = Some(mode);
        self
    }

    /// How the event handler `H` receives events, whatever the domain's mode: an audit log kept
    /// in sync in an async domain, a slow mailer moved off the command path in a sync one.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    /// use domain_core::EventProcessing;
    ///
    /// #[aggregate]
    /// pub struct Order { pub total: i64 }
    ///
    /// #[event(part_of = Order)]
    /// pub struct OrderPlaced { pub total: i64 }
    ///
    /// #[derive(Default)]
    /// pub struct Mailer;
    ///
    /// #[event_handler(part_of = Order)]
    /// impl Mailer {
    ///     #[handle(OrderPlaced)]
    ///     fn send(&self, _event: &OrderPlaced) {}
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Shop")
    ///     .handler_processing::<Mailer>(EventProcessing::Async)
    ///     .build()?;
    /// let mut order = Order::builder().total(30).build()?;
    /// order.raise(OrderPlaced { total: 30 });
    /// domain.repository::<Order>().add(order).await?;      // returns before the mail goes
    /// assert_eq!(domain.subscriptions()[0].lag, 1);
    /// domain.settle().await?;                              // delivers it now
    /// assert_eq!(domain.subscriptions()[0].lag, 0);
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn handler_processing<H: 'static>(mut self, mode: EventProcessing) -> Self {
        self.handler_processing.insert(TypeId::of::<H>(), mode);
        self.handler_options
            .push((TypeId::of::<H>(), std::any::type_name::<H>()));
        self
    }

    /// What a command that its entity's active handler has no clause for does (an
    /// `#[entity_handler]` with handler states): by default it is ignored and `process` returns
    /// [`Handled::Ignored`](crate::Handled::Ignored); with [`IgnoredMessages::Fail`] it is an
    /// [`Error::Ignored`].
    ///
    /// ```
    /// use domain_core::{Domain, IgnoredMessages};
    ///
    /// let builder = Domain::builder("Shop").ignored_messages(IgnoredMessages::Fail);
    /// # let _ = builder;
    /// ```
    pub fn ignored_messages(mut self, policy: IgnoredMessages) -> Self {
        self.ignored = policy;
        self
    }

    /// How often a submitted command ([`Domain::submit`]) whose handler fails is attempted
    /// before it is failed, and the backoff between attempts; by default
    /// `RetryPolicy::attempts(5)`. Refusals (validation and rule errors) are not retried.
    ///
    /// ```
    /// use std::time::Duration;
    /// use domain_core::{Domain, RetryPolicy};
    ///
    /// let policy = RetryPolicy::attempts(3).backoff(Duration::from_millis(10), Duration::from_secs(1));
    /// let builder = Domain::builder("Shop").command_retry_policy(policy);
    /// # let _ = builder;
    /// ```
    pub fn command_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.command_retry = Some(policy);
        self
    }

    /// How often every event handler's failing deliveries are attempted before they are parked
    /// ([`RetryPolicy`]; by default one attempt for handlers `process` delivers, five for the
    /// engine's).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// The retry policy of the event handler `H`, whatever the domain's.
    ///
    /// ```rust,standalone_crate
    /// use std::time::Duration;
    /// use domain_core::prelude::*;
    /// use domain_core::RetryPolicy;
    ///
    /// #[aggregate]
    /// pub struct Order { pub total: i64 }
    ///
    /// #[event(part_of = Order)]
    /// pub struct OrderPlaced { pub total: i64 }
    ///
    /// #[derive(Default)]
    /// pub struct Mailer;
    ///
    /// #[event_handler(part_of = Order)]
    /// impl Mailer {
    ///     #[handle(OrderPlaced)]
    ///     fn send(&self, _event: &OrderPlaced) -> Result<()> {
    ///         Err(Error::rule("the mail server is down"))
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let quick = RetryPolicy::attempts(3).backoff(Duration::from_millis(1), Duration::from_millis(5));
    /// let domain = Domain::builder("Shop").handler_retry_policy::<Mailer>(quick).build()?;
    /// let mut order = Order::builder().total(30).build()?;
    /// order.raise(OrderPlaced { total: 30 });
    /// assert!(domain.repository::<Order>().add(order).await.is_err());
    /// let parked = domain.failed_deliveries().await?;
    /// assert_eq!((parked.len(), parked[0].attempts), (1, 3));
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn handler_retry_policy<H: 'static>(mut self, policy: RetryPolicy) -> Self {
        self.handler_retry.insert(TypeId::of::<H>(), policy);
        self.handler_options
            .push((TypeId::of::<H>(), std::any::type_name::<H>()));
        self
    }

    /// Runs the domain on a SQLite pool you made (your own connect options, pool size and
    /// timeouts; [`StoreOptions`] does not apply to it). Give it WAL journaling and a busy
    /// timeout, as the pool the framework opens has: concurrent writers wait for each other
    /// instead of failing at once. Takes effect in [`DomainBuilder::open`], which creates or
    /// upgrades the schema.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Note { pub text: String }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// // One connection: each connection to `sqlite::memory:` is a database of its own.
    /// let pool = sqlx::sqlite::SqlitePoolOptions::new()
    ///     .max_connections(1)
    ///     .connect("sqlite::memory:")
    ///     .await
    ///     .unwrap();
    /// let domain = Domain::builder("Notes").sqlite_pool(pool).open().await?;
    /// domain.repository::<Note>().add(Note::builder().text("hi").build()?).await?;
    /// assert_eq!(domain.repository::<Note>().query().count().await?, 1);
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    #[cfg(feature = "sqlite")]
    pub fn sqlite_pool(mut self, pool: sqlx::SqlitePool) -> Self {
        self.pool = Some(crate::store::sql::GivenPool::Sqlite(pool));
        self
    }

    /// Runs the domain on a PostgreSQL pool you made (your own pool size, timeouts, TLS, or a
    /// pool shared with the rest of your service; [`StoreOptions`] does not apply to it). Takes
    /// effect in [`DomainBuilder::open`], which creates or upgrades the schema in the pool's
    /// `search_path`.
    #[cfg(feature = "postgres")]
    pub fn postgres_pool(mut self, pool: sqlx::PgPool) -> Self {
        self.pool = Some(crate::store::sql::GivenPool::Postgres(pool));
        self
    }

    /// How a durable store connects: pool size and timeout ([`StoreOptions`]); takes effect in
    /// [`DomainBuilder::open`].
    pub fn store_options(mut self, options: StoreOptions) -> Self {
        self.store_options = options;
        self
    }

    /// Runs the domain on the database at `url`: `sqlite://path.db` (created if missing),
    /// `sqlite::memory:`, `postgres://user@host/db`, or `memory:`. Needs the matching cargo feature
    /// of domain-core (`sqlite`, `postgres`); takes effect in [`DomainBuilder::open`].
    pub fn database(mut self, url: impl Into<String>) -> Self {
        self.database = Some(url.into());
        self
    }

    /// Builds the domain and opens its store: the URL given to [`DomainBuilder::database`], else
    /// the one in the [`DATABASE_URL_VAR`] environment variable (`DOMAIN_DATABASE_URL`), else the
    /// in-memory store. Durable stores connect and create or upgrade their schema here: an
    /// unreachable database is an [`Error::Store`], a schema newer than this build an
    /// [`Error::SchemaTooNew`], now rather than at the first command.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Note { pub text: String }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Notes").database("memory:").open().await?;
    /// domain.repository::<Note>().add(Note::builder().text("hi").build()?).await?;
    /// assert_eq!(domain.repository::<Note>().query().count().await?, 1);
    ///
    /// let bad = Domain::builder("Notes").database("mysql://localhost").open().await;
    /// assert!(matches!(bad, Err(Error::Store(_))));
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn open(mut self) -> Result<Domain> {
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        if let Some(pool) = self.pool.take() {
            if let Some(url) = &self.database {
                return Err(Error::Store(format!(
                    "both a pool and a database URL (`{url}`) are configured: give one"
                )));
            }
            let checked = self.check()?;
            let codec = checked.registry.codec();
            return checked.with_store(Store::on_pool(pool, codec).await?).await;
        }
        let url = match self.database.take() {
            Some(url) => url,
            None => std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| "memory:".to_string()),
        };
        let store_options = std::mem::take(&mut self.store_options);
        // Check the registry first: a misconfigured domain fails before touching the database.
        let checked = self.check()?;
        let codec = checked.registry.codec();
        checked
            .with_store(Store::open(&url, codec, &store_options).await?)
            .await
    }

    /// Checks the whole registry once and builds the domain on the in-memory store; every problem
    /// is in one [`Error::Registry`]. For a database, use [`DomainBuilder::open`].
    pub fn build(self) -> Result<Domain> {
        if let Some(url) = &self.database {
            return Err(Error::Store(format!(
                "a database (`{url}`) is configured: build the domain with `.open().await`, which connects to it"
            )));
        }
        let checked = self.check()?;
        let codec = checked.registry.codec();
        let store = Store::Memory(MemoryStore::new(codec));
        // The in-memory store answers at once: no I/O, nothing to wait for.
        ready(checked.with_store(store))
    }

    /// Builds and checks the registry (no I/O).
    fn check(self) -> Result<CheckedDomain> {
        let mut instances = self.instances;
        let auto = self
            .auto_registration
            .then_some(DOMAIN_CORE_REGISTRATIONS.iter())
            .into_iter()
            .flatten();
        let external: Vec<&str> = self
            .external_categories
            .iter()
            .map(String::as_str)
            .collect();
        let registry = Registry::build(
            &self.name,
            auto.chain(self.explicit),
            &external,
            &mut instances,
        )
        .map_err(Error::Registry)?;
        // An option for a type that is no event handler would silently do nothing.
        let strays: Vec<String> = self
            .handler_options
            .iter()
            .filter(|(id, _)| !registry.event_handlers.iter().any(|h| (h.type_id)() == *id))
            .map(|(_, name)| {
                format!(
                    "`{name}` is given a processing mode or retry policy but is not a registered \
                     event handler"
                )
            })
            .collect();
        if !strays.is_empty() {
            return Err(Error::Registry(strays));
        }
        let processing = match self.event_processing {
            Some(mode) => mode,
            None => match std::env::var(EVENT_PROCESSING_VAR) {
                Ok(text) => text
                    .parse()
                    .map_err(|e| Error::Registry(vec![format!("{EVENT_PROCESSING_VAR}: {e}")]))?,
                Err(_) => EventProcessing::Sync,
            },
        };
        Ok(CheckedDomain {
            name: self.name,
            registry,
            instances,
            processing,
            handler_processing: self.handler_processing,
            retry_policy: self.retry_policy,
            handler_retry: self.handler_retry,
            command_retry: self.command_retry.unwrap_or(RetryPolicy::ASYNC),
            ignored: self.ignored,
        })
    }
}

/// A domain whose registry passed its checks, waiting for its store.
struct CheckedDomain {
    name: String,
    registry: Registry,
    instances: HashMap<TypeId, Instance>,
    processing: EventProcessing,
    handler_processing: HashMap<TypeId, EventProcessing>,
    retry_policy: Option<RetryPolicy>,
    handler_retry: HashMap<TypeId, RetryPolicy>,
    command_retry: RetryPolicy,
    ignored: IgnoredMessages,
}

impl CheckedDomain {
    /// Each handler's retry policy: its own, else the domain's, else its mode's default.
    fn retries(&self) -> RetryPolicies {
        let by_handler = self
            .registry
            .event_handlers
            .iter()
            .map(|h| {
                let default = if self.is_async(h) {
                    RetryPolicy::ASYNC
                } else {
                    RetryPolicy::SYNC
                };
                let policy = self.handler_retry.get(&(h.type_id)()).copied();
                (h.path, policy.or(self.retry_policy).unwrap_or(default))
            })
            .collect();
        RetryPolicies { by_handler }
    }

    /// The streams the store's dead letters park, by handler.
    async fn parked(&self, store: &Store) -> Result<Parked> {
        let parked = Parked::default();
        if matches!(store, Store::Memory(_)) {
            return Ok(parked); // a new in-memory store has none
        }
        for record in store.failed_deliveries().await? {
            if record.state != DeliveryState::Parked {
                continue;
            }
            if let Some(handler) = self.registry.event_handler(&record.handler) {
                parked.park(
                    handler.path,
                    record.event.metadata.stream.clone(),
                    record.id,
                );
            }
        }
        Ok(parked)
    }

    /// Whether the engine delivers to `handler`.
    fn is_async(&self, handler: &EventHandlerRegistration) -> bool {
        let mode = self.handler_processing.get(&(handler.type_id)());
        mode.copied().unwrap_or(self.processing) == EventProcessing::Async
    }

    fn any_async(&self) -> bool {
        self.registry
            .event_handlers
            .iter()
            .any(|h| self.is_async(h))
    }

    /// The domain on `store`. Delivery goes through subscriptions on a durable store (so that a
    /// crash loses nothing) and wherever the engine delivers; the in-memory store in sync mode
    /// delivers directly, with nothing to recover.
    async fn with_store(self, store: Store) -> Result<Domain> {
        let durable = !matches!(store, Store::Memory(_));
        if durable {
            store.create_views(&self.registry.views).await?;
        }
        let parked = self.parked(&store).await?;
        if !durable && !self.any_async() {
            return Ok(self.assemble(store, None, parked));
        }
        let subscriptions =
            CheckpointedDispatcher::open(&store, &self.registry, |h| self.is_async(h)).await?;
        let domain = self.assemble(store, Some(Arc::new(subscriptions)), parked);
        if durable && let Some(subscriptions) = &domain.subscriptions {
            // A start delivers what the last stop (a crash, a dropped future) left undelivered.
            subscriptions.recover(&domain.inner).await?;
        }
        Ok(domain)
    }

    fn assemble(
        self,
        store: Store,
        subscriptions: Option<Arc<CheckpointedDispatcher>>,
        parked: Parked,
    ) -> Domain {
        let retries = self.retries();
        let dispatcher: Arc<dyn Dispatcher> = match &subscriptions {
            Some(subscriptions) => subscriptions.clone(),
            None => Arc::new(SyncDispatcher),
        };
        Domain {
            inner: Arc::new(DomainInner {
                name: self.name.into(),
                registry: self.registry,
                instances: self.instances,
                store,
                dispatcher,
                retries,
                parked,
                ignored: self.ignored,
            }),
            subscriptions,
            commands: Arc::new(CommandQueue::new(self.command_retry)),
        }
    }
}

impl DomainInner {
    /// Runs a command's handler in its own unit of work and commits; returns the handler's result
    /// and the events to dispatch. A handler error rolls its unit of work back, with every command
    /// it processed (nothing persisted or dispatched).
    /// The command's metadata and span are returned too (`None` if it never got as far as its
    /// handler).
    pub(crate) async fn execute<C: HandledCommand>(
        self: &Arc<Self>,
        command: C,
        parent: Parent<'_>,
        chain: Option<Arc<Chain>>,
    ) -> (
        Result<C::Output>,
        Vec<EventEnvelope>,
        Option<(Arc<Metadata>, tracing::Span)>,
    ) {
        match prepare(self, &command, parent) {
            Err(error) => (Err(error), Vec::new(), None),
            Ok((handler, metadata)) => {
                let span = tracing::info_span!(
                    "domain.command",
                    message_id = %metadata.id,
                    type_name = %metadata.type_name,
                    stream = %metadata.stream,
                    correlation_id = %metadata.correlation_id,
                    causation_id = ?metadata.causation_id,
                );
                let run = async {
                    let mut ctx = Context::new(self.clone(), metadata.clone(), chain);
                    // Every store logs the command with its handler's commit.
                    match pending_command(&command, metadata.clone()) {
                        Ok(record) => ctx.commands.get_mut().push(record),
                        Err(error) => return (Err(error), Vec::new()),
                    }
                    let handled = C::handle(handler, command, &mut ctx);
                    let output = CatchPanic(std::pin::pin!(handled)).await;
                    ctx.finish(output).await
                };
                // Awaited in place when no subscriber listens: wrapping the handler's future would
                // copy it into another future for nothing.
                let (output, events) = if span.is_disabled() {
                    run.await
                } else {
                    tracing::Instrument::instrument(run, span.clone()).await
                };
                (output, events, Some((metadata, span)))
            }
        }
    }
}

/// The repository of `A` outside any handler: reads from the store; `add` commits at once in its
/// own unit of work and dispatches the events (Protean's `repository_for(A).add(a)`).
pub struct DomainRepository<'d, A> {
    domain: &'d Domain,
    _aggregate: PhantomData<fn() -> A>,
}

impl<'d, A: Aggregate> DomainRepository<'d, A> {
    fn reader(&self) -> Reader<'d> {
        Reader {
            inner: &self.domain.inner,
            units: &[],
        }
    }

    /// Validates, commits `aggregate` with its raised events, and dispatches them.
    pub async fn add(&self, aggregate: A) -> Result<()> {
        aggregate.validate()?;
        let mut unit = UnitOfWork::default();
        unit.stage(aggregate)?;
        let inner = &self.domain.inner;
        let correlation_id = Uuid::new_v4();
        let batch = unit.into_batch(
            &inner.registry,
            Causation {
                correlation_id,
                causation_id: None,
                origin_stream: None,
            },
        )?;
        let chain = inner.dispatcher.chain();
        let events = inner.commit(batch, chain.as_ref()).await?;
        failures_to_result(inner.deliver_committed(events, chain).await)
    }

    /// The aggregate with this identity, or [`Error::NotFound`].
    pub async fn get(&self, id: &Identifier) -> Result<A> {
        self.reader().get(id).await
    }

    /// The one aggregate matching `filter`: [`Error::NotFound`] if none, [`Error::TooMany`] if several.
    pub async fn find_by(&self, filter: Filter<A>) -> Result<A> {
        self.reader().find_by(filter).await
    }

    /// A query over every `A`.
    pub fn query(&self) -> Query<'d, A> {
        Query::new(self.reader())
    }
}

/// Reads committed events.
pub struct EventStore<'d> {
    domain: &'d Domain,
}

impl EventStore<'_> {
    /// Every event of one stream (`<category>-<id>`), in stream order. A stream of a category no
    /// registered aggregate has is [`Error::UnknownCategory`]; prefer [`EventStore::stream_of`],
    /// which cannot misspell it.
    pub async fn read_stream(&self, stream: &str) -> Result<Vec<EventEnvelope>> {
        let inner = &self.domain.inner;
        // `check_category` also accepts a category's command streams (`shop:order:command`); a
        // category may itself contain `:` (`shop:order`).
        inner.registry.check_category(stream_category(stream))?;
        inner.store.read_stream(stream).await
    }

    /// Every event of the aggregate `A` with identity `id`, in stream order (empty if it has
    /// none): its stream `<A's category>-<id>`, named by type instead of by hand.
    pub async fn stream_of<A: Aggregate>(&self, id: &Identifier) -> Result<Vec<EventEnvelope>> {
        let inner = &self.domain.inner;
        let stream = id.prefixed_with(&[A::CATEGORY, "-"]);
        inner.store.read_stream(&stream).await
    }

    /// Up to `limit` events of `category` with a global position after `after` (0: from the
    /// start), in global order. Following a category by its last seen position never skips an
    /// event: positions are assigned in commit order. A category no registered aggregate has is
    /// [`Error::UnknownCategory`].
    pub async fn read_category(
        &self,
        category: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>> {
        let inner = &self.domain.inner;
        inner.registry.check_category(category)?;
        inner.store.read_category(category, after, limit).await
    }

    /// Up to `limit` events of every stream with a global position after `after`.
    pub async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>> {
        let inner = &self.domain.inner;
        inner.store.read_all(after, limit).await
    }

    /// The global position of the last committed event (0 when empty).
    pub async fn last_position(&self) -> Result<u64> {
        self.domain.inner.store.last_position().await
    }

    /// Decodes and validates a serialized event of this domain, named by type name
    /// (`Shop.OrderPlaced.v1`): an invalid one is [`Error::Malformed`] naming every failing field.
    pub fn decode(&self, type_name: &str, json: &str) -> Result<Arc<dyn Any + Send + Sync>> {
        let decoded = self
            .domain
            .inner
            .registry
            .codec()
            .decode_event(type_name, json)?;
        // Input from outside is validated (stored events are not: they are facts).
        let mut errors = crate::model::validation::ValidationErrors::default();
        (decoded.vtable.validate)(
            &*decoded.payload,
            &crate::model::validation::FieldPath::ROOT,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(Error::malformed(type_name, errors));
        }
        Ok(decoded.payload)
    }
}

/// Reads the command log ([`Domain::command_log`]): every command whose handler committed, written
/// in the same transaction as the handler's changes, so a command that failed or conflicted has no
/// record.
///
/// Commands are numbered by a position of their own, not the events' global position: event
/// readers rely on event positions being dense, and a command is not an event. Like event
/// positions, command positions are gap-free and assigned in commit order, so a reader following
/// [`CommandLog::read_all`] by the last position it saw never skips a command committed late.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Account { pub balance: i64 }
///
/// #[command(part_of = Account)]
/// pub struct Deposit {
///     #[identifier]
///     pub account: Identifier,
///     pub amount: i64,
/// }
///
/// #[derive(Default)]
/// pub struct Accounts;
///
/// #[command_handler(part_of = Account)]
/// impl Accounts {
///     #[handle(Deposit)]
///     async fn deposit(&self, command: Deposit, ctx: &mut Context) -> Result<()> {
///         let repo = ctx.repository::<Account>();
///         let mut account = repo.get(&command.account).await?;
///         account.balance += command.amount;
///         repo.add(account)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Bank").build()?;
/// let account = Account::builder().balance(0).build()?;
/// let id = account.id();
/// domain.repository::<Account>().add(account).await?;
/// for amount in [10, 20] {
///     domain.process(Deposit { account: id.clone(), amount }).await?;
/// }
///
/// let log = domain.command_log();
/// let deposits = log.stream_of::<Account>(&id).await?;    // `account:command-<id>`
/// let amounts: Vec<i64> = deposits
///     .iter()
///     .map(|record| record.decode::<Deposit>().map(|d| d.amount))
///     .collect::<Result<_>>()?;
/// assert_eq!(amounts, [10, 20]);
/// assert_eq!(log.last_position().await?, 2);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
pub struct CommandLog<'d> {
    domain: &'d Domain,
}

impl CommandLog<'_> {
    /// Every command of one command stream (`<category>:command-<id>`), in commit order. A stream
    /// of a category no registered aggregate has is [`Error::UnknownCategory`]; prefer
    /// [`CommandLog::stream_of`], which cannot misspell it.
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # #[aggregate] pub struct Book { pub title: String }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Bookshelf").build()?;
    /// assert!(domain.command_log().read_stream("book:command-42").await?.is_empty());
    /// let typo = domain.command_log().read_stream("bok:command-42").await.unwrap_err();
    /// assert!(matches!(typo, Error::UnknownCategory { .. }));
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedCommand>> {
        let inner = &self.domain.inner;
        // `check_category` also accepts a category's command streams (`shop:order:command`); a
        // category may itself contain `:` (`shop:order`).
        inner.registry.check_category(stream_category(stream))?;
        inner.store.read_command_stream(stream).await
    }

    /// Every command that targeted the aggregate `A` with identity `id` (its command stream
    /// `<A's category>:command-<id>`), in commit order; named by type instead of by hand.
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # #[aggregate] pub struct Book { pub title: String }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Bookshelf").build()?;
    /// let commands = domain.command_log().stream_of::<Book>(&Identifier::from("42")).await?;
    /// assert!(commands.is_empty());
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn stream_of<A: Aggregate>(&self, id: &Identifier) -> Result<Vec<RecordedCommand>> {
        let inner = &self.domain.inner;
        let stream = id.prefixed_with(&[A::CATEGORY, ":command-"]);
        inner.store.read_command_stream(&stream).await
    }

    /// Up to `limit` commands with a command-log position after `after` (0: from the start), in
    /// position order. Following the log by the last position seen never skips a command.
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let domain = Domain::builder("Bookshelf").build()?;
    /// let mut seen = 0;
    /// loop {
    ///     let page = domain.command_log().read_all(seen, 100).await?;
    ///     let Some(last) = page.last() else { break };
    ///     seen = last.position();
    ///     for record in &page {
    ///         println!("{} {}", record.position(), record.metadata().type_name);
    ///     }
    /// }
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedCommand>> {
        let inner = &self.domain.inner;
        inner.store.read_commands(after, limit).await
    }

    /// The command-log position of the last committed command (0 when none).
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Bookshelf").build()?;
    /// assert_eq!(domain.command_log().last_position().await?, 0);
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn last_position(&self) -> Result<u64> {
        self.domain.inner.store.last_command_position().await
    }
}

/// Runs a serialized command of type `C` (the erased entry behind [`Domain::process_json`]).
#[doc(hidden)]
pub fn process_json<C: HandledCommand>(
    domain: &(dyn Any + Send + Sync),
    value: serde_json::Value,
) -> crate::runtime::registry::BoxFuture<'_, Result<Box<dyn Any + Send>>> {
    Box::pin(async move {
        let domain = domain.downcast_ref::<Domain>().ok_or_else(|| {
            Error::Store("process_json was given something other than a domain".into())
        })?;
        let command = decode_command::<C>(domain, value)?;
        let output = domain.process(command).await?;
        Ok(Box::new(output) as Box<dyn Any + Send>)
    })
}

/// `value` as a `C`, or every problem of it (see [`crate::model::json`]). Takes the value by value so
/// it is dropped before the command runs.
fn decode_command<C: Command>(domain: &Domain, value: serde_json::Value) -> Result<C> {
    let type_name = domain.type_name_of::<C>().unwrap_or(<C as Command>::NAME);
    crate::model::json::decode_command::<C>(type_name, &value)
}

/// Polls a future that never waits (the in-memory store's operations) to its output.
fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => unreachable!("the in-memory store never waits"),
    }
}
