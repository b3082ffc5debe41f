//! Rules across a struct's options and fields, and the resolution of what was left open: the
//! aggregate's stream category, the identity field, a missing `part_of`. Each broken rule is
//! recorded and the model repaired, so expansion still runs and nothing cascades.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Attribute;

use super::model::{DefaultValue, FieldModel, Kind, PartOf, Relation, StructModel};
use super::parse::{generic_argument, is_required_text};
use crate::ctxt::Ctxt;
use crate::naming::snake_case;
use crate::options::check_category;
use crate::symbol::{HAS_MANY, HAS_ONE};

pub fn check(cx: &Ctxt, model: &mut StructModel) {
    let kind = model.kind;
    if matches!(model.part_of, PartOf::Missing) {
        cx.error_at(
            proc_macro2::Span::call_site(),
            format!(
                "`#[{}]` needs `part_of`: write `#[{}(part_of = YourAggregate)]`",
                kind.macro_name(),
                kind.macro_name()
            ),
        );
    }
    if let Some(category) = &model.stream_category {
        check_category(cx, category, false);
    }
    model.category = match &model.stream_category {
        Some(literal) => literal.value(),
        None => snake_case(&model.ident().to_string()),
    };
    resolve_identifier(cx, model);
    for field in &mut model.fields {
        check_field(cx, kind, field);
    }
    model.json_diagnosis = kind.has_json_fields() && !has_own_serde_attributes(model);
    model.private_fields = kind == Kind::ValueObject || model.event_sourced;
    if let Some(every) = &model.snapshot_every_option {
        match every.base10_parse::<u64>() {
            Ok(n) if n >= 1 && model.event_sourced => model.snapshot_every = n,
            Ok(n) if n >= 1 => cx.error_spanned_by(
                every,
                "`snapshot_every` applies to event-sourced aggregates: write `#[aggregate(event_sourced, snapshot_every = N)]`",
            ),
            _ => cx.error_spanned_by(every, "`snapshot_every` must be an integer of at least 1"),
        }
    }
    if kind == Kind::Query && model.result.is_none() {
        cx.error_spanned_by(
            model.ident(),
            format!(
                "a query names what it is answered with: `#[query(result = {}Result)]` (a `#[response]`, or an `Option` or `Vec` of one)",
                model.ident()
            ),
        );
        model.result = Some(syn::parse_quote!(()));
    }
    if let Some(states) = &model.states
        && !model.event_sourced
    {
        cx.error_spanned_by(
            states,
            "handler states apply to event-sourced entities (the active handler is changed by `#[apply(become = ..)]`, so replay restores it): write `#[aggregate(event_sourced, states = ..)]`",
        );
        model.states = None;
    }
    model.fingerprint = fingerprint(model);
}

/// Picks the identity field from the `#[identifier]` markers, and keeps the generated `id` from
/// clashing with a field of that name.
fn resolve_identifier(cx: &Ctxt, model: &mut StructModel) {
    let kind = model.kind;
    for (index, attr) in std::mem::take(&mut model.identifier_marks) {
        if !matches!(kind, Kind::Aggregate | Kind::Entity | Kind::Command) {
            cx.error_spanned_by(
                &attr,
                format!(
                    "`#[identifier]` applies to aggregates, entities and commands, not to a `#[{}]`",
                    kind.macro_name()
                ),
            );
        } else if model.identifier.is_some() {
            cx.error_spanned_by(&attr, "only one field can be the `#[identifier]`");
        } else {
            model.identifier = Some(index);
        }
    }
    for (index, field) in model.fields.iter().enumerate() {
        let ident = &field.ident;
        if kind.has_identity() && ident == "id" && model.identifier != Some(index) {
            cx.error_spanned_by(
                ident,
                format!(
                    "`#[{}]` adds the identity field `id` itself: remove this field, or mark it `#[identifier]` to use it as the identity",
                    kind.macro_name()
                ),
            );
            // Expanded as if marked, so the struct does not get a second `id`.
            if model.identifier.is_none() {
                model.identifier = Some(index);
            }
        }
        if ident.to_string().starts_with("__") {
            cx.error_spanned_by(
                ident,
                "field names starting with `__` are reserved for generated code",
            );
        }
    }
}

fn check_field(cx: &Ctxt, kind: Kind, field: &mut FieldModel) {
    if let Some(span) = field.allow_blank_span
        && !is_required_text(&field.ty)
    {
        cx.error_at(
            span,
            "`allow_blank` applies to a required `String` field: an `Option<String>` may already be absent, and other types have no blank value",
        );
        field.allow_blank = false;
    }
    let literals = &field.literals;
    if let [Some((min, _)), Some((max, span))] = literals.bounds
        && min > max
    {
        cx.error_at(
            span,
            format!("`max` ({max}) is less than `min` ({min}): no value could pass this field"),
        );
    }
    if let (Some(choices), Some((default, span))) = (&literals.choices, &literals.default_text)
        && !choices.contains(default)
    {
        cx.error_at(
            *span,
            format!("the default {default:?} is not one of the `choices` {choices:?}: every value built without this field would fail validation"),
        );
    }
    // A blank default (`#[field(default)]`, `default = ""`) allows blank text, or no value could
    // be built.
    let blank_default = matches!(&field.default, Some(DefaultValue::TypeDefault))
        || matches!(&literals.default_text, Some((text, _)) if text.trim().is_empty());
    if blank_default {
        field.allow_blank = true;
    }
    for attr in std::mem::take(&mut field.relation_marks) {
        match relation(kind, &attr, field) {
            Ok(relation) => field.relation = Some(relation),
            Err((at, message)) => {
                cx.error_spanned_by(at, message);
                field.relation_rejected = true;
            }
        }
    }
}

/// The relation a `#[has_many]` / `#[has_one]` marker declares, or the tokens to report at and why.
fn relation(
    kind: Kind,
    attr: &Attribute,
    field: &FieldModel,
) -> Result<Relation, (TokenStream, String)> {
    let is_many = attr.path().is_ident(HAS_MANY);
    let name = if is_many { HAS_MANY } else { HAS_ONE };
    let at_marker = |message: String| (attr.to_token_stream(), message);
    if !matches!(kind, Kind::Aggregate | Kind::Entity) {
        return Err(at_marker(format!(
            "`#[{name}]` applies to fields of aggregates and entities"
        )));
    }
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        return Err(at_marker(format!(
            "`#[{name}]` takes no arguments: the entity type comes from the field's type"
        )));
    }
    if is_many {
        return match generic_argument(&field.ty, "Vec") {
            Some(entity) => Ok(Relation::HasMany { entity }),
            None => Err((
                field.ty.to_token_stream(),
                "`#[has_many]` needs a field of type `Vec<Entity>`".into(),
            )),
        };
    }
    Ok(match generic_argument(&field.ty, "Option") {
        Some(entity) => Relation::HasOne {
            entity,
            optional: true,
        },
        None => Relation::HasOne {
            entity: field.ty.clone(),
            optional: false,
        },
    })
}

/// FNV-1a over the struct's name and each field's name and type as written. A change to the
/// fields changes it; a change inside a field's type does not (a snapshot that then fails to
/// decode is also replayed over, see the runtime's `restore`).
fn fingerprint(model: &StructModel) -> u64 {
    let mut text = model.ident().to_string();
    for field in &model.fields {
        text.push_str(&format!(";{}:{}", field.ident, field.ty.to_token_stream()));
    }
    if let Some(states) = &model.states {
        text.push_str(&format!(";$handler:{}", states.to_token_stream()));
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// True when the user put `#[serde(..)]` on the struct or a field (ours are added later).
fn has_own_serde_attributes(model: &StructModel) -> bool {
    let is_serde = |attr: &Attribute| attr.path().is_ident("serde");
    model.item.attrs.iter().any(is_serde)
        || model
            .item
            .fields
            .iter()
            .any(|field| field.attrs.iter().any(is_serde))
}
