//! The Lambda handlers on the API Gateway events in `events/` (the files `cargo lambda invoke`
//! uses), against DynamoDB Local and moto. Placeholders in the events are filled per test.

use helpdesk::App;
use helpdesk_tests::Harness;
use lambda_http::{Body, Request};
use serde_json::Value;

fn event(name: &str, fill: &[(&str, &str)]) -> Request {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (placeholder, value) in fill {
        text = text.replace(placeholder, value);
    }
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name} is an API Gateway HTTP event: {e}"))
}

async fn invoke(
    handler: impl AsyncFnOnce(&App, Request) -> lambda_http::Response<Body>,
    app: &App,
    req: Request,
) -> (u16, Value) {
    let res = handler(app, req).await;
    let status = res.status().as_u16();
    let body = match res.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        Body::Empty => Value::Null,
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

#[tokio::test]
async fn the_handlers_answer_their_events() {
    let h = Harness::start().await;
    let ann = h.email("ann");
    let ann_fill = [("ann@example.com", ann.as_str())];

    let (status, _) = invoke(helpdesk_auth::handle, &h.app, event("magic-link", &ann_fill)).await;
    assert_eq!(status, 202);
    let link = h.magic_token(&ann).await.expect("the link was emailed");
    let (status, session) =
        invoke(helpdesk_auth::handle, &h.app, event("create-session", &[("REPLACE_WITH_MAGIC_LINK_TOKEN", &link)]))
            .await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    let as_ann = [("REPLACE_WITH_SESSION_TOKEN", token.as_str())];

    let (status, me) = invoke(helpdesk_auth::handle, &h.app, event("me", &as_ann)).await;
    assert_eq!((status, me["email"].as_str()), (200, Some(ann.as_str())));

    helpdesk_tools::local::seed_demo(&h.app).await.unwrap();
    let (status, created) = invoke(helpdesk_intake::handle, &h.app, event("raise-request", &as_ann)).await;
    assert_eq!((status, created["key"].as_str()), (201, Some("DEMO-1")), "{created}");
    // The same event delivered again (a client retry with its Idempotency-Key): same request.
    let (status, again) = invoke(helpdesk_intake::handle, &h.app, event("raise-request", &as_ann)).await;
    assert_eq!((status, again["key"].as_str()), (200, Some("DEMO-1")));

    let (status, first) = invoke(helpdesk_intake::handle, &h.app, event("reply", &as_ann)).await;
    assert_eq!(status, 201);
    // Delivered twice: the Idempotency-Key makes it one comment.
    let (status, again) = invoke(helpdesk_intake::handle, &h.app, event("reply", &as_ann)).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]));
    let (status, detail) = invoke(helpdesk_intake::handle, &h.app, event("get-request", &as_ann)).await;
    assert_eq!(status, 200);
    assert_eq!(detail["comments"][0]["body"], "Any news?");
    assert_eq!(detail["comments"].as_array().unwrap().len(), 1);

    // Sharing, delivered twice: one participant, one history entry.
    let bob = h.email("bob");
    h.sign_in(&bob).await;
    let share_fill = [
        ("REPLACE_WITH_SESSION_TOKEN", token.as_str()),
        ("bob@example.com", bob.as_str()),
        ("Bob@Example.com", bob.as_str()),
    ];
    for _ in 0..2 {
        let (status, shared) = invoke(helpdesk_sharing::handle, &h.app, event("share", &share_fill)).await;
        assert_eq!((status, &shared["items"]), (200, &serde_json::json!([{"email": bob}])));
    }
    let (_, detail) = invoke(helpdesk_intake::handle, &h.app, event("get-request", &as_ann)).await;
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);

    let (status, refused) = invoke(helpdesk_intake::handle, &h.app, event("project-queue", &as_ann)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")));
    let admin = h.sign_in(helpdesk_tools::local::DEMO_ADMIN).await;
    let (status, queue) =
        invoke(helpdesk_intake::handle, &h.app, event("project-queue", &[("REPLACE_WITH_SESSION_TOKEN", &admin)]))
            .await;
    assert_eq!(status, 200);
    assert_eq!(queue["items"][0]["key"], "DEMO-1");

    // Organizations: create one, set it on the request, read the checklist for Bob.
    let as_admin = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str())];
    let (status, org) = invoke(helpdesk_organizations::handle, &h.app, event("create-organization", &as_admin)).await;
    assert_eq!(status, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let with_org = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("REPLACE_WITH_ORG_ID", org_id.as_str())];
    let (status, set) = invoke(helpdesk_organizations::handle, &h.app, event("set-organization", &with_org)).await;
    assert_eq!((status, set["organization"].as_str()), (200, Some(org_id.as_str())));
    let for_bob = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("bob@example.com", bob.as_str())];
    let (status, checklist) = invoke(helpdesk_organizations::handle, &h.app, event("visibility", &for_bob)).await;
    assert_eq!(
        (status, checklist["verdict"].as_str(), checklist["participant"].as_bool()),
        (200, Some("visible"), Some(true))
    );

    // Moderation: a blocklist rule, then Ann suspended (twice: at-least-once delivery).
    let (status, rule) = invoke(helpdesk_moderation::handle, &h.app, event("add-block-rule", &as_admin)).await;
    assert_eq!((status, rule["rule"].as_str()), (201, Some("reject:*@spam.example")));
    let ann_id = me["id"].as_str().unwrap().to_string();
    let suspend_ann = [("REPLACE_WITH_SESSION_TOKEN", admin.as_str()), ("REPLACE_WITH_USER_ID", ann_id.as_str())];
    for _ in 0..2 {
        let (status, done) = invoke(helpdesk_moderation::handle, &h.app, event("suspend", &suspend_ann)).await;
        assert_eq!((status, done["suspended"].as_bool()), (200, Some(true)), "{done}");
    }
    let (status, _) = invoke(helpdesk_auth::handle, &h.app, event("me", &as_ann)).await;
    assert_eq!(status, 401, "the suspended user's session is gone");
}

/// What a JSON log subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).expect("a JSON log line")).collect()
    }
}

/// PRODUCT.md: one structured JSON log line per request, with its outcome, on every path
/// (accepted, rate-limited, refused, bad input, unauthenticated), and never the address.
#[tokio::test]
async fn every_call_logs_exactly_one_line_with_its_outcome() {
    let h = Harness::start().await;
    let admin = h.email("admin");
    helpdesk::projects::bootstrap_app_admin(&h.app, &admin).await.unwrap();
    let admin = helpdesk::caller::Caller::session(Some(&h.sign_in(&admin).await));
    let banned = h.email("banned");
    let rule = helpdesk::rules::RuleInput { rule: format!("reject:{banned}") };
    helpdesk::rules::add_rule(&h.app, &admin, None, Ok(rule)).await.unwrap();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_max_level(tracing::Level::INFO)
        .with_writer(captured.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let ann = h.email("ann");
    let mut expected: Vec<(u64, String)> = vec![];
    for i in 0..=helpdesk::auth::MAGIC_LINK_LIMIT {
        let (status, _) =
            invoke(helpdesk_auth::handle, &h.app, event("magic-link", &[("ann@example.com", &ann)])).await;
        assert_eq!(status, 202);
        let outcome = if i < helpdesk::auth::MAGIC_LINK_LIMIT { "sent" } else { "rate_limited" };
        expected.push((202, outcome.to_string()));
    }
    invoke(helpdesk_auth::handle, &h.app, event("magic-link", &[("ann@example.com", &banned)])).await;
    expected.push((202, "refused".into()));
    let mut bad_body = event("magic-link", &[]);
    *bad_body.body_mut() = Body::Text("{".into());
    invoke(helpdesk_auth::handle, &h.app, bad_body).await;
    expected.push((400, "invalid_json".into()));
    invoke(helpdesk_auth::handle, &h.app, event("me", &[])).await;
    expected.push((401, "unauthorized".into()));

    let lines = captured.lines();
    let seen: Vec<(u64, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!((l["message"].as_str(), l["function"].as_str()), (Some("request"), Some("auth")), "{l}");
            let what = l["outcome"].as_str().or(l["code"].as_str()).unwrap_or_default().to_string();
            (l["status"].as_u64().unwrap_or_default(), what)
        })
        .collect();
    assert_eq!(seen, expected, "one line per call, in order");
    let all = lines.iter().map(Value::to_string).collect::<String>();
    assert!(!all.contains(&ann) && !all.contains(&banned), "no address in the logs");
}
