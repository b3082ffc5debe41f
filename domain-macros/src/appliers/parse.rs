//! Reading an `#[apply_events]` or `#[entity_handler]` impl block: each `#[apply]` method must
//! be `fn name(&mut self, event: &Event)` returning nothing, each `#[on_command]` clause
//! `fn name(&self, command: Command) -> Yielded`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parse;
use syn::{Attribute, FnArg, Ident, ImplItem, Item, ReceiverKind, ReturnType, Type};

use super::model::{
    Answer, ApplyMethod, ApplyModel, Block, CommandClause, QueryClause, ReactClause, SqlPiece,
    Transition,
};
use crate::ctxt::Ctxt;
use crate::symbol::{APPLY, BECOME, INSTANCE, ON_COMMAND, ON_QUERY, REACT, SQL, WHEN};

const COMMAND_SHAPE: &str = "an `#[on_command]` clause is `fn name(&self, command: Command) -> Yielded`: it reads the entity's state and returns the events the command yields (an event, `Option`, `Vec`, tuple, or `Result` of them); the framework applies and appends them";

const REACT_SHAPE: &str = "a `#[react]` clause is `fn name(&self, event: &ForeignEvent) -> Yielded`: it reads the entity's state and turns another entity's event into this entity's own events";

pub fn parse(
    cx: &Ctxt,
    block: Block,
    args: TokenStream,
    input: TokenStream,
) -> Result<ApplyModel, TokenStream> {
    let name = block.macro_name();
    if let Some(first) = args.into_iter().next() {
        cx.error_spanned_by(
            first,
            format!("`#[{name}]` takes no options: it applies to the entity's own impl block"),
        );
    }
    let mut item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Impl(item)) if item.trait_.is_none() && item.generics.params.is_empty() => item,
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                format!("`#[{name}]` applies to the inherent impl block of an event-sourced aggregate: `impl Order {{ #[apply] fn placed(&mut self, event: &OrderPlaced) {{ .. }} }}`"),
            );
            return Err(input);
        }
        Err(error) => {
            cx.syn_error(error);
            return Err(input);
        }
    };
    let mut methods = Vec::new();
    let mut commands = Vec::new();
    let mut queries = Vec::new();
    let mut reactions = Vec::new();
    // A SQL query clause has no body (`fn name(query: Q) -> R;`), which syn keeps as verbatim
    // tokens: read it as a trait-style function and take it out of the impl.
    item.items.retain(|impl_item| {
        let ImplItem::Verbatim(tokens) = impl_item else {
            return true;
        };
        let Ok(function) = syn::parse2::<syn::TraitItemFn>(tokens.clone()) else {
            return true;
        };
        let Some(mark) = function.attrs.iter().find(|a| a.path().is_ident(ON_QUERY)) else {
            return true;
        };
        if block == Block::ApplyEvents {
            cx.error_spanned_by(mark, "`#[on_query]` clauses belong to an entity handler: write `#[entity_handler]` instead of `#[apply_events]` on this impl block");
            return false;
        }
        match read_sql(cx, mark) {
            Some((literal, parts)) => {
                if let Some(clause) = read_query_clause(cx, &function.sig, Answer::Sql { literal, parts }) {
                    queries.push(clause);
                }
            }
            None => cx.error_spanned_by(
                &function.sig,
                "a query clause without a body answers by SQL: write `#[on_query(sql = \"SELECT ..\")]`, or give the function a body",
            ),
        }
        false
    });
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        if let Some(index) = function
            .attrs
            .iter()
            .position(|a| a.path().is_ident(ON_QUERY))
        {
            let mark = function.attrs.remove(index);
            if block == Block::ApplyEvents {
                cx.error_spanned_by(&mark, "`#[on_query]` clauses belong to an entity handler: write `#[entity_handler]` instead of `#[apply_events]` on this impl block");
                continue;
            }
            if !matches!(mark.meta, syn::Meta::Path(_)) {
                cx.error_spanned_by(
                    &mark,
                    "a query clause with a body answers in Rust and takes no options; a SQL clause has no body: `#[on_query(sql = \"..\")] fn name(query: Q) -> R;`",
                );
            }
            let answer = Answer::Rust {
                is_async: function.sig.asyncness.is_some(),
            };
            if let Some(clause) = read_query_clause(cx, &function.sig, answer) {
                queries.push(clause);
            }
            continue;
        }
        let (marks, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut function.attrs)
            .into_iter()
            .partition(|a| {
                a.path().is_ident(APPLY)
                    || a.path().is_ident(ON_COMMAND)
                    || a.path().is_ident(REACT)
            });
        function.attrs = kept;
        let Some(mark) = marks.first() else {
            continue;
        };
        if let Some(second) = marks.get(1) {
            cx.error_spanned_by(second, "one clause marker per method");
        }
        if mark.path().is_ident(APPLY) {
            let become_ = read_become(cx, mark);
            let (event, bad_signature) = read_apply_signature(cx, &function.sig);
            if let Some(event) = event {
                methods.push(ApplyMethod {
                    method: function.sig.ident.clone(),
                    event,
                    become_,
                    duplicate: false,
                    bad_signature,
                });
            }
        } else if block == Block::ApplyEvents {
            let name = mark
                .path()
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            cx.error_spanned_by(
                mark,
                format!("`#[{name}]` clauses belong to an entity handler: write `#[entity_handler]` instead of `#[apply_events]` on this impl block"),
            );
        } else if mark.path().is_ident(REACT) {
            let (when, instance) = read_clause_options(cx, mark, true);
            let (event, output, bad_signature) =
                read_clause_signature(cx, &function.sig, true, REACT_SHAPE);
            if let Some(event) = event {
                reactions.push(ReactClause {
                    method: function.sig.ident.clone(),
                    event,
                    output,
                    when,
                    instance,
                    duplicate: false,
                    bad_signature,
                });
            }
        } else {
            let (when, _) = read_clause_options(cx, mark, false);
            let (command, output, bad_signature) =
                read_clause_signature(cx, &function.sig, false, COMMAND_SHAPE);
            if let Some(command) = command {
                commands.push(CommandClause {
                    method: function.sig.ident.clone(),
                    command,
                    output,
                    when,
                    duplicate: false,
                    bad_signature,
                });
            }
        }
    }
    let no_clause =
        methods.is_empty() && commands.is_empty() && queries.is_empty() && reactions.is_empty();
    if no_clause && !cx.has_errors() {
        let wanted = match block {
            Block::ApplyEvents => "`#[apply]` method",
            Block::EntityHandler => {
                "clause (`#[on_command]`, `#[apply]`, `#[react]` or `#[on_query]`)"
            }
        };
        cx.error_at(
            item.impl_token.span,
            format!("this `#[{name}]` impl has no {wanted}"),
        );
    }
    Ok(ApplyModel {
        block,
        self_ty: (*item.self_ty).clone(),
        item,
        methods,
        commands,
        queries,
        reactions,
    })
}

/// `#[on_query(sql = "..")]`: the literal and its text split at the `%name` parameters (`None`
/// without `sql`).
fn read_sql(cx: &Ctxt, mark: &Attribute) -> Option<(syn::LitStr, Vec<SqlPiece>)> {
    if matches!(mark.meta, syn::Meta::Path(_)) {
        return None;
    }
    let mut sql = None;
    let result = mark.parse_nested_meta(|meta| {
        if meta.path.is_ident(SQL) && sql.is_none() {
            sql = Some(meta.value()?.parse::<syn::LitStr>()?);
            Ok(())
        } else {
            Err(meta.error("`#[on_query]` takes one option, `sql = \"SELECT ..\"`"))
        }
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    let literal = sql?;
    let parts = split_sql(&literal.value());
    if !parts
        .iter()
        .any(|p| matches!(p, SqlPiece::Text(t) if !t.trim().is_empty()))
    {
        cx.error_spanned_by(&literal, "the SQL of a query clause is empty");
    }
    Some((literal, parts))
}

/// Splits SQL text at its named parameters: `%` then an identifier, outside quoted text
/// (`'..'` literals and `"..."` identifiers, so `LIKE 'a%b'` stays text).
pub(crate) fn split_sql(sql: &str) -> Vec<SqlPiece> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                text.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                text.push(c);
            }
            None if c == '%'
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if !text.is_empty() {
                    parts.push(SqlPiece::Text(std::mem::take(&mut text)));
                }
                parts.push(SqlPiece::Param(name));
            }
            None => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(SqlPiece::Text(text));
    }
    parts
}

/// The query and return types of a query clause: `(query: Q, ctx: QueryContext<'_>) -> R` for
/// Rust, `(query: Q) -> R` for SQL; no receiver (a query reads aggregates, not this one).
fn read_query_clause(cx: &Ctxt, sig: &syn::Signature, answer: Answer) -> Option<QueryClause> {
    let sql = matches!(answer, Answer::Sql { .. });
    let shape = if sql {
        "a SQL query clause is `#[on_query(sql = \"..\")] fn name(query: Query) -> Result;`: the query's fields are its parameters, the selected rows its result"
    } else {
        "a Rust query clause is `#[on_query] async fn name(query: Query, ctx: QueryContext<'_>) -> Result<Response>`: it reads aggregates through `ctx`"
    };
    let mut inputs = sig.inputs.iter();
    let query = match inputs.next() {
        Some(FnArg::Typed(param)) if !matches!(&*param.ty, Type::Reference(_)) => {
            Some((*param.ty).clone())
        }
        _ => None,
    };
    let ctx = inputs.next();
    let extra = inputs.next();
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    let params_ok = if sql {
        ctx.is_none()
    } else {
        ctx.is_some() && extra.is_none()
    };
    let bad = query.is_none()
        || output.is_none()
        || !params_ok
        || !sig.generics.params.is_empty()
        || (sql && sig.asyncness.is_some());
    if bad {
        cx.error_spanned_by(sig.to_token_stream(), shape);
    }
    Some(QueryClause {
        method: sig.ident.clone(),
        query: query?,
        output: output.unwrap_or_else(|| syn::parse_quote!(())),
        answer,
        duplicate: false,
        bad_signature: bad,
    })
}

/// `#[apply]` or `#[apply(become = State)]`.
fn read_become(cx: &Ctxt, mark: &Attribute) -> Option<Transition> {
    if matches!(mark.meta, syn::Meta::Path(_)) {
        return None;
    }
    let mut transition = None;
    let result = mark.parse_nested_meta(|meta| {
        if meta.path.is_ident(BECOME) && transition.is_none() {
            let keyword = meta.path.get_ident().cloned().expect("an identifier");
            let state: Ident = meta.value()?.parse()?;
            transition = Some(Transition { keyword, state });
            Ok(())
        } else {
            Err(meta.error(
                "`#[apply]` takes one option, `become = State`: the handler state the entity switches to when the event is applied (the event itself is the method's parameter type)",
            ))
        }
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    transition
}

/// A clause's options: `when = State` or `when = [A, B]`, and for a reaction `instance = field`.
fn read_clause_options(
    cx: &Ctxt,
    mark: &Attribute,
    reaction: bool,
) -> (Option<(Ident, Vec<Ident>)>, Option<Ident>) {
    if matches!(mark.meta, syn::Meta::Path(_)) {
        return (None, None);
    }
    let mut when = None;
    let mut instance = None;
    let result = mark.parse_nested_meta(|meta| {
        if reaction && meta.path.is_ident(INSTANCE) && instance.is_none() {
            instance = Some(meta.value()?.parse::<Ident>()?);
            Ok(())
        } else if meta.path.is_ident(WHEN) && when.is_none() {
            let keyword = meta.path.get_ident().cloned().expect("an identifier");
            let value = meta.value()?;
            let states = if value.peek(syn::token::Bracket) {
                let content;
                syn::bracketed!(content in value);
                content
                    .parse_terminated(Ident::parse, syn::Token![,])?
                    .into_iter()
                    .collect()
            } else {
                vec![value.parse::<Ident>()?]
            };
            if states.is_empty() {
                return Err(meta.error("`when = []` names no handler state: the clause could never run"));
            }
            when = Some((keyword, states));
            Ok(())
        } else if reaction {
            Err(meta.error(
                "`#[react]` takes `when = State` (or `[State, ..]`: the handler states it runs in) and `instance = field` (the event's field holding this entity's identity; without it, the identity of the event's stream)",
            ))
        } else {
            Err(meta.error(
                "`#[on_command]` takes one option, `when = State` or `when = [State, ..]`: the handler states the clause runs in (without it, every state)",
            ))
        }
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    (when, instance)
}

/// The event type of `fn name(&mut self, event: &Event)` (`None` if there is no `&Event`
/// parameter), and whether the signature is wrong (reported here).
fn read_apply_signature(cx: &Ctxt, sig: &syn::Signature) -> (Option<Type>, bool) {
    let shape = "an `#[apply]` method is `fn name(&mut self, event: &Event)`: it changes the state and cannot fail (decide in the command handler, before raising)";
    let mut inputs = sig.inputs.iter();
    let receiver_ok = matches!(
        inputs.next(),
        Some(FnArg::Receiver(receiver)) if matches!(receiver.kind, ReceiverKind::Reference(_, _, Some(_)))
    );
    let event = match inputs.next() {
        Some(FnArg::Typed(param)) => match &*param.ty {
            Type::Reference(reference) if reference.mutability.is_none() => {
                Some((*reference.elem).clone())
            }
            _ => None,
        },
        _ => None,
    };
    let extra = inputs.next();
    let returns = !matches!(&sig.output, ReturnType::Default);
    let other = sig.asyncness.is_some() || !sig.generics.params.is_empty();
    let bad = event.is_none() || !receiver_ok || extra.is_some() || returns || other;
    if bad {
        cx.error_spanned_by(sig.to_token_stream(), shape);
    }
    (event, bad)
}

/// The message and return types of a clause read off the entity's state,
/// `fn name(&self, message: M) -> Yielded` (`&M` for a reaction's foreign event, `M` for a
/// command), and whether the signature is wrong (reported here with `shape`).
fn read_clause_signature(
    cx: &Ctxt,
    sig: &syn::Signature,
    by_reference: bool,
    shape: &str,
) -> (Option<Type>, Type, bool) {
    let mut inputs = sig.inputs.iter();
    let receiver_ok = matches!(
        inputs.next(),
        Some(FnArg::Receiver(receiver)) if matches!(receiver.kind, ReceiverKind::Reference(_, _, None))
    );
    let message = match (inputs.next(), by_reference) {
        (Some(FnArg::Typed(param)), true) => match &*param.ty {
            Type::Reference(reference) if reference.mutability.is_none() => {
                Some((*reference.elem).clone())
            }
            _ => None,
        },
        (Some(FnArg::Typed(param)), false) if !matches!(&*param.ty, Type::Reference(_)) => {
            Some((*param.ty).clone())
        }
        _ => None,
    };
    let extra = inputs.next();
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let other = sig.asyncness.is_some() || !sig.generics.params.is_empty();
    let bad = message.is_none() || !receiver_ok || extra.is_some() || other;
    if bad {
        cx.error_spanned_by(sig.to_token_stream(), shape);
    }
    (message, output, bad)
}
