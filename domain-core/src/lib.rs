//! # domain-core
//!
//! A domain-driven design and CQRS framework: annotate plain Rust structs and impl blocks, and the
//! runtime routes every raised event to its handlers **after** the repository commit succeeds.
//!
//! ```rust,standalone_crate
//! use domain_core::prelude::*;
//!
//! #[aggregate]
//! pub struct Order {
//!     #[field(max_length = 150)]
//!     pub customer: String,
//!     #[field(choices = ["PENDING", "SHIPPED"], default = "PENDING")]
//!     pub status: String,
//! }
//!
//! impl Order {
//!     pub fn ship(&mut self) {
//!         self.status = "SHIPPED".into();
//!         self.raise(OrderShipped { order_id: self.id(), customer: self.customer.clone() });
//!     }
//! }
//!
//! #[event(part_of = Order)]
//! pub struct OrderShipped { pub order_id: Identifier, pub customer: String }
//!
//! #[aggregate]
//! pub struct Notification { pub text: String }
//!
//! #[derive(Default)]
//! pub struct Notifier;
//!
//! #[event_handler(part_of = Notification, stream_category = "order")]
//! impl Notifier {
//!     #[handle(OrderShipped)]
//!     fn on_shipped(&self, event: &OrderShipped, ctx: &mut Context) -> Result<()> {
//!         let text = format!("shipped to {}", event.customer);
//!         ctx.repository::<Notification>().add(Notification::builder().text(text).build()?)
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let domain = Domain::builder("Shop").build()?;
//! let mut order = Order::builder().customer("Ann").build()?;
//! order.ship();
//! domain.repository::<Order>().add(order).await?;   // commit, then dispatch
//! let notes = domain.repository::<Notification>().query().all().await?;
//! assert_eq!(notes.items[0].text, "shipped to Ann");
//! # Ok::<(), domain_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! The parts: [`model`] (the traits the macros implement), [`registry`] (linkme registration and
//! the checks `build()` runs), the unit of work, repositories and queries ([`Context`],
//! [`DomainRepository`], [`Query`]), the in-memory store, the sync dispatch loop in [`Domain`],
//! and [`admin`], the operators' commands (dead letters, submissions, subscriptions) for a
//! binary of your own.
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate self as domain_core;

// Four layers, each importing only from those below it: `model` (the element traits, values,
// messages, errors, validation), `store` (memory and SQL), `runtime` (registry, units of work,
// contexts, dispatch, the `Domain` API), and `admin` (operators' commands over the `Domain` API).
pub mod admin;
pub mod model;
mod runtime;
mod store;

pub use runtime::registry;

pub use domain_macros::{
    aggregate, apply, apply_events, command, command_handler, entity, entity_handler, event,
    event_handler, handle, handler_states, on_command, on_query, query, react, response, upcaster,
    value_object,
};
pub use model::clause::{Handled, HandlerState, HandlerStates, IgnoredMessages, Process, Yields};
pub use model::error::{CommittedOutput, Error, HandlerFailure, Result};
pub use model::identifier::Identifier;
pub use model::message::{EventEnvelope, MessageKind, Metadata, RecordedCommand, stream_category};
pub use model::query::{Condition, Field, Filter, Op, OrderBy, QueryResult, QuerySpec};
pub use model::query_message::{FromRows, QueryMessage, Response};
pub use model::validation::{
    Bounded, Choice, FieldPath, HasLength, MAX_IDENTIFIER_BYTES, Validate, ValidationErrors,
};
pub use model::{Aggregate, Apply, Command, Entity, Event, RaisableBy, ValueObject};
pub use runtime::context::{Context, Query, Repository};
pub use runtime::core::CommandOptions;
pub use runtime::domain::{
    CommandLog, DATABASE_URL_VAR, Domain, DomainBuilder, DomainRepository, EVENT_PROCESSING_VAR,
    EventProcessing, EventStore, Processed, RETRY_CLAIM, RetryReport, Submitted,
};
pub use runtime::engine::{ENGINE_POLL, Engine, SubscriptionStatus};
pub use runtime::handler::{HandledCommand, HandlerReturn};
pub use runtime::query_handler::{HandledQuery, QueryContext};
pub use runtime::registry::Register;
pub use runtime::retry::{POISON_LIMIT, RetryPolicy};
/// A JSON value, as `#[upcaster]` functions take and return it.
pub use serde_json::Value as JsonValue;
pub use store::{DeliveryState, FailedDelivery, StoreOptions, Submission, SubmissionState};
/// The UUID type of message ids and generated identities (the `uuid` crate, re-exported).
pub use uuid::Uuid;

/// Everything a domain module needs: `use domain_core::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Aggregate, Apply, Command, Context, Domain, Entity, Error, Event, EventEnvelope, Handled,
        Identifier, JsonValue, Metadata, Process, QueryContext, Result, Validate, ValidationErrors,
        ValueObject, aggregate, apply, apply_events, command, command_handler, entity,
        entity_handler, event, event_handler, handle, handler_states, on_command, on_query, query,
        react, response, upcaster, value_object,
    };
}

/// Paths used by generated code. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::model::clause::{Handled, HandlerState, HandlerStates, Yields};
    pub use crate::model::codec::{DecodedEvent, UpcastFn, UpcastFrom, decode_event};
    pub use crate::model::entity_fields;
    pub use crate::model::query_message::{
        ColumnKind, FromRows, QueryMessage, Response, SqlPart, SqlView, ViewColumn,
    };
    pub use crate::model::validation::check;
    pub use crate::model::{
        Aggregate, AggregateState, Applier, Apply, ApplyRule, Command, Entity, Event, EventSourced,
        PendingEvent, PendingEvents, RaisableBy, StateStored, ValueObject,
    };
    pub use crate::runtime::domain::process_json;
    pub use crate::runtime::entity::{
        EntityHandlers, EventSourcedEntity, OneEntityHandlerBlockPerEntity,
        entity_handlers_instance, event_sourced_entity, identity_of, process_reaction,
        run_command_clause, run_reaction, yield_reaction,
    };
    pub use crate::runtime::handler::{
        HandledCommand, HandlerReturn, context_as, handled_command_category, instance_as,
        wrong_instance,
    };
    pub use crate::runtime::query_handler::{HandledQuery, QueryContext, run_sql_query};
    pub use crate::runtime::registry::{
        AggregateRegistration, BoxFuture, CommandHandlerRegistration, CommandRegistration,
        DOMAIN_CORE_REGISTRATIONS, EntityRegistration, EventDispatch, EventHandlerRegistration,
        EventRegistration, HandledCommandEntry, HandledEventEntry, Instance,
        OneAnnotatedImplBlockPerHandlerType, Register, Registration, default_instance,
    };
    pub use crate::runtime::submission::run_submitted;
    /// A JSON value, as the generated `__json_problems` methods receive it.
    pub use serde_json::Value as JsonValue;

    /// The field-by-field diagnosis of a command's JSON that did not decode.
    pub mod json {
        pub use crate::model::json::{
            Check, DecodeFieldList, DecodeFields, DecodeOptionalFields, DecodeWhole, Decoder,
            Fields, Slot, unchecked,
        };
    }
    pub use crate::{
        Context, EventEnvelope, Field, FieldPath, Identifier, Result, Validate, ValidationErrors,
    };
    pub use linkme;
    pub use serde;
    pub use std::any::{Any, TypeId};
    pub use std::marker::PhantomData;
    pub use std::option::Option::{self, None, Some};
    pub use std::result::Result as StdResult;
    pub use std::sync::Arc;

    /// `part_of` aggregate facts read through the message's own impl, so a `part_of` that is not
    /// an aggregate is reported once, at the user's `part_of = X` token, by the impl itself.
    pub const fn event_aggregate<E: Event>() -> (&'static str, &'static str) {
        (
            <E::Aggregate as Aggregate>::NAME,
            <E::Aggregate as Aggregate>::CATEGORY,
        )
    }
    #[allow(missing_docs)]
    pub const fn entity_aggregate<E: Entity>() -> &'static str {
        <E::Aggregate as Aggregate>::NAME
    }
    #[allow(missing_docs)]
    pub const fn command_aggregate<C: Command>() -> &'static str {
        <C::Aggregate as Aggregate>::NAME
    }

    /// An event's aggregate, read through the constant that checks its `part_of` (see the
    /// `#[event]` expansion): an error there leaves this an error type, reported no more.
    pub trait PartOfGate<A> {
        /// `A`.
        type Aggregate: Aggregate;
    }
    impl<const N: usize, A: Aggregate> PartOfGate<A> for [(); N] {
        type Aggregate = A;
    }

    /// Drains a `#[has_many]` / `#[has_one]` entity's events; its bound is the relation check.
    pub fn drain_entity<A, E: Entity<Aggregate = A>>(entity: &mut E, out: &mut Vec<PendingEvent>) {
        entity.__drain_events(out);
    }

    /// Builder marker: the required field was set to this value.
    pub struct Set<T>(pub T);
    /// Builder marker: the required field was not set yet.
    pub struct Unset;

    /// What an optional field's builder setter accepts: the value, an `Option` of it, and for
    /// text fields `&str` / `Option<&str>` too.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot set an optional field of type `Option<{T}>`",
        label = "pass a `{T}` or an `Option<{T}>`"
    )]
    pub trait IntoOptional<T> {
        /// The field's value.
        fn into_optional(self) -> Option<T>;
    }
    impl<T> IntoOptional<T> for T {
        fn into_optional(self) -> Option<T> {
            Some(self)
        }
    }
    impl<T> IntoOptional<T> for Option<T> {
        fn into_optional(self) -> Option<T> {
            self
        }
    }
    impl IntoOptional<String> for &str {
        fn into_optional(self) -> Option<String> {
            Some(self.to_owned())
        }
    }
    impl IntoOptional<String> for Option<&str> {
        fn into_optional(self) -> Option<String> {
            self.map(str::to_owned)
        }
    }
    impl IntoOptional<String> for &String {
        fn into_optional(self) -> Option<String> {
            Some(self.clone())
        }
    }

    /// Stands in for the aggregate of an entity, event, command or handler whose `part_of` is
    /// missing: that is a compile error already, and the rest of the expansion is checked
    /// against this type (which matches any category) instead of failing again at each use.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    #[serde(crate = "serde")]
    pub struct MissingPartOf {
        #[serde(skip)]
        state: AggregateState,
    }
    impl Validate for MissingPartOf {
        fn validate_into(&self, _: &FieldPath<'_>, _: &mut ValidationErrors) {}
    }
    impl Aggregate for MissingPartOf {
        type Sourcing = StateStored;
        const NAME: &'static str = "";
        const CATEGORY: &'static str = "";
        fn identifier(&self) -> Identifier {
            unreachable!("a domain with a compile error never runs")
        }
        fn __state(&self) -> &AggregateState {
            &self.state
        }
        fn __state_mut(&mut self) -> &mut AggregateState {
            &mut self.state
        }
        fn __drain_events(&mut self, _: &mut Vec<PendingEvent>) {}
    }

    /// The `#[identifier]` field of an event-sourced aggregate's blank state, from the identity
    /// the aggregate is loaded or created with.
    #[diagnostic::on_unimplemented(
        message = "an event-sourced aggregate's `#[identifier]` field cannot be `{Self}`",
        label = "use `Identifier` or `String`: the blank state is built from the identity"
    )]
    pub trait FromIdentity {
        /// The field's value for identity `id`.
        fn from_identity(id: &Identifier) -> Self;
    }
    impl FromIdentity for Identifier {
        fn from_identity(id: &Identifier) -> Self {
            id.clone()
        }
    }
    impl FromIdentity for String {
        fn from_identity(id: &Identifier) -> Self {
            id.to_string()
        }
    }

    /// Whether a message of category `a` is in category `b`, for the handlers' const
    /// assertions; the empty category is [`MissingPartOf`]'s, already an error.
    pub const fn same_category(a: &str, b: &str) -> bool {
        a.is_empty() || b.is_empty() || str_eq(a, b)
    }

    /// `a == b` for string constants, usable in const assertions.
    pub const fn str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}

/// The README's Rust examples, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
