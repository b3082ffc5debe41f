//! Typed queries: fields as constants (`Inventory::BOOK_ID`), filters, ordering, paging.
//!
//! A filter carries both a predicate (for the in-memory store) and a description — field name,
//! operator, JSON value — that SQL stores translate into parameterized statements.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A field of `A` with type `T`, generated as an associated constant per field:
/// `Book::TITLE: Field<Book, String>`.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Inventory {
///     pub title: String,
///     pub in_stock: i64,
/// }
///
/// let low = Inventory::IN_STOCK.lt(5).and(Inventory::TITLE.ne("Dune"));
/// let inv = Inventory::builder().title("Emma").in_stock(3).build()?;
/// assert!(low.matches(&inv));
/// # Ok::<(), domain_core::ValidationErrors>(())
/// ```
pub struct Field<A, T> {
    name: &'static str,
    get: fn(&A) -> &T,
}

impl<A, T> Clone for Field<A, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, T> Copy for Field<A, T> {}

impl<A, T> fmt::Debug for Field<A, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Field({})", self.name)
    }
}

/// A comparison operator of a [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `IN (...)`: the value is a JSON array.
    In,
}

impl<A: 'static, T: Serialize + Send + Sync + 'static> Field<A, T> {
    /// A field with a name and an accessor (what the macros generate).
    pub const fn new(name: &'static str, get: fn(&A) -> &T) -> Self {
        Field { name, get }
    }

    /// The field's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The field's value in `aggregate`.
    pub fn get<'a>(&self, aggregate: &'a A) -> &'a T {
        (self.get)(aggregate)
    }

    fn condition(
        self,
        op: Op,
        value: serde_json::Value,
        test: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Filter<A> {
        let get = self.get;
        // Equality lookups can be answered by a hash index keyed by the value's JSON text.
        let index_key = (op == Op::Eq).then(|| {
            Arc::new(move |a: &A| serde_json::to_string(get(a)).unwrap_or_default()) as IndexKey<A>
        });
        Filter::Condition(Condition {
            field: self.name,
            op,
            value,
            test: Arc::new(move |a: &A| test(get(a))),
            index_key,
            json_ordered: json_orders_like_rust::<T>(),
        })
    }

    /// `field = value`
    pub fn eq(self, value: impl Into<T>) -> Filter<A>
    where
        T: PartialEq,
    {
        let value = value.into();
        let json = to_json(&value);
        self.condition(Op::Eq, json, move |v| *v == value)
    }

    /// `field <> value`
    pub fn ne(self, value: impl Into<T>) -> Filter<A>
    where
        T: PartialEq,
    {
        let value = value.into();
        let json = to_json(&value);
        self.condition(Op::Ne, json, move |v| *v != value)
    }

    /// `field > value`
    pub fn gt(self, value: impl Into<T>) -> Filter<A>
    where
        T: PartialOrd,
    {
        let value = value.into();
        let json = to_json(&value);
        self.condition(Op::Gt, json, move |v| *v > value)
    }

    /// `field >= value`
    pub fn ge(self, value: impl Into<T>) -> Filter<A>
    where
        T: PartialOrd,
    {
        let value = value.into();
        let json = to_json(&value);
        self.condition(Op::Ge, json, move |v| *v >= value)
    }

    /// `field < value`
    pub fn lt(self, value: impl Into<T>) -> Filter<A>
    where
        T: PartialOrd,
    {
        let value = value.into();
        let json = to_json(&value);
        self.condition(Op::Lt, json, move |v| *v < value)
    }

    /// `field <= value`
    pub fn le(self, value: impl Into<T>) -> Filter<A>
    where
        T: PartialOrd,
    {
        let value = value.into();
        let json = to_json(&value);
        self.condition(Op::Le, json, move |v| *v <= value)
    }

    /// `field IN (values)`
    pub fn is_in<V: Into<T>>(self, values: impl IntoIterator<Item = V>) -> Filter<A>
    where
        T: PartialEq,
    {
        let values: Vec<T> = values.into_iter().map(Into::into).collect();
        let json = to_json(&values);
        self.condition(Op::In, json, move |v| values.contains(v))
    }

    /// Ascending order by this field.
    pub fn asc(self) -> OrderBy<A>
    where
        T: PartialOrd,
    {
        self.order(false)
    }

    /// Descending order by this field.
    pub fn desc(self) -> OrderBy<A>
    where
        T: PartialOrd,
    {
        self.order(true)
    }

    fn order(self, descending: bool) -> OrderBy<A>
    where
        T: PartialOrd,
    {
        let get = self.get;
        OrderBy {
            field: self.name,
            descending,
            json_ordered: json_orders_like_rust::<T>(),
            compare: Arc::new(move |a: &A, b: &A| {
                get(a).partial_cmp(get(b)).unwrap_or(Ordering::Equal)
            }),
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    // Field values are plain data (text, numbers, identifiers); a value serde cannot represent as
    // JSON only loses its SQL translation, never the in-memory predicate.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// True if `T`'s JSON form sorts the way `T` does: strings byte-wise, numbers by value, `false`
/// before `true`, `None` first. SQL stores push ordering (`<`, `ORDER BY`) on such fields into
/// SQL; on any other type (an enum, a struct, an `Identifier`,
/// which sorts UUIDs before text) they evaluate it in Rust, so the order is always
/// the type's own.
fn json_orders_like_rust<T: 'static>() -> bool {
    use std::any::TypeId;
    macro_rules! any_of {
        ($($t:ty),*) => {
            [$(TypeId::of::<$t>(), TypeId::of::<Option<$t>>()),*].contains(&TypeId::of::<T>())
        };
    }
    any_of!(
        String,
        bool,
        i8,
        i16,
        i32,
        i64,
        u8,
        u16,
        u32,
        u64,
        f32,
        f64,
        uuid::Uuid
    )
}

/// One `field op value` test.
pub struct Condition<A> {
    /// The field's name.
    pub field: &'static str,
    /// The operator.
    pub op: Op,
    /// The operand, as JSON (an array for [`Op::In`]).
    pub value: serde_json::Value,
    test: Arc<dyn Fn(&A) -> bool + Send + Sync>,
    index_key: Option<IndexKey<A>>,
    /// See [`json_orders_like_rust`].
    pub(crate) json_ordered: bool,
}

/// The key of an aggregate in an equality index on one field: the field's value as JSON text.
pub(crate) type IndexKey<A> = Arc<dyn Fn(&A) -> String + Send + Sync>;

impl<A> Condition<A> {
    /// For an equality test: the field, the key of the wanted value, and how to key an aggregate.
    pub(crate) fn equality_index(&self) -> Option<(&'static str, String, &IndexKey<A>)> {
        Some((self.field, self.value.to_string(), self.index_key.as_ref()?))
    }
}

/// A predicate over aggregates of type `A`, built from [`Field`]s.
pub enum Filter<A> {
    /// A single comparison.
    Condition(Condition<A>),
    /// All must hold.
    And(Vec<Filter<A>>),
    /// At least one must hold.
    Or(Vec<Filter<A>>),
    /// Must not hold.
    Not(Box<Filter<A>>),
}

impl<A> Clone for Filter<A> {
    fn clone(&self) -> Self {
        match self {
            Filter::Condition(c) => Filter::Condition(Condition {
                field: c.field,
                op: c.op,
                value: c.value.clone(),
                test: c.test.clone(),
                index_key: c.index_key.clone(),
                json_ordered: c.json_ordered,
            }),
            Filter::And(v) => Filter::And(v.clone()),
            Filter::Or(v) => Filter::Or(v.clone()),
            Filter::Not(f) => Filter::Not(f.clone()),
        }
    }
}

impl<A> fmt::Debug for Filter<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Condition(c) => write!(f, "{} {:?} {}", c.field, c.op, c.value),
            Filter::And(v) => f.debug_tuple("And").field(v).finish(),
            Filter::Or(v) => f.debug_tuple("Or").field(v).finish(),
            Filter::Not(x) => f.debug_tuple("Not").field(x).finish(),
        }
    }
}

impl<A> Filter<A> {
    /// Both this and `other`.
    pub fn and(self, other: Filter<A>) -> Filter<A> {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            first => Filter::And(vec![first, other]),
        }
    }

    /// This or `other`.
    pub fn or(self, other: Filter<A>) -> Filter<A> {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            first => Filter::Or(vec![first, other]),
        }
    }

    /// The negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<A> {
        Filter::Not(Box::new(self))
    }

    /// An equality condition that must hold for every match (the filter itself, or a member of
    /// a top-level `And`): stores answer it from an index instead of scanning.
    pub(crate) fn required_equality(&self) -> Option<&Condition<A>> {
        match self {
            Filter::Condition(c) if c.index_key.is_some() => Some(c),
            Filter::And(all) => all.iter().find_map(Filter::required_equality),
            _ => None,
        }
    }

    /// Evaluates the filter on one aggregate.
    pub fn matches(&self, aggregate: &A) -> bool {
        match self {
            Filter::Condition(c) => (c.test)(aggregate),
            Filter::And(all) => all.iter().all(|f| f.matches(aggregate)),
            Filter::Or(any) => any.iter().any(|f| f.matches(aggregate)),
            Filter::Not(f) => !f.matches(aggregate),
        }
    }
}

/// Compares two aggregates by one field.
type Comparator<A> = Arc<dyn Fn(&A, &A) -> Ordering + Send + Sync>;

/// An ordering key, from [`Field::asc`] or [`Field::desc`].
pub struct OrderBy<A> {
    /// The field's name.
    pub field: &'static str,
    /// True for descending.
    pub descending: bool,
    /// See [`json_orders_like_rust`].
    pub(crate) json_ordered: bool,
    compare: Comparator<A>,
}

impl<A> Clone for OrderBy<A> {
    fn clone(&self) -> Self {
        OrderBy {
            field: self.field,
            descending: self.descending,
            json_ordered: self.json_ordered,
            compare: self.compare.clone(),
        }
    }
}

impl<A> OrderBy<A> {
    /// Compares two aggregates by this key.
    pub fn compare(&self, a: &A, b: &A) -> Ordering {
        let ord = (self.compare)(a, b);
        if self.descending { ord.reverse() } else { ord }
    }
}

/// What to fetch: filter, ordering, paging. Stores execute it; SQL stores translate it.
pub struct QuerySpec<A> {
    /// Rows must match this, if any.
    pub filter: Option<Filter<A>>,
    /// Sort keys, most significant first.
    pub order: Vec<OrderBy<A>>,
    /// At most this many items.
    pub limit: Option<usize>,
    /// Skip this many items first.
    pub offset: usize,
}

impl<A> Default for QuerySpec<A> {
    fn default() -> Self {
        QuerySpec {
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: 0,
        }
    }
}

impl<A> QuerySpec<A> {
    /// Filters, sorts and pages `rows` in memory.
    pub(crate) fn apply(&self, rows: Vec<A>) -> QueryResult<A> {
        let (total, items) = self.page(rows, |a| a);
        QueryResult { total, items }
    }

    /// Filters, sorts and pages `rows`, each seen as an `A` through `view`; returns how many
    /// matched and the page. The in-memory store pages references to its rows this way and
    /// clones only the page, so `count()` and `limit(10)` copy no aggregate beyond what they return.
    pub(crate) fn page<R>(&self, mut rows: Vec<R>, view: impl Fn(&R) -> &A) -> (usize, Vec<R>) {
        if let Some(filter) = &self.filter {
            rows.retain(|r| filter.matches(view(r)));
        }
        let total = rows.len();
        if !self.order.is_empty() {
            rows.sort_by(|a, b| {
                self.order
                    .iter()
                    .map(|o| o.compare(view(a), view(b)))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            });
        }
        let page = rows
            .into_iter()
            .skip(self.offset)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect();
        (total, page)
    }
}

/// The result of a query: the page of items, and how many matched in all.
#[derive(Debug, Clone)]
pub struct QueryResult<A> {
    /// How many aggregates matched the filter, before paging.
    pub total: usize,
    /// The requested page.
    pub items: Vec<A>,
}

impl<A> QueryResult<A> {
    /// The first item of the page.
    pub fn first(&self) -> Option<&A> {
        self.items.first()
    }
}
