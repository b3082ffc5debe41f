//! Entity handlers (RIDDL's `handler` and its `on` clauses, `#[entity_handler]`): running an
//! `#[on_command]` clause — load the entity (or start it blank), ask its active handler, call
//! the clause, apply and stage what it yields — and the registration of an entity's handler.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::model::clause::{Handled, IgnoredMessages, Process, Yields};
use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::message::EventEnvelope;
use crate::model::{Aggregate, Command, Event, EventSourced};
use crate::runtime::context::Context;
use crate::runtime::handler::HandledCommand;
use crate::runtime::registry::{BoxFuture, Instance, Register, Registration};

/// The handler type behind an entity's `#[on_command]` clauses: the clauses are the entity's
/// own methods, so there is no instance to hold, only a type to key the command routes by.
#[doc(hidden)]
pub struct EntityHandlers<A>(PhantomData<fn() -> A>);

impl<A> Default for EntityHandlers<A> {
    fn default() -> Self {
        EntityHandlers(PhantomData)
    }
}

/// The instance the registry keeps for an entity's handler.
#[doc(hidden)]
pub fn entity_handlers_instance<A: 'static>() -> Option<Instance> {
    Some(Arc::new(EntityHandlers::<A>::default()))
}

/// The registration of an entity's `#[entity_handler]` block. Its name is the rule a second
/// block for the same entity breaks: the entity's clauses are read in one place, like RIDDL's
/// handlers inside their entity.
#[doc(hidden)]
pub trait OneEntityHandlerBlockPerEntity: Aggregate {
    /// The entity handler's registration.
    fn entity_handler_registration() -> &'static Registration;
}

/// Explicit registration: `builder.register::<EntityHandlers<Order>>()`.
impl<A: OneEntityHandlerBlockPerEntity> Register for EntityHandlers<A> {
    fn registration() -> &'static Registration {
        A::entity_handler_registration()
    }
}

/// The bound `#[entity_handler]` puts on its entity's sourcing: the clauses apply the events
/// they yield, so the entity's state must be the fold of its events. On the sourcing type (with
/// the entity as parameter) rather than on the entity, so that the message names the entity.
#[diagnostic::on_unimplemented(
    message = "`{A}` is not event-sourced, and `#[entity_handler]` needs an event-sourced entity",
    label = "declare `{A}` with `#[aggregate(event_sourced)]`",
    note = "an entity handler's `#[on_command]` clauses yield events that `#[apply]` methods fold into the state; a state-stored aggregate is changed by a `#[command_handler]` instead"
)]
#[doc(hidden)]
pub trait EventSourcedEntity<A> {}

impl<A> EventSourcedEntity<A> for EventSourced {}

/// The check `#[entity_handler]` makes, once, at the entity's name.
#[doc(hidden)]
pub const fn event_sourced_entity<A: Aggregate>()
where
    A::Sourcing: EventSourcedEntity<A>,
{
}

/// Runs one `#[on_command]` clause: loads the command's entity (its `#[identifier]`; a blank
/// entity when it has no events yet or the command names none), ignores the command if the
/// active handler has no clause for it (`accepts` returns that handler's name), else calls the
/// clause and applies and stages what it yields. The caller's unit of work commits it.
#[doc(hidden)]
pub async fn run_command_clause<A: Aggregate, C: Command, Y>(
    command: C,
    ctx: &mut Context,
    accepts: fn(&A) -> Option<&'static str>,
    clause: fn(&A, C) -> Y,
    raise: fn(Y, &mut A) -> Result<usize>,
) -> Result<Handled> {
    // A command without an `#[identifier]` starts a new entity: a fresh identity (`Default`).
    let id = command.target().unwrap_or_default();
    let mut entity = ctx.load_or_blank::<A>(&id).await?;
    if let Some(handler) = accepts(&entity) {
        return ignored(ctx, C::NAME, A::NAME, id, handler);
    }
    let events = raise(clause(&entity, command), &mut entity)?;
    // Nothing yielded, nothing to write: the version stays.
    if events > 0 {
        ctx.repository::<A>().add(entity)?;
    }
    Ok(Handled::Applied { id, events })
}

/// Runs one `#[react]` clause on a delivered event of another entity (RIDDL: `on event
/// Path.To.Context.ThingThatHappened yields ExternalThingHappened`): the entity is the one
/// `target` names (the reaction's `instance = field`), or else the one whose identity the event's
/// stream carries; the rest is as for a command clause, in the delivery's unit of work, which
/// commits with the subscription's checkpoint.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub async fn run_reaction<A: Aggregate, E: Event, Y>(
    event: &E,
    envelope: &EventEnvelope,
    ctx: &mut Context,
    target: fn(&E) -> Option<Identifier>,
    accepts: fn(&A) -> Option<&'static str>,
    clause: fn(&A, &E) -> Y,
    react: for<'c> fn(Y, A, &'c mut Context) -> BoxFuture<'c, Result<()>>,
) -> Result<()> {
    let id = match target(event) {
        Some(id) => id,
        None => stream_identity(&envelope.metadata().stream),
    };
    let entity = ctx.load_or_blank::<A>(&id).await?;
    if let Some(handler) = accepts(&entity) {
        return ignored(ctx, E::NAME, A::NAME, id, handler).map(drop);
    }
    let reaction = clause(&entity, event);
    react(reaction, entity, ctx).await
}

/// Carries out a `#[react]` clause that yields events (see [`Yields`]): applies and stages them.
#[doc(hidden)]
pub fn yield_reaction<A: Aggregate, Y: Yields<A> + Send + 'static>(
    yielded: Y,
    mut entity: A,
    ctx: &mut Context,
) -> BoxFuture<'_, Result<()>> {
    Box::pin(async move {
        if yielded.__raise_into(&mut entity)? > 0 {
            ctx.repository::<A>().add(entity)?;
        }
        Ok(())
    })
}

/// Carries out a `#[react]` clause that returns [`Process`] of a command of its own entity: the
/// command is processed at once, in the delivery's unit of work (nothing commits unless
/// everything does). The command names its own target, and its handler loads it.
#[doc(hidden)]
pub fn process_reaction<A: Aggregate, C: HandledCommand<Aggregate = A>>(
    process: Process<C>,
    entity: A,
    ctx: &mut Context,
) -> BoxFuture<'_, Result<()>> {
    drop(entity);
    Box::pin(async move { ctx.process(process.0).await.map(drop) })
}

/// The identity a reaction's `instance = field` names (an `Identifier`, a `String`, ..).
#[doc(hidden)]
pub fn identity_of<T: Clone + Into<Identifier>>(value: &T) -> Identifier {
    value.clone().into()
}

/// The identity in an event's stream name, `<category>-<id>` (a category has no `-`).
fn stream_identity(stream: &str) -> Identifier {
    Identifier::from(
        stream
            .split_once('-')
            .map_or(stream, |(_, id)| id)
            .to_owned(),
    )
}

fn ignored(
    ctx: &Context,
    message: &'static str,
    entity: &'static str,
    id: Identifier,
    handler: &'static str,
) -> Result<Handled> {
    tracing::debug!(message, entity, %id, handler, "ignored by the active handler");
    match ctx.inner.ignored {
        IgnoredMessages::Report => Ok(Handled::Ignored { id, handler }),
        IgnoredMessages::Fail => Err(Error::Ignored {
            message,
            entity,
            id: id.to_string(),
            handler,
        }),
    }
}
