//! Event routing: by stream category (a handler `part_of` one aggregate listening to another's
//! category), `$any`, `stream_category = "$all"`, and `source_stream` (the origin of the causal
//! chain: a command stream category such as `rt_order:command`, or an aggregate's category).

use std::sync::{Arc, Mutex};

use domain_core::prelude::*;

type Log = Arc<Mutex<Vec<String>>>;

fn record(log: &Log, entry: String) {
    log.lock().unwrap().push(entry);
}

#[aggregate]
pub struct RtOrder {
    pub customer: String,
}

#[aggregate]
pub struct RtShipment {
    pub order_id: Identifier,
}

/// Owns the cross-category listeners; never stored.
#[aggregate]
pub struct RtAudit {
    pub note: String,
}

#[event(part_of = RtOrder)]
pub struct RtOrderPlaced {
    pub order_id: Identifier,
}

#[event(part_of = RtOrder)]
pub struct RtOrderCancelled {
    pub order_id: Identifier,
}

#[event(part_of = RtShipment)]
pub struct RtShipmentCreated {
    pub order_id: Identifier,
}

#[command(part_of = RtOrder)]
pub struct RtPlaceOrder {
    pub customer: String,
}

#[command(part_of = RtOrder)]
pub struct RtCancelOrder {
    #[identifier]
    pub order_id: Identifier,
}

#[derive(Default)]
pub struct RtOrderCommands;

#[command_handler(part_of = RtOrder)]
impl RtOrderCommands {
    #[handle(RtPlaceOrder)]
    fn place(&self, command: RtPlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let mut order = RtOrder::builder().customer(command.customer).build()?;
        order.raise(RtOrderPlaced {
            order_id: order.id(),
        });
        let id = order.id();
        ctx.repository::<RtOrder>().add(order)?;
        Ok(id)
    }

    #[handle(RtCancelOrder)]
    async fn cancel(&self, command: RtCancelOrder, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<RtOrder>();
        let mut order = repo.get(&command.order_id).await?;
        order.raise(RtOrderCancelled {
            order_id: order.id(),
        });
        repo.add(order)
    }
}

/// Part of `RtShipment` but listens to the `rt_order` category: creates a shipment per order.
pub struct RtShipmentPolicy {
    log: Log,
}

#[event_handler(part_of = RtShipment, stream_category = "rt_order")]
impl RtShipmentPolicy {
    #[handle(RtOrderPlaced)]
    fn on_placed(&self, event: &RtOrderPlaced, ctx: &mut Context) -> Result<()> {
        record(&self.log, "policy:RtOrderPlaced".into());
        let mut shipment = RtShipment::builder()
            .order_id(event.order_id.clone())
            .build()?;
        shipment.raise(RtShipmentCreated {
            order_id: event.order_id.clone(),
        });
        ctx.repository::<RtShipment>().add(shipment)
    }
}

/// `$any` on its own aggregate's category (the default): every order event, no shipment event.
pub struct RtOrderAny {
    log: Log,
}

#[event_handler(part_of = RtOrder)]
impl RtOrderAny {
    #[handle($any)]
    fn any(&self, event: &EventEnvelope) {
        record(&self.log, format!("order_any:{}", event.event_name()));
    }
}

/// A typed method takes precedence over `$any` in the same handler.
pub struct RtOrderMixed {
    log: Log,
}

#[event_handler(part_of = RtOrder)]
impl RtOrderMixed {
    #[handle(RtOrderPlaced)]
    fn placed(&self, _event: &RtOrderPlaced) {
        record(&self.log, "mixed_typed:RtOrderPlaced".into());
    }

    #[handle($any)]
    fn rest(&self, event: &EventEnvelope, _ctx: &mut Context) -> Result<()> {
        record(&self.log, format!("mixed_any:{}", event.event_name()));
        Ok(())
    }
}

/// `$all` + `$any`: every event of every category.
pub struct RtEverything {
    log: Log,
}

#[event_handler(part_of = RtAudit, stream_category = "$all")]
impl RtEverything {
    #[handle($any)]
    fn any(&self, event: &EventEnvelope) {
        record(
            &self.log,
            format!("all:{}:{}", event.event_name(), event.metadata().category()),
        );
    }
}

/// `$all` with typed methods: only those events, whatever their category.
pub struct RtAllTyped {
    log: Log,
}

#[event_handler(part_of = RtAudit, stream_category = "$all")]
impl RtAllTyped {
    #[handle(RtShipmentCreated)]
    fn shipment(&self, _event: &RtShipmentCreated) {
        record(&self.log, "all_typed:RtShipmentCreated".into());
    }

    #[handle(RtOrderCancelled)]
    fn cancelled(&self, _event: &RtOrderCancelled) {
        record(&self.log, "all_typed:RtOrderCancelled".into());
    }
}

/// Default category of its aggregate, `$any`: every shipment event.
pub struct RtShipmentAny {
    log: Log,
}

#[event_handler(part_of = RtShipment)]
impl RtShipmentAny {
    #[handle($any)]
    fn any(&self, event: &EventEnvelope) {
        record(&self.log, format!("shipment_any:{}", event.event_name()));
    }
}

/// Shipment events whose chain started with an `RtOrder` command.
pub struct RtShipmentFromOrderCommands {
    log: Log,
}

#[event_handler(part_of = RtShipment, source_stream = "rt_order:command")]
impl RtShipmentFromOrderCommands {
    #[handle(RtShipmentCreated)]
    fn created(&self, _event: &RtShipmentCreated) {
        record(&self.log, "from_order_cmd:RtShipmentCreated".into());
    }
}

/// Order events whose chain started with an `RtOrder` command (not a plain repository add).
pub struct RtOrderFromOrderCommands {
    log: Log,
}

#[event_handler(part_of = RtOrder, source_stream = "rt_order:command")]
impl RtOrderFromOrderCommands {
    #[handle($any)]
    fn any(&self, event: &EventEnvelope) {
        record(
            &self.log,
            format!("order_from_order_cmd:{}", event.event_name()),
        );
    }
}

/// Shipment events whose chain started at an `rt_order` event stream (a plain repository add of
/// an order whose event caused the shipment).
pub struct RtShipmentFromOrderStream {
    log: Log,
}

#[event_handler(part_of = RtShipment, source_stream = "rt_order")]
impl RtShipmentFromOrderStream {
    #[handle(RtShipmentCreated)]
    fn created(&self, _event: &RtShipmentCreated) {
        record(&self.log, "from_order_stream:RtShipmentCreated".into());
    }
}

fn domain() -> (Domain, Log) {
    let log = Log::default();
    let domain = Domain::builder("Routing")
        .handler(RtShipmentPolicy { log: log.clone() })
        .handler(RtOrderAny { log: log.clone() })
        .handler(RtOrderMixed { log: log.clone() })
        .handler(RtEverything { log: log.clone() })
        .handler(RtAllTyped { log: log.clone() })
        .handler(RtShipmentAny { log: log.clone() })
        .handler(RtShipmentFromOrderCommands { log: log.clone() })
        .handler(RtOrderFromOrderCommands { log: log.clone() })
        .handler(RtShipmentFromOrderStream { log: log.clone() })
        .build()
        .expect("the routing domain is consistent");
    (domain, log)
}

fn sorted(log: &Log) -> Vec<String> {
    let mut entries = log.lock().unwrap().clone();
    entries.sort();
    entries
}

fn expected(entries: &[&str]) -> Vec<String> {
    let mut entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
    entries.sort();
    entries
}

#[tokio::test]
async fn command_chain_is_routed_by_category_any_all_and_source_stream() {
    let (domain, log) = domain();
    let order_id = domain
        .process(RtPlaceOrder {
            customer: "Ann".into(),
        })
        .await
        .unwrap();

    assert_eq!(
        sorted(&log),
        expected(&[
            // RtOrderPlaced (category rt_order, origin rt_order:command-...)
            "policy:RtOrderPlaced",
            "order_any:RtOrderPlaced",
            "mixed_typed:RtOrderPlaced",
            "all:RtOrderPlaced:rt_order",
            "order_from_order_cmd:RtOrderPlaced",
            // RtShipmentCreated (category rt_shipment, same origin)
            "all:RtShipmentCreated:rt_shipment",
            "all_typed:RtShipmentCreated",
            "shipment_any:RtShipmentCreated",
            "from_order_cmd:RtShipmentCreated",
        ]),
        "typed beats $any in the same handler; $any stays in its category; \
         source_stream = \"rt_order\" does not match a chain started by a command"
    );

    // The shipment created by the cross-category handler is stored, and its event is in its own
    // category's stream.
    let shipment = domain
        .repository::<RtShipment>()
        .find_by(RtShipment::ORDER_ID.eq(order_id.clone()))
        .await
        .unwrap();
    let events = domain
        .event_store()
        .read_stream(&format!("rt_shipment-{}", shipment.id()))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].is::<RtShipmentCreated>());
    let origin = events[0].metadata().origin_stream.as_deref().unwrap();
    assert!(
        origin.starts_with("rt_order:command-"),
        "origin of a command chain is the command stream, got {origin}"
    );
}

#[tokio::test]
async fn plain_repository_add_is_not_a_command_chain() {
    let (domain, log) = domain();
    let mut order = RtOrder::builder().customer("Bob").build().unwrap();
    let order_id = order.id();
    order.raise(RtOrderPlaced {
        order_id: order_id.clone(),
    });
    domain.repository::<RtOrder>().add(order).await.unwrap();

    assert_eq!(
        sorted(&log),
        expected(&[
            "policy:RtOrderPlaced",
            "order_any:RtOrderPlaced",
            "mixed_typed:RtOrderPlaced",
            "all:RtOrderPlaced:rt_order",
            // no order_from_order_cmd: the chain did not start with a command
            "all:RtShipmentCreated:rt_shipment",
            "all_typed:RtShipmentCreated",
            "shipment_any:RtShipmentCreated",
            // the chain started at the order's event stream, category rt_order
            "from_order_stream:RtShipmentCreated",
        ])
    );

    let placed = domain
        .event_store()
        .read_stream(&format!("rt_order-{order_id}"))
        .await
        .unwrap();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].metadata().origin_stream, None);
    let shipment_events = domain
        .event_store()
        .read_category("rt_shipment", 0, 10)
        .await
        .unwrap();
    assert_eq!(shipment_events.len(), 1);
    assert_eq!(
        shipment_events[0].metadata().origin_stream.as_deref(),
        Some(format!("rt_order-{order_id}").as_str()),
        "an event caused by an event outside any command has the first event's stream as origin"
    );
}

#[tokio::test]
async fn any_handler_gets_untyped_events_and_all_typed_gets_only_its_types() {
    let (domain, log) = domain();
    let order_id = domain
        .process(RtPlaceOrder {
            customer: "Cy".into(),
        })
        .await
        .unwrap();
    log.lock().unwrap().clear();

    domain
        .process(RtCancelOrder {
            order_id: order_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        sorted(&log),
        expected(&[
            "order_any:RtOrderCancelled",
            "mixed_any:RtOrderCancelled",
            "all:RtOrderCancelled:rt_order",
            "all_typed:RtOrderCancelled",
            "order_from_order_cmd:RtOrderCancelled",
        ]),
        "the shipment policy handles only RtOrderPlaced"
    );

    // A command with an `#[identifier]` has the targeted aggregate's command stream.
    let stream = domain
        .event_store()
        .read_stream(&format!("rt_order-{order_id}"))
        .await
        .unwrap();
    assert_eq!(stream.len(), 2);
    assert_eq!(
        stream[1].metadata().origin_stream.as_deref(),
        Some(format!("rt_order:command-{order_id}").as_str())
    );
}

#[tokio::test]
async fn events_of_another_category_do_not_reach_category_handlers() {
    let (domain, log) = domain();
    let mut shipment = RtShipment::builder()
        .order_id(Identifier::new())
        .build()
        .unwrap();
    shipment.raise(RtShipmentCreated {
        order_id: shipment.order_id.clone(),
    });
    domain
        .repository::<RtShipment>()
        .add(shipment)
        .await
        .unwrap();

    assert_eq!(
        sorted(&log),
        expected(&[
            "all:RtShipmentCreated:rt_shipment",
            "all_typed:RtShipmentCreated",
            "shipment_any:RtShipmentCreated",
            // neither source_stream handler: the chain has no origin
        ])
    );
    assert_eq!(
        domain
            .repository::<RtOrder>()
            .query()
            .count()
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn aggregates_without_events_dispatch_nothing() {
    let (domain, log) = domain();
    let order = RtOrder::builder().customer("Dee").build().unwrap();
    domain.repository::<RtOrder>().add(order).await.unwrap();
    assert!(log.lock().unwrap().is_empty());
    assert_eq!(domain.event_store().last_position().await.unwrap(), 0);
}
