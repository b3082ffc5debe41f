//! The model of an annotated struct: `parse` reads it, `check` validates and resolves it
//! (defaults, placeholders), and `expand` turns it into code without deciding anything.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Expr, Ident, ItemStruct, LitStr, Path, Type};

/// Which macro the struct carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Aggregate,
    Entity,
    ValueObject,
    Event,
    Command,
    /// RIDDL's `query`: a question answered by one `#[on_query]` handler.
    Query,
    /// RIDDL's `response`: what a query is answered with.
    Response,
}

impl Kind {
    pub fn macro_name(self) -> &'static str {
        match self {
            Kind::Aggregate => "aggregate",
            Kind::Entity => "entity",
            Kind::ValueObject => "value_object",
            Kind::Event => "event",
            Kind::Command => "command",
            Kind::Query => "query",
            Kind::Response => "response",
        }
    }

    /// Entities, events and commands belong to an aggregate, named by `part_of`.
    pub fn needs_part_of(self) -> bool {
        matches!(self, Kind::Entity | Kind::Event | Kind::Command)
    }

    /// Whether JSON that fails to decode is diagnosed field by field (`process_json`): commands,
    /// and the value objects they hold.
    pub fn has_json_fields(self) -> bool {
        matches!(self, Kind::Command | Kind::ValueObject)
    }

    pub fn allowed_options(self) -> &'static [&'static str] {
        use crate::symbol::*;
        match self {
            Kind::Aggregate => &[STREAM_CATEGORY, EVENT_SOURCED, SNAPSHOT_EVERY, STATES],
            Kind::Entity | Kind::Command => &[PART_OF],
            Kind::ValueObject | Kind::Response => &[],
            Kind::Event => &[PART_OF, VERSION],
            Kind::Query => &[RESULT],
        }
    }

    /// Aggregates and entities have an identity (generated unless a field is `#[identifier]`).
    pub fn has_identity(self) -> bool {
        matches!(self, Kind::Aggregate | Kind::Entity)
    }
}

pub struct StructModel {
    pub kind: Kind,
    /// The struct as the user wrote it, minus our helper attributes.
    pub item: ItemStruct,
    /// The aggregate an entity, event or command belongs to; resolved by `check` (a placeholder
    /// when missing, so the rest still expands).
    pub part_of: PartOf,
    /// `stream_category = "..."` as written.
    pub stream_category: Option<LitStr>,
    /// An aggregate's stream category, resolved by `check`: the option, or the name in snake_case.
    pub category: String,
    pub version: u32,
    /// `#[aggregate(event_sourced)]`: the state is the fold of the events, changed only by
    /// `#[apply]` methods.
    pub event_sourced: bool,
    /// Fields readable through getters only, set by `check`: a value object's (a changed value
    /// is a new value) and an event-sourced aggregate's (its state changes only by its events).
    pub private_fields: bool,
    /// `snapshot_every = N` as written; `check` validates it into `snapshot_every`.
    pub snapshot_every_option: Option<syn::LitInt>,
    /// Events between snapshots of an event-sourced aggregate (0: none); set by `check`.
    pub snapshot_every: u64,
    /// `states = OrderHandler`: the enum of the entity's handler states (RIDDL's handlers, one
    /// active at a time); only on an event-sourced aggregate (checked by `check`).
    pub states: Option<syn::Path>,
    /// A query's `result = R` (its absence is reported by `check`, and `()` stands in).
    pub result: Option<syn::Type>,
    /// A hash of the fields' names and types as written, set by `check`: a snapshot taken under
    /// another one is not used.
    pub fingerprint: u64,
    pub fields: Vec<FieldModel>,
    /// `#[identifier]` markers as written (field index, attribute); `check` validates them.
    pub identifier_marks: Vec<(usize, Attribute)>,
    /// Index into `fields` of the identity field, if the struct names one; set by `check`.
    pub identifier: Option<usize>,
    /// Whether undecodable JSON is diagnosed field by field; set by `check` (not when the user
    /// wrote `#[serde(..)]` attributes: only serde knows that JSON form).
    pub json_diagnosis: bool,
}

impl StructModel {
    pub fn ident(&self) -> &Ident {
        &self.item.ident
    }
}

/// The aggregate named by `part_of`.
pub enum PartOf {
    /// Aggregates and value objects belong to none.
    NotApplicable,
    Declared(Path),
    /// Required but not written: reported by `check`, and expanded against a placeholder
    /// aggregate that accepts the type anywhere, so the one error is the only one.
    Missing,
}

/// How a field's type looks, syntactically (macros see tokens, not types).
#[derive(Clone)]
pub enum Shape {
    /// `Option<T>`: optional in builders.
    Optional(Box<Type>),
    /// `Vec<T>` and maps: empty by default.
    Collection,
    /// Numbers, `bool`, `char`: builder setters take the type itself so literals infer.
    Primitive,
    /// `String`, `Identifier`: nothing nested to validate.
    Plain,
    /// Anything else: may be a value object or entity, validated if it implements `Validate`.
    Other,
}

pub struct FieldModel {
    pub ident: Ident,
    pub ty: Type,
    pub shape: Shape,
    pub checks: Vec<Check>,
    pub default: Option<DefaultValue>,
    pub relation: Option<Relation>,
    /// `#[field(allow_blank)]`: a required `String` may be empty or whitespace.
    pub allow_blank: bool,
    /// Where `allow_blank` was written, for `check`'s rule that it applies to required text.
    pub allow_blank_span: Option<Span>,
    /// `#[has_many]` / `#[has_one]` as written; `check` turns a valid one into `relation`.
    pub relation_marks: Vec<Attribute>,
    /// A relation marker was rejected: the field is not also reported as lacking one.
    pub relation_rejected: bool,
    /// Literal option values, for `check`'s rules between options.
    pub literals: FieldLiterals,
}

/// Option values written as literals: `check` rejects combinations no value could pass.
#[derive(Default)]
pub struct FieldLiterals {
    /// `min` and `max`, with the span of each value.
    pub bounds: [Option<(f64, Span)>; 2],
    pub choices: Option<Vec<String>>,
    pub default_text: Option<(String, Span)>,
}

pub struct Check {
    pub option: &'static str,
    pub span: Span,
    pub value: TokenStream,
}

pub enum DefaultValue {
    /// `#[field(default = expr)]`
    Expr(Expr),
    /// `#[field(default)]`: `Default::default()`
    TypeDefault,
}

pub enum Relation {
    /// `#[has_many] items: Vec<OrderItem>`
    HasMany { entity: Type },
    /// `#[has_one] address: Option<Address>` (or `Address`)
    HasOne { entity: Type, optional: bool },
}
