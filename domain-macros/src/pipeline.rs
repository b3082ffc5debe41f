//! The one driver every macro family runs (after serde_derive's shape): parse -> check ->
//! expand, and the pieces of output every family shares (the `const _` wrapper, the registration
//! static).
//!
//! On error the output is still the item plus what its uses need (thiserror's fallback): a
//! family's `parse` recovers from a bad option by dropping it, and its `check` replaces a missing
//! piece by a placeholder, so the model expands as usual next to the errors. One typo is then one
//! error, and code that uses the type later does not fail a second time for the same mistake.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

/// One macro family: how its input becomes a model, what is checked across the model, and the
/// code the model expands to.
pub trait Family: Copy {
    /// The parsed, checked and resolved model of one annotated item.
    type Model;
    /// Reads the item and its options into a model, recording problems in `cx`. `Err` carries
    /// the item to emit as it is, when it cannot be read as this family's item at all (a tuple
    /// struct, a generic type, a trait impl): nothing is generated for it.
    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<Self::Model, TokenStream>;
    /// Rules across options and fields; resolves what was left open (defaults, placeholders for
    /// a missing piece) so that `expand` decides nothing.
    fn check(self, cx: &Ctxt, model: &mut Self::Model);
    /// The generated code: the item itself and everything added to it.
    fn expand(self, model: &Self::Model) -> TokenStream;
}

/// Runs a family on one macro invocation: every recorded error is emitted next to the expansion.
pub fn run<F: Family>(family: F, args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::default();
    let output = match family.parse(&cx, args, input) {
        Ok(mut model) => {
            family.check(&cx, &mut model);
            family.expand(&model)
        }
        Err(item) => item,
    };
    match cx.check() {
        Ok(()) => output,
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote!(#output #errors)
        }
    }
}

/// Generated impls in an anonymous constant, with the runtime's private module imported as `__dc`:
/// their helper items stay out of the user's namespace, and paths stay short.
pub fn in_const(body: TokenStream) -> TokenStream {
    let import = crate::paths::import();
    quote! {
        const _: () = {
            #import
            #body
        };
    }
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

/// A helper attribute (`#[handle]`, `#[apply]`) reached on its own: the outer macro removes
/// these markers, so reaching this means the method is not inside that macro's impl block. The
/// item is kept, with `message` at the marker's arguments (or the marker itself).
pub fn stray_marker(args: TokenStream, input: TokenStream, message: &str) -> TokenStream {
    let span = args
        .clone()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span());
    let error = syn::Error::new(span, message).to_compile_error();
    quote!(#input #error)
}
