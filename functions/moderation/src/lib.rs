//! Moderation function: suspend and unsuspend users, user notes, the audit trail, the blocklist.

use helpdesk::http::{self, Reply};
use helpdesk::moderation::{self, RuleInput};
use helpdesk::{auth, routes, ApiError, App};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::MODERATION, &req, started, result)
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let bearer = http::bearer(req);
    let id = params.get("id");
    match (spec.method, spec.path) {
        ("POST", "/users/{id}/suspend") => {
            let outcome = moderation::suspend(app, bearer, id, http::parse_json(req)?, None).await?;
            Ok(Reply::ok(moderation::suspension_json(&outcome)))
        }
        ("POST", "/users/{id}/unsuspend") => {
            Ok(Reply::ok(auth::user_json(&moderation::unsuspend(app, bearer, id).await?)))
        }
        ("POST", "/users/{id}/notes") => {
            let entry = moderation::add_note(app, bearer, id, http::parse_json(req)?).await?;
            Ok(Reply::created(moderation::audit_json(&entry)))
        }
        ("GET", "/users/{id}/audit") => {
            let trail = moderation::audit_trail(app, bearer, id).await?;
            Ok(Reply::ok(
                json!({"items": trail.iter().map(moderation::audit_json).collect::<Vec<_>>(), "next_cursor": null}),
            ))
        }
        ("GET", "/blocklist") => {
            let rules = moderation::list_rules(app, bearer).await?;
            Ok(Reply::ok(
                json!({"items": rules.iter().map(moderation::rule_json).collect::<Vec<_>>(), "next_cursor": null}),
            ))
        }
        ("POST", "/blocklist") => {
            Ok(Reply::created(moderation::rule_json(&moderation::add_rule(app, bearer, http::parse_json(req)?).await?)))
        }
        ("DELETE", "/blocklist") => {
            let input: RuleInput = http::parse_json(req)?;
            moderation::remove_rule(app, bearer, input).await?;
            Ok(Reply::no_content())
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
