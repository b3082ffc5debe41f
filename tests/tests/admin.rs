//! The operators' commands (`domain_core::admin`) on every store: listing dead letters as text
//! and as JSON, showing one, refusing to retry a blocked one before its head, retrying, skipping
//! (with who and why) and purging, submissions and subscriptions, and clear usage errors.

use std::collections::HashSet;
use std::sync::Mutex;

use domain_core::admin::{AdminError, run};
use domain_core::prelude::*;
use domain_core::{Error, Uuid};
use tests::harness::TestDb;
use tests::suite;

#[aggregate]
pub struct AdParcel {
    pub label: String,
}

#[event(part_of = AdParcel)]
pub struct AdParcelSent {
    pub label: String,
}

#[aggregate]
pub struct AdReceipt {
    pub label: String,
}

/// Labels whose delivery fails for now (each test uses labels of its own backend).
static FAILING: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn set_failing(label: &str, failing: bool) {
    let mut guard = FAILING.lock().unwrap();
    let set = guard.get_or_insert_with(HashSet::new);
    if failing {
        set.insert(label.to_owned());
    } else {
        set.remove(label);
    }
}

#[derive(Default)]
pub struct AdCourier;

#[event_handler(part_of = AdReceipt, stream_category = "ad_parcel")]
impl AdCourier {
    #[handle(AdParcelSent)]
    fn on_sent(&self, event: &AdParcelSent, ctx: &mut Context) -> Result<()> {
        let failing = FAILING
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|set| set.contains(&event.label));
        if failing {
            return Err(Error::rule(format!("the courier lost {}", event.label)));
        }
        let receipt = AdReceipt::builder().label(event.label.clone()).build()?;
        ctx.repository::<AdReceipt>().add(receipt)
    }
}

suite! {
    backends: [memory => Memory, sqlite => Sqlite, postgres => Postgres],
    tests: [
        admin_lists_shows_retries_skips_and_purges_dead_letters,
        admin_says_what_is_wrong_with_its_arguments,
    ]
}

/// Runs `args`; the answer as text, or the error.
async fn admin(domain: &Domain, args: &[&str]) -> std::result::Result<String, AdminError> {
    let mut out = Vec::new();
    run(domain, args, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

/// Sends a parcel labelled `label` (a new one, or again on `parcel`), ignoring failed deliveries.
async fn send(domain: &Domain, label: &str, parcel: Option<AdParcel>) -> AdParcel {
    let mut parcel = parcel.unwrap_or_else(|| AdParcel::builder().label(label).build().unwrap());
    parcel.raise(AdParcelSent {
        label: label.to_owned(),
    });
    let id = parcel.id();
    match domain.repository::<AdParcel>().add(parcel).await {
        Ok(()) | Err(Error::HandlersFailed { .. }) => {}
        Err(other) => panic!("sending {label}: {other}"),
    }
    domain.repository::<AdParcel>().get(&id).await.unwrap()
}

async fn receipts(domain: &Domain) -> Vec<String> {
    let mut labels: Vec<String> = domain
        .repository::<AdReceipt>()
        .query()
        .all()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.label)
        .collect();
    labels.sort();
    labels
}

async fn admin_lists_shows_retries_skips_and_purges_dead_letters(db: TestDb) {
    let domain = db.domain().await;
    let tag = format!("{:?}", db.backend).to_lowercase();
    let none = admin(&domain, &["dead-letters"]).await.unwrap();
    assert_eq!(none, "no dead letters\n");

    // A parked delivery, and a later event of its stream blocked behind it.
    let first = format!("{tag}-first");
    let second = format!("{tag}-second");
    set_failing(&first, true);
    let parcel = send(&domain, &first, None).await;
    send(&domain, &second, Some(parcel)).await;

    let text = admin(&domain, &["dead-letters"]).await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("  parked  admin::AdCourier  "), "{text}");
    let cause = format!("1 attempt: the courier lost {first}");
    assert!(lines[0].ends_with(&cause), "{text}");
    let listed = admin(&domain, &["dead-letters", "--json"]).await.unwrap();
    let records: Vec<serde_json::Value> = listed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let (parked, blocked) = (&records[0], &records[1]);
    assert_eq!(parked["state"], "parked");
    assert_eq!(blocked["state"], "blocked");
    assert_eq!(blocked["blocked_behind"], parked["id"]);
    assert_eq!(parked["stream"], blocked["stream"]);
    let behind = format!("  blocked behind {}  ", parked["id"].as_str().unwrap());
    assert!(lines[1].contains(&behind), "{text}");
    let parked_id = parked["id"].as_str().unwrap().to_owned();
    let blocked_id = blocked["id"].as_str().unwrap().to_owned();

    let shown = admin(&domain, &["dead-letters", "show", &parked_id]).await;
    let shown: serde_json::Value = serde_json::from_str(&shown.unwrap()).unwrap();
    assert_eq!(shown["payload"]["label"], first.as_str());
    assert_eq!(shown["error"], format!("the courier lost {first}"));

    // The blocked one waits for its head.
    let early = admin(&domain, &["dead-letters", "retry", &blocked_id]).await;
    let refused = matches!(
        early,
        Err(AdminError::Failed(Error::DeliveryBlocked { .. }))
    );
    assert!(refused, "{early:?}");
    // Fixed: the head is delivered, and what waited behind it, in order.
    set_failing(&first, false);
    let retried = admin(&domain, &["dead-letters", "retry", &parked_id]).await;
    assert_eq!(retried.unwrap(), format!("{parked_id}: delivered\n"));
    assert_eq!(receipts(&domain).await, [first.clone(), second.clone()]);
    let none = admin(&domain, &["dead-letters"]).await.unwrap();
    assert_eq!(none, "no dead letters\n");

    // Still failing: a retry of everything says so, and fails.
    let lost = format!("{tag}-lost");
    set_failing(&lost, true);
    send(&domain, &lost, None).await;
    let id = domain.failed_deliveries().await.unwrap()[0].id.to_string();
    let mut out = Vec::new();
    let all = run(&domain, &["dead-letters", "retry", "--all"], &mut out).await;
    let one_failure = matches!(
        &all,
        Err(AdminError::Failed(Error::HandlersFailed { failures, .. })) if failures.len() == 1
    );
    assert!(one_failure, "{all:?}");
    let summary = String::from_utf8(out).unwrap();
    assert_eq!(
        summary,
        "0 succeeded, 1 still failing, 0 claimed by another retrier\n"
    );
    // Several ids: each is tried and answered; a refusal does not stop the others.
    let unknown = Uuid::new_v4().to_string();
    let mut out = Vec::new();
    let several = run(&domain, &["dead-letters", "retry", &unknown, &id], &mut out).await;
    let answer = String::from_utf8(out).unwrap();
    assert!(matches!(several, Err(AdminError::Failed(_))), "{several:?}");
    assert!(answer.starts_with(&format!("{unknown}: ")), "{answer}");
    assert!(answer.contains(&format!("\n{id}: ")), "{answer}");

    // Given up on, with who and why; shown; then purged.
    let skip = [
        "dead-letters",
        "skip",
        &id,
        "--by",
        "ops@example.com",
        "--reason",
        "sent by hand",
    ];
    let skipped = admin(&domain, &skip).await.unwrap();
    assert_eq!(skipped, format!("{id}: skipped by ops@example.com\n"));
    let listed = admin(&domain, &["dead-letters", "--skipped"])
        .await
        .unwrap();
    let expected = format!("{id}  skipped by ops@example.com (sent by hand)  ");
    assert!(listed.starts_with(&expected), "{listed}");
    let shown = admin(&domain, &["dead-letters", "show", &id, "--json"]).await;
    let shown: serde_json::Value = serde_json::from_str(&shown.unwrap()).unwrap();
    assert_eq!(shown["state"], "skipped");
    assert_eq!(shown["skip_reason"], "sent by hand");
    assert_eq!(shown["payload"]["label"], lost.as_str());
    let purged = admin(&domain, &["dead-letters", "purge"]).await.unwrap();
    assert_eq!(purged, "1 skipped records deleted\n");
    let none = admin(&domain, &["dead-letters", "--skipped"])
        .await
        .unwrap();
    assert_eq!(none, "no skipped deliveries\n");
    assert_eq!(receipts(&domain).await, [first, second]);

    let submissions = admin(&domain, &["submissions"]).await.unwrap();
    assert_eq!(submissions, "no failed submissions\n");
    let subscriptions = admin(&domain, &["subscriptions"]).await.unwrap();
    if db.durable() {
        assert!(subscriptions.contains("AdCourier  at "), "{subscriptions}");
    } else {
        let none = subscriptions.starts_with("no subscriptions");
        assert!(none, "{subscriptions}");
    }
}

async fn admin_says_what_is_wrong_with_its_arguments(db: TestDb) {
    let domain = db.domain().await;
    let usage = |result: std::result::Result<String, AdminError>| match result {
        Err(AdminError::Usage(problem)) => problem,
        other => panic!("expected a usage error, got {other:?}"),
    };
    let some_id = Uuid::new_v4().to_string();
    let cases: [(&[&str], &str); 8] = [
        (&["dead-letter"], "`dead-letter` is not a command"),
        (
            &["subscriptions", "list"],
            "`subscriptions list` is not a command",
        ),
        (
            &["dead-letters", "burn", "all"],
            "`dead-letters burn all` is not a command",
        ),
        (
            &["dead-letters", "show", "42"],
            "`42` is not a record id (a UUID)",
        ),
        (
            &["dead-letters", "skip", &some_id],
            "`skip` needs `--by <who> --reason <why>`: a skip is kept with both",
        ),
        (
            &[
                "dead-letters",
                "skip",
                &some_id,
                "--by",
                " ",
                "--reason",
                "x",
            ],
            "`--by` needs a value, not ` `",
        ),
        (
            &[
                "dead-letters",
                "skip",
                &some_id,
                "--by",
                "--reason",
                "--reason",
                "x",
            ],
            "`--by` needs a value, not `--reason`",
        ),
        (
            &["dead-letters", "retry", &some_id, "--json"],
            "`dead-letters retry` has no `--json` answer (listings and `show` have)",
        ),
    ];
    for (args, problem) in cases {
        assert_eq!(usage(admin(&domain, args).await), problem, "{args:?}");
    }
    let missing = admin(&domain, &["dead-letters", "retry", &some_id]).await;
    let not_found = matches!(missing, Err(AdminError::Failed(Error::NotFound { .. })));
    assert!(not_found, "{missing:?}");
    for args in [&["help"][..], &["help", "dead-letters"]] {
        let help = admin(&domain, args).await.unwrap();
        assert!(help.contains("dead-letters purge"), "{help}");
    }
}
