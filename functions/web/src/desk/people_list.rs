//! The console's people list (`/desk/users`: a project's agents and customers, for its admins,
//! who change agents' roles and remove agents there: `PUT` and `DELETE
//! /projects/{key}/agents/{id}`'s use cases) and the new-project form (`/desk/projects/new`, app
//! admins: `POST /projects`'s use case).

use super::queue::{pager, trail_of};
use super::{desk_chrome, in_place, views::role_name};
use crate::views::{render, Chrome, Tab};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::desk::{self, Person};
use helpdesk::domain::team::{self, AgentPatch};
use helpdesk::http::{self, Reply};
use helpdesk::model::ProjectRole;
use helpdesk::projects::{self, NewProject};
use helpdesk::{ApiError, App};
use lambda_http::Request;

#[derive(Clone)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub suspended: bool,
    /// Whether the reader may open their page (an agent's is the app admin's to see).
    pub linked: bool,
    /// An agent whose role the reader may change, and whom they may remove.
    pub manage: bool,
    pub admin: bool,
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
    pub notice: Option<String>,
    /// A refused change of an agent: their id and why.
    pub error: Option<(String, String)>,
    /// The agent a removal waits on the reader's confirmation for.
    pub removing: Option<PersonRow>,
}

impl UsersPage {
    fn error_for(&self, id: &str) -> Option<&str> {
        self.error.as_ref().filter(|(who, _)| who == id).map(|(_, e)| e.as_str())
    }
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
        // The list is its project's admins' (and app admins'): every agent on it is theirs to manage.
        manage: p.role.is_some(),
        admin: p.role == Some(ProjectRole::Admin),
    }
}

/// Where the people list is: its project, the page's cursor and the pager's trail.
#[derive(Default)]
struct UsersAt {
    project: Option<String>,
    here: Option<String>,
    back: String,
}

pub(super) async fn users_page(app: &App, req: &Request, v: &Visitor, caller: &Caller) -> Result<Reply, ApiError> {
    let param = |name: &str| http::query_param(req, name).map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let at = UsersAt {
        project: param("project").map(|p| p.to_uppercase()),
        here: param("cursor"),
        back: param("back").unwrap_or_default(),
    };
    let (notice, removing) = (param("done").and_then(|d| super::done_message(&d)), param("remove"));
    render_users(app, v, caller, at, 200, |page| {
        page.notice = notice.map(str::to_string);
        // Only an agent on this list can be asked about.
        page.removing = removing.and_then(|id| page.agents.iter().find(|a| a.id == id && a.manage)).cloned();
    })
    .await
}

async fn render_users(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    at: UsersAt,
    status: u16,
    adjust: impl FnOnce(&mut UsersPage),
) -> Result<Reply, ApiError> {
    let UsersAt { project, here, back } = at;
    let listed = desk::people_list(app, caller, project.as_deref(), here.as_deref()).await?;
    let key = listed.project.as_ref().map(|p| p.key.clone()).unwrap_or_default();
    let tabs = listed
        .administered
        .iter()
        .map(|k| Tab { label: k.clone(), href: users_href(k, None), current: *k == key })
        .collect();
    let pages = pager(here.as_deref(), &trail_of(&back), listed.next.as_deref(), |c| users_href(&key, c));
    let app_admin = listed.app_admin;
    let mut page = UsersPage {
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
        notice: None,
        error: None,
        removing: None,
    };
    adjust(&mut page);
    Ok(Reply::html(status, render(&page)?))
}

/// The people list's changes to an agent (`id`): `agent-role` (to `role`) and `agent-remove`
/// (after the list's confirmation). Done: the list again, saying so; refused: the list with
/// the reason next to the agent.
pub(super) async fn agent_action(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    action: &str,
    form: &Form,
) -> Result<Reply, ApiError> {
    let id = form.get("id");
    let result = match action {
        "agent-role" => {
            let role = match form.get("role") {
                "admin" => ProjectRole::Admin,
                "agent" => ProjectRole::Agent,
                _ => return Err(ApiError::bad_request("invalid_role", "role is agent or admin")),
            };
            let patch = AgentPatch { role: Some(role), ..AgentPatch::default() };
            team::update_agent(app, caller, key, id, Ok(patch)).await.map(|_| "agent-role")
        }
        "agent-remove" => team::remove_agent(app, caller, key, id).await.map(|_| "agent-removed"),
        _ => return Err(ApiError::RouteNotFound),
    };
    let err = match result {
        // Off the list's readers (they stepped down or left): to the pages they still have.
        Ok(_) if caller.claimed_user_id() == Some(id) && action == "agent-remove" => {
            return Ok(Reply::see_other("/desk".to_string()))
        }
        Ok(_) if caller.claimed_user_id() == Some(id) && form.get("role") == "agent" => {
            return Ok(Reply::see_other(format!("/desk/projects/{key}")))
        }
        Ok(done) => return Ok(Reply::see_other(format!("{}&done={done}", users_href(key, None)))),
        Err(err) => err,
    };
    let Some(message) = in_place(&err).filter(|_| !matches!(err, ApiError::Forbidden(_))) else { return Err(err) };
    let at = UsersAt { project: Some(key.to_string()), ..UsersAt::default() };
    render_users(app, v, caller, at, err.status(), |page| page.error = Some((id.to_string(), message))).await
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
