//! `#[aggregate]`, `#[entity]`, `#[value_object]`, `#[event]`, `#[command]`: parse -> check ->
//! expand.

mod check;
mod expand;
pub mod model;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::pipeline::Family;
use model::{Kind, StructModel};

impl Family for Kind {
    type Model = StructModel;

    fn parse(
        self,
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<StructModel, TokenStream> {
        parse::parse(cx, self, args, input)
    }

    fn check(self, cx: &Ctxt, model: &mut StructModel) {
        check::check(cx, model);
    }

    fn expand(self, model: &StructModel) -> TokenStream {
        expand::expand(model)
    }
}
