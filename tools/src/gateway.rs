//! The local gateway: one HTTP server that serves every route of the template by calling the
//! same handler code the Lambda functions run, with API Gateway's request shape.

use crate::function::FUNCTION;
use crate::local_mail::{self, LocalMail};
use bytes::Bytes;
use helpdesk::http::{finish, MAX_BODY_BYTES};
use helpdesk::{routes, ApiError, App};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::time::Instant;
use tokio::net::TcpListener;

/// API Gateway's HTTP API refuses bodies over 10 MB before any function runs.
pub const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Hands a request to the function that owns its route, as API Gateway would.
pub async fn dispatch(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    match routes::match_route(req.method().as_str(), req.uri().path()) {
        Ok((spec, _)) => {
            let handled = async {
                match spec.function {
                    routes::AUTH => helpdesk_auth::handle(app, req).await,
                    routes::INTAKE => helpdesk_intake::handle(app, req).await,
                    routes::SHARING => helpdesk_sharing::handle(app, req).await,
                    routes::ORGANIZATIONS => helpdesk_organizations::handle(app, req).await,
                    routes::MODERATION => helpdesk_moderation::handle(app, req).await,
                    routes::WEB => helpdesk_web::handle(app, req).await,
                    other => finish("gateway", &req, started, Err(ApiError::Internal(format!("no function {other}")))),
                }
            };
            FUNCTION.scope(spec.function, handled).await
        }
        // API Gateway's `$default` route: the fallback function answers.
        Err(ApiError::RouteNotFound | ApiError::MethodNotAllowed) => {
            FUNCTION.scope(routes::FALLBACK, helpdesk_web::handle(app, req)).await
        }
        Err(err) => finish("gateway", &req, started, Err(err)),
    }
}

async fn to_lambda_request(req: hyper::Request<Incoming>) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = Limited::new(body, GATEWAY_BODY_LIMIT)
        .collect()
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))?
        .to_bytes();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    Ok(Request::from_parts(parts, body))
}

fn to_hyper_response(res: Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = res.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

async fn serve_one(
    app: &App,
    local: Option<&LocalMail>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    if let (Some(local), true) = (local, req.method() == hyper::Method::POST && req.uri().path() == local_mail::ROUTE) {
        return inbound_email(app, local, req).await;
    }
    if local.is_some() && req.method() == hyper::Method::POST && req.uri().path() == SCHEDULER_ROUTE {
        return scheduler(app, req).await;
    }
    if req.method() == hyper::Method::GET && req.uri().path() == "/openapi.json" {
        // Local only (not in the template): the API's own description.
        let body = Bytes::from(crate::openapi::document().to_string());
        return hyper::Response::builder().header("content-type", "application/json").body(Full::new(body)).unwrap();
    }
    let started = Instant::now();
    let head = Request::new(Body::Empty);
    let response = match to_lambda_request(req).await {
        Ok(req) => dispatch(app, req).await,
        Err(err) => finish("gateway", &head, started, Err(err)),
    };
    to_hyper_response(response)
}

/// `POST /_local/inbound-email`: the raw message is the body; the answer says what happened.
async fn inbound_email(app: &App, local: &LocalMail, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let query = req.uri().query().unwrap_or_default().to_string();
    let answer = match Limited::new(req.into_body(), local_mail::MAX_MESSAGE_BYTES).collect().await {
        Ok(body) => local.receive(app, body.to_bytes().to_vec(), &query).await,
        Err(_) => Err(ApiError::PayloadTooLarge(local_mail::MAX_MESSAGE_BYTES)),
    };
    let (status, body) = match answer {
        Ok(outcome) => (200, local_mail::outcome_json(&outcome)),
        Err(e) => (e.status(), serde_json::json!({"error": {"code": e.code(), "message": e.public_message()}})),
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// Local only: runs the scheduler as of `{"time": "<RFC 3339>"}` (now when absent) and
/// answers what it did.
pub const SCHEDULER_ROUTE: &str = "/_local/scheduler";

async fn scheduler(app: &App, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RunAt {
        time: Option<String>,
    }
    let body = Limited::new(req.into_body(), 64 * 1024).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let time = match serde_json::from_slice::<RunAt>(if body.is_empty() { b"{}" } else { &body }) {
        Ok(RunAt { time: None }) => Ok(app.now()),
        Ok(RunAt { time: Some(text) }) => helpdesk::text::parse_rfc3339(&text)
            .ok_or_else(|| ApiError::invalid("invalid_time", "time is an RFC 3339 date and time")),
        Err(_) => Err(ApiError::bad_request("invalid_body", "the body is {\"time\": \"<RFC 3339>\"}")),
    };
    let answer = match time {
        Ok(now) => FUNCTION.scope("scheduler", helpdesk_scheduler::handle(app, now)).await,
        Err(e) => Err(e),
    };
    let (status, body) = match answer {
        Ok(run) => (200, run),
        Err(e) => (e.status(), serde_json::json!({"error": {"code": e.code(), "message": e.public_message()}})),
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// Serves until the task is dropped; with `local`, also the local-only inbound email route.
pub async fn serve(app: App, local: Option<LocalMail>, listener: TcpListener) -> std::io::Result<()> {
    let local = local.map(std::sync::Arc::new);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let local = local.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                let local = local.clone();
                async move { Ok::<_, Infallible>(serve_one(&app, local.as_deref(), req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
