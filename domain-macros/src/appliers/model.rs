//! The model of an `#[apply_events]` or `#[entity_handler]` impl block, and the rules across its
//! methods.

use quote::ToTokens;
use syn::{Ident, ItemImpl, Type};

use crate::ctxt::Ctxt;

/// Which macro the block carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// `#[apply_events]`: `#[apply]` methods only.
    ApplyEvents,
    /// `#[entity_handler]`: RIDDL's entity handler, `#[apply]` and `#[on_command]` clauses.
    EntityHandler,
}

impl Block {
    pub fn macro_name(self) -> &'static str {
        match self {
            Block::ApplyEvents => "apply_events",
            Block::EntityHandler => "entity_handler",
        }
    }
}

pub struct ApplyModel {
    pub block: Block,
    /// The impl block with the clause markers removed.
    pub item: ItemImpl,
    pub self_ty: Type,
    pub methods: Vec<ApplyMethod>,
    pub commands: Vec<CommandClause>,
    pub queries: Vec<QueryClause>,
    pub reactions: Vec<ReactClause>,
}

/// A `#[react]` clause: `fn name(&self, event: &ForeignEvent) -> Yielded`.
pub struct ReactClause {
    pub method: Ident,
    /// The foreign event type, as the user spelled it (its path names the other context).
    pub event: Type,
    /// The declared return type (`()` when omitted): what the reaction yields.
    pub output: Type,
    /// As for a command clause.
    pub when: Option<(Ident, Vec<Ident>)>,
    /// `instance = field`: the event's field holding this entity's identity (without it, the
    /// identity in the event's stream).
    pub instance: Option<Ident>,
    pub duplicate: bool,
    pub bad_signature: bool,
}

/// An `#[on_query]` clause: Rust (`async fn name(query: Q, ctx: QueryContext<'_>) -> Result<R>`)
/// or SQL (`#[on_query(sql = "..")] fn name(query: Q) -> R;`).
pub struct QueryClause {
    pub method: Ident,
    /// The answered query type, as the user spelled it.
    pub query: Type,
    /// The declared return type.
    pub output: Type,
    pub answer: Answer,
    /// A second clause for the same query (already an error): nothing is generated for it.
    pub duplicate: bool,
    /// Its signature is wrong (already an error): the query still gets its `HandledQuery` impl.
    pub bad_signature: bool,
}

/// How a query clause answers.
pub enum Answer {
    /// Its Rust body; whether it is `async`.
    Rust { is_async: bool },
    /// Its SQL, split at the named parameters.
    Sql {
        literal: syn::LitStr,
        parts: Vec<SqlPiece>,
    },
}

/// A piece of a SQL clause's text.
pub enum SqlPiece {
    Text(String),
    /// `%name`: bound from the query's field `name`.
    Param(String),
}

pub struct ApplyMethod {
    pub method: Ident,
    /// The applied event type, as the user spelled it (its tokens carry the user's spans).
    pub event: Type,
    /// `#[apply(become = State)]`: the handler state the entity switches to.
    pub become_: Option<Transition>,
    /// A second method for the same event (already an error): nothing is generated for it.
    pub duplicate: bool,
    /// Its signature is wrong (already an error): the event still gets an `Apply` impl, which
    /// never runs, so it is not reported a second time as lacking one.
    pub bad_signature: bool,
}

/// `become = State` as written: the keyword (for the error when the entity has no states) and
/// the state (for the error when it is not one of them).
pub struct Transition {
    pub keyword: Ident,
    pub state: Ident,
}

/// An `#[on_command]` clause: `fn name(&self, command: C) -> Yielded`.
pub struct CommandClause {
    pub method: Ident,
    /// The handled command type, as the user spelled it.
    pub command: Type,
    /// The declared return type (`()` when omitted): what the clause yields.
    pub output: Type,
    /// `when = State` / `when = [A, B]`: the handler states the clause belongs to (empty: every
    /// state), with the `when` keyword.
    pub when: Option<(Ident, Vec<Ident>)>,
    /// A second clause for the same command (already an error): nothing is generated for it.
    pub duplicate: bool,
    /// Its signature is wrong (already an error): the command still gets its `HandledCommand`
    /// impl, so `domain.process(command)` is not a second error.
    pub bad_signature: bool,
}

/// One method per event (two would leave the replayed state to whichever ran last), one clause
/// per command (the command is routed to one place; the clause says in which states it runs).
pub fn check(cx: &Ctxt, model: &mut ApplyModel) {
    mark_duplicates(
        cx,
        &mut model.methods,
        |m| (&m.event, &mut m.duplicate),
        |key| {
            format!(
                "a second `#[apply]` method for `{key}`: an event changes the state in one method"
            )
        },
    );
    mark_duplicates(
        cx,
        &mut model.reactions,
        |c| (&c.event, &mut c.duplicate),
        |key| {
            format!(
                "a second `#[react]` clause for `{key}`: an entity reacts to an event in one clause"
            )
        },
    );
    mark_duplicates(
        cx,
        &mut model.queries,
        |c| (&c.query, &mut c.duplicate),
        |key| format!("a second `#[on_query]` clause for `{key}`: a query has one handler"),
    );
    mark_duplicates(
        cx,
        &mut model.commands,
        |c| (&c.command, &mut c.duplicate),
        |key| {
            format!(
                "a second `#[on_command]` clause for `{key}`: a command has one clause; list every handler state it runs in with `when = [..]`"
            )
        },
    );
}

/// Reports each item whose message type (as written) an earlier item already has, at that
/// type, and marks it so nothing is generated for it.
fn mark_duplicates<T>(
    cx: &Ctxt,
    items: &mut [T],
    parts: impl Fn(&mut T) -> (&Type, &mut bool),
    message: impl Fn(&str) -> String,
) {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        let (ty, duplicate) = parts(item);
        let key = ty.to_token_stream().to_string();
        if seen.contains(&key) {
            cx.error_spanned_by(ty, message(&key));
            *duplicate = true;
        } else {
            seen.push(key);
        }
    }
}
