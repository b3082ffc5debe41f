//! The validated model of an annotated struct: what `parse` produces and `expand` consumes.

use proc_macro2::{Span, TokenStream};
use syn::{Expr, Ident, ItemStruct, LitStr, Path, Type};

/// Which macro the struct carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Aggregate,
    Entity,
    ValueObject,
    Event,
    Command,
}

impl Kind {
    pub fn macro_name(self) -> &'static str {
        match self {
            Kind::Aggregate => "aggregate",
            Kind::Entity => "entity",
            Kind::ValueObject => "value_object",
            Kind::Event => "event",
            Kind::Command => "command",
        }
    }

    pub fn allowed_options(self) -> &'static [&'static str] {
        use crate::symbol::*;
        match self {
            Kind::Aggregate => &[STREAM_CATEGORY],
            Kind::Entity | Kind::Command => &[PART_OF],
            Kind::ValueObject => &[],
            Kind::Event => &[PART_OF, VERSION],
        }
    }

    /// Aggregates and entities have an identity (generated unless a field is `#[identifier]`).
    pub fn has_identity(self) -> bool {
        matches!(self, Kind::Aggregate | Kind::Entity)
    }

    /// Built with a generated builder (defaults, validation, required fields checked at compile
    /// time) rather than a struct literal.
    pub fn has_builder(self) -> bool {
        matches!(self, Kind::Aggregate | Kind::Entity | Kind::ValueObject)
    }
}

pub struct StructModel {
    pub kind: Kind,
    /// The struct as the user wrote it, minus our helper attributes.
    pub item: ItemStruct,
    pub part_of: Option<Path>,
    pub stream_category: Option<LitStr>,
    pub version: u32,
    pub fields: Vec<FieldModel>,
    /// Index into `fields` of the `#[identifier]` field, if the user marked one.
    pub identifier: Option<usize>,
}

impl StructModel {
    pub fn ident(&self) -> &Ident {
        &self.item.ident
    }
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
