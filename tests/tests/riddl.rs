//! RIDDL's entity handlers on every store: command clauses that yield events, state set by
//! `#[apply]`, handler states that gate commands and survive a reload (by replay and from a
//! snapshot), and ignored commands reported or refused.

use domain_core::prelude::*;
use domain_core::{HandlerState, IgnoredMessages};
use tests::harness::{Backend, TestDb};
use tests::suite;

// ---- RIDDL's first two clauses: `on command JustDoIt yields JustDidIt`, `on event .. { set }` --

#[aggregate(event_sourced)]
pub struct RdEntity {
    /// Blank until the first `RdNameWasUpdated`.
    #[field(allow_blank)]
    pub name: String,
    pub encouragements: Vec<String>,
}

#[command(part_of = RdEntity)]
pub struct RdJustDoIt {
    #[identifier]
    pub id: Identifier,
    pub encouragement: String,
}

#[event(part_of = RdEntity)]
pub struct RdJustDidIt {
    pub id: Identifier,
    pub encouragement: String,
}

#[command(part_of = RdEntity)]
pub struct RdUpdateName {
    #[identifier]
    pub id: Identifier,
    pub new_name: String,
}

#[event(part_of = RdEntity)]
pub struct RdNameWasUpdated {
    pub id: Identifier,
    pub new_name: String,
}

/// Yields two events of different types at once, or none.
#[command(part_of = RdEntity)]
pub struct RdRename {
    #[identifier]
    pub id: Identifier,
    pub new_name: String,
}

#[entity_handler]
impl RdEntity {
    #[on_command]
    fn just_do_it(&self, command: RdJustDoIt) -> RdJustDidIt {
        RdJustDidIt {
            id: command.id,
            encouragement: command.encouragement,
        }
    }

    /// Decides against the state: a name in lower case is refused, the same name yields nothing.
    #[on_command]
    fn update_name(&self, command: RdUpdateName) -> Result<Option<RdNameWasUpdated>> {
        if command.new_name.starts_with(char::is_lowercase) {
            return Err(Error::rule("a name starts with a capital"));
        }
        if command.new_name == self.name {
            return Ok(None);
        }
        Ok(Some(RdNameWasUpdated {
            id: command.id,
            new_name: command.new_name,
        }))
    }

    #[on_command]
    fn rename(&self, command: RdRename) -> (RdNameWasUpdated, RdJustDidIt) {
        (
            RdNameWasUpdated {
                id: command.id.clone(),
                new_name: command.new_name.clone(),
            },
            RdJustDidIt {
                id: command.id,
                encouragement: format!("renamed to {}", command.new_name),
            },
        )
    }

    #[apply]
    fn did_it(&mut self, event: &RdJustDidIt) {
        self.encouragements.push(event.encouragement.clone());
    }

    /// RIDDL: `on event NameWasUpdated { set State.name to NameWasUpdated.newName }`.
    #[apply]
    fn name_was_updated(&mut self, event: &RdNameWasUpdated) {
        self.name = event.new_name.clone();
    }
}

// ---- handlers as states: an order that ships only once paid ------------------------------------

#[handler_states]
pub enum RdOrderHandler {
    Unpaid,
    Paid,
    Shipped,
}

#[aggregate(event_sourced, states = RdOrderHandler, snapshot_every = 2)]
pub struct RdOrder {
    pub paid_cents: i64,
    pub notes: Vec<String>,
}

#[command(part_of = RdOrder)]
pub struct RdPay {
    #[identifier]
    pub order: Identifier,
    pub cents: i64,
}

#[command(part_of = RdOrder)]
pub struct RdShip {
    #[identifier]
    pub order: Identifier,
}

#[command(part_of = RdOrder)]
pub struct RdAddNote {
    #[identifier]
    pub order: Identifier,
    pub text: String,
}

#[event(part_of = RdOrder)]
pub struct RdPaid {
    pub cents: i64,
}

#[event(part_of = RdOrder)]
pub struct RdShipped {}

#[event(part_of = RdOrder)]
pub struct RdNoted {
    pub text: String,
}

#[entity_handler]
impl RdOrder {
    #[on_command(when = Unpaid)]
    fn pay(&self, command: RdPay) -> RdPaid {
        RdPaid {
            cents: command.cents,
        }
    }

    #[on_command(when = Paid)]
    fn ship(&self, _command: RdShip) -> RdShipped {
        RdShipped {}
    }

    /// In two states; not once shipped.
    #[on_command(when = [Unpaid, Paid])]
    fn note(&self, command: RdAddNote) -> RdNoted {
        RdNoted { text: command.text }
    }

    #[apply(become = Paid)]
    fn paid(&mut self, event: &RdPaid) {
        self.paid_cents += event.cents;
    }

    #[apply(become = Shipped)]
    fn shipped(&mut self, _event: &RdShipped) {}

    #[apply]
    fn noted(&mut self, event: &RdNoted) {
        self.notes.push(event.text.clone());
    }
}

// ---- the tests -----------------------------------------------------------------------------------

suite! {
    backends: [memory => Memory, sqlite => Sqlite, postgres => Postgres],
    tests: [
        riddl_a_command_clause_yields_its_event_and_applies_it,
        riddl_a_clause_refuses_or_yields_nothing_and_then_commits_nothing,
        riddl_a_clause_yields_events_of_several_types_in_order,
        riddl_handler_states_gate_commands_and_survive_a_reload,
        riddl_ignored_commands_can_be_refused_instead,
        riddl_submitted_commands_run_their_clause,
        riddl_a_rust_query_clause_answers_on_every_store,
        riddl_sql_query_clauses_bind_their_parameters,
        riddl_views_are_made_again_only_when_their_statement_changed,
        riddl_a_reaction_turns_a_foreign_event_into_the_entitys_own,
        riddl_a_reaction_can_send_its_entity_a_command,
        riddl_a_refused_reaction_is_a_failed_delivery,
    ]
}

async fn riddl_a_command_clause_yields_its_event_and_applies_it(db: TestDb) {
    let domain = db.domain().await;
    let id = Identifier::new();
    // No events yet: the clause starts the entity.
    let handled = domain
        .process(RdJustDoIt {
            id: id.clone(),
            encouragement: "go on".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        handled,
        Handled::Applied {
            id: id.clone(),
            events: 1
        }
    );
    let handled = domain
        .process(RdUpdateName {
            id: id.clone(),
            new_name: "Ada".into(),
        })
        .await
        .unwrap();
    assert_eq!(handled.events(), 1);

    let entity = domain.repository::<RdEntity>().get(&id).await.unwrap();
    assert_eq!(entity.name(), "Ada");
    assert_eq!(entity.encouragements(), &["go on".to_string()]);
    assert_eq!(entity.version(), 2);
    let stream = domain
        .event_store()
        .stream_of::<RdEntity>(&id)
        .await
        .unwrap();
    let types: Vec<&str> = stream
        .iter()
        .map(|e| e.metadata().type_name.as_ref())
        .collect();
    assert_eq!(
        types,
        [
            "Conformance.RdJustDidIt.v1",
            "Conformance.RdNameWasUpdated.v1"
        ]
    );
    // The event is the one the clause built from the command.
    let first = stream[0].downcast_ref::<RdJustDidIt>().unwrap();
    assert_eq!(
        (first.id.clone(), first.encouragement.as_str()),
        (id, "go on")
    );
}

async fn riddl_a_clause_refuses_or_yields_nothing_and_then_commits_nothing(db: TestDb) {
    let domain = db.domain().await;
    let id = Identifier::new();
    let refused = domain
        .process(RdUpdateName {
            id: id.clone(),
            new_name: "ada".into(),
        })
        .await;
    assert!(matches!(refused, Err(Error::Rule(_))), "{refused:?}");
    assert!(matches!(
        domain.repository::<RdEntity>().get(&id).await,
        Err(Error::NotFound { .. })
    ));

    let handled = domain
        .process(RdUpdateName {
            id: id.clone(),
            new_name: "Ada".into(),
        })
        .await
        .unwrap();
    assert_eq!(handled.events(), 1);
    let same = domain
        .process(RdUpdateName {
            id: id.clone(),
            new_name: "Ada".into(),
        })
        .await
        .unwrap();
    assert_eq!(same.events(), 0);
    assert!(!same.is_ignored());
    let entity = domain.repository::<RdEntity>().get(&id).await.unwrap();
    assert_eq!(entity.version(), 1, "yielding nothing writes nothing");
}

async fn riddl_a_clause_yields_events_of_several_types_in_order(db: TestDb) {
    let domain = db.domain().await;
    let id = Identifier::new();
    let handled = domain
        .process(RdRename {
            id: id.clone(),
            new_name: "Bea".into(),
        })
        .await
        .unwrap();
    assert_eq!(handled.events(), 2);
    let stream = domain
        .event_store()
        .stream_of::<RdEntity>(&id)
        .await
        .unwrap();
    let types: Vec<&str> = stream
        .iter()
        .map(|e| e.metadata().type_name.as_ref())
        .collect();
    assert_eq!(
        types,
        [
            "Conformance.RdNameWasUpdated.v1",
            "Conformance.RdJustDidIt.v1"
        ]
    );
    let entity = domain.repository::<RdEntity>().get(&id).await.unwrap();
    assert_eq!(entity.name(), "Bea");
    assert_eq!(entity.encouragements(), &["renamed to Bea".to_string()]);
    assert_eq!(entity.version(), 1, "one command, one commit");
}

async fn riddl_handler_states_gate_commands_and_survive_a_reload(db: TestDb) {
    let domain = db.domain().await;
    let order = Identifier::new();
    let ship = || RdShip {
        order: order.clone(),
    };
    let note = |text: &str| RdAddNote {
        order: order.clone(),
        text: text.into(),
    };

    // Unpaid: shipping is ignored, visibly, and changes nothing.
    let early = domain.process(ship()).await.unwrap();
    assert_eq!(
        early,
        Handled::Ignored {
            id: order.clone(),
            handler: "Unpaid"
        }
    );
    assert!(matches!(
        domain.repository::<RdOrder>().get(&order).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(domain.process(note("gift wrap")).await.unwrap().events(), 1);
    let handled = domain
        .process(RdPay {
            order: order.clone(),
            cents: 1200,
        })
        .await
        .unwrap();
    assert_eq!(handled.events(), 1);
    let paid = domain.repository::<RdOrder>().get(&order).await.unwrap();
    assert_eq!(paid.active_handler(), RdOrderHandler::Paid);

    // Paid: paying again is ignored; a note is still taken; shipping runs.
    let again = domain
        .process(RdPay {
            order: order.clone(),
            cents: 1200,
        })
        .await
        .unwrap();
    assert!(again.is_ignored());
    assert_eq!(
        domain
            .process(note("leave at door"))
            .await
            .unwrap()
            .events(),
        1
    );
    assert_eq!(domain.process(ship()).await.unwrap().events(), 1);
    // Shipped: nothing is handled any more.
    assert!(domain.process(note("too late")).await.unwrap().is_ignored());
    assert!(domain.process(ship()).await.unwrap().is_ignored());

    let expected = |order: &RdOrder| {
        assert_eq!(order.active_handler(), RdOrderHandler::Shipped);
        assert_eq!(order.active_handler().name(), "Shipped");
        assert_eq!(*order.paid_cents(), 1200);
        assert_eq!(
            order.notes(),
            &["gift wrap".to_string(), "leave at door".to_string()]
        );
        assert_eq!(order.version(), 4);
    };
    expected(&domain.repository::<RdOrder>().get(&order).await.unwrap());

    if db.durable() {
        // A new process: the active handler comes back from the snapshot (taken at 2 and 4
        // events) and, with the snapshots gone, from replaying the stream.
        drop(domain);
        let reopened = db.domain().await;
        expected(&reopened.repository::<RdOrder>().get(&order).await.unwrap());
        assert!(reopened.process(ship()).await.unwrap().is_ignored());
        let row = db.row_data(&order.to_string()).await;
        assert_eq!(
            row["state"]["$handler"], "Shipped",
            "the snapshot holds the active handler: {row}"
        );
        db.set_row_data(&order.to_string(), &serde_json::Value::Null)
            .await;
        expected(&reopened.repository::<RdOrder>().get(&order).await.unwrap());
    }
}

async fn riddl_ignored_commands_can_be_refused_instead(db: TestDb) {
    let domain = db
        .open(db.builder().ignored_messages(IgnoredMessages::Fail))
        .await;
    let order = Identifier::new();
    let refused = domain
        .process(RdShip {
            order: order.clone(),
        })
        .await;
    match refused {
        Err(Error::Ignored {
            message,
            entity,
            id,
            handler,
        }) => {
            assert_eq!((message, entity, handler), ("RdShip", "RdOrder", "Unpaid"));
            assert_eq!(id, order.to_string());
        }
        other => panic!("expected Error::Ignored, got {other:?}"),
    }
    let text = domain
        .process(RdShip {
            order: order.clone(),
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("active handler `Unpaid` has no clause"),
        "{text}"
    );
    // The handled path is unchanged.
    let paid = domain
        .process(RdPay {
            order: order.clone(),
            cents: 5,
        })
        .await
        .unwrap();
    assert_eq!(paid.events(), 1);
}

async fn riddl_submitted_commands_run_their_clause(db: TestDb) {
    let domain = db.domain().await;
    let order = Identifier::new();
    domain
        .submit(RdPay {
            order: order.clone(),
            cents: 700,
        })
        .await
        .unwrap();
    domain.settle().await.unwrap();
    let paid = domain.repository::<RdOrder>().get(&order).await.unwrap();
    assert_eq!(*paid.paid_cents(), 700);
    assert_eq!(paid.active_handler(), RdOrderHandler::Paid);
}

// ---- RIDDL's query clause: `on query JustGetIt { then return JustGotIt from "SELECT .." }` ---

/// State-stored: SQL reads it as the view `rd_counter`.
#[aggregate]
pub struct RdCounter {
    pub label: String,
    pub count: i64,
    pub ratio: f64,
    pub active: bool,
}

/// Event-sourced with its state in its row (a snapshot every event): the view `rd_tally`.
#[aggregate(event_sourced, snapshot_every = 1)]
pub struct RdTally {
    pub total: i64,
}

#[event(part_of = RdTally)]
pub struct RdTallied {
    pub by: i64,
}

#[command(part_of = RdTally)]
pub struct RdTallyUp {
    #[identifier]
    pub tally: Identifier,
    pub by: i64,
}

#[response]
pub struct RdJustGotIt {
    pub id: Identifier,
    pub count: i64,
}

#[query(result = RdJustGotIt)]
pub struct RdJustGetIt {
    pub id: Identifier,
}

#[response]
pub struct RdCounterRow {
    pub label: String,
    pub count: i64,
    pub ratio: f64,
    pub active: bool,
}

#[query(result = Vec<RdCounterRow>)]
pub struct RdCountersFrom {
    pub at_least: i64,
    pub label_like: String,
}

#[query(result = Option<RdJustGotIt>)]
pub struct RdMaybeCounter {
    pub label: String,
}

#[response]
pub struct RdTallyTotal {
    pub total: i64,
}

#[query(result = RdTallyTotal)]
pub struct RdTallyOf {
    pub tally: Identifier,
}

/// Answered in Rust, through the repositories.
#[query(result = Vec<String>)]
pub struct RdLabels {}

#[entity_handler]
impl RdTally {
    #[on_command]
    fn tally_up(&self, command: RdTallyUp) -> RdTallied {
        RdTallied { by: command.by }
    }

    #[apply]
    fn tallied(&mut self, event: &RdTallied) {
        self.total += event.by;
    }

    #[on_query(sql = "SELECT id, count FROM rd_counter WHERE id = %id")]
    fn just_get_it(query: RdJustGetIt) -> RdJustGotIt;

    #[on_query(
        sql = "SELECT label, count, ratio, active FROM rd_counter WHERE count >= %at_least AND label LIKE %label_like ORDER BY count, label"
    )]
    fn counters_from(query: RdCountersFrom) -> Vec<RdCounterRow>;

    #[on_query(sql = "SELECT id, count FROM rd_counter WHERE label = %label")]
    fn maybe_counter(query: RdMaybeCounter) -> Option<RdJustGotIt>;

    #[on_query(sql = "SELECT total FROM rd_tally WHERE id = %tally")]
    fn tally_of(query: RdTallyOf) -> RdTallyTotal;

    #[on_query]
    async fn labels(_query: RdLabels, ctx: QueryContext<'_>) -> Result<Vec<String>> {
        let mut labels: Vec<String> = ctx
            .query::<RdCounter>()
            .all()
            .await?
            .items
            .into_iter()
            .map(|c| c.label)
            .collect();
        labels.sort();
        Ok(labels)
    }
}

async fn counters(domain: &Domain) -> Vec<Identifier> {
    let mut ids = Vec::new();
    for (label, count, ratio, active) in [
        ("apples", 3, 0.5, true),
        ("pears", 7, 1.25, false),
        ("plums", 7, 2.0, true),
        ("a'b", 1, 0.0, false),
    ] {
        let counter = RdCounter::builder()
            .label(label)
            .count(count)
            .ratio(ratio)
            .active(active)
            .build()
            .unwrap();
        ids.push(counter.id());
        domain.repository::<RdCounter>().add(counter).await.unwrap();
    }
    ids
}

async fn riddl_a_rust_query_clause_answers_on_every_store(db: TestDb) {
    let domain = db.domain().await;
    counters(&domain).await;
    let labels = domain.query(RdLabels {}).await.unwrap();
    assert_eq!(labels, ["a'b", "apples", "pears", "plums"]);
}

/// Opening a domain again runs no DDL on views that are as it would make them (no lock taken on
/// a view a query may be reading, and a view of the user's built on one keeps working); a view
/// that is not (changed by hand here) is made again.
async fn riddl_views_are_made_again_only_when_their_statement_changed(db: TestDb) {
    if !db.durable() {
        return; // no SQL, no views
    }
    let domain = db.domain().await;
    let ids = counters(&domain).await;
    drop(domain);
    // Changes with every DDL statement (SQLite), or with the view's replacement (PostgreSQL).
    let schema_change = match db.backend {
        Backend::Sqlite => "PRAGMA schema_version",
        _ => "SELECT 'rd_counter'::regclass::oid::bigint",
    };
    let before = db.raw_i64(schema_change).await;
    drop(db.domain().await);
    assert_eq!(
        db.raw_i64(schema_change).await,
        before,
        "reopening ran DDL on unchanged views"
    );
    db.raw_sql("CREATE VIEW user_counts AS SELECT label, count FROM rd_counter")
        .await;
    let domain = db.domain().await;
    assert_eq!(
        db.raw_i64("SELECT count(*) FROM user_counts").await,
        4,
        "the user's view on a framework view still reads"
    );
    drop(domain);

    if db.backend == Backend::Postgres {
        // Replaced in place by other means, under the user's view: the comment stays, but
        // PostgreSQL's rendering of the view changed, so it is made again (in place: the
        // user's view on it survives).
        db.raw_sql(
            "DO $$ BEGIN EXECUTE 'CREATE OR REPLACE VIEW rd_counter AS ' || \
             replace(pg_get_viewdef('rd_counter'::regclass), 'WHERE', 'WHERE false AND'); END $$",
        )
        .await;
        assert_eq!(db.raw_i64("SELECT count(*) FROM rd_counter").await, 0);
        drop(db.domain().await);
        assert_eq!(
            db.raw_i64("SELECT count(*) FROM user_counts").await,
            4,
            "a view replaced by other means was made again, under the user's view"
        );
    }

    db.raw_sql("DROP VIEW user_counts").await;
    db.raw_sql("DROP VIEW rd_counter").await;
    db.raw_sql("CREATE VIEW rd_counter AS SELECT 1 AS stale")
        .await;
    let domain = db.domain().await;
    let asked = domain.query(RdJustGetIt { id: ids[1].clone() }).await;
    assert_eq!(asked.unwrap().count, 7, "the stale view was made again");
}

async fn riddl_sql_query_clauses_bind_their_parameters(db: TestDb) {
    let domain = db.domain().await;
    let ids = counters(&domain).await;
    let asked = domain.query(RdJustGetIt { id: ids[1].clone() }).await;
    if !db.durable() {
        // The in-memory store has no SQL: a clear error, not an empty answer.
        let error = asked.unwrap_err();
        assert!(matches!(
            error,
            Error::SqlQueryOnMemory {
                query: "RdJustGetIt"
            }
        ));
        assert!(
            error
                .to_string()
                .contains("open it on SQLite or PostgreSQL"),
            "{error}"
        );
        return;
    }
    assert_eq!(
        asked.unwrap(),
        RdJustGotIt {
            id: ids[1].clone(),
            count: 7
        }
    );

    let rows = domain
        .query(RdCountersFrom {
            at_least: 3,
            label_like: "p%".into(),
        })
        .await
        .unwrap();
    let expected = |label: &str, count, ratio, active| RdCounterRow {
        label: label.into(),
        count,
        ratio,
        active,
    };
    assert_eq!(
        rows,
        [
            expected("pears", 7, 1.25, false),
            expected("plums", 7, 2.0, true)
        ]
    );

    // Values are bound, never spliced: a quote in a value is just a character.
    let quoted = domain
        .query(RdMaybeCounter {
            label: "a'b".into(),
        })
        .await
        .unwrap();
    assert_eq!(quoted.map(|c| c.count), Some(1));
    let injected = domain
        .query(RdMaybeCounter {
            label: "x' OR '1'='1".into(),
        })
        .await
        .unwrap();
    assert_eq!(injected, None);

    // A single-row result that finds none, or an `Option` that finds several, says so.
    let none = domain
        .query(RdJustGetIt {
            id: Identifier::new(),
        })
        .await;
    assert!(
        matches!(none, Err(Error::QueryRows { found: 0, .. })),
        "{none:?}"
    );

    // An event-sourced entity whose row holds its state is readable too.
    let tally = Identifier::new();
    for by in [2, 5] {
        let handled = domain
            .process(RdTallyUp {
                tally: tally.clone(),
                by,
            })
            .await
            .unwrap();
        assert_eq!(handled.events(), 1);
    }
    let total = domain.query(RdTallyOf { tally }).await.unwrap();
    assert_eq!(total, RdTallyTotal { total: 7 });

    // The query's own rules hold before any SQL runs.
    let invalid = domain
        .query(RdCountersFrom {
            at_least: 0,
            label_like: String::new(),
        })
        .await;
    assert!(matches!(invalid, Err(Error::Validation(_))), "{invalid:?}");
}

// ---- RIDDL's reaction: `on event Path.To.Context.ThingThatHappened yields ExternalThingHappened`

/// Another bounded context, named by path.
pub mod path {
    pub mod to {
        pub mod context {
            use domain_core::prelude::*;

            #[aggregate]
            pub struct Thing {
                pub what: String,
            }

            #[event(part_of = Thing)]
            pub struct ThingThatHappened {
                pub what_happened: String,
                /// The `RdExample` this is about, for the reaction that says so.
                pub example: Identifier,
            }

            #[event(part_of = Thing)]
            pub struct ThingWentQuiet {
                pub example: Identifier,
            }
        }
    }
}

use path::to::context::{Thing, ThingThatHappened, ThingWentQuiet};

#[handler_states]
pub enum RdExampleHandler {
    Listening,
    Deaf,
}

#[aggregate(event_sourced, states = RdExampleHandler)]
pub struct RdExample {
    pub heard: Vec<String>,
}

#[event(part_of = RdExample)]
pub struct RdExternalThingHappened {
    pub what_happened: String,
}

#[event(part_of = RdExample)]
pub struct RdWentDeaf {}

#[command(part_of = RdExample)]
pub struct RdStopListening {
    #[identifier]
    pub example: Identifier,
}

#[entity_handler]
impl RdExample {
    /// The anti-corruption step: the other context's event becomes this entity's own, for the
    /// example the event names.
    #[react(when = Listening, instance = example)]
    fn thing_happened(&self, event: &ThingThatHappened) -> RdExternalThingHappened {
        RdExternalThingHappened {
            what_happened: event.what_happened.to_uppercase(),
        }
    }

    /// Converted into a command of this entity (RIDDL: "into a command for altering its own
    /// state"), which its own clause handles.
    #[react(instance = example)]
    fn went_quiet(&self, event: &ThingWentQuiet) -> Process<RdStopListening> {
        Process(RdStopListening {
            example: event.example.clone(),
        })
    }

    #[on_command]
    fn stop_listening(&self, _command: RdStopListening) -> RdWentDeaf {
        RdWentDeaf {}
    }

    #[apply]
    fn external(&mut self, event: &RdExternalThingHappened) {
        self.heard.push(event.what_happened.clone());
    }

    #[apply(become = Deaf)]
    fn went_deaf(&mut self, _event: &RdWentDeaf) {}
}

async fn happen(domain: &Domain, example: &Identifier, what: &str) {
    let mut thing = Thing::builder().what(what).build().unwrap();
    thing.raise(ThingThatHappened {
        what_happened: what.into(),
        example: example.clone(),
    });
    domain.repository::<Thing>().add(thing).await.unwrap();
}

async fn riddl_a_reaction_turns_a_foreign_event_into_the_entitys_own(db: TestDb) {
    let domain = db.domain().await;
    let example = Identifier::new();
    happen(&domain, &example, "rain").await;
    happen(&domain, &example, "wind").await;
    domain.settle().await.unwrap();
    let heard = domain
        .repository::<RdExample>()
        .get(&example)
        .await
        .unwrap();
    assert_eq!(heard.heard(), &["RAIN".to_string(), "WIND".to_string()]);
    let stream = domain
        .event_store()
        .stream_of::<RdExample>(&example)
        .await
        .unwrap();
    assert_eq!(stream.len(), 2);
    // Caused by the foreign event: in its causal chain.
    assert!(stream[0].metadata().causation_id.is_some());

    // On a durable store a reaction is a subscription like any event handler, with its
    // checkpoint and lag.
    if db.durable() {
        let names: Vec<&str> = domain.subscriptions().iter().map(|s| s.handler).collect();
        assert!(
            names
                .iter()
                .any(|n| n.ends_with("RdExample::thing_happened")),
            "{names:?}"
        );
    }

    // In the `Deaf` handler the reaction does not run: the foreign event is ignored.
    let handled = domain
        .process(RdStopListening {
            example: example.clone(),
        })
        .await
        .unwrap();
    assert_eq!(handled.events(), 1);
    happen(&domain, &example, "hail").await;
    domain.settle().await.unwrap();
    let deaf = domain
        .repository::<RdExample>()
        .get(&example)
        .await
        .unwrap();
    assert_eq!(deaf.heard().len(), 2);
    assert_eq!(deaf.active_handler(), RdExampleHandler::Deaf);
}

async fn riddl_a_reaction_can_send_its_entity_a_command(db: TestDb) {
    let domain = db.domain().await;
    let example = Identifier::new();
    let mut thing = Thing::builder().what("radio").build().unwrap();
    thing.raise(ThingWentQuiet {
        example: example.clone(),
    });
    domain.repository::<Thing>().add(thing).await.unwrap();
    domain.settle().await.unwrap();
    let deaf = domain
        .repository::<RdExample>()
        .get(&example)
        .await
        .unwrap();
    assert_eq!(deaf.active_handler(), RdExampleHandler::Deaf);
    // The command was logged and its event appended, in the reaction's causal chain.
    let stream = domain
        .event_store()
        .stream_of::<RdExample>(&example)
        .await
        .unwrap();
    assert_eq!(stream.len(), 1);
    assert!(stream[0].is::<RdWentDeaf>());
    let commands = domain
        .command_log()
        .stream_of::<RdExample>(&example)
        .await
        .unwrap();
    assert_eq!(commands.len(), 1);
    assert!(commands[0].is::<RdStopListening>());
    assert_eq!(
        commands[0].metadata().correlation_id,
        stream[0].metadata().correlation_id
    );
}

/// With `IgnoredMessages::Fail`, a reaction its entity's active handler does not run is a failed
/// delivery, recorded for retry like any handler's error.
async fn riddl_a_refused_reaction_is_a_failed_delivery(db: TestDb) {
    let domain = db
        .open(db.builder().ignored_messages(IgnoredMessages::Fail))
        .await;
    let example = Identifier::new();
    let handled = domain
        .process(RdStopListening {
            example: example.clone(),
        })
        .await
        .unwrap();
    assert_eq!(handled.events(), 1);
    let mut thing = Thing::builder().what("bell").build().unwrap();
    thing.raise(ThingThatHappened {
        what_happened: "ding".into(),
        example: example.clone(),
    });
    let added = domain.repository::<Thing>().add(thing).await;
    let failures = match added {
        Err(Error::HandlersFailed { failures, .. }) => failures,
        other => panic!("expected the reaction to fail, got {other:?}"),
    };
    assert_eq!(failures.len(), 1);
    assert!(failures[0].handler.ends_with("RdExample::thing_happened"));
    assert!(
        failures[0]
            .cause
            .contains("active handler `Deaf` has no clause"),
        "{}",
        failures[0].cause
    );
    let recorded = domain.failed_deliveries().await.unwrap();
    assert_eq!(recorded.len(), 1);
    // Nothing was applied to the deaf example.
    let deaf = domain
        .repository::<RdExample>()
        .get(&example)
        .await
        .unwrap();
    assert!(deaf.heard().is_empty());
}
