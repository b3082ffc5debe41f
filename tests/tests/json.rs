//! Serialized messages: `domain.process_json(type, json)` by short or full type name, unknown types,
//! malformed JSON, every missing, mistyped, undeclared and invalid field reported at once (nested
//! ones by path), defaults, validation after decoding, and `event_store().decode`.

use domain_core::prelude::*;

#[aggregate]
pub struct JsBook {
    pub title: String,
    pub author: String,
    pub pages: i64,
    pub format: String,
}

#[event(part_of = JsBook)]
pub struct JsBookAdded {
    #[field(max_length = 20)]
    pub title: String,
    #[field(default = "paperback")]
    pub format: String,
}

#[command(part_of = JsBook)]
pub struct JsAddBook {
    #[field(max_length = 20)]
    pub title: String,
    pub author: String,
    #[field(min = 1)]
    pub pages: i64,
    #[field(default = "paperback")]
    pub format: String,
    pub subtitle: Option<String>,
}

#[command(part_of = JsBook)]
pub struct JsTouch {
    #[identifier]
    pub book_id: Identifier,
}

#[value_object]
pub struct JsMoney {
    #[field(max_length = 3, default = "EUR")]
    pub currency: String,
    #[field(min = 0.0)]
    pub amount: f64,
}

#[value_object]
pub struct JsLine {
    pub sku: String,
    #[field(min = 1)]
    pub quantity: i64,
}

/// Value objects inside a command: their fields are reported by path.
#[command(part_of = JsBook)]
pub struct JsOrderCopies {
    pub price: JsMoney,
    pub items: Vec<JsLine>,
    pub discount: Option<JsMoney>,
}

/// Its own serde attributes: only serde knows its JSON form, so serde's error is reported.
#[command(part_of = JsBook)]
#[serde(rename_all = "camelCase")]
pub struct JsRenamed {
    pub page_count: i64,
    pub title: String,
}

#[derive(Default)]
pub struct JsCommands;

#[command_handler(part_of = JsBook)]
impl JsCommands {
    #[handle(JsAddBook)]
    fn add(&self, command: JsAddBook, ctx: &mut Context) -> Result<Identifier> {
        let mut book = JsBook::builder()
            .title(command.title.clone())
            .author(command.author)
            .pages(command.pages)
            .format(command.format.clone())
            .build()?;
        book.raise(JsBookAdded {
            title: command.title,
            format: command.format,
        });
        let id = book.id();
        ctx.repository::<JsBook>().add(book)?;
        Ok(id)
    }

    #[handle(JsOrderCopies)]
    fn order(&self, command: JsOrderCopies) -> Result<usize> {
        Ok(command.items.len())
    }

    #[handle(JsRenamed)]
    fn renamed(&self, command: JsRenamed) -> Result<i64> {
        Ok(command.page_count)
    }

    #[handle(JsTouch)]
    async fn touch(&self, command: JsTouch, ctx: &mut Context) -> Result<()> {
        let repo = ctx.repository::<JsBook>();
        let book = repo.get(&command.book_id).await?;
        repo.add(book)
    }
}

fn domain() -> Domain {
    Domain::builder("Json").build().unwrap()
}

fn malformed(error: Error) -> (String, String) {
    match error {
        Error::Malformed { type_name, reason } => (type_name, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// The field map of a `Validation` error.
fn invalid(error: Error) -> ValidationErrors {
    match error {
        Error::Validation(errors) => errors,
        other => panic!("expected Validation, got {other:?}"),
    }
}

async fn rejected(domain: &Domain, command: &str, json: &str) -> ValidationErrors {
    invalid(domain.process_json(command, json).await.unwrap_err())
}

async fn books(domain: &Domain) -> u64 {
    domain.repository::<JsBook>().query().count().await.unwrap() as u64
}

#[tokio::test]
async fn process_json_by_short_and_full_name() {
    let domain = domain();
    let output = domain
        .process_json(
            "JsAddBook",
            r#"{"title": "Dune", "author": "Herbert", "pages": 412, "format": "hardcover"}"#,
        )
        .await
        .unwrap();
    let id = output.downcast::<Identifier>().unwrap();
    let book = domain.repository::<JsBook>().get(&id).await.unwrap();
    assert_eq!(
        (
            book.title.as_str(),
            book.author.as_str(),
            book.pages,
            book.format.as_str()
        ),
        ("Dune", "Herbert", 412, "hardcover")
    );

    let output = domain
        .process_json(
            "Json.JsAddBook.v1",
            r#"{"title": "Emma", "author": "Austen", "pages": 300}"#,
        )
        .await
        .unwrap();
    let id = output.downcast::<Identifier>().unwrap();
    let book = domain.repository::<JsBook>().get(&id).await.unwrap();
    assert_eq!(
        book.format, "paperback",
        "an omitted defaulted field takes its default"
    );

    // Unit output, and an `#[identifier]` field from JSON.
    let output = domain
        .process_json("JsTouch", &format!(r#"{{"book_id": "{id}"}}"#))
        .await
        .unwrap();
    assert!(output.downcast_ref::<()>().is_some());
    assert_eq!(
        domain
            .repository::<JsBook>()
            .get(&id)
            .await
            .unwrap()
            .version(),
        2
    );
}

#[tokio::test]
async fn unknown_type_lists_the_known_ones() {
    let domain = domain();
    for name in [
        "JsRemoveBook",
        "Json.JsAddBook.v2",
        "Other.JsAddBook.v1",
        "",
    ] {
        match domain.process_json(name, "{}").await {
            Err(Error::UnknownMessageType { type_name, known }) => {
                assert_eq!(type_name, name);
                assert!(known.contains("Json.JsAddBook.v1"), "{known}");
                assert!(known.contains("Json.JsTouch.v1"), "{known}");
            }
            other => panic!("{name:?}: expected UnknownMessageType, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn malformed_json_is_an_error_value() {
    let domain = domain();
    let (type_name, reason) = malformed(
        domain
            .process_json("JsAddBook", r#"{"title": "Dune", "#)
            .await
            .unwrap_err(),
    );
    assert!(type_name.contains("JsAddBook"), "{type_name}");
    assert!(!reason.is_empty());

    // Valid JSON that is not an object has no fields to name.
    for json in ["[1, 2, 3]", "42", "null", r#""Dune""#] {
        let (_, reason) = malformed(domain.process_json("JsAddBook", json).await.unwrap_err());
        assert!(!reason.is_empty(), "{json}");
    }
    assert_eq!(books(&domain).await, 0);
}

#[tokio::test]
async fn missing_field_is_named() {
    let domain = domain();
    let errors = rejected(&domain, "JsAddBook", r#"{"title": "Dune", "pages": 412}"#).await;
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["author"]);
    assert_eq!(errors.messages("author"), ["is required"]);
    assert_eq!(books(&domain).await, 0);
}

/// serde stops at the first problem; the client gets them all, in one answer.
#[tokio::test]
async fn every_missing_and_mistyped_field_is_reported() {
    let domain = domain();
    let errors = rejected(&domain, "JsAddBook", r#"{"pages": "many"}"#).await;
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        ["author", "pages", "title"]
    );
    assert_eq!(errors.messages("author"), ["is required"]);
    assert_eq!(errors.messages("title"), ["is required"]);
    assert_eq!(books(&domain).await, 0);
}

/// The message of a mistyped field says what was expected, under the field's name.
#[tokio::test]
async fn wrongly_typed_field_is_named() {
    let domain = domain();
    let errors = rejected(
        &domain,
        "JsAddBook",
        r#"{"title": "Dune", "author": "Herbert", "pages": "many", "subtitle": 7}"#,
    )
    .await;
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["pages", "subtitle"]);
    let pages = &errors.messages("pages")[0];
    assert!(
        pages.contains("\"many\"") && pages.contains("expected i64"),
        "{pages}"
    );
    let subtitle = &errors.messages("subtitle")[0];
    assert!(subtitle.contains("expected a string"), "{subtitle}");
}

/// Value objects inside a command are reported field by field, by path; other types at the field.
#[tokio::test]
async fn nested_fields_are_reported_by_path() {
    let domain = domain();
    let errors = rejected(
        &domain,
        "JsOrderCopies",
        r#"{
            "price": {"amount": "ten"},
            "items": [{"sku": "a", "quantity": 1}, {"quantity": "two"}],
            "discount": 5
        }"#,
    )
    .await;
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        [
            "discount",
            "items[1].quantity",
            "items[1].sku",
            "price.amount"
        ]
    );
    assert_eq!(errors.messages("items[1].sku"), ["is required"]);
    let amount = &errors.messages("price.amount")[0];
    assert!(amount.contains("expected f64"), "{amount}");
    let discount = &errors.messages("discount")[0];
    assert!(discount.contains("expected struct JsMoney"), "{discount}");

    // A list that is not a list is reported at the field.
    let errors = rejected(
        &domain,
        "JsOrderCopies",
        r#"{"price": {"amount": 1}, "items": {"sku": "a"}}"#,
    )
    .await;
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["items"]);
}

/// Absent optional, defaulted and collection fields are filled in, as a builder would.
#[tokio::test]
async fn absent_optional_fields_take_their_defaults() {
    let domain = domain();
    let output = domain
        .process_json("JsOrderCopies", r#"{"price": {"amount": 5}}"#)
        .await
        .unwrap();
    assert_eq!(*output.downcast::<usize>().unwrap(), 0);
}

/// Fields that decoded are validated even when others did not decode: one complete answer.
#[tokio::test]
async fn decode_and_validation_errors_are_reported_together() {
    let domain = domain();
    let errors = rejected(
        &domain,
        "JsAddBook",
        r#"{"title": "a title that is far too long", "author": "X", "pages": "many"}"#,
    )
    .await;
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["pages", "title"]);
    assert_eq!(
        errors.messages("title"),
        ["is longer than 20 characters (got 28)"]
    );

    let errors = rejected(
        &domain,
        "JsOrderCopies",
        r#"{
            "price": {"amount": -1, "currency": "EURO"},
            "items": [{"sku": "a", "quantity": 0}, {"sku": "b"}, {"sku": "c", "quantity": -5}]
        }"#,
    )
    .await;
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        [
            "items[0].quantity",
            "items[1].quantity",
            "items[2].quantity",
            "price.amount",
            "price.currency"
        ]
    );
    assert_eq!(errors.messages("items[1].quantity"), ["is required"]);
    assert_eq!(
        errors.messages("items[2].quantity"),
        ["is less than the minimum 1 (got -5)"]
    );
}

/// Only serde knows the JSON form of a command with its own `#[serde(..)]` attributes: its first
/// error is reported, as `Malformed`.
#[tokio::test]
async fn own_serde_attributes_keep_serdes_error() {
    let domain = domain();
    let output = domain
        .process_json("JsRenamed", r#"{"pageCount": 3, "title": "Dune"}"#)
        .await
        .unwrap();
    assert_eq!(*output.downcast::<i64>().unwrap(), 3);
    let (_, reason) = malformed(
        domain
            .process_json("JsRenamed", r#"{"pageCount": "three"}"#)
            .await
            .unwrap_err(),
    );
    assert!(reason.contains("three"), "{reason}");
}

/// Both Malformed errors of one command name it the same way.
#[tokio::test]
async fn malformed_errors_name_the_type_consistently() {
    let domain = domain();
    let (syntax, _) = malformed(domain.process_json("JsAddBook", "{").await.unwrap_err());
    let (not_object, _) = malformed(domain.process_json("JsAddBook", "[]").await.unwrap_err());
    assert_eq!(syntax, "Json.JsAddBook.v1");
    assert_eq!(not_object, "Json.JsAddBook.v1");
}

#[tokio::test]
async fn decoded_commands_are_validated() {
    let domain = domain();
    let error = domain
        .process_json(
            "JsAddBook",
            r#"{"title": "a title that is far too long", "author": "X", "pages": 0}"#,
        )
        .await
        .unwrap_err();
    match error {
        Error::Validation(errors) => {
            assert_eq!(errors.fields().collect::<Vec<_>>(), ["pages", "title"]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(
        domain.repository::<JsBook>().query().count().await.unwrap(),
        0
    );
}

#[tokio::test]
async fn events_decode_by_type_name() {
    let domain = domain();
    let store = domain.event_store();
    let event = store
        .decode("Json.JsBookAdded.v1", r#"{"title": "Dune"}"#)
        .unwrap();
    let event = event.downcast_ref::<JsBookAdded>().unwrap();
    assert_eq!(
        (event.title.as_str(), event.format.as_str()),
        ("Dune", "paperback")
    );

    assert!(matches!(
        store.decode("Json.Nope.v1", "{}"),
        Err(Error::UnknownMessageType { .. })
    ));
    let (_, reason) = malformed(store.decode("Json.JsBookAdded.v1", "{}").unwrap_err());
    assert!(reason.contains("title"), "{reason}");
    let (_, reason) = malformed(
        store
            .decode(
                "Json.JsBookAdded.v1",
                r#"{"title": "a title that is far too long"}"#,
            )
            .unwrap_err(),
    );
    assert!(
        reason.contains("title"),
        "invalid events are rejected: {reason}"
    );

    // A stored event round-trips through its JSON.
    let id = domain
        .process(JsAddBook {
            title: "Emma".into(),
            author: "Austen".into(),
            pages: 300,
            format: "ebook".into(),
            subtitle: None,
        })
        .await
        .unwrap();
    let stored = store.read_stream(&format!("js_book-{id}")).await.unwrap();
    let json = stored[0].to_json().unwrap().to_string();
    let decoded = store
        .decode(&stored[0].metadata().type_name, &json)
        .unwrap();
    assert_eq!(
        decoded.downcast_ref::<JsBookAdded>().unwrap().format,
        "ebook"
    );
}

/// A misspelt optional field would otherwise be dropped without a word: commands reject unknown
/// fields, each under its own name, with the other problems.
#[tokio::test]
async fn unknown_command_fields_are_listed() {
    let domain = domain();
    let errors = rejected(
        &domain,
        "JsAddBook",
        r#"{"title": "Dune", "pages": 412, "subtitel": "x", "formt": "y"}"#,
    )
    .await;
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        ["author", "formt", "subtitel"]
    );
    assert_eq!(
        errors.messages("subtitel"),
        ["is not a field of `JsAddBook`"]
    );
    assert_eq!(books(&domain).await, 0);
}

/// The decoder quotes the input: a 10 MB value must not become a 10 MB message.
#[tokio::test]
async fn malformed_messages_quote_only_a_bounded_part_of_the_input() {
    let domain = domain();
    let huge = "x".repeat(10_000_000);
    let json = format!(r#"{{"title": "Dune", "author": "Herbert", "pages": "{huge}"}}"#);
    let error = domain.process_json("JsAddBook", &json).await.unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 1_000, "{} bytes", message.len());
    assert!(message.contains("characters cut"), "{message}");
    assert_eq!(invalid(error).fields().collect::<Vec<_>>(), ["pages"]);

    // An undeclared field's name is input too, and so is the number of them.
    let mut json = format!(r#"{{"title": "Dune", "author": "Herbert", "pages": 1, "{huge}": 1"#);
    for i in 0..10_000 {
        json.push_str(&format!(r#", "extra{i}": 1"#));
    }
    json.push('}');
    let error = domain.process_json("JsAddBook", &json).await.unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 4_000, "{} bytes", message.len());
    let errors = invalid(error);
    assert!(errors.fields().count() <= 21, "{errors}");
    assert!(
        message.contains("more fields that are not fields of `JsAddBook`"),
        "{message}"
    );

    // And so is the length of a list of value objects.
    let items = vec![r#"{"sku": "a"}"#; 10_000].join(",");
    let json = format!(r#"{{"price": {{"amount": 1}}, "items": [{items}]}}"#);
    let error = domain
        .process_json("JsOrderCopies", &json)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 4_000, "{} bytes", message.len());
    assert!(message.contains("9980 more elements"), "{message}");
    let unknown = domain.process_json(&huge, "{}").await.unwrap_err();
    assert!(unknown.to_string().len() < 2_000);
}
