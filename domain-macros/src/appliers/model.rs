//! The model of an `#[apply_events]` impl block, and the rule across its methods.

use quote::ToTokens;
use syn::{Ident, ItemImpl, Type};

use crate::ctxt::Ctxt;

pub struct ApplyModel {
    /// The impl block with the `#[apply]` markers removed.
    pub item: ItemImpl,
    pub self_ty: Type,
    pub methods: Vec<ApplyMethod>,
}

pub struct ApplyMethod {
    pub method: Ident,
    /// The applied event type, as the user spelled it (its tokens carry the user's spans).
    pub event: Type,
    /// A second method for the same event (already an error): nothing is generated for it.
    pub duplicate: bool,
    /// Its signature is wrong (already an error): the event still gets an `Apply` impl, which
    /// never runs, so it is not reported a second time as lacking one.
    pub bad_signature: bool,
}

/// One method per event: two would leave the replayed state to whichever ran last.
pub fn check(cx: &Ctxt, model: &mut ApplyModel) {
    let mut seen: Vec<String> = Vec::new();
    for method in &mut model.methods {
        let key = method.event.to_token_stream().to_string();
        if seen.contains(&key) {
            cx.error_spanned_by(
                &method.event,
                format!("a second `#[apply]` method for `{key}`: an event changes the state in one method"),
            );
            method.duplicate = true;
        } else {
            seen.push(key);
        }
    }
}
