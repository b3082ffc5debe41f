//! RIDDL's entity handler page, running: every `on` clause of the page as an `#[entity_handler]`
//! clause, and a small state machine of handlers (an order that ships only once paid).
//!
//! `cargo run --example riddl` (in memory), or on a database:
//! `cargo run --example riddl -- --database sqlite://riddl.db`,
//! `DOMAIN_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run --example riddl`.
//! The query clause answers by SQL, so in memory it reports that it needs a database.

use domain_core::prelude::*;
use examples::{check, database_flag};

// ---- command JustDoIt is { id: Id(AnEntity), encouragement: String } ---------------------------
// ---- state State is { name: String }; on event NameWasUpdated { set State.name to .. } ---------

/// `snapshot_every = 1`: its row always holds its current state, so SQL can read it (the view
/// `an_entity`).
#[aggregate(event_sourced, snapshot_every = 1)]
pub struct AnEntity {
    #[field(allow_blank)]
    pub name: String,
    pub count: i64,
}

#[command(part_of = AnEntity)]
pub struct JustDoIt {
    #[identifier]
    pub id: Identifier,
    pub encouragement: String,
}

#[event(part_of = AnEntity)]
pub struct JustDidIt {
    pub id: Identifier,
    pub encouragement: String,
}

#[command(part_of = AnEntity)]
pub struct UpdateName {
    #[identifier]
    pub id: Identifier,
    pub new_name: String,
}

#[event(part_of = AnEntity)]
pub struct NameWasUpdated {
    pub id: Identifier,
    pub new_name: String,
}

// ---- type JustGetIt = query { id: Id(AnEntity) } -------------------------------------------------
// ---- type JustGotIt = response { id: Id(AnEntity), count: Integer } -----------------------------

#[query(result = JustGotIt)]
pub struct JustGetIt {
    pub id: Identifier,
}

#[response]
pub struct JustGotIt {
    pub id: Identifier,
    pub count: i64,
}

#[entity_handler]
impl AnEntity {
    /// `on command JustDoIt yields JustDidIt`
    #[on_command]
    fn just_do_it(&self, command: JustDoIt) -> JustDidIt {
        JustDidIt {
            id: command.id,
            encouragement: command.encouragement,
        }
    }

    /// A clause that decides: the same name again yields nothing.
    #[on_command]
    fn update_name(&self, command: UpdateName) -> Option<NameWasUpdated> {
        if command.new_name == self.name {
            return None;
        }
        Some(NameWasUpdated {
            id: command.id,
            new_name: command.new_name,
        })
    }

    #[apply]
    fn did_it(&mut self, _event: &JustDidIt) {
        self.count += 1;
    }

    /// `on event NameWasUpdated { set State.name to NameWasUpdated.newName }`
    #[apply]
    fn name_was_updated(&mut self, event: &NameWasUpdated) {
        self.name = event.new_name.clone();
    }

    /// `on query JustGetIt { then return JustGotIt from "SELECT id, count FROM AnEntity WHERE id = %id" }`
    #[on_query(sql = "SELECT id, count FROM an_entity WHERE id = %id")]
    fn just_get_it(query: JustGetIt) -> JustGotIt;
}

// ---- domain Path { domain To { context Context { event ThingThatHappened .. } } } ------------

pub mod path {
    pub mod to {
        pub mod context {
            use domain_core::prelude::*;

            #[aggregate]
            pub struct Entity {
                pub what: String,
            }

            #[event(part_of = Entity)]
            pub struct ThingThatHappened {
                pub what_happened: String,
            }
        }
    }
}

// ---- domain Foo { context Bar { entity Example { .. } } } --------------------------------------

pub mod foo {
    pub mod bar {
        use domain_core::prelude::*;

        #[aggregate(event_sourced)]
        pub struct Example {
            pub things: Vec<String>,
        }

        #[event(part_of = Example)]
        pub struct ExternalThingHappened {
            pub what_happened: String,
        }

        #[entity_handler]
        impl Example {
            /// `on event Path.To.Context.ThingThatHappened yields ExternalThingHappened`: the
            /// other context's event becomes this entity's own, for the `Example` with the
            /// identity of the entity it happened to.
            #[react]
            fn thing_happened(
                &self,
                event: &crate::path::to::context::ThingThatHappened,
            ) -> ExternalThingHappened {
                ExternalThingHappened {
                    what_happened: event.what_happened.clone(),
                }
            }

            #[apply]
            fn external(&mut self, event: &ExternalThingHappened) {
                self.things.push(event.what_happened.clone());
            }
        }
    }
}

// ---- several handlers, one active: an order that accepts `Ship` only once paid ------------------

#[handler_states]
pub enum OrderHandler {
    AwaitingPayment,
    Paid,
    Shipped,
}

#[aggregate(event_sourced, states = OrderHandler)]
pub struct Order {
    pub paid_cents: i64,
}

#[command(part_of = Order)]
pub struct Pay {
    #[identifier]
    pub order: Identifier,
    pub cents: i64,
}

#[command(part_of = Order)]
pub struct Ship {
    #[identifier]
    pub order: Identifier,
}

#[event(part_of = Order)]
pub struct Paid {
    pub cents: i64,
}

#[event(part_of = Order)]
pub struct Shipped {}

#[entity_handler]
impl Order {
    #[on_command(when = AwaitingPayment)]
    fn pay(&self, command: Pay) -> Result<Paid> {
        if command.cents <= 0 {
            return Err(Error::rule("a payment is more than nothing"));
        }
        Ok(Paid {
            cents: command.cents,
        })
    }

    #[on_command(when = Paid)]
    fn ship(&self, _command: Ship) -> Shipped {
        Shipped {}
    }

    #[apply(become = Paid)]
    fn paid(&mut self, event: &Paid) {
        self.paid_cents += event.cents;
    }

    #[apply(become = Shipped)]
    fn shipped(&mut self, _event: &Shipped) {}
}

async fn run() -> Result<()> {
    let mut builder = Domain::builder("Riddl");
    if let Some(url) = database_flag("riddl")? {
        builder = builder.database(url);
    }
    let domain = builder.open().await?;

    // on command JustDoIt yields JustDidIt
    let id = Identifier::new();
    let handled = domain
        .process(JustDoIt {
            id: id.clone(),
            encouragement: "you can".into(),
        })
        .await?;
    println!("JustDoIt -> {handled}");
    check(handled.events() == 1, "JustDoIt yields JustDidIt")?;

    // on event NameWasUpdated { set State.name to NameWasUpdated.newName }
    for name in ["Ada", "Ada"] {
        let handled = domain
            .process(UpdateName {
                id: id.clone(),
                new_name: name.into(),
            })
            .await?;
        println!("UpdateName({name}) -> {handled}");
    }
    let entity = domain.repository::<AnEntity>().get(&id).await?;
    println!(
        "AnEntity {id}: name {:?}, count {}, version {}",
        entity.name(),
        entity.count(),
        entity.version()
    );
    check(entity.name() == "Ada", "the name is set by NameWasUpdated")?;
    check(entity.version() == 2, "the second rename yielded nothing")?;

    // on query JustGetIt { then return JustGotIt from "SELECT .." }
    match domain.query(JustGetIt { id: id.clone() }).await {
        Ok(got) => {
            println!(
                "JustGetIt -> JustGotIt {{ id: {}, count: {} }}",
                got.id, got.count
            );
            check(got.count == 1, "the query reads the entity's state")?;
        }
        Err(error @ Error::SqlQueryOnMemory { .. }) => {
            println!("JustGetIt -> {error}");
        }
        Err(other) => return Err(other),
    }

    // on event Path.To.Context.ThingThatHappened yields ExternalThingHappened
    let mut thing = path::to::context::Entity::builder()
        .what("weather")
        .build()?;
    let thing_id = thing.id();
    thing.raise(path::to::context::ThingThatHappened {
        what_happened: "it rained".into(),
    });
    domain
        .repository::<path::to::context::Entity>()
        .add(thing)
        .await?;
    domain.settle().await?;
    let example = domain
        .repository::<foo::bar::Example>()
        .get(&thing_id)
        .await?;
    println!(
        "Path.To.Context.ThingThatHappened -> Foo.Bar.Example {thing_id} heard {:?}",
        example.things()
    );
    check(
        *example.things() == ["it rained".to_string()],
        "the reaction converted the foreign event",
    )?;

    // Handlers as states: Ship is ignored until the order is paid.
    let order = Identifier::new();
    let early = domain
        .process(Ship {
            order: order.clone(),
        })
        .await?;
    println!("Ship while AwaitingPayment -> {early}");
    check(early.is_ignored(), "an unpaid order does not ship")?;
    let paid = domain
        .process(Pay {
            order: order.clone(),
            cents: 1999,
        })
        .await?;
    println!("Pay -> {paid}");
    let shipped = domain
        .process(Ship {
            order: order.clone(),
        })
        .await?;
    println!("Ship while Paid -> {shipped}");
    let again = domain
        .process(Pay {
            order: order.clone(),
            cents: 1999,
        })
        .await?;
    println!("Pay while Shipped -> {again}");
    let loaded = domain.repository::<Order>().get(&order).await?;
    println!(
        "Order {order}: active handler {:?}, paid {} cents",
        loaded.active_handler(),
        loaded.paid_cents()
    );
    check(
        loaded.active_handler() == OrderHandler::Shipped && *loaded.paid_cents() == 1999,
        "the order was paid once and shipped",
    )?;
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
