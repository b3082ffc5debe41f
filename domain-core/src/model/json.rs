//! Field-by-field diagnosis of a command's JSON that did not decode, behind
//! [`Domain::process_json`](crate::Domain::process_json).
//!
//! serde's derived decoder stops at the first problem. When it fails, the JSON object is walked
//! again, one declared field at a time: each field is decoded on its own (so one mistyped field
//! does not hide the next), missing required fields and undeclared fields are listed, and fields
//! that did decode are validated with their `#[field(...)]` options. Everything lands in one
//! [`ValidationErrors`] map, keyed by path (`price.amount`, `items[1].quantity`).
//!
//! serde stays the only decoder of a command that succeeds: this walk runs only on failure, so
//! success costs what it did, and if the walk finds nothing (input it judges differently from
//! serde) the caller reports serde's own error instead.
//!
//! The macros generate, per `#[command]` and `#[value_object]`, one hidden `__json_problems`
//! method (of [`Command`] and [`ValueObject`]) that calls [`Fields::field`] once per field; the
//! work is in the generic functions here. A hidden method with a default, rather than a trait of
//! its own, keeps every diagnostic about a type that is not a command unchanged.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::model::error::{Error, shorten};
use crate::model::validation::{FieldPath, ValidationErrors, abbreviate};
use crate::model::{Command, ValueObject};

/// How many undeclared fields, or failing elements of one list, are named one by one: the input
/// is the client's, and a million bad entries must not become a million messages.
const MAX_LISTED: usize = 20;

/// `value` as a `C` (named `type_name` in errors), or every problem of it ([`decode_error`]).
/// Decoded from a reference: on failure the value is walked again, field by field.
pub(crate) fn decode_command<C: Command>(type_name: &str, value: &Value) -> Result<C, Error> {
    C::deserialize(value).map_err(|error| decode_error::<C>(type_name, value, error))
}

/// The error for a command whose JSON did not decode as `C` (`error` is serde's): every failing
/// field in [`Error::Validation`], or [`Error::Malformed`] when the JSON is not an object (there
/// are no fields to name) or the field-by-field walk finds nothing to blame.
pub(crate) fn decode_error<C: Command>(
    type_name: &str,
    value: &Value,
    error: serde_json::Error,
) -> Error {
    if value.is_object() {
        let mut errors = ValidationErrors::default();
        C::__json_problems(value, &FieldPath::ROOT, &mut errors);
        if !errors.is_empty() {
            return Error::Validation(errors);
        }
    }
    Error::malformed(type_name, error)
}

/// Decodes one field's JSON value, reporting what is wrong under the field's path; `None` if it
/// did not decode.
pub type Decoder<T> = fn(&Value, &FieldPath<'_>, &mut ValidationErrors) -> Option<T>;

/// Validates one decoded field (its `#[field(...)]` options and nested values) under its path.
pub type Check<T> = fn(&T, &FieldPath<'_>, &mut ValidationErrors);

/// A JSON object being diagnosed: the generated `__json_problems` calls
/// [`Fields::field`] for each declared field, then [`Fields::deny_unknown`] for a command.
pub struct Fields<'a, 'p> {
    map: &'a Map<String, Value>,
    path: &'a FieldPath<'p>,
    errors: &'a mut ValidationErrors,
    declared: Vec<&'static str>,
}

impl<'a, 'p> Fields<'a, 'p> {
    /// The fields of `value`, or `None` after reporting under `path` why `value` is no `T` at all
    /// (not an object: serde's message, e.g. "invalid type: integer `5`, expected struct Money").
    pub fn of<T: DeserializeOwned>(
        value: &'a Value,
        path: &'a FieldPath<'p>,
        errors: &'a mut ValidationErrors,
    ) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Fields {
                map,
                path,
                errors,
                declared: Vec::new(),
            }),
            other => {
                if let Err(error) = T::deserialize(other) {
                    errors.add(path.to_string(), serde_message(&error));
                }
                None
            }
        }
    }

    /// Checks the declared field `name`: absent ("is required" when `required`), or decoded with
    /// `decode` and, if it decodes, validated with `check`.
    pub fn field<T>(
        &mut self,
        name: &'static str,
        required: bool,
        decode: Decoder<T>,
        check: Check<T>,
    ) {
        self.declared.push(name);
        let path = self.path.field(name);
        match self.map.get(name) {
            None if required => self.errors.add(path.to_string(), "is required"),
            None => {}
            Some(value) => {
                if let Some(decoded) = decode(value, &path, self.errors) {
                    check(&decoded, &path, self.errors);
                }
            }
        }
    }

    /// Reports every key that is not a declared field, under its own (abbreviated) name: commands
    /// deny unknown fields, as their serde decoder does.
    pub fn deny_unknown(self, type_name: &str) {
        let mut unknown = self
            .map
            .keys()
            .filter(|key| !self.declared.contains(&key.as_str()));
        for key in unknown.by_ref().take(MAX_LISTED) {
            let name = abbreviate(key);
            self.errors.add(
                self.path.field(&name).to_string(),
                format!("is not a field of `{type_name}`"),
            );
        }
        let rest = unknown.count();
        if rest > 0 {
            self.errors.add(
                self.path.to_string(),
                format!("has {rest} more fields that are not fields of `{type_name}`, not listed"),
            );
        }
    }
}

/// Checks nothing: a field with no `#[field(...)]` options and nothing nested to validate.
pub fn unchecked<T>(_: &T, _: &FieldPath<'_>, _: &mut ValidationErrors) {}

/// serde's message for one value, cut to a bounded length (it quotes the input).
fn serde_message(error: &serde_json::Error) -> String {
    shorten(&error.to_string())
}

/// Decodes any type with serde; its error (what was expected) is reported at the field itself.
fn whole<T: DeserializeOwned>(
    value: &Value,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) -> Option<T> {
    T::deserialize(value)
        .map_err(|error| errors.add(path.to_string(), serde_message(&error)))
        .ok()
}

/// Decodes a value object; when that fails, reports its own fields' problems under their
/// paths (`price.amount`), or serde's error at the field if the walk finds none.
fn nested<T: ValueObject>(
    value: &Value,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) -> Option<T> {
    match T::deserialize(value) {
        Ok(decoded) => Some(decoded),
        Err(error) => {
            let before = errors.message_count();
            T::__json_problems(value, path, errors);
            if errors.message_count() == before {
                errors.add(path.to_string(), serde_message(&error));
            }
            None
        }
    }
}

/// `null` or a value object.
fn nested_option<T: ValueObject>(
    value: &Value,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) -> Option<Option<T>> {
    match value {
        Value::Null => Some(None),
        value => nested(value, path, errors).map(Some),
    }
}

/// A list of value objects, each element diagnosed under its index (`items[1].quantity`). If
/// any element fails, the elements that decoded are still validated, so the answer is complete.
fn nested_vec<T: ValueObject>(
    value: &Value,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) -> Option<Vec<T>> {
    let Value::Array(elements) = value else {
        return whole(value, path, errors);
    };
    let mut decoded = Vec::with_capacity(elements.len());
    let mut failed = 0usize;
    for (index, element) in elements.iter().enumerate() {
        let element_path = path.index(index);
        if failed >= MAX_LISTED {
            // Still counted, not listed: the message below says how many.
            failed += usize::from(T::deserialize(element).is_err());
            continue;
        }
        match nested::<T>(element, &element_path, errors) {
            Some(element) if failed == 0 => decoded.push(element),
            Some(element) => element.validate_into(&element_path, errors),
            None => {
                // The list will not decode: validate the elements kept so far, and stop keeping.
                for (index, element) in decoded.drain(..).enumerate() {
                    element.validate_into(&path.index(index), errors);
                }
                failed += 1;
            }
        }
    }
    if failed > MAX_LISTED {
        errors.add(
            path.to_string(),
            format!(
                "has {} more elements that do not decode, not listed",
                failed - MAX_LISTED
            ),
        );
    }
    (failed == 0).then_some(decoded)
}

/// A field's type, probed for how to decode it (autoref specialization, resolved where the
/// macro names the concrete type): value objects, and `Option`s and `Vec`s of them, are
/// diagnosed field by field ([`DecodeFields`], [`DecodeOptionalFields`], [`DecodeFieldList`]);
/// any other type is decoded whole by serde ([`DecodeWhole`]).
pub struct Slot<T>(pub PhantomData<T>);

/// Picked for a value object.
pub trait DecodeFields<T> {
    /// The decoder.
    fn decoder(&self) -> Decoder<T>;
}
impl<T: ValueObject> DecodeFields<T> for &Slot<T> {
    fn decoder(&self) -> Decoder<T> {
        nested::<T>
    }
}

/// Picked for an `Option` of a value object.
pub trait DecodeOptionalFields<T> {
    /// The decoder.
    fn decoder(&self) -> Decoder<Option<T>>;
}
impl<T: ValueObject> DecodeOptionalFields<T> for &Slot<Option<T>> {
    fn decoder(&self) -> Decoder<Option<T>> {
        nested_option::<T>
    }
}

/// Picked for a `Vec` of a value object.
pub trait DecodeFieldList<T> {
    /// The decoder.
    fn decoder(&self) -> Decoder<Vec<T>>;
}
impl<T: ValueObject> DecodeFieldList<T> for &Slot<Vec<T>> {
    fn decoder(&self) -> Decoder<Vec<T>> {
        nested_vec::<T>
    }
}

/// Picked for every other type.
pub trait DecodeWhole<T> {
    /// The decoder.
    fn decoder(&self) -> Decoder<T>;
}
impl<T: DeserializeOwned> DecodeWhole<T> for Slot<T> {
    fn decoder(&self) -> Decoder<T> {
        whole::<T>
    }
}
