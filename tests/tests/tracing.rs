//! Tracing: a span per command and per delivery, nested, carrying the message's identity. The
//! library installs no subscriber; this test installs a minimal recording one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use domain_core::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};

#[aggregate]
pub struct TrOrder {
    pub customer: String,
}

#[event(part_of = TrOrder)]
pub struct TrOrderPlaced {
    pub customer: String,
}

#[command(part_of = TrOrder)]
pub struct TrPlaceOrder {
    pub customer: String,
}

#[derive(Default)]
pub struct TrCommands;

#[command_handler(part_of = TrOrder)]
impl TrCommands {
    #[handle(TrPlaceOrder)]
    fn place(&self, command: TrPlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let mut order = TrOrder::builder()
            .customer(command.customer.clone())
            .build()?;
        order.raise(TrOrderPlaced {
            customer: command.customer,
        });
        let id = order.id();
        ctx.repository::<TrOrder>().add(order)?;
        Ok(id)
    }
}

#[derive(Default)]
pub struct TrMailer;

#[event_handler(part_of = TrOrder)]
impl TrMailer {
    #[handle(TrOrderPlaced)]
    fn on_placed(&self, _event: &TrOrderPlaced) -> Result<()> {
        Err(Error::rule("smtp down"))
    }
}

/// A span as recorded: name, fields, parent.
#[derive(Debug, Clone)]
struct Recorded {
    name: &'static str,
    fields: BTreeMap<String, String>,
    parent: Option<u64>,
}

#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<BTreeMap<u64, Recorded>>,
    /// Entered spans (the runtime is single-threaded here).
    stack: Mutex<Vec<u64>>,
    warnings: Mutex<Vec<String>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

/// The subscriber handed to tracing; the test keeps the other handle to read what it recorded.
struct Shared(Arc<Recorder>);

impl Subscriber for Shared {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = match attrs.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if attrs.is_contextual() => self.0.stack.lock().unwrap().last().copied(),
            None => None,
        };
        let name = attrs.metadata().name();
        self.0.spans.lock().unwrap().insert(
            id,
            Recorded {
                name,
                fields,
                parent,
            },
        );
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut fields = BTreeMap::new();
            event.record(&mut Fields(&mut fields));
            self.0.warnings.lock().unwrap().push(format!("{fields:?}"));
        }
    }
    fn enter(&self, span: &Id) {
        self.0.stack.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, _: &Id) {
        self.0.stack.lock().unwrap().pop();
    }
}

#[test]
fn commands_and_deliveries_are_nested_spans_with_the_message_identity() {
    let recorder = Arc::new(Recorder::default());
    let processed = tracing::subscriber::with_default(Shared(recorder.clone()), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let domain = Domain::builder("Tracing").build().unwrap();
            domain
                .process_with(
                    TrPlaceOrder {
                        customer: "ann".into(),
                    },
                    domain_core::CommandOptions::new(),
                )
                .await
                .unwrap()
        })
    });
    let spans = recorder.spans.lock().unwrap().clone();
    let (command_id, command) = spans
        .iter()
        .find(|(_, s)| s.name == "domain.command")
        .expect("a command span");
    assert_eq!(command.fields["type_name"], "Tracing.TrPlaceOrder.v1");
    assert_eq!(
        command.fields["message_id"],
        processed.command_id.to_string()
    );
    assert_eq!(
        command.fields["correlation_id"],
        processed.correlation_id.to_string()
    );
    let delivery = spans
        .values()
        .find(|s| s.name == "domain.delivery")
        .expect("a delivery span");
    assert_eq!(
        delivery.parent,
        Some(*command_id),
        "nested in the command's span"
    );
    assert_eq!(delivery.fields["handler"], "tracing::TrMailer");
    assert_eq!(delivery.fields["type_name"], "Tracing.TrOrderPlaced.v1");
    assert_eq!(delivery.fields["global_position"], "1");
    assert_eq!(
        delivery.fields["causation_id"],
        format!("Some({})", processed.command_id)
    );
    assert_eq!(
        delivery.fields["stream"],
        format!("tr_order-{}", processed.output)
    );
    // The failed delivery is a warning inside it.
    let warnings = recorder.warnings.lock().unwrap().clone();
    assert!(
        warnings.iter().any(|w| w.contains("smtp down")),
        "{warnings:?}"
    );
}
