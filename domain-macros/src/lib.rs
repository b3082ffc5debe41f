//! Attribute macros of `domain-core`. Depend on `domain-core`, which re-exports them; this crate
//! only declares the entry points. Each family is split into parse -> model -> expand:
//! `structs/` (aggregate, entity, value object, event, command) and `handlers/`.

mod ctxt;
mod handlers;
mod options;
mod paths;
mod structs;
mod symbol;

#[cfg(test)]
mod snapshots;

use proc_macro::TokenStream;

use handlers::model::HandlerKind;
use structs::model::Kind;

/// Marks a struct as an aggregate: identity, version, pending events, builder, typed field
/// constants, validation and registration. Option: `stream_category = "..."`.
#[proc_macro_attribute]
pub fn aggregate(args: TokenStream, input: TokenStream) -> TokenStream {
    structs::derive(Kind::Aggregate, args.into(), input.into()).into()
}

/// Marks a struct as an entity inside an aggregate: `#[entity(part_of = Order)]`.
#[proc_macro_attribute]
pub fn entity(args: TokenStream, input: TokenStream) -> TokenStream {
    structs::derive(Kind::Entity, args.into(), input.into()).into()
}

/// Marks a struct as an immutable, validated value compared by value.
#[proc_macro_attribute]
pub fn value_object(args: TokenStream, input: TokenStream) -> TokenStream {
    structs::derive(Kind::ValueObject, args.into(), input.into()).into()
}

/// Marks a struct as an event of an aggregate: `#[event(part_of = Book, version = 1)]`.
#[proc_macro_attribute]
pub fn event(args: TokenStream, input: TokenStream) -> TokenStream {
    structs::derive(Kind::Event, args.into(), input.into()).into()
}

/// Marks a struct as a command for an aggregate: `#[command(part_of = Book)]`.
#[proc_macro_attribute]
pub fn command(args: TokenStream, input: TokenStream) -> TokenStream {
    structs::derive(Kind::Command, args.into(), input.into()).into()
}

/// Marks an impl block as the command handler of its `#[handle(Command)]` methods.
#[proc_macro_attribute]
pub fn command_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    handlers::derive(HandlerKind::Command, args.into(), input.into()).into()
}

/// Marks an impl block as an event handler:
/// `#[event_handler(part_of = Inventory, stream_category = "order", source_stream = "...")]`.
#[proc_macro_attribute]
pub fn event_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    handlers::derive(HandlerKind::Event, args.into(), input.into()).into()
}

/// Marks a handler method: `#[handle(MessageType)]`, or `#[handle($any)]` in event handlers.
/// Only meaningful inside `#[command_handler]` / `#[event_handler]` impls.
#[proc_macro_attribute]
pub fn handle(args: TokenStream, input: TokenStream) -> TokenStream {
    handlers::stray_handle(args.into(), input.into()).into()
}
