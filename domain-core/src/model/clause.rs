//! RIDDL's entity handler clauses, typed: what an `on command .. yields ..` clause may return
//! ([`Yields`]), the handler states an entity switches between ([`HandlerStates`],
//! [`HandlerState`]), and what processing a command through a clause did ([`Handled`]).

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::error::Result;
use crate::model::identifier::Identifier;
use crate::model::{Aggregate, Event, RaisableBy};

/// What an `#[on_command]` clause of entity `A` returns: the events it yields, which the
/// framework applies to the entity and appends to its stream. An event of `A`; `Option` of one
/// (none or one); `Vec` of them; a tuple of up to four (events of different types); `()`
/// (nothing); or `Result` of any of these, whose `Err` refuses the command. To choose between
/// events of different types, return a tuple of `Option`s (`(Option<Accepted>, Option<Waitlisted>)`).
/// A decision that needs more than the entity's state and the command (another aggregate, a
/// nested command) belongs in a `#[command_handler]`, which works on event-sourced entities too.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate(event_sourced)]
/// pub struct Tally { pub count: u32 }
///
/// #[event(part_of = Tally)]
/// pub struct Counted { pub by: u32 }
///
/// #[command(part_of = Tally)]
/// pub struct Count { #[identifier] pub tally: Identifier, pub by: u32 }
///
/// #[entity_handler]
/// impl Tally {
///     /// RIDDL: `on command Count yields Counted`, refusing a zero.
///     #[on_command]
///     fn on_count(&self, command: Count) -> Result<Option<Counted>> {
///         match command.by {
///             0 => Err(Error::rule("count by at least one")),
///             _ if self.count >= 100 => Ok(None), // full: nothing happens
///             by => Ok(Some(Counted { by })),
///         }
///     }
///
///     #[apply]
///     fn counted(&mut self, event: &Counted) {
///         self.count += event.by;
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a clause of `{A}` can yield",
    label = "a clause of `{A}` yields events declared `part_of = {A}`",
    note = "return an event of `{A}`, or an `Option`, `Vec`, tuple or `Result` of them; an event of another entity is raised by that entity's own clauses"
)]
pub trait Yields<A: Aggregate> {
    /// Applies each yielded event to `entity` and records it for the commit; returns how many.
    #[doc(hidden)]
    fn __raise_into(self, entity: &mut A) -> Result<usize>;
}

// Bounded by `RaisableBy<A>` only (which `#[event(part_of = A)]` implements for `A` alone), so
// another entity's event is one error, "not an event of `A`". The event is applied through its
// `__APPLY` rather than an `A: Apply<E>` bound: an event without an `#[apply]` method is already
// an error at the event's own name, and would otherwise be a second one here.
impl<A: Aggregate, E: Event + RaisableBy<A>> Yields<A> for E {
    fn __raise_into(self, entity: &mut A) -> Result<usize> {
        if let Some(apply) = E::__APPLY.and_then(|applier| applier.of::<A>()) {
            apply(entity, &self);
        }
        entity.__state_mut().events.push(self);
        Ok(1)
    }
}

impl<A: Aggregate> Yields<A> for () {
    fn __raise_into(self, _: &mut A) -> Result<usize> {
        Ok(0)
    }
}

impl<A: Aggregate, Y: Yields<A>> Yields<A> for Option<Y> {
    fn __raise_into(self, entity: &mut A) -> Result<usize> {
        match self {
            Some(yielded) => yielded.__raise_into(entity),
            None => Ok(0),
        }
    }
}

impl<A: Aggregate, Y: Yields<A>> Yields<A> for Vec<Y> {
    fn __raise_into(self, entity: &mut A) -> Result<usize> {
        let mut count = 0;
        for yielded in self {
            count += yielded.__raise_into(entity)?;
        }
        Ok(count)
    }
}

impl<A: Aggregate, Y: Yields<A>> Yields<A> for Result<Y> {
    fn __raise_into(self, entity: &mut A) -> Result<usize> {
        self?.__raise_into(entity)
    }
}

macro_rules! yields_tuple {
    ($($y:ident),+) => {
        impl<A: Aggregate, $($y: Yields<A>),+> Yields<A> for ($($y,)+) {
            #[allow(non_snake_case)]
            fn __raise_into(self, entity: &mut A) -> Result<usize> {
                let ($($y,)+) = self;
                Ok(0 $(+ $y.__raise_into(entity)?)+)
            }
        }
    };
}
yields_tuple!(Y1, Y2);
yields_tuple!(Y1, Y2, Y3);
yields_tuple!(Y1, Y2, Y3, Y4);

/// A command a `#[react]` clause sends to its own entity (RIDDL: a reaction "converts a foreign
/// event into a command for altering its own state"): the command is processed at once, by its
/// handler, in the reaction's unit of work.
///
/// ```
/// use domain_core::prelude::*;
///
/// pub mod shipping {
///     use domain_core::prelude::*;
///
///     #[aggregate]
///     pub struct Parcel { pub weight: i64 }
///
///     #[event(part_of = Parcel)]
///     pub struct ParcelWeighed { pub order: Identifier, pub grams: i64 }
/// }
///
/// #[aggregate(event_sourced)]
/// pub struct Order { pub postage_cents: i64 }
///
/// #[event(part_of = Order)]
/// pub struct PostageCharged { pub cents: i64 }
///
/// #[command(part_of = Order)]
/// pub struct ChargePostage { #[identifier] pub order: Identifier, pub cents: i64 }
///
/// #[entity_handler]
/// impl Order {
///     /// Shipping's fact, in this context's language: a command to this order.
///     #[react(instance = order)]
///     fn weighed(&self, event: &shipping::ParcelWeighed) -> Process<ChargePostage> {
///         Process(ChargePostage { order: event.order.clone(), cents: event.grams / 10 })
///     }
///
///     #[on_command]
///     fn charge(&self, command: ChargePostage) -> PostageCharged {
///         PostageCharged { cents: command.cents }
///     }
///
///     #[apply]
///     fn charged(&mut self, event: &PostageCharged) {
///         self.postage_cents += event.cents;
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process<C>(pub C);

/// The handler states of an entity (RIDDL: "an entity can make use of multiple handlers ... only
/// one handler active at any moment"): a fieldless enum annotated with `#[handler_states]`,
/// named by `#[aggregate(event_sourced, states = ..)]`. Its first variant is where a new entity
/// starts.
///
/// ```
/// use domain_core::prelude::*;
/// use domain_core::HandlerState;
///
/// #[handler_states]
/// pub enum Door { Closed, Open, Locked }
///
/// assert_eq!(Door::default(), Door::Closed);
/// assert_eq!(Door::Locked.name(), "Locked");
/// assert_eq!(Door::NAMES, ["Closed", "Open", "Locked"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of handler states",
    label = "expected a fieldless enum annotated with `#[handler_states]`",
    note = "declare the states as `#[handler_states] pub enum {Self} {{ Open, Closed }}`: each variant is one handler of the entity, the first is where a new entity starts"
)]
pub trait HandlerState:
    Copy + Eq + fmt::Debug + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Every state's name, in declaration order.
    const NAMES: &'static [&'static str];
    /// This state's name.
    fn name(self) -> &'static str;
}

/// An entity with handler states: which handler is active is part of its state, changed only
/// by `#[apply(become = State)]` (so replaying the stream, or restoring a snapshot, restores it).
/// Implemented by `#[aggregate(event_sourced, states = ..)]`, which also gives the entity an
/// `active_handler()` getter.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[handler_states]
/// pub enum Valve { Shut, Flowing }
///
/// #[aggregate(event_sourced, states = Valve)]
/// pub struct Tap { pub litres: i64 }
///
/// #[event(part_of = Tap)]
/// pub struct TapTurned {}
///
/// #[apply_events]
/// impl Tap {
///     #[apply(become = Flowing)]
///     fn turned(&mut self, _event: &TapTurned) {}
/// }
///
/// let mut tap = Tap::new();
/// assert_eq!(tap.active_handler(), Valve::Shut);
/// tap.raise(TapTurned {});
/// assert_eq!(tap.active_handler(), Valve::Flowing);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` declares no handler states",
    label = "`when` and `become` name a state of the entity's handler states",
    note = "declare them: `#[handler_states] pub enum {Self}Handler {{ .. }}` and `#[aggregate(event_sourced, states = {Self}Handler)]`"
)]
pub trait HandlerStates: Aggregate {
    /// The entity's states.
    type States: HandlerState;
    /// The active handler.
    #[doc(hidden)]
    fn __active(&self) -> Self::States;
    /// Makes `state` the active handler (from an `#[apply(become = ..)]` method).
    #[doc(hidden)]
    fn __become(&mut self, state: Self::States);
}

/// What processing a command through an entity's `#[on_command]` clause did: the value
/// `domain.process(command)` returns for it.
///
/// A command the active handler has no clause for is ignored, as RIDDL says, but visibly: it is
/// [`Handled::Ignored`], which names the active handler (or, with
/// [`DomainBuilder::ignored_messages`](crate::DomainBuilder::ignored_messages), an
/// [`Error::Ignored`](crate::Error::Ignored)).
///
/// ```
/// use domain_core::Handled;
/// use domain_core::Identifier;
///
/// let id = Identifier::from("door-1");
/// let ignored = Handled::Ignored { id: id.clone(), handler: "Locked" };
/// assert!(ignored.is_ignored());
/// assert_eq!(ignored.events(), 0);
/// assert_eq!(ignored.to_string(), "door-1: ignored by the active handler `Locked`");
/// assert_eq!(Handled::Applied { id, events: 2 }.events(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a command can be ignored by the entity's active handler: check `is_ignored()`"]
pub enum Handled {
    /// The clause ran: the events it yielded were applied to the entity and committed.
    Applied {
        /// The entity the command went to.
        id: Identifier,
        /// How many events the clause yielded.
        events: usize,
    },
    /// The entity's active handler has no clause for the command: nothing changed.
    Ignored {
        /// The entity the command went to.
        id: Identifier,
        /// The active handler (its state's name).
        handler: &'static str,
    },
}

impl Handled {
    /// The entity the command went to.
    pub fn id(&self) -> &Identifier {
        match self {
            Handled::Applied { id, .. } | Handled::Ignored { id, .. } => id,
        }
    }

    /// True when the active handler ignored the command.
    pub fn is_ignored(&self) -> bool {
        matches!(self, Handled::Ignored { .. })
    }

    /// How many events the clause yielded (0 when ignored).
    pub fn events(&self) -> usize {
        match self {
            Handled::Applied { events, .. } => *events,
            Handled::Ignored { .. } => 0,
        }
    }
}

impl fmt::Display for Handled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handled::Applied { id, events } => write!(f, "{id}: {events} event(s) applied"),
            Handled::Ignored { id, handler } => {
                write!(f, "{id}: ignored by the active handler `{handler}`")
            }
        }
    }
}

/// What a domain does with a message its entity's active handler has no clause for.
///
/// ```
/// use domain_core::prelude::*;
/// use domain_core::IgnoredMessages;
///
/// let strict = Domain::builder("Shop").ignored_messages(IgnoredMessages::Fail);
/// # let _ = strict;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IgnoredMessages {
    /// Ignore it, as RIDDL says, and say so: `process` returns [`Handled::Ignored`].
    #[default]
    Report,
    /// Fail with [`Error::Ignored`](crate::Error::Ignored): a command sent in the wrong state is the caller's mistake.
    Fail,
}
