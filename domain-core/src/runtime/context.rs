//! What a handler receives besides its message: repositories staged in the handler's own unit of
//! work, the current message's metadata, and a way to process further commands.

use std::marker::PhantomData;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::model::Aggregate;
use crate::model::error::{Error, Result};
use crate::model::identifier::Identifier;
use crate::model::message::{EventEnvelope, Metadata};
use crate::model::query::{Filter, OrderBy, QueryResult, QuerySpec};
use crate::runtime::chain::Chain;
use crate::runtime::core::DomainInner;
use crate::runtime::unit_of_work::UnitOfWork;
use crate::store::{Causation, CommitBatch, DeliveryMark, PendingCommands};

/// The handler's view of the domain for one message.
///
/// Everything a handler stages through [`Context::repository`] commits together when the handler
/// returns `Ok`, and is discarded when it returns `Err`.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Counter { pub hits: i64 }
///
/// #[command(part_of = Counter)]
/// pub struct Hit { pub counter: Identifier }
///
/// #[derive(Default)]
/// pub struct CounterHandler;
///
/// #[command_handler(part_of = Counter)]
/// impl CounterHandler {
///     #[handle(Hit)]
///     async fn hit(&self, command: Hit, ctx: &mut Context) -> Result<i64> {
///         let repo = ctx.repository::<Counter>();
///         let mut counter = repo.get(&command.counter).await?;
///         counter.hits += 1;
///         let hits = counter.hits;
///         repo.add(counter)?;
///         Ok(hits)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Demo").build()?;
/// let counter = Counter::builder().hits(0).build()?;
/// let id = counter.id();
/// domain.repository::<Counter>().add(counter).await?;
/// assert_eq!(domain.process(Hit { counter: id.clone() }).await?, 1);
/// assert_eq!(domain.process(Hit { counter: id }).await?, 2);
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
pub struct Context {
    pub(crate) inner: Arc<DomainInner>,
    pub(crate) metadata: Arc<Metadata>,
    /// The units of work this handler reads through, outermost first; the last is its own. A
    /// nested command's handler (`ctx.process`) sees what the handlers around it staged. Kept
    /// inline for the usual single unit: a `Vec` would cost an allocation per message.
    units: Units,
    /// The command being handled, then those it processed: logged with the commit.
    pub(crate) commands: Mutex<PendingCommands>,
    /// The caller's claim on the events this handler commits (checkpointed delivery only).
    chain: Option<Arc<Chain>>,
    /// The event handler's full path when this context is a delivery's.
    handler: Option<&'static str>,
}

impl Context {
    pub(crate) fn new(
        inner: Arc<DomainInner>,
        metadata: Arc<Metadata>,
        chain: Option<Arc<Chain>>,
    ) -> Self {
        Context {
            inner,
            metadata,
            units: Units::One([Arc::default()]),
            commands: Mutex::default(),
            chain,
            handler: None,
        }
    }

    /// A context for `handler`'s delivery of the event `metadata` describes.
    pub(crate) fn for_delivery(
        inner: Arc<DomainInner>,
        metadata: Arc<Metadata>,
        chain: Option<Arc<Chain>>,
        handler: &'static str,
    ) -> Self {
        let mut ctx = Context::new(inner, metadata, chain);
        ctx.handler = Some(handler);
        ctx
    }

    /// A context for a command processed by this handler: its own unit of work, reading
    /// through this handler's.
    pub(crate) fn nested(&self, metadata: Arc<Metadata>) -> Context {
        let mut units = self.units.as_slice().to_vec();
        units.push(Arc::default());
        let units = Units::Nested(units);
        Context {
            inner: self.inner.clone(),
            metadata,
            units,
            commands: Mutex::default(),
            chain: self.chain.clone(),
            // A nested command's handler is a command handler, keyed by its command.
            handler: None,
        }
    }

    pub(crate) fn unit(&self) -> &Mutex<UnitOfWork> {
        self.units
            .as_slice()
            .last()
            .expect("a context has its own unit of work")
    }

    /// The causal context of the events this handler's aggregates raise.
    pub(crate) fn causation(&self) -> Causation {
        Causation {
            correlation_id: self.metadata.correlation_id,
            causation_id: Some(self.metadata.id),
            origin_stream: Some(
                self.metadata
                    .origin_stream
                    .clone()
                    .unwrap_or_else(|| self.metadata.stream.clone()),
            ),
        }
    }

    /// The metadata of the message being handled.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// A key that is the same every time this message is handled by this handler, and differs
    /// for any other (message, handler) pair: give it to an outside service (a payment API, a
    /// mailer) so that a redelivery after a crash does not repeat the effect there. For an event
    /// handler it is `<handler path>@<event id>`; for a command handler, the command's id.
    ///
    /// ```rust,standalone_crate
    /// use domain_core::prelude::*;
    ///
    /// #[aggregate]
    /// pub struct Order { pub total: i64 }
    ///
    /// #[event(part_of = Order)]
    /// pub struct OrderPlaced { pub total: i64 }
    ///
    /// #[derive(Default)]
    /// pub struct Receipts;
    ///
    /// #[event_handler(part_of = Order)]
    /// impl Receipts {
    ///     #[handle(OrderPlaced)]
    ///     fn send(&self, event: &OrderPlaced, ctx: &mut Context) -> Result<()> {
    ///         let key = ctx.idempotency_key();
    ///         assert!(key.contains("Receipts@"));
    ///         // mailer.send(receipt(event), key)
    ///         # let _ = event;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let domain = Domain::builder("Shop").build()?;
    /// let mut order = Order::builder().total(30).build()?;
    /// order.raise(OrderPlaced { total: 30 });
    /// domain.repository::<Order>().add(order).await?;
    /// # Ok::<(), domain_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn idempotency_key(&self) -> String {
        match self.handler {
            Some(handler) => format!("{handler}@{}", self.metadata.id),
            None => self.metadata.id.to_string(),
        }
    }

    /// The domain's name.
    pub fn domain_name(&self) -> &str {
        &self.inner.name
    }

    /// `A` with identity `id` as this handler sees it, or, for an event-sourced `A` with no
    /// events yet, its blank state (an entity handler's clause starts the entity).
    pub(crate) async fn load_or_blank<A: Aggregate>(&self, id: &Identifier) -> Result<A> {
        match self.repository::<A>().get(id).await {
            Err(Error::NotFound { .. }) => {
                A::__blank(id).ok_or_else(|| Error::not_found(A::NAME, id))
            }
            other => other,
        }
    }

    /// The repository of `A`, staged in this handler's unit of work.
    pub fn repository<A: Aggregate>(&self) -> Repository<'_, A> {
        Repository {
            ctx: self,
            _aggregate: PhantomData,
        }
    }

    /// Ends the handler's work: commits the unit of work if the handler succeeded, discards it
    /// otherwise (with every command it processed). Returns the outcome and the committed events
    /// to dispatch next.
    pub(crate) async fn finish<T>(self, outcome: Result<T>) -> (Result<T>, Vec<EventEnvelope>) {
        match outcome {
            Ok(value) => match self.commit().await {
                Ok(committed) => (Ok(value), committed),
                Err(error) => (Err(error), Vec::new()),
            },
            Err(error) => (Err(error), Vec::new()),
        }
    }

    /// Borrows the context: taking it by value would put a second copy of it in `finish`'s future.
    async fn commit(&self) -> Result<Vec<EventEnvelope>> {
        match (self.take_batch()?, &self.chain) {
            (None, _) => Ok(Vec::new()),
            // Straight to the store when nothing is claimed (the in-memory hot path).
            (Some(batch), None) => self.inner.store.commit(batch).await,
            (Some(batch), Some(chain)) => self.inner.commit(batch, Some(chain)).await,
        }
    }

    /// What the handler staged and the commands it processed, as one batch; `None` if nothing.
    fn take_batch(&self) -> Result<Option<CommitBatch>> {
        let unit = std::mem::take(&mut *self.unit().lock());
        let commands = std::mem::take(&mut *self.commands.lock());
        if unit.is_empty() && commands.is_empty() {
            return Ok(None);
        }
        let mut batch = unit.into_batch(&self.inner.registry, self.causation())?;
        batch.commands = commands;
        Ok(Some(batch))
    }

    /// Ends an event handler's work on a subscription or a retry: commits what it staged
    /// together with `mark` (the subscription's progress, or the retried record's deletion). A
    /// handler that staged nothing commits nothing, and the mark is left to the caller
    /// (`persisted` is false): redelivering such a delivery repeats no write to the store.
    pub(crate) async fn finish_delivery(
        self,
        outcome: Result<()>,
        mark: DeliveryMark,
    ) -> FinishedDelivery {
        let batch = match outcome.and_then(|()| self.take_batch()) {
            Ok(Some(mut batch)) => {
                batch.mark = Some(Box::new(mark));
                batch
            }
            Ok(None) => return FinishedDelivery::default(),
            Err(error) => {
                return FinishedDelivery {
                    outcome: Err(error),
                    ..FinishedDelivery::default()
                };
            }
        };
        match self.inner.commit(batch, self.chain.as_ref()).await {
            Ok(events) => FinishedDelivery {
                outcome: Ok(()),
                events,
                persisted: true,
            },
            Err(error) => FinishedDelivery {
                outcome: Err(error),
                ..FinishedDelivery::default()
            },
        }
    }
}

impl Context {
    /// Ends the run of a submitted command: commits what its handler staged together with the
    /// command's log record going from pending to done, or only that when it staged nothing
    /// (the command ran either way). Returns the committed events.
    pub(crate) async fn finish_submission(
        self,
        outcome: Result<()>,
        position: u64,
    ) -> Result<Vec<EventEnvelope>> {
        outcome?;
        let mark = DeliveryMark::Submission {
            position,
            id: self.metadata.id,
        };
        let mut batch = self.take_batch()?.unwrap_or_else(|| CommitBatch {
            aggregates: Vec::new(),
            commands: PendingCommands::new(),
            timestamp: std::time::SystemTime::now(),
            mark: None,
        });
        batch.mark = Some(Box::new(mark));
        self.inner.commit(batch, self.chain.as_ref()).await
    }
}

/// How a delivery on a subscription ended.
pub(crate) struct FinishedDelivery {
    pub outcome: Result<()>,
    /// The events the handler committed.
    pub events: Vec<EventEnvelope>,
    /// Whether the subscription's progress was committed with it.
    pub persisted: bool,
}

impl Default for FinishedDelivery {
    fn default() -> Self {
        FinishedDelivery {
            outcome: Ok(()),
            events: Vec::new(),
            persisted: false,
        }
    }
}

/// A context's units of work: its own alone, or those of the handlers it is nested in first.
enum Units {
    One([Arc<Mutex<UnitOfWork>>; 1]),
    Nested(Vec<Arc<Mutex<UnitOfWork>>>),
}

impl Units {
    fn as_slice(&self) -> &[Arc<Mutex<UnitOfWork>>] {
        match self {
            Units::One(one) => one,
            Units::Nested(all) => all,
        }
    }
}

/// Reads aggregates: from the store, and from a unit of work first when there is one (so a handler
/// sees what it staged).
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub inner: &'a DomainInner,
    /// Units of work to read through, outermost first (empty outside a handler).
    pub units: &'a [Arc<Mutex<UnitOfWork>>],
}

impl Reader<'_> {
    pub async fn get<A: Aggregate>(&self, id: &Identifier) -> Result<A> {
        // The innermost staging of `id` wins: it is the latest change.
        if let Some(staged) = self
            .units
            .iter()
            .rev()
            .find_map(|u| u.lock().staged::<A>(id))
        {
            return Ok(staged);
        }
        self.inner
            .store
            .load::<A>(id)
            .await?
            .ok_or_else(|| Error::not_found(A::NAME, id))
    }

    pub async fn query<A: Aggregate>(&self, spec: &QuerySpec<A>) -> Result<QueryResult<A>> {
        // Staged aggregates shadow their stored versions: when the unit of work holds some `A`,
        // fetch every stored match and merge before ordering and paging; otherwise the store
        // runs the whole query (SQL stores push filter, order, paging and count down).
        let staged = self
            .units
            .iter()
            .any(|unit| unit.lock().has_staged::<A>())
            .then(|| {
                let mut ids: Vec<Identifier> = Vec::new();
                let mut rows: Vec<A> = Vec::new();
                for unit in self.units.iter().rev() {
                    for row in unit.lock().staged_of::<A>() {
                        let id = row.identifier();
                        if !ids.contains(&id) {
                            ids.push(id);
                            rows.push(row.clone());
                        }
                    }
                }
                (ids, rows)
            });
        match staged {
            None => self.inner.store.query(spec).await,
            Some((ids, mut rows)) => {
                let stored = self
                    .inner
                    .store
                    .matching(spec.filter.as_ref(), &ids)
                    .await?;
                rows.extend(stored);
                Ok(spec.apply(rows))
            }
        }
    }

    pub async fn find_by<A: Aggregate>(&self, filter: Filter<A>) -> Result<A> {
        let spec = QuerySpec {
            filter: Some(filter),
            limit: Some(2),
            ..QuerySpec::default()
        };
        let mut result = self.query(&spec).await?;
        match result.total {
            0 => Err(Error::NotFound {
                aggregate: A::NAME,
                id: format!("{:?}", spec.filter.as_ref()),
            }),
            1 => Ok(result.items.remove(0)),
            count => Err(Error::TooMany {
                aggregate: A::NAME,
                count,
            }),
        }
    }
}

/// A handler's repository of `A`: reads see the handler's own staged changes; `add` stages.
pub struct Repository<'c, A> {
    ctx: &'c Context,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A> Clone for Repository<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Repository<'_, A> {}

impl<'c, A: Aggregate> Repository<'c, A> {
    fn reader(&self) -> Reader<'c> {
        Reader {
            inner: &self.ctx.inner,
            units: self.ctx.units.as_slice(),
        }
    }

    /// Validates `aggregate` and stages it, with the events it raised, for the handler's commit.
    /// Invalid aggregates are rejected here with every failing field.
    pub fn add(&self, aggregate: A) -> Result<()> {
        aggregate.validate()?;
        self.ctx.unit().lock().stage(aggregate)?;
        Ok(())
    }

    /// The aggregate with this identity, or [`Error::NotFound`].
    pub async fn get(&self, id: &Identifier) -> Result<A> {
        self.reader().get(id).await
    }

    /// The one aggregate matching `filter`: [`Error::NotFound`] if none, [`Error::TooMany`] if several.
    pub async fn find_by(&self, filter: Filter<A>) -> Result<A> {
        self.reader().find_by(filter).await
    }

    /// A query over every `A`.
    pub fn query(&self) -> Query<'c, A> {
        Query::new(self.reader())
    }
}

/// A query under construction: filter, order, limit, offset; run it with [`Query::all`].
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Item { pub name: String, pub price: i64 }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Shop").build()?;
/// for (name, price) in [("a", 5), ("b", 15), ("c", 25)] {
///     domain.repository::<Item>().add(Item::builder().name(name).price(price).build()?).await?;
/// }
/// let page = domain
///     .repository::<Item>()
///     .query()
///     .filter(Item::PRICE.ge(10))
///     .order_by(Item::PRICE.desc())
///     .limit(1)
///     .all()
///     .await?;
/// assert_eq!(page.total, 2);
/// assert_eq!(page.items[0].name, "c");
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
pub struct Query<'r, A> {
    reader: Reader<'r>,
    spec: QuerySpec<A>,
}

impl<'r, A: Aggregate> Query<'r, A> {
    pub(crate) fn new(reader: Reader<'r>) -> Self {
        Query {
            reader,
            spec: QuerySpec::default(),
        }
    }

    /// Keeps only aggregates matching `filter` (and every earlier filter).
    pub fn filter(mut self, filter: Filter<A>) -> Self {
        self.spec.filter = Some(match self.spec.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
        self
    }

    /// Orders by `order`, after any earlier ordering.
    pub fn order_by(mut self, order: OrderBy<A>) -> Self {
        self.spec.order.push(order);
        self
    }

    /// At most `limit` items.
    pub fn limit(mut self, limit: usize) -> Self {
        self.spec.limit = Some(limit);
        self
    }

    /// Skips the first `offset` items.
    pub fn offset(mut self, offset: usize) -> Self {
        self.spec.offset = offset;
        self
    }

    /// The page of matching items and the total count.
    pub async fn all(self) -> Result<QueryResult<A>> {
        self.reader.query(&self.spec).await
    }

    /// How many aggregates match.
    pub async fn count(mut self) -> Result<usize> {
        self.spec.limit = Some(0); // no page: SQL stores run only the COUNT
        Ok(self.reader.query(&self.spec).await?.total)
    }

    /// The first matching item in the query's order.
    pub async fn first(mut self) -> Result<Option<A>> {
        self.spec.limit = Some(1);
        Ok(self.reader.query(&self.spec).await?.items.pop())
    }
}
