//! The request log: one structured JSON line per call, through the handlers on DynamoDB Local.

use helpdesk_tests::events::{event, invoke};
use helpdesk_tests::Harness;
use lambda_http::Body;
use serde_json::Value;

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
    // Global: a thread-local subscriber misses callsites another thread saw first. This file
    // holds this one test, so nothing else logs meanwhile.
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");

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
