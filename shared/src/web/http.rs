//! Translation between HTTP (API Gateway via lambda_http, or the local gateway) and the
//! domain: body parsing with stable error codes, bearer tokens, query strings, JSON replies
//! and the one log line per request.

use crate::domain::caller::Caller;
use crate::domain::idempotency::IdempotencyKey;
use crate::error::ApiError;
use lambda_http::{Body, Request, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Instant;

/// Largest request body accepted. API Gateway allows 10 MB; nothing here needs more than this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A successful answer: a status and what it carries.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: ReplyBody,
    /// What happened, for the request's one log line when the status does not say it (a
    /// 202 that sent a link, or did not because of a rate limit).
    pub outcome: Option<&'static str>,
    /// Headers beyond the content type (cookies, security headers, cache lifetime).
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug, PartialEq)]
pub enum ReplyBody {
    Json(Value),
    Html(String),
    /// 303 See Other to this location (after a form post).
    Redirect(String),
    /// Any other text, with its content type (the stylesheet).
    Text(&'static str, String),
    Empty,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply { status: 200, body: ReplyBody::Json(body), outcome: None, headers: vec![] }
    }
    pub fn created(body: Value) -> Self {
        Reply { status: 201, body: ReplyBody::Json(body), outcome: None, headers: vec![] }
    }
    pub fn accepted(body: Value) -> Self {
        Reply { status: 202, body: ReplyBody::Json(body), outcome: None, headers: vec![] }
    }
    pub fn no_content() -> Self {
        Reply { status: 204, body: ReplyBody::Empty, outcome: None, headers: vec![] }
    }
    pub fn html(status: u16, page: String) -> Self {
        Reply { status, body: ReplyBody::Html(page), outcome: None, headers: vec![] }
    }
    pub fn see_other(location: impl Into<String>) -> Self {
        Reply { status: 303, body: ReplyBody::Redirect(location.into()), outcome: None, headers: vec![] }
    }
    /// A reply with any body; pages build theirs with this.
    pub fn new(status: u16, body: ReplyBody) -> Self {
        Reply { status, body, outcome: None, headers: vec![] }
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    pub fn with_outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = Some(outcome);
        self
    }
    /// The JSON body, for tests and the gateway's helpers.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            ReplyBody::Json(v) => Some(v),
            _ => None,
        }
    }
}

pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Parses a JSON body into `T`: 413 when too large, 400 `invalid_json` when not JSON,
/// 400 `invalid_body` when the fields are missing or of the wrong type. Handlers pass the
/// result on unopened: use cases report a bad body only after the caller is authorized.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    parse_json_bytes(body_bytes(req))
}

/// A JSON object read into `T` (a body, or a page's JSON field), with the API's errors.
pub fn parse_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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

/// The value of a cookie, if the request carries it.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|header| {
        header.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v.trim()).filter(|v| !v.is_empty())
        })
    })
}

/// Who calls the JSON API: a bearer token, else (for reads only) the session cookie
/// (`Config::session_cookie`), else nobody. A cookie rides along on cross-site requests and
/// JSON calls carry no CSRF token, so a change through the API needs the bearer token.
pub fn caller(req: &Request, config: &crate::Config) -> Caller {
    let safe = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    Caller::session(bearer(req).or_else(|| if safe { cookie(req, config.session_cookie()) } else { None }))
}

/// Who calls a page: the bearer token or the session cookie on any method (every page form
/// carries a CSRF token, checked before anything else).
pub fn page_caller(req: &Request, config: &crate::Config) -> Caller {
    Caller::session(bearer(req).or_else(|| cookie(req, config.session_cookie())))
}

/// The path as logged: public-link tokens are secrets and stay out of logs.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/csat/") {
        return "/csat/{token}";
    }
    match path.strip_prefix("/p/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, "close")) => "/p/{token}/close",
            Some((_, "reopen")) => "/p/{token}/reopen",
            Some((_, "reply")) => "/p/{token}/reply",
            _ => "/p/{token}",
        },
        None => path,
    }
}

/// The `Idempotency-Key` header: absent is None; present but malformed is a 400.
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    IdempotencyKey::from_header(req.headers().get("idempotency-key").map(|v| v.as_bytes()))
}

/// Whether the client asked for CSV (`Accept: text/csv`) rather than JSON.
pub fn accepts_csv(req: &Request) -> bool {
    req.headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|kind| kind.split(';').next().is_some_and(|k| k.trim().eq_ignore_ascii_case("text/csv")))
}

/// A query-string parameter, decoded; empty values count as absent.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    query_value(req, name).filter(|v| !v.is_empty())
}

/// A query-string parameter as given, empty included (where empty must be refused, not
/// taken for absent).
pub fn query_value(req: &Request, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub fn error_body(err: &ApiError) -> Value {
    match err {
        ApiError::Fields(problems) => {
            json!({"error": {"code": err.code(), "message": err.public_message(), "errors": problems}})
        }
        _ => json!({"error": {"code": err.code(), "message": err.public_message()}}),
    }
}

/// Headers every answer carries unless its function set its own (pages set their CSP).
const BASELINE_HEADERS: [(&str, &str); 5] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
];

fn response(reply: Reply) -> Response<Body> {
    let mut builder = Response::builder().status(reply.status);
    for (baseline, value) in BASELINE_HEADERS {
        if !reply.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case(baseline)) {
            builder = builder.header(baseline, value);
        }
    }
    for (name, value) in reply.headers {
        builder = builder.header(name, value);
    }
    let built = match reply.body {
        ReplyBody::Empty => builder.body(Body::Empty),
        ReplyBody::Json(v) if v.is_null() => builder.body(Body::Empty),
        ReplyBody::Json(v) => builder.header("content-type", "application/json").body(Body::Text(v.to_string())),
        ReplyBody::Html(page) => builder.header("content-type", "text/html; charset=utf-8").body(Body::Text(page)),
        ReplyBody::Redirect(location) => builder.header("location", location).body(Body::Empty),
        ReplyBody::Text(content_type, text) => builder.header("content-type", content_type).body(Body::Text(text)),
    };
    built.unwrap_or_else(|e| {
        tracing::error!(error = %e, "response not built");
        let mut fallback = Response::new(Body::Empty);
        *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// Turns a handler's result into the HTTP response and logs one line for the request.
pub fn finish(function: &str, req: &Request, started: Instant, result: Result<Reply, ApiError>) -> Response<Body> {
    finish_with(function, req, started, result, |err| Reply::new(err.status(), ReplyBody::Json(error_body(err))))
}

/// `finish`, with errors answered by `on_error` (pages answer with an HTML page).
pub fn finish_with(
    function: &str,
    req: &Request,
    started: Instant,
    result: Result<Reply, ApiError>,
    on_error: impl FnOnce(&ApiError) -> Reply,
) -> Response<Body> {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (method, path) = (req.method().as_str(), logged_path(req.uri().path()));
    match result {
        Ok(reply) => {
            let outcome = reply.outcome.unwrap_or("ok");
            tracing::info!(function, method, path, status = reply.status, outcome, elapsed_ms, "request");
            response(reply)
        }
        Err(err) => {
            let status = err.status();
            if status >= 500 {
                tracing::error!(function, method, path, status, code = err.code(), detail = %format!("{err:?}"), elapsed_ms, "request");
            } else {
                tracing::info!(function, method, path, status, code = err.code(), elapsed_ms, "request");
            }
            let mut reply = on_error(&err);
            reply.status = status;
            if err == ApiError::MethodNotAllowed {
                // RFC 9110: a 405 names the methods the resource has.
                reply = reply.with_header("allow", crate::routes::allowed_methods(req.uri().path()));
            }
            response(reply)
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
        let local = crate::testing::test_config();
        assert_eq!(caller(&r, &local), Caller::Session("tok".into()));
    }

    #[test]
    fn the_session_cookie_is_a_caller_too() {
        let r = http::Request::builder()
            .uri("https://x/portal")
            .header("cookie", "theme=dark; hd_session=abc.def; other=1")
            .body(Body::Empty)
            .unwrap();
        let local = crate::testing::test_config();
        assert_eq!(caller(&r, &local), Caller::Session("abc.def".into()));
        assert_eq!(cookie(&r, "nope"), None);
        // The API takes the cookie for reads only; pages (with their CSRF check) for anything.
        let post = http::Request::builder()
            .method("POST")
            .uri("https://x/requests/HD-1/comments")
            .header("cookie", "hd_session=abc.def")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(caller(&post, &local), Caller::Anonymous);
        assert_eq!(page_caller(&post, &local), Caller::Session("abc.def".into()));
        // Over HTTPS only the `__Host-` cookie counts: a plain one may come from a subdomain.
        let deployed = crate::Config { public_base_url: "https://desk.example".into(), ..local.clone() };
        assert_eq!(page_caller(&post, &deployed), Caller::Anonymous);
        let host = http::Request::builder()
            .uri("https://x/portal")
            .header("cookie", "hd_session=planted; __Host-hd_session=mine")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(page_caller(&host, &deployed), Caller::Session("mine".into()));
        assert_eq!(logged_path("/p/k1.abc.def/reply"), "/p/{token}/reply");
        assert_eq!(logged_path("/p/k1.abc.def"), "/p/{token}");
        assert_eq!(logged_path("/csat/k1.abc.def"), "/csat/{token}", "a rating link is a credential too");
        let anonymous = http::Request::builder().uri("https://x/").body(Body::Empty).unwrap();
        assert_eq!(caller(&anonymous, &local), Caller::Anonymous);
    }
}
