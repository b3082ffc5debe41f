//! Runtime paths used by generated code: everything goes through `::domain_core::__private`,
//! imported once per expansion as `__dc`, so users depend on `domain-core` only.

use proc_macro2::TokenStream;
use quote::quote;

/// The `use` line each expansion starts its `const _: () = { ... };` block with.
pub fn import() -> TokenStream {
    quote!(
        use ::domain_core::__private as __dc;
    )
}

/// The absolute path of the runtime's private module, for items outside the const block.
pub fn private() -> TokenStream {
    quote!(::domain_core::__private)
}
