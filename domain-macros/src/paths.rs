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

/// `tokens` with every token at `span`, so an error about them points at the user's token there.
pub fn respan(
    tokens: proc_macro2::TokenStream,
    span: proc_macro2::Span,
) -> proc_macro2::TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
