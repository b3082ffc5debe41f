//! Registration: `build()` checks the whole registry once and reports every problem in one
//! `Error::Registry`; explicit registration (`without_auto_registration().register::<T>()`);
//! one handler per command at run time (`Error::NoHandler`, never a silent return).
//!
//! Everything annotated in this file is linked into the binary, and that set is deliberately
//! inconsistent (two aggregates share a category, a command has no handler, a handler has no
//! `Default` and no instance, two events share a name): the auto-registered domain must report all
//! of it. The other tests register explicitly.

use std::sync::{Arc, Mutex};

use domain_core::prelude::*;

#[aggregate]
pub struct RgShop {
    pub name: String,
}

/// Shares `RgShop`'s stream category.
#[aggregate(stream_category = "rg_shop")]
pub struct RgMirror {
    pub name: String,
}

#[aggregate]
pub struct RgGhost {
    pub name: String,
}

#[event(part_of = RgShop)]
pub struct RgShopOpened {
    pub name: String,
}

#[event(part_of = RgGhost)]
pub struct RgGhostSeen {
    pub name: String,
}

mod first {
    use domain_core::prelude::*;

    #[event(part_of = super::RgShop)]
    pub struct RgDuplicate {
        pub n: i64,
    }
}

mod second {
    use domain_core::prelude::*;

    #[event(part_of = super::RgShop)]
    pub struct RgDuplicate {
        pub n: i64,
    }
}

#[command(part_of = RgShop)]
pub struct RgOpenShop {
    pub name: String,
}

/// Has no handler anywhere.
#[command(part_of = RgShop)]
pub struct RgUnhandled {
    pub name: String,
}

#[derive(Default)]
pub struct RgShopCommands;

#[command_handler(part_of = RgShop)]
impl RgShopCommands {
    #[handle(RgOpenShop)]
    fn open(&self, command: RgOpenShop, ctx: &mut Context) -> Result<Identifier> {
        let mut shop = RgShop::builder().name(command.name.clone()).build()?;
        shop.raise(RgShopOpened { name: command.name });
        let id = shop.id();
        ctx.repository::<RgShop>().add(shop)?;
        Ok(id)
    }
}

/// No `Default`: needs an instance from `.handler(...)`.
pub struct RgStateful {
    seen: Arc<Mutex<Vec<String>>>,
}

#[event_handler(part_of = RgShop)]
impl RgStateful {
    #[handle(RgShopOpened)]
    fn on_opened(&self, event: &RgShopOpened) {
        self.seen.lock().unwrap().push(event.name.clone());
    }
}

#[derive(Default)]
pub struct RgGhostWatcher;

#[event_handler(part_of = RgShop, stream_category = "rg_ghost")]
impl RgGhostWatcher {
    #[handle(RgGhostSeen)]
    fn on_seen(&self, _event: &RgGhostSeen) {}
}

fn problems(result: Result<Domain>) -> Vec<String> {
    match result {
        Err(Error::Registry(problems)) => problems,
        Err(other) => panic!("expected a registry error, got {other:?}"),
        Ok(_) => panic!("expected a registry error, the domain built"),
    }
}

fn has(problems: &[String], words: &[&str]) -> bool {
    problems.iter().any(|p| words.iter().all(|w| p.contains(w)))
}

/// Two handler types of one short name, annotated in one module: their paths would be the same,
/// so a failure record could not tell them apart.
pub mod rg_paths {
    use super::*;

    pub mod a {
        #[derive(Default)]
        pub struct RgAudit;
    }
    pub mod b {
        #[derive(Default)]
        pub struct RgAudit;
    }

    #[event_handler(part_of = RgShop)]
    impl a::RgAudit {
        #[handle(RgShopOpened)]
        fn on_opened(&self, _event: &RgShopOpened) {}
    }

    #[event_handler(part_of = RgShop)]
    impl b::RgAudit {
        #[handle(RgShopOpened)]
        fn on_opened(&self, _event: &RgShopOpened) {}
    }
}

#[test]
fn auto_registration_reports_every_problem_at_once() {
    let result = Domain::builder("Registry").build();
    let Err(error) = result else {
        panic!("the auto-registered domain is inconsistent and must not build");
    };
    let text = error.to_string();
    let problems = problems(Err(error));
    assert_eq!(problems.len(), 6, "{problems:#?}");
    assert!(
        has(
            &problems,
            &["registry::rg_paths::RgAudit", "two event handlers"]
        ),
        "{problems:#?}"
    );
    assert!(
        has(&problems, &["RgTypoSource", "rg_shpo"]),
        "{problems:#?}"
    );
    assert!(
        has(&problems, &["RgShop", "RgMirror", "rg_shop"]),
        "{problems:#?}"
    );
    assert!(
        has(&problems, &["Registry.RgUnhandled.v1", "no handler"]),
        "{problems:#?}"
    );
    assert!(has(&problems, &["RgStateful", "Default"]), "{problems:#?}");
    assert!(
        has(&problems, &["Registry.RgDuplicate.v1"]),
        "{problems:#?}"
    );
    assert!(text.contains("6 problem"), "{text}");
    for problem in &problems {
        assert!(text.contains(problem.as_str()), "{text}");
    }
}

#[test]
fn explicit_registration_reports_unhandled_command_and_orphan_event_together() {
    let problems = problems(
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgUnhandled>()
            .register::<RgGhostSeen>()
            .build(),
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        has(&problems, &["Registry.RgUnhandled.v1", "no handler"]),
        "{problems:#?}"
    );
    assert!(
        has(&problems, &["RgGhostSeen", "RgGhost", "not registered"]),
        "{problems:#?}"
    );
}

#[test]
fn handler_listening_to_an_unregistered_category_is_reported() {
    let problems = problems(
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgGhostSeen>()
            .register::<RgGhostWatcher>()
            .build(),
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(has(&problems, &["RgGhostSeen", "RgGhost"]), "{problems:#?}");
    assert!(
        has(&problems, &["RgGhostWatcher", "rg_ghost", "never fire"]),
        "{problems:#?}"
    );

    // With the aggregate registered, the same handler is fine.
    Domain::builder("Registry")
        .without_auto_registration()
        .register::<RgShop>()
        .register::<RgGhost>()
        .register::<RgGhostSeen>()
        .register::<RgGhostWatcher>()
        .build()
        .unwrap();
}

#[derive(Default)]
pub struct RgTypoSource;

// "rg_shpo" is no aggregate's category: the handler could never fire.
#[event_handler(part_of = RgShop, source_stream = "rg_shpo:command")]
impl RgTypoSource {
    #[handle(RgShopOpened)]
    fn on_opened(&self, _event: &RgShopOpened) {}
}

#[derive(Default)]
pub struct RgCommandSource;

#[event_handler(part_of = RgShop, source_stream = "rg_shop:command")]
impl RgCommandSource {
    #[handle(RgShopOpened)]
    fn on_opened(&self, _event: &RgShopOpened) {}
}

#[test]
fn source_stream_naming_no_aggregate_stream_is_reported() {
    let problems = problems(
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgShopOpened>()
            .register::<RgTypoSource>()
            .build(),
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        has(
            &problems,
            &["RgTypoSource", "rg_shpo:command", "never fire"]
        ),
        "{problems:#?}"
    );
    // A category, or its command streams, is fine.
    Domain::builder("Registry")
        .without_auto_registration()
        .register::<RgShop>()
        .register::<RgShopOpened>()
        .register::<RgCommandSource>()
        .build()
        .unwrap();
}

/// Stands for another service's aggregate: its events are decoded here, it is not registered.
#[aggregate(stream_category = "rg_billing")]
pub struct RgInvoice {
    pub total: i64,
}

#[event(part_of = RgInvoice)]
pub struct RgInvoicePaid {
    pub total: i64,
}

#[derive(Default)]
pub struct RgBillingAudit;

#[event_handler(part_of = RgShop, stream_category = "rg_billing")]
impl RgBillingAudit {
    #[handle($any)]
    fn on_any(&self, _event: &EventEnvelope) {}
}

#[tokio::test]
async fn an_external_category_may_be_listened_to_and_read() {
    let builder = || {
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgInvoicePaid>()
            .register::<RgBillingAudit>()
    };
    // Undeclared, it is the typo check: the handler could never fire.
    let problems = problems(builder().build());
    assert!(
        has(
            &problems,
            &["RgBillingAudit", "rg_billing", "external_category"]
        ),
        "{problems:#?}"
    );
    assert!(
        has(&problems, &["RgInvoicePaid", "RgInvoice"]),
        "{problems:#?}"
    );

    let domain = builder().external_category("rg_billing").build().unwrap();
    assert!(
        domain
            .event_store()
            .read_category("rg_billing", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        domain.event_store().read_category("rg_biling", 0, 10).await,
        Err(Error::UnknownCategory { .. })
    ));

    let invalid = self::problems(builder().external_category("Billing-EU").build());
    assert!(
        has(&invalid, &["Billing-EU", "not a valid"]),
        "{invalid:#?}"
    );
}

#[test]
fn handler_without_default_needs_an_instance() {
    let problems = problems(
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgShopOpened>()
            .register::<RgStateful>()
            .build(),
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        has(&problems, &["RgStateful", "Default", ".handler("]),
        "{problems:#?}"
    );
}

#[test]
fn command_handler_for_an_unregistered_command_is_reported() {
    let problems = problems(
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgShopCommands>()
            .build(),
    );
    assert!(
        has(
            &problems,
            &["RgShopCommands", "RgOpenShop", "not registered"]
        ),
        "{problems:#?}"
    );
}

#[test]
fn duplicate_names_and_shared_categories_are_reported_explicitly_too() {
    let problems = problems(
        Domain::builder("Registry")
            .without_auto_registration()
            .register::<RgShop>()
            .register::<RgMirror>()
            .register::<first::RgDuplicate>()
            .register::<second::RgDuplicate>()
            .build(),
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(has(&problems, &["rg_shop"]), "{problems:#?}");
    assert!(
        has(&problems, &["Registry.RgDuplicate.v1"]),
        "{problems:#?}"
    );
}

#[tokio::test]
async fn command_without_registered_handler_is_an_error_at_run_time() {
    let domain = Domain::builder("Registry")
        .without_auto_registration()
        .register::<RgShop>()
        .build()
        .unwrap();
    let error = domain
        .process(RgOpenShop {
            name: "corner".into(),
        })
        .await
        .unwrap_err();
    match &error {
        Error::NoHandler { command, .. } => assert!(command.contains("RgOpenShop"), "{command}"),
        other => panic!("expected NoHandler, got {other:?}"),
    }
    assert!(error.to_string().contains("RgOpenShop"), "{error}");
    assert_eq!(
        domain.repository::<RgShop>().query().count().await.unwrap(),
        0
    );

    // Serialized, an unregistered command is an unknown type.
    let error = domain
        .process_json("RgOpenShop", r#"{"name": "corner"}"#)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::UnknownMessageType { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn explicit_registration_builds_a_working_domain() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let domain = Domain::builder("Registry")
        .without_auto_registration()
        .register::<RgShop>()
        .register::<RgShop>() // registering twice is harmless
        .register::<RgShopOpened>()
        .register::<RgOpenShop>()
        .register::<RgShopCommands>()
        .register::<RgStateful>()
        .handler(RgStateful { seen: seen.clone() })
        .build()
        .unwrap();
    let id = domain
        .process(RgOpenShop {
            name: "corner".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        domain.repository::<RgShop>().get(&id).await.unwrap().name,
        "corner"
    );
    assert_eq!(*seen.lock().unwrap(), ["corner"]);
    assert_eq!(
        domain.type_name_of::<RgShopOpened>(),
        Some("Registry.RgShopOpened.v1")
    );
    assert_eq!(domain.type_name_of::<RgUnhandled>(), None);
    assert_eq!(domain.name(), "Registry");
}

#[tokio::test]
async fn raising_an_unregistered_event_fails_the_commit() {
    let domain = Domain::builder("Registry")
        .without_auto_registration()
        .register::<RgShop>()
        .register::<RgOpenShop>()
        .register::<RgShopCommands>()
        .build()
        .unwrap();
    let error = domain
        .process(RgOpenShop {
            name: "corner".into(),
        })
        .await
        .unwrap_err();
    match &error {
        Error::Registry(problems) => assert!(has(problems, &["RgShopOpened"]), "{problems:?}"),
        other => panic!("expected a registry error, got {other:?}"),
    }
    assert_eq!(
        domain.repository::<RgShop>().query().count().await.unwrap(),
        0
    );
    assert_eq!(domain.event_store().last_position().await.unwrap(), 0);
}

#[aggregate(stream_category = "rg_shop:order")]
pub struct RgShopOrder {
    pub customer: String,
}

#[event(part_of = RgShopOrder)]
pub struct RgShopOrderPlaced {
    pub customer: String,
}

#[tokio::test]
async fn streams_of_a_category_with_a_colon_are_readable() {
    let domain = Domain::builder("Registry")
        .without_auto_registration()
        .register::<RgShopOrder>()
        .register::<RgShopOrderPlaced>()
        .build()
        .unwrap();
    let mut order = RgShopOrder::builder().customer("ann").build().unwrap();
    order.raise(RgShopOrderPlaced {
        customer: "ann".into(),
    });
    let id = order.id();
    domain.repository::<RgShopOrder>().add(order).await.unwrap();
    let stream = format!("rg_shop:order-{id}");
    assert_eq!(
        domain
            .event_store()
            .read_stream(&stream)
            .await
            .unwrap()
            .len(),
        1
    );
    let commands = format!("rg_shop:order:command-{id}");
    assert!(
        domain
            .command_log()
            .read_stream(&commands)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        domain.event_store().read_stream("rg_shop-1").await,
        Err(Error::UnknownCategory { .. })
    ));
}
