//! Parsing of macro options (`part_of = Order, stream_category = "order"`): unknown keys and
//! duplicates are errors that list the valid keys.

use syn::{LitInt, LitStr, Path};

use crate::ctxt::Ctxt;

/// The options one macro accepts, parsed.
#[derive(Default)]
pub struct MacroOptions {
    pub part_of: Option<Path>,
    pub stream_category: Option<LitStr>,
    pub source_stream: Option<LitStr>,
    pub version: Option<LitInt>,
    /// `event_sourced`, a flag: where it was written.
    pub event_sourced: Option<proc_macro2::Span>,
    pub snapshot_every: Option<LitInt>,
    /// `states = OrderHandler`: the entity's handler states.
    pub states: Option<Path>,
    /// `result = JustGotIt`: what a query is answered with.
    pub result: Option<syn::Type>,
}

/// Parses `args` for `macro_name`, accepting only the keys in `allowed`.
pub fn parse_macro_options(
    cx: &Ctxt,
    macro_name: &str,
    allowed: &[&str],
    args: proc_macro2::TokenStream,
) -> MacroOptions {
    let mut options = MacroOptions::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        // Unknown and duplicate keys are recorded and their value skipped, so parsing goes on:
        // a `part_of` after a typo is still read (no cascading "needs `part_of`").
        let present = match key.as_str() {
            _ if !allowed.contains(&key.as_str()) => {
                cx.syn_error(meta.error(unknown_key(macro_name, &key, allowed)));
                None
            }
            crate::symbol::PART_OF => Some(options.part_of.is_some()),
            crate::symbol::STREAM_CATEGORY => Some(options.stream_category.is_some()),
            crate::symbol::SOURCE_STREAM => Some(options.source_stream.is_some()),
            crate::symbol::VERSION => Some(options.version.is_some()),
            crate::symbol::EVENT_SOURCED => Some(options.event_sourced.is_some()),
            crate::symbol::SNAPSHOT_EVERY => Some(options.snapshot_every.is_some()),
            crate::symbol::STATES => Some(options.states.is_some()),
            crate::symbol::RESULT => Some(options.result.is_some()),
            _ => unreachable!("every allowed key is matched above"),
        };
        if present != Some(false) {
            if present == Some(true) {
                cx.syn_error(meta.error(format!("duplicate option `{key}` in `#[{macro_name}]`")));
            }
            if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _skipped;
                syn::parenthesized!(_skipped in meta.input);
            }
            return Ok(());
        }
        match key.as_str() {
            crate::symbol::PART_OF => options.part_of = Some(meta.value()?.parse()?),
            crate::symbol::STREAM_CATEGORY => {
                options.stream_category = Some(meta.value()?.parse()?)
            }
            crate::symbol::SOURCE_STREAM => options.source_stream = Some(meta.value()?.parse()?),
            crate::symbol::VERSION => options.version = Some(meta.value()?.parse()?),
            crate::symbol::SNAPSHOT_EVERY => options.snapshot_every = Some(meta.value()?.parse()?),
            crate::symbol::STATES => options.states = Some(meta.value()?.parse()?),
            crate::symbol::RESULT => options.result = Some(meta.value()?.parse()?),
            crate::symbol::EVENT_SOURCED => {
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    return Err(meta
                        .error("`event_sourced` is a flag: write `#[aggregate(event_sourced)]`"));
                }
                options.event_sourced = Some(syn::spanned::Spanned::span(&meta.path));
            }
            _ => unreachable!("every allowed key is matched above"),
        }
        Ok(())
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(error);
    }
    options
}

/// "unknown option `x` for `#[m]`; expected one of: `a`, `b`"
pub fn unknown_key(macro_name: &str, key: &str, allowed: &[&str]) -> String {
    if allowed.is_empty() {
        return format!("`#[{macro_name}]` takes no options (found `{key}`)");
    }
    let list: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
    format!(
        "unknown option `{key}` for `#[{macro_name}]`; expected one of: {}",
        list.join(", ")
    )
}

/// Checks a stream-category literal: `$all`, or lowercase snake_case segments joined by `:` or `.`
/// (no `-`, which separates category from id in stream names).
pub fn check_category(cx: &Ctxt, literal: &LitStr, allow_all: bool) {
    let value = literal.value();
    if allow_all && value == crate::symbol::ALL {
        return;
    }
    let valid_char =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':' || c == '.';
    let starts_well = value.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !starts_well || !value.chars().all(valid_char) {
        let all = if allow_all {
            ", or \"$all\" for every category"
        } else {
            ""
        };
        cx.error_spanned_by(
            literal,
            format!(
                "invalid stream category {value:?}: use lowercase snake_case like \"order\" or \"shop:order\" (letters, digits, `_`, `:`, `.`; no `-`, which separates category from id){all}"
            ),
        );
    }
}
