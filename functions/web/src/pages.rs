//! Each page: read the query or form, call one use case, render or redirect.

use crate::views::{self, render, Chrome, CommentView, Row, Tab};
use crate::visitor::{Form, Visitor};
use helpdesk::caller::Caller;
use helpdesk::domain::attachments::uploads;
use helpdesk::domain::idempotency::IdempotencyKey;
use helpdesk::domain::public_links::{self, MintInput};
use helpdesk::domain::{attachments, forms, portal};
use helpdesk::http::{self, Reply, ReplyBody};
use helpdesk::model::RequestStatus;
use helpdesk::participants::ShareInput;
use helpdesk::requests::{self, ListOptions, NewComment, NewRequest};
use helpdesk::routes::{Params, RouteSpec};
use helpdesk::web::json::public_page_json;
use helpdesk::{auth, participants, text, ApiError, App};
use lambda_http::Request;
use serde_json::json;

const SITE: &str = "Helpdesk";

pub(crate) fn chrome(v: &Visitor, title: impl Into<String>, site: Option<&str>) -> Chrome {
    Chrome {
        site: site.unwrap_or(SITE).to_string(),
        title: title.into(),
        stylesheet: views::stylesheet_path(),
        signed_in: v.session.is_some(),
        csrf: v.csrf(),
        desk: false,
        search: v.search_action.clone(),
        search_q: String::new(),
    }
}

/// A form's one-time token as an idempotency key: a double-submitted form acts once.
pub(crate) fn nonce(form: &Form) -> Result<Option<IdempotencyKey>, ApiError> {
    match form.get("nonce") {
        "" => Ok(None),
        n => IdempotencyKey::from_header(Some(n.as_bytes())),
    }
}

/// Errors a form can show next to its field instead of on a page of their own.
pub(crate) fn field_error(err: &ApiError) -> Option<String> {
    matches!(err, ApiError::Invalid { .. } | ApiError::BadRequest { .. }).then(|| err.public_message())
}

fn query(req: &Request, name: &str) -> Option<String> {
    http::query_param(req, name)
}

pub async fn page(app: &App, req: &Request, v: &Visitor, spec: &RouteSpec, params: &Params) -> Result<Reply, ApiError> {
    // Pages take the session cookie on every method: their forms carry the CSRF token.
    let caller = http::page_caller(req, &app.config);
    if spec.method == "POST" {
        let form = Form::parse(req).await?;
        v.check_csrf(&form)?;
        if spec.path.starts_with("/desk/") {
            return crate::desk::post(app, v, &caller, spec.path, params, &form).await;
        }
        return post(app, v, &caller, spec.path, params, &form).await;
    }
    if spec.path == "/desk" || spec.path.starts_with("/desk/") {
        return crate::desk::get(app, req, v, spec.path, params).await;
    }
    match spec.path {
        "/" => Ok(Reply::see_other("/portal")),
        "/static/{file}" => {
            let css = views::stylesheet(params.get("file")).ok_or(ApiError::NotFound("file"))?;
            Ok(Reply::new(200, ReplyBody::Text("text/css; charset=utf-8", css.to_string()))
                .with_header("cache-control", "public, max-age=31536000, immutable"))
        }
        "/login" => match query(req, "token") {
            Some(token) => match auth::magic_link_address(app, &token).await? {
                Some(email) => {
                    let page =
                        views::ConfirmPage { chrome: chrome(v, "Sign in", None), token, email: email.to_string() };
                    Ok(Reply::html(200, render(&page)?))
                }
                None => {
                    let expired = "This sign-in link has expired or was already used. Ask for a new one below.";
                    login_page(v, 410, String::new(), None, Some(expired.to_string()))
                }
            },
            None => login_page(v, 200, String::new(), None, None),
        },
        "/portal" => portal_home(app, req, v, &caller).await,
        "/portal/search" => crate::search::portal_page(app, req, v, &caller).await,
        "/portal/new" => {
            let project = query(req, "project").unwrap_or_default();
            let form = query(req, "form");
            new_request_page(app, v, &caller, (&project, form.as_deref()), 200, &Filled::default()).await
        }
        "/portal/requests/{key}" => {
            request_page(app, v, &caller, params.get("key"), |_| {}).await.map(|p| Reply::html(200, p))
        }
        "/csat/{token}" => crate::csat::page(app, req, v, params.get("token")).await,
        "/p/{token}" => {
            let notice = match query(req, "done").as_deref() {
                Some("replied") => Some("Your reply was sent.".to_string()),
                Some("closed") => Some("The request is closed.".to_string()),
                Some("reopened") => Some("The request is open again.".to_string()),
                _ => None,
            };
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

async fn post(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    path: &str,
    params: &Params,
    form: &Form,
) -> Result<Reply, ApiError> {
    let key = params.get("key");
    let back = format!("/portal/requests/{key}");
    // The portal's forms act only where its pages show (the API's own routes are not gated).
    if path.starts_with("/portal/requests/") {
        portal::require_portal(app, caller, key).await?;
    } else if path == "/portal/requests" {
        portal::new_request_project(app, caller, form.get("project")).await?;
    }
    match path {
        "/csat/{token}" => crate::csat::post(app, v, params.get("token"), form).await,
        "/login" => match auth::request_magic_link(app, form.get("email")).await {
            Ok(outcome) => {
                let sent =
                    "If this address can sign in, a link is on its way. Open it on this device within 15 minutes.";
                Ok(login_page(v, 202, form.get("email").into(), None, Some(sent.into()))?
                    .with_outcome(outcome.as_str()))
            }
            Err(err) => match field_error(&err) {
                Some(message) => login_page(v, err.status(), form.get("email").into(), Some(message), None),
                None => Err(err),
            },
        },
        "/login/confirm" => {
            let (token, _, user) = auth::create_session(app, form.get("token")).await?;
            // Agents land in their console, customers in the portal.
            let home = if helpdesk::access::is_staff(&user) { "/desk" } else { "/portal" };
            Ok(Reply::see_other(home).with_header("set-cookie", v.session_cookie(&token)))
        }
        "/logout" => {
            // Signing out always clears the cookie, even when the session had already ended.
            match auth::logout(app, caller).await {
                Ok(()) | Err(ApiError::Unauthorized) => {}
                Err(err) => return Err(err),
            }
            Ok(Reply::see_other("/login").with_header("set-cookie", v.clear_session_cookie()))
        }
        "/portal/requests" => {
            let filled = Filled {
                summary: form.get("summary").into(),
                description: form.get("description").into(),
                values: form.with_prefix("field."),
                error: None,
            };
            let (project, form_id) = (form.get("project"), Some(form.get("form")).filter(|f| !f.is_empty()));
            let input = NewRequest {
                summary: filled.summary.clone(),
                description: filled.description.clone(),
                form: form_id.map(str::to_string),
                fields: filled.values.clone(),
                channel: requests::Channel::Portal,
            };
            match requests::create_request(app, caller, project, Ok(input), nonce(form)).await {
                Ok(((_, request), _)) => Ok(Reply::see_other(format!("/portal/requests/{}", request.key))),
                Err(err) => {
                    let Some(message) = field_error(&err) else { return Err(err) };
                    let filled = Filled { error: Some(message), ..filled };
                    new_request_page(app, v, caller, (project, form_id), err.status(), &filled).await
                }
            }
        }
        "/portal/requests/{key}/comments" => {
            let made = async {
                let attachments = uploads::stage(app, caller, key, form.files()).await?;
                let input =
                    NewComment { body: form.get("body").into(), internal: false, seen_version: None, attachments };
                requests::add_comment(app, caller, key, Ok(input), nonce(form)).await
            };
            match made.await {
                Ok((comment, _)) => Ok(Reply::see_other(format!("{back}#c-{}", comment.id))),
                Err(err) => {
                    let Some(message) = field_error(&err) else { return Err(err) };
                    let body = form.get("body").to_string();
                    let page = request_page(app, v, caller, key, |p| {
                        p.reply_error = Some(message);
                        p.reply_body = body;
                    })
                    .await?;
                    Ok(Reply::html(err.status(), page))
                }
            }
        }
        "/portal/requests/{key}/close" => {
            requests::set_status(app, caller, key, RequestStatus::Closed).await?;
            Ok(Reply::see_other(back))
        }
        "/portal/requests/{key}/reopen" => {
            requests::set_status(app, caller, key, RequestStatus::Open).await?;
            Ok(Reply::see_other(back))
        }
        "/portal/requests/{key}/participants" => {
            let input = ShareInput { emails: vec![form.get("email").to_string()] };
            match participants::share(app, caller, key, Ok(input)).await {
                Ok(_) => Ok(Reply::see_other(back)),
                Err(err) => {
                    let Some(message) = field_error(&err) else { return Err(err) };
                    let value = form.get("email").to_string();
                    let page = request_page(app, v, caller, key, |p| {
                        p.share_error = Some(message);
                        p.share_value = value;
                    })
                    .await?;
                    Ok(Reply::html(err.status(), page))
                }
            }
        }
        "/portal/requests/{key}/participants/remove" => {
            participants::unshare(app, caller, key, form.get("email")).await?;
            Ok(Reply::see_other(back))
        }
        "/p/{token}/close" | "/p/{token}/reopen" => {
            let token = params.get("token");
            let (status, done) = match path {
                "/p/{token}/close" => (RequestStatus::Closed, "closed"),
                _ => (RequestStatus::Open, "reopened"),
            };
            public_links::set_status(app, token, status).await?;
            Ok(Reply::see_other(format!("/p/{token}?done={done}")))
        }
        "/p/{token}/reply" => {
            let token = params.get("token");
            let (email, body) = (form.get("email"), form.get("body"));
            match public_links::reply(app, token, email, Ok(body.to_string()), form.files(), nonce(form)).await {
                Ok(_) => Ok(Reply::see_other(format!("/p/{token}?done=replied"))),
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

fn login_page(
    v: &Visitor,
    status: u16,
    email: String,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Reply, ApiError> {
    Ok(Reply::html(status, render(&views::LoginPage { chrome: chrome(v, "Sign in", None), email, error, notice })?))
}

/// What the new-request form was filled with, and the error to show next to its field.
#[derive(Default)]
struct Filled {
    summary: String,
    description: String,
    values: std::collections::BTreeMap<String, String>,
    /// The domain's message: `fields.<key>: ...`, `description ...`, else the summary's.
    error: Option<String>,
}

/// The new-request page on the chosen form (the project's default unless `form` names
/// another this user may use).
async fn new_request_page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    (project, form): (&str, Option<&str>),
    status: u16,
    filled: &Filled,
) -> Result<Reply, ApiError> {
    let place = portal::new_request_project(app, caller, project).await?;
    let chosen = forms::choose_form(&place.forms, form, place.agent)
        .or_else(|_| forms::choose_form(&place.forms, None, place.agent))?;
    let (field_inputs, elsewhere) = views::field_inputs(chosen, &filled.values, filled.error.as_deref());
    let (summary_error, description_error) = match elsewhere {
        None => (None, None),
        Some(e) if e.starts_with("description") => (None, Some(e)),
        Some(e) => (Some(e), None),
    };
    let name = &place.project.name;
    let page = views::NewRequestPage {
        chrome: chrome(v, format!("New request in {name}"), Some(name)),
        project_key: place.project.key.clone(),
        project_name: name.clone(),
        forms: place.forms.usable_by(place.agent).map(|f| (f.id.clone(), f.name.clone(), f.id == chosen.id)).collect(),
        form_id: chosen.id.clone(),
        form_description: chosen.description.clone(),
        field_inputs,
        nonce: text::new_secret(),
        summary: filled.summary.clone(),
        description: filled.description.clone(),
        summary_error,
        description_error,
    };
    Ok(Reply::html(status, render(&page)?))
}

fn list_href(view: &str, organization: Option<&str>, status: Option<&str>, cursor: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("view", view);
    for (name, value) in [("organization", organization), ("status", status), ("cursor", cursor)] {
        if let Some(value) = value {
            q.append_pair(name, value);
        }
    }
    format!("/portal?{}", q.finish())
}

async fn portal_home(app: &App, req: &Request, v: &Visitor, caller: &Caller) -> Result<Reply, ApiError> {
    let options = ListOptions {
        view: query(req, "view"),
        organization: query(req, "organization"),
        status: query(req, "status"),
        cursor: query(req, "cursor"),
        ..ListOptions::default()
    };
    let home = portal::home(app, caller, &options).await?;
    let view = options.view.clone().unwrap_or_else(|| "all".into());
    let (org, status) = (options.organization.as_deref(), options.status.as_deref());
    let mut tabs = vec![("All", "all"), ("Mine", "mine"), ("Participating", "participating")];
    if !home.organizations.is_empty() {
        tabs.push(("Organization", "organization"));
    }
    let org_name = |id: &str| home.organizations.iter().find(|o| o.id == id).map(|o| o.name.clone());
    let rows: Vec<Row> = home
        .page
        .items
        .iter()
        .map(|(_, r)| Row {
            key: r.key.clone(),
            summary: r.summary.clone(),
            status: views::CustomerStatus(r.status),
            project: r.project.clone(),
            reporter: r.reporter_email.to_string(),
            organization: r.organization.as_deref().map(|o| org_name(o).unwrap_or_else(|| o.to_string())),
            updated: views::when(r.updated_at),
        })
        .collect();
    let empty_message = rows.is_empty().then(|| {
        if home.hidden {
            "Requests of projects whose customer portal is turned off are not shown here.".to_string()
        } else if home.projects.is_empty() && options.cursor.is_none() {
            "You have no requests in a project with the customer portal turned on. Write to your support address to open one.".to_string()
        } else {
            "No requests in this view.".to_string()
        }
    });
    let page = views::PortalPage {
        chrome: chrome(v, "My requests", None),
        view: view.clone(),
        tabs: tabs
            .into_iter()
            .map(|(label, value)| Tab {
                label: label.into(),
                href: list_href(value, org, status, None),
                current: view == value,
            })
            .collect(),
        organizations: home
            .organizations
            .iter()
            .map(|o| (o.id.clone(), o.name.clone(), org == Some(o.id.as_str())))
            .collect(),
        statuses: [("", "Any status"), ("open", "Open"), ("pending", "Waiting for your reply"), ("closed", "Closed")]
            .into_iter()
            .map(|(value, label)| (value, label, status.unwrap_or("") == value))
            .collect(),
        rows,
        next_href: home.page.next_cursor.as_deref().map(|c| list_href(&view, org, status, Some(c))),
        empty_message,
        projects: home.projects.iter().map(|p| (p.key.clone(), p.name.clone())).collect(),
    };
    Ok(Reply::html(200, render(&page)?))
}

async fn request_page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    adjust: impl FnOnce(&mut views::RequestPage),
) -> Result<String, ApiError> {
    let shown = portal::request_page(app, caller, key).await?;
    let r = &shown.detail.request;
    let chrome = chrome(v, format!("{}: {}", r.key, r.summary), Some(&shown.project.name));
    let mut page = views::RequestPage::new(chrome, &shown.detail, shown.may_change);
    let files = shown.detail.attachments.iter().map(views::FileView::from).collect();
    page.files = views::place_files(&mut page.comments, files);
    page.form_name = shown.form_name.clone();
    page.fields = shown.fields.clone();
    page.rating_url = shown.rating_token.as_ref().map(|t| format!("/csat/{t}"));
    adjust(&mut page);
    render(&page)
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
            let page = public_links::reply(app, token, &email, body, &[], http::idempotency_key(req)).await?;
            Ok(Reply::created(public_page_json(&page)))
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

/// The page for an error: sign-in for a missing session, otherwise what happened.
pub fn error_page(v: &Visitor, err: &ApiError, desk: bool) -> Reply {
    let (heading, message) = match err {
        ApiError::Unauthorized => {
            let notice = "Sign in to continue.".to_string();
            return login_page(v, 401, String::new(), None, Some(notice))
                .unwrap_or_else(|_| Reply::html(401, "Sign in at /login".into()));
        }
        ApiError::NotFound(_) | ApiError::RouteNotFound => {
            ("Not found", "This page does not exist, or you may not see it. If someone sent you a link, it may have expired or been revoked.".to_string())
        }
        ApiError::Refused { code: "csrf_failed", .. } => ("This form has expired", err.public_message()),
        ApiError::Forbidden(_) | ApiError::Refused { .. } => ("Not allowed", err.public_message()),
        ApiError::MethodNotAllowed => ("Not allowed", "This page cannot be used that way.".to_string()),
        ApiError::StorageUnavailable => ("Please try again", "The helpdesk is busy right now. Try again in a moment.".to_string()),
        ApiError::Internal(_) => ("Something went wrong", "Something went wrong on our side. Try again in a moment.".to_string()),
        _ => ("That did not work", err.public_message()),
    };
    // A console page's error leads back to the console (a customer there gets the 403 page,
    // which leads to their own requests).
    let in_desk = desk && !matches!(err, ApiError::Forbidden(_));
    let (back, back_label) = match (v.session.is_some(), in_desk) {
        (false, _) => ("/login", "Sign in"),
        (true, true) => ("/desk", "Back to the console"),
        (true, false) => ("/portal", "Back to my requests"),
    };
    let page = views::ErrorPage {
        chrome: views::Chrome { desk: in_desk, ..chrome(v, heading, None) },
        heading: heading.to_string(),
        message,
        back,
        back_label,
    };
    match render(&page) {
        Ok(html) => Reply::html(err.status(), html),
        Err(_) => Reply::html(err.status(), heading.to_string()),
    }
}
