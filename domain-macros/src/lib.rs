//! Attribute macros of `domain-core`. Depend on `domain-core`, which re-exports them (also through
//! `domain_core::prelude`); this crate only declares the entry points. Each family (`structs/`:
//! aggregate, entity, value object, event, command; `handlers/`; `appliers/`: apply_events and
//! entity_handler; `states`: handler_states; `upcasters`) runs the one driver in
//! `pipeline`: parse -> check -> expand, with `expand/` split by kind. On an error the item is
//! still expanded (a bad option dropped, a missing `part_of` replaced by a placeholder), so one
//! mistake is one error, not one more at every later use of the type.
//!
//! | Macro | On | Options |
//! |---|---|---|
//! | [`#[aggregate]`](macro@aggregate) | struct | `stream_category = "..."`, `event_sourced`, `snapshot_every = N`, `states = Enum` |
//! | [`#[entity]`](macro@entity) | struct | `part_of = Aggregate` (required) |
//! | [`#[value_object]`](macro@value_object) | struct | none |
//! | [`#[event]`](macro@event) | struct | `part_of = Aggregate` (required), `version = N` |
//! | [`#[command]`](macro@command) | struct | `part_of = Aggregate` (required) |
//! | [`#[command_handler]`](macro@command_handler) | inherent impl | `part_of = Aggregate` (required) |
//! | [`#[event_handler]`](macro@event_handler) | inherent impl | `part_of = Aggregate` (required), `stream_category = "..."`, `source_stream = "..."` |
//! | [`#[handle]`](macro@handle) | method of a handler impl | `MessageType`, or `$any` in event handlers |
//! | [`#[apply_events]`](macro@apply_events) | inherent impl of an event-sourced aggregate | none |
//! | [`#[apply]`](macro@apply) | method of an `#[apply_events]` or `#[entity_handler]` impl | `become = State` |
//! | [`#[entity_handler]`](macro@entity_handler) | inherent impl of an event-sourced aggregate | none |
//! | [`#[on_command]`](macro@on_command) | method of an `#[entity_handler]` impl | `when = State`, `when = [State, ..]` |
//! | [`#[react]`](macro@react) | method of an `#[entity_handler]` impl | `when = State`, `instance = field` |
//! | [`#[on_query]`](macro@on_query) | function of an `#[entity_handler]` impl | `sql = "SELECT .. %param"` (no body) |
//! | [`#[handler_states]`](macro@handler_states) | fieldless enum | none |
//! | [`#[query]`](macro@query) | struct | `result = Response` (required) |
//! | [`#[response]`](macro@response) | struct | none |
//! | [`#[upcaster]`](macro@upcaster) | `fn(JsonValue) -> JsonValue` | `Event, from = N` (both required) |
//!
//! Helper attributes on fields, read and removed by the struct macros:
//!
//! | Attribute | Allowed in | Does |
//! |---|---|---|
//! | `#[field(max_length = n, min_length = n)]` | every struct macro | length bounds on `String`, `Vec<_>`, `Option` of those |
//! | `#[field(min = x, max = x)]` | every struct macro | bounds on integers, floats, `Option` of those |
//! | `#[field(choices = ["A", "B"])]` | every struct macro | closed set of texts on `String`, `Option<String>` |
//! | `#[field(default)]`, `#[field(default = expr)]` | every struct macro | the value when not given (builder, missing JSON field) |
//! | `#[identifier]` | aggregate, entity, command | the field is the identity (the targeted aggregate's, on a command) |
//! | `#[has_many]` on `Vec<E>`, `#[has_one]` on `E` / `Option<E>` | aggregate, entity | holds entities; their events go to the aggregate's stream |
//!
//! The full rules and examples are on [`#[aggregate]`](macro@aggregate), which accepts every one.
//! An unknown option is a compile error that lists the valid ones, a repeated option is one too,
//! and every problem of one macro invocation is reported at once.

mod appliers;
mod ctxt;
mod handlers;
mod naming;
mod options;
mod paths;
mod pipeline;
mod structs;
mod symbol;
mod upcasters;

#[cfg(test)]
mod snapshots;
mod states;

use proc_macro::TokenStream;

use appliers::Block;
use handlers::model::HandlerKind;
use structs::model::Kind;

/// Marks a struct as an aggregate: a consistency boundary with an identity, a version, the events
/// it raised, a builder, typed field constants, validation and registration.
///
/// Applies to a non-generic struct with named fields (a unit struct is accepted).
///
/// # Options
///
/// - `stream_category = "catalog"`: the category of the aggregate's streams: events go to
///   `<category>-<id>`, commands to `<category>:command-<id>`, and event handlers listen by
///   category. Default: the struct's name in snake_case (`BookOrder` -> `book_order`). Lowercase
///   snake_case segments joined by `:` or `.` (`"shop:order"`); no `-`, which separates category
///   from id; `"$all"` is for event handlers only. Two aggregates of one domain must not share a
///   category (`Domain::builder(..).build()` reports it).
/// - `event_sourced`: the state is the fold of the aggregate's events. Each of its events needs an
///   `#[apply]` method in an [`#[apply_events]`](macro@apply_events) impl block, which `raise`
///   calls at once; loading replays the stream. Instead of a builder and typed field constants it
///   gets `new()` (generated identity; `with_id(id)` for a given one) at its blank state (each
///   field at its `#[field(default)]` or its type's `Default`), and getters: its fields are
///   private, so its state changes only through its events. Its stored row holds no state, so it
///   is read by id, not queried ([`Error::EventSourcedQuery`](../domain_core/enum.Error.html)).
///
/// # Field attributes
///
/// `#[field(...)]` validates a field; options may be combined, each at most once:
///
/// | Option | Field types | Check |
/// |---|---|---|
/// | `max_length = n`, `min_length = n` (integer literal) | `String`, `Vec<T>`, `Option` of those | length in characters (text) or elements |
/// | `min = x`, `max = x` (an expression of the field's number type: `0` for `i64`, `0.0` for `f64`) | integers, `f32`, `f64`, `Option` of those | inclusive bound |
/// | `choices = ["A", "B"]` (string literals) | `String`, `Option<String>` | one of the listed texts (for other types, use an `enum`) |
/// | `allow_blank` | `String` (not `Option`) | lets the text be empty or whitespace: by default a required `String` of an aggregate, entity, value object or command must not be (events are facts and may hold empty text; a blank `default` implies it) |
/// | `default` | any type with `Default` | `Default::default()` when not given |
/// | `default = expr` | any | `expr` when not given; a string literal is converted with `Into` (`default = "USD"` on a `String`); on an `Option<T>` field, write the `T` |
///
/// An absent `Option` passes every check. An option on a field type it does not apply to is a
/// compile error at the option (`max_length` on an `i64`). A default makes the field optional in
/// the builder and also fills it when it is missing from serialized input (a command's JSON, a
/// stored row written before the field existed).
///
/// Fields whose type is itself validated (a value object, an entity, or an `Option`, `Vec` or
/// `Box` of one) are validated too, reported under paths like `price.currency` or
/// `items[0].quantity`.
///
/// Some checks apply to every field, with or without options, so that one input behaves the same
/// on every store: an `f32` / `f64` must be finite (`NaN` and `±inf` have no JSON form and pass
/// every bound), text must not contain a NUL character (PostgreSQL cannot store one), and an
/// identity must be at most `MAX_IDENTIFIER_BYTES` (1024) bytes without NUL (stores index it).
///
/// Options that no value could pass are compile errors: `min` greater than `max`, a `default`
/// that is not among the `choices`.
///
/// `#[identifier]` (at most one field) makes that field the identity instead of a generated `id`
/// field: `id()` returns it converted to an `Identifier` (so its type is one of `Identifier`,
/// `String`, `Uuid`, `i32`, `i64`, `u32`, `u64`, `usize`), repositories load the aggregate by it
/// (`repository.get(&id)`), and its stream is
/// `<category>-<that value>`. An `#[identifier]` of type `Identifier` is optional in the builder
/// (a new random identity when not set); of another type, it is required unless it has a default.
/// Without `#[identifier]`, a field named `id` is an error: the macro adds that field itself.
///
/// `#[has_many]` on a `Vec<E>` and `#[has_one]` on an `E` or `Option<E>` hold entities of this
/// aggregate ([`#[entity(part_of = ..)]`](macro@entity) with this `part_of`, checked at compile
/// time): the events they raise are committed to the aggregate's stream, in raise order, when the
/// aggregate is saved. The entities are stored inside the aggregate. These two take no arguments.
/// A field holding entities without one of them is a compile error naming the missing attribute
/// (the entities would be stored, but the events they raise never collected).
///
/// Field names starting with `__` are reserved.
///
/// # What it generates
///
/// - A `pub id: Identifier` field, first (unless a field is `#[identifier]`), and a hidden
///   `__domain` field (the version and the pending events, not serialized): build values with the
///   builder, not a struct literal.
/// - `#[derive(Clone, Debug, Serialize, Deserialize)]` (serde as re-exported by `domain-core`),
///   leaving out `Clone` and `Debug` if the struct already derives them (a `#[derive(Serialize)]`
///   of your own is replaced by the macro's, which must come first). Your own
///   `#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]` compares the declared fields and the
///   identity: the hidden state takes no part.
/// - `Book::builder()` returning a `BookBuilder` (same visibility as the struct) with one setter per
///   field. Required fields (not an `Option`, not a collection such as `Vec` or `HashMap`, no
///   `#[field(default)]`) are tracked in the builder's type: `build()` does not compile until each
///   is set (error "missing required field `title` for `Book`"). Setters of numbers, `bool` and
///   `char` take the type itself, so literals infer; others take `impl Into<T>`; setters of
///   `Option<T>` fields take a `T` or an `Option<T>` (and `&str` for `Option<String>`).
///   `.id(..)` sets the generated identity (a new random one otherwise). `build()` applies
///   defaults, assigns the identity and returns `Result<Book, ValidationErrors>` listing every
///   failing field; repositories validate again when the aggregate is added.
/// - A constant per declared field for typed queries: `Book::TITLE`, a `Field<Book, String>` with
///   `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `is_in`, `asc`, `desc`.
/// - `id()`, the identity; `version()`, the version loaded from the store (0 until persisted),
///   checked on save for optimistic concurrency; `raise(event)`, which accepts only events declared
///   `#[event(part_of = Book)]` (any other is a compile error) and commits them with the aggregate.
/// - Implementations of `Aggregate` (`NAME = "Book"`, `CATEGORY`), `Validate` and `Register`,
///   and a registration read by `Domain::builder(..).build()`.
///
/// # Examples
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate(stream_category = "catalog")]
/// pub struct Book {
///     #[field(max_length = 200)]
///     pub title: String,                        // required
///     #[field(max_length = 13)]
///     pub isbn: Option<String>,                 // optional
///     #[field(min = 0, default = 1)]
///     pub copies: i64,                          // optional: it has a default
///     pub tags: Vec<String>,                    // optional: empty
/// }
///
/// #[event(part_of = Book)]
/// pub struct BookAdded {
///     pub book_id: Identifier,
/// }
///
/// let mut book = Book::builder().title("Dune").isbn("9780441013593").build()?;
/// assert_eq!((book.copies, book.tags.len()), (1, 0));
/// assert_eq!(book.version(), 0);                // never persisted
/// assert_eq!(<Book as Aggregate>::CATEGORY, "catalog");
/// assert_eq!(Book::TITLE.name(), "title");
/// assert_eq!(Book::TITLE.get(&book), "Dune");
///
/// book.raise(BookAdded { book_id: book.id() }); // committed when the book is saved
/// let copy = book.clone();                      // derived
/// assert_eq!(copy.id(), book.id());
///
/// let err = Book::builder().title("x".repeat(201)).copies(-1).build().unwrap_err();
/// assert_eq!(err.fields().collect::<Vec<_>>(), ["copies", "title"]);
/// # Ok::<(), domain_core::ValidationErrors>(())
/// ```
///
/// A missing required field is a compile error:
///
/// ```compile_fail,E0277
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Book {
///     pub title: String,
/// }
///
/// let book = Book::builder().build(); // missing required field `title` for `Book`
/// ```
///
/// A natural key as identity, a version that counts saves, and a typed query:
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Book {
///     #[identifier]
///     pub isbn: String,                         // no generated `id` field
///     pub title: String,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Library").build()?;
/// let book = Book::builder().isbn("9780441013593").title("Dune").build()?;
/// assert_eq!(book.id(), Identifier::from("9780441013593"));
/// domain.repository::<Book>().add(book).await?;
/// let book = domain.repository::<Book>().get(&"9780441013593".into()).await?;
/// assert_eq!(book.title, "Dune");
///
/// let stored = domain.repository::<Book>().find_by(Book::TITLE.eq("Dune")).await?;
/// assert_eq!(stored.isbn, "9780441013593");
/// assert_eq!(stored.version(), 1);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn aggregate(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::Aggregate, args.into(), input.into()).into()
}

/// Marks a struct as an entity: an object with an identity inside an aggregate, held by one of the
/// aggregate's `#[has_many]` / `#[has_one]` fields.
///
/// Applies to a non-generic struct with named fields.
///
/// # Options
///
/// - `part_of = Order` (required): the aggregate the entity belongs to. It must be an
///   [`#[aggregate]`](macro@aggregate) (a compile error otherwise) registered in the domain.
///
/// # Field attributes
///
/// As on [`#[aggregate]`](macro@aggregate): `#[field(...)]`, `#[identifier]`, and `#[has_many]` /
/// `#[has_one]` for entities nested in this one (part of the same aggregate).
///
/// # What it generates
///
/// - A `pub id: Identifier` field, first (unless a field is `#[identifier]`), and a hidden
///   `__domain` field holding the events it raised (not serialized).
/// - `#[derive(Clone, Debug, Serialize, Deserialize)]`, leaving out those already derived.
/// - `OrderItem::builder()`, with compile-time required fields, as on `#[aggregate]`.
/// - `id()`, and `raise(event)`, which accepts only events `#[event(part_of = Order)]`: they are
///   committed to the aggregate's stream, `order-<order id>`, when the aggregate holding the
///   entity through `#[has_many]` / `#[has_one]` is saved.
/// - Implementations of `Entity` (`type Aggregate = Order`), `Validate` and `Register`, and a
///   registration. Entities have no version and no repository: they are stored inside their
///   aggregate.
///
/// # Example
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Order {
///     pub customer: String,
///     #[has_many]
///     pub items: Vec<OrderItem>,
/// }
///
/// #[entity(part_of = Order)]
/// pub struct OrderItem {
///     #[field(min = 1)]
///     pub quantity: i64,
/// }
///
/// impl OrderItem {
///     pub fn reserve(&mut self) {
///         self.raise(ItemReserved { item_id: self.id(), quantity: self.quantity });
///     }
/// }
///
/// #[event(part_of = Order)]
/// pub struct ItemReserved {
///     pub item_id: Identifier,
///     pub quantity: i64,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// let mut item = OrderItem::builder().quantity(2).build()?;
/// item.reserve();
/// let order = Order::builder().customer("Ann").items(vec![item.clone()]).build()?;
/// let stream = format!("order-{}", order.id());
/// domain.repository::<Order>().add(order).await?;
///
/// let events = domain.event_store().read_stream(&stream).await?;
/// assert_eq!(events[0].downcast_ref::<ItemReserved>().unwrap().item_id, item.id());
///
/// // Entities are validated with their aggregate.
/// item.quantity = 0;
/// let err = Order::builder().customer("Bo").items(vec![item]).build().unwrap_err();
/// assert_eq!(err.fields().collect::<Vec<_>>(), ["items[0].quantity"]);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn entity(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::Entity, args.into(), input.into()).into()
}

/// Marks a struct as a value object: an immutable, validated value without identity, equal to
/// another when its fields are.
///
/// Applies to a non-generic struct with named fields. Takes no options.
///
/// # Field attributes
///
/// `#[field(...)]` as on [`#[aggregate]`](macro@aggregate). `#[identifier]`, `#[has_many]` and
/// `#[has_one]` are errors here: a value object has no identity and holds no entities.
///
/// # What it generates
///
/// - The fields become private (even if written `pub`): each is read through a getter of the same
///   name returning a reference, `money.amount()`. A changed value is a new value, built and
///   validated again.
/// - `#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]`, leaving out those already
///   derived.
/// - `Money::builder()`, with compile-time required fields, as on `#[aggregate]`.
/// - Implementations of `ValueObject` and `Validate`. A value object is not registered: it lives
///   inside the aggregates, entities, events and commands that hold it, which validate it as a
///   nested field.
/// - For a command's JSON that does not decode (`domain.process_json`), a field-by-field report of
///   the value object's own fields, under their paths (`price.amount`), and `#[serde(default)]` on
///   collection fields, which are empty when absent, as in the builder. With your own
///   `#[serde(..)]` attributes, serde's error is reported at the field holding the value object.
///
/// # Example
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[value_object]
/// pub struct Money {
///     #[field(choices = ["USD", "EUR"], default = "USD")]
///     currency: String,
///     #[field(min = 0.0)]
///     amount: f64,
/// }
///
/// let price = Money::builder().amount(9.5).build()?;
/// assert_eq!(price.currency(), "USD");
/// assert_eq!(*price.amount(), 9.5);
/// assert_eq!(price, Money::builder().currency("USD").amount(9.5).build()?); // equal by value
///
/// let err = Money::builder().currency("GBP").amount(-1.0).build().unwrap_err();
/// assert_eq!(err.fields().collect::<Vec<_>>(), ["amount", "currency"]);
/// # Ok::<(), domain_core::ValidationErrors>(())
/// ```
#[proc_macro_attribute]
pub fn value_object(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::ValueObject, args.into(), input.into()).into()
}

/// Marks a struct as an event: a fact that happened in an aggregate, raised with `raise()`,
/// committed with the aggregate and then delivered to the event handlers of its category.
///
/// Applies to a non-generic struct with named fields; build it with a struct literal.
///
/// # Options
///
/// - `part_of = Book` (required): the aggregate whose stream the event belongs to. Only `Book`
///   (and entities `part_of = Book`) can `raise()` it: anywhere else it is a compile error.
/// - `version = 2`: the schema version, an integer of at least 1 (default 1). It is part of the
///   type name. Rows stored under an older version are read through
///   [`#[upcaster]`](macro@upcaster) functions, one from each older version: a missing one is a
///   compile error at the event's name.
///
/// # Field attributes
///
/// `#[field(...)]` as on [`#[aggregate]`](macro@aggregate): the checks run when a stored or
/// serialized event is decoded (reads from the SQL stores, `event_store().decode(..)`), not when it
/// is raised (call `Validate::validate` for that); `default` fills fields missing from events
/// stored before the field existed. `#[identifier]`, `#[has_many]` and `#[has_one]` are
/// errors here.
///
/// # What it generates
///
/// - `#[derive(Clone, Debug, Serialize, Deserialize)]`, leaving out those already derived.
/// - Implementations of `Event` (`type Aggregate = Book`, `NAME = "BookAdded"`, `VERSION`),
///   `RaisableBy<Book>`, `Validate` and `Register`, and a registration with a decoder.
///
/// In a domain named `Bookshelf`, the event's type name is `Bookshelf.BookAdded.v1` (in
/// `Metadata::type_name`, the stored rows and `domain.type_name_of::<BookAdded>()`); it is committed
/// to the stream `<category>-<aggregate id>`, e.g. `book-6f1c…`. Two events with the same name and
/// version in one domain are reported by `Domain::builder(..).build()`.
///
/// # Example
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Book {
///     pub title: String,
/// }
///
/// impl Book {
///     pub fn rename(&mut self, title: &str) {
///         self.title = title.into();
///         self.raise(BookRenamed { book_id: self.id(), title: self.title.clone() });
///     }
/// }
///
/// #[event(part_of = Book, version = 2)]
/// pub struct BookRenamed {
///     pub book_id: Identifier,
///     #[field(max_length = 200)]
///     pub title: String,
/// }
///
/// // Version 1 called the title `name`.
/// #[upcaster(BookRenamed, from = 1)]
/// fn name_to_title(mut old: JsonValue) -> JsonValue {
///     old["title"] = old["name"].take();
///     old
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Bookshelf").build()?;
/// assert_eq!(domain.type_name_of::<BookRenamed>(), Some("Bookshelf.BookRenamed.v2"));
///
/// let mut book = Book::builder().title("Dune").build()?;
/// book.rename("Dune Messiah");
/// let stream = format!("book-{}", book.id());
/// domain.repository::<Book>().add(book).await?;
///
/// let events = domain.event_store().read_stream(&stream).await?;
/// assert_eq!(events[0].metadata().type_name.as_ref(), "Bookshelf.BookRenamed.v2");
/// assert_eq!(events[0].downcast_ref::<BookRenamed>().unwrap().title, "Dune Messiah");
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
///
/// Raising another aggregate's event does not compile:
///
/// ```compile_fail,E0277
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Book { pub title: String }
///
/// #[aggregate]
/// pub struct Order { pub customer: String }
///
/// #[event(part_of = Order)]
/// pub struct OrderPlaced { pub customer: String }
///
/// impl Book {
///     pub fn oops(&mut self) {
///         self.raise(OrderPlaced { customer: "Ann".into() }); // not an event of `Book`
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn event(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::Event, args.into(), input.into()).into()
}

/// Marks a struct as a command: an intention to change an aggregate, processed by exactly one
/// [`#[handle]`](macro@handle) method of a [`#[command_handler]`](macro@command_handler).
///
/// Applies to a non-generic struct with named fields; build it with a struct literal (or from JSON
/// with `domain.process_json("AddBook", json)`).
///
/// # Options
///
/// - `part_of = Book` (required): the aggregate the command targets; its category names the
///   command's stream.
///
/// # Field attributes
///
/// - `#[field(...)]` as on [`#[aggregate]`](macro@aggregate): `domain.process(cmd)` and
///   `ctx.process(cmd)` validate the command before its handler runs, and return
///   `Error::Validation` listing every failing field without running it.
/// - `#[identifier]` on the field that names the targeted aggregate (an existing one, typically):
///   the command's stream is then `<category>:command-<that id>`, e.g. `book:command-42`. Without
///   it, the command's own message id (a new UUID) stands in: `book:command-<uuid>`. A command
///   processed with `domain.process` starts a causal chain, so its stream is the origin stream of
///   every event that follows from it, which is what an event handler's `source_stream` compares
///   against (see [`#[event_handler]`](macro@event_handler)).
/// - `#[has_many]` and `#[has_one]` are errors here.
///
/// # What it generates
///
/// - `#[derive(Clone, Debug, Serialize, Deserialize)]`, leaving out those already derived.
/// - Implementations of `Command` (`type Aggregate = Book`, `NAME = "AddBook"`, and `target()`
///   from the `#[identifier]`), `Validate` and `Register`, and a registration. In a domain named
///   `Bookshelf`, the command's type name is `Bookshelf.AddBook.v1`.
/// - `#[serde(deny_unknown_fields)]`, and `#[serde(default)]` on collection fields (absent is
///   empty, as for a builder's).
/// - For JSON that does not decode, a report of every failing field: one call per field into
///   `domain_core` (a hidden method of `Command`), and each field's checks as a function that both
///   `Validate` and that report call. `process_json` then returns `Error::Validation` listing every
///   missing, mistyped, undeclared and invalid field. A command with its own `#[serde(..)]`
///   attributes reports serde's first error instead, as `Error::Malformed`.
///
/// `Domain::builder(..).build()` reports a command without a handler.
///
/// # Example
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Account {
///     pub owner: String,
///     #[field(default)]
///     pub balance: i64,
/// }
///
/// #[command(part_of = Account)]
/// pub struct Deposit {
///     #[identifier]
///     pub account_id: Identifier,
///     #[field(min = 1)]
///     pub amount: i64,
/// }
///
/// #[derive(Default)]
/// pub struct Accounts;
///
/// #[command_handler(part_of = Account)]
/// impl Accounts {
///     #[handle(Deposit)]
///     async fn deposit(&self, command: Deposit, ctx: &mut Context) -> Result<String> {
///         let repo = ctx.repository::<Account>();
///         let mut account = repo.get(&command.account_id).await?;
///         account.balance += command.amount;
///         repo.add(account)?;
///         Ok(ctx.metadata().stream.to_string())      // the command's stream
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Bank").build()?;
/// assert_eq!(domain.type_name_of::<Deposit>(), Some("Bank.Deposit.v1"));
/// let account = Account::builder().owner("Ann").build()?;
/// let id = account.id();
/// domain.repository::<Account>().add(account).await?;
///
/// let stream = domain.process(Deposit { account_id: id.clone(), amount: 5 }).await?;
/// assert_eq!(stream, format!("account:command-{id}"));
/// assert_eq!(domain.repository::<Account>().get(&id).await?.balance, 5);
///
/// let invalid = domain.process(Deposit { account_id: id, amount: 0 }).await;
/// assert!(matches!(invalid, Err(Error::Validation(_))));
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn command(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::Command, args.into(), input.into()).into()
}

/// Marks an inherent impl block as a command handler: each [`#[handle(Command)]`](macro@handle)
/// method is the one handler of that command.
///
/// Applies to `impl Handler { .. }` of a named, non-generic type (not a trait impl) with at least
/// one `#[handle]` method; methods without `#[handle]` are left as they are.
///
/// # Options
///
/// - `part_of = Book` (required): the aggregate the handler belongs to; it must be an
///   [`#[aggregate]`](macro@aggregate) (a compile error otherwise) registered in the domain.
///
/// # Methods
///
/// `#[handle(AddBook)] fn name(&self, command: AddBook, ctx: &mut Context) -> Result<T>`: the
/// command by value, `async fn` or `fn`, `ctx` optional, returning `Result<T>` or nothing (the
/// full rules are on [`#[handle]`](macro@handle)). `domain.process(AddBook { .. })` (or
/// `ctx.process(..)` in another handler) returns `Result<T>`, typed by the method.
///
/// The method runs in its own unit of work: what it stages through `ctx.repository::<A>()` is
/// committed atomically when it returns `Ok`, then the raised events are dispatched. An `Err` (or a
/// panic) rolls everything back: nothing persisted, nothing dispatched. Commands it processes with
/// `ctx.process(..)` join that unit of work: they commit with it, or not at all.
///
/// A command has exactly one handler: a second `#[handle(AddBook)]` anywhere in the program is a
/// compile error (conflicting implementations of `HandledCommand`). `$any` is not allowed here.
/// A handler handles only commands of its own aggregate: `#[handle(LendBook)]` in a
/// `#[command_handler(part_of = Book)]` where `LendBook` is declared `part_of = Loan` is a compile
/// error at `LendBook` (the command's stream, and so its routing, belong to `Loan`).
///
/// All of a handler type's `#[handle]` methods are in one annotated impl block, and a type is
/// either a command handler or an event handler: a second annotated block for the same type is
/// one error, "conflicting implementations of trait `OneAnnotatedImplBlockPerHandlerType`".
///
/// # Instances
///
/// The handler value is shared by every call (`&self`). If the type implements `Default`, the
/// domain creates it; otherwise give one with `Domain::builder(..).handler(instance)`, or `build()`
/// reports it.
///
/// # What it generates
///
/// The impl block unchanged minus the `#[handle]` markers, an implementation of `HandledCommand`
/// for each handled command, `Register` for the handler type, and a registration.
///
/// # Example
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Book {
///     pub title: String,
///     pub price_cents: u32,
/// }
///
/// #[command(part_of = Book)]
/// pub struct AddBook {
///     pub title: String,
/// }
///
/// pub struct Catalog {
///     default_price_cents: u32,                       // no `Default`: given to the builder
/// }
///
/// #[command_handler(part_of = Book)]
/// impl Catalog {
///     #[handle(AddBook)]
///     fn add_book(&self, command: AddBook, ctx: &mut Context) -> Result<Identifier> {
///         let book = Book::builder()
///             .title(command.title)
///             .price_cents(self.default_price_cents)
///             .build()?;
///         let id = book.id();
///         ctx.repository::<Book>().add(book)?;
///         Ok(id)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Bookshelf")
///     .handler(Catalog { default_price_cents: 999 })
///     .build()?;
/// let id: Identifier = domain.process(AddBook { title: "Dune".into() }).await?;
/// assert_eq!(domain.repository::<Book>().get(&id).await?.price_cents, 999);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn command_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(HandlerKind::Command, args.into(), input.into()).into()
}

/// Marks an inherent impl block as an event handler: its [`#[handle(Event)]`](macro@handle)
/// methods receive committed events of one stream category.
///
/// Applies to `impl Handler { .. }` of a named, non-generic type (not a trait impl) with at least
/// one `#[handle]` method; methods without `#[handle]` are left as they are.
///
/// # Options
///
/// - `part_of = Inventory` (required): the aggregate the handler belongs to (and, by default,
///   listens to); it must be an [`#[aggregate]`](macro@aggregate) registered in the domain.
/// - `stream_category = "order"`: listen to another aggregate's category instead of `part_of`'s;
///   `"$all"` listens to every category. Same spelling rule as on `#[aggregate]`. A typed
///   `#[handle(E)]` whose event is not in that category could never fire, so it is a compile
///   error (unless `"$all"`), and `Domain::builder(..).build()` reports a category no registered
///   aggregate has.
/// - `source_stream = "order:command"`: deliver only events whose causal chain started in a
///   stream of that category. The chain's origin stream is the stream of its first message: a
///   command processed with `domain.process` (`<category>:command-<id>`, see
///   [`#[command]`](macro@command)), or an event written outside any handler, whose followers
///   inherit its stream (`<category>-<id>`) as origin. Events written outside any handler, e.g. by
///   `domain.repository::<A>().add(..)`, have no origin and never match. Same spelling rule as
///   `stream_category`, without `"$all"`.
///
/// # Methods
///
/// `#[handle(OrderShipped)] fn name(&self, event: &OrderShipped, ctx: &mut Context) -> Result<()>`:
/// the event by reference, `async fn` or `fn`, `ctx` optional, returning `Result<()>` or nothing.
/// `#[handle($any)] fn name(&self, event: &EventEnvelope, ..)` receives every event of the
/// category that no typed method of the impl handles (read it with `event.downcast_ref::<E>()`,
/// `event.event_name()`, `event.metadata()`). Full rules on [`#[handle]`](macro@handle).
///
/// Each (event, handler) delivery runs after the event's commit, in its own unit of work: what
/// the method stages (and what commands it processes with `ctx.process(..)` stage) commits when
/// it returns `Ok`, and the events raised are dispatched in turn. An `Err` or a panic never undoes the commit before it and never stops other handlers: the
/// delivery is recorded (`domain.failed_deliveries()`, `domain.retry_failed_deliveries()`), and
/// `domain.process` returns `Error::HandlersFailed`.
///
/// Instances: as for [`#[command_handler]`](macro@command_handler), `Default` or
/// `Domain::builder(..).handler(instance)`.
///
/// # What it generates
///
/// The impl block unchanged minus the `#[handle]` markers, a dispatch function, the category
/// checks, `Register` for the handler type, and a registration with the category, the source
/// stream and the handled events.
///
/// # Example
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
/// use std::sync::Mutex;
///
/// static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
///
/// #[aggregate]
/// pub struct Order {
///     pub customer: String,
/// }
///
/// #[event(part_of = Order)]
/// pub struct OrderPlaced {
///     pub customer: String,
/// }
///
/// #[command(part_of = Order)]
/// pub struct PlaceOrder {
///     pub customer: String,
/// }
///
/// #[derive(Default)]
/// pub struct Orders;
///
/// #[command_handler(part_of = Order)]
/// impl Orders {
///     #[handle(PlaceOrder)]
///     fn place(&self, command: PlaceOrder, ctx: &mut Context) -> Result<()> {
///         let mut order = Order::builder().customer(command.customer.clone()).build()?;
///         order.raise(OrderPlaced { customer: command.customer });
///         ctx.repository::<Order>().add(order)
///     }
/// }
///
/// #[aggregate]
/// pub struct Audit {
///     pub line: String,
/// }
///
/// #[derive(Default)]
/// pub struct Mailer;
///
/// #[event_handler(part_of = Audit, stream_category = "order")]
/// impl Mailer {
///     #[handle(OrderPlaced)]
///     fn on_placed(&self, event: &OrderPlaced) {
///         SEEN.lock().unwrap().push(format!("mail {}", event.customer));
///     }
/// }
///
/// #[derive(Default)]
/// pub struct CommandAudit;
///
/// #[event_handler(part_of = Audit, stream_category = "order", source_stream = "order:command")]
/// impl CommandAudit {
///     #[handle($any)]
///     fn on_any(&self, event: &EventEnvelope, ctx: &mut Context) -> Result<()> {
///         let line = format!("{} from {}", event.event_name(), event.metadata().category());
///         SEEN.lock().unwrap().push(line.clone());
///         ctx.repository::<Audit>().add(Audit::builder().line(line).build()?)
///     }
/// }
///
/// #[derive(Default)]
/// pub struct Everything;
///
/// #[event_handler(part_of = Audit, stream_category = "$all")]
/// impl Everything {
///     #[handle($any)]
///     fn on_any(&self, event: &EventEnvelope) {
///         SEEN.lock().unwrap().push(format!("all {}", event.event_name()));
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// let seen = || std::mem::take(&mut *SEEN.lock().unwrap());
///
/// // Through a command: the chain's origin is `order:command-<uuid>`.
/// domain.process(PlaceOrder { customer: "Ann".into() }).await?;
/// let mut lines = seen();
/// lines.sort();
/// assert_eq!(lines, ["OrderPlaced from order", "all OrderPlaced", "mail Ann"]);
///
/// // Written directly: no origin stream, so `CommandAudit` is not called.
/// let mut order = Order::builder().customer("Bo").build()?;
/// order.raise(OrderPlaced { customer: "Bo".into() });
/// domain.repository::<Order>().add(order).await?;
/// let mut lines = seen();
/// lines.sort();
/// assert_eq!(lines, ["all OrderPlaced", "mail Bo"]);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
///
/// A handled event outside the handler's category does not compile:
///
/// ```compile_fail,E0080
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Order { pub customer: String }
///
/// #[event(part_of = Order)]
/// pub struct OrderPlaced { pub customer: String }
///
/// #[aggregate]
/// pub struct Inventory { pub stock: i64 }
///
/// #[derive(Default)]
/// pub struct Stocking;
///
/// #[event_handler(part_of = Inventory)]               // listens to "inventory"
/// impl Stocking {
///     #[handle(OrderPlaced)]                          // an "order" event: never delivered
///     fn on_placed(&self, event: &OrderPlaced) {}
/// }
/// ```
#[proc_macro_attribute]
pub fn event_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(HandlerKind::Event, args.into(), input.into()).into()
}

/// Marks a method of a [`#[command_handler]`](macro@command_handler) or
/// [`#[event_handler]`](macro@event_handler) impl as the handler of one message type. The outer
/// macro reads and removes these markers; a `#[handle]` anywhere else is a compile error.
///
/// # Arguments
///
/// - `#[handle(MessageType)]`: a [`#[command]`](macro@command) in a command handler, an
///   [`#[event]`](macro@event) in an event handler (anything else is a compile error).
/// - `#[handle($any)]`, in event handlers only: every event of the handler's category that no
///   typed method of the same impl handles, received as an `&EventEnvelope`.
///
/// # Rules
///
/// - One `#[handle]` per method, and one method per message type in an impl.
/// - The signature is `(&self, message, ctx: &mut Context)`: `&self` (handlers are shared
///   between calls, so state needs interior mutability), then the message, named by the same type
///   as in `#[handle]` (commands by value, `command: AddBook`; events by reference,
///   `event: &BookAdded`; `$any` as `event: &EventEnvelope`), then optionally the context. No
///   generics, no `const`.
/// - `async fn` or `fn`.
/// - The return type is `Result<T, E>` with `E: Into<Error>` (usually `domain_core::Result<T>`), or
///   nothing. For a command handler, `T` is what `domain.process` returns; for an event handler it
///   is discarded.
///
/// # Example
///
/// Both sync and async methods, with and without `ctx`:
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Counter {
///     pub hits: u32,
/// }
///
/// #[command(part_of = Counter)]
/// pub struct Create {
///     pub start: u32,
/// }
///
/// #[command(part_of = Counter)]
/// pub struct Hit {
///     #[identifier]
///     pub counter_id: Identifier,
/// }
///
/// #[event(part_of = Counter)]
/// pub struct HitCounted {
///     pub hits: u32,
/// }
///
/// #[derive(Default)]
/// pub struct Counters;
///
/// #[command_handler(part_of = Counter)]
/// impl Counters {
///     #[handle(Create)]
///     fn create(&self, command: Create, ctx: &mut Context) -> Result<Identifier> {
///         let counter = Counter::builder().hits(command.start).build()?;
///         let id = counter.id();
///         ctx.repository::<Counter>().add(counter)?;
///         Ok(id)
///     }
///
///     #[handle(Hit)]
///     async fn hit(&self, command: Hit, ctx: &mut Context) -> Result<u32> {
///         let repo = ctx.repository::<Counter>();
///         let mut counter = repo.get(&command.counter_id).await?;
///         counter.hits += 1;
///         let hits = counter.hits;
///         counter.raise(HitCounted { hits });
///         repo.add(counter)?;
///         Ok(hits)
///     }
/// }
///
/// #[derive(Default)]
/// pub struct Printer;
///
/// #[event_handler(part_of = Counter)]
/// impl Printer {
///     #[handle(HitCounted)]
///     fn on_hit(&self, event: &HitCounted) {                 // no ctx, returns nothing
///         println!("{} hits", event.hits);
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Counting").build()?;
/// let id: Identifier = domain.process(Create { start: 0 }).await?;
/// let hits: u32 = domain.process(Hit { counter_id: id.clone() }).await?;
/// assert_eq!(hits, 1);
/// assert_eq!(domain.process(Hit { counter_id: id }).await?, 2);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
///
/// Outside a handler impl:
///
/// ```compile_fail
/// use domain_core::prelude::*;
///
/// pub struct Loose;
///
/// impl Loose {
///     #[handle(Something)] // only works inside an impl annotated with `#[command_handler(..)]` ..
///     fn on_something(&self) {}
/// }
/// ```
#[proc_macro_attribute]
pub fn handle(args: TokenStream, input: TokenStream) -> TokenStream {
    handlers::stray_handle(args.into(), input.into()).into()
}

/// Marks the inherent impl block of an event-sourced aggregate
/// ([`#[aggregate(event_sourced)]`](macro@aggregate)) whose [`#[apply]`](macro@apply) methods
/// change its state, one method per event.
///
/// Each `#[apply] fn name(&mut self, event: &Event)` implements `Apply<Event>` for the aggregate:
/// `raise` calls it at once, and loading calls it for every stored event of the aggregate's
/// stream, in order. An apply method cannot fail or return anything: it records a fact that
/// already happened (decide, and refuse, in the command handler before raising).
///
/// Compile-time checks:
/// - an event of an event-sourced aggregate without an `#[apply]` method is an error at the
///   event's name;
/// - an `#[apply]` method for another aggregate's event is an error at its event type;
/// - two `#[apply]` methods for one event, or a method of another shape, are errors at it.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate(event_sourced)]
/// pub struct Account {
///     pub owner: String,
///     pub balance: i64,
/// }
///
/// #[event(part_of = Account)]
/// pub struct Opened {
///     pub owner: String,
/// }
///
/// #[event(part_of = Account)]
/// pub struct Deposited {
///     pub amount: i64,
/// }
///
/// #[apply_events]
/// impl Account {
///     #[apply]
///     fn opened(&mut self, event: &Opened) {
///         self.owner = event.owner.clone();
///     }
///
///     #[apply]
///     fn deposited(&mut self, event: &Deposited) {
///         self.balance += event.amount;
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("bank").build()?;
/// let mut account = Account::new();
/// account.raise(Opened { owner: "Ada".into() });
/// account.raise(Deposited { amount: 30 });
/// let id = account.id();
/// domain.repository::<Account>().add(account).await?;
///
/// // Loading replays the stream: `Opened`, then `Deposited`.
/// let account = domain.repository::<Account>().get(&id).await?;
/// assert_eq!((account.owner().as_str(), *account.balance()), ("Ada", 30));
/// assert_eq!(account.version(), 1);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn apply_events(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Block::ApplyEvents, args.into(), input.into()).into()
}

/// Marks a method of an [`#[apply_events]`](macro@apply_events) impl block as the one that applies
/// its parameter's event to the aggregate's state: `#[apply] fn name(&mut self, event: &Event)`.
///
/// Outside an `#[apply_events]` block it is a compile error.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate(event_sourced)]
/// pub struct Lamp {
///     pub on: bool,
/// }
///
/// #[event(part_of = Lamp)]
/// pub struct SwitchedOn {}
///
/// #[apply_events]
/// impl Lamp {
///     #[apply]
///     fn switched_on(&mut self, _event: &SwitchedOn) {
///         self.on = true;
///     }
/// }
///
/// let mut lamp = Lamp::new();
/// lamp.raise(SwitchedOn {});
/// assert!(*lamp.on());
/// ```
#[proc_macro_attribute]
pub fn apply(args: TokenStream, input: TokenStream) -> TokenStream {
    appliers::stray_apply(args.into(), input.into()).into()
}

/// Marks a function as the upcaster of an event from one schema version to the next:
/// `#[upcaster(Event, from = N)] fn name(old: JsonValue) -> JsonValue` turns the stored JSON of
/// `Event` at version `N` into version `N + 1`'s.
///
/// An event at `#[event(version = V)]` needs an upcaster from each version below `V` (a gap in
/// the chain is a compile error at the event's name), and an upcaster from `V` or later is an
/// error at its `from`. Stored rows are never rewritten: every read path (aggregate loads,
/// subscriptions, dead-letter retries, `event_store()` reads) decodes an older version's row
/// through the upcasters from its version on, then as the current type.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Order {
///     pub customer: String,
/// }
///
/// // Version 1 had `total` in dollars; version 2 counts cents; version 3 adds `currency`.
/// #[event(part_of = Order, version = 3)]
/// pub struct OrderPlaced {
///     pub total_cents: i64,
///     pub currency: String,
/// }
///
/// #[upcaster(OrderPlaced, from = 1)]
/// fn dollars_to_cents(mut old: JsonValue) -> JsonValue {
///     let dollars = old["total"].as_f64().unwrap_or_default();
///     old["total_cents"] = ((dollars * 100.0).round() as i64).into();
///     old
/// }
///
/// #[upcaster(OrderPlaced, from = 2)]
/// fn add_currency(mut old: JsonValue) -> JsonValue {
///     old["currency"] = "EUR".into();
///     old
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// let placed = domain.event_store().decode("Shop.OrderPlaced.v1", r#"{"total": 12.5}"#)?;
/// let placed = placed.downcast_ref::<OrderPlaced>().unwrap();
/// assert_eq!((placed.total_cents, placed.currency.as_str()), (1250, "EUR"));
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn upcaster(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(upcasters::Upcaster, args.into(), input.into()).into()
}

/// RIDDL's entity handler on an event-sourced entity: its `on` clauses as methods.
///
/// | RIDDL | Rust |
/// |---|---|
/// | `on command JustDoIt yields JustDidIt` | `#[on_command] fn just_do_it(&self, command: JustDoIt) -> JustDidIt` |
/// | `on event Path.To.Context.ThingThatHappened yields ExternalThingHappened` | `#[react] fn thing(&self, event: &path::to::context::ThingThatHappened) -> ExternalThingHappened` (see [`#[react]`](macro@react)) |
/// | `on query JustGetIt { then return JustGotIt from "SELECT .." }` | `#[on_query(sql = "SELECT ..")] fn just_get_it(query: JustGetIt) -> JustGotIt;` (see [`#[on_query]`](macro@on_query)) |
/// | `on event NameWasUpdated { set State.name to NameWasUpdated.newName }` | `#[apply] fn updated(&mut self, event: &NameWasUpdated) { self.name = .. }` |
/// | several handlers, one active | `#[aggregate(event_sourced, states = Handlers)]`, `#[on_command(when = Open)]`, `#[apply(become = Closed)]` |
///
/// An `#[on_command]` clause reads the entity and returns what the command yields: an event of
/// the entity, or an `Option`, `Vec`, tuple or `Result` of them (see `domain_core::Yields`); an
/// `Err` refuses the command. The framework loads the entity named by the command's
/// `#[identifier]` (a new entity has no events yet: it starts blank; a command without an
/// identifier starts a new one), applies each yielded event through its `#[apply]` method and
/// appends it to the entity's stream when the command commits. `domain.process(command)`
/// returns a `domain_core::Handled`.
///
/// With handler states, `when` says in which states a clause runs; a command the active state
/// has no clause for is ignored (`Handled::Ignored`, or an error with
/// `DomainBuilder::ignored_messages`). The active state changes only when an event is applied
/// (`#[apply(become = State)]`), so replaying the stream restores it.
///
/// Compile errors at your own tokens: a clause that yields another entity's event, a command of
/// another entity, a second clause for one command, a `when` or `become` naming a state the
/// entity does not declare, an entity that is not event-sourced, a second `#[entity_handler]`
/// block for one entity.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[handler_states]
/// pub enum Phase { Open, Closed }
///
/// #[aggregate(event_sourced, states = Phase)]
/// pub struct Ticket { pub notes: Vec<String> }
///
/// #[event(part_of = Ticket)]
/// pub struct Noted { pub text: String }
///
/// #[event(part_of = Ticket)]
/// pub struct TicketClosed {}
///
/// #[command(part_of = Ticket)]
/// pub struct Note { #[identifier] pub ticket: Identifier, pub text: String }
///
/// #[command(part_of = Ticket)]
/// pub struct Close { #[identifier] pub ticket: Identifier }
///
/// #[entity_handler]
/// impl Ticket {
///     /// RIDDL: `on command Note yields Noted`, in the `Open` handler only.
///     #[on_command(when = Open)]
///     fn note(&self, command: Note) -> Noted {
///         Noted { text: command.text }
///     }
///
///     #[on_command(when = Open)]
///     fn close(&self, _command: Close) -> TicketClosed {
///         TicketClosed {}
///     }
///
///     #[apply]
///     fn noted(&mut self, event: &Noted) {
///         self.notes.push(event.text.clone());
///     }
///
///     #[apply(become = Closed)]
///     fn closed(&mut self, _event: &TicketClosed) {}
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Desk").build()?;
/// let ticket = Identifier::new();
/// let noted = domain.process(Note { ticket: ticket.clone(), text: "printer jams".into() }).await?;
/// assert_eq!(noted.events(), 1);
/// domain.process(Close { ticket: ticket.clone() }).await?;
///
/// // The `Closed` handler has no clause for `Note`: ignored, visibly.
/// let late = domain.process(Note { ticket: ticket.clone(), text: "still jams".into() }).await?;
/// assert!(late.is_ignored());
///
/// let loaded = domain.repository::<Ticket>().get(&ticket).await?;
/// assert_eq!(loaded.active_handler(), Phase::Closed);
/// assert_eq!(loaded.notes(), &["printer jams".to_string()]);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn entity_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Block::EntityHandler, args.into(), input.into()).into()
}

/// Marks a method of an [`#[entity_handler]`](macro@entity_handler) impl block as a command
/// clause (RIDDL: `on command C yields E`): `fn name(&self, command: C) -> Yielded`, with
/// `when = State` or `when = [State, ..]` to run only in those handler states.
///
/// Outside an `#[entity_handler]` block it is a compile error.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate(event_sourced)]
/// pub struct Greeter { pub greeted: u32 }
///
/// #[event(part_of = Greeter)]
/// pub struct Greeted { pub name: String }
///
/// #[command(part_of = Greeter)]
/// pub struct Greet { #[identifier] pub greeter: Identifier, pub name: String }
///
/// #[entity_handler]
/// impl Greeter {
///     #[on_command]
///     fn greet(&self, command: Greet) -> Greeted {
///         Greeted { name: command.name }
///     }
///
///     #[apply]
///     fn count_greeting(&mut self, _event: &Greeted) {
///         self.greeted += 1;
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn on_command(args: TokenStream, input: TokenStream) -> TokenStream {
    appliers::stray_on_command(args.into(), input.into()).into()
}

/// Declares an entity's handler states (RIDDL: "an entity can make use of multiple handlers
/// ... only one handler active at any moment"): a fieldless enum, named by
/// `#[aggregate(event_sourced, states = ThisEnum)]`. Its first variant is where a new entity
/// starts. It derives `Clone`, `Copy`, `Debug`, `PartialEq`, `Eq`, `Hash` and serde's traits,
/// and implements `Default` (the first variant) and `domain_core::HandlerState`.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[handler_states]
/// pub enum Light { Red, Green, Amber }
///
/// assert_eq!(Light::default(), Light::Red);
/// ```
#[proc_macro_attribute]
pub fn handler_states(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(states::HandlerStatesFamily, args.into(), input.into()).into()
}

/// RIDDL's `query` type (`type JustGetIt = query { id: Id(AnEntity) }`): a question with the
/// response it is answered with, `result = R` (required) — a [`#[response]`](macro@response),
/// or an `Option` or `Vec` of one. Its one handler is an [`#[on_query]`](macro@on_query) clause;
/// `domain.query(JustGetIt { .. }).await` returns `Result<R>`. Its fields are validated as a
/// command's are.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[response]
/// pub struct JustGotIt { pub id: Identifier, pub count: i64 }
///
/// #[query(result = JustGotIt)]
/// pub struct JustGetIt { pub id: Identifier }
///
/// #[query(result = Vec<JustGotIt>)]
/// pub struct EveryCount {}
/// ```
#[proc_macro_attribute]
pub fn query(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::Query, args.into(), input.into()).into()
}

/// RIDDL's `response` type (`type JustGotIt = response { id: Id(AnEntity), count: Integer }`):
/// what a [`#[query]`](macro@query) is answered with. A SQL query handler's selected columns are
/// decoded into its fields by name. Derives `Clone`, `Debug`, `PartialEq` and serde's traits.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[response]
/// pub struct Stock { pub title: String, pub copies: i64 }
///
/// let stock = Stock { title: "Dune".into(), copies: 2 };
/// assert_eq!(stock.clone(), stock);
/// ```
#[proc_macro_attribute]
pub fn response(args: TokenStream, input: TokenStream) -> TokenStream {
    pipeline::run(Kind::Response, args.into(), input.into()).into()
}

/// Marks a function of an [`#[entity_handler]`](macro@entity_handler) impl block as the one
/// handler of a query (RIDDL: `on query JustGetIt { then return JustGotIt from "SELECT .." }`),
/// in one of two forms:
///
/// - Rust: `#[on_query] async fn name(query: Q, ctx: QueryContext<'_>) -> Result<R>`, reading
///   aggregates through `ctx` (`get`, `find_by`, `query`).
/// - SQL: `#[on_query(sql = "SELECT .. WHERE id = %id")] fn name(query: Q) -> R;` — no body.
///   Each `%name` is a parameter bound from the query's field `name` (never spliced into the
///   text; a name that is no field of the query is a compile error); the selected rows are
///   decoded into `R` by column name. It runs on SQLite and PostgreSQL, where each aggregate
///   whose rows hold its state is a view named after it in snake_case, with an `id`, a
///   `version` and a column per field (an event-sourced one with `snapshot_every = 1`). On the
///   in-memory store it is an error that says so.
///
/// `R` must be the query's `result`; a second handler for one query is a compile error.
///
/// ```
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Shelf { pub label: String, pub books: i64 }
///
/// #[response]
/// pub struct ShelfSize { pub label: String, pub books: i64 }
///
/// #[query(result = Vec<ShelfSize>)]
/// pub struct BigShelves { pub at_least: i64 }
///
/// #[aggregate(event_sourced)]
/// pub struct Library { pub shelves: u32 }
///
/// #[entity_handler]
/// impl Library {
///     #[on_query(sql = "SELECT label, books FROM shelf WHERE books >= %at_least ORDER BY label")]
///     fn big_shelves(query: BigShelves) -> Vec<ShelfSize>;
/// }
/// ```
#[proc_macro_attribute]
pub fn on_query(args: TokenStream, input: TokenStream) -> TokenStream {
    appliers::stray_on_query(args.into(), input.into()).into()
}

/// Marks a method of an [`#[entity_handler]`](macro@entity_handler) impl block as a reaction
/// (RIDDL: `on event Path.To.Context.ThingThatHappened yields ExternalThingHappened`):
/// `fn name(&self, event: &ForeignEvent) -> Yielded`, where `Yielded` is what a command clause
/// may yield (events of this entity), or `Process<C>` with a command `C` of this entity, which is
/// processed at once through its own handler. Options: `when = State` (or `[State, ..]`), and
/// `instance = field`, the event's field holding this entity's identity (without it, the
/// identity in the event's stream). Each reaction is a subscription of the delivery engine.
///
/// ```
/// use domain_core::prelude::*;
///
/// pub mod weather {
///     use domain_core::prelude::*;
///
///     #[aggregate]
///     pub struct Station { pub name: String }
///
///     #[event(part_of = Station)]
///     pub struct ItRained { pub millimetres: i64 }
/// }
///
/// /// One per station: the rain it recorded, in this context's terms.
/// #[aggregate(event_sourced)]
/// pub struct Gauge { pub total: i64 }
///
/// #[event(part_of = Gauge)]
/// pub struct Measured { pub millimetres: i64 }
///
/// #[entity_handler]
/// impl Gauge {
///     #[react]
///     fn rained(&self, event: &weather::ItRained) -> Measured {
///         Measured { millimetres: event.millimetres }
///     }
///
///     #[apply]
///     fn measured(&mut self, event: &Measured) {
///         self.total += event.millimetres;
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn react(args: TokenStream, input: TokenStream) -> TokenStream {
    appliers::stray_react(args.into(), input.into()).into()
}
