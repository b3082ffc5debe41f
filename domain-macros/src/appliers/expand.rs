//! An `Apply<Event>` impl per `#[apply]` method, with the check that the event is the
//! aggregate's own (spanned at the user's event type).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::ApplyModel;
use crate::pipeline::in_const;

pub fn expand(model: &ApplyModel) -> TokenStream {
    let item = &model.item;
    let self_ty = &model.self_ty;
    let impls = model.methods.iter().filter(|m| !m.duplicate).map(|m| {
        let event = &m.event;
        let method = &m.method;
        let call = if m.bad_signature {
            quote!({
                let _ = event;
                ::core::unreachable!("an `#[apply]` method with a compile error never runs")
            })
        } else {
            quote!(#self_ty::#method(self, event))
        };
        // `Event<Aggregate = Self>` at the user's event type: applying another aggregate's event
        // is a type mismatch reported there.
        quote_spanned! {event.span()=>
            impl __dc::Apply<#event> for #self_ty {
                fn apply(&mut self, event: &#event) {
                    fn __own_event<E: __dc::Event<Aggregate = A>, A>() {}
                    let _ = __own_event::<#event, #self_ty>;
                    #call
                }
            }
        }
    });
    let body = in_const(quote!(#(#impls)*));
    quote! {
        #item
        #body
    }
}
