//! The console's people list (`/desk/users`: a project's agents and customers, for its admins)
//! and the new-project form (`/desk/projects/new`, app admins: `POST /projects`'s use case).

use super::queue::{pager, trail_of};
use super::{desk_chrome, in_place, views::role_name};
use crate::views::{render, Chrome, Tab};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::desk::{self, Person};
use helpdesk::http::{self, Reply};
use helpdesk::projects::{self, NewProject};
use helpdesk::{ApiError, App};
use lambda_http::Request;

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub suspended: bool,
    /// Whether the reader may open their page (an agent's is the app admin's to see).
    pub linked: bool,
}

#[derive(Template)]
#[template(path = "desk/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    /// The projects the reader administers (one tab each).
    pub tabs: Vec<Tab>,
    pub app_admin: bool,
    pub project_key: String,
    pub project_name: String,
    pub agents: Vec<PersonRow>,
    pub customers: Vec<PersonRow>,
    /// Whether this is the first page (the agents show there).
    pub first: bool,
    pub newer_href: Option<String>,
    pub next_href: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/new_project.html")]
pub struct NewProjectPage {
    pub chrome: Chrome,
    pub key: String,
    pub name: String,
    pub support_address: String,
    /// The field the error is about (`key`, `name`, `support_address`) and the error.
    pub error: Option<(&'static str, String)>,
}

impl NewProjectPage {
    fn error_in(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| *f == field).map(|(_, e)| e.as_str())
    }
}

fn users_href(project: &str, cursor: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("project", project);
    if let Some(c) = cursor {
        q.append_pair("cursor", c);
    }
    format!("/desk/users?{}", q.finish())
}

fn row(p: Person, linked: bool) -> PersonRow {
    PersonRow {
        id: p.user_id,
        name: p.name.unwrap_or_default(),
        email: p.email.to_string(),
        role: p.role.map(role_name).unwrap_or("Customer"),
        suspended: p.suspended,
        linked,
    }
}

pub(super) async fn users_page(app: &App, req: &Request, v: &Visitor, caller: &Caller) -> Result<Reply, ApiError> {
    let param = |name: &str| http::query_param(req, name).map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let (project, here) = (param("project").map(|p| p.to_uppercase()), param("cursor"));
    let listed = desk::people_list(app, caller, project.as_deref(), here.as_deref()).await?;
    let key = listed.project.as_ref().map(|p| p.key.clone()).unwrap_or_default();
    let tabs = listed
        .administered
        .iter()
        .map(|k| Tab { label: k.clone(), href: users_href(k, None), current: *k == key })
        .collect();
    let back = param("back").unwrap_or_default();
    let pages = pager(here.as_deref(), &trail_of(&back), listed.next.as_deref(), |c| users_href(&key, c));
    let app_admin = listed.app_admin;
    let page = UsersPage {
        chrome: desk_chrome(v, "People"),
        tabs,
        app_admin,
        project_name: listed.project.map(|p| p.name).unwrap_or_default(),
        agents: listed.agents.into_iter().map(|p| row(p, app_admin)).collect(),
        customers: listed.customers.into_iter().map(|p| row(p, true)).collect(),
        first: here.is_none(),
        newer_href: pages.newer,
        next_href: pages.older,
        project_key: key,
    };
    Ok(Reply::html(200, render(&page)?))
}

/// `/desk/projects/new` is no project's page: no header search of a project `new`.
fn new_project_chrome(v: &Visitor) -> Chrome {
    Chrome { search: None, ..desk_chrome(v, "New project") }
}

pub(super) async fn new_project_page(app: &App, v: &Visitor, caller: &Caller) -> Result<Reply, ApiError> {
    desk::require_app_admin(app, caller).await?;
    let page = NewProjectPage {
        chrome: new_project_chrome(v),
        key: String::new(),
        name: String::new(),
        support_address: String::new(),
        error: None,
    };
    Ok(Reply::html(200, render(&page)?))
}

/// The form's `POST /projects`: on success the new project's settings, with a notice; a
/// refusal comes back next to its field, with what was typed.
pub(super) async fn create_project(app: &App, v: &Visitor, caller: &Caller, form: &Form) -> Result<Reply, ApiError> {
    let (key, name, address) =
        (form.get("key").trim().to_string(), form.get("name").to_string(), form.get("support_address").trim());
    let input = NewProject {
        key: key.clone(),
        name: name.clone(),
        support_address: Some(address.to_string()).filter(|a| !a.is_empty()),
    };
    let err = match projects::create_project(app, caller, Ok(input)).await {
        Ok(project) => {
            return Ok(Reply::see_other(format!("/desk/projects/{}/settings?done=project-created", project.key)))
        }
        Err(err) => err,
    };
    // Not an app admin: the 403 page, not a form to try again.
    let Some(message) = in_place(&err).filter(|_| !matches!(err, ApiError::Forbidden(_))) else { return Err(err) };
    let message = match err.code() {
        "project_exists" => format!("Another project already has the key {key}: choose another."),
        _ => message,
    };
    let field = match err.code() {
        "invalid_project_key" | "project_exists" => "key",
        "invalid_field" => "name",
        _ => "support_address",
    };
    let page = NewProjectPage {
        chrome: new_project_chrome(v),
        key,
        name,
        support_address: address.to_string(),
        error: Some((field, message)),
    };
    Ok(Reply::html(err.status(), render(&page)?))
}
