//! Organizations function: organizations and membership, the organization on a request, and
//! the visibility checklist.

use helpdesk::http::{self, Reply};
use helpdesk::organizations::{self, RequestOrgInput};
use helpdesk::web::json::{organization_json, request_json, visibility_json};
use helpdesk::{routes, ApiError, App};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::ORGANIZATIONS, &req, started, result)
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let caller = http::caller(req, &app.config);
    let (key, id) = (params.get("key"), params.get("id"));
    match (spec.method, spec.path) {
        ("GET", "/projects/{key}/organizations") => {
            let orgs = organizations::list_organizations(app, &caller, key).await?;
            Ok(Reply::ok(json!({"project": key, "items": orgs.iter().map(organization_json).collect::<Vec<_>>()})))
        }
        ("POST", "/projects/{key}/organizations") => {
            let org = organizations::create_organization(app, &caller, key, http::parse_json(req)).await?;
            Ok(Reply::created(organization_json(&org)))
        }
        ("GET", "/organizations/{id}/members") => {
            let (org, members) = organizations::list_members(app, &caller, id).await?;
            let items: Vec<_> = members.iter().map(|m| json!({"user_id": m.user_id, "email": m.email})).collect();
            Ok(Reply::ok(json!({"organization": organization_json(&org), "items": items})))
        }
        ("POST", "/organizations/{id}/members") => {
            let user = organizations::add_member(app, &caller, id, http::parse_json(req)).await?;
            Ok(Reply::ok(json!({"organization": id, "email": user.email, "user_id": user.id})))
        }
        ("PUT", "/organizations/{id}/members") => {
            let emails = organizations::sync_members(app, &caller, id, http::parse_json(req)).await?;
            Ok(Reply::ok(json!({"organization": id, "members": emails})))
        }
        ("DELETE", "/organizations/{id}/members/{email}") => {
            organizations::remove_member(app, &caller, id, params.get("email")).await?;
            Ok(Reply::no_content())
        }
        ("PUT", "/requests/{key}/organization") => {
            let input = http::parse_json::<RequestOrgInput>(req).map(|i| Some(i.organization_id));
            let (viewer, request) = organizations::set_request_organization(app, &caller, key, input).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        ("DELETE", "/requests/{key}/organization") => {
            let (viewer, request) = organizations::set_request_organization(app, &caller, key, Ok(None)).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        ("GET", "/requests/{key}/visibility") => {
            let email = http::query_param(req, "email")
                .ok_or_else(|| ApiError::bad_request("missing_email", "the email query parameter is required"));
            Ok(Reply::ok(visibility_json(&organizations::visibility(app, &caller, key, email).await?)))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
