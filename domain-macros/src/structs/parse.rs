//! Reading an annotated struct and its options into a [`StructModel`]. Syntax only: the rules
//! across options and fields are `check`'s. A bad option is recorded and dropped, so the rest of
//! the struct is still read (and expanded).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprArray, Fields, GenericArgument, Item, ItemStruct, Lit, PathArguments, Type,
};

use super::model::{Check, DefaultValue, FieldModel, Kind, PartOf, Shape, StructModel};
use crate::ctxt::Ctxt;
use crate::options::{parse_macro_options, unknown_key};
use crate::symbol::*;

/// Parses `input` as a struct for `kind`. `Err` when it cannot be one (not a struct, a tuple
/// struct, generic): the input is then emitted as it is, next to the error.
pub fn parse(
    cx: &Ctxt,
    kind: Kind,
    args: TokenStream,
    input: TokenStream,
) -> Result<StructModel, TokenStream> {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            cx.syn_error(error);
            return Err(input);
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
        return Err(input);
    };
    let options = parse_macro_options(cx, kind.macro_name(), kind.allowed_options(), args);
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
    let Some((fields, identifier_marks)) = parse_fields(cx, kind, &mut item) else {
        return Err(item.to_token_stream());
    };
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            format!(
                "`#[{}]` does not support generic structs: each type is registered in a static, and statics cannot be generic",
                kind.macro_name()
            ),
        );
        return Err(item.to_token_stream());
    }
    let part_of = match options.part_of {
        Some(path) => PartOf::Declared(path),
        None if kind.needs_part_of() => PartOf::Missing,
        None => PartOf::NotApplicable,
    };
    Ok(StructModel {
        kind,
        item,
        part_of,
        stream_category: options.stream_category,
        category: String::new(),
        version,
        event_sourced: options.event_sourced.is_some(),
        private_fields: false,
        snapshot_every_option: options.snapshot_every,
        snapshot_every: 0,
        states: options.states,
        result: options.result,
        fingerprint: 0,
        fields,
        identifier_marks,
        identifier: None,
        json_diagnosis: false,
    })
}

type ParsedFields = (Vec<FieldModel>, Vec<(usize, Attribute)>);

/// The fields with our helper attributes taken off them; `None` for a tuple struct.
fn parse_fields(cx: &Ctxt, kind: Kind, item: &mut ItemStruct) -> Option<ParsedFields> {
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
            return None;
        }
    };
    let mut models = Vec::new();
    let mut identifier_marks = Vec::new();
    for (index, field) in named.named.iter_mut().enumerate() {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let mut model = FieldModel {
            ident,
            ty: field.ty.clone(),
            shape: shape_of(&field.ty),
            checks: Vec::new(),
            default: None,
            relation: None,
            allow_blank: false,
            allow_blank_span: None,
            relation_marks: Vec::new(),
            relation_rejected: false,
            literals: Default::default(),
        };
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut field.attrs) {
            let path = attr.path();
            if path.is_ident(FIELD) {
                parse_field_options(cx, &attr, &mut model);
            } else if path.is_ident(IDENTIFIER) {
                identifier_marks.push((index, attr));
            } else if path.is_ident(HAS_MANY) || path.is_ident(HAS_ONE) {
                model.relation_marks.push(attr);
            } else {
                kept.push(attr);
            }
        }
        field.attrs = kept;
        models.push(model);
    }
    Some((models, identifier_marks))
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
    let literals = &mut field.literals;
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
                literals.bounds[usize::from(option == MAX)] = literal_number(&value).map(|n| (n, value.span()));
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
                literals.choices = Some(value.elems.iter().filter_map(literal_text).collect());
                let elems = &value.elems;
                field.checks.push(Check { option, span, value: quote!(&[#elems]) });
            }
            DEFAULT => {
                field.default = Some(if meta.input.peek(syn::Token![=]) {
                    let value: Expr = meta.value()?.parse()?;
                    literals.default_text = literal_text(&value).map(|text| (text, value.span()));
                    DefaultValue::Expr(value)
                } else {
                    DefaultValue::TypeDefault
                });
            }
            ALLOW_BLANK => {
                field.allow_blank = true;
                field.allow_blank_span = Some(span);
            }
            _ => unreachable!("every allowed option is matched above"),
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
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

/// True for `String` or `Option<String>`: text, validated by `String`'s own `Validate` impl (no
/// NUL) and never holding an entity, so the generated code calls that impl directly instead of
/// going through the autoref probes (`Nested`, `RelationProbe`) that cost type checking per field.
pub fn is_text(ty: &Type) -> bool {
    let ty = generic_argument(ty, "Option").unwrap_or_else(|| ty.clone());
    is_required_text(&ty)
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

/// True for a field whose type is spelled `Identifier` (checked by its own `Validate` impl).
pub fn is_identifier_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Identifier"))
}
