//! Validation: every failing field is reported at once, with nested paths through value objects
//! and entities (`items[1].quantity`, `shipping.city`, `items[0].unit_price.currency`); it runs on
//! construction, on commands before their handler, and again before commit.

use std::sync::atomic::{AtomicUsize, Ordering};

use domain_core::prelude::*;

#[value_object]
pub struct VlMoney {
    #[field(max_length = 3, default = "USD")]
    pub currency: String,
    #[field(min = 0.0)]
    pub amount: f64,
}

#[aggregate]
pub struct VlOrder {
    #[field(max_length = 10)]
    pub customer: String,
    #[field(choices = ["PENDING", "SHIPPED"], default = "PENDING")]
    pub status: String,
    #[field(max_length = 5)]
    pub note: Option<String>,
    #[field(max_length = 2)]
    pub tags: Vec<String>,
    pub total: Option<VlMoney>,
    #[has_many]
    pub items: Vec<VlItem>,
    #[has_one]
    pub shipping: Option<VlAddress>,
}

#[entity(part_of = VlOrder)]
pub struct VlItem {
    #[field(max_length = 5)]
    pub title: String,
    #[field(min = 1, max = 99)]
    pub quantity: i64,
    pub unit_price: Option<VlMoney>,
}

#[entity(part_of = VlOrder)]
pub struct VlAddress {
    #[field(min_length = 2)]
    pub city: String,
}

#[command(part_of = VlOrder)]
pub struct VlPlaceOrder {
    #[field(max_length = 10)]
    pub customer: String,
    #[field(min = 1)]
    pub quantity: i64,
    #[field(min_length = 2)]
    pub code: String,
    pub price: Option<VlMoney>,
}

static HANDLED: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
pub struct VlCommands;

#[command_handler(part_of = VlOrder)]
impl VlCommands {
    #[handle(VlPlaceOrder)]
    fn place(&self, command: VlPlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        HANDLED.fetch_add(1, Ordering::SeqCst);
        let order = VlOrder::builder().customer(command.customer).build()?;
        let id = order.id();
        ctx.repository::<VlOrder>().add(order)?;
        Ok(id)
    }
}

fn fields(errors: &ValidationErrors) -> Vec<&str> {
    errors.fields().collect()
}

fn item(title: &str, quantity: i64) -> VlItem {
    VlItem::builder()
        .title(title)
        .quantity(quantity)
        .build()
        .unwrap()
}

#[test]
fn value_object_reports_every_field_and_applies_defaults() {
    let errors = VlMoney::builder()
        .currency("EURO")
        .amount(-1.0)
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["amount", "currency"]);
    assert_eq!(errors.messages("currency").len(), 1);
    assert!(errors.messages("currency")[0].contains('3'), "{errors}");
    assert!(errors.messages("amount")[0].contains('0'), "{errors}");
    assert!(errors.messages("missing").is_empty());

    let money = VlMoney::builder().amount(2.5).build().unwrap();
    assert_eq!(money.currency(), "USD");
    assert_eq!(*money.amount(), 2.5);
}

#[test]
fn aggregate_builder_reports_every_failing_field_at_once() {
    let errors = VlOrder::builder()
        .customer("a name longer than ten")
        .status("LOST")
        .note("too long a note")
        .tags(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["customer", "note", "status", "tags"]);
    assert!(errors.messages("status")[0].contains("LOST"), "{errors}");
    let map = errors.as_map();
    assert_eq!(map.len(), 4);
    let text = errors.to_string();
    for field in ["customer", "note", "status", "tags"] {
        assert!(text.contains(field), "{text}");
    }

    let order = VlOrder::builder().customer("ok").build().unwrap();
    assert_eq!(order.status, "PENDING");
    assert!(order.items.is_empty() && order.tags.is_empty());
    assert_eq!(order.note, None);
}

#[test]
fn entity_builder_reports_every_field() {
    let errors = VlItem::builder()
        .title("too long")
        .quantity(100)
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["quantity", "title"]);
    let errors = VlItem::builder()
        .title("ok")
        .quantity(0)
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["quantity"]);
}

#[test]
fn nested_entities_and_value_objects_have_paths() {
    let mut items = vec![item("pen", 1), item("ink", 2), item("cap", 3)];
    items[0].title = "fountain pen".into();
    items[1].quantity = 0;
    // Value objects can only be built valid; a stored or received one is deserialized.
    let bad_price: VlMoney =
        serde_json::from_value(serde_json::json!({ "currency": "EURO", "amount": -3.0 })).unwrap();
    items[2].unit_price = Some(bad_price.clone());
    let address = VlAddress::builder().city("Rome").build().unwrap();
    let mut shipping = address.clone();
    shipping.city = "R".into();

    let errors = VlOrder::builder()
        .customer("far too long name")
        .items(items)
        .shipping(shipping)
        .total(bad_price)
        .build()
        .unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "customer",
            "items[0].title",
            "items[1].quantity",
            "items[2].unit_price.amount",
            "items[2].unit_price.currency",
            "shipping.city",
            "total.amount",
            "total.currency",
        ]
    );

    let fine = VlOrder::builder()
        .customer("ann")
        .items(vec![item("pen", 1)])
        .shipping(address)
        .build();
    assert!(fine.is_ok(), "{:?}", fine.err());
}

#[tokio::test]
async fn validation_runs_again_before_commit() {
    let domain = Domain::builder("Validation").build().unwrap();
    let repo = domain.repository::<VlOrder>();
    let mut order = VlOrder::builder()
        .customer("ann")
        .items(vec![item("pen", 1)])
        .build()
        .unwrap();
    let id = order.id();
    order.customer = "a name longer than ten".into();
    order.items[0].quantity = -4;
    let error = repo.add(order).await.unwrap_err();
    let Error::Validation(errors) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(fields(&errors), ["customer", "items[0].quantity"]);
    assert!(matches!(repo.get(&id).await, Err(Error::NotFound { .. })));
    assert_eq!(repo.query().count().await.unwrap(), 0);

    // A loaded aggregate made invalid is rejected too, and the stored one is unchanged.
    let order = VlOrder::builder().customer("bob").build().unwrap();
    let id = order.id();
    repo.add(order).await.unwrap();
    let mut loaded = repo.get(&id).await.unwrap();
    loaded.status = "UNKNOWN".into();
    assert!(matches!(
        repo.add(loaded).await,
        Err(Error::Validation(e)) if fields(&e) == ["status"]
    ));
    let stored = repo.get(&id).await.unwrap();
    assert_eq!((stored.status.as_str(), stored.version()), ("PENDING", 1));
}

#[tokio::test]
async fn invalid_command_is_rejected_with_every_field_before_its_handler() {
    let domain = Domain::builder("Validation").build().unwrap();
    let before = HANDLED.load(Ordering::SeqCst);
    let error = domain
        .process(VlPlaceOrder {
            customer: "a name longer than ten".into(),
            quantity: 0,
            code: "x".into(),
            price: None,
        })
        .await
        .unwrap_err();
    let Error::Validation(errors) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(fields(&errors), ["code", "customer", "quantity"]);
    assert_eq!(
        HANDLED.load(Ordering::SeqCst),
        before,
        "the handler never ran"
    );
    assert_eq!(
        domain
            .repository::<VlOrder>()
            .query()
            .count()
            .await
            .unwrap(),
        0
    );

    let id = domain
        .process(VlPlaceOrder {
            customer: "ann".into(),
            quantity: 1,
            code: "ab".into(),
            price: None,
        })
        .await
        .unwrap();
    assert_eq!(
        domain
            .repository::<VlOrder>()
            .get(&id)
            .await
            .unwrap()
            .customer,
        "ann"
    );
}

#[tokio::test]
async fn serialized_command_with_invalid_nested_value_is_a_validation_error() {
    let domain = Domain::builder("Validation").build().unwrap();
    let error = domain
        .process_json(
            "VlPlaceOrder",
            r#"{"customer": "ann", "quantity": 2, "code": "ab",
                "price": {"currency": "EURO", "amount": 1.0}}"#,
        )
        .await
        .unwrap_err();
    let Error::Validation(errors) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(fields(&errors), ["price.currency"]);

    let output = domain
        .process_json(
            "VlPlaceOrder",
            r#"{"customer": "ann", "quantity": 2, "code": "ab",
                "price": {"currency": "EUR", "amount": 1.0}}"#,
        )
        .await
        .unwrap();
    assert!(output.downcast_ref::<Identifier>().is_some());
}

/// `#[field(default = ..)]` means "the value when not given": commands and events apply it when
/// deserialized, and so must a value object nested in them.
#[tokio::test]
async fn value_object_defaults_apply_when_deserialized() {
    let money: VlMoney = serde_json::from_value(serde_json::json!({ "amount": 1.0 })).unwrap();
    assert_eq!(money.currency(), "USD");

    let domain = Domain::builder("Validation").build().unwrap();
    let output = domain
        .process_json(
            "VlPlaceOrder",
            r#"{"customer": "ann", "quantity": 2, "code": "ab", "price": {"amount": 1.0}}"#,
        )
        .await
        .unwrap();
    assert!(output.downcast_ref::<Identifier>().is_some());
}

#[tokio::test]
async fn handler_repository_rejects_invalid_aggregates_with_every_field() {
    let domain = Domain::builder("Validation").build().unwrap();
    // Outside a handler, through the domain repository, the same error value is returned.
    let mut order = VlOrder::builder().customer("ok").build().unwrap();
    order.customer = "x".repeat(11);
    order.note = Some("xxxxxx".into());
    let error = domain.repository::<VlOrder>().add(order).await.unwrap_err();
    assert!(
        matches!(&error, Error::Validation(e) if fields(e) == ["customer", "note"]),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with("validation failed: "),
        "{error}"
    );
}

#[aggregate]
pub struct VlReading {
    #[field(min = 0.0)]
    pub value: f64,
    pub samples: Vec<f32>,
    pub label: Option<String>,
}

#[aggregate]
pub struct VlSku {
    #[identifier]
    pub code: String,
}

#[test]
fn non_finite_floats_fail_validation_even_under_min() {
    // NaN compares false with every bound, so `min = 0.0` alone let it through to the store.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let errors = VlReading::builder().value(bad).build().unwrap_err();
        assert_eq!(fields(&errors), ["value"], "{bad}: {errors}");
        assert!(
            errors
                .messages("value")
                .iter()
                .any(|m| m.contains("finite")),
            "{errors}"
        );
    }
    let errors = VlReading::builder()
        .value(1.0)
        .samples(vec![1.0, f32::NAN])
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["samples[1]"]);
    let errors = VlMoney::builder()
        .amount(f64::INFINITY)
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["amount"]);
    assert!(VlReading::builder().value(0.5).build().is_ok());
}

#[test]
fn nul_characters_and_oversized_identities_fail_validation() {
    let errors = VlReading::builder()
        .value(1.0)
        .label("a\0b")
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["label"]);
    assert!(errors.messages("label")[0].contains("NUL"), "{errors}");

    let long = "x".repeat(domain_core::MAX_IDENTIFIER_BYTES + 1);
    let errors = VlReading::builder()
        .id(long.as_str())
        .value(1.0)
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["id"]);
    let errors = VlSku::builder().code(long.clone()).build().unwrap_err();
    assert_eq!(fields(&errors), ["code"], "{errors}");
    let fits = "x".repeat(domain_core::MAX_IDENTIFIER_BYTES);
    assert!(VlSku::builder().code(fits).build().is_ok());
}

#[tokio::test]
async fn commands_with_non_finite_or_nul_input_are_rejected_before_their_handler() {
    let domain = Domain::builder("Validation").build().unwrap();
    let price = Some(VlMoney::builder().amount(1.0).build().unwrap());
    let err = domain
        .process(VlPlaceOrder {
            customer: "a\0".into(),
            quantity: 1,
            code: "ab".into(),
            price,
        })
        .await
        .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("expected a validation error, got {err}")
    };
    assert_eq!(fields(&errors), ["customer"]);
}

#[test]
fn choice_errors_quote_at_most_a_prefix_of_the_input() {
    let huge = "Z".repeat(1_000_000);
    let errors = VlOrder::builder()
        .customer("ok")
        .status(huge)
        .build()
        .unwrap_err();
    let message = &errors.messages("status")[0];
    assert!(message.len() < 300, "{} bytes", message.len());
    assert!(message.contains("1000000 bytes"), "{message}");
}

#[event(part_of = VlReading)]
pub struct VlReadingTaken {
    pub value: f64,
    pub note: String,
}

#[tokio::test]
async fn raised_events_are_validated_before_commit() {
    let domain = Domain::builder("Validation").build().unwrap();
    let mut reading = VlReading::builder().value(1.0).build().unwrap();
    // `raise()` cannot fail: an event no store could keep is refused at commit, with nothing saved.
    reading.raise(VlReadingTaken {
        value: f64::NAN,
        note: "a\0b".into(),
    });
    let err = domain
        .repository::<VlReading>()
        .add(reading.clone())
        .await
        .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("expected a validation error, got {err}")
    };
    assert_eq!(
        fields(&errors),
        ["VlReadingTaken.note", "VlReadingTaken.value"]
    );
    assert!(
        domain
            .repository::<VlReading>()
            .get(&reading.id())
            .await
            .is_err()
    );
}

#[aggregate]
pub struct VlNote {
    pub title: String,
    #[field(allow_blank)]
    pub body: String,
    pub tag: Option<String>,
}

#[test]
fn required_strings_reject_empty_and_blank_unless_allowed() {
    for blank in ["", "   ", "\t\n"] {
        let errors = VlNote::builder()
            .title(blank)
            .body(blank)
            .build()
            .unwrap_err();
        // Only the required field without `allow_blank`; an `Option<String>` may be absent.
        assert_eq!(fields(&errors), ["title"], "{blank:?}");
        assert!(errors.messages("title")[0].contains("required"), "{errors}");
    }
    let note = VlNote::builder()
        .title("t")
        .body("")
        .tag("")
        .build()
        .unwrap();
    assert_eq!(note.body, "");
    // The same rule on commands (before their handler) and entities.
    let errors = VlItem::builder()
        .title(" ")
        .quantity(1)
        .build()
        .unwrap_err();
    assert_eq!(fields(&errors), ["title"]);
}

#[tokio::test]
async fn commands_with_a_blank_required_string_are_rejected() {
    let domain = Domain::builder("Validation").build().unwrap();
    let err = domain
        .process(VlPlaceOrder {
            customer: "ann".into(),
            quantity: 1,
            code: "  ".into(),
            price: None,
        })
        .await
        .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("expected a validation error, got {err}")
    };
    assert_eq!(fields(&errors), ["code"]);
    assert!(
        errors
            .messages("code")
            .iter()
            .any(|m| m.contains("required"))
    );
}

#[aggregate]
pub struct VlDoc {
    pub title: String,
    #[field(default)]
    pub body: String,
    #[field(default = "")]
    pub footer: String,
}

#[event(part_of = VlDoc)]
pub struct VlDocCleared {
    pub previous_body: String,
}

#[tokio::test]
async fn blank_defaults_and_event_text_may_be_empty() {
    // A blank default allows blank text: otherwise no value could be built without the field.
    let doc = VlDoc::builder().title("t").build().unwrap();
    assert_eq!((doc.body.as_str(), doc.footer.as_str()), ("", ""));
    // Events are facts: an empty text is one (the body that was cleared was empty).
    let domain = Domain::builder("Validation").build().unwrap();
    let mut doc = doc;
    doc.raise(VlDocCleared {
        previous_body: String::new(),
    });
    domain.repository::<VlDoc>().add(doc).await.unwrap();
}
