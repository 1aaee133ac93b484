//! Moderation function: suspend and unsuspend users, user notes, the audit trail, the blocklist.

use helpdesk::http::{self, Reply};
use helpdesk::web::json::{audit_json, list_json, rule_json, suspension_json, user_json};
use helpdesk::{moderation, routes, rules, ApiError, App};
use lambda_http::{Body, Request, Response};
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::MODERATION, &req, started, result)
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let caller = http::caller(req, &app.config);
    let id = params.get("id");
    // `?project=KEY`: that project's own rules; none: the app-wide rules.
    let project = http::query_value(req, "project");
    let project = project.as_deref();
    match (spec.method, spec.path) {
        ("POST", "/users/{id}/suspend") => {
            let outcome = moderation::suspend(app, &caller, id, http::parse_json(req), None).await?;
            Ok(Reply::ok(suspension_json(&outcome)))
        }
        ("POST", "/users/{id}/unsuspend") => Ok(Reply::ok(user_json(&moderation::unsuspend(app, &caller, id).await?))),
        ("POST", "/users/{id}/notes") => {
            let entry = moderation::add_note(app, &caller, id, http::parse_json(req)).await?;
            Ok(Reply::created(audit_json(&entry)))
        }
        ("GET", "/users/{id}/audit") => {
            Ok(Reply::ok(list_json(&moderation::audit_trail(app, &caller, id).await?.entries, audit_json)))
        }
        ("GET", "/blocklist") => Ok(Reply::ok(list_json(&rules::list_rules(app, &caller, project).await?, rule_json))),
        ("POST", "/blocklist") => {
            Ok(Reply::created(rule_json(&rules::add_rule(app, &caller, project, http::parse_json(req)).await?)))
        }
        ("DELETE", "/blocklist") => {
            rules::remove_rule(app, &caller, project, http::parse_json(req)).await?;
            Ok(Reply::no_content())
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
