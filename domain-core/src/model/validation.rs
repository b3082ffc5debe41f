//! Field validation: the `#[field(...)]` options, checked on construction and again before commit.
//!
//! Every failing field is reported at once, as `{field: [messages]}`. The checks here are what the
//! macros call; the traits bound which field types each option applies to, so `max_length` on an
//! integer is a compile error at the option, not a silent no-op.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Every validation failure of a value, by field path (`title`, `price.currency`, `items[0].quantity`).
///
/// ```
/// use domain_core::ValidationErrors;
///
/// let mut errors = ValidationErrors::default();
/// errors.add("title", "is longer than 200 characters");
/// errors.add("author", "is required");
/// assert_eq!(errors.fields().count(), 2);
/// assert_eq!(errors.to_string(), "author: is required; title: is longer than 200 characters");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors {
    errors: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    /// Records one message for one field.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors
            .entry(field.into())
            .or_default()
            .push(message.into());
    }

    /// True when no field failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failing fields, in name order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.errors.keys().map(String::as_str)
    }

    /// The messages of one field (empty if it did not fail).
    pub fn messages(&self, field: &str) -> &[String] {
        self.errors.get(field).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many messages there are, over every field.
    pub(crate) fn message_count(&self) -> usize {
        self.errors.values().map(Vec::len).sum()
    }

    /// The whole map, `{field: [messages]}`.
    pub fn as_map(&self) -> &BTreeMap<String, Vec<String>> {
        &self.errors
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            // An empty map owns no memory: forgetting it skips the walk its drop makes (every
            // valid message passes here, several times per command).
            std::mem::forget(self);
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, messages) in &self.errors {
            for message in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {message}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// A field's path inside a value being validated, kept on the stack and turned into text only when
/// a check fails, so validating a valid value allocates nothing.
#[derive(Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl<'a> FieldPath<'a> {
    /// The path of the value itself.
    pub const ROOT: FieldPath<'static> = FieldPath {
        parent: None,
        segment: Segment::Root,
    };

    /// The path of a named field below this one.
    pub fn field(&'a self, name: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    /// The path of the `index`-th element below this one.
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.segment {
            Segment::Root => {}
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

/// A value that can check itself: generated for every aggregate, entity, value object, event and
/// command, from its `#[field(...)]` options and its nested values.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[value_object]
/// pub struct Money {
///     #[field(max_length = 3, default = "USD")]
///     pub currency: String,
///     #[field(min = 0.0)]
///     pub amount: f64,
/// }
///
/// let err = Money::builder().currency("EURO").amount(-1.0).build().unwrap_err();
/// assert_eq!(err.fields().collect::<Vec<_>>(), ["amount", "currency"]);
/// ```
pub trait Validate {
    /// Adds this value's failures, under `path`, to `errors`.
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);

    /// Every failure of this value, or `Ok(())`.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.validate_into(&FieldPath::ROOT, &mut errors);
        errors.into_result()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if let Some(value) = self {
            value.validate_into(path, errors);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        for (i, value) in self.iter().enumerate() {
            value.validate_into(&path.index(i), errors);
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        (**self).validate_into(path, errors);
    }
}

/// The longest identity, in bytes, that every store accepts: PostgreSQL indexes the identity and
/// the stream name built from it, and a B-tree entry cannot exceed about 2.7 KB.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;

/// Floating-point fields must be finite: `NaN` and `±inf` have no JSON form (SQL stores would
/// write `null`, and the row could never be read back), and `NaN` passes every `min` / `max`.
///
/// ```
/// use domain_core::Validate;
///
/// assert!(1.5f64.validate().is_ok());
/// assert!(f64::NAN.validate().is_err());
/// assert!(Some(f32::INFINITY).validate().is_err());
/// ```
impl Validate for f64 {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if !self.is_finite() {
            errors.add(
                path.to_string(),
                format!("must be a finite number (got {self})"),
            );
        }
    }
}

impl Validate for f32 {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if !self.is_finite() {
            errors.add(
                path.to_string(),
                format!("must be a finite number (got {self})"),
            );
        }
    }
}

/// Text must not contain a NUL character: PostgreSQL cannot store one in text or JSON, and the
/// same input must behave the same on every store.
///
/// ```
/// use domain_core::Validate;
///
/// assert!("plain".to_string().validate().is_ok());
/// let err = "a\0b".to_string().validate().unwrap_err();
/// assert!(err.to_string().contains("NUL"));
/// ```
/// Whether `bytes` hold a NUL. Most fields are short, and for them checking eight bytes at a time
/// costs a fraction of `memchr`'s setup (which `contains` calls); long text still gets `memchr`.
#[inline]
fn has_nul(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    if bytes.len() > 64 {
        return bytes.contains(&0);
    }
    // Nonzero exactly when some byte of `word` is zero (the high bit of a byte is set by the
    // borrow only below a zero byte, and `!word` keeps it only where the byte was < 0x80).
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        if has_zero_byte(u64::from_ne_bytes(eight)) {
            return true;
        }
    }
    // The last 0-7 bytes one by one: `contains` would call `memchr`, and padding them into a
    // word copies through `memcpy`; both measured slower here.
    #[allow(clippy::manual_contains)]
    words.remainder().iter().any(|&b| b == 0)
}

impl Validate for String {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if has_nul(self.as_bytes()) {
            errors.add(
                path.to_string(),
                "contains a NUL character (\\0), which stores cannot keep",
            );
        }
    }
}

/// An identity must be text every store can key by: no NUL character and at most
/// [`MAX_IDENTIFIER_BYTES`] bytes.
///
/// ```
/// use domain_core::{Identifier, Validate};
///
/// assert!(Identifier::new().validate().is_ok());
/// assert!(Identifier::from("x".repeat(2000).as_str()).validate().is_err());
/// ```
impl Validate for crate::model::identifier::Identifier {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if let Some(text) = self.as_text() {
            if text.len() > MAX_IDENTIFIER_BYTES {
                errors.add(
                    path.to_string(),
                    format!(
                        "is an identifier of {} bytes, longer than the {MAX_IDENTIFIER_BYTES} every store can index",
                        text.len()
                    ),
                );
            }
            if has_nul(text.as_bytes()) {
                errors.add(
                    path.to_string(),
                    "contains a NUL character (\\0), which stores cannot keep",
                );
            }
        }
    }
}

/// Field types that `max_length` and `min_length` apply to.
#[diagnostic::on_unimplemented(
    message = "`max_length` / `min_length` do not apply to a field of type `{Self}`",
    label = "this option needs a text or collection field",
    note = "use `min` / `max` for numbers; length options apply to `String`, `Vec<_>` and `Option` of those"
)]
pub trait HasLength {
    /// The length in characters (text) or elements (collections); `None` for an absent `Option`.
    fn length(&self) -> Option<usize>;

    /// Bounds `(at least, at most)` on [`length`](HasLength::length) that cost nothing to read;
    /// `None` for an absent `Option`. `max_length` and `min_length` count only when the bounds
    /// do not decide, so a check on text within its limits does not walk the text.
    fn length_bounds(&self) -> Option<(usize, usize)> {
        self.length().map(|n| (n, n))
    }
}

/// A character is one to four bytes in UTF-8: the byte length bounds the character count.
fn text_bounds(text: &str) -> (usize, usize) {
    (text.len().div_ceil(4), text.len())
}

impl HasLength for String {
    fn length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
    fn length_bounds(&self) -> Option<(usize, usize)> {
        Some(text_bounds(self))
    }
}
impl HasLength for str {
    fn length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
    fn length_bounds(&self) -> Option<(usize, usize)> {
        Some(text_bounds(self))
    }
}
impl<T> HasLength for Vec<T> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}
impl<T: HasLength> HasLength for Option<T> {
    fn length(&self) -> Option<usize> {
        self.as_ref().and_then(HasLength::length)
    }
    fn length_bounds(&self) -> Option<(usize, usize)> {
        self.as_ref().and_then(HasLength::length_bounds)
    }
}

/// Field types that `min` and `max` apply to.
#[diagnostic::on_unimplemented(
    message = "`min` / `max` do not apply to a field of type `{Self}`",
    label = "this option needs a numeric field",
    note = "use `max_length` / `min_length` for text and collections"
)]
pub trait Bounded {
    /// The number type the bounds are written in.
    type Number: PartialOrd + fmt::Display + Copy;
    /// The value, `None` for an absent `Option`.
    fn number(&self) -> Option<Self::Number>;
}

macro_rules! bounded {
    ($($t:ty),*) => {$(
        impl Bounded for $t {
            type Number = $t;
            fn number(&self) -> Option<$t> { Some(*self) }
        }
    )*};
}
bounded!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

impl<T: Bounded> Bounded for Option<T> {
    type Number = T::Number;
    fn number(&self) -> Option<T::Number> {
        self.as_ref().and_then(Bounded::number)
    }
}

/// Field types that `choices` applies to.
#[diagnostic::on_unimplemented(
    message = "`choices` does not apply to a field of type `{Self}`",
    label = "this option needs a text field",
    note = "for a closed set of values of another type, use a Rust `enum`"
)]
pub trait Choice {
    /// The text, `None` for an absent `Option`.
    fn choice(&self) -> Option<&str>;
}

impl Choice for String {
    fn choice(&self) -> Option<&str> {
        Some(self)
    }
}
impl<T: Choice> Choice for Option<T> {
    fn choice(&self) -> Option<&str> {
        self.as_ref().and_then(Choice::choice)
    }
}

/// The checks the macros call, one per `#[field(...)]` option.
pub mod check {
    use super::*;

    /// `max_length = n`
    pub fn max_length<T: HasLength + ?Sized>(
        value: &T,
        max: usize,
        path: &FieldPath<'_>,
        errors: &mut ValidationErrors,
    ) {
        if value
            .length_bounds()
            .is_none_or(|(_, at_most)| at_most <= max)
        {
            return;
        }
        if let Some(len) = value.length()
            && len > max
        {
            errors.add(
                path.to_string(),
                format!("is longer than {max} characters (got {len})"),
            );
        }
    }

    /// `min_length = n`
    pub fn min_length<T: HasLength + ?Sized>(
        value: &T,
        min: usize,
        path: &FieldPath<'_>,
        errors: &mut ValidationErrors,
    ) {
        if value
            .length_bounds()
            .is_none_or(|(at_least, _)| at_least >= min)
        {
            return;
        }
        if let Some(len) = value.length()
            && len < min
        {
            errors.add(
                path.to_string(),
                format!("is shorter than {min} characters (got {len})"),
            );
        }
    }

    /// A required `String` (not `Option`) without `#[field(allow_blank)]`: not empty, not only
    /// whitespace.
    pub fn required_text(value: &str, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        // Text starting with an ASCII byte that is not whitespace is not blank: decided without
        // the scan that `trim` makes.
        let starts_visible = value
            .as_bytes()
            .first()
            .is_some_and(|&b| b.is_ascii() && !char::from(b).is_whitespace());
        if !starts_visible && value.trim().is_empty() {
            errors.add(path.to_string(), "is required: the text is empty or blank");
        }
    }

    /// `min = n`
    pub fn min<T: Bounded + ?Sized>(
        value: &T,
        min: T::Number,
        path: &FieldPath<'_>,
        errors: &mut ValidationErrors,
    ) {
        if let Some(n) = value.number()
            && n < min
        {
            errors.add(
                path.to_string(),
                format!("is less than the minimum {min} (got {n})"),
            );
        }
    }

    /// `max = n`
    pub fn max<T: Bounded + ?Sized>(
        value: &T,
        max: T::Number,
        path: &FieldPath<'_>,
        errors: &mut ValidationErrors,
    ) {
        if let Some(n) = value.number()
            && n > max
        {
            errors.add(
                path.to_string(),
                format!("is greater than the maximum {max} (got {n})"),
            );
        }
    }

    /// `choices = ["A", "B"]`
    pub fn choices<T: Choice + ?Sized>(
        value: &T,
        allowed: &[&str],
        path: &FieldPath<'_>,
        errors: &mut ValidationErrors,
    ) {
        if let Some(v) = value.choice()
            && !allowed.contains(&v)
        {
            errors.add(
                path.to_string(),
                format!("must be one of {allowed:?} (got {:?})", abbreviate(v)),
            );
        }
    }

    /// Validates the identity of an aggregate, entity or command target (see
    /// [`MAX_IDENTIFIER_BYTES`]).
    pub fn identity(
        id: &crate::model::identifier::Identifier,
        path: &FieldPath<'_>,
        errors: &mut ValidationErrors,
    ) {
        id.validate_into(path, errors);
    }

    /// Validates a nested value if its type is validated (aggregate, entity, value object, or an
    /// `Option`/`Vec` of one); plain fields (`String`, numbers) have nothing to check. The macros
    /// call this through autoref specialization: `(&&Nested(&field)).validate_nested(..)`.
    pub struct Nested<'a, T: ?Sized>(pub &'a T);

    /// Picked for types that implement [`Validate`].
    pub trait ValidateNested {
        /// Validates the nested value.
        fn validate_nested(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);
    }
    impl<T: Validate + ?Sized> ValidateNested for &Nested<'_, T> {
        fn validate_nested(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
            self.0.validate_into(path, errors);
        }
    }

    /// Picked for every other type: nothing to check.
    pub trait SkipNested {
        /// Does nothing.
        fn validate_nested(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);
    }
    impl<T: ?Sized> SkipNested for Nested<'_, T> {
        fn validate_nested(&self, _: &FieldPath<'_>, _: &mut ValidationErrors) {}
    }
}

/// At most the first 64 characters of `text`, marked when cut: error messages quote user input,
/// and a 10 MB value must not become a 10 MB message.
pub(crate) fn abbreviate(text: &str) -> std::borrow::Cow<'_, str> {
    const KEEP: usize = 64;
    match text.char_indices().nth(KEEP) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => {
            std::borrow::Cow::Owned(format!("{}… ({} bytes in all)", &text[..cut], text.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_found_in_short_and_long_text_at_any_place() {
        for len in 0usize..=80 {
            let clean: Vec<u8> = (0..len).map(|i| [b'a', 0x80, 0xff, 0x01][i % 4]).collect();
            assert!(!has_nul(&clean), "{len} bytes without a NUL");
            for at in 0..len {
                let mut bytes = clean.clone();
                bytes[at] = 0;
                assert!(has_nul(&bytes), "{len} bytes, NUL at {at}");
            }
        }
    }

    #[test]
    fn paths_render_only_on_failure_and_nest() {
        let root = FieldPath::ROOT;
        let items = root.field("items");
        let first = items.index(0);
        let qty = first.field("quantity");
        assert_eq!(qty.to_string(), "items[0].quantity");
        let mut errors = ValidationErrors::default();
        check::min(&-1i64, 0, &qty, &mut errors);
        check::max_length(
            &Some("abcd".to_string()),
            3,
            &root.field("isbn"),
            &mut errors,
        );
        check::max_length(&None::<String>, 3, &root.field("absent"), &mut errors);
        check::choices(
            &"X".to_string(),
            &["A", "B"],
            &root.field("status"),
            &mut errors,
        );
        assert_eq!(
            errors.fields().collect::<Vec<_>>(),
            ["isbn", "items[0].quantity", "status"]
        );
    }

    /// The byte-length shortcut decides only what counting would decide the same way: text of
    /// multi-byte characters is counted in characters, not bytes.
    #[test]
    fn lengths_count_characters_where_bytes_do_not_decide() {
        let root = FieldPath::ROOT;
        let failing = |check: &dyn Fn(&mut ValidationErrors)| {
            let mut errors = ValidationErrors::default();
            check(&mut errors);
            errors.fields().count()
        };
        let accents = "ééé".to_string(); // 3 characters, 6 bytes
        assert_eq!(failing(&|e| check::max_length(&accents, 3, &root, e)), 0);
        assert_eq!(failing(&|e| check::max_length(&accents, 2, &root, e)), 1);
        assert_eq!(failing(&|e| check::min_length(&accents, 3, &root, e)), 0);
        assert_eq!(failing(&|e| check::min_length(&accents, 4, &root, e)), 1);
        assert_eq!(failing(&|e| check::min_length("abcd", 4, &root, e)), 0);
        assert_eq!(failing(&|e| check::min_length("abc", 4, &root, e)), 1);
        assert_eq!(failing(&|e| check::max_length("abc", 3, &root, e)), 0);
        assert_eq!(
            failing(&|e| check::max_length(&Some(accents.clone()), 2, &root, e)),
            1
        );
    }

    /// Blank is Unicode whitespace only, whatever the first byte: a vertical tab (ASCII, not
    /// `is_ascii_whitespace`) and an ideographic space (multi-byte) are blank.
    #[test]
    fn required_text_is_blank_by_unicode_whitespace() {
        let blank = |text: &str| {
            let mut errors = ValidationErrors::default();
            check::required_text(text, &FieldPath::ROOT, &mut errors);
            errors.fields().count() == 1
        };
        for text in ["", " ", "\t\n", "\u{b}", "\u{3000}", " \u{a0}"] {
            assert!(blank(text), "{text:?} is blank");
        }
        for text in ["a", " a", "\u{b}x", "\u{3000}x", "é", "\u{1c}"] {
            assert!(!blank(text), "{text:?} is not blank");
        }
    }
}
