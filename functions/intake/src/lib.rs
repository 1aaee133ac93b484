//! Intake function: projects, agents and requests (raise, read, reply, close, lists).

use helpdesk::http::{self, Reply};
use helpdesk::model::RequestStatus;
use helpdesk::requests::{self, ListOptions};
use helpdesk::{projects, routes, ApiError, App};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::INTAKE, &req, started, result)
}

fn list_options(req: &Request) -> ListOptions {
    ListOptions {
        view: http::query_param(req, "view"),
        organization: http::query_param(req, "organization"),
        status: http::query_param(req, "status"),
        cursor: http::query_param(req, "cursor"),
        limit: http::query_param(req, "limit"),
    }
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let bearer = http::bearer(req);
    let key = params.get("key");
    match (spec.method, spec.path) {
        ("POST", "/projects") => {
            let project = projects::create_project_as(app, bearer, http::parse_json(req)?).await?;
            Ok(Reply::created(projects::project_json(&project)))
        }
        ("GET", "/projects/{key}") => {
            Ok(Reply::ok(projects::project_json(&projects::get_project(app, bearer, key).await?)))
        }
        ("PATCH", "/projects/{key}") => {
            let project = projects::update_project(app, bearer, key, http::parse_json(req)?).await?;
            Ok(Reply::ok(projects::project_json(&project)))
        }
        ("POST", "/projects/{key}/agents") => {
            let (user, role) = projects::add_agent(app, bearer, key, http::parse_json(req)?).await?;
            Ok(Reply::created(json!({"project": key, "user_id": user.id, "email": user.email, "role": role})))
        }
        ("POST", "/projects/{key}/requests") => {
            let idempotency = http::header(req, "idempotency-key");
            let (request, replayed) =
                requests::create_request(app, bearer, key, http::parse_json(req)?, idempotency).await?;
            let body = requests::request_json(&request);
            Ok(if replayed { Reply::ok(body) } else { Reply::created(body) })
        }
        ("GET", "/projects/{key}/requests") => {
            Ok(Reply::ok(requests::page_json(&requests::list_queue(app, bearer, key, &list_options(req)).await?)))
        }
        ("GET", "/requests") => {
            Ok(Reply::ok(requests::page_json(&requests::list_for_customer(app, bearer, &list_options(req)).await?)))
        }
        ("GET", "/requests/{key}") => {
            Ok(Reply::ok(requests::detail_json(&requests::get_request(app, bearer, key).await?)))
        }
        ("POST", "/requests/{key}/comments") => {
            let idempotency = http::header(req, "idempotency-key");
            let (comment, replayed) =
                requests::add_comment(app, bearer, key, http::parse_json(req)?, idempotency).await?;
            let body = requests::comment_json(&comment);
            Ok(if replayed { Reply::ok(body) } else { Reply::created(body) })
        }
        ("POST", "/requests/{key}/close") => {
            Ok(Reply::ok(requests::request_json(&requests::set_status(app, bearer, key, RequestStatus::Closed).await?)))
        }
        ("POST", "/requests/{key}/reopen") => {
            Ok(Reply::ok(requests::request_json(&requests::set_status(app, bearer, key, RequestStatus::Open).await?)))
        }
        ("POST", "/requests/{key}/release") => {
            Ok(Reply::ok(requests::request_json(&requests::release(app, bearer, key).await?)))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
