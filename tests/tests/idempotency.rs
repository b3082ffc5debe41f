//! `ctx.idempotency_key()`: the same for every delivery of one event to one handler (a retry, a
//! redelivery after a crash), different for another event or handler; a command handler's is
//! its command's id. And per-handler options naming a type that is no event handler.

use std::sync::Mutex;

use domain_core::prelude::*;
use domain_core::{CommandOptions, Uuid};

#[aggregate]
pub struct IkOrder {
    pub total: i64,
}

#[event(part_of = IkOrder)]
pub struct IkPlaced {
    pub total: i64,
}

#[command(part_of = IkOrder)]
pub struct IkPlace {
    pub total: i64,
}

/// Keys seen by the handlers, in order.
static KEYS: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[derive(Default)]
pub struct IkCommands;

#[command_handler(part_of = IkOrder)]
impl IkCommands {
    #[handle(IkPlace)]
    fn place(&self, command: IkPlace, ctx: &mut Context) -> Result<()> {
        KEYS.lock().unwrap().push(ctx.idempotency_key());
        let mut order = IkOrder::builder().total(command.total).build()?;
        order.raise(IkPlaced {
            total: command.total,
        });
        ctx.repository::<IkOrder>().add(order)
    }
}

/// Fails the first delivery of each event (an outside service timing out), then succeeds.
#[derive(Default)]
pub struct IkMailer;

#[event_handler(part_of = IkOrder)]
impl IkMailer {
    #[handle(IkPlaced)]
    fn send(&self, _event: &IkPlaced, ctx: &mut Context) -> Result<()> {
        let key = ctx.idempotency_key();
        let mut keys = KEYS.lock().unwrap();
        let first = !keys.contains(&key);
        keys.push(key);
        if first {
            return Err(Error::rule("the mail service timed out"));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_retry_sees_the_same_key_and_other_messages_other_keys() {
    let domain = Domain::builder("Idempotency").build().unwrap();
    let command_id = Uuid::new_v4();
    let processed = domain
        .process_with(
            IkPlace { total: 5 },
            CommandOptions::new().command_id(command_id),
        )
        .await
        .unwrap();
    assert_eq!(processed.failures.len(), 1);
    assert_eq!(domain.retry_failed_deliveries().await.succeeded, 1);
    domain.process(IkPlace { total: 7 }).await.unwrap_err();

    let keys = KEYS.lock().unwrap().clone();
    // command, first delivery, its retry, second command, its delivery
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert_eq!(keys[0], command_id.to_string());
    let events = domain.event_store().read_all(0, 10).await.unwrap();
    let expected = format!("idempotency::IkMailer@{}", events[0].metadata().id);
    assert_eq!(keys[1], expected);
    assert_eq!(keys[2], keys[1], "a retry must see the same key");
    assert_ne!(keys[4], keys[1], "another event must get another key");
}

/// A processing mode or retry policy for a type that is no event handler would do nothing: the
/// build says so instead.
#[test]
fn options_for_a_type_that_is_no_event_handler_are_refused() {
    let built = Domain::builder("Idempotency")
        .handler_retry_policy::<IkCommands>(domain_core::RetryPolicy::attempts(3))
        .build();
    let Err(Error::Registry(problems)) = built else {
        panic!("expected a registry error");
    };
    assert!(problems[0].contains("IkCommands"), "{problems:?}");
    assert!(
        problems[0].contains("not a registered event handler"),
        "{problems:?}"
    );
    Domain::builder("Idempotency")
        .handler_processing::<IkMailer>(domain_core::EventProcessing::Async)
        .build()
        .unwrap();
}
