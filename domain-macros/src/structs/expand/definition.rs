//! The struct itself: serde derives, the fields the framework adds, and defaults for missing
//! serialized fields.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::{Fields, Visibility};

use super::super::model::{DefaultValue, FieldModel, Kind, Shape, StructModel};
use crate::paths;

/// The struct with its derives and added fields, and the default functions serde calls.
pub fn definition(model: &StructModel) -> TokenStream {
    let item = item(model);
    let serde_defaults = serde_default_fns(model);
    quote!(#item #serde_defaults)
}

/// The struct itself, with derives and the fields the framework adds.
fn item(model: &StructModel) -> TokenStream {
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
    if matches!(model.kind, Kind::ValueObject | Kind::Response) {
        want("PartialEq", quote!(::core::cmp::PartialEq));
    }
    want("Serialize", quote!(#private::serde::Serialize));
    want("Deserialize", quote!(#private::serde::Deserialize));

    let Fields::Named(named) = &mut item.fields else {
        unreachable!("parse only accepts named fields")
    };
    if model.private_fields {
        // Read through getters: a value object's changed value is a new, validated value, and an
        // event-sourced aggregate's state changes only by its `#[apply]` methods.
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
        } else if model.kind.has_json_fields() && matches!(model_field.shape, Shape::Collection) {
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
    if let Some(states) = &model.states {
        // The active handler is state like any field: saved in snapshots, restored by replay
        // (`#[apply(become = ..)]`); a snapshot without it starts at the first state.
        let field: syn::Field = syn::parse_quote! {
            #[serde(rename = "$handler", default)]
            #[doc(hidden)]
            __handler: #states
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

pub fn default_value(field: &FieldModel, default: &DefaultValue) -> TokenStream {
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
