//! `#[event]`: the `Event` impl, which aggregate may raise it, and the registration (with the
//! decoder the stores use to read it back by name).

use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{PartOf, StructModel};
use super::{Parts, part_of};
use crate::pipeline::registration_static;

pub fn expand(model: &StructModel) -> Parts {
    let ident = model.ident();
    let name = ident.to_string();
    let part_of = part_of(model);
    let version = model.version;
    // With `part_of` missing (already an error), any aggregate may raise it: its `raise` calls
    // are not reported a second time.
    let raisable = match model.part_of {
        PartOf::Declared(_) => quote!(impl __dc::RaisableBy<#part_of> for #ident {}),
        PartOf::Missing | PartOf::NotApplicable => {
            quote!(impl<__A> __dc::RaisableBy<__A> for #ident {})
        }
    };
    // `part_of` is checked once, in a constant at the user's token; the event's aggregate is
    // read through a gate keyed by that constant, so when it is not an aggregate, the gate's
    // type `[(); ERR]` is an error too and nothing that uses the event's aggregate (its apply
    // rule, its registration) reports the same mistake again.
    let part_of_check = quote_spanned! {part_of.span()=>
        const __PART_OF: usize = {
            let _ = <#part_of as __dc::Aggregate>::NAME;
            0
        };
    };
    // At the user's `part_of` token, so notes about the event's aggregate point there.
    let aggregate = crate::paths::respan(
        quote!(<[(); __PART_OF] as __dc::PartOfGate<#part_of>>::Aggregate),
        part_of.span(),
    );
    // Spanned at the event's name: an event of an event-sourced aggregate without an `#[apply]`
    // method is reported there.
    let apply = quote_spanned! {ident.span()=>
        const __APPLY: __dc::Option<&'static __dc::Applier> =
            <<Self::Aggregate as __dc::Aggregate>::Sourcing as __dc::ApplyRule<Self::Aggregate, Self>>::APPLY;
    };
    // One upcaster per older version, named at the event: a missing one is reported there.
    let upcasters = (1..version)
        .map(|from| quote_spanned!(ident.span()=> <#ident as __dc::UpcastFrom<#from>>::UPCAST));
    let registration = registration_static(
        &quote!(#ident),
        quote! {
            __dc::Registration::Event(__dc::EventRegistration {
                name: #name,
                module: ::core::module_path!(),
                version: <#ident as __dc::Event>::VERSION,
                type_id: __dc::TypeId::of::<#ident>,
                aggregate: __dc::TypeId::of::<<#ident as __dc::Event>::Aggregate>,
                aggregate_name: __dc::event_aggregate::<#ident>().0,
                category: __dc::event_aggregate::<#ident>().1,
                decode: __dc::decode_event::<#ident>,
                upcasters: &[#(#upcasters),*],
            })
        },
    );
    Parts {
        public: quote!(),
        private: quote! {
            #part_of_check
            impl __dc::Event for #ident {
                type Aggregate = #aggregate;
                const NAME: &'static str = #name;
                const VERSION: u32 = #version;
                #apply
            }
            #raisable
            #registration
        },
    }
}
