//! The contracts between the handler macros and the runtime.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::model::Command;
use crate::model::error::{Error, Result};
use crate::runtime::context::Context;

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
pub(crate) struct CatchPanic<F: ?Sized>(pub Pin<Box<F>>);

impl<T, F: Future<Output = Result<T>> + ?Sized> Future for CatchPanic<F> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<T>> {
        let future = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => Poll::Ready(Err(Error::Rule(format!(
                "handler panicked: {}",
                panic_message(&*panic)
            )))),
        }
    }
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
    instance.downcast_ref::<H>().ok_or_else(|| {
        Error::Store(format!(
            "the instance registered for `{name}` has another type"
        ))
    })
}
