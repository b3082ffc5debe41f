//! `#[handler_states]`: a fieldless enum whose variants are an entity's handlers (RIDDL: one
//! active at a time). It gets the derives a state needs (copied, compared, serialized with the
//! entity's snapshot), `Default` as its first variant, and the names of its states.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, Ident, Item, ItemEnum};

use crate::ctxt::Ctxt;
use crate::pipeline::{Family, in_const};

#[derive(Clone, Copy)]
pub struct HandlerStatesFamily;

pub struct StatesModel {
    item: ItemEnum,
    variants: Vec<Ident>,
}

impl Family for HandlerStatesFamily {
    type Model = StatesModel;

    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<StatesModel, TokenStream> {
        if let Some(first) = args.into_iter().next() {
            cx.error_spanned_by(first, "`#[handler_states]` takes no options: the first variant is where a new entity starts");
        }
        let item = match syn::parse2::<Item>(input.clone()) {
            Ok(Item::Enum(item)) => item,
            Ok(other) => {
                cx.error_spanned_by(
                    &other,
                    "`#[handler_states]` applies to a fieldless enum: `pub enum OrderHandler { Unpaid, Paid, Shipped }`",
                );
                return Err(input);
            }
            Err(error) => {
                cx.syn_error(error);
                return Err(input);
            }
        };
        Ok(StatesModel {
            variants: item.variants.iter().map(|v| v.ident.clone()).collect(),
            item,
        })
    }

    fn check(self, cx: &Ctxt, model: &mut StatesModel) {
        if !model.item.generics.params.is_empty() {
            cx.error_spanned_by(
                &model.item.generics,
                "handler states take no generic parameters",
            );
        }
        if model.variants.is_empty() {
            cx.error_spanned_by(
                &model.item.ident,
                "an entity needs at least one handler state: the first is where a new entity starts",
            );
        }
        for variant in &model.item.variants {
            if !matches!(variant.fields, Fields::Unit) || variant.discriminant.is_some() {
                cx.error_spanned_by(
                    variant,
                    "a handler state is a name only (no fields, no discriminant): what the entity holds goes in its fields",
                );
            }
        }
    }

    fn expand(self, model: &StatesModel) -> TokenStream {
        let mut item = model.item.clone();
        // Fields or discriminants are errors already; drop them so the rest still compiles.
        for variant in &mut item.variants {
            variant.fields = Fields::Unit;
            variant.discriminant = None;
        }
        let ident = &item.ident;
        let private = crate::paths::private();
        let serde_crate = format!("{private}::serde").replace(' ', "");
        let names: Vec<String> = model.variants.iter().map(ToString::to_string).collect();
        let variants = &model.variants;
        let first = variants.first().map_or_else(
            || {
                quote!(::core::unreachable!(
                    "a state enum with no variant is a compile error"
                ))
            },
            |first| quote!(#ident::#first),
        );
        let impls = in_const(quote! {
            impl ::core::default::Default for #ident {
                /// The first state: where a new entity starts.
                fn default() -> Self { #first }
            }
            impl __dc::HandlerState for #ident {
                const NAMES: &'static [&'static str] = &[#(#names),*];
                fn name(self) -> &'static str {
                    match self { #(#ident::#variants => #names,)* }
                }
            }
        });
        quote! {
            #[derive(
                ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug,
                ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
                #private::serde::Serialize, #private::serde::Deserialize
            )]
            #[serde(crate = #serde_crate)]
            #item
            #impls
        }
    }
}
