//! The type-state builder of aggregates, entities and value objects: required fields are
//! checked at compile time, `build()` applies defaults and validates.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::Type;

use super::super::model::{Kind, Shape, StructModel};
use super::super::parse::is_identifier_type;
use super::definition::default_value;
use crate::naming::camel_case;

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

/// `X::builder()`, for the inherent impl.
pub fn builder_fn(model: &StructModel) -> TokenStream {
    let ident = model.ident();
    let builder = builder_ident(model);
    let doc =
        format!("Starts building a [`{ident}`]: set every required field, then call `build()`.");
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
}

/// The builder type (beside the struct, so users can name it) and its impls (in the constant).
pub fn builder(model: &StructModel) -> super::Parts {
    super::Parts {
        public: builder_type(model),
        private: builder_impls(model),
    }
}
