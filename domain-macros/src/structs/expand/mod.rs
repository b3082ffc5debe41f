//! Code generation for annotated structs: what every kind shares is in the concern modules
//! (`definition`, `validate`, `json`, `builder`); what one kind adds is in that kind's module.

mod aggregate;
mod builder;
mod command;
mod definition;
mod entity;
mod event;
mod json;
mod query;
mod validate;
mod value_object;

use proc_macro2::TokenStream;
use quote::quote;

use super::model::{FieldModel, Kind, PartOf, StructModel};
use crate::pipeline::in_const;

/// What one kind generates: items beside the struct (users name them, like the builder type) and
/// items in the anonymous constant (trait impls, registration).
#[derive(Default)]
struct Parts {
    public: TokenStream,
    private: TokenStream,
}

pub fn expand(model: &StructModel) -> TokenStream {
    let definition = definition::definition(model);
    let Parts { public, private } = match model.kind {
        Kind::Aggregate => aggregate::expand(model),
        Kind::Entity => entity::expand(model),
        Kind::ValueObject => value_object::expand(model),
        Kind::Event => event::expand(model),
        Kind::Command => command::expand(model),
        Kind::Query => query::expand_query(model),
        Kind::Response => query::expand_response(model),
    };
    let validate = validate::validate_impl(model);
    let relation_checks = validate::relation_checks(model);
    let private = in_const(quote! {
        #private
        #validate
        #relation_checks
    });
    quote! {
        #definition
        #public
        #private
    }
}

/// The `part_of` path as the user wrote it (so "not an aggregate" errors point at their token),
/// or the placeholder aggregate when it is missing (the missing option is already an error).
fn part_of(model: &StructModel) -> TokenStream {
    match &model.part_of {
        PartOf::Declared(path) => quote!(#path),
        PartOf::Missing | PartOf::NotApplicable => quote!(__dc::MissingPartOf),
    }
}

/// The identity of an aggregate or entity: the generated `id`, or the `#[identifier]` field.
fn identity_expr(model: &StructModel) -> TokenStream {
    match model.identifier {
        Some(index) => {
            let field = &model.fields[index].ident;
            quote!(__dc::Identifier::from(::core::clone::Clone::clone(&self.#field)))
        }
        None => quote!(::core::clone::Clone::clone(&self.id)),
    }
}

/// Collects the events raised by the entities an aggregate or entity holds.
fn drain_relations(model: &StructModel, aggregate: &TokenStream) -> TokenStream {
    use super::model::Relation;
    use quote::quote_spanned;
    use syn::spanned::Spanned;
    // Spanned at the entity type: the call's bound `E: Entity<Aggregate = A>` is the relation
    // check, reported once at the user's `Vec<Entity>` token.
    let drains = model.fields.iter().filter_map(|field: &FieldModel| {
        let name = &field.ident;
        Some(match field.relation.as_ref()? {
            Relation::HasMany { entity, .. } => quote_spanned! {entity.span()=>
                for entity in self.#name.iter_mut() { __dc::drain_entity::<#aggregate, #entity>(entity, out); }
            },
            Relation::HasOne { optional: true, entity, .. } => quote_spanned! {entity.span()=>
                if let ::core::option::Option::Some(entity) = self.#name.as_mut() { __dc::drain_entity::<#aggregate, #entity>(entity, out); }
            },
            Relation::HasOne { optional: false, entity, .. } => quote_spanned! {entity.span()=>
                __dc::drain_entity::<#aggregate, #entity>(&mut self.#name, out);
            },
        })
    });
    quote!(#(#drains)*)
}

/// A getter per field, for structs whose fields are private.
fn getters(model: &StructModel) -> TokenStream {
    let getters = model.fields.iter().map(|field| {
        let name = &field.ident;
        let ty = &field.ty;
        let doc = format!("The `{name}` value.");
        quote! {
            #[doc = #doc]
            pub fn #name(&self) -> &#ty { &self.#name }
        }
    });
    quote!(#(#getters)*)
}

/// The key of a field in JSON, and in validation paths (`r#type` is `type`).
fn field_key(field: &FieldModel) -> String {
    use syn::ext::IdentExt;
    field.ident.unraw().to_string()
}

/// The SQL type a field is read as, from its Rust type as written (an `Option` as its inner
/// type): integers, floats, `bool`, text and identifiers; anything else is its JSON.
pub(super) fn column_kind(ty: &syn::Type) -> proc_macro2::Ident {
    let kind = match ty {
        syn::Type::Path(path) => match path.path.segments.last() {
            Some(last) if last.ident == "Option" => match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                    Some(syn::GenericArgument::Type(inner)) => return column_kind(inner),
                    _ => "Json",
                },
                _ => "Json",
            },
            Some(last) => match last.ident.to_string().as_str() {
                "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64" | "usize" => {
                    "Int"
                }
                "f32" | "f64" => "Float",
                "bool" => "Bool",
                "String" | "Identifier" | "Uuid" => "Text",
                _ => "Json",
            },
            None => "Json",
        },
        _ => "Json",
    };
    proc_macro2::Ident::new(kind, proc_macro2::Span::call_site())
}
