//! API Gateway events from `events/` (the files `cargo lambda invoke` uses), with their
//! placeholders filled, and a handler's answer to one.

use helpdesk::App;
use lambda_http::{Body, Request};
use serde_json::Value;

/// The text of `events/<name>.json` with its placeholders filled: what a Runtime API delivers.
pub fn filled(name: &str, fill: &[(&str, &str)]) -> String {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (placeholder, value) in fill {
        text = text.replace(placeholder, value);
    }
    text
}

pub fn event(name: &str, fill: &[(&str, &str)]) -> Request {
    let text = filled(name, fill);
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name} is an API Gateway HTTP event: {e}"))
}

/// A non-HTTP event (SES receipt, DynamoDB stream) in the type its function takes.
pub fn typed_event<T: serde::de::DeserializeOwned>(name: &str, fill: &[(&str, &str)]) -> T {
    serde_json::from_str(&filled(name, fill)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub async fn invoke(
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

/// A page handler's answer: status, headers and the HTML.
pub async fn invoke_page(
    handler: impl AsyncFnOnce(&App, Request) -> lambda_http::Response<Body>,
    app: &App,
    req: Request,
) -> (u16, http::HeaderMap, String) {
    let res = handler(app, req).await;
    let (parts, body) = res.into_parts();
    let text = match body {
        Body::Text(t) => t,
        Body::Empty => String::new(),
        other => panic!("unexpected body {other:?}"),
    };
    (parts.status.as_u16(), parts.headers, text)
}
