//! The one error type of the framework.

use std::fmt;

use crate::model::identifier::Identifier;
use crate::model::validation::ValidationErrors;

/// `Result` with the framework's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, as values: bad input never panics.
///
/// ```
/// use domain_core::{Error, Identifier};
///
/// let err = Error::not_found("Book", &Identifier::from("42"));
/// assert_eq!(err.to_string(), "Book `42` was not found");
/// assert!(matches!(err, Error::NotFound { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// One or more fields failed validation; every failing field is listed.
    #[error("validation failed: {0}")]
    Validation(#[from] ValidationErrors),

    /// No aggregate with that identity.
    #[error("{aggregate} `{id}` was not found")]
    NotFound {
        /// The aggregate type.
        aggregate: &'static str,
        /// The identity looked up.
        id: String,
    },

    /// `find_by` matched more than one aggregate.
    #[error("{aggregate}: expected one match, found {count}")]
    TooMany {
        /// The aggregate type.
        aggregate: &'static str,
        /// How many matched.
        count: usize,
    },

    /// A query (filter, `find_by`, paging) over an event-sourced aggregate, whose stored row holds
    /// no state: it is rebuilt from its events when read by id.
    #[error(
        "{aggregate} is event-sourced: its state is rebuilt from its events when loaded by id, and there is no stored state to query; load it with `get(id)`, or keep a queryable view of its events in an event handler"
    )]
    EventSourcedQuery {
        /// The aggregate type.
        aggregate: &'static str,
    },

    /// Optimistic concurrency: the aggregate changed since it was loaded; nothing was persisted.
    #[error(
        "{aggregate} `{id}` was modified concurrently: expected version {expected}, found {actual}"
    )]
    Conflict {
        /// The aggregate type.
        aggregate: &'static str,
        /// Its identity.
        id: String,
        /// The version the write was based on (0: a new aggregate).
        expected: u64,
        /// The version in the store.
        actual: u64,
    },

    /// The entity's active handler has no clause for the message, and the domain was built with
    /// [`IgnoredMessages::Fail`](crate::IgnoredMessages::Fail) (by default the message is
    /// ignored and reported as [`Handled::Ignored`](crate::Handled::Ignored)).
    #[error(
        "{entity} `{id}` ignored `{message}`: its active handler `{handler}` has no clause for it"
    )]
    Ignored {
        /// The message type.
        message: &'static str,
        /// The entity type.
        entity: &'static str,
        /// The entity's identity.
        id: String,
        /// The active handler (its state's name).
        handler: &'static str,
    },

    /// A SQL query handler selected a number of rows its result type cannot hold (a response is
    /// one row, an `Option` of one at most one).
    #[error(
        "query `{query}` selected {found} rows, and its result holds {expected}: answer it with a `Vec` of the response for any number"
    )]
    QueryRows {
        /// The query type.
        query: &'static str,
        /// What the result type holds.
        expected: &'static str,
        /// How many rows were selected.
        found: usize,
    },

    /// A query answered only by SQL, asked of a domain on the in-memory store (which has no SQL).
    #[error(
        "query `{query}` is answered by SQL, and this domain is on the in-memory store: open it on SQLite or PostgreSQL (`Domain::builder(..).database(url)`), or give the query a Rust `#[on_query]` handler"
    )]
    SqlQueryOnMemory {
        /// The query type.
        query: &'static str,
    },

    /// A command type with no registered handler in this domain.
    #[error("no command handler is registered for `{command}`{hint}")]
    NoHandler {
        /// The command type.
        command: String,
        /// What to do about it.
        hint: &'static str,
    },

    /// A serialized message of a type this domain does not know.
    #[error("unknown message type `{type_name}`; known: {known}")]
    UnknownMessageType {
        /// The type name given.
        type_name: String,
        /// The registered names, comma-separated.
        known: String,
    },

    /// A stream category (or a stream whose category) no registered aggregate has: reading it
    /// would return nothing, whatever the store holds.
    #[error("no registered aggregate has stream category `{category}`; known: {known}")]
    UnknownCategory {
        /// The category asked for.
        category: String,
        /// The registered categories, comma-separated.
        known: String,
    },

    /// A serialized message that could not be decoded.
    #[error("malformed `{type_name}` message: {reason}")]
    Malformed {
        /// The type name of the message.
        type_name: String,
        /// What was wrong (from the decoder: field, line, column).
        reason: String,
    },

    /// The command **committed**, but one or more event handlers failed. Each failed delivery is
    /// recorded and can be retried with [`Domain::retry_failed_deliveries`](crate::Domain::retry_failed_deliveries).
    /// `output` holds the command handler's value: take it with [`Error::into_committed`] rather
    /// than treating the command as not done (retrying it would run it twice).
    #[error("{}", DisplayFailures(failures))]
    HandlersFailed {
        /// Every failed delivery, recorded for retry.
        failures: Vec<HandlerFailure>,
        /// The value the command's handler returned (empty for a retry or a repository `add`).
        output: CommittedOutput,
    },

    /// A handler saved a copy of an aggregate read before a command it processed
    /// (`ctx.process`) changed that aggregate: saving it would silently undo the command's change.
    /// Nothing is staged; read the aggregate again after `ctx.process`.
    #[error(
        "{aggregate} `{id}` was changed by a command processed in this unit of work after this copy was read: read it again after `ctx.process`"
    )]
    StaleCopy {
        /// The aggregate type.
        aggregate: &'static str,
        /// Its identity.
        id: String,
    },

    /// A failed delivery that another retrier has claimed and is running now
    /// ([`Domain::retry_delivery`](crate::Domain::retry_delivery)); it is left to that one.
    #[error("failed delivery {id} is being retried elsewhere")]
    DeliveryClaimed {
        /// The failed delivery's id.
        id: uuid::Uuid,
    },

    /// A failed delivery that waits behind an earlier failed delivery of its stream to the same
    /// handler: it runs when that one is retried successfully or skipped, not before.
    #[error("delivery {id} waits behind failed delivery {behind} of the same stream")]
    DeliveryBlocked {
        /// The waiting delivery.
        id: uuid::Uuid,
        /// The parked delivery it waits behind.
        behind: uuid::Uuid,
    },

    /// A delivery's commit found its subscription's checkpoint moved: another process delivered
    /// the event first, and this delivery's writes were rolled back. The runtime handles it by
    /// re-reading the checkpoint; callers of the domain do not see it.
    #[error(
        "subscription `{subscription}` is no longer at position {expected}: another process delivered first"
    )]
    CheckpointMoved {
        /// The subscription (the event handler's full path).
        subscription: String,
        /// The checkpoint the delivery expected.
        expected: u64,
    },

    /// A submitted command's run could not commit: another engine (another process on the same
    /// database) ran it, or gave up on it, meanwhile. This run's writes were rolled back; the
    /// engine moves on.
    #[error("submitted command {id} is no longer pending: it was run or given up on elsewhere")]
    SubmissionSettled {
        /// The command's message id.
        id: uuid::Uuid,
    },

    /// The registry is inconsistent: every problem found, in one error.
    #[error("the domain registry has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
    Registry(Vec<String>),

    /// A domain rule was broken (raised by user code with [`Error::rule`]).
    #[error("{0}")]
    Rule(String),

    /// A store failed: unreachable database, failed statement, unusable schema.
    #[error("store error: {0}")]
    Store(String),

    /// The database's schema was written by a newer build of this framework; this build will
    /// not touch it (it could misread or corrupt the newer layout).
    #[error(
        "the database schema is at version {found}, newer than this build's version {supported}: upgrade domain-core"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// A stored event that cannot be turned back into its type: an unknown type name, or a
    /// payload that no longer decodes. Names where it is, so it can be repaired or upcast.
    #[error(
        "cannot read event at global position {global_position} (stream `{stream}`, position {stream_position}, type `{type_name}`): {reason}"
    )]
    UnreadableEvent {
        /// The stream it belongs to.
        stream: String,
        /// Its position in the stream (0 if the stored one is out of range; `reason` gives it).
        stream_position: u64,
        /// Its global position (0 if the stored one is out of range; `reason` gives it).
        global_position: u64,
        /// The stored type name.
        type_name: String,
        /// What went wrong.
        reason: String,
    },

    /// A stored command-log row that cannot be read: an out-of-range position or timestamp, a
    /// bad id, a payload that is not JSON. Names where it is, so it can be repaired.
    #[error(
        "cannot read the command at command-log position {position} (stream `{stream}`, type `{type_name}`): {reason}"
    )]
    UnreadableCommand {
        /// Its position in the command log (0 if the stored one is out of range; `reason` gives it).
        position: u64,
        /// The command stream it belongs to.
        stream: String,
        /// The stored type name.
        type_name: String,
        /// What went wrong.
        reason: String,
    },

    /// A stored aggregate row that cannot be turned back into its type: a document that no
    /// longer decodes (a `null` or a wrong type where the type needs a value) or an out-of-range
    /// version. Only reads that return that row fail with it; names the row so it can be repaired.
    #[error("cannot read {aggregate} `{id}` from the store: {reason}")]
    UnreadableAggregate {
        /// The aggregate type.
        aggregate: &'static str,
        /// The identity of the row.
        id: String,
        /// What went wrong.
        reason: String,
    },

    /// Any other error from user code.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// A broken domain rule, such as "cannot ship an order that is not confirmed".
    ///
    /// ```
    /// let err = domain_core::Error::rule("cannot ship a pending order");
    /// assert_eq!(err.to_string(), "cannot ship a pending order");
    /// ```
    pub fn rule(message: impl Into<String>) -> Self {
        Error::Rule(message.into())
    }

    /// Wraps any error from user code.
    ///
    /// ```
    /// let err = domain_core::Error::other(std::io::Error::other("disk full"));
    /// assert_eq!(err.to_string(), "disk full");
    /// ```
    pub fn other(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Other(Box::new(error))
    }

    /// For [`Error::HandlersFailed`] from `domain.process(cmd)`: the command's own value (it
    /// committed) and the failed deliveries; any other error is given back unchanged.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Book { pub title: String }
    ///
    /// #[event(part_of = Book)]
    /// pub struct BookAdded { pub title: String }
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
    ///         let mut book = Book::builder().title(command.title.clone()).build()?;
    ///         book.raise(BookAdded { title: command.title });
    ///         let id = book.id();
    ///         ctx.repository::<Book>().add(book)?;
    ///         Ok(id)
    ///     }
    /// }
    ///
    /// #[derive(Default)]
    /// pub struct Mailer;
    ///
    /// #[event_handler(part_of = Book)]
    /// impl Mailer {
    ///     #[handle(BookAdded)]
    ///     fn announce(&self, _: &BookAdded) -> Result<()> {
    ///         Err(Error::rule("mail server down"))
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Shelf").build()?;
    /// let err = domain.process(AddBook { title: "Dune".into() }).await.unwrap_err();
    /// // The book was added: keep its id, and leave the failed delivery to a retry.
    /// let (id, failures) = err.into_committed::<Identifier>()?;
    /// assert_eq!(domain.repository::<Book>().get(&id).await?.title, "Dune");
    /// assert_eq!(failures.len(), 1);
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_committed<T: 'static>(self) -> Result<(T, Vec<HandlerFailure>)> {
        match self {
            // Asked for the wrong type, the value stays in the error for another try.
            Error::HandlersFailed { failures, output } => match output.take::<T>() {
                Ok(value) => Ok((value, failures)),
                Err(output) => Err(Error::HandlersFailed { failures, output }),
            },
            other => Err(other),
        }
    }

    /// True if this error reports a change that was committed ([`Error::HandlersFailed`]): the
    /// command must not be retried, only its failed deliveries.
    pub fn is_committed(&self) -> bool {
        matches!(self, Error::HandlersFailed { .. })
    }

    /// A message that could not be decoded. The decoder's reason quotes the input; a long one is
    /// cut in the middle (its start, and its end with the line and column), so a 10 MB value does
    /// not become a 10 MB error message.
    pub(crate) fn malformed(type_name: &str, reason: impl fmt::Display) -> Self {
        Error::Malformed {
            type_name: shorten(type_name),
            reason: shorten(&reason.to_string()),
        }
    }

    /// The not-found error for an aggregate type and identity.
    pub fn not_found(aggregate: &'static str, id: &Identifier) -> Self {
        Error::NotFound {
            aggregate,
            id: id.to_string(),
        }
    }
}

/// The value a committed command's handler returned, carried by [`Error::HandlersFailed`] and
/// taken with [`Error::into_committed`]. Behind a lock so the error stays `Sync` whatever the
/// value's type.
#[derive(Default)]
pub struct CommittedOutput(std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>);

impl CommittedOutput {
    /// Holds `value`.
    pub fn new<T: Send + 'static>(value: T) -> Self {
        CommittedOutput(std::sync::Mutex::new(Some(Box::new(value))))
    }

    /// Holds nothing (a retry, a repository `add`).
    pub fn none() -> Self {
        CommittedOutput::default()
    }

    /// The value if it is a `T`; otherwise `self` back, unchanged.
    pub fn take<T: 'static>(self) -> std::result::Result<T, Self> {
        match self.0.into_inner().unwrap_or_else(|e| e.into_inner()) {
            None => Err(CommittedOutput::none()),
            Some(boxed) => boxed
                .downcast::<T>()
                .map(|value| *value)
                .map_err(|boxed| CommittedOutput(std::sync::Mutex::new(Some(boxed)))),
        }
    }
}

impl fmt::Debug for CommittedOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self.0.lock().map(|g| g.is_some()).unwrap_or(false);
        f.write_str(if held {
            "CommittedOutput(..)"
        } else {
            "CommittedOutput(none)"
        })
    }
}

/// One event delivery that failed: which handler, which event, why — with the handler's own
/// error, its type and variant intact.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[derive(Debug, thiserror::Error)]
/// pub enum MailError {
///     #[error("mailbox {0} is full")]
///     Full(String),
/// }
///
/// #[aggregate]
/// pub struct Member { pub email: String }
///
/// #[event(part_of = Member)]
/// pub struct Joined { pub email: String }
///
/// #[derive(Default)]
/// pub struct Welcome;
///
/// #[event_handler(part_of = Member)]
/// impl Welcome {
///     #[handle(Joined)]
///     fn greet(&self, event: &Joined) -> Result<()> {
///         Err(Error::other(MailError::Full(event.email.clone())))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Club").build()?;
/// let mut member = Member::builder().email("ann@example.org").build()?;
/// member.raise(Joined { email: member.email.clone() });
/// let err = domain.repository::<Member>().add(member).await.unwrap_err();
/// let Error::HandlersFailed { failures, .. } = err else { unreachable!() };
/// let MailError::Full(mailbox) = failures[0].downcast_ref::<MailError>().unwrap();
/// assert_eq!(mailbox, "ann@example.org");
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct HandlerFailure {
    /// The id of the recorded failed delivery (for retries).
    pub delivery_id: uuid::Uuid,
    /// The handler's full path, e.g. `my_shop::mail::Mailer` (what identifies it for retries).
    pub handler: std::sync::Arc<str>,
    /// The event's type name, e.g. `Bookshelf.BookAdded.v1`.
    pub event_type: String,
    /// The event's message id.
    pub event_id: uuid::Uuid,
    /// The handler's error, as text (what the failure record keeps).
    pub cause: String,
    /// The handler's error itself, when this failure happened in this process (a record read
    /// back from the store has only its text).
    pub error: Option<std::sync::Arc<Error>>,
}

impl HandlerFailure {
    /// The handler's error as `E`: an error given to [`Error::other`] (or converted into
    /// `Error::Other`), or a framework error (`E = Error`) such as [`Error::Rule`].
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        let error = self.error.as_deref()?;
        if let Error::Other(inner) = error
            && let Some(found) = inner.downcast_ref::<E>()
        {
            return Some(found);
        }
        (error as &(dyn std::error::Error + 'static)).downcast_ref::<E>()
    }
}

impl fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "handler `{}` failed on event `{}` ({}): {}",
            self.handler, self.event_type, self.event_id, self.cause
        )
    }
}

impl std::error::Error for HandlerFailure {
    /// The handler's own error, so error reporters (anyhow, eyre) show the chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

struct DisplayFailures<'a>(&'a [HandlerFailure]);

impl fmt::Display for DisplayFailures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the change was committed but {} event delivery(ies) failed and were recorded for retry",
            self.0.len()
        )?;
        for failure in self.0 {
            write!(f, "\n  - {failure}")?;
        }
        Ok(())
    }
}

/// `text`, or its first and last characters around a marker when it is long: error messages
/// quote user input and must stay readable.
pub(crate) fn shorten(text: &str) -> String {
    const HEAD: usize = 160;
    const TAIL: usize = 80;
    let count = text.chars().count();
    if count <= HEAD + TAIL {
        return text.to_string();
    }
    let head: String = text.chars().take(HEAD).collect();
    let tail: String = text.chars().skip(count - TAIL).collect();
    format!("{head}… [{} characters cut] …{tail}", count - HEAD - TAIL)
}
