//! `#[on_command]` clauses: a `HandledCommand` impl per command.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::super::model::{ApplyModel, CommandClause};
use super::{accepts, raise};

/// `HandledCommand` for one clause's command: load the entity, ask its active handler, run the
/// clause, apply what it yields.
pub(super) fn command_impl(model: &ApplyModel, clause: &CommandClause) -> TokenStream {
    let self_ty = &model.self_ty;
    let command = &clause.command;
    let output = &clause.output;
    let method = &clause.method;
    let accepts = accepts(self_ty, clause.when.as_ref());
    let raise = raise(self_ty, output);
    let run = if clause.bad_signature {
        quote!(async move {
            let _ = (command, ctx);
            ::core::unreachable!("a clause with a compile error never runs")
        })
    } else {
        quote!(__dc::run_command_clause::<#self_ty, Self, #output>(
            command,
            ctx,
            #accepts,
            <#self_ty>::#method,
            #raise,
        ))
    };
    // Spanned at the user's command type: a second clause or handler for it is a conflicting
    // implementation reported there, and so is a command of another entity.
    quote_spanned! {command.span()=>
        impl __dc::HandledCommand for #command {
            type Handler = __dc::EntityHandlers<#self_ty>;
            type Output = __dc::Handled;
            #[allow(clippy::manual_async_fn)]
            fn handle(
                _: &Self::Handler,
                command: Self,
                ctx: &mut __dc::Context,
            ) -> impl ::core::future::Future<Output = __dc::Result<__dc::Handled>> + ::core::marker::Send {
                fn __own_command<C: __dc::Command<Aggregate = A>, A>() {}
                let _ = __own_command::<#command, #self_ty>;
                #run
            }
        }
    }
}
