//! `#[on_query]` clauses: a `HandledQuery` impl per query, answering in Rust or in SQL.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{Answer, ApplyModel, QueryClause, SqlPiece};
use crate::paths::respan;

/// `HandledQuery` for one query clause: its Rust body, or its SQL with each parameter bound.
pub(super) fn query_impl(model: &ApplyModel, clause: &QueryClause) -> TokenStream {
    let self_ty = &model.self_ty;
    let query = &clause.query;
    let output = &clause.output;
    let method = &clause.method;
    let answer = if clause.bad_signature {
        quote!(async move {
            let _ = (query, ctx);
            ::core::unreachable!("a clause with a compile error never runs")
        })
    } else {
        match &clause.answer {
            Answer::Rust { is_async } => {
                let await_ = is_async.then(|| quote!(.await));
                // At the user's return type: one that is not `Result<the query's result>` is
                // reported there.
                let call = respan(
                    quote!(<#self_ty>::#method(query, ctx) #await_),
                    output.span(),
                );
                quote_spanned!(output.span()=> async move { #call })
            }
            Answer::Sql { literal, parts } => {
                let pieces = parts.iter().map(|part| match part {
                    SqlPiece::Text(text) => quote!(__dc::SqlPart::Text(#text)),
                    SqlPiece::Param(name) => quote!(__dc::SqlPart::Param(#name)),
                });
                // Each parameter names a field of the query: a missing one is reported at the
                // SQL text, naming the field.
                let fields = parts.iter().filter_map(|part| match part {
                    SqlPiece::Param(name) => {
                        let field = syn::Ident::new(name, literal.span());
                        Some(quote_spanned!(literal.span()=> let _ = &query.#field;))
                    }
                    SqlPiece::Text(_) => None,
                });
                // The declared return type is the query's result (a mismatch is reported at the
                // user's type), and decodes from rows.
                let answers = quote_spanned! {output.span()=>
                    fn __answers<Q: __dc::QueryMessage<Result = R>, R: __dc::FromRows>() {}
                    let _ = __answers::<#query, #output>;
                };
                quote!({
                    #answers
                    #[allow(clippy::no_effect)]
                    let _ = |query: &#query| { #(#fields)* };
                    __dc::run_sql_query::<Self>(query, ctx, &[#(#pieces),*])
                })
            }
        }
    };
    // Spanned at the user's query type: a second handler for it is a conflicting implementation
    // reported there.
    quote_spanned! {query.span()=>
        impl __dc::HandledQuery for #query {
            #[allow(clippy::manual_async_fn)]
            fn handle(
                query: Self,
                ctx: __dc::QueryContext<'_>,
            ) -> impl ::core::future::Future<Output = __dc::Result<Self::Result>> + ::core::marker::Send + '_ {
                #answer
            }
        }
    }
}
