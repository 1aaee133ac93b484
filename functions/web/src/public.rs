//! Public links' pages (`/p/<token>`): the thread, a reply proven by its recipient's address,
//! close and reopen; the same routes as JSON; and the API that mints and revokes links.

use crate::page_kit::{chrome, field_error, nonce, query};
use crate::views::{self, render, CommentView};
use crate::visitor::{Form, Visitor};
use helpdesk::domain::attachments;
use helpdesk::domain::public_links::{self, MintInput};
use helpdesk::http::{self, Reply};
use helpdesk::model::RequestStatus;
use helpdesk::requests;
use helpdesk::routes::{Params, RouteSpec};
use helpdesk::web::json::public_page_json;
use helpdesk::{text, ApiError, App};
use lambda_http::Request;
use serde_json::json;

pub(crate) async fn get(app: &App, req: &Request, v: &Visitor, path: &str, params: &Params) -> Result<Reply, ApiError> {
    match path {
        "/p/{token}" => {
            let notice = match query(req, "done").as_deref() {
                Some("replied") => Some("Your reply was sent."),
                Some("follow-up") => Some(
                    "This request was closed a while ago, so your message opened a new request. We have emailed you about it.",
                ),
                Some("closed") => Some("The request is closed."),
                Some("reopened") => Some("The request is open again."),
                _ => None,
            };
            let notice = notice.map(str::to_string);
            public_page(app, v, params.get("token"), |p| p.notice = notice).await.map(|p| Reply::html(200, p))
        }
        // A 5-minute presigned URL: the file comes from S3, never through the function.
        "/p/{token}/attachments/{id}" => {
            let url = attachments::public_download_url(app, params.get("token"), params.get("id")).await?;
            Ok(Reply::see_other(url).with_header("cache-control", "no-store"))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

pub(crate) async fn post(app: &App, v: &Visitor, path: &str, params: &Params, form: &Form) -> Result<Reply, ApiError> {
    let token = params.get("token");
    match path {
        "/p/{token}/close" | "/p/{token}/reopen" => {
            let (status, done) = match path {
                "/p/{token}/close" => (RequestStatus::Closed, "closed"),
                _ => (RequestStatus::Open, "reopened"),
            };
            public_links::set_status(app, token, status).await?;
            Ok(Reply::see_other(format!("/p/{token}?done={done}")))
        }
        "/p/{token}/reply" => {
            let (email, body) = (form.get("email"), form.get("body"));
            let remembered = v.replier_proof.as_deref();
            let replied =
                public_links::reply(app, token, email, remembered, Ok(body.into()), form.files(), nonce(form));
            match replied.await {
                Ok((page, posted)) => {
                    let done = match posted {
                        requests::Posted::FollowUp(_) => "follow-up",
                        requests::Posted::Comment(_) => "replied",
                    };
                    let reply = Reply::see_other(format!("/p/{token}?done={done}"));
                    // The address typed is proven: this browser is not asked for it again.
                    Ok(match public_links::remember(app, &page, email).await? {
                        Some(proof) => reply.with_header("set-cookie", v.replier_cookie(&proof)),
                        None => reply,
                    })
                }
                Err(err) => {
                    let wrong_email = err.code() == "wrong_email";
                    if !wrong_email && field_error(&err).is_none() {
                        return Err(err);
                    }
                    let message = err.public_message();
                    let page = public_page(app, v, token, |p| {
                        p.email_value = email.to_string();
                        p.body_value = body.to_string();
                        if wrong_email {
                            p.email_error = Some(message);
                        } else {
                            p.body_error = Some(message);
                        }
                    })
                    .await?;
                    Ok(Reply::html(err.status(), page))
                }
            }
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

async fn public_page(
    app: &App,
    v: &Visitor,
    token: &str,
    adjust: impl FnOnce(&mut views::PublicPage),
) -> Result<String, ApiError> {
    let shown = public_links::open(app, token).await?;
    let r = &shown.detail.request;
    let mut page = views::PublicPage {
        chrome: chrome(v, format!("{}: {}", r.key, r.summary), Some(&shown.project.name)),
        token: token.to_string(),
        key: r.key.clone(),
        summary: r.summary.clone(),
        description: r.description.clone(),
        status: views::CustomerStatus(r.status),
        is_open: r.status.is_active(),
        project_name: shown.project.name.clone(),
        updated: views::when(r.updated_at),
        comments: shown
            .detail
            .comments
            .iter()
            .map(|c| CommentView { author: shown.author(c).label().to_string(), ..CommentView::from(c) })
            .collect(),
        files: shown
            .detail
            .attachments
            .iter()
            .map(|a| views::FileView { url: format!("/p/{token}/attachments/{}", a.id), ..views::FileView::from(a) })
            .collect(),
        nonce: text::new_secret(),
        notice: None,
        rating_url: shown.rating_token.as_ref().map(|t| format!("/csat/{t}")),
        replying_as: public_links::remembered_address(app, &shown, v.replier_proof.as_deref())
            .await?
            .map(|e| e.to_string()),
        email_value: String::new(),
        email_error: None,
        body_value: String::new(),
        body_error: None,
    };
    page.files = views::place_files(&mut page.comments, std::mem::take(&mut page.files));
    adjust(&mut page);
    // Signed-in or not, the public page never shows the account bar.
    page.chrome.signed_in = false;
    render(&page)
}

/// The public portal for `Accept: application/json` callers.
pub async fn public_json(app: &App, req: &Request, spec: &RouteSpec, params: &Params) -> Result<Reply, ApiError> {
    let token = params.get("token");
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ReplyBody {
        email: String,
        body: String,
    }
    match (spec.method, spec.path) {
        (method, "/csat/{token}") => crate::csat::json(app, req, method, token).await,
        ("GET", "/p/{token}") => Ok(Reply::ok(public_page_json(&public_links::open(app, token).await?))),
        ("POST", "/p/{token}/close") | ("POST", "/p/{token}/reopen") => {
            let status = if spec.path.ends_with("/close") { RequestStatus::Closed } else { RequestStatus::Open };
            public_links::set_status(app, token, status).await?;
            Ok(Reply::ok(public_page_json(&public_links::open(app, token).await?)))
        }
        ("POST", "/p/{token}/reply") => {
            let parsed = http::parse_json::<ReplyBody>(req);
            let (email, body) = match parsed {
                Ok(b) => (b.email, Ok(b.body)),
                Err(e) => (String::new(), Err(e)),
            };
            let idempotency = http::idempotency_key(req);
            let (page, posted) = public_links::reply(app, token, &email, None, body, &[], idempotency).await?;
            let mut answer = public_page_json(&page);
            if let requests::Posted::FollowUp(r) = posted {
                // Past the reopen window: the reply opened a new request (its email is on the way).
                answer["follow_up"] = json!(r.key);
            }
            Ok(Reply::created(answer))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

/// The JSON routes of this function: mint and revoke public links (agents).
pub async fn api(app: &App, req: &Request, spec: &RouteSpec, params: &Params) -> Result<Reply, ApiError> {
    let caller = http::caller(req, &app.config);
    let key = params.get("key");
    match spec.method {
        "POST" => {
            let input = if http::body_bytes(req).iter().all(u8::is_ascii_whitespace) {
                Ok(MintInput::default())
            } else {
                http::parse_json::<MintInput>(req)
            };
            let links = public_links::mint(app, &caller, key, input).await?;
            let base = &app.config.public_base_url;
            let items: Vec<_> = links
                .iter()
                .map(|l| {
                    json!({"email": l.email, "url": format!("{base}/p/{}", l.token), "expires_at": text::rfc3339(l.expires_at)})
                })
                .collect();
            Ok(Reply::created(json!({"items": items})))
        }
        "DELETE" => {
            public_links::revoke(app, &caller, key).await?;
            Ok(Reply::no_content())
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}
