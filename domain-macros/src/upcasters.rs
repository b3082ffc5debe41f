//! `#[upcaster(Event, from = N)]` on a function `fn(JsonValue) -> JsonValue`: turns stored JSON
//! of `Event` at schema version `N` into version `N + 1`'s. Small enough for one module: parse
//! (the event type and `from`), check (`from` at least 1), expand (an `UpcastFrom<N>` impl and
//! the check that `N` is below the event's version).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{ItemFn, LitInt, Token, Type};

use crate::ctxt::Ctxt;
use crate::pipeline::{Family, in_const};

/// The `#[upcaster]` family.
#[derive(Clone, Copy)]
pub struct Upcaster;

pub struct UpcasterModel {
    function: ItemFn,
    event: Type,
    from: LitInt,
    /// `from` as a number; 0 when invalid (reported by `check`, and nothing more is generated).
    from_value: u32,
}

/// `Event, from = N`
struct Args {
    event: Type,
    from: LitInt,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let event: Type = input.parse()?;
        input.parse::<Token![,]>()?;
        let key: syn::Ident = input.parse()?;
        if key != "from" {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown option `{key}` for `#[upcaster]`; expected `from`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let from: LitInt = input.parse()?;
        input.parse::<Option<Token![,]>>()?;
        Ok(Args { event, from })
    }
}

const USAGE: &str = "write `#[upcaster(YourEvent, from = 1)]` on a `fn(JsonValue) -> JsonValue` that turns version 1's JSON into version 2's";

impl Family for Upcaster {
    type Model = UpcasterModel;

    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<UpcasterModel, TokenStream> {
        let function = match syn::parse2::<ItemFn>(input.clone()) {
            Ok(function) => function,
            Err(error) => {
                cx.error_spanned_by(error.to_compile_error(), USAGE);
                return Err(input);
            }
        };
        let args = match syn::parse2::<Args>(args) {
            Ok(args) => args,
            Err(error) => {
                cx.syn_error(syn::Error::new(error.span(), format!("{error}: {USAGE}")));
                return Err(input);
            }
        };
        Ok(UpcasterModel {
            function,
            event: args.event,
            from: args.from,
            from_value: 0,
        })
    }

    fn check(self, cx: &Ctxt, model: &mut UpcasterModel) {
        match model.from.base10_parse::<u32>() {
            Ok(n) if n >= 1 => model.from_value = n,
            _ => cx.error_spanned_by(
                &model.from,
                "`from` is the schema version the function upcasts from: an integer of at least 1",
            ),
        }
    }

    fn expand(self, model: &UpcasterModel) -> TokenStream {
        let function = &model.function;
        if model.from_value == 0 {
            return quote!(#function);
        }
        let event = &model.event;
        let name = &function.sig.ident;
        let from = model.from_value;
        let event_name = quote!(#event).to_string().replace(' ', "");
        let message = format!(
            "`#[upcaster({event_name}, from = {from})]` upcasts from a version that is not older than `{event_name}`'s current `version`: raise the event's `version`, or remove this upcaster"
        );
        // The coercion to `UpcastFn` is spanned at the signature: a function of another shape is
        // reported there; the version check at `from`.
        let sig_span = function.sig.span();
        let upcast = quote_spanned!(sig_span=> #name as __dc::UpcastFn);
        let version_check = quote_spanned! {model.from.span()=>
            const _: () = ::core::assert!(#from < <#event as __dc::Event>::VERSION, #message);
        };
        let body = in_const(quote! {
            impl __dc::UpcastFrom<#from> for #event {
                const UPCAST: __dc::UpcastFn = #upcast;
            }
            #version_check
        });
        quote! {
            #function
            #body
        }
    }
}
