//! The customer portal's pages: my requests, a new request, one request with its reply,
//! close, reopen and share forms. Each change comes back with a notice saying what happened.

use crate::page_kit::{chrome, field_error, field_problems, nonce, query, reply_anchor};
use crate::views::{self, render, Row, Tab};
use crate::visitor::{Form, Visitor};
use helpdesk::caller::Caller;
use helpdesk::domain::attachments::uploads;
use helpdesk::domain::{forms, portal};
use helpdesk::http::Reply;
use helpdesk::model::RequestStatus;
use helpdesk::participants::ShareInput;
use helpdesk::requests::{self, ListOptions, NewComment, NewRequest};
use helpdesk::routes::Params;
use helpdesk::{participants, text, ApiError, App};
use lambda_http::Request;

pub(crate) async fn get(app: &App, req: &Request, v: &Visitor, path: &str, params: &Params) -> Result<Reply, ApiError> {
    let caller = helpdesk::http::page_caller(req, &app.config);
    match path {
        "/portal" => portal_home(app, req, v, &caller).await,
        "/portal/new" => {
            let project = query(req, "project").unwrap_or_default();
            let form = query(req, "form");
            new_request_page(app, v, &caller, (&project, form.as_deref()), 200, &Filled::default()).await
        }
        "/portal/requests/{key}" => {
            let done = query(req, "done").unwrap_or_default();
            let page = request_page(app, v, &caller, params.get("key"), |p| p.notice = notice(&done, p)).await?;
            Ok(Reply::html(200, page))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

/// What a page says after `?done=<action>`, in the customer's words.
fn notice(done: &str, page: &views::RequestPage) -> Option<String> {
    Some(match done {
        "created" => format!("Thanks: your request {} was received. We will answer here and by email.", page.key),
        "replied" => "Your reply was sent.".to_string(),
        "closed" => "The request is closed. If you need more help, reply or reopen it.".to_string(),
        "reopened" => "The request is open again.".to_string(),
        "shared" => "Shared: they can see this request now and will get its emails.".to_string(),
        "unshared" => "Removed: they no longer see this request.".to_string(),
        "follow-up" => match &page.follow_up_of {
            Some(old) => format!(
                "{old} was closed a while ago, so your message opened this new request, {}. We will answer here.",
                page.key
            ),
            None => return None,
        },
        _ => return None,
    })
}

pub(crate) async fn post(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    path: &str,
    params: &Params,
    form: &Form,
) -> Result<Reply, ApiError> {
    let key = params.get("key");
    let back = |done: &str| Reply::see_other(format!("/portal/requests/{key}?done={done}"));
    // The portal's forms act only where its pages show (the API's own routes are not gated).
    if path.starts_with("/portal/requests/") {
        portal::require_portal(app, caller, key).await?;
    } else if path == "/portal/requests" {
        portal::new_request_project(app, caller, form.get("project")).await?;
    }
    match path {
        "/portal/requests" => {
            let filled = Filled {
                summary: form.get("summary").into(),
                description: form.get("description").into(),
                values: form.with_prefix("field."),
                problems: vec![],
            };
            let (project, form_id) = (form.get("project"), Some(form.get("form")).filter(|f| !f.is_empty()));
            // A form tab: the page again on that form, with what was typed (no JavaScript).
            if let Some(other) = Some(form.get("switch")).filter(|f| !f.is_empty()) {
                return new_request_page(app, v, caller, (project, Some(other)), 200, &filled).await;
            }
            let input = NewRequest {
                summary: filled.summary.clone(),
                description: filled.description.clone(),
                form: form_id.map(str::to_string),
                fields: filled.values.clone(),
                channel: requests::Channel::Portal,
                follow_up_of: None,
            };
            match requests::create_request(app, caller, project, Ok(input), nonce(form)).await {
                Ok(((_, request), _)) => Ok(Reply::see_other(format!("/portal/requests/{}?done=created", request.key))),
                Err(err) => {
                    let Some(problems) = field_problems(&err) else { return Err(err) };
                    let filled = Filled { problems, ..filled };
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
                Ok((posted, _)) => Ok(Reply::see_other(reply_anchor("/portal/requests", &posted, "?done=replied"))),
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
            Ok(back("closed"))
        }
        "/portal/requests/{key}/reopen" => {
            requests::set_status(app, caller, key, RequestStatus::Open).await?;
            Ok(back("reopened"))
        }
        "/portal/requests/{key}/participants" => {
            let input = ShareInput { emails: vec![form.get("email").to_string()] };
            match participants::share(app, caller, key, Ok(input)).await {
                Ok(_) => Ok(back("shared")),
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
            Ok(back("unshared"))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

/// What the new-request form was filled with, and the error to show next to its field.
#[derive(Default)]
struct Filled {
    summary: String,
    description: String,
    values: std::collections::BTreeMap<String, String>,
    /// Every problem of the last try, in the form's order.
    problems: Vec<helpdesk::error::FieldProblem>,
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
    let (field_inputs, elsewhere) = views::field_inputs(chosen, &filled.values, &filled.problems);
    let message_of = |name: &str| elsewhere.iter().find(|p| p.field == name).map(|p| p.message.clone());
    let (summary_error, description_error) = (message_of("summary"), message_of("description"));
    let has_input = |field: &str| {
        matches!(field, "summary" | "description") || field_inputs.iter().any(|f| field == format!("fields.{}", f.key))
    };
    let problems = views::problem_links(&filled.problems, has_input);
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
        problems,
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
    page.organization = shown.organization.as_ref().map(|o| o.name.clone());
    page.organization_sees = shown.organization_sees;
    adjust(&mut page);
    render(&page)
}
