//! Code generation for annotated structs.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Fields, Type, Visibility};

use super::model::{DefaultValue, FieldModel, Kind, Relation, Shape, StructModel};
use super::parse::{is_leaf, is_required_text};
use crate::paths;

pub fn expand(model: StructModel) -> TokenStream {
    let definition = definition(&model);
    let builder_type = if model.kind.has_builder() {
        builder_type(&model)
    } else {
        quote!()
    };
    let serde_defaults = serde_default_fns(&model);
    let import = paths::import();
    let traits = trait_impls(&model);
    let validate = validate_impl(&model);
    let relation_checks = relation_checks(&model);
    let inherent = inherent_impl(&model);
    let builder_impls = if model.kind.has_builder() {
        builder_impls(&model)
    } else {
        quote!()
    };
    let registration = registration(&model);
    quote! {
        #definition
        #builder_type
        #serde_defaults
        const _: () = {
            #import
            #traits
            #validate
            #relation_checks
            #inherent
            #builder_impls
            #registration
        };
    }
}

/// The struct itself, with derives and the fields the framework adds.
fn definition(model: &StructModel) -> TokenStream {
    let mut item = model.item.clone();
    let private = paths::private();
    let serde_crate = format!("{private}::serde").replace(' ', "");
    let mut derives: Vec<TokenStream> = Vec::new();
    // serde's derives must come before our `#[serde(..)]` attributes: a user's own
    // `#[derive(Serialize)]` sits after them, so it is taken out and ours stands in for it.
    strip_derives(&mut item.attrs, &["Serialize", "Deserialize"]);
    let existing = existing_derives(&item.attrs);
    let mut want = |name: &str, path: TokenStream| {
        if !existing.iter().any(|d| d == name) {
            derives.push(path);
        }
    };
    want("Clone", quote!(::core::clone::Clone));
    want("Debug", quote!(::core::fmt::Debug));
    if model.kind == Kind::ValueObject {
        want("PartialEq", quote!(::core::cmp::PartialEq));
    }
    want("Serialize", quote!(#private::serde::Serialize));
    want("Deserialize", quote!(#private::serde::Deserialize));

    let Fields::Named(named) = &mut item.fields else {
        unreachable!("parse only accepts named fields")
    };
    if model.kind == Kind::ValueObject {
        // Immutable: fields are read through getters, and a changed value is a new, validated value.
        for field in named.named.iter_mut() {
            field.vis = Visibility::Inherited;
        }
    }
    // Defaults also fill fields missing from serialized input (a command's JSON, a stored row
    // written before the field existed).
    for (field, model_field) in named.named.iter_mut().zip(&model.fields) {
        if model_field.default.is_some() {
            let name = serde_default_fn_name(model, model_field).to_string();
            field
                .attrs
                .push(syn::parse_quote!(#[serde(default = #name)]));
        } else if has_json_fields(model) && matches!(model_field.shape, Shape::Collection) {
            // As in a builder, an absent collection is empty: a client need not send `[]`.
            field.attrs.push(syn::parse_quote!(#[serde(default)]));
        }
    }
    if model.kind.has_identity() && model.identifier.is_none() {
        let id: syn::Field = syn::parse_quote! {
            /// The identity, assigned on construction.
            pub id: ::domain_core::Identifier
        };
        named.named.insert(0, id);
    }
    let hidden_state = match model.kind {
        Kind::Aggregate => Some(quote!(#private::AggregateState)),
        Kind::Entity => Some(quote!(#private::PendingEvents)),
        _ => None,
    };
    if let Some(state) = hidden_state {
        let field: syn::Field = syn::parse_quote! {
            #[serde(skip)]
            #[doc(hidden)]
            __domain: #state
        };
        named.named.push(field);
    }
    // A command's JSON comes from outside (`process_json`): an unknown field is most likely a
    // misspelt optional one, which would otherwise be dropped without a word.
    let strict = (model.kind == Kind::Command).then(|| quote!(#[serde(deny_unknown_fields)]));
    quote! {
        #[derive(#(#derives),*)]
        #[serde(crate = #serde_crate)]
        #strict
        #item
    }
}

/// Removes the derives named `names` (by last path segment) from `#[derive(..)]` attributes.
fn strip_derives(attrs: &mut Vec<syn::Attribute>, names: &[&str]) {
    use syn::punctuated::Punctuated;
    attrs.retain_mut(|attr| {
        if !attr.path().is_ident("derive") {
            return true;
        }
        let Ok(paths) =
            attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        else {
            return true;
        };
        // Only serde's: `Serialize`, `serde::Serialize`, `::serde::Serialize` (another crate's
        // `rkyv::Serialize` is left alone).
        let is_serde = |p: &syn::Path| {
            let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let named = segments
                .last()
                .is_some_and(|last| names.contains(&last.as_str()));
            named && (segments.len() == 1 || (segments.len() == 2 && segments[0] == "serde"))
        };
        let kept: Vec<&syn::Path> = paths.iter().filter(|p| !is_serde(p)).collect();
        if kept.len() == paths.len() {
            return true;
        }
        if kept.is_empty() {
            return false;
        }
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        true
    });
}

fn existing_derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut names = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                names.push(last.ident.to_string());
            }
            Ok(())
        });
    }
    names
}

fn serde_default_fn_name(model: &StructModel, field: &FieldModel) -> Ident {
    format_ident!("__domain_default_{}_{}", model.ident(), field.ident)
}

/// `default` as a function serde can call for a field missing from serialized input.
fn serde_default_fns(model: &StructModel) -> TokenStream {
    let fns = model.fields.iter().filter_map(|field| {
        let default = field.default.as_ref()?;
        let name = serde_default_fn_name(model, field);
        let ty = &field.ty;
        let value = default_value(field, default);
        Some(quote! {
            #[doc(hidden)]
            #[allow(non_snake_case)]
            fn #name() -> #ty { #value }
        })
    });
    quote!(#(#fns)*)
}

fn default_value(field: &FieldModel, default: &DefaultValue) -> TokenStream {
    let value = match default {
        DefaultValue::TypeDefault => return quote!(::core::default::Default::default()),
        DefaultValue::Expr(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        })) => {
            quote!(::core::convert::Into::into(#s))
        }
        DefaultValue::Expr(expr) => quote!(#expr),
    };
    match field.shape {
        Shape::Optional(_) => quote!(::core::option::Option::Some(#value)),
        _ => value,
    }
}

fn identity_expr(model: &StructModel) -> TokenStream {
    match model.identifier {
        Some(index) => {
            let field = &model.fields[index].ident;
            quote!(__dc::Identifier::from(::core::clone::Clone::clone(&self.#field)))
        }
        None => quote!(::core::clone::Clone::clone(&self.id)),
    }
}

fn drain_relations(model: &StructModel, aggregate: &TokenStream) -> TokenStream {
    // Spanned at the entity type: the call's bound `E: Entity<Aggregate = A>` is the relation
    // check, reported once at the user's `Vec<Entity>` token.
    let drains = model.fields.iter().filter_map(|field| {
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

fn trait_impls(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let name = ident.to_string();
    match model.kind {
        Kind::Aggregate => {
            let category = model
                .stream_category
                .as_ref()
                .map_or_else(|| snake_case(&name), |c| c.value());
            let identity = identity_expr(model);
            let drains = drain_relations(model, &quote!(#ident));
            quote! {
                impl __dc::Aggregate for #ident {
                    const NAME: &'static str = #name;
                    const CATEGORY: &'static str = #category;
                    fn identifier(&self) -> __dc::Identifier { #identity }
                    fn __state(&self) -> &__dc::AggregateState { &self.__domain }
                    fn __state_mut(&mut self) -> &mut __dc::AggregateState { &mut self.__domain }
                    fn __drain_events(&mut self, out: &mut ::std::vec::Vec<__dc::PendingEvent>) {
                        self.__domain.events.drain_into(out);
                        #drains
                    }
                }
            }
        }
        Kind::Entity => {
            let part_of = part_of_spanned(model);
            let identity = identity_expr(model);
            let drains = drain_relations(model, &part_of);
            quote! {
                impl __dc::Entity for #ident {
                    type Aggregate = #part_of;
                    const NAME: &'static str = #name;
                    fn identifier(&self) -> __dc::Identifier { #identity }
                    fn __drain_events(&mut self, out: &mut ::std::vec::Vec<__dc::PendingEvent>) {
                        self.__domain.drain_into(out);
                        #drains
                    }
                }
            }
        }
        Kind::ValueObject => {
            let json_problems = json_problems_fn(model);
            quote!(impl __dc::ValueObject for #ident { #json_problems })
        }
        Kind::Event => {
            let part_of = part_of_spanned(model);
            let version = model.version;
            quote! {
                impl __dc::Event for #ident {
                    type Aggregate = #part_of;
                    const NAME: &'static str = #name;
                    const VERSION: u32 = #version;
                }
                impl __dc::RaisableBy<#part_of> for #ident {}
            }
        }
        Kind::Command => {
            let part_of = part_of_spanned(model);
            let target = model.identifier.map(|index| {
                let field = &model.fields[index].ident;
                quote! {
                    fn target(&self) -> __dc::Option<__dc::Identifier> {
                        __dc::Some(__dc::Identifier::from(::core::clone::Clone::clone(&self.#field)))
                    }
                }
            });
            let json_problems = json_problems_fn(model);
            quote! {
                impl __dc::Command for #ident {
                    type Aggregate = #part_of;
                    const NAME: &'static str = #name;
                    #target
                    #json_problems
                }
            }
        }
    }
}

/// The `part_of` path, re-spanned so "not an aggregate" errors point at the user's token.
fn part_of_spanned(model: &StructModel) -> TokenStream {
    // `parse` reports a missing `part_of` and expansion does not run; `()` is never emitted.
    model
        .part_of
        .as_ref()
        .map_or_else(|| quote!(()), |path| quote!(#path))
}

/// Whether the struct's JSON is diagnosed field by field when it fails to decode
/// (`process_json`): commands, and the value objects they hold.
fn has_json_fields(model: &StructModel) -> bool {
    matches!(model.kind, Kind::Command | Kind::ValueObject)
}

/// The key of a field in JSON, and in validation paths (`r#type` is `type`).
fn field_key(field: &FieldModel) -> String {
    field.ident.unraw().to_string()
}

/// The name of the generated function that validates one field of a command or value object.
fn check_fn_name(field: &FieldModel) -> Ident {
    format_ident!("__check_{}", field.ident.unraw())
}

/// The statements validating one field: `value(Some(span))` is the field's value as a reference,
/// with its tokens at `span` so a wrong-type option is reported at the option (`value(None)`: as
/// written); `path` is a
/// `&FieldPath` of the field, and `__errors` the errors. `None` when there is nothing to check.
fn field_checks(
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
    // Protean rejects an empty or blank required string; so do we, unless `allow_blank`.
    // Not on events: they are facts, and an empty text can be one (a cleared note). A blank
    // default (`#[field(default)]`, `default = ""`) allows blank text, or no value could be built.
    let blank_default = matches!(&field.default, Some(DefaultValue::TypeDefault))
        || matches!(
            &field.default,
            Some(DefaultValue::Expr(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. })))
                if text.value().trim().is_empty()
        );
    let required_text = (is_required_text(&field.ty)
        && !field.allow_blank
        && !blank_default
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

fn validate_impl(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    if has_json_fields(model) {
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

/// The `__json_problems` method of `Command` / `ValueObject`: the field-by-field diagnosis of JSON
/// that did not decode, one call per field into `domain_core`. A struct with its own
/// `#[serde(..)]` attributes keeps the default (serde's error): only serde knows its JSON form.
fn json_problems_fn(model: &StructModel) -> TokenStream {
    if !has_json_fields(model) || has_own_serde_attributes(model) {
        return quote!();
    }
    let ident = model.ident();
    let fields = model.fields.iter().enumerate().map(|(index, field)| {
        let key = field_key(field);
        let ty = &field.ty;
        // Absent is fine where serde fills the field in: a default, an `Option`, a collection.
        let required = field.default.is_none()
            && !matches!(field.shape, Shape::Optional(_) | Shape::Collection);
        let check = if field_checks(model, index, &|_| quote!(__value), &quote!(__field)).is_some() {
            let check_fn = check_fn_name(field);
            quote!(Self::#check_fn)
        } else {
            quote!(__dc::json::unchecked::<#ty>)
        };
        quote! {
            __fields.field(#key, #required, (&&__dc::json::Slot::<#ty>(__dc::PhantomData)).decoder(), #check);
        }
    });
    let deny_unknown = if model.kind == Kind::Command {
        let name = ident.to_string();
        quote!(__fields.deny_unknown(#name);)
    } else {
        quote!(let _ = __fields;)
    };
    quote! {
        fn __json_problems(__value: &__dc::JsonValue, __path: &__dc::FieldPath<'_>, __errors: &mut __dc::ValidationErrors) {
            #[allow(unused_imports)]
            use __dc::json::{DecodeFieldList as _, DecodeFields as _, DecodeOptionalFields as _, DecodeWhole as _};
            let __dc::Some(mut __fields) = __dc::json::Fields::of::<Self>(__value, __path, __errors) else {
                return;
            };
            #(#fields)*
            #deny_unknown
        }
    }
}

/// True when the user put `#[serde(..)]` on the struct or a field (ours are added later).
fn has_own_serde_attributes(model: &StructModel) -> bool {
    let is_serde = |attr: &syn::Attribute| attr.path().is_ident("serde");
    model.item.attrs.iter().any(is_serde)
        || model
            .item
            .fields
            .iter()
            .any(|field| field.attrs.iter().any(is_serde))
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
fn relation_checks(model: &StructModel) -> TokenStream {
    if !model.kind.has_identity() {
        return quote!();
    }
    let checks = model
        .fields
        .iter()
        .filter(|field| field.relation.is_none() && !is_leaf(&field.ty))
        .map(|field| {
            let ty = &field.ty;
            quote_spanned! {ty.span()=>
                (&&__dc::entity_fields::RelationProbe::<#ty>(__dc::PhantomData)).entities_need_a_relation();
            }
        });
    quote! {
        const _: fn() = || {
            #[allow(unused_imports)]
            use __dc::entity_fields::{HoldsEntity as _, HoldsEntities as _, HoldsOptionalEntity as _, HoldsNoEntity as _};
            #(#checks)*
        };
    }
}

fn inherent_impl(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let builder = builder_ident(model);
    let builder_fn = model.kind.has_builder().then(|| {
        let doc = format!(
            "Starts building a [`{ident}`]: set every required field, then call `build()`."
        );
        let inits = builder_fields(model).into_iter().map(|f| {
            let name = &f.name;
            if f.required {
                quote!(#name: __dc::Unset)
            } else {
                quote!(#name: __dc::None)
            }
        });
        quote! {
            #[doc = #doc]
            pub fn builder() -> #builder {
                #builder { #(#inits,)* }
            }
        }
    });
    let body = match model.kind {
        Kind::Aggregate => {
            let field_consts = model.fields.iter().map(|field| {
                let name = &field.ident;
                let name_str = name.to_string();
                let konst = format_ident!("{}", name_str.to_uppercase());
                let ty = &field.ty;
                let doc = format!("The `{name_str}` field, for typed queries.");
                quote! {
                    #[doc = #doc]
                    pub const #konst: __dc::Field<#ident, #ty> = {
                        fn get(value: &#ident) -> &#ty { &value.#name }
                        __dc::Field::new(#name_str, get)
                    };
                }
            });
            quote! {
                #(#field_consts)*
                /// The identity.
                pub fn id(&self) -> __dc::Identifier { <Self as __dc::Aggregate>::identifier(self) }
                /// The version loaded from the store (0: never persisted); used for optimistic concurrency.
                pub fn version(&self) -> u64 { self.__domain.version() }
                /// Raises an event of this aggregate: it is committed with the aggregate and
                /// dispatched after the commit succeeds.
                pub fn raise<E: __dc::Event + __dc::RaisableBy<Self>>(&mut self, event: E) {
                    self.__domain.events.push(event);
                }
                #builder_fn
            }
        }
        Kind::Entity => {
            let part_of = part_of_spanned(model);
            quote! {
                /// The identity.
                pub fn id(&self) -> __dc::Identifier { <Self as __dc::Entity>::identifier(self) }
                /// Raises an event of this entity's aggregate, committed to the aggregate's stream.
                pub fn raise<E: __dc::Event + __dc::RaisableBy<#part_of>>(&mut self, event: E) {
                    self.__domain.push(event);
                }
                #builder_fn
            }
        }
        Kind::ValueObject => {
            let getters = model.fields.iter().map(|field| {
                let name = &field.ident;
                let ty = &field.ty;
                let doc = format!("The `{name}` value.");
                quote! {
                    #[doc = #doc]
                    pub fn #name(&self) -> &#ty { &self.#name }
                }
            });
            quote! {
                #(#getters)*
                #builder_fn
            }
        }
        Kind::Event | Kind::Command => return quote!(),
    };
    quote!(impl #ident { #body })
}

fn builder_ident(model: &StructModel) -> Ident {
    format_ident!("{}Builder", model.ident())
}

/// One field of a builder.
struct BuilderField {
    name: Ident,
    ty: Type,
    /// Required fields are type-state parameters: `build()` exists only once all are set.
    required: bool,
    /// Setter argument: `impl Into<T>` except for primitives (so literals infer) and `Option`s.
    setter: Setter,
    /// How `build()` fills an unset optional field.
    fallback: TokenStream,
    type_param: Ident,
    trait_name: Ident,
}

enum Setter {
    Into(Type),
    Exact(Type),
    IntoOption(Type),
}

fn builder_fields(model: &StructModel) -> Vec<BuilderField> {
    let mut out = Vec::new();
    let generated_id = model.kind.has_identity() && model.identifier.is_none();
    if generated_id {
        out.push(BuilderField {
            name: format_ident!("id"),
            ty: syn::parse_quote!(::domain_core::Identifier),
            required: false,
            setter: Setter::Into(syn::parse_quote!(::domain_core::Identifier)),
            fallback: quote!(__dc::Identifier::new()),
            type_param: format_ident!("__Id"),
            trait_name: format_ident!("__RequiredId"),
        });
    }
    for (index, field) in model.fields.iter().enumerate() {
        let camel = camel_case(&field.ident.to_string());
        let is_identity_uuid = model.identifier == Some(index) && is_identifier_type(&field.ty);
        let (required, fallback) = match (&field.default, &field.shape) {
            (Some(default), _) => (false, default_value(field, default)),
            (None, Shape::Optional(_)) => (false, quote!(__dc::None)),
            (None, Shape::Collection) => (false, quote!(::core::default::Default::default())),
            (None, _) if is_identity_uuid => (false, quote!(__dc::Identifier::new())),
            (None, _) => (true, quote!()),
        };
        let setter = match &field.shape {
            Shape::Optional(inner) => Setter::IntoOption((**inner).clone()),
            Shape::Primitive => Setter::Exact(field.ty.clone()),
            _ => Setter::Into(field.ty.clone()),
        };
        out.push(BuilderField {
            name: field.ident.clone(),
            ty: field.ty.clone(),
            required,
            setter,
            fallback,
            type_param: format_ident!("__{}", camel),
            trait_name: format_ident!("__Required{}", camel),
        });
    }
    out
}

/// The builder struct (outside the const block, so users can name it).
fn builder_type(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let builder = builder_ident(model);
    let vis = &model.item.vis;
    let fields = builder_fields(model);
    let params = fields.iter().filter(|f| f.required).map(|f| {
        let param = &f.type_param;
        quote!(#param = ::domain_core::__private::Unset)
    });
    let members = fields.iter().map(|f| {
        let name = &f.name;
        let ty = &f.ty;
        if f.required {
            let param = &f.type_param;
            quote!(#name: #param)
        } else {
            quote!(#name: ::core::option::Option<#ty>)
        }
    });
    let doc = format!(
        "Builds a [`{ident}`] with [`{ident}::builder`]. Required fields are checked at compile time: `build()` exists once every one is set."
    );
    quote! {
        #[doc = #doc]
        #[must_use = "call `.build()` to get the value"]
        #[allow(non_camel_case_types)]
        #vis struct #builder<#(#params),*> {
            #(#members,)*
        }
    }
}

fn builder_impls(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let ident_str = ident.to_string();
    let builder = builder_ident(model);
    let fields = builder_fields(model);
    let params: Vec<&Ident> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| &f.type_param)
        .collect();
    let setters = fields.iter().map(|field| {
        let name = &field.name;
        let doc = format!("Sets `{name}`.");
        let (arg_ty, value) = match &field.setter {
            Setter::Into(ty) => (
                quote!(impl ::core::convert::Into<#ty>),
                quote!(::core::convert::Into::into(value)),
            ),
            Setter::Exact(ty) => (quote!(#ty), quote!(value)),
            Setter::IntoOption(inner) => (
                quote!(impl __dc::IntoOptional<#inner>),
                quote!(__dc::IntoOptional::into_optional(value)),
            ),
        };
        if !field.required {
            return quote! {
                #[doc = #doc]
                pub fn #name(mut self, value: #arg_ty) -> Self {
                    self.#name = __dc::Some(#value);
                    self
                }
            };
        }
        let ty = &field.ty;
        let out_params = fields.iter().filter(|f| f.required).map(|f| {
            if f.name == *name {
                quote!(__dc::Set<#ty>)
            } else {
                let p = &f.type_param;
                quote!(#p)
            }
        });
        let moves = fields.iter().map(|f| {
            let other = &f.name;
            if other == name {
                quote!(#other: __dc::Set(#value))
            } else {
                quote!(#other: self.#other)
            }
        });
        quote! {
            #[doc = #doc]
            pub fn #name(self, value: #arg_ty) -> #builder<#(#out_params),*> {
                #builder { #(#moves,)* }
            }
        }
    });
    let required_traits = fields.iter().filter(|f| f.required).map(|f| {
        let trait_name = &f.trait_name;
        let ty = &f.ty;
        let message = format!("missing required field `{}` for `{ident_str}`", f.name);
        let label = format!("call `.{}(...)` on the builder before `.build()`", f.name);
        quote! {
            #[diagnostic::on_unimplemented(
                message = #message,
                label = #label,
                note = "required fields are those that are not `Option`, not collections, and have no `#[field(default)]`"
            )]
            trait #trait_name { fn take(self) -> #ty; }
            impl #trait_name for __dc::Set<#ty> { fn take(self) -> #ty { self.0 } }
        }
    });
    let bounds = fields.iter().filter(|f| f.required).map(|f| {
        let param = &f.type_param;
        let trait_name = &f.trait_name;
        quote!(#param: #trait_name)
    });
    let inits = fields.iter().map(|f| {
        let name = &f.name;
        if f.required {
            let trait_name = &f.trait_name;
            quote!(#name: #trait_name::take(self.#name))
        } else {
            let fallback = &f.fallback;
            quote!(#name: self.#name.unwrap_or_else(|| #fallback))
        }
    });
    let hidden = match model.kind {
        Kind::Aggregate | Kind::Entity => quote!(__domain: ::core::default::Default::default(),),
        _ => quote!(),
    };
    quote! {
        impl<#(#params),*> #builder<#(#params),*> {
            #(#setters)*
        }
        #(#required_traits)*
        impl<#(#params),*> #builder<#(#params),*> {
            /// Assigns the identity, applies defaults and validates every field; reports every
            /// failing field at once.
            // The bounds sit on the method, not the impl, so a missing field is reported with
            // the `on_unimplemented` message ("missing required field ...") instead of E0599.
            #[allow(private_bounds)]
            pub fn build(self) -> __dc::StdResult<#ident, __dc::ValidationErrors>
            where
                #(#bounds),*
            {
                let value = #ident { #(#inits,)* #hidden };
                __dc::Validate::validate(&value)?;
                __dc::StdResult::Ok(value)
            }
        }
    }
}

fn registration(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let name = ident.to_string();
    let body = match model.kind {
        Kind::ValueObject => return quote!(),
        Kind::Aggregate => quote! {
            __dc::Registration::Aggregate(__dc::AggregateRegistration {
                name: #name,
                module: ::core::module_path!(),
                type_id: __dc::TypeId::of::<#ident>,
                category: <#ident as __dc::Aggregate>::CATEGORY,
            })
        },
        Kind::Entity => {
            let part_of = quote!(<#ident as __dc::Entity>::Aggregate);
            quote! {
                __dc::Registration::Entity(__dc::EntityRegistration {
                    name: #name,
                    type_id: __dc::TypeId::of::<#ident>,
                    aggregate: __dc::TypeId::of::<#part_of>,
                    aggregate_name: __dc::entity_aggregate::<#ident>(),
                })
            }
        }
        Kind::Event => {
            let part_of = quote!(<#ident as __dc::Event>::Aggregate);
            quote! {
                __dc::Registration::Event(__dc::EventRegistration {
                    name: #name,
                    module: ::core::module_path!(),
                    version: <#ident as __dc::Event>::VERSION,
                    type_id: __dc::TypeId::of::<#ident>,
                    aggregate: __dc::TypeId::of::<#part_of>,
                    aggregate_name: __dc::event_aggregate::<#ident>().0,
                    category: __dc::event_aggregate::<#ident>().1,
                    decode: __dc::decode_event::<#ident>,
                })
            }
        }
        Kind::Command => {
            let part_of = quote!(<#ident as __dc::Command>::Aggregate);
            quote! {
                __dc::Registration::Command(__dc::CommandRegistration {
                    name: #name,
                    module: ::core::module_path!(),
                    type_id: __dc::TypeId::of::<#ident>,
                    aggregate: __dc::TypeId::of::<#part_of>,
                    aggregate_name: __dc::command_aggregate::<#ident>(),
                })
            }
        }
    };
    registration_static(&quote!(#ident), body)
}

/// The linkme element and the explicit-registration impl, sharing one static.
pub fn registration_static(ty: &TokenStream, body: TokenStream) -> TokenStream {
    quote! {
        #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
        #[linkme(crate = __dc::linkme)]
        static __REGISTRATION: __dc::Registration = #body;
        impl __dc::Register for #ty {
            fn registration() -> &'static __dc::Registration { &__REGISTRATION }
        }
    }
}

/// The same for a handler type, through the trait whose name states the rule a second annotated
/// impl block for the type breaks (the conflict is reported under that name).
pub fn handler_registration_static(ty: &TokenStream, body: TokenStream) -> TokenStream {
    quote! {
        #[__dc::linkme::distributed_slice(__dc::DOMAIN_CORE_REGISTRATIONS)]
        #[linkme(crate = __dc::linkme)]
        static __REGISTRATION: __dc::Registration = #body;
        impl __dc::OneAnnotatedImplBlockPerHandlerType for #ty {
            fn handler_registration() -> &'static __dc::Registration { &__REGISTRATION }
        }
    }
}

pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel_case(name: &str) -> String {
    name.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn is_identifier_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Identifier"))
}
