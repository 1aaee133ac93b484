//! Auth function: magic links, sessions, and who the caller is.

use helpdesk::domain::emails;
use helpdesk::http::{self, Reply};
use helpdesk::web::json::{emails_json, user_json};
use helpdesk::{auth, routes, text, ApiError, App};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::AUTH, &req, started, result)
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let caller = http::caller(req, &app.config);
    match (spec.method, spec.path) {
        // Anonymous by design: the body is all there is to check.
        ("POST", "/auth/magic-link") => {
            let body: auth::MagicLinkInput = http::parse_json(req)?;
            let outcome = auth::request_magic_link(app, &body.email).await?;
            Ok(Reply::accepted(json!({"status": "if this address can sign in, a link is on its way"}))
                .with_outcome(outcome.as_str()))
        }
        ("POST", "/auth/session") => {
            let body: auth::SessionInput = http::parse_json(req)?;
            let (token, session, user) = auth::create_session(app, &body.token).await?;
            Ok(Reply::created(json!({
                "token": token,
                "expires_at": text::rfc3339(session.expires_at),
                "user": user_json(&user),
            })))
        }
        ("DELETE", "/auth/session") => {
            auth::logout(app, &caller).await?;
            Ok(Reply::no_content())
        }
        ("GET", "/me") => Ok(Reply::ok(user_json(&auth::me(app, &caller).await?))),
        ("GET", "/me/emails") => Ok(Reply::ok(json!({"items": emails_json(&auth::me(app, &caller).await?)}))),
        ("POST", "/me/emails") => {
            let user = emails::add_email(app, &caller, http::parse_json(req)).await?;
            Ok(Reply::accepted(json!({"items": emails_json(&user)})))
        }
        ("POST", "/me/emails/verify") => {
            let user = emails::verify_email(app, &caller, http::parse_json(req)).await?;
            Ok(Reply::ok(json!({"items": emails_json(&user)})))
        }
        ("DELETE", "/me/emails/{email}") => {
            let user = emails::remove_email(app, &caller, params.get("email")).await?;
            Ok(Reply::ok(json!({"items": emails_json(&user)})))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
