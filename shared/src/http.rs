//! Translation between HTTP (API Gateway via lambda_http, or the local gateway) and the
//! domain: body parsing with stable error codes, bearer tokens, query strings, JSON replies
//! and the one log line per request.

use crate::error::ApiError;
use lambda_http::{Body, Request, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Instant;

/// Largest request body accepted. API Gateway allows 10 MB; nothing here needs more than this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A successful answer: status and JSON body.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply { status: 200, body }
    }
    pub fn created(body: Value) -> Self {
        Reply { status: 201, body }
    }
    pub fn accepted(body: Value) -> Self {
        Reply { status: 202, body }
    }
    pub fn no_content() -> Self {
        Reply { status: 204, body: Value::Null }
    }
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Parses a JSON body into `T`: 413 when too large, 400 `invalid_json` when not JSON,
/// 400 `invalid_body` when the fields are missing or of the wrong type.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("invalid_json", "a JSON body is required"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request("invalid_body", "the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))
}

/// The bearer token of the Authorization header, if any.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name)?.to_str().ok()
}

/// A query-string parameter, decoded; empty values count as absent.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

pub fn error_body(err: &ApiError) -> Value {
    json!({"error": {"code": err.code(), "message": err.public_message()}})
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
    let builder = Response::builder().status(status);
    if body.is_null() {
        return builder.body(Body::Empty).expect("static response parts");
    }
    builder
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::Text(body.to_string()))
        .expect("static response parts")
}

/// Turns a handler's result into the HTTP response and logs one line for the request.
pub fn finish(function: &str, req: &Request, started: Instant, result: Result<Reply, ApiError>) -> Response<Body> {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (method, path) = (req.method().as_str(), req.uri().path());
    match result {
        Ok(reply) => {
            tracing::info!(function, method, path, status = reply.status, elapsed_ms, "request");
            json_response(reply.status, &reply.body)
        }
        Err(err) => {
            let status = err.status();
            if status >= 500 {
                tracing::error!(function, method, path, status, code = err.code(), detail = %format!("{err:?}"), elapsed_ms, "request");
            } else {
                tracing::info!(function, method, path, status, code = err.code(), elapsed_ms, "request");
            }
            json_response(status, &error_body(&err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body1 {
        name: String,
    }

    fn req(body: &str) -> Request {
        http::Request::builder()
            .uri("https://x/p?a=1&b=hello%20world&c=")
            .header("authorization", "Bearer tok")
            .body(Body::Text(body.into()))
            .unwrap()
    }

    #[test]
    fn body_errors_have_stable_codes() {
        assert_eq!(parse_json::<Body1>(&req("{")).unwrap_err().code(), "invalid_json");
        assert_eq!(parse_json::<Body1>(&req("")).unwrap_err().code(), "invalid_json");
        assert_eq!(parse_json::<Body1>(&req("[1]")).unwrap_err().code(), "invalid_body");
        assert_eq!(parse_json::<Body1>(&req(r#"{"name": 5}"#)).unwrap_err().code(), "invalid_body");
        assert_eq!(parse_json::<Body1>(&req("{}")).unwrap_err().code(), "invalid_body");
        let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(parse_json::<Body1>(&req(&big)).unwrap_err().code(), "payload_too_large");
        assert_eq!(parse_json::<Body1>(&req(r#"{"name":"a"}"#)).unwrap().name, "a");
    }

    #[test]
    fn headers_and_query() {
        let r = req("");
        assert_eq!(bearer(&r), Some("tok"));
        assert_eq!(query_param(&r, "b").as_deref(), Some("hello world"));
        assert_eq!(query_param(&r, "c"), None);
        assert_eq!(query_param(&r, "z"), None);
    }
}
