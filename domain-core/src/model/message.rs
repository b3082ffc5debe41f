//! Messages in flight: metadata and the committed event envelope.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use uuid::Uuid;

use crate::model::error::{Error, Result};
use crate::model::{Command, Event, EventVTable};

/// Whether a message is a command or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MessageKind {
    /// An intention, handled by exactly one command handler.
    Command,
    /// A fact, delivered to every event handler routed to it.
    Event,
}

/// What every message carries besides its payload.
///
/// Correlation groups every message of one causal chain (the id of the command or event that
/// started it); causation is the immediate parent; the origin stream is the stream of the message
/// that started the chain, which `source_stream` routing compares against.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    /// The message's own id.
    pub id: Uuid,
    /// Command or event.
    pub kind: MessageKind,
    /// `Domain.Type.vN`, e.g. `Bookshelf.BookAdded.v1`.
    pub type_name: Arc<str>,
    /// The stream it belongs to: `<category>-<id>` for events, `<category>:command-<id>` for commands.
    pub stream: Arc<str>,
    /// Its position in its stream, from 1 (0 for commands: a command stream is ordered by
    /// [`global_position`](Metadata::global_position) instead).
    pub stream_position: u64,
    /// Its position in the whole store, from 1. For a command read from the command log
    /// ([`Domain::command_log`](crate::Domain::command_log)), its position in that log, a
    /// sequence of its own; 0 for a command being handled, which is not committed yet.
    pub global_position: u64,
    /// When it was created.
    pub timestamp: SystemTime,
    /// The id of the message that started the causal chain.
    pub correlation_id: Uuid,
    /// The id of the message that caused this one (`None` for a chain's first message).
    pub causation_id: Option<Uuid>,
    /// The stream of the message that started the chain (`None` if it was not a message, e.g. a
    /// repository write outside any handler).
    pub origin_stream: Option<Arc<str>>,
    /// The payload's schema version.
    pub schema_version: u32,
}

impl Metadata {
    /// The category of this message's stream: the part before the first `-`.
    ///
    /// ```
    /// assert_eq!(domain_core::stream_category("order-42"), "order");
    /// assert_eq!(domain_core::stream_category("order:command-42"), "order:command");
    /// ```
    pub fn category(&self) -> &str {
        stream_category(&self.stream)
    }
}

/// The category part of a stream name (`order` of `order-1f2e…`).
///
/// ```
/// assert_eq!(domain_core::stream_category("book-1"), "book");
/// assert_eq!(domain_core::stream_category("book"), "book");
/// ```
pub fn stream_category(stream: &str) -> &str {
    stream
        .split_once('-')
        .map_or(stream, |(category, _)| category)
}

/// A committed event: the typed payload, shared, and its metadata.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Order { pub customer: String }
///
/// #[event(part_of = Order)]
/// pub struct OrderPlaced { pub customer: String }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// let mut order = Order::builder().customer("Ann").build()?;
/// order.raise(OrderPlaced { customer: "Ann".into() });
/// let stream = format!("order-{}", order.id());
/// domain.repository::<Order>().add(order).await?;
///
/// let events = domain.event_store().read_stream(&stream).await?;
/// assert_eq!(events[0].metadata().type_name.as_ref(), "Shop.OrderPlaced.v1");
/// assert_eq!(events[0].downcast_ref::<OrderPlaced>().unwrap().customer, "Ann");
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct EventEnvelope {
    pub(crate) payload: Arc<dyn Any + Send + Sync>,
    pub(crate) vtable: &'static EventVTable,
    pub(crate) metadata: Arc<Metadata>,
}

impl EventEnvelope {
    /// The metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The payload as `E`, if it is one.
    pub fn downcast_ref<E: Event>(&self) -> Option<&E> {
        self.payload.downcast_ref::<E>()
    }

    #[doc(hidden)]
    pub fn __downcast_payload<E: Any>(&self) -> Option<&E> {
        self.payload.downcast_ref::<E>()
    }

    /// True if the payload is an `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.payload.is::<E>()
    }

    /// The short type name, e.g. `BookAdded`.
    pub fn event_name(&self) -> &'static str {
        self.vtable.name
    }

    /// The name of the aggregate the event is part of.
    pub fn aggregate_name(&self) -> &'static str {
        self.vtable.aggregate
    }

    /// The payload as JSON.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        (self.vtable.to_json)(self.payload.as_ref())
    }

    pub(crate) fn payload_type_id(&self) -> TypeId {
        (self.vtable.type_id)()
    }
}

impl fmt::Debug for EventEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventEnvelope")
            .field("type", &self.metadata.type_name)
            .field("stream", &self.metadata.stream)
            .field("position", &self.metadata.stream_position)
            .finish()
    }
}

/// A committed command read back from the command log
/// ([`Domain::command_log`](crate::Domain::command_log)): its metadata, its position in the log,
/// and its payload as JSON, decodable into the command type with [`RecordedCommand::decode`].
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Order { pub customer: String }
///
/// #[command(part_of = Order)]
/// pub struct PlaceOrder { pub customer: String }
///
/// #[derive(Default)]
/// pub struct Orders;
///
/// #[command_handler(part_of = Order)]
/// impl Orders {
///     #[handle(PlaceOrder)]
///     fn place(&self, command: PlaceOrder, ctx: &mut Context) -> Result<()> {
///         ctx.repository::<Order>().add(Order::builder().customer(command.customer).build()?)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// domain.process(PlaceOrder { customer: "Ann".into() }).await?;
///
/// let log = domain.command_log().read_all(0, 10).await?;
/// let record = &log[0];
/// assert_eq!(record.position(), 1);
/// assert_eq!(record.metadata().type_name.as_ref(), "Shop.PlaceOrder.v1");
/// assert_eq!(record.payload()["customer"], "Ann");
/// assert!(record.is::<PlaceOrder>());
/// assert_eq!(record.decode::<PlaceOrder>()?.customer, "Ann");
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct RecordedCommand {
    pub(crate) metadata: Arc<Metadata>,
    pub(crate) payload: serde_json::Value,
    /// The command type this domain registers under the record's type name; `None` for a type
    /// it no longer has (the record still reads: the log is history).
    pub(crate) type_id: Option<TypeId>,
}

impl RecordedCommand {
    /// The metadata: id, type name, stream (`<category>:command-<id>`), correlation and causation
    /// ids, origin stream, timestamp, and in `global_position` the position in the command log.
    ///
    /// ```
    /// # fn show(record: &domain_core::RecordedCommand) {
    /// let meta = record.metadata();
    /// println!("{} {} caused by {:?}", meta.type_name, meta.stream, meta.causation_id);
    /// # }
    /// ```
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The position in the command log, from 1: gap-free and in commit order, so a reader
    /// following [`CommandLog::read_all`](crate::CommandLog::read_all) by it skips nothing.
    ///
    /// ```
    /// # fn show(record: &domain_core::RecordedCommand) {
    /// assert_eq!(record.position(), record.metadata().global_position);
    /// # }
    /// ```
    pub fn position(&self) -> u64 {
        self.metadata.global_position
    }

    /// The command as JSON, as it was processed.
    ///
    /// ```
    /// # fn show(record: &domain_core::RecordedCommand) {
    /// let title = record.payload()["title"].as_str();
    /// # let _ = title;
    /// # }
    /// ```
    pub fn payload(&self) -> &serde_json::Value {
        &self.payload
    }

    /// True if the record is a `C` (by its type name in this domain).
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # #[aggregate] pub struct Book { pub title: String }
    /// # #[command(part_of = Book)] pub struct AddBook { pub title: String }
    /// # fn show(record: &domain_core::RecordedCommand) {
    /// if record.is::<AddBook>() { /* ... */ }
    /// # }
    /// ```
    pub fn is<C: Command>(&self) -> bool {
        self.type_id == Some(TypeId::of::<C>())
    }

    /// The command as a `C`. A record of another type is [`Error::Malformed`] saying so, as is a
    /// payload that no longer decodes into `C` (a field since renamed). The value is not
    /// validated again: it passed validation when it was processed, and rules may have changed.
    ///
    /// ```rust,standalone_crate
    /// # use domain_core::prelude::*;
    /// # #[aggregate] pub struct Book { pub title: String }
    /// # #[command(part_of = Book)] pub struct AddBook { pub title: String }
    /// # fn show(record: &domain_core::RecordedCommand) -> Result<()> {
    /// let command: AddBook = record.decode()?;
    /// println!("{}", command.title);
    /// # Ok(())
    /// # }
    /// ```
    pub fn decode<C: Command>(&self) -> Result<C> {
        if !self.is::<C>() {
            return Err(Error::malformed(
                &self.metadata.type_name,
                format!("the record is not a `{}`", C::NAME),
            ));
        }
        <C as serde::Deserialize>::deserialize(&self.payload)
            .map_err(|e| Error::malformed(&self.metadata.type_name, e))
    }
}

impl fmt::Debug for RecordedCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedCommand")
            .field("type", &self.metadata.type_name)
            .field("stream", &self.metadata.stream)
            .field("position", &self.metadata.global_position)
            .field("payload", &self.payload)
            .finish()
    }
}
