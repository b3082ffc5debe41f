//! The field-by-field diagnosis of a command's (or value object's) JSON that did not decode.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::model::{Kind, Shape, StructModel};
use super::field_key;
use super::validate::{check_fn_name, field_checks};

/// The `__json_problems` method of `Command` / `ValueObject`: the field-by-field diagnosis of JSON
/// that did not decode, one call per field into `domain_core`. A struct with its own
/// `#[serde(..)]` attributes keeps the default (serde's error): only serde knows its JSON form.
pub fn json_problems_fn(model: &StructModel) -> TokenStream {
    if !model.json_diagnosis {
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
