//! What the agent console's pages read, each in one call. They go through the same loaders
//! and `access` rules as the API routes; what a page changes, it changes through the route's
//! own use case (see the web function's `desk` module).

use crate::domain::access::{is_staff, require_agent};
use crate::domain::caller::{resolve, Caller};
use crate::domain::forms::forms_of;
use crate::domain::macros::macros_of;
use crate::domain::organizations::read_organizations;
use crate::domain::requests::{get_request_with, queue_with_project, ListOptions, RequestDetail, RequestPage};
use crate::error::ApiError;
use crate::items::{project_forms_key, project_key, project_macros_key};
use crate::model::{Organization, Project, ProjectForms, ProjectMacros, ProjectRole, Record, User};
use crate::App;

/// The console's first page: the projects the agent works on.
#[derive(Debug)]
pub struct DeskHome {
    pub user: User,
    /// By name, with the agent's role in each.
    pub projects: Vec<(Project, ProjectRole)>,
}

/// The console's door: staff only (a customer gets 403), checked before a console form
/// changes anything. Each use case then applies its own rule, as through the API.
pub async fn require_staff(app: &App, caller: &Caller) -> Result<User, ApiError> {
    let (actor, _) = resolve(app, caller, &[]).await?;
    if !is_staff(&actor.user) {
        return Err(ApiError::forbidden("the agent console is for agents"));
    }
    Ok(actor.user)
}

pub async fn home(app: &App, caller: &Caller) -> Result<DeskHome, ApiError> {
    let user = require_staff(app, caller).await?;
    let keys: Vec<_> = user.project_roles.keys().map(|k| project_key(k)).collect();
    let records = if keys.is_empty() { vec![] } else { app.store.get_many(&keys).await? };
    let mut projects: Vec<_> = records
        .into_iter()
        .filter_map(|r| match r {
            Record::Project(p) => {
                let role = user.project_roles.get(&p.key).copied()?;
                Some((p, role))
            }
            _ => None,
        })
        .collect();
    projects.sort_by_cached_key(|(p, _)| (p.name.to_lowercase(), p.key.clone()));
    Ok(DeskHome { user, projects })
}

/// A queue page: `list_queue` (same options, same rules) with the project and its
/// organizations, to name them.
#[derive(Debug)]
pub struct DeskQueue {
    pub project: Project,
    pub page: RequestPage,
    pub organizations: Vec<Organization>,
}

pub async fn queue(app: &App, caller: &Caller, project: &str, options: &ListOptions) -> Result<DeskQueue, ApiError> {
    let (listed, orgs) =
        tokio::join!(queue_with_project(app, caller, project, options), read_organizations(app, project));
    let (project, page) = listed?;
    Ok(DeskQueue { project, page, organizations: orgs? })
}

/// A request as the console shows it: the whole thread (internal notes too), and what the
/// agent can do to it: the project's macros, forms and organizations.
#[derive(Debug)]
pub struct DeskRequest {
    pub detail: RequestDetail,
    pub project: Project,
    pub user: User,
    pub macros: ProjectMacros,
    pub forms: ProjectForms,
    pub organizations: Vec<Organization>,
}

/// Agents of the request's project only: anyone else who may see it (its reporter) gets 403,
/// anyone who may not gets 404, as on every path.
pub async fn request_page(app: &App, caller: &Caller, key: &str) -> Result<DeskRequest, ApiError> {
    let project = crate::items::project_of(key).unwrap_or_default();
    let extra = |p: &str| vec![project_macros_key(p), project_forms_key(p)];
    let (read, orgs) = tokio::join!(get_request_with(app, caller, key, extra), read_organizations(app, project));
    let (detail, project, user, records) = read?;
    require_agent(&user, &project.key)?;
    Ok(DeskRequest {
        macros: macros_of(&project.key, &records),
        forms: forms_of(&project.key, &records),
        organizations: orgs?,
        detail,
        project,
        user,
    })
}
