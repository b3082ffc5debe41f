//! Registration: what the macros record about each element, the linkme slice that collects it,
//! and the checked `Registry` (crate-internal) that `Domain::builder(..).build()` makes of it once.
//!
//! Every macro emits one `static` [`Registration`] into [`DOMAIN_CORE_REGISTRATIONS`] and an
//! implementation of [`Register`] pointing at the same static, so the explicit path
//! (`.register::<T>()`) and the automatic one read the same data.

use foldhash::{HashMap, HashSet};
use std::any::{Any, TypeId};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::model::codec::{Codec, EventDecoder};
use crate::model::error::Result;
use crate::model::message::EventEnvelope;
use crate::store::EntityView;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An erased handler instance.
pub type Instance = Arc<dyn Any + Send + Sync>;

/// Every element the macros registered in the binary.
#[allow(unsafe_code)] // linkme's slice declaration uses a link section; nothing else here is unsafe.
#[linkme::distributed_slice]
pub static DOMAIN_CORE_REGISTRATIONS: [Registration];

/// What one macro invocation contributes to the registry.
#[non_exhaustive]
pub enum Registration {
    /// `#[aggregate]`
    Aggregate(AggregateRegistration),
    /// `#[entity]`
    Entity(EntityRegistration),
    /// `#[event]`
    Event(EventRegistration),
    /// `#[command]`
    Command(CommandRegistration),
    /// `#[command_handler]`
    CommandHandler(CommandHandlerRegistration),
    /// `#[event_handler]`
    EventHandler(EventHandlerRegistration),
}

/// Implemented by every annotated type: the explicit registration path,
/// `Domain::builder(..).register::<T>()`, for targets where linkme cannot collect elements.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be registered in a domain",
    note = "only types annotated with `#[aggregate]`, `#[entity]`, `#[event]`, `#[command]`, `#[command_handler]` or `#[event_handler]` can be registered"
)]
pub trait Register {
    /// The type's registration.
    fn registration() -> &'static Registration;
}

/// The registration of a `#[command_handler]` or `#[event_handler]` type. Its name is the rule it
/// enforces: a second annotated impl block for one type (an event handler split over two blocks,
/// or one type used as both a command and an event handler) is a conflicting implementation of
/// this trait. Put every `#[handle]` method of a handler in one block, and give each role its own
/// type.
#[doc(hidden)]
pub trait OneAnnotatedImplBlockPerHandlerType {
    /// The handler's registration.
    fn handler_registration() -> &'static Registration;
}

impl<T: OneAnnotatedImplBlockPerHandlerType> Register for T {
    fn registration() -> &'static Registration {
        T::handler_registration()
    }
}

#[doc(hidden)]
pub struct AggregateRegistration {
    pub name: &'static str,
    pub module: &'static str,
    pub type_id: fn() -> TypeId,
    pub category: &'static str,
    /// How SQL query handlers read it (`None`: its rows hold no current state).
    pub sql_view: Option<crate::model::query_message::SqlView>,
}

#[doc(hidden)]
pub struct EntityRegistration {
    pub name: &'static str,
    pub type_id: fn() -> TypeId,
    pub aggregate: fn() -> TypeId,
    pub aggregate_name: &'static str,
}

#[doc(hidden)]
pub struct EventRegistration {
    pub name: &'static str,
    pub module: &'static str,
    pub version: u32,
    pub type_id: fn() -> TypeId,
    pub aggregate: fn() -> TypeId,
    pub aggregate_name: &'static str,
    pub category: &'static str,
    /// Decodes (and validates) a serialized instance.
    pub decode: crate::model::codec::DecodeEvent,
    /// The upcasters from version 1 to 2, 2 to 3, ... up to `version` (empty at version 1).
    pub upcasters: &'static [crate::model::codec::UpcastFn],
}

#[doc(hidden)]
pub struct CommandRegistration {
    pub name: &'static str,
    pub module: &'static str,
    pub type_id: fn() -> TypeId,
    pub aggregate: fn() -> TypeId,
    pub aggregate_name: &'static str,
}

/// Runs a serialized command through a domain (see `Domain::process_json`). The domain is
/// passed erased (`&Domain` as `&dyn Any`): the registry sits below the `Domain` API and must not
/// name it.
#[doc(hidden)]
pub type ProcessJson = for<'a> fn(
    &'a (dyn Any + Send + Sync),
    serde_json::Value,
) -> BoxFuture<'a, Result<Box<dyn Any + Send>>>;

/// Runs a submitted command from its log record (async command processing; see
/// `runtime::submission`). The domain's core is passed erased (`&Arc<DomainInner>` as `&dyn
/// Any`), for the same reason as [`ProcessJson`].
#[doc(hidden)]
pub type RunSubmitted = for<'a> fn(
    &'a (dyn Any + Send + Sync),
    &'a crate::model::message::RecordedCommand,
) -> BoxFuture<'a, Result<()>>;

#[doc(hidden)]
pub struct HandledCommandEntry {
    pub name: &'static str,
    pub type_id: fn() -> TypeId,
    pub process_json: ProcessJson,
    pub run_submitted: RunSubmitted,
}

#[doc(hidden)]
pub struct CommandHandlerRegistration {
    pub name: &'static str,
    pub type_id: fn() -> TypeId,
    pub aggregate: fn() -> TypeId,
    pub aggregate_name: &'static str,
    pub commands: &'static [HandledCommandEntry],
    /// `Some(instance)` when the handler implements `Default`.
    pub default_instance: fn() -> Option<Instance>,
}

/// Delivers one event to an erased event-handler instance. The handler context is passed erased
/// (`&mut Context` as `&mut dyn Any`; the generated code takes it back with `context_as`): the
/// context holds the domain, which holds this registry, so naming it here would tie the layers
/// into a loop.
#[doc(hidden)]
pub type DispatchEvent = for<'a> fn(
    &'a (dyn Any + Send + Sync),
    &'a EventEnvelope,
    &'a mut (dyn Any + Send),
) -> BoxFuture<'a, Result<()>>;

/// [`DispatchEvent`] for a handler none of whose methods is `async`: a plain call, with no
/// future to allocate and poll.
#[doc(hidden)]
pub type DispatchEventSync =
    fn(&(dyn Any + Send + Sync), &EventEnvelope, &mut (dyn Any + Send)) -> Result<()>;

/// How a delivery calls an event handler: awaiting its future, or calling it directly when it
/// has no `async` method (the generated code chooses).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum EventDispatch {
    /// At least one method is `async`.
    Async(DispatchEvent),
    /// Every method is a plain function.
    Sync(DispatchEventSync),
}

#[doc(hidden)]
pub struct HandledEventEntry {
    pub name: &'static str,
    pub type_id: fn() -> TypeId,
}

#[doc(hidden)]
pub struct EventHandlerRegistration {
    pub name: &'static str,
    /// The full path (`my_crate::billing::Mailer`): what identifies the handler in failure
    /// records, so two handlers with one short name in different modules stay apart.
    pub path: &'static str,
    pub type_id: fn() -> TypeId,
    pub aggregate: fn() -> TypeId,
    pub aggregate_name: &'static str,
    /// The resolved category: the option, or the `part_of` aggregate's category.
    pub stream_category: &'static str,
    pub source_stream: Option<&'static str>,
    pub events: &'static [HandledEventEntry],
    pub handles_any: bool,
    /// `Some(instance)` when the handler implements `Default`.
    pub default_instance: fn() -> Option<Instance>,
    pub dispatch: EventDispatch,
}

/// The category an event handler uses to listen to every category.
pub const ALL_CATEGORIES: &str = "$all";

pub(crate) struct EventInfo {
    pub type_name: Arc<str>,
    pub registration: &'static EventRegistration,
}

pub(crate) struct CommandInfo {
    pub type_name: Arc<str>,
    pub entry: Option<&'static HandledCommandEntry>,
}

/// The checked registry of one domain.
pub(crate) struct Registry {
    pub events: HashMap<TypeId, EventInfo>,
    pub commands: HashMap<TypeId, CommandInfo>,
    pub commands_by_name: HashMap<Arc<str>, TypeId>,
    pub event_handlers: Vec<&'static EventHandlerRegistration>,
    /// Event type -> indexes into `event_handlers`, in handler-name order.
    pub routes: HashMap<TypeId, Vec<usize>>,
    /// The decoders the stores are given.
    codec: Arc<Codec>,
    /// The aggregates SQL query handlers can read, as views.
    pub views: Vec<EntityView>,
    /// The stream categories of the registered aggregates and the external ones, sorted.
    pub categories: Vec<Arc<str>>,
}

/// The suffix of a category's command streams: `order:command-<id>` belongs to `order`.
const COMMAND_SUFFIX: &str = ":command";

/// The spelling `#[aggregate(stream_category = ..)]` accepts, checked here for categories given
/// at run time.
fn is_valid_category(category: &str) -> bool {
    category
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && category
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | ':' | '.'))
}

impl Registry {
    /// Checks the registrations and builds the lookup tables; every problem is returned at once.
    pub fn build(
        domain: &str,
        registrations: impl IntoIterator<Item = &'static Registration>,
        external: &[&str],
        instances: &mut HashMap<TypeId, Instance>,
    ) -> std::result::Result<Registry, Vec<String>> {
        let mut problems = Vec::new();
        for category in external {
            if !is_valid_category(category) {
                problems.push(format!(
                    "external category {category:?} is not a valid stream category: use lowercase snake_case like \"billing\" (letters, digits, `_`, `:`, `.`; no `-`)"
                ));
            }
        }
        let mut seen = HashSet::default();
        let mut aggregates: HashMap<TypeId, &'static AggregateRegistration> = HashMap::default();
        let mut entities = Vec::new();
        let mut events = Vec::new();
        let mut commands = Vec::new();
        let mut command_handlers = Vec::new();
        let mut event_handlers = Vec::new();
        for registration in registrations {
            // The same element may arrive twice (linkme and an explicit `.register`).
            if !seen.insert(registration as *const Registration) {
                continue;
            }
            match registration {
                Registration::Aggregate(r) => {
                    aggregates.insert((r.type_id)(), r);
                }
                Registration::Entity(r) => entities.push(r),
                Registration::Event(r) => events.push(r),
                Registration::Command(r) => commands.push(r),
                Registration::CommandHandler(r) => command_handlers.push(r),
                Registration::EventHandler(r) => event_handlers.push(r),
            }
        }
        command_handlers.sort_by_key(|h| h.name);
        event_handlers.sort_by_key(|h| (h.name, h.path));
        // The path identifies a handler in failure records: two with one path (types of one
        // short name written `impl a::Audit` and `impl b::Audit` in one module) could be confused
        // by a retry.
        for pair in event_handlers.windows(2) {
            if pair[0].path == pair[1].path && (pair[0].type_id)() != (pair[1].type_id)() {
                problems.push(format!(
                    "two event handlers are identified as `{}`: annotate each `impl` in the module that defines its type",
                    pair[0].path
                ));
            }
        }

        let mut categories: HashMap<&'static str, &'static str> = HashMap::default();
        let mut sorted_aggregates: Vec<_> = aggregates.values().collect();
        sorted_aggregates.sort_by_key(|a| (a.module, a.name));
        let views = sorted_aggregates
            .iter()
            .filter_map(|a| {
                a.sql_view.map(|view| EntityView {
                    aggregate: a.name,
                    view,
                })
            })
            .collect();
        for aggregate in sorted_aggregates {
            if let Some(other) = categories.insert(aggregate.category, aggregate.name) {
                problems.push(format!(
                    "aggregates `{other}` and `{}` share the stream category `{}`: give one `#[aggregate(stream_category = \"...\")]`",
                    aggregate.name, aggregate.category
                ));
            }
        }
        let registered = |type_id: fn() -> TypeId| aggregates.contains_key(&type_id());
        for entity in &entities {
            if !registered(entity.aggregate) {
                problems.push(format!(
                    "entity `{}` is part of `{}`, which is not registered",
                    entity.name, entity.aggregate_name
                ));
            }
        }

        let mut event_table = HashMap::default();
        let mut events_by_name = HashMap::default();
        for event in &events {
            // An event of another service's category is decoded here, but its aggregate lives
            // there: its registration is not needed.
            if !registered(event.aggregate) && !external.contains(&event.category) {
                problems.push(format!(
                    "event `{}` is part of `{}`, which is not registered",
                    event.name, event.aggregate_name
                ));
            }
            let type_name: Arc<str> = format!("{domain}.{}.v{}", event.name, event.version).into();
            if events_by_name
                .insert(type_name.clone(), (event.type_id)())
                .is_some()
            {
                problems.push(format!(
                    "two events are named `{type_name}` (one in `{}`): rename one or give it another `version`",
                    event.module
                ));
            }
            event_table.insert(
                (event.type_id)(),
                EventInfo {
                    type_name,
                    registration: event,
                },
            );
        }

        // Each event under its current name, and each older version under its own name, decoded
        // through the upcasters from that version on.
        let mut event_decoders: Vec<(Arc<str>, EventDecoder)> = Vec::new();
        for info in event_table.values() {
            let event = info.registration;
            event_decoders.push((
                info.type_name.clone(),
                EventDecoder {
                    decode: event.decode,
                    upcasters: &[],
                },
            ));
            for (from, index) in (1..event.version).zip(0..) {
                let old: Arc<str> = format!("{domain}.{}.v{from}", event.name).into();
                if events_by_name.contains_key(&old) {
                    problems.push(format!(
                        "`{old}` is both a registered event and an older version of `{}`, which upcasts from it: remove one",
                        info.type_name
                    ));
                }
                let upcasters = event.upcasters.get(index..).unwrap_or(&[]);
                event_decoders.push((
                    old,
                    EventDecoder {
                        decode: event.decode,
                        upcasters,
                    },
                ));
            }
        }

        let mut command_table = HashMap::default();
        let mut commands_by_name = HashMap::default();
        for command in &commands {
            if !registered(command.aggregate) {
                problems.push(format!(
                    "command `{}` is part of `{}`, which is not registered",
                    command.name, command.aggregate_name
                ));
            }
            let type_name: Arc<str> = format!("{domain}.{}.v1", command.name).into();
            if commands_by_name
                .insert(type_name.clone(), (command.type_id)())
                .is_some()
            {
                problems.push(format!(
                    "two commands are named `{type_name}` (one in `{}`)",
                    command.module
                ));
            }
            command_table.insert(
                (command.type_id)(),
                CommandInfo {
                    type_name,
                    entry: None,
                },
            );
        }

        for handler in &command_handlers {
            if !registered(handler.aggregate) {
                problems.push(format!(
                    "command handler `{}` is part of `{}`, which is not registered",
                    handler.name, handler.aggregate_name
                ));
            }
            check_instance(
                handler.name,
                (handler.type_id)(),
                handler.default_instance,
                instances,
                &mut problems,
            );
            for entry in handler.commands {
                match command_table.get_mut(&(entry.type_id)()) {
                    None => problems.push(format!(
                        "command handler `{}` handles `{}`, which is not registered",
                        handler.name, entry.name
                    )),
                    Some(info) if info.entry.is_some() => problems.push(format!(
                        "command `{}` has more than one handler (`{}` is one): a command has exactly one",
                        entry.name, handler.name
                    )),
                    Some(info) => info.entry = Some(entry),
                }
            }
        }
        let mut unhandled: Vec<_> = command_table
            .values()
            .filter(|c| c.entry.is_none())
            .map(|c| c.type_name.clone())
            .collect();
        unhandled.sort();
        for name in unhandled {
            problems.push(format!(
                "command `{name}` has no handler: add `#[handle(..)]` for it to a `#[command_handler]` impl"
            ));
        }

        for handler in &event_handlers {
            if !registered(handler.aggregate) {
                problems.push(format!(
                    "event handler `{}` is part of `{}`, which is not registered",
                    handler.name, handler.aggregate_name
                ));
            }
            check_instance(
                handler.name,
                (handler.type_id)(),
                handler.default_instance,
                instances,
                &mut problems,
            );
            if handler.stream_category != ALL_CATEGORIES
                && !categories.contains_key(handler.stream_category)
                && !external.contains(&handler.stream_category)
            {
                problems.push(format!(
                    "event handler `{}` listens to stream category `{}`, which no registered aggregate has (known: {}): it could never fire (if another service writes it, declare it with `Domain::builder(..).external_category(\"{}\")`)",
                    handler.name,
                    handler.stream_category,
                    sorted_keys(&categories),
                    handler.stream_category
                ));
            }
            // `source_stream` names an aggregate's category or its command streams
            // (`order:command`); a typo would silently never match, like a wrong category.
            if let Some(source) = handler.source_stream {
                let category = source.strip_suffix(COMMAND_SUFFIX).unwrap_or(source);
                if !categories.contains_key(category) && !external.contains(&category) {
                    problems.push(format!(
                        "event handler `{}` has `source_stream = \"{source}\"`, which names no stream of a registered aggregate (write a category, or `<category>:command`; known categories: {}): it could never fire",
                        handler.name,
                        sorted_keys(&categories)
                    ));
                }
            }
            for entry in handler.events {
                if !event_table.contains_key(&(entry.type_id)()) {
                    problems.push(format!(
                        "event handler `{}` handles `{}`, which is not registered",
                        handler.name, entry.name
                    ));
                }
            }
        }

        let mut routes: HashMap<TypeId, Vec<usize>> = HashMap::default();
        for (type_id, info) in &event_table {
            let category = info.registration.category;
            for (index, handler) in event_handlers.iter().enumerate() {
                let listens = handler.stream_category == ALL_CATEGORIES
                    || handler.stream_category == category;
                let handles =
                    handler.handles_any || handler.events.iter().any(|e| (e.type_id)() == *type_id);
                if listens && handles {
                    routes.entry(*type_id).or_default().push(index);
                }
            }
        }

        if !problems.is_empty() {
            return Err(problems);
        }
        let codec = Arc::new(Codec::new(
            event_decoders,
            commands_by_name
                .iter()
                .map(|(name, type_id): (&Arc<str>, &TypeId)| (name.clone(), *type_id)),
        ));
        Ok(Registry {
            views,
            codec,
            events: event_table,
            commands: command_table,
            commands_by_name,
            event_handlers,
            routes,
            categories: {
                let mut known: Vec<Arc<str>> = categories
                    .into_keys()
                    .map(Arc::from)
                    .chain(external.iter().map(|c| Arc::from(*c)))
                    .collect();
                known.sort_unstable();
                known.dedup();
                known
            },
        })
    }

    /// `Ok` if `category` is a registered aggregate's stream category, one declared external,
    /// or either's command streams (`order:command`); otherwise an error naming the known ones
    /// (reading an unknown category would silently return nothing).
    pub fn check_category(&self, category: &str) -> crate::model::error::Result<()> {
        let category = category.strip_suffix(COMMAND_SUFFIX).unwrap_or(category);
        if self.categories.iter().any(|known| **known == *category) {
            Ok(())
        } else {
            Err(crate::model::error::Error::UnknownCategory {
                category: crate::model::validation::abbreviate(category).into_owned(),
                known: self.categories.join(", "),
            })
        }
    }

    /// The command type registered under `type_name` (`Shop.PlaceOrder.v1`), if any.
    pub fn known_commands(&self) -> String {
        sorted_keys(&self.commands_by_name)
    }

    /// The handlers `event` is delivered to, in handler-name order: those listening to its
    /// category (or to `$all`) that handle its type (or `$any`), and whose `source_stream`, if
    /// any, matches where the event's chain began. Routing is decided here and nowhere else.
    pub fn handlers_for<'a>(
        &'a self,
        event: &'a EventEnvelope,
    ) -> impl Iterator<Item = &'static EventHandlerRegistration> + 'a {
        self.routes
            .get(&event.payload_type_id())
            .into_iter()
            .flatten()
            .map(|&index| self.event_handlers[index])
            .filter(|handler| source_matches(handler.source_stream, event.metadata()))
    }

    /// The event handler a failure record names: by full path, or, for records written before
    /// paths were recorded, by a short name only one registered handler has.
    pub fn event_handler(&self, recorded: &str) -> Option<&'static EventHandlerRegistration> {
        self.event_handlers
            .iter()
            .find(|h| h.path == recorded)
            .or_else(|| {
                let mut by_name = self.event_handlers.iter().filter(|h| h.name == recorded);
                match (by_name.next(), by_name.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            })
            .copied()
    }

    /// What the stores need to decode this domain's messages.
    pub fn codec(&self) -> Arc<Codec> {
        self.codec.clone()
    }
}

fn check_instance(
    name: &str,
    type_id: TypeId,
    default: fn() -> Option<Instance>,
    instances: &mut HashMap<TypeId, Instance>,
    problems: &mut Vec<String>,
) {
    if instances.contains_key(&type_id) {
        return;
    }
    if let Some(instance) = default() {
        instances.insert(type_id, instance);
    } else {
        problems.push(format!(
            "handler `{name}` does not implement `Default`: give the builder an instance with `.handler(...)`"
        ));
    }
}

fn sorted_keys<K: AsRef<str>, V>(map: &HashMap<K, V>) -> String {
    let mut keys: Vec<&str> = map.keys().map(AsRef::as_ref).collect();
    keys.sort_unstable();
    if keys.is_empty() {
        "none".to_string()
    } else {
        keys.join(", ")
    }
}

/// Autoref specialization used by the handler macros: `Some(constructor)` when the handler type
/// implements `Default`, `None` otherwise (then an instance must be given to the builder).
#[doc(hidden)]
pub mod default_instance {
    use super::Instance;
    use std::marker::PhantomData;
    use std::sync::Arc;

    pub struct Probe<T>(pub PhantomData<T>);

    pub trait ViaDefault {
        fn instance(&self) -> Option<Instance>;
    }
    impl<T: Default + Send + Sync + 'static> ViaDefault for &Probe<T> {
        fn instance(&self) -> Option<Instance> {
            Some(Arc::new(T::default()))
        }
    }

    pub trait WithoutDefault {
        fn instance(&self) -> Option<Instance>;
    }
    impl<T> WithoutDefault for Probe<T> {
        fn instance(&self) -> Option<Instance> {
            None
        }
    }
}

/// `source_stream = "X"` matches events whose origin stream is `X` or belongs to category `X`.
fn source_matches(source: Option<&str>, metadata: &crate::model::message::Metadata) -> bool {
    let Some(source) = source else { return true };
    metadata.origin_stream.as_deref().is_some_and(|origin| {
        origin == source || crate::model::message::stream_category(origin) == source
    })
}
