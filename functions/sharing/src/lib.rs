//! Sharing function: request participants, customers added by agents, managed domains.

use helpdesk::http::{self, Reply};
use helpdesk::participants;
use helpdesk::web::json::participants_json;
use helpdesk::{routes, ApiError, App};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::SHARING, &req, started, result)
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let caller = http::caller(req, &app.config);
    let key = params.get("key");
    match (spec.method, spec.path) {
        ("GET", "/requests/{key}/participants") => {
            let (request, cap) = participants::list_participants(app, &caller, key).await?;
            Ok(Reply::ok(participants_json(&request, cap)))
        }
        ("POST", "/requests/{key}/participants") => {
            let (request, cap) = participants::share(app, &caller, key, http::parse_json(req)).await?;
            Ok(Reply::ok(participants_json(&request, cap)))
        }
        ("DELETE", "/requests/{key}/participants/{email}") => {
            let (request, cap) = participants::unshare(app, &caller, key, params.get("email")).await?;
            Ok(Reply::ok(participants_json(&request, cap)))
        }
        ("POST", "/projects/{key}/customers") => {
            let (user, created) = participants::add_customer(app, &caller, key, http::parse_json(req)).await?;
            let body =
                json!({"project": key, "user_id": user.id, "email": user.email, "name": user.name, "created": created});
            Ok(if created { Reply::created(body) } else { Reply::ok(body) })
        }
        ("GET", "/admin/managed-domains") => {
            Ok(Reply::ok(json!({"domains": participants::get_managed_domains(app, &caller).await?.domains})))
        }
        ("PUT", "/admin/managed-domains") => {
            let managed = participants::put_managed_domains(app, &caller, http::parse_json(req)).await?;
            Ok(Reply::ok(json!({"domains": managed.domains})))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
