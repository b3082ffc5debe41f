//! Serialized messages: `domain.process_json(type, json)` by short or full type name, unknown types,
//! malformed JSON and missing fields (named), defaults, validation after decoding, and
//! `event_store().decode`.

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

    let (_, reason) = malformed(
        domain
            .process_json("JsAddBook", "[1, 2, 3]")
            .await
            .unwrap_err(),
    );
    assert!(!reason.is_empty());
    assert_eq!(
        domain.repository::<JsBook>().query().count().await.unwrap(),
        0
    );
}

#[tokio::test]
async fn missing_field_is_named() {
    let domain = domain();
    let (type_name, reason) = malformed(
        domain
            .process_json("JsAddBook", r#"{"title": "Dune", "pages": 412}"#)
            .await
            .unwrap_err(),
    );
    assert!(type_name.contains("JsAddBook"), "{type_name}");
    assert!(reason.contains("author"), "{reason}");
    let error = domain
        .process_json("JsAddBook", r#"{"title": "Dune", "pages": 412}"#)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("author"), "{error}");
    assert_eq!(
        domain.repository::<JsBook>().query().count().await.unwrap(),
        0
    );
}

/// The reason of a Malformed error should say which field was wrong, not only what was expected.
#[tokio::test]
#[ignore = "improvement: a wrongly typed field is not named (serde_json::from_value gives no path; serde_path_to_error would)"]
async fn wrongly_typed_field_is_named() {
    let domain = domain();
    let (_, reason) = malformed(
        domain
            .process_json(
                "JsAddBook",
                r#"{"title": "Dune", "author": "Herbert", "pages": "many"}"#,
            )
            .await
            .unwrap_err(),
    );
    assert!(reason.contains("pages"), "{reason}");
}

/// Both Malformed errors of one command name it the same way.
#[tokio::test]
async fn malformed_errors_name_the_type_consistently() {
    let domain = domain();
    let (syntax, _) = malformed(domain.process_json("JsAddBook", "{").await.unwrap_err());
    let (missing, _) = malformed(domain.process_json("JsAddBook", "{}").await.unwrap_err());
    assert_eq!(syntax, "Json.JsAddBook.v1");
    assert_eq!(missing, "Json.JsAddBook.v1");
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
/// fields.
#[tokio::test]
async fn unknown_command_fields_are_rejected() {
    let domain = domain();
    let (_, reason) = malformed(
        domain
            .process_json(
                "JsAddBook",
                r#"{"title": "Dune", "author": "Herbert", "pages": 412, "subtitel": "x"}"#,
            )
            .await
            .unwrap_err(),
    );
    assert!(reason.contains("subtitel"), "{reason}");
    assert_eq!(
        domain.repository::<JsBook>().query().count().await.unwrap(),
        0
    );
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
    let unknown = domain.process_json(&huge, "{}").await.unwrap_err();
    assert!(unknown.to_string().len() < 2_000);
}
