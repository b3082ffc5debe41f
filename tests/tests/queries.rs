//! Typed queries: filters on field constants, ordering, limit/offset with the total, `find_by`
//! (NotFound / TooMany), `get` of an unknown id, and handler queries that see staged changes.

use domain_core::prelude::*;

#[aggregate]
pub struct QBook {
    pub title: String,
    pub author: String,
    pub year: i64,
    pub price: f64,
    pub genre: String,
    pub isbn: Option<String>,
}

#[command(part_of = QBook)]
pub struct QRestock {
    pub genre: String,
}

#[command(part_of = QBook)]
pub struct QRetitle {
    #[identifier]
    pub book_id: Identifier,
    pub title: String,
}

/// What a handler saw through its own repository.
#[derive(Debug)]
pub struct Seen {
    pub total: usize,
    pub titles: Vec<String>,
    pub found: String,
}

#[derive(Default)]
pub struct QCommands;

#[command_handler(part_of = QBook)]
impl QCommands {
    /// Stages two books of `genre`, then queries: staged and stored books are both visible.
    #[handle(QRestock)]
    async fn restock(&self, command: QRestock, ctx: &mut Context) -> Result<Seen> {
        let repo = ctx.repository::<QBook>();
        for (title, year) in [("Staged A", 2030), ("Staged B", 2031)] {
            repo.add(book(title, "Staged", year, 1.0, &command.genre, None))?;
        }
        let page = repo
            .query()
            .filter(QBook::GENRE.eq(command.genre.clone()))
            .order_by(QBook::YEAR.desc())
            .all()
            .await?;
        let found = repo.find_by(QBook::TITLE.eq("Staged B")).await?;
        Ok(Seen {
            total: page.total,
            titles: page.items.into_iter().map(|b| b.title).collect(),
            found: found.author,
        })
    }

    /// Changes a stored book in the unit of work: reads see the staged version, not both.
    #[handle(QRetitle)]
    async fn retitle(&self, command: QRetitle, ctx: &mut Context) -> Result<Seen> {
        let repo = ctx.repository::<QBook>();
        let mut book = repo.get(&command.book_id).await?;
        book.title = command.title.clone();
        repo.add(book)?;
        let staged = repo.get(&command.book_id).await?;
        let page = repo
            .query()
            .filter(QBook::GENRE.eq(staged.genre.clone()))
            .order_by(QBook::TITLE.asc())
            .all()
            .await?;
        Ok(Seen {
            total: page.total,
            titles: page.items.into_iter().map(|b| b.title).collect(),
            found: staged.title,
        })
    }
}

fn book(
    title: &str,
    author: &str,
    year: i64,
    price: f64,
    genre: &str,
    isbn: Option<&str>,
) -> QBook {
    QBook::builder()
        .title(title)
        .author(author)
        .year(year)
        .price(price)
        .genre(genre)
        .isbn(isbn.map(str::to_string))
        .build()
        .unwrap()
}

/// Title, author, year, price, genre, ISBN.
type Row = (
    &'static str,
    &'static str,
    i64,
    f64,
    &'static str,
    Option<&'static str>,
);

const CATALOG: &[Row] = &[
    ("Dune", "Herbert", 1965, 9.5, "scifi", Some("111")),
    ("Emma", "Austen", 1815, 5.0, "classic", None),
    ("Persuasion", "Austen", 1817, 6.0, "classic", Some("222")),
    ("Neuromancer", "Gibson", 1984, 8.0, "scifi", None),
    ("Foundation", "Asimov", 1951, 7.5, "scifi", Some("333")),
    ("Ulysses", "Joyce", 1922, 12.0, "classic", None),
    ("Hyperion", "Simmons", 1989, 8.0, "scifi", None),
];

async fn seeded() -> (Domain, Vec<Identifier>) {
    let domain = Domain::builder("Queries").build().unwrap();
    let mut ids = Vec::new();
    for &(title, author, year, price, genre, isbn) in CATALOG {
        let b = book(title, author, year, price, genre, isbn);
        ids.push(b.id());
        domain.repository::<QBook>().add(b).await.unwrap();
    }
    (domain, ids)
}

fn titles(books: &[QBook]) -> Vec<&str> {
    books.iter().map(|b| b.title.as_str()).collect()
}

fn sorted_titles(books: &[QBook]) -> Vec<&str> {
    let mut t = titles(books);
    t.sort_unstable();
    t
}

#[tokio::test]
async fn comparison_filters() {
    let (domain, _) = seeded().await;
    let repo = domain.repository::<QBook>();
    let run = |filter| async { repo.query().filter(filter).all().await.unwrap() };

    assert_eq!(
        sorted_titles(&run(QBook::AUTHOR.eq("Austen")).await.items),
        ["Emma", "Persuasion"]
    );
    assert_eq!(run(QBook::GENRE.ne("scifi")).await.total, 3);
    assert_eq!(
        sorted_titles(&run(QBook::YEAR.gt(1965)).await.items),
        ["Hyperion", "Neuromancer"]
    );
    assert_eq!(
        sorted_titles(&run(QBook::YEAR.ge(1965)).await.items),
        ["Dune", "Hyperion", "Neuromancer"]
    );
    assert_eq!(
        sorted_titles(&run(QBook::YEAR.lt(1817)).await.items),
        ["Emma"]
    );
    assert_eq!(
        sorted_titles(&run(QBook::YEAR.le(1817)).await.items),
        ["Emma", "Persuasion"]
    );
    assert_eq!(
        sorted_titles(&run(QBook::PRICE.eq(8.0)).await.items),
        ["Hyperion", "Neuromancer"]
    );
    assert_eq!(
        sorted_titles(
            &run(QBook::AUTHOR.is_in(["Joyce", "Gibson", "Nobody"]))
                .await
                .items
        ),
        ["Neuromancer", "Ulysses"]
    );
    assert_eq!(
        sorted_titles(&run(QBook::ISBN.eq(Some("222".to_string()))).await.items),
        ["Persuasion"]
    );
    assert_eq!(run(QBook::ISBN.eq(None)).await.total, 4);
    assert_eq!(run(QBook::TITLE.eq("Missing")).await.total, 0);
}

#[tokio::test]
async fn combined_filters() {
    let (domain, _) = seeded().await;
    let repo = domain.repository::<QBook>();

    // Successive `filter` calls are AND-ed.
    let page = repo
        .query()
        .filter(QBook::GENRE.eq("scifi"))
        .filter(QBook::PRICE.lt(9.0))
        .all()
        .await
        .unwrap();
    assert_eq!(
        sorted_titles(&page.items),
        ["Foundation", "Hyperion", "Neuromancer"]
    );

    let either = QBook::YEAR.lt(1816).or(QBook::YEAR.gt(1985));
    let page = repo.query().filter(either).all().await.unwrap();
    assert_eq!(sorted_titles(&page.items), ["Emma", "Hyperion"]);

    let not_austen_classics = QBook::GENRE
        .eq("classic")
        .and(QBook::AUTHOR.eq("Austen").not());
    let page = repo
        .query()
        .filter(not_austen_classics)
        .all()
        .await
        .unwrap();
    assert_eq!(sorted_titles(&page.items), ["Ulysses"]);
}

#[tokio::test]
async fn ordering_limit_offset_and_total() {
    let (domain, _) = seeded().await;
    let repo = domain.repository::<QBook>();

    let all = repo
        .query()
        .order_by(QBook::YEAR.asc())
        .all()
        .await
        .unwrap();
    assert_eq!(all.total, 7);
    assert_eq!(
        titles(&all.items),
        [
            "Emma",
            "Persuasion",
            "Ulysses",
            "Foundation",
            "Dune",
            "Neuromancer",
            "Hyperion"
        ]
    );

    let desc = repo
        .query()
        .order_by(QBook::TITLE.desc())
        .all()
        .await
        .unwrap();
    assert_eq!(titles(&desc.items)[0], "Ulysses");
    assert_eq!(titles(&desc.items)[6], "Dune");

    // Ties on the first key are broken by the second.
    let by_price = repo
        .query()
        .filter(QBook::GENRE.eq("scifi"))
        .order_by(QBook::PRICE.desc())
        .order_by(QBook::YEAR.asc())
        .all()
        .await
        .unwrap();
    assert_eq!(
        titles(&by_price.items),
        ["Dune", "Neuromancer", "Hyperion", "Foundation"]
    );

    // Paging: the total counts every match, items are the page.
    let page = repo
        .query()
        .filter(QBook::GENRE.eq("scifi"))
        .order_by(QBook::YEAR.asc())
        .offset(1)
        .limit(2)
        .all()
        .await
        .unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(titles(&page.items), ["Dune", "Neuromancer"]);
    assert_eq!(page.first().unwrap().title, "Dune");

    let last = repo
        .query()
        .order_by(QBook::YEAR.asc())
        .offset(6)
        .limit(5)
        .all()
        .await
        .unwrap();
    assert_eq!((last.total, titles(&last.items)), (7, vec!["Hyperion"]));

    let beyond = repo.query().offset(50).all().await.unwrap();
    assert_eq!(beyond.total, 7);
    assert!(beyond.items.is_empty());

    let none = repo.query().limit(0).all().await.unwrap();
    assert_eq!(none.total, 7);
    assert!(none.items.is_empty());

    assert_eq!(
        repo.query()
            .filter(QBook::GENRE.eq("classic"))
            .count()
            .await
            .unwrap(),
        3
    );
    let oldest = repo
        .query()
        .order_by(QBook::YEAR.asc())
        .first()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(oldest.title, "Emma");
    assert!(
        repo.query()
            .filter(QBook::YEAR.gt(3000))
            .first()
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn find_by_and_get() {
    let (domain, ids) = seeded().await;
    let repo = domain.repository::<QBook>();

    let dune = repo.find_by(QBook::TITLE.eq("Dune")).await.unwrap();
    assert_eq!(dune.author, "Herbert");
    assert_eq!(dune.id(), ids[0]);
    assert_eq!(dune.version(), 1);

    match repo.find_by(QBook::TITLE.eq("Missing")).await {
        Err(Error::NotFound { aggregate, .. }) => assert_eq!(aggregate, "QBook"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    match repo.find_by(QBook::GENRE.eq("scifi")).await {
        Err(Error::TooMany { aggregate, count }) => {
            assert_eq!(aggregate, "QBook");
            assert!(count >= 2, "count {count}");
        }
        other => panic!("expected TooMany, got {other:?}"),
    }

    let emma = repo.get(&ids[1]).await.unwrap();
    assert_eq!(emma.title, "Emma");
    let unknown = Identifier::new();
    match repo.get(&unknown).await {
        Err(Error::NotFound { aggregate, id }) => {
            assert_eq!(aggregate, "QBook");
            assert_eq!(id, unknown.to_string());
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    let error = repo
        .get(&Identifier::from("no-such-book"))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "QBook `no-such-book` was not found");
}

#[tokio::test]
async fn empty_store_queries() {
    let domain = Domain::builder("Queries").build().unwrap();
    let repo = domain.repository::<QBook>();
    let page = repo.query().all().await.unwrap();
    assert_eq!(page.total, 0);
    assert!(page.items.is_empty());
    assert!(matches!(
        repo.find_by(QBook::YEAR.gt(0)).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn handler_queries_see_staged_aggregates() {
    let (domain, _) = seeded().await;
    let seen = domain
        .process(QRestock {
            genre: "scifi".into(),
        })
        .await
        .unwrap();
    assert_eq!(seen.total, 6, "4 stored + 2 staged: {seen:?}");
    assert_eq!(
        seen.titles,
        [
            "Staged B",
            "Staged A",
            "Hyperion",
            "Neuromancer",
            "Dune",
            "Foundation"
        ]
    );
    assert_eq!(seen.found, "Staged");
    assert_eq!(
        domain
            .repository::<QBook>()
            .query()
            .filter(QBook::GENRE.eq("scifi"))
            .count()
            .await
            .unwrap(),
        6
    );
}

#[tokio::test]
async fn handler_reads_see_the_staged_version_once() {
    let (domain, ids) = seeded().await;
    let seen = domain
        .process(QRetitle {
            book_id: ids[1].clone(),
            title: "Emma (annotated)".into(),
        })
        .await
        .unwrap();
    assert_eq!(seen.found, "Emma (annotated)");
    assert_eq!(
        seen.total, 3,
        "the staged book replaces the stored one: {seen:?}"
    );
    assert_eq!(seen.titles, ["Emma (annotated)", "Persuasion", "Ulysses"]);
    let stored = domain.repository::<QBook>().get(&ids[1]).await.unwrap();
    assert_eq!(
        (stored.title.as_str(), stored.version()),
        ("Emma (annotated)", 2)
    );
}

/// Counts its clones, so a test can see how many aggregates a query copied.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CloneTally;

static CLONES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Clone for CloneTally {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        CloneTally
    }
}

#[aggregate]
pub struct Tallied {
    pub rank: i64,
    pub tally: CloneTally,
}

/// In memory, a query pages references and clones only the page it returns: counting or taking
/// the first two of 200 aggregates must not copy the other 198.
#[tokio::test]
async fn memory_queries_clone_only_the_page() {
    let domain = Domain::builder("Tally").build().expect("a valid domain");
    let repo = domain.repository::<Tallied>();
    for rank in 0..200 {
        let tallied = Tallied::builder()
            .rank(rank)
            .tally(CloneTally)
            .build()
            .expect("valid");
        repo.add(tallied).await.expect("stored");
    }
    let clones = || CLONES.load(std::sync::atomic::Ordering::SeqCst);

    let before = clones();
    assert_eq!(repo.query().count().await.expect("counts"), 200);
    assert_eq!(clones() - before, 0, "count() copied aggregates");

    let before = clones();
    let page = repo
        .query()
        .filter(Tallied::RANK.ge(100))
        .order_by(Tallied::RANK.desc())
        .limit(2)
        .all()
        .await
        .expect("pages");
    assert_eq!(page.total, 100);
    assert_eq!(
        page.items.iter().map(|t| t.rank).collect::<Vec<_>>(),
        [199, 198]
    );
    assert_eq!(
        clones() - before,
        2,
        "a page of two copied other aggregates"
    );
}
