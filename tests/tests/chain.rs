//! Causal chains: breadth-first dispatch order, and the metadata every message carries
//! (ids, correlation, causation, origin, stream names, per-stream and global positions, type
//! names and schema versions). Also `ctx.process` from an event handler.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use domain_core::prelude::*;

/// One delivery seen by a handler: who, what, and the metadata of the message it got.
#[derive(Clone, Debug)]
struct Seen {
    who: &'static str,
    what: &'static str,
    meta: Metadata,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn record(log: &Log, who: &'static str, what: &'static str, ctx: &Context) {
    log.lock().unwrap().push(Seen {
        who,
        what,
        meta: ctx.metadata().clone(),
    });
}

#[aggregate]
pub struct Relay {
    pub label: String,
    #[has_many]
    pub legs: Vec<Leg>,
}

#[entity(part_of = Relay)]
pub struct Leg {
    pub name: String,
}

#[aggregate(stream_category = "chain_custom")]
pub struct Beacon {
    pub label: String,
}

#[event(part_of = Relay)]
pub struct Started {
    pub relay_id: Identifier,
}

#[event(part_of = Relay)]
pub struct Branched {
    pub from: Identifier,
}

#[event(part_of = Relay)]
pub struct Forked {
    pub from: Identifier,
}

#[event(part_of = Relay)]
pub struct Deepened {
    pub from: Identifier,
}

#[event(part_of = Relay)]
pub struct Noted {
    pub text: String,
}

#[event(part_of = Relay)]
pub struct LegAdded {
    pub name: String,
}

#[event(part_of = Relay, version = 2)]
pub struct RelayRenamed {
    pub label: String,
}

/// Version 1 had the same fields.
#[upcaster(RelayRenamed, from = 1)]
fn relay_renamed_v1(old: JsonValue) -> JsonValue {
    old
}

#[event(part_of = Relay)]
pub struct Escalated {
    pub label: String,
}

#[event(part_of = Relay)]
pub struct Acknowledged {
    pub label: String,
}

#[event(part_of = Beacon)]
pub struct BeaconLit {
    pub label: String,
}

#[command(part_of = Relay)]
pub struct StartRelay {
    pub label: String,
}

#[command(part_of = Relay)]
pub struct Escalate {
    pub label: String,
}

#[command(part_of = Beacon)]
pub struct LightBeacon {
    #[identifier]
    pub beacon_id: Identifier,
}

fn new_relay(label: &str) -> Relay {
    Relay::builder().label(label).build().unwrap()
}

pub struct RelayCommands {
    log: Log,
}

#[command_handler(part_of = Relay)]
impl RelayCommands {
    #[handle(StartRelay)]
    fn start(&self, command: StartRelay, ctx: &mut Context) -> Result<Identifier> {
        record(&self.log, "RelayCommands", "StartRelay", ctx);
        let mut relay = new_relay(&command.label);
        relay.raise(Started {
            relay_id: relay.id(),
        });
        let id = relay.id();
        ctx.repository::<Relay>().add(relay)?;
        Ok(id)
    }

    #[handle(Escalate)]
    fn escalate(&self, command: Escalate, ctx: &mut Context) -> Result<Identifier> {
        record(&self.log, "RelayCommands", "Escalate", ctx);
        let mut relay = new_relay(&command.label);
        relay.raise(Escalated {
            label: command.label,
        });
        let id = relay.id();
        ctx.repository::<Relay>().add(relay)?;
        Ok(id)
    }
}

pub struct BeaconCommands {
    log: Log,
}

#[command_handler(part_of = Beacon)]
impl BeaconCommands {
    #[handle(LightBeacon)]
    fn light(&self, command: LightBeacon, ctx: &mut Context) -> Result<()> {
        record(&self.log, "BeaconCommands", "LightBeacon", ctx);
        let mut beacon = Beacon::builder()
            .id(command.beacon_id)
            .label("lit")
            .build()?;
        beacon.raise(BeaconLit {
            label: "lit".into(),
        });
        ctx.repository::<Beacon>().add(beacon)
    }
}

/// Raises the event `make(new relay id)` on a new relay, in the handler's unit of work.
fn raise_on_new_relay<E: Event + domain_core::RaisableBy<Relay>>(
    ctx: &Context,
    make: impl FnOnce(Identifier) -> E,
) -> Result<()> {
    let mut relay = new_relay("child");
    let event = make(relay.id());
    relay.raise(event);
    ctx.repository::<Relay>().add(relay)
}

// Handlers are routed in name order; `H1..H5` make the expected order explicit.

pub struct H1Branch {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl H1Branch {
    #[handle(Started)]
    fn on_started(&self, _event: &Started, ctx: &mut Context) -> Result<()> {
        record(&self.log, "H1Branch", "Started", ctx);
        raise_on_new_relay(ctx, |from| Branched { from })
    }
}

pub struct H2Fork {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl H2Fork {
    #[handle(Started)]
    fn on_started(&self, _event: &Started, ctx: &mut Context) -> Result<()> {
        record(&self.log, "H2Fork", "Started", ctx);
        raise_on_new_relay(ctx, |from| Forked { from })
    }
}

pub struct H3Deepen {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl H3Deepen {
    #[handle(Branched)]
    fn on_branched(&self, _event: &Branched, ctx: &mut Context) -> Result<()> {
        record(&self.log, "H3Deepen", "Branched", ctx);
        raise_on_new_relay(ctx, |from| Deepened { from })
    }
}

pub struct H4Leaf {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl H4Leaf {
    #[handle(Forked)]
    fn on_forked(&self, _event: &Forked, ctx: &mut Context) -> Result<()> {
        record(&self.log, "H4Leaf", "Forked", ctx);
        Ok(())
    }
}

pub struct H5Leaf {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl H5Leaf {
    #[handle(Deepened)]
    fn on_deepened(&self, _event: &Deepened, ctx: &mut Context) -> Result<()> {
        record(&self.log, "H5Leaf", "Deepened", ctx);
        Ok(())
    }
}

/// Processes a further command from an event handler, then raises its own event.
pub struct Escalator {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl Escalator {
    #[handle(Escalated)]
    async fn on_escalated(&self, event: &Escalated, ctx: &mut Context) -> Result<()> {
        record(&self.log, "Escalator", "Escalated", ctx);
        ctx.process(LightBeacon {
            beacon_id: Identifier::from(format!("beacon_{}", event.label)),
        })
        .await?;
        let label = event.label.clone();
        raise_on_new_relay(ctx, |_| Acknowledged { label })
    }
}

pub struct AckWatcher {
    log: Log,
}

#[event_handler(part_of = Relay)]
impl AckWatcher {
    #[handle(Acknowledged)]
    fn on_ack(&self, _event: &Acknowledged, ctx: &mut Context) -> Result<()> {
        record(&self.log, "AckWatcher", "Acknowledged", ctx);
        Ok(())
    }
}

pub struct BeaconWatcher {
    log: Log,
}

#[event_handler(part_of = Beacon)]
impl BeaconWatcher {
    #[handle(BeaconLit)]
    fn on_lit(&self, _event: &BeaconLit, ctx: &mut Context) -> Result<()> {
        record(&self.log, "BeaconWatcher", "BeaconLit", ctx);
        Ok(())
    }
}

fn domain() -> (Domain, Log) {
    let log = Log::default();
    let domain = Domain::builder("Chain")
        .handler(RelayCommands { log: log.clone() })
        .handler(BeaconCommands { log: log.clone() })
        .handler(H1Branch { log: log.clone() })
        .handler(H2Fork { log: log.clone() })
        .handler(H3Deepen { log: log.clone() })
        .handler(H4Leaf { log: log.clone() })
        .handler(H5Leaf { log: log.clone() })
        .handler(Escalator { log: log.clone() })
        .handler(AckWatcher { log: log.clone() })
        .handler(BeaconWatcher { log: log.clone() })
        .build()
        .expect("the chain domain is consistent");
    (domain, log)
}

fn take(log: &Log) -> Vec<Seen> {
    std::mem::take(&mut *log.lock().unwrap())
}

fn find<'a>(seen: &'a [Seen], who: &str) -> &'a Seen {
    seen.iter()
        .find(|s| s.who == who)
        .unwrap_or_else(|| panic!("{who} did not run; log: {seen:?}"))
}

#[tokio::test]
async fn dispatch_is_breadth_first() {
    let (domain, log) = domain();
    domain
        .process(StartRelay {
            label: "root".into(),
        })
        .await
        .unwrap();
    let order: Vec<String> = take(&log)
        .iter()
        .map(|s| format!("{}->{}", s.what, s.who))
        .collect();
    // Depth-first would be Started->H1, Branched->H3, Deepened->H5, Started->H2, Forked->H4.
    assert_eq!(
        order,
        [
            "StartRelay->RelayCommands",
            "Started->H1Branch",
            "Started->H2Fork",
            "Branched->H3Deepen",
            "Forked->H4Leaf",
            "Deepened->H5Leaf",
        ]
    );
}

#[tokio::test]
async fn metadata_links_every_message_of_a_chain() {
    let (domain, log) = domain();
    let relay_id = domain
        .process(StartRelay {
            label: "root".into(),
        })
        .await
        .unwrap();
    let seen = take(&log);
    let command = &find(&seen, "RelayCommands").meta;
    let started = &find(&seen, "H1Branch").meta;
    let started_again = &find(&seen, "H2Fork").meta;
    let branched = &find(&seen, "H3Deepen").meta;
    let forked = &find(&seen, "H4Leaf").meta;
    let deepened = &find(&seen, "H5Leaf").meta;

    // The command: starts the chain, has its own command stream.
    assert_eq!(command.kind, domain_core::MessageKind::Command);
    assert_eq!(&*command.type_name, "Chain.StartRelay.v1");
    assert!(
        command.stream.starts_with("relay:command-"),
        "command stream: {}",
        command.stream
    );
    assert_eq!(command.category(), "relay:command");
    assert_eq!(command.correlation_id, command.id);
    assert_eq!(command.causation_id, None);
    assert_eq!(command.origin_stream.as_deref(), Some(&*command.stream));

    // The first event: in the relay's stream, caused by the command.
    assert_eq!(started.kind, domain_core::MessageKind::Event);
    assert_eq!(&*started.type_name, "Chain.Started.v1");
    assert_eq!(&*started.stream, format!("relay-{relay_id}"));
    assert_eq!(started.category(), "relay");
    assert_eq!(started.stream_position, 1);
    assert_eq!(started.global_position, 1);
    assert_eq!(started.schema_version, 1);
    assert_eq!(started.correlation_id, command.id);
    assert_eq!(started.causation_id, Some(command.id));
    assert_eq!(started.origin_stream, command.origin_stream);
    assert_eq!(
        started.id, started_again.id,
        "both handlers of one event see the same message"
    );

    // Events raised by handlers: caused by the event they handled, same correlation and origin.
    for (child, parent, type_name) in [
        (branched, started, "Chain.Branched.v1"),
        (forked, started, "Chain.Forked.v1"),
        (deepened, branched, "Chain.Deepened.v1"),
    ] {
        assert_eq!(&*child.type_name, type_name);
        assert_eq!(child.correlation_id, command.id, "{type_name}");
        assert_eq!(child.causation_id, Some(parent.id), "{type_name}");
        assert_eq!(child.origin_stream, command.origin_stream, "{type_name}");
        assert_eq!(child.stream_position, 1, "each is on a new relay's stream");
        assert!(child.stream.starts_with("relay-"));
        assert_ne!(child.stream, started.stream);
    }
    // Global positions follow commit order: H1's commit, H2's commit, then H3's.
    assert_eq!(branched.global_position, 2);
    assert_eq!(forked.global_position, 3);
    assert_eq!(deepened.global_position, 4);

    let ids: HashSet<_> = [command.id, started.id, branched.id, forked.id, deepened.id]
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 5, "every message has its own id");

    // The store returns the same metadata, in global order.
    let all = domain.event_store().read_all(0, 100).await.unwrap();
    let positions: Vec<u64> = all.iter().map(|e| e.metadata().global_position).collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    let store_ids: Vec<_> = all.iter().map(|e| e.metadata().id).collect();
    assert_eq!(store_ids, [started.id, branched.id, forked.id, deepened.id]);
    let page = domain.event_store().read_all(2, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].metadata().global_position, 3);
    assert_eq!(domain.event_store().last_position().await.unwrap(), 4);
}

#[tokio::test]
async fn stream_positions_entity_events_and_versions() {
    let (domain, _log) = domain();
    let leg = Leg::builder().name("first").build().unwrap();
    let mut relay = Relay::builder()
        .label("solo")
        .legs(vec![leg])
        .build()
        .unwrap();
    let id = relay.id();
    // Raised by the aggregate, its entity, and the aggregate again: stored in raise order.
    relay.raise(Noted { text: "a".into() });
    relay.legs[0].raise(LegAdded {
        name: "first".into(),
    });
    relay.raise(Noted { text: "c".into() });
    domain.repository::<Relay>().add(relay).await.unwrap();

    // Another relay's event in between: global positions move on, stream positions do not.
    let mut other = new_relay("other");
    other.raise(Noted {
        text: "other".into(),
    });
    let other_id = other.id();
    domain.repository::<Relay>().add(other).await.unwrap();

    let mut relay = domain.repository::<Relay>().get(&id).await.unwrap();
    assert_eq!(relay.version(), 1);
    relay.label = "renamed".into();
    relay.raise(RelayRenamed {
        label: "renamed".into(),
    });
    domain.repository::<Relay>().add(relay).await.unwrap();
    assert_eq!(
        domain
            .repository::<Relay>()
            .get(&id)
            .await
            .unwrap()
            .version(),
        2
    );

    let stream_name = format!("relay-{id}");
    let stream = domain
        .event_store()
        .read_stream(&stream_name)
        .await
        .unwrap();
    let names: Vec<_> = stream.iter().map(|e| e.event_name()).collect();
    assert_eq!(names, ["Noted", "LegAdded", "Noted", "RelayRenamed"]);
    let stream_positions: Vec<_> = stream
        .iter()
        .map(|e| e.metadata().stream_position)
        .collect();
    assert_eq!(stream_positions, [1, 2, 3, 4]);
    let global_positions: Vec<_> = stream
        .iter()
        .map(|e| e.metadata().global_position)
        .collect();
    assert_eq!(global_positions, [1, 2, 3, 5]);
    assert!(stream.iter().all(|e| *e.metadata().stream == *stream_name));
    assert!(stream.iter().all(|e| e.aggregate_name() == "Relay"));
    assert_eq!(stream[0].downcast_ref::<Noted>().unwrap().text, "a");
    assert!(stream[1].is::<LegAdded>());
    assert!(!stream[1].is::<Noted>());
    assert_eq!(
        stream[2].to_json().unwrap(),
        serde_json::json!({ "text": "c" })
    );

    // `#[event(version = 2)]` shows in the type name and the schema version.
    let renamed = stream[3].metadata();
    assert_eq!(&*renamed.type_name, "Chain.RelayRenamed.v2");
    assert_eq!(renamed.schema_version, 2);
    assert_eq!(
        domain.type_name_of::<RelayRenamed>(),
        Some("Chain.RelayRenamed.v2")
    );
    assert_eq!(
        domain.type_name_of::<StartRelay>(),
        Some("Chain.StartRelay.v1")
    );

    // Events of one repository add share one correlation id and have no causation.
    assert_eq!(
        stream[0].metadata().correlation_id,
        stream[2].metadata().correlation_id
    );
    assert_eq!(stream[0].metadata().causation_id, None);
    assert_ne!(
        stream[0].metadata().correlation_id,
        stream[3].metadata().correlation_id
    );

    // Category reads: in global order, after a position, limited.
    let relay_category = domain
        .event_store()
        .read_category("relay", 0, 100)
        .await
        .unwrap();
    assert_eq!(relay_category.len(), 5);
    let after_two = domain
        .event_store()
        .read_category("relay", 2, 2)
        .await
        .unwrap();
    let after_two: Vec<_> = after_two
        .iter()
        .map(|e| e.metadata().global_position)
        .collect();
    assert_eq!(after_two, [3, 4]);
    assert_eq!(
        domain
            .event_store()
            .read_stream(&format!("relay-{other_id}"))
            .await
            .unwrap()
            .len(),
        1
    );
    // A category no registered aggregate has is an error, not an empty list.
    assert!(matches!(
        domain.event_store().read_category("nope", 0, 10).await,
        Err(Error::UnknownCategory { .. })
    ));
    assert!(
        domain
            .event_store()
            .read_stream("relay-nope")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn custom_stream_category_names_streams() {
    let (domain, log) = domain();
    let beacon_id = Identifier::from("beacon7");
    domain
        .process(LightBeacon {
            beacon_id: beacon_id.clone(),
        })
        .await
        .unwrap();
    let seen = take(&log);
    let command = &find(&seen, "BeaconCommands").meta;
    assert_eq!(&*command.stream, "chain_custom:command-beacon7");
    let lit = &find(&seen, "BeaconWatcher").meta;
    assert_eq!(&*lit.stream, "chain_custom-beacon7");
    assert_eq!(&*lit.type_name, "Chain.BeaconLit.v1");
    assert_eq!(
        lit.origin_stream.as_deref(),
        Some("chain_custom:command-beacon7")
    );
    assert_eq!(
        domain
            .event_store()
            .read_stream("chain_custom-beacon7")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        domain
            .event_store()
            .read_category("chain_custom", 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // A category no registered aggregate has is an error, not an empty list.
    assert!(matches!(
        domain.event_store().read_category("beacon", 0, 10).await,
        Err(Error::UnknownCategory { .. })
    ));
}

#[tokio::test]
async fn commands_processed_by_event_handlers_continue_the_chain() {
    let (domain, log) = domain();
    domain
        .process(Escalate { label: "x".into() })
        .await
        .unwrap();
    let seen = take(&log);
    let who: HashSet<_> = seen.iter().map(|s| s.who).collect();
    assert_eq!(
        who,
        HashSet::from([
            "RelayCommands",
            "Escalator",
            "BeaconCommands",
            "BeaconWatcher",
            "AckWatcher"
        ]),
        "log: {seen:?}"
    );
    let root = &find(&seen, "RelayCommands").meta;
    let escalated = &find(&seen, "Escalator").meta;
    let light = &find(&seen, "BeaconCommands").meta;
    let lit = &find(&seen, "BeaconWatcher").meta;
    let ack = &find(&seen, "AckWatcher").meta;

    assert_eq!(light.kind, domain_core::MessageKind::Command);
    assert_eq!(&*light.stream, "chain_custom:command-beacon_x");
    assert_eq!(light.correlation_id, root.id);
    assert_eq!(light.causation_id, Some(escalated.id));
    assert_eq!(
        light.origin_stream, root.origin_stream,
        "a nested command keeps the chain's origin"
    );

    assert_eq!(lit.correlation_id, root.id);
    assert_eq!(lit.causation_id, Some(light.id));
    assert_eq!(lit.origin_stream, root.origin_stream);
    assert_eq!(&*lit.stream, "chain_custom-beacon_x");

    assert_eq!(ack.correlation_id, root.id);
    assert_eq!(ack.causation_id, Some(escalated.id));
    assert_eq!(ack.origin_stream, root.origin_stream);

    // The nested command committed before the handler did.
    assert!(lit.global_position < ack.global_position);
}

/// `Context::process` documents: its events are dispatched once the handler finishes, in commit
/// order — the nested command committed first, so its events come before the handler's own.
#[tokio::test]
async fn nested_command_events_are_dispatched_in_commit_order() {
    let (domain, log) = domain();
    domain
        .process(Escalate { label: "y".into() })
        .await
        .unwrap();
    let order: Vec<_> = take(&log).iter().map(|s| s.who).collect();
    assert_eq!(
        order,
        [
            "RelayCommands",
            "Escalator",
            "BeaconCommands",
            "BeaconWatcher",
            "AckWatcher"
        ]
    );
}
