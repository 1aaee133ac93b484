//! Intake function: projects, agents and requests (raise, read, reply, close, lists).

use helpdesk::domain::access::Viewer;
use helpdesk::domain::{attachments, automations, form_moves, forms, macros, reports, search, tags, team, webhooks};
use helpdesk::http::{self, Reply, ReplyBody};
use helpdesk::model::RequestStatus;
use helpdesk::requests::{self, ListOptions};
use helpdesk::web::json::{
    automations_json, comment_json, deliveries_json, detail_json, forms_json, merged_json, page_json, project_json,
    request_json, search_json, team_json, team_member_json, webhook_json,
};
use helpdesk::web::reports::{report_csv, report_json};
use helpdesk::{projects, routes, ApiError, App};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Instant;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let result = route(app, &req).await;
    http::finish(routes::INTAKE, &req, started, result)
}

/// The lists' query. `view`, `status` and `limit` name one of a few values: given empty, they
/// are refused like any other wrong value, not taken for absent.
fn list_options(req: &Request) -> ListOptions {
    ListOptions {
        view: http::query_value(req, "view"),
        organization: http::query_param(req, "organization"),
        status: http::query_value(req, "status"),
        cursor: http::query_param(req, "cursor"),
        limit: http::query_value(req, "limit"),
        tag: http::query_value(req, "tag"),
        assignee: http::query_value(req, "assignee"),
        priority: http::query_value(req, "priority"),
        sort: http::query_value(req, "sort"),
    }
}

/// A search's query: `q`, `sort`, `cursor`, `limit`.
fn search_options(req: &Request) -> search::SearchOptions {
    search::SearchOptions {
        q: http::query_param(req, "q"),
        sort: http::query_value(req, "sort"),
        cursor: http::query_param(req, "cursor"),
        limit: http::query_value(req, "limit"),
    }
}

/// `?seen_version=N`: the version the caller saw (the collision guard); absent is no check.
fn seen_version(req: &Request) -> Result<Option<u64>, ApiError> {
    http::query_value(req, "seen_version")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request("invalid_seen_version", "seen_version is a request version number"))
        })
        .transpose()
}

/// A request's version as an entity tag, for `If-Match`.
fn etag(request: &helpdesk::model::Request) -> String {
    format!("\"{}\"", request.version)
}

/// 201 for what the call made, 200 when an Idempotency-Key replayed it.
fn made(replayed: bool, body: serde_json::Value) -> Reply {
    if replayed {
        Reply::ok(body)
    } else {
        Reply::created(body)
    }
}

async fn route(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (spec, params) = routes::match_route(req.method().as_str(), req.uri().path())?;
    let caller = http::caller(req, &app.config);
    let key = params.get("key");
    match (spec.method, spec.path) {
        ("POST", "/projects") => {
            let project = projects::create_project(app, &caller, http::parse_json(req)).await?;
            Ok(Reply::created(project_json(&project)))
        }
        ("GET", "/projects/{key}") => Ok(Reply::ok(project_json(&projects::get_project(app, &caller, key).await?))),
        ("PATCH", "/projects/{key}") => {
            let project = projects::update_project(app, &caller, key, http::parse_json(req)).await?;
            Ok(Reply::ok(project_json(&project)))
        }
        ("GET", "/projects/{key}/agents") => Ok(Reply::ok(team_json(&team::get_team(app, &caller, key).await?))),
        ("PUT", "/projects/{key}/agents/{id}") => {
            let (id, member) = team::update_agent(app, &caller, key, params.get("id"), http::parse_json(req)).await?;
            Ok(Reply::ok(team_member_json(&id, &member)))
        }
        ("DELETE", "/projects/{key}/agents/{id}") => {
            let removed = team::remove_agent(app, &caller, key, params.get("id")).await?;
            Ok(Reply::ok(json!({"project": key, "id": params.get("id"), "unassigned": removed.unassigned})))
        }
        ("POST", "/projects/{key}/agents") => {
            let (user, role) = projects::add_agent(app, &caller, key, http::parse_json(req)).await?;
            Ok(Reply::created(json!({"project": key, "user_id": user.id, "email": user.email, "role": role})))
        }
        ("POST", "/projects/{key}/requests") => {
            let idempotency = http::idempotency_key(req);
            let ((viewer, request), replayed) =
                requests::create_request(app, &caller, key, http::parse_json(req), idempotency).await?;
            Ok(made(replayed, request_json(viewer, &request)))
        }
        ("GET", "/projects/{key}/requests") => {
            Ok(Reply::ok(page_json(&requests::list_queue(app, &caller, key, &list_options(req)).await?)))
        }
        ("GET", "/projects/{key}/search") => {
            Ok(Reply::ok(search_json(&search::search_project(app, &caller, key, &search_options(req)).await?)))
        }
        ("GET", "/requests/search") => {
            Ok(Reply::ok(search_json(&search::search_customer(app, &caller, &search_options(req)).await?)))
        }
        ("GET", "/requests") => {
            Ok(Reply::ok(page_json(&requests::list_for_customer(app, &caller, &list_options(req)).await?)))
        }
        ("GET", "/requests/{key}") => {
            let detail = requests::get_request(app, &caller, key).await?;
            let reply = Reply::ok(detail_json(&detail));
            // The version moves with internal notes too: agents only.
            Ok(if detail.viewer == Viewer::Agent { reply.with_header("etag", etag(&detail.request)) } else { reply })
        }
        ("PATCH", "/requests/{key}") => {
            let if_match = team::parse_if_match(req.headers().get("if-match").map(|v| v.as_bytes()));
            let changed = team::update_request_fields(app, &caller, key, http::parse_json(req), if_match).await;
            match changed {
                Ok((viewer, request)) => {
                    Ok(Reply::ok(request_json(viewer, &request)).with_header("etag", etag(&request)))
                }
                // The current request comes with the refusal, so the agent sees what changed.
                Err(stale @ ApiError::StaleRequest(_, _)) => {
                    let ApiError::StaleRequest(_, current) = &stale else { unreachable!() };
                    let mut body = http::error_body(&stale);
                    body["request"] = request_json(Viewer::Agent, current);
                    Ok(Reply::new(412, ReplyBody::Json(body)).with_header("etag", etag(current)))
                }
                Err(other) => Err(other),
            }
        }
        // A short-lived presigned URL: the file comes from S3, never through the function.
        ("GET", "/requests/{key}/attachments/{id}") => {
            Ok(Reply::see_other(attachments::download_url(app, &caller, key, params.get("id")).await?)
                .with_header("cache-control", "no-store"))
        }
        // An upload straight to the bucket: a presigned POST for one file, named by a comment.
        ("POST", "/requests/{key}/attachments") => {
            let granted = attachments::uploads::grant(app, &caller, key, http::parse_json(req)).await?;
            let fields: serde_json::Map<String, serde_json::Value> =
                granted.post.fields.into_iter().map(|(k, v)| (k, json!(v))).collect();
            Ok(Reply::created(json!({"id": granted.id, "url": granted.post.url, "fields": fields,
                "max_size": granted.max_size, "expires_at": helpdesk::text::rfc3339(granted.expires_at)})))
        }
        ("POST", "/requests/{key}/comments") => {
            let idempotency = http::idempotency_key(req);
            let (posted, replayed) =
                requests::add_comment(app, &caller, key, http::parse_json(req), idempotency).await?;
            Ok(made(
                replayed,
                match &posted {
                    requests::Posted::Comment(comment) => comment_json(comment),
                    // Past the reopen window: the request it opened, which names this one.
                    requests::Posted::FollowUp(request) => request_json(Viewer::Customer, request),
                },
            ))
        }
        ("POST", "/requests/{key}/close") | ("POST", "/requests/{key}/reopen") => {
            let status = if spec.path.ends_with("/close") { RequestStatus::Closed } else { RequestStatus::Open };
            let (viewer, request) = requests::set_status_seen(app, &caller, key, status, seen_version(req)).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        ("GET", "/projects/{key}/forms") => Ok(Reply::ok(forms_json(&forms::list_forms(app, &caller, key).await?))),
        ("POST", "/projects/{key}/forms") => {
            let form = forms::save_form(app, &caller, key, None, http::parse_json(req)).await?;
            Ok(Reply::created(serde_json::to_value(&form).unwrap_or_default()))
        }
        ("PUT", "/projects/{key}/forms/{id}") => {
            let form = forms::save_form(app, &caller, key, Some(params.get("id")), http::parse_json(req)).await?;
            Ok(Reply::ok(serde_json::to_value(&form).unwrap_or_default()))
        }
        ("DELETE", "/projects/{key}/forms/{id}") => {
            forms::delete_form(app, &caller, key, params.get("id")).await?;
            Ok(Reply::no_content())
        }
        ("PUT", "/requests/{key}/form") => {
            let (viewer, request) = forms::move_to_form(app, &caller, key, http::parse_json(req)).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        ("PUT", "/requests/{key}/tags/{tag}") | ("DELETE", "/requests/{key}/tags/{tag}") => {
            let add = spec.method == "PUT";
            let (viewer, request) = tags::set_tag(app, &caller, key, params.get("tag"), add).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        ("GET", "/projects/{key}/macros") => {
            let macros = macros::list_macros(app, &caller, key).await?;
            Ok(Reply::ok(json!({"project": macros.project, "items": macros.macros})))
        }
        ("POST", "/projects/{key}/macros") => {
            let made = macros::save_macro(app, &caller, key, None, http::parse_json(req)).await?;
            Ok(Reply::created(serde_json::to_value(&made).unwrap_or_default()))
        }
        ("PUT", "/projects/{key}/macros/{id}") => {
            let saved = macros::save_macro(app, &caller, key, Some(params.get("id")), http::parse_json(req)).await?;
            Ok(Reply::ok(serde_json::to_value(&saved).unwrap_or_default()))
        }
        ("DELETE", "/projects/{key}/macros/{id}") => {
            macros::delete_macro(app, &caller, key, params.get("id")).await?;
            Ok(Reply::no_content())
        }
        ("POST", "/requests/{key}/macros/{id}") => {
            let idempotency = http::idempotency_key(req);
            let ((viewer, request), replayed) =
                macros::apply_macro(app, &caller, key, params.get("id"), None, idempotency).await?;
            let reply = Reply::ok(request_json(viewer, &request));
            Ok(if replayed { reply.with_outcome("replayed") } else { reply })
        }
        ("GET", "/requests/{key}/macros/{id}/preview") => {
            let preview = macros::preview_macro(app, &caller, key, params.get("id")).await?;
            Ok(Reply::ok(helpdesk::web::json::macro_preview_json(&preview)))
        }
        ("POST", "/requests/{key}/history/{id}/undo") => {
            let (viewer, request) = form_moves::undo_form_move(app, &caller, key, params.get("id")).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        ("GET", "/projects/{key}/reports") => {
            let query = reports::ReportQuery {
                from: http::query_param(req, "from"),
                to: http::query_param(req, "to"),
                by: http::query_value(req, "by"),
                assignee: http::query_value(req, "assignee"),
            };
            let report = reports::project_report(app, &caller, key, &query).await?;
            if http::accepts_csv(req) {
                let name =
                    format!("attachment; filename=\"{}-report-{}-{}.csv\"", report.project, report.from, report.to);
                Ok(Reply::new(200, ReplyBody::Text("text/csv; charset=utf-8", report_csv(&report)))
                    .with_header("content-disposition", name))
            } else {
                Ok(Reply::ok(report_json(&report)))
            }
        }
        ("GET", "/projects/{key}/automations") => {
            let list = automations::manage::list_automations(app, &caller, key).await?;
            Ok(Reply::ok(automations_json(&list)))
        }
        ("POST", "/projects/{key}/automations") => {
            let made = automations::manage::add_automation(app, &caller, key, http::parse_json(req)).await?;
            Ok(Reply::created(serde_json::to_value(&made).unwrap_or_default()))
        }
        ("PUT", "/projects/{key}/automations/{id}") => {
            let id = params.get("id");
            let saved = automations::manage::update_automation(app, &caller, key, id, http::parse_json(req)).await?;
            Ok(Reply::ok(serde_json::to_value(&saved).unwrap_or_default()))
        }
        ("DELETE", "/projects/{key}/automations/{id}") => {
            automations::manage::delete_automation(app, &caller, key, params.get("id")).await?;
            Ok(Reply::no_content())
        }
        ("GET", "/projects/{key}/webhooks") => {
            let targets = webhooks::targets::list_targets(app, &caller, key).await?;
            let items: Vec<_> = targets.targets.iter().map(webhook_json).collect();
            Ok(Reply::ok(json!({"project": targets.project, "items": items})))
        }
        ("POST", "/projects/{key}/webhooks") => {
            let (target, secret) = webhooks::targets::add_target(app, &caller, key, http::parse_json(req)).await?;
            let mut body = webhook_json(&target);
            // Shown this once: only the sender function reads it afterwards.
            body["secret"] = json!(secret);
            Ok(Reply::created(body))
        }
        ("DELETE", "/projects/{key}/webhooks/{id}") => {
            webhooks::targets::delete_target(app, &caller, key, params.get("id")).await?;
            Ok(Reply::no_content())
        }
        ("GET", "/projects/{key}/webhooks/{id}/deliveries") => {
            let deliveries = webhooks::targets::list_deliveries(app, &caller, key, params.get("id")).await?;
            Ok(Reply::ok(deliveries_json(&deliveries)))
        }
        ("POST", "/requests/{key}/merge") => {
            let merged = requests::merge(app, &caller, key, http::parse_json(req), None).await?;
            Ok(Reply::ok(merged_json(&merged)))
        }
        ("POST", "/requests/{key}/release") => {
            let (viewer, request) = requests::release(app, &caller, key).await?;
            Ok(Reply::ok(request_json(viewer, &request)))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}
