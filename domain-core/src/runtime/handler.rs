//! The contracts between the handler macros and the runtime, and running a command's handler:
//! validating the command, finding its handler, building its metadata (`prepare`), and nested
//! commands (`ctx.process`).

use std::any::{Any, TypeId};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

use uuid::Uuid;

use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::message::{MessageKind, Metadata};
use crate::model::{Aggregate, Command};
use crate::runtime::context::Context;
use crate::runtime::core::{DomainInner, Parent, origin_of};
use crate::runtime::registry::BoxFuture;
use crate::store::PendingCommand;

/// The stream category of a handled command's aggregate, compared at compile time with its
/// handler's `part_of`. Bounded by `HandledCommand` rather than `Command`, so a `#[handle(X)]` of
/// a non-command reports one error (the impl's) instead of a second one here.
#[doc(hidden)]
pub const fn handled_command_category<C: HandledCommand>() -> &'static str {
    <C::Aggregate as crate::model::Aggregate>::CATEGORY
}

/// Links a command to its one handler. `#[command_handler]` implements it for each `#[handle(C)]`;
/// a second handler for the same command is a conflicting implementation, so "one handler per
/// command" is checked by the compiler.
///
/// `Domain::process` is typed by it: `domain.process(AddBook { .. })` returns the handler's value.
#[diagnostic::on_unimplemented(
    message = "no command handler handles `{Self}`",
    label = "`{Self}` has no `#[handle({Self})]` method",
    note = "add a method with `#[handle({Self})]` to an impl annotated with `#[command_handler(part_of = ...)]`"
)]
pub trait HandledCommand: Command {
    /// The handler type.
    type Handler: Send + Sync + 'static;
    /// What the handler returns on success.
    type Output: Send + 'static;
    /// Runs the handler method.
    fn handle(
        handler: &Self::Handler,
        command: Self,
        ctx: &mut Context,
    ) -> impl Future<Output = Result<Self::Output>> + Send;
}

/// What a handler method may return: `Result<T, E>` with `E: Into<Error>`, or nothing.
#[diagnostic::on_unimplemented(
    message = "a handler must return `Result<T>` or nothing, not `{Self}`",
    label = "change the return type to `domain_core::Result<...>`"
)]
pub trait HandlerReturn {
    /// The success value.
    type Output;
    /// Converts to the framework's result.
    fn into_result(self) -> Result<Self::Output>;
}

impl<T, E: Into<Error>> HandlerReturn for std::result::Result<T, E> {
    type Output = T;
    fn into_result(self) -> Result<T> {
        self.map_err(Into::into)
    }
}

impl HandlerReturn for () {
    type Output = ();
    fn into_result(self) -> Result<()> {
        Ok(())
    }
}

/// Turns a panic inside a handler into an error, so one faulty handler cannot take the dispatch
/// loop (and the events still queued behind it) down with it.
///
/// It holds a future that is `Unpin`: a boxed one as it comes, or a handler's own future pinned
/// where it is awaited (`CatchPanic(std::pin::pin!(future))`), which spares a heap allocation
/// per handler call.
pub(crate) struct CatchPanic<F>(pub F);

impl<T, F: Future<Output = Result<T>> + Unpin> Future for CatchPanic<F> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<T>> {
        let future = Pin::new(&mut self.0);
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => Poll::Ready(Err(panicked(&*panic))),
        }
    }
}

/// Calls a plain (not `async`) handler, turning a panic into an error as [`CatchPanic`] does.
pub(crate) fn catch_panic<T>(call: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| Err(panicked(&*panic)))
}

/// The error a handler's panic becomes.
#[cold]
fn panicked(panic: &(dyn Any + Send)) -> Error {
    Error::Rule(format!("handler panicked: {}", panic_message(panic)))
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Downcasts an erased handler instance, as an error rather than a panic.
#[doc(hidden)]
pub fn instance_as<'a, H: 'static>(
    instance: &'a (dyn Any + Send + Sync),
    name: &'static str,
) -> Result<&'a H> {
    match instance.downcast_ref::<H>() {
        Some(handler) => Ok(handler),
        None => Err(wrong_instance(name)),
    }
}

/// The error of [`instance_as`], not generic: built once, not once per handler type.
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn wrong_instance(name: &'static str) -> Error {
    Error::Store(format!(
        "the instance registered for `{name}` has another type"
    ))
}

/// Takes back the handler context a delivery passes erased (see `DispatchEvent`).
#[doc(hidden)]
pub fn context_as(ctx: &mut (dyn Any + Send)) -> Result<&mut Context> {
    ctx.downcast_mut::<Context>()
        .ok_or_else(|| Error::Store("a delivery was given something other than a context".into()))
}

/// The registered handler of `C`.
pub(crate) fn handler_of<C: HandledCommand>(core: &DomainInner) -> Result<&C::Handler> {
    core.registry
        .commands
        .get(&TypeId::of::<C>())
        .and(core.instance(TypeId::of::<C::Handler>()))
        .and_then(|h| h.downcast_ref::<C::Handler>())
        .ok_or_else(|| Error::NoHandler {
            command: C::NAME.to_string(),
            hint: ": register the command and its handler with this domain (`.register::<T>()`)",
        })
}

/// Validates a command and finds its handler; builds its metadata.
pub(crate) fn prepare<'a, C: HandledCommand>(
    core: &'a DomainInner,
    command: &C,
    parent: Parent<'_>,
) -> Result<(&'a C::Handler, Arc<Metadata>)> {
    command.validate()?;
    let handler = handler_of::<C>(core)?;
    let info = core.registry.commands.get(&TypeId::of::<C>());
    let (id, correlation_id, parent) = match parent {
        Parent::Caller(options) => {
            let id = options.command_id.unwrap_or_else(Uuid::new_v4);
            (id, options.correlation_id.unwrap_or(id), None)
        }
        Parent::Message(parent) => (Uuid::new_v4(), parent.correlation_id, Some(parent)),
    };
    // `{category}:command-{target}`, the command's own id standing in for a new aggregate's.
    let target = command.target().unwrap_or_else(|| Identifier::from(id));
    let stream = target.prefixed_with(&[<C::Aggregate as Aggregate>::CATEGORY, ":command-"]);
    let metadata = Arc::new(Metadata {
        id,
        kind: MessageKind::Command,
        type_name: info.map_or_else(|| Arc::from(C::NAME), |i| i.type_name.clone()),
        correlation_id,
        causation_id: parent.map(|p| p.id),
        origin_stream: Some(parent.map_or_else(|| stream.clone(), origin_of)),
        stream,
        stream_position: 0,
        global_position: 0,
        timestamp: SystemTime::now(),
        schema_version: 1,
    });
    Ok((handler, metadata))
}

// `ctx.process` lives here, beside the command contract it drives, so that the context itself
// needs nothing from this module.
impl Context {
    /// Processes a further command now, caused by the current message (same correlation id),
    /// **inside this handler's unit of work**: what its handler stages commits together with
    /// this handler's changes, or not at all. So a handler that fails after processing a command
    /// leaves nothing of it behind, and its retry runs the command again exactly once in effect
    /// (Protean's nested unit of work behaves the same way).
    ///
    /// The nested handler reads what this handler staged, and this handler reads what the nested
    /// one staged: load an aggregate again after `process` if both change it. If the nested
    /// handler fails, its own changes are dropped and its error returned; this handler decides
    /// what to do with it. Its events are dispatched after the joint commit, caused by it.
    pub fn process<C: HandledCommand>(&self, command: C) -> BoxFuture<'_, Result<C::Output>> {
        Box::pin(async move {
            let (handler, metadata) =
                prepare(&self.inner, &command, Parent::Message(&self.metadata))?;
            let mut nested = self.nested(metadata.clone());
            nested
                .commands
                .get_mut()
                .push(pending_command(&command, metadata)?);
            let handled = C::handle(handler, command, &mut nested);
            let output = CatchPanic(std::pin::pin!(handled)).await?;
            // Joined: the nested command's changes and log records become this handler's.
            let causation = nested.causation();
            let staged = std::mem::take(&mut *nested.unit().lock());
            self.unit().lock().absorb(staged, &causation)?;
            let logged = std::mem::take(nested.commands.get_mut());
            self.commands.lock().extend(logged);
            Ok(output)
        })
    }
}

/// The log record of `command`, serialized before its handler takes it by value: text, not a
/// `Value` tree, is what the stores keep or bind.
pub(crate) fn pending_command<C: HandledCommand>(
    command: &C,
    metadata: Arc<Metadata>,
) -> Result<PendingCommand> {
    let payload = serde_json::to_string(command)
        .map_err(|e| Error::Store(format!("serializing `{}`: {e}", C::NAME)))?;
    Ok(PendingCommand {
        metadata,
        payload: payload.into_boxed_str(),
    })
}
