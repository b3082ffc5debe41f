//! What the stores need to turn stored rows back into typed messages, and nothing else: the
//! decoders of the domain's events and the types of its commands, by type name. Built from the
//! registry and given to the store when it opens, so the store layer never reaches up into the
//! registry (or the runtime above it).

use std::any::{Any, TypeId};
use std::sync::Arc;

use foldhash::HashMap;

use crate::model::error::{Error, Result};

/// Decodes one serialized event type (emitted for each `#[event]`).
pub(crate) type DecodeEvent = fn(&str) -> std::result::Result<DecodedEvent, String>;

/// Decodes a serialized event of type `E` (behind `EventStore::decode` and the durable stores'
/// event reads). It does not validate: a stored event is a fact, validated when it was committed,
/// and a rule added since must not make history unreadable. Events from outside are validated
/// by their reader (`EventStore::decode`).
#[doc(hidden)]
pub fn decode_event<E: crate::model::Event>(
    json: &str,
) -> std::result::Result<DecodedEvent, String> {
    // No `?` / `map_err` closure: each is one more function per event in the user's crate.
    match serde_json::from_str::<E>(json) {
        Ok(event) => Ok(DecodedEvent {
            payload: Arc::new(event),
            vtable: <E as crate::model::EventVTableOf>::VTABLE,
        }),
        Err(e) => Err(decode_failed(e)),
    }
}

#[cold]
#[inline(never)]
fn decode_failed(e: serde_json::Error) -> String {
    e.to_string()
}

/// A decoded event payload with its type's runtime description.
#[doc(hidden)]
pub struct DecodedEvent {
    pub payload: Arc<dyn Any + Send + Sync>,
    pub vtable: &'static crate::model::EventVTable,
}

/// Turns the JSON of an event at one schema version into the JSON of the next. Written by the
/// user as an `#[upcaster(Event, from = N)]` function.
pub type UpcastFn = fn(serde_json::Value) -> serde_json::Value;

/// The upcaster of `Self` from schema version `N` to `N + 1`: implemented by
/// `#[upcaster(Self, from = N)]`. `#[event(version = V)]` requires one for each `N` below `V`, so
/// a gap in the chain is a compile error at the event's name.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no upcaster from version {N}",
    label = "stored `{Self}` events of version {N} could not be read",
    note = "add `#[upcaster({Self}, from = {N})] fn ...(old: JsonValue) -> JsonValue {{ .. }}`, turning version {N}'s JSON into the next version's"
)]
pub trait UpcastFrom<const N: u32> {
    /// The upcaster.
    const UPCAST: UpcastFn;
}

/// How to decode one stored event type name.
#[derive(Clone, Copy)]
pub(crate) struct EventDecoder {
    /// Decodes the current version's JSON.
    pub decode: DecodeEvent,
    /// For an older version's name: the upcasters from it to the current version, in order
    /// (empty for the current version).
    pub upcasters: &'static [UpcastFn],
}

/// The domain's message types by type name (`Shop.OrderPlaced.v1`).
#[derive(Default)]
pub(crate) struct Codec {
    events: HashMap<Arc<str>, EventDecoder>,
    commands: HashMap<Arc<str>, TypeId>,
}

impl Codec {
    pub fn new(
        events: impl IntoIterator<Item = (Arc<str>, EventDecoder)>,
        commands: impl IntoIterator<Item = (Arc<str>, TypeId)>,
    ) -> Self {
        Codec {
            events: events.into_iter().collect(),
            commands: commands.into_iter().collect(),
        }
    }

    /// Decodes a serialized event named by its type name. An older version of an event is
    /// upcast to the current one first, through each of its upcasters in order: every reader
    /// (loads, subscriptions, retries, `event_store()`) sees the current type.
    pub fn decode_event(&self, type_name: &str, json: &str) -> Result<DecodedEvent> {
        let decoder = self
            .events
            .get(type_name)
            .ok_or_else(|| Error::UnknownMessageType {
                type_name: crate::model::error::shorten(type_name),
                known: self.known_events(),
            })?;
        if decoder.upcasters.is_empty() {
            return (decoder.decode)(json).map_err(|reason| Error::malformed(type_name, reason));
        }
        let mut value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::malformed(type_name, e.to_string()))?;
        for upcast in decoder.upcasters {
            value = upcast(value);
        }
        (decoder.decode)(&value.to_string()).map_err(|reason| {
            Error::malformed(
                type_name,
                format!("after upcasting to the current version: {reason}"),
            )
        })
    }

    /// The Rust type of the command named `type_name`, if this domain has it.
    pub fn command_type_id(&self, type_name: &str) -> Option<TypeId> {
        self.commands.get(type_name).copied()
    }

    /// The event type names, sorted and comma-separated.
    pub fn known_events(&self) -> String {
        let mut names: Vec<&str> = self.events.keys().map(|k| &**k).collect();
        names.sort_unstable();
        names.join(", ")
    }
}
