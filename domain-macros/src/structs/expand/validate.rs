//! `Validate`: each field's `#[field]` checks, nested values, the identity, required text; and
//! the compile-time check that a field holding entities declares its relation.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::super::model::{FieldModel, Kind, StructModel};
use super::super::parse::{is_identifier_type, is_leaf, is_required_text, is_text};
use super::field_key;

/// The name of the generated function that validates one field of a command or value object.
pub fn check_fn_name(field: &FieldModel) -> Ident {
    format_ident!("__check_{}", field.ident.unraw())
}

/// The statements validating one field: `value(Some(span))` is the field's value as a reference,
/// with its tokens at `span` so a wrong-type option is reported at the option (`value(None)`: as
/// written); `path` is a
/// `&FieldPath` of the field, and `__errors` the errors. `None` when there is nothing to check.
pub fn field_checks(
    model: &StructModel,
    index: usize,
    value: &dyn Fn(Option<Span>) -> TokenStream,
    path: &TokenStream,
) -> Option<TokenStream> {
    let field = &model.fields[index];
    let checks = field.checks.iter().map(|check| {
        let function = Ident::new(check.option, check.span);
        let bound = &check.value;
        // Every token of the call at the option's span (field access and bound included), so
        // a wrong-type option is one error under `max_length` / `min`, not a multi-line span
        // or a second error at the bound's literal.
        let value = value(Some(check.span));
        quote_spanned! {check.span=>
            __dc::check::#function(#value, { let __bound = #bound; __bound }, #path, __errors);
        }
    });
    let checks: Vec<TokenStream> = checks.collect();
    let nested = (!is_leaf(&field.ty)).then(|| {
        let value = value(None);
        if is_text(&field.ty) {
            // What the probe below resolves to for text, without the method probe (which costs
            // type checking per field).
            return quote!(__dc::Validate::validate_into(#value, #path, __errors););
        }
        quote! {{
            #[allow(unused_imports)]
            use __dc::check::{SkipNested as _, ValidateNested as _};
            (&&__dc::check::Nested(#value)).validate_nested(#path, __errors);
        }}
    });
    // A command's `#[identifier]` of another type than `Identifier` is checked as the identity
    // it becomes (aggregates and entities check theirs in `identity_check`).
    let identity = (model.kind == Kind::Command
        && model.identifier == Some(index)
        && !is_identifier_type(&field.ty))
    .then(|| {
        let value = value(None);
        quote! {
            __dc::check::identity(
                &__dc::Identifier::from(::core::clone::Clone::clone(#value)),
                #path,
                __errors,
            );
        }
    });
    // Protean rejects an empty or blank required string; so do we, unless `allow_blank` (which a
    // blank default implies, see `check`). Not on events: they are facts, and an empty text can
    // be one (a cleared note).
    let required_text = (is_required_text(&field.ty)
        && !field.allow_blank
        && model.kind != Kind::Event)
        .then(|| {
            let value = value(None);
            quote!(__dc::check::required_text(#value, #path, __errors);)
        });
    if checks.is_empty() && nested.is_none() && identity.is_none() && required_text.is_none() {
        return None;
    }
    Some(quote!(#identity #required_text #(#checks)* #nested))
}

pub fn validate_impl(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    if model.kind.has_json_fields() {
        return validate_through_check_fns(model);
    }
    let fields = model.fields.iter().enumerate().map(|(index, field)| {
        let name = &field.ident;
        let key = field_key(field);
        let value = |span: Option<Span>| match span {
            Some(span) => {
                let mut name = name.clone();
                name.set_span(span);
                quote_spanned!(span=> &self.#name)
            }
            None => quote!(&self.#name),
        };
        let Some(checks) = field_checks(model, index, &value, &quote!(&__field)) else {
            return quote!();
        };
        quote! {{
            let __field = __path.field(#key);
            #checks
        }}
    });
    let identity = identity_check(model);
    quote! {
        impl __dc::Validate for #ident {
            fn validate_into(&self, __path: &__dc::FieldPath<'_>, __errors: &mut __dc::ValidationErrors) {
                let _ = (&__path, &__errors);
                #identity
                #(#fields)*
            }
        }
    }
}

/// For commands and value objects, each field's checks are a function of the value alone,
/// called by `validate_into` and by the JSON diagnosis on a field that decoded when others did
/// not: one copy of the checks (and of any compile error in them), two callers.
fn validate_through_check_fns(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let mut check_fns = Vec::new();
    let mut calls = Vec::new();
    for (index, field) in model.fields.iter().enumerate() {
        // The parameter rebound to a name at the option's span: a wrong-type option is then
        // reported at the option (as for other kinds), and the binding resolves whatever the
        // hygiene of the user's tokens (a struct written by a `macro_rules!`).
        let value = |span: Option<Span>| match span {
            Some(span) => {
                let at_span = Ident::new("__value", span);
                let param = quote!(__value);
                quote_spanned!(span=> { let #at_span = #param; #at_span })
            }
            None => quote!(__value),
        };
        let Some(checks) = field_checks(model, index, &value, &quote!(__field)) else {
            continue;
        };
        let name = &field.ident;
        let key = field_key(field);
        let ty = &field.ty;
        let check_fn = check_fn_name(field);
        check_fns.push(quote! {
            fn #check_fn(__value: &#ty, __field: &__dc::FieldPath<'_>, __errors: &mut __dc::ValidationErrors) {
                #checks
            }
        });
        calls.push(quote!(Self::#check_fn(&self.#name, &__path.field(#key), __errors);));
    }
    quote! {
        #[doc(hidden)]
        impl #ident {
            #(#check_fns)*
        }
        impl __dc::Validate for #ident {
            fn validate_into(&self, __path: &__dc::FieldPath<'_>, __errors: &mut __dc::ValidationErrors) {
                let _ = (&__path, &__errors);
                #(#calls)*
            }
        }
    }
}

/// The identity every store keys by (length, no NUL): the generated `id`, or an `#[identifier]`
/// field of another type (an `Identifier` field is checked by its own `Validate` impl). Commands
/// check theirs in the field's own checks ([`field_checks`]).
fn identity_check(model: &StructModel) -> TokenStream {
    match model.identifier {
        None if model.kind.has_identity() => {
            quote!(__dc::check::identity(&self.id, &__path.field("id"), __errors);)
        }
        Some(index) if !is_identifier_type(&model.fields[index].ty) => {
            let field = &model.fields[index].ident;
            let name = field.to_string();
            quote! {
                __dc::check::identity(
                    &__dc::Identifier::from(::core::clone::Clone::clone(&self.#field)),
                    &__path.field(#name),
                    __errors,
                );
            }
        }
        _ => quote!(),
    }
}

/// A field holding entities without `#[has_many]` / `#[has_one]` would be stored, but the events
/// its entities raise would never be collected: a compile error at the field's type, through
/// autoref specialization (the entity case resolves to a method whose bound is never met).
pub fn relation_checks(model: &StructModel) -> TokenStream {
    if !model.kind.has_identity() {
        return quote!();
    }
    let checks = model
        .fields
        .iter()
        .filter(|field| {
            field.relation.is_none() && !field.relation_rejected && !is_leaf(&field.ty) && !is_text(&field.ty)
        })
        .map(|field| {
            let ty = &field.ty;
            quote_spanned! {ty.span()=>
                (&&__dc::entity_fields::RelationProbe::<#ty>(__dc::PhantomData)).entities_need_a_relation();
            }
        })
        .collect::<Vec<_>>();
    if checks.is_empty() {
        return quote!();
    }
    quote! {
        const _: fn() = || {
            #[allow(unused_imports)]
            use __dc::entity_fields::{HoldsEntity as _, HoldsEntities as _, HoldsOptionalEntity as _, HoldsNoEntity as _};
            #(#checks)*
        };
    }
}
