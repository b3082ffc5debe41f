//! Identity of aggregates and entities.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The identity of an aggregate or entity.
///
/// Generated identities are random UUIDs (v4). Natural keys (an ISBN, a SKU, the integer `1` of the
/// event-handler page) are kept as text, so any `#[identifier]` field can be turned into an
/// `Identifier`. Text that parses as a UUID is stored as a UUID, so `"6f1c…"` and the UUID it spells
/// are the same identifier.
///
/// ```
/// use domain_core::Identifier;
///
/// let generated = Identifier::new();
/// let parsed: Identifier = generated.to_string().as_str().into();
/// assert_eq!(generated, parsed);
/// assert_eq!(Identifier::from(1).to_string(), "1");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier(Repr);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Uuid(Uuid),
    Text(Arc<str>),
}

impl Identifier {
    /// A new random identifier (UUID v4).
    pub fn new() -> Self {
        Identifier(Repr::Uuid(Uuid::new_v4()))
    }

    /// The text inside, if this identifier is not a UUID (a natural key such as an ISBN).
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Uuid(_) => None,
            Repr::Text(t) => Some(t),
        }
    }

    /// The UUID inside, if this identifier is one.
    pub fn as_uuid(&self) -> Option<Uuid> {
        match &self.0 {
            Repr::Uuid(u) => Some(*u),
            Repr::Text(_) => None,
        }
    }
}

impl Identifier {
    /// `parts` followed by this identifier, as shared text: a stream name such as
    /// `book-6f1c…` or `book:command-6f1c…`. Commits build several per command, so this writes
    /// the UUID with its encoder into a stack buffer instead of going through `format!`, which
    /// grows its string several times and costs about five times as much.
    pub(crate) fn prefixed_with(&self, parts: &[&str]) -> Arc<str> {
        self.with_prefixed(parts, |text| Arc::from(text))
    }

    /// Calls `f` with `parts` followed by this identifier, joined on the stack when it is short
    /// (no allocation): for a lookup by stream name, which needs the text only for a moment.
    pub(crate) fn with_prefixed<R>(&self, parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
        let mut uuid_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id: &str = match &self.0 {
            Repr::Uuid(u) => u.hyphenated().encode_lower(&mut uuid_text),
            Repr::Text(t) => t,
        };
        let len = parts.iter().map(|p| p.len()).sum::<usize>() + id.len();
        let mut out = [0u8; 128];
        if len > out.len() {
            return f(&(parts.concat() + id));
        }
        let mut at = 0;
        for piece in parts.iter().chain(std::iter::once(&id)) {
            out[at..at + piece.len()].copy_from_slice(piece.as_bytes());
            at += piece.len();
        }
        // Whole `str`s joined end to end are UTF-8; the check is a short ASCII scan.
        f(std::str::from_utf8(&out[..len]).expect("joined strs are UTF-8"))
    }
}

impl Default for Identifier {
    /// A new random identifier, so that `Default` never produces a shared "zero" id.
    fn default() -> Self {
        Identifier::new()
    }
}

impl From<Uuid> for Identifier {
    fn from(value: Uuid) -> Self {
        Identifier(Repr::Uuid(value))
    }
}

impl From<&str> for Identifier {
    fn from(value: &str) -> Self {
        match Uuid::try_parse(value) {
            Ok(uuid) => Identifier(Repr::Uuid(uuid)),
            Err(_) => Identifier(Repr::Text(Arc::from(value))),
        }
    }
}

impl From<String> for Identifier {
    fn from(value: String) -> Self {
        Identifier::from(value.as_str())
    }
}

impl From<&String> for Identifier {
    fn from(value: &String) -> Self {
        Identifier::from(value.as_str())
    }
}

impl From<&Identifier> for Identifier {
    fn from(value: &Identifier) -> Self {
        value.clone()
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Identifier {
            fn from(value: $t) -> Self {
                Identifier(Repr::Text(Arc::from(value.to_string())))
            }
        }
    )*};
}
from_integer!(i32, i64, u32, u64, usize);

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Uuid(u) => fmt::Display::fmt(u, f),
            Repr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl Serialize for Identifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Identifier;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an identifier (a UUID, text or an integer)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Identifier, E> {
                Ok(Identifier::from(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Identifier, E> {
                Ok(Identifier::from(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Identifier, E> {
                Ok(Identifier::from(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_match_their_formatted_spelling() {
        let long = "x".repeat(200);
        for id in [
            Identifier::new(),
            Identifier::from("sku-ü-42"),
            Identifier::from(7),
            Identifier::from(long.as_str()),
        ] {
            let built = id.prefixed_with(&["book", ":command-"]);
            assert_eq!(&*built, format!("book:command-{id}"));
        }
    }

    #[test]
    fn text_and_uuid_forms_round_trip_through_json() {
        for id in [
            Identifier::new(),
            Identifier::from("sku-42"),
            Identifier::from(7),
        ] {
            let json = serde_json::to_string(&id).unwrap();
            let back: Identifier = serde_json::from_str(&json).unwrap();
            assert_eq!(id, back);
        }
        let from_number: Identifier = serde_json::from_str("1").unwrap();
        assert_eq!(from_number, Identifier::from("1"));
    }
}
