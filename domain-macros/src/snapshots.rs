//! Expansion snapshots: the pretty-printed output of each main macro on a representative input,
//! compared with the files in `snapshots/`. Run with `UPDATE_SNAPSHOTS=1` to rewrite them after an
//! intended change, then review the diff: it is what users see in `cargo expand`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::handlers::model::HandlerKind;
use crate::structs::model::Kind;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("expansion is valid Rust");
    prettyplease::unparse(&file)
}

fn assert_snapshot(name: &str, tokens: TokenStream) {
    let actual = pretty(tokens);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{name}.expanded.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}: run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "expansion of `{name}` changed; rerun with UPDATE_SNAPSHOTS=1 and review the diff.\n--- actual ---\n{actual}"
    );
}

#[test]
fn aggregate() {
    let input = quote! {
        pub struct Book {
            #[field(max_length = 200)]
            pub title: String,
            #[field(max_length = 13)]
            pub isbn: Option<String>,
            pub price: Option<Money>,
            #[field(min = 0, default = 10)]
            pub stock: i64,
        }
    };
    assert_snapshot(
        "aggregate",
        crate::pipeline::run(Kind::Aggregate, quote!(), input),
    );
}

#[test]
fn event() {
    let input = quote! {
        pub struct BookAdded {
            pub book_id: Identifier,
            #[field(max_length = 200)]
            pub title: String,
        }
    };
    assert_snapshot(
        "event",
        crate::pipeline::run(Kind::Event, quote!(part_of = Book), input),
    );
}

#[test]
fn command() {
    let input = quote! {
        pub struct AddBook {
            #[identifier]
            pub isbn: String,
            #[field(max_length = 200)]
            pub title: String,
            pub price: Money,
            pub tags: Vec<String>,
            #[field(min = 1, default = 1)]
            pub copies: i64,
            pub subtitle: Option<String>,
        }
    };
    assert_snapshot(
        "command",
        crate::pipeline::run(Kind::Command, quote!(part_of = Book), input),
    );
}

#[test]
fn command_handler() {
    let input = quote! {
        impl BookCommandHandler {
            #[handle(AddBook)]
            async fn add_book(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
                todo!()
            }
        }
    };
    assert_snapshot(
        "command_handler",
        crate::pipeline::run(HandlerKind::Command, quote!(part_of = Book), input),
    );
}

#[test]
fn event_handler() {
    let input = quote! {
        impl ManageInventory {
            #[handle(OrderShipped)]
            fn reduce_stock(&self, event: &OrderShipped, ctx: &mut Context) -> Result<()> {
                todo!()
            }
            #[handle($any)]
            async fn audit(&self, event: &EventEnvelope) {}
        }
    };
    assert_snapshot(
        "event_handler",
        crate::pipeline::run(
            HandlerKind::Event,
            quote!(part_of = Inventory, stream_category = "order"),
            input,
        ),
    );
}

#[test]
fn event_sourced_aggregate() {
    let input = quote! {
        pub struct Account {
            pub owner: String,
            #[field(default = 0)]
            pub balance: i64,
        }
    };
    assert_snapshot(
        "event_sourced_aggregate",
        crate::pipeline::run(Kind::Aggregate, quote!(event_sourced), input),
    );
}

#[test]
fn apply_events() {
    let input = quote! {
        impl Account {
            #[apply]
            fn deposited(&mut self, event: &Deposited) {
                self.balance += event.amount;
            }
        }
    };
    assert_snapshot(
        "apply_events",
        crate::pipeline::run(crate::appliers::Block::ApplyEvents, quote!(), input),
    );
}

#[test]
fn entity_handler() {
    let input = quote! {
        impl Order {
            #[on_command(when = Unpaid)]
            fn pay(&self, command: Pay) -> Paid {
                Paid { cents: command.cents }
            }

            #[on_command]
            fn note(&self, command: AddNote) -> Result<Option<Noted>> {
                Ok(Some(Noted { text: command.text }))
            }

            #[apply(become = Paid)]
            fn paid(&mut self, event: &Paid) {
                self.paid_cents += event.cents;
            }

            #[react(when = Unpaid, instance = order)]
            fn refunded(&self, event: &billing::Refunded) -> Noted {
                Noted { text: event.reason.clone() }
            }

            #[on_query(sql = "SELECT id, paid_cents FROM order_view WHERE id = %id")]
            fn paid_of(query: PaidOf) -> PaidCents;
        }
    };
    assert_snapshot(
        "entity_handler",
        crate::pipeline::run(crate::appliers::Block::EntityHandler, quote!(), input),
    );
}

#[test]
fn handler_states() {
    let input = quote! {
        pub enum OrderHandler { Unpaid, Paid, Shipped }
    };
    assert_snapshot(
        "handler_states",
        crate::pipeline::run(crate::states::HandlerStatesFamily, quote!(), input),
    );
}
