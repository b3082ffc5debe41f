//! Parsing an annotated struct into a [`StructModel`], collecting every problem.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprArray, Fields, GenericArgument, Item, ItemStruct, Lit, PathArguments, Type,
};

use super::model::{Check, DefaultValue, FieldModel, Kind, Relation, Shape, StructModel};
use crate::ctxt::Ctxt;
use crate::options::{check_category, parse_macro_options, unknown_key};
use crate::symbol::*;

/// Parses `input` as a struct for `kind`. Returns the model when the struct could be read at all
/// (even with errors recorded in `cx`), and the struct with our attributes stripped for the
/// error fallback.
pub fn parse(
    cx: &Ctxt,
    kind: Kind,
    args: TokenStream,
    input: TokenStream,
) -> (Option<StructModel>, TokenStream) {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            cx.syn_error(error);
            return (None, input);
        }
    };
    let Item::Struct(mut item) = item else {
        cx.error_spanned_by(
            &item,
            format!(
                "`#[{}]` applies to a struct with named fields",
                kind.macro_name()
            ),
        );
        return (None, input);
    };
    let options = parse_macro_options(cx, kind.macro_name(), kind.allowed_options(), args);
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            format!(
                "`#[{}]` does not support generic structs: each type is registered in a static, and statics cannot be generic",
                kind.macro_name()
            ),
        );
    }
    if matches!(kind, Kind::Entity | Kind::Event | Kind::Command) && options.part_of.is_none() {
        cx.error_at(
            Span::call_site(),
            format!(
                "`#[{}]` needs `part_of`: write `#[{}(part_of = YourAggregate)]`",
                kind.macro_name(),
                kind.macro_name()
            ),
        );
    }
    if let Some(category) = &options.stream_category {
        check_category(cx, category, false);
    }
    let version = match &options.version {
        None => 1,
        Some(v) => match v.base10_parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                cx.error_spanned_by(v, "`version` must be an integer of at least 1");
                1
            }
        },
    };

    let fields = parse_fields(cx, kind, &mut item);
    let identifier = fields.1;
    let stripped = item.to_token_stream();
    let model = StructModel {
        kind,
        item,
        part_of: options.part_of,
        stream_category: options.stream_category,
        version,
        fields: fields.0,
        identifier,
    };
    (Some(model), stripped)
}

fn parse_fields(cx: &Ctxt, kind: Kind, item: &mut ItemStruct) -> (Vec<FieldModel>, Option<usize>) {
    let named = match &mut item.fields {
        Fields::Named(named) => named,
        Fields::Unit => {
            // A unit struct is a struct with no fields: give it braces so expansion can add some.
            item.fields = Fields::Named(syn::parse_quote!({}));
            item.semi_token = None;
            let Fields::Named(named) = &mut item.fields else {
                unreachable!()
            };
            named
        }
        Fields::Unnamed(unnamed) => {
            cx.error_spanned_by(
                &*unnamed,
                format!(
                    "`#[{}]` needs named fields (`struct X {{ a: T }}`), not a tuple struct",
                    kind.macro_name()
                ),
            );
            return (Vec::new(), None);
        }
    };
    let mut models = Vec::new();
    let mut identifier = None;
    for (index, field) in named.named.iter_mut().enumerate() {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let mut model = FieldModel {
            ident: ident.clone(),
            ty: field.ty.clone(),
            shape: shape_of(&field.ty),
            checks: Vec::new(),
            default: None,
            relation: None,
            allow_blank: false,
        };
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut field.attrs) {
            let path = attr.path();
            if path.is_ident(FIELD) {
                parse_field_options(cx, &attr, &mut model);
            } else if path.is_ident(IDENTIFIER) {
                if !matches!(kind, Kind::Aggregate | Kind::Entity | Kind::Command) {
                    cx.error_spanned_by(
                        &attr,
                        format!("`#[identifier]` applies to aggregates, entities and commands, not to a `#[{}]`", kind.macro_name()),
                    );
                } else if identifier.is_some() {
                    cx.error_spanned_by(&attr, "only one field can be the `#[identifier]`");
                } else {
                    identifier = Some(index);
                }
            } else if path.is_ident(HAS_MANY) || path.is_ident(HAS_ONE) {
                parse_relation(cx, kind, &attr, &mut model);
            } else {
                kept.push(attr);
            }
        }
        field.attrs = kept;
        if kind.has_identity() && ident == "id" && identifier != Some(index) {
            cx.error_spanned_by(
                &ident,
                format!(
                    "`#[{}]` adds the identity field `id` itself: remove this field, or mark it `#[identifier]` to use it as the identity",
                    kind.macro_name()
                ),
            );
        }
        if ident.to_string().starts_with("__") {
            cx.error_spanned_by(
                &ident,
                "field names starting with `__` are reserved for generated code",
            );
        }
        models.push(model);
    }
    (models, identifier)
}

fn parse_field_options(cx: &Ctxt, attr: &Attribute, field: &mut FieldModel) {
    const ALLOWED: &[&str] = &[
        MAX_LENGTH,
        MIN_LENGTH,
        MIN,
        MAX,
        DEFAULT,
        CHOICES,
        ALLOW_BLANK,
    ];
    let mut seen: Vec<String> = Vec::new();
    // Literal values, kept to reject option combinations no value could ever pass.
    let mut bounds: [Option<(f64, Span)>; 2] = [None, None];
    let mut choices: Option<Vec<String>> = None;
    let mut default_text: Option<(String, Span)> = None;
    let result = attr.parse_nested_meta(|meta| {
        let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        let span = meta.path.span();
        let Some(&option) = ALLOWED.iter().find(|k| **k == key) else {
            return Err(meta.error(unknown_key(FIELD, &key, ALLOWED)));
        };
        if seen.contains(&key) {
            return Err(meta.error(format!("duplicate option `{key}` in `#[field]`")));
        }
        seen.push(key);
        match option {
            MAX_LENGTH | MIN_LENGTH => {
                let value: syn::LitInt = meta.value()?.parse()?;
                value.base10_parse::<usize>()?;
                field.checks.push(Check { option, span, value: value.to_token_stream() });
            }
            MIN | MAX => {
                let value: Expr = meta.value()?.parse()?;
                bounds[usize::from(option == MAX)] = literal_number(&value).map(|n| (n, value.span()));
                field.checks.push(Check { option, span, value: value.to_token_stream() });
            }
            CHOICES => {
                let value: ExprArray = meta.value()?.parse()?;
                for element in &value.elems {
                    if !matches!(element, Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_))) {
                        return Err(syn::Error::new_spanned(
                            element,
                            "`choices` lists string literals, e.g. `choices = [\"PENDING\", \"SHIPPED\"]`; for other types use an enum",
                        ));
                    }
                }
                choices = Some(value.elems.iter().filter_map(literal_text).collect());
                let elems = &value.elems;
                field.checks.push(Check { option, span, value: quote!(&[#elems]) });
            }
            DEFAULT => {
                field.default = Some(if meta.input.peek(syn::Token![=]) {
                    let value: Expr = meta.value()?.parse()?;
                    default_text = literal_text(&value).map(|text| (text, value.span()));
                    DefaultValue::Expr(value)
                } else {
                    DefaultValue::TypeDefault
                });
            }
            ALLOW_BLANK => {
                if !is_required_text(&field.ty) {
                    return Err(meta.error(
                        "`allow_blank` applies to a required `String` field: an `Option<String>` may already be absent, and other types have no blank value",
                    ));
                }
                field.allow_blank = true;
            }
            _ => unreachable!("every allowed option is matched above"),
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    if let [Some((min, _)), Some((max, span))] = bounds
        && min > max
    {
        cx.error_at(
            span,
            format!("`max` ({max}) is less than `min` ({min}): no value could pass this field"),
        );
    }
    if let (Some(choices), Some((default, span))) = (&choices, &default_text)
        && !choices.contains(default)
    {
        cx.error_at(
            *span,
            format!("the default {default:?} is not one of the `choices` {choices:?}: every value built without this field would fail validation"),
        );
    }
}

/// The value of a numeric literal, negated ones included (`-1`, `0.5`).
fn literal_number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse().ok(),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Float(float),
            ..
        }) => float.base10_parse().ok(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => literal_number(expr).map(|n| -n),
        _ => None,
    }
}

/// The value of a string literal.
fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Some(text.value()),
        _ => None,
    }
}

fn parse_relation(cx: &Ctxt, kind: Kind, attr: &Attribute, field: &mut FieldModel) {
    let is_many = attr.path().is_ident(HAS_MANY);
    let name = if is_many { HAS_MANY } else { HAS_ONE };
    if !matches!(kind, Kind::Aggregate | Kind::Entity) {
        cx.error_spanned_by(
            attr,
            format!("`#[{name}]` applies to fields of aggregates and entities"),
        );
        return;
    }
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        cx.error_spanned_by(
            attr,
            format!("`#[{name}]` takes no arguments: the entity type comes from the field's type"),
        );
        return;
    }
    if is_many {
        match generic_argument(&field.ty, "Vec") {
            Some(entity) => field.relation = Some(Relation::HasMany { entity }),
            None => cx.error_spanned_by(
                &field.ty,
                "`#[has_many]` needs a field of type `Vec<Entity>`",
            ),
        }
    } else {
        let (entity, optional) = match generic_argument(&field.ty, "Option") {
            Some(inner) => (inner, true),
            None => (field.ty.clone(), false),
        };
        field.relation = Some(Relation::HasOne { entity, optional });
    }
}

/// `T` of `Wrapper<T>` when `ty`'s last path segment is `wrapper`.
pub fn generic_argument(ty: &Type, wrapper: &str) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner.clone()),
        _ => None,
    }
}

fn shape_of(ty: &Type) -> Shape {
    if let Some(inner) = generic_argument(ty, "Option") {
        return Shape::Optional(Box::new(inner));
    }
    let Type::Path(path) = ty else {
        return Shape::Other;
    };
    let Some(last) = path.path.segments.last() else {
        return Shape::Other;
    };
    match last.ident.to_string().as_str() {
        "Vec" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" => Shape::Collection,
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "f32" | "f64" | "bool" | "char" => Shape::Primitive,
        "String" | "Identifier" => Shape::Plain,
        _ => Shape::Other,
    }
}

/// True when the type has nothing to validate beyond its `#[field]` options: integers, `bool`,
/// `char` and `Option`s of those. Floats (must be finite), text (no NUL) and identifiers (length)
/// are checked by their `Validate` impls, and anything else may be a validated value.
pub fn is_leaf(ty: &Type) -> bool {
    let ty = generic_argument(ty, "Option").unwrap_or_else(|| ty.clone());
    let Type::Path(path) = &ty else { return false };
    path.path.segments.last().is_some_and(|last| {
        matches!(
            last.ident.to_string().as_str(),
            "i8" | "i16"
                | "i32"
                | "i64"
                | "i128"
                | "isize"
                | "u8"
                | "u16"
                | "u32"
                | "u64"
                | "u128"
                | "usize"
                | "bool"
                | "char"
        )
    })
}

/// True for a field of type `String` (not `Option<String>`): required text, which must not be
/// empty or blank unless `#[field(allow_blank)]`.
pub fn is_required_text(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.qself.is_none()
        && path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "String" && last.arguments.is_none())
}
