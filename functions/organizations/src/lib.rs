//! Organizations function: organizations and membership, the organization on a request, and
//! the visibility checklist.

use helpdesk::http::{self, Reply};
use helpdesk::organizations::{self, RequestOrgInput};
use helpdesk::{requests, routes, ApiError, App};
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
    let bearer = http::bearer(req);
    match (spec.method, spec.path) {
        ("POST", "/projects/{key}/organizations") => {
            let org =
                organizations::create_organization(app, bearer, params.get("key"), http::parse_json(req)?).await?;
            Ok(Reply::created(organizations::organization_json(&org)))
        }
        ("POST", "/organizations/{id}/members") => {
            let user = organizations::add_member(app, bearer, params.get("id"), http::parse_json(req)?).await?;
            Ok(Reply::ok(json!({"organization": params.get("id"), "email": user.email, "user_id": user.id})))
        }
        ("PUT", "/organizations/{id}/members") => {
            let emails = organizations::sync_members(app, bearer, params.get("id"), http::parse_json(req)?).await?;
            Ok(Reply::ok(json!({"organization": params.get("id"), "members": emails})))
        }
        ("DELETE", "/organizations/{id}/members/{email}") => {
            organizations::remove_member(app, bearer, params.get("id"), params.get("email")).await?;
            Ok(Reply::no_content())
        }
        ("PUT", "/requests/{key}/organization") => {
            let input: RequestOrgInput = http::parse_json(req)?;
            let request =
                organizations::set_request_organization(app, bearer, params.get("key"), Some(&input.organization_id))
                    .await?;
            Ok(Reply::ok(requests::request_json(&request)))
        }
        ("DELETE", "/requests/{key}/organization") => {
            let request = organizations::set_request_organization(app, bearer, params.get("key"), None).await?;
            Ok(Reply::ok(requests::request_json(&request)))
        }
        ("GET", "/requests/{key}/visibility") => {
            let email = http::query_param(req, "email")
                .ok_or_else(|| ApiError::bad_request("missing_email", "the email query parameter is required"))?;
            Ok(Reply::ok(organizations::visibility(app, bearer, params.get("key"), &email).await?))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
