//! The model of a handler impl block: `parse` reads it, `check` validates and resolves it,
//! `expand` turns it into code.

use proc_macro2::Span;
use syn::{Attribute, Ident, ItemImpl, LitStr, Path, Type};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    Command,
    Event,
}

impl HandlerKind {
    pub fn macro_name(self) -> &'static str {
        match self {
            HandlerKind::Command => "command_handler",
            HandlerKind::Event => "event_handler",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            HandlerKind::Command => "command",
            HandlerKind::Event => "event",
        }
    }

    pub fn allowed_options(self) -> &'static [&'static str] {
        use crate::symbol::*;
        match self {
            HandlerKind::Command => &[PART_OF],
            HandlerKind::Event => &[PART_OF, STREAM_CATEGORY, SOURCE_STREAM],
        }
    }
}

pub struct HandlerModel {
    pub kind: HandlerKind,
    /// The impl block with the `#[handle]` markers removed.
    pub item: ItemImpl,
    pub self_ty: Type,
    pub self_name: String,
    /// `None` when missing (reported by `check`): expanded against a placeholder aggregate.
    pub part_of: Option<Path>,
    pub stream_category: Option<LitStr>,
    pub source_stream: Option<LitStr>,
    pub methods: Vec<HandleMethod>,
    /// Whether any method carried `#[handle]`, even one that was rejected.
    pub any_handle: bool,
}

/// What a `#[handle(...)]` method handles.
pub enum Target {
    /// A message type, as the user spelled it (its tokens carry the user's spans).
    Type(Box<Type>),
    /// `$any`: every event of the handler's stream category.
    Any(Span),
}

pub struct HandleMethod {
    /// The `#[handle(..)]` attribute, for errors about the target.
    pub attr: Attribute,
    pub target: Target,
    pub status: MethodStatus,
    pub method: Ident,
    pub is_async: bool,
    /// Whether the method takes the context parameter.
    pub takes_ctx: bool,
    /// The declared return type (`()` when omitted).
    pub output: Type,
}

/// Whether a `#[handle]` method is generated for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MethodStatus {
    /// Dispatched to.
    Handled,
    /// Its signature is wrong (already an error): not dispatched to, but a command still gets
    /// its `HandledCommand` impl, so `domain.process(command)` is not a second error.
    BadSignature,
    /// A duplicate or misplaced target (already an error): nothing is generated for it.
    Rejected,
}
