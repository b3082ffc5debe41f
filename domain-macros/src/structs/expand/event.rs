//! `#[event]`: the `Event` impl, which aggregate may raise it, and the registration (with the
//! decoder the stores use to read it back by name).

use quote::{quote, quote_spanned};

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
    // Spanned at the event's name: an event of an event-sourced aggregate without an `#[apply]`
    // method is reported there. Through `Self::Aggregate`, so a `part_of` that is not an
    // aggregate is reported once, by `type Aggregate`.
    let apply = quote_spanned! {ident.span()=>
        const __APPLY: __dc::Option<__dc::ApplyFn> =
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
            impl __dc::Event for #ident {
                type Aggregate = #part_of;
                const NAME: &'static str = #name;
                const VERSION: u32 = #version;
                #apply
            }
            #raisable
            #registration
        },
    }
}
