//! The traits the macros implement: what makes a struct an aggregate, entity, value object, event
//! or command. Users never implement them by hand; they are here to be named in bounds and docs.

pub(crate) mod clause;
pub(crate) mod codec;
pub(crate) mod error;
pub(crate) mod identifier;
pub(crate) mod json;
pub(crate) mod message;
pub(crate) mod query;
pub(crate) mod query_message;
pub(crate) mod validation;

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::validation::Validate;

/// A consistency boundary, persisted and versioned as a whole. Implemented by `#[aggregate]`.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate(stream_category = "catalog_book")]
/// pub struct Book {
///     #[field(max_length = 200)]
///     pub title: String,
/// }
///
/// assert_eq!(<Book as Aggregate>::NAME, "Book");
/// assert_eq!(<Book as Aggregate>::CATEGORY, "catalog_book");
/// let book = Book::builder().title("Dune").build()?;
/// assert_eq!(book.version(), 0); // never persisted
/// # Ok::<(), domain_core::ValidationErrors>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an aggregate",
    label = "expected a struct annotated with `#[aggregate]`",
    note = "`part_of` and repositories take aggregates: annotate the struct with `#[aggregate]`"
)]
pub trait Aggregate:
    Validate + Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The type's name, e.g. `Book`.
    const NAME: &'static str;
    /// The stream category of its events: snake_case of the name unless `stream_category` is given.
    const CATEGORY: &'static str;
    /// The instance's identity.
    fn identifier(&self) -> Identifier;
    #[doc(hidden)]
    fn __state(&self) -> &AggregateState;
    #[doc(hidden)]
    fn __state_mut(&mut self) -> &mut AggregateState;
    #[doc(hidden)]
    /// Moves the pending events of the aggregate and of its entities into `out`, in raise order.
    fn __drain_events(&mut self, out: &mut Vec<PendingEvent>);
    /// How its state is kept: [`StateStored`] (the state is saved) or [`EventSourced`]
    /// (`#[aggregate(event_sourced)]`: the state is the fold of its events).
    #[doc(hidden)]
    type Sourcing: SourcingKind;
    /// `#[aggregate(event_sourced, snapshot_every = N)]`: a commit that takes the stream past a
    /// multiple of N stores a snapshot of the state with it (0: never).
    #[doc(hidden)]
    const SNAPSHOT_EVERY: u64 = 0;
    /// A hash of the aggregate's fields (names and types as written), computed at compile
    /// time: a snapshot taken under another fingerprint is ignored and the stream replayed.
    #[doc(hidden)]
    const SCHEMA_FINGERPRINT: u64 = 0;
    /// An event-sourced aggregate before its first event: every field at its default. `None`
    /// for a state-stored aggregate, which is never rebuilt from its events.
    #[doc(hidden)]
    fn __blank(id: &Identifier) -> Option<Self> {
        let _ = id;
        None
    }
}

/// The [`Aggregate::Sourcing`] of a state-stored aggregate.
#[doc(hidden)]
pub struct StateStored;

/// The [`Aggregate::Sourcing`] of an event-sourced aggregate.
#[doc(hidden)]
pub struct EventSourced;

/// What the runtime reads off an aggregate's [`Aggregate::Sourcing`].
#[doc(hidden)]
pub trait SourcingKind {
    /// True for [`EventSourced`]: loads replay the stream, the row holds no state.
    const EVENT_SOURCED: bool;
}

impl SourcingKind for StateStored {
    const EVENT_SOURCED: bool = false;
}

impl SourcingKind for EventSourced {
    const EVENT_SOURCED: bool = true;
}

/// Whether `A` is event-sourced.
pub(crate) const fn is_event_sourced<A: Aggregate>() -> bool {
    <A::Sourcing as SourcingKind>::EVENT_SOURCED
}

/// Changes an event-sourced aggregate's state by one of its events. Implemented by an `#[apply]`
/// method in an `#[apply_events] impl` block; `raise` calls it at once, and loading calls it for
/// every stored event of the aggregate's stream, in order.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate(event_sourced)]
/// pub struct Counter {
///     pub total: u64,
/// }
///
/// #[event(part_of = Counter)]
/// pub struct Added {
///     pub amount: u64,
/// }
///
/// #[apply_events]
/// impl Counter {
///     #[apply]
///     fn added(&mut self, event: &Added) {
///         self.total += event.amount;
///     }
/// }
///
/// let mut counter = Counter::new();
/// counter.raise(Added { amount: 2 });
/// counter.raise(Added { amount: 3 });
/// assert_eq!(*counter.total(), 5);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[apply]` method for `{E}`",
    label = "`{Self}` is event-sourced: each of its events needs an `#[apply]` method",
    note = "add `#[apply] fn ...(&mut self, event: &{E}) {{ .. }}` to `{Self}`'s `#[apply_events] impl` block: it is how the event changes the state, when raised and when replayed"
)]
pub trait Apply<E: Event>: Aggregate {
    /// Changes the state as the event says.
    fn apply(&mut self, event: &E);
}

/// Applies a type-erased event (replay reads events by type name) to an aggregate of a known
/// type `A`.
#[doc(hidden)]
pub type TypedApply<A> = fn(&mut A, &(dyn Any + Send + Sync));

/// How one event type changes its event-sourced aggregate.
#[doc(hidden)]
pub struct Applier {
    /// A [`TypedApply`] of the event's aggregate, erased so that one vtable field fits every
    /// event. Every caller knows the aggregate's type: a replay downcasts this once per run of
    /// events of one type, then each event costs one payload downcast and a direct call (see
    /// [`Fold`]).
    pub typed: &'static (dyn Any + Send + Sync),
}

impl Applier {
    /// The applier as `A`'s (`None` if the event is another aggregate's).
    pub(crate) fn of<A: 'static>(&self) -> Option<TypedApply<A>> {
        self.typed.downcast_ref::<TypedApply<A>>().copied()
    }
}

/// Whether events of `A` need an `#[apply]` method, chosen by `A`'s sourcing: the `#[event]`
/// macro reads `APPLY` in the event's own impl, so an event of an event-sourced aggregate
/// without an `#[apply]` method is a compile error at the event's name.
#[doc(hidden)]
pub trait ApplyRule<A, E> {
    const APPLY: Option<&'static Applier>;
}

impl<A, E> ApplyRule<A, E> for StateStored {
    const APPLY: Option<&'static Applier> = None;
}

impl<A: Apply<E>, E: Event> ApplyRule<A, E> for EventSourced {
    const APPLY: Option<&'static Applier> = Some(&Applier {
        typed: &(apply_typed::<A, E> as TypedApply<A>),
    });
}

fn apply_typed<A: Apply<E>, E: Event>(aggregate: &mut A, event: &(dyn Any + Send + Sync)) {
    if let Some(event) = event.downcast_ref::<E>() {
        aggregate.apply(event);
    }
}

/// An object with identity inside an aggregate (`#[has_many]` / `#[has_one]`). Implemented by
/// `#[entity(part_of = ...)]`; its events go to its aggregate's stream.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an entity",
    label = "expected a struct annotated with `#[entity(part_of = ...)]`",
    note = "`#[has_many]` / `#[has_one]` hold entities: annotate the struct with `#[entity(part_of = YourAggregate)]`"
)]
pub trait Entity: Validate + Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The aggregate the entity belongs to.
    type Aggregate: Aggregate;
    /// The type's name.
    const NAME: &'static str;
    /// The instance's identity.
    fn identifier(&self) -> Identifier;
    #[doc(hidden)]
    fn __drain_events(&mut self, out: &mut Vec<PendingEvent>);
}

/// An immutable value compared by its fields. Implemented by `#[value_object]`.
pub trait ValueObject: Validate + Clone + PartialEq + Serialize + DeserializeOwned {
    /// Adds every problem of `value`, this type's JSON form that failed to decode, to `errors`
    /// under `path`: missing, mistyped and (for commands) undeclared fields, and the validation
    /// failures of the fields that did decode (behind [`Domain::process_json`](crate::Domain::process_json)).
    /// The macros implement it; the default adds nothing, so serde's own error is reported: it is
    /// kept for a struct with its own `#[serde(..)]` attributes, whose JSON form only serde knows.
    #[doc(hidden)]
    fn __json_problems(
        value: &serde_json::Value,
        path: &crate::model::validation::FieldPath<'_>,
        errors: &mut crate::model::validation::ValidationErrors,
    ) {
        let _ = (value, path, errors);
    }
}

/// A fact that happened in an aggregate. Implemented by `#[event(part_of = ...)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event",
    label = "expected a struct annotated with `#[event(part_of = ...)]`",
    note = "annotate `{Self}` with `#[event(part_of = SomeAggregate)]`, or handle it in a `#[command_handler]` if it is a command"
)]
pub trait Event: Validate + Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The aggregate whose stream the event belongs to.
    type Aggregate: Aggregate;
    /// The type's name, e.g. `BookAdded`.
    const NAME: &'static str;
    /// The schema version (`#[event(version = 2)]`), 1 by default.
    const VERSION: u32;
    /// How the event changes its aggregate's state, when that aggregate is event-sourced.
    #[doc(hidden)]
    const __APPLY: Option<&'static Applier> = None;
}

/// An intention to change an aggregate. Implemented by `#[command(part_of = ...)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a command",
    label = "expected a struct annotated with `#[command(part_of = ...)]`",
    note = "annotate `{Self}` with `#[command(part_of = SomeAggregate)]`, or handle it in an `#[event_handler]` if it is an event"
)]
pub trait Command: Validate + Serialize + DeserializeOwned + Send + 'static {
    /// The aggregate the command targets.
    type Aggregate: Aggregate;
    /// The type's name, e.g. `AddBook`.
    const NAME: &'static str;
    /// The identity of the targeted aggregate, from the command's `#[identifier]` field if it has one.
    fn target(&self) -> Option<Identifier> {
        None
    }
    /// Adds every problem of `value`, this type's JSON form that failed to decode, to `errors`
    /// under `path`: missing, mistyped and (for commands) undeclared fields, and the validation
    /// failures of the fields that did decode (behind [`Domain::process_json`](crate::Domain::process_json)).
    /// The macros implement it; the default adds nothing, so serde's own error is reported: it is
    /// kept for a struct with its own `#[serde(..)]` attributes, whose JSON form only serde knows.
    #[doc(hidden)]
    fn __json_problems(
        value: &serde_json::Value,
        path: &crate::model::validation::FieldPath<'_>,
        errors: &mut crate::model::validation::ValidationErrors,
    ) {
        let _ = (value, path, errors);
    }
}

/// Marks the events an aggregate may raise: implemented by `#[event(part_of = A)]` for `A` only, so
/// `raise()` of another aggregate's event does not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event of `{A}`",
    label = "`{A}` raises, and its clauses yield, only events declared with `#[event(part_of = {A})]`",
    note = "raise it from the aggregate it is `part_of`, or declare it `part_of = {A}`"
)]
pub trait RaisableBy<A> {}

/// The runtime description of an event type, shared by every instance.
#[doc(hidden)]
pub struct EventVTable {
    pub type_id: fn() -> TypeId,
    pub name: &'static str,
    pub version: u32,
    pub aggregate: &'static str,
    pub category: &'static str,
    pub to_json: fn(&(dyn Any + Send + Sync)) -> Result<serde_json::Value>,
    /// Validates a payload of this type into `errors`, under `path`.
    pub validate: fn(
        &(dyn Any + Send + Sync),
        &crate::model::validation::FieldPath<'_>,
        &mut crate::model::validation::ValidationErrors,
    ),
    /// Applies a payload of this type to its event-sourced aggregate (`None`: state-stored).
    pub apply: Option<&'static Applier>,
}

impl fmt::Debug for EventVTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.v{}", self.name, self.version)
    }
}

/// Replays stored events into an aggregate of type `A`, the hot loop of loading an
/// event-sourced aggregate. Each event costs a pointer comparison (is it of the type before
/// it?), one payload downcast and a direct call: the applier is looked up and downcast again
/// only when the event type changes, and nothing per event allocates or formats.
pub(crate) struct Fold<'a, A> {
    aggregate: &'a mut A,
    /// The vtable of the last event applied, and its applier for `A`.
    last: Option<(&'static EventVTable, TypedApply<A>)>,
}

impl<'a, A: Aggregate> Fold<'a, A> {
    pub(crate) fn new(aggregate: &'a mut A) -> Self {
        Fold {
            aggregate,
            last: None,
        }
    }

    /// Applies one stored event; an event `A` cannot apply is an error naming its type.
    #[inline]
    pub(crate) fn apply(
        &mut self,
        vtable: &'static EventVTable,
        payload: &(dyn Any + Send + Sync),
    ) -> std::result::Result<(), String> {
        let typed = match self.last {
            Some((last, typed)) if std::ptr::eq(last, vtable) => typed,
            _ => self.switch_to(vtable)?,
        };
        typed(self.aggregate, payload);
        Ok(())
    }

    #[cold]
    fn switch_to(
        &mut self,
        vtable: &'static EventVTable,
    ) -> std::result::Result<TypedApply<A>, String> {
        let Some(applier) = vtable.apply else {
            return Err(format!(
                "its stream holds a `{}`, which has no `#[apply]` method in `{}`",
                vtable.name,
                A::NAME
            ));
        };
        let typed = applier.of::<A>().ok_or_else(|| {
            format!(
                "its stream holds a `{}`, an event of `{}`, not of `{}`",
                vtable.name,
                vtable.aggregate,
                A::NAME
            )
        })?;
        self.last = Some((vtable, typed));
        Ok(typed)
    }
}

#[doc(hidden)]
pub trait EventVTableOf {
    const VTABLE: &'static EventVTable;
}

impl<E: Event> EventVTableOf for E {
    const VTABLE: &'static EventVTable = &EventVTable {
        type_id: TypeId::of::<E>,
        name: E::NAME,
        version: E::VERSION,
        aggregate: <E::Aggregate as Aggregate>::NAME,
        category: <E::Aggregate as Aggregate>::CATEGORY,
        to_json: event_to_json::<E>,
        validate: validate_event::<E>,
        apply: E::__APPLY,
    };
}

fn validate_event<E: Event>(
    payload: &(dyn Any + Send + Sync),
    path: &crate::model::validation::FieldPath<'_>,
    errors: &mut crate::model::validation::ValidationErrors,
) {
    if let Some(event) = payload.downcast_ref::<E>() {
        event.validate_into(path, errors);
    }
}

// Instantiated once per event type: no closures, no `?`, no `map_err` (each would be one more
// function per event in the user's crate); the errors are built by the non-generic functions below.
fn event_to_json<E: Event>(payload: &(dyn Any + Send + Sync)) -> Result<serde_json::Value> {
    match payload.downcast_ref::<E>() {
        Some(event) => match serde_json::to_value(event) {
            Ok(value) => Ok(value),
            Err(e) => Err(serialize_failed(E::NAME, e)),
        },
        None => Err(payload_is_not(E::NAME)),
    }
}

#[cold]
#[inline(never)]
fn serialize_failed(name: &str, e: serde_json::Error) -> Error {
    Error::Store(format!("serializing `{name}`: {e}"))
}

#[cold]
#[inline(never)]
fn payload_is_not(name: &str) -> Error {
    Error::Store(format!("payload is not a `{name}`"))
}

/// Orders events raised by an aggregate and its entities: entities hold their own buffers, and
/// the aggregate merges them on save by this sequence.
static RAISE_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// An event raised but not yet committed.
#[doc(hidden)]
#[derive(Clone)]
pub struct PendingEvent {
    pub(crate) seq: u64,
    pub(crate) payload: Arc<dyn Any + Send + Sync>,
    pub(crate) vtable: &'static EventVTable,
}

impl PendingEvent {
    pub(crate) fn new<E: Event>(event: E) -> Self {
        PendingEvent {
            seq: RAISE_SEQUENCE.fetch_add(1, Ordering::Relaxed),
            payload: Arc::new(event),
            vtable: E::VTABLE,
        }
    }
}

impl fmt::Debug for PendingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.vtable)
    }
}

/// Events raised by an aggregate or entity and not yet saved.
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct PendingEvents(Vec<PendingEvent>);

impl PendingEvents {
    /// Records a raised event.
    pub fn push<E: Event>(&mut self, event: E) {
        self.0.push(PendingEvent::new(event));
    }

    /// Moves the events into `out` (handing over the whole buffer when `out` is empty, as it is
    /// when an aggregate is staged: no allocation and no copy).
    pub fn drain_into(&mut self, out: &mut Vec<PendingEvent>) {
        if out.is_empty() {
            std::mem::swap(out, &mut self.0);
        } else {
            out.append(&mut self.0);
        }
    }

    /// How many are pending.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for PendingEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

/// What `#[aggregate]` adds to a struct besides its identity: the version for optimistic
/// concurrency and the events raised since it was loaded.
#[doc(hidden)]
#[derive(Clone, Default, Debug)]
pub struct AggregateState {
    pub(crate) version: u64,
    /// An event-sourced aggregate's stream position when loaded (the events its state folds),
    /// which decides when a commit takes a snapshot.
    pub(crate) stream_position: u64,
    pub events: PendingEvents,
    /// When read back from a unit of work: the staging revision it was read at, so a copy read
    /// before a nested command changed the aggregate is not saved over that change.
    pub(crate) staged_revision: u64,
}

impl AggregateState {
    /// The version the aggregate was loaded at (0: never persisted).
    pub fn version(&self) -> u64 {
        self.version
    }
}

// The framework's hidden state takes no part in comparisons and hashes, so a user's
// `#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]` on an aggregate or entity compares its fields.
macro_rules! transparent_to_comparisons {
    ($($t:ty),*) => {$(
        impl PartialEq for $t {
            fn eq(&self, _: &Self) -> bool {
                true
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, _: &Self) -> std::cmp::Ordering {
                std::cmp::Ordering::Equal
            }
        }
        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
        }
    )*};
}
transparent_to_comparisons!(AggregateState, PendingEvents);

/// The check that a field holding entities carries `#[has_many]` / `#[has_one]`: without it the
/// entities are stored, but the events they raise are never collected. The macros probe each
/// such field's type by autoref specialization; the entity cases resolve to a method whose bound
/// is never met, so the mistake is a compile error naming the missing attribute.
#[doc(hidden)]
pub mod entity_fields {
    use super::Entity;

    /// A field's type, probed for entities: see [`HoldsEntity`].
    pub struct RelationProbe<T: ?Sized>(pub std::marker::PhantomData<T>);

    /// Never implemented: the bound that turns an entity field without a relation attribute into
    /// a compile error that says what to add.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is an entity: the field holding it needs `#[has_many]` (a `Vec`) or `#[has_one]`",
        label = "add `#[has_many]` or `#[has_one]` to this field",
        note = "without the attribute the entity is stored, but every event it raises would be dropped on save"
    )]
    pub trait EntityFieldNeedsRelation {}

    /// Picked for a field of type `E` where `E` is an entity.
    pub trait HoldsEntity<E> {
        /// Does not compile: see [`EntityFieldNeedsRelation`].
        fn entities_need_a_relation(&self)
        where
            E: EntityFieldNeedsRelation;
    }
    impl<E: Entity> HoldsEntity<E> for &RelationProbe<E> {
        fn entities_need_a_relation(&self)
        where
            E: EntityFieldNeedsRelation,
        {
        }
    }

    /// Picked for a field of type `Vec<E>` where `E` is an entity.
    pub trait HoldsEntities<E> {
        /// Does not compile: see [`EntityFieldNeedsRelation`].
        fn entities_need_a_relation(&self)
        where
            E: EntityFieldNeedsRelation;
    }
    impl<E: Entity> HoldsEntities<E> for &RelationProbe<Vec<E>> {
        fn entities_need_a_relation(&self)
        where
            E: EntityFieldNeedsRelation,
        {
        }
    }

    /// Picked for a field of type `Option<E>` where `E` is an entity.
    pub trait HoldsOptionalEntity<E> {
        /// Does not compile: see [`EntityFieldNeedsRelation`].
        fn entities_need_a_relation(&self)
        where
            E: EntityFieldNeedsRelation;
    }
    impl<E: Entity> HoldsOptionalEntity<E> for &RelationProbe<Option<E>> {
        fn entities_need_a_relation(&self)
        where
            E: EntityFieldNeedsRelation,
        {
        }
    }

    /// Picked for every other field type: nothing to report.
    pub trait HoldsNoEntity {
        /// Does nothing.
        fn entities_need_a_relation(&self);
    }
    impl<T: ?Sized> HoldsNoEntity for RelationProbe<T> {
        fn entities_need_a_relation(&self) {}
    }
}
