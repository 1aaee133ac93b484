//! What the agent console's pages read, each in one call. They go through the same loaders
//! and `access` rules as the API routes; what a page changes, it changes through the route's
//! own use case (see the web function's `desk` module).

use crate::domain::access::{is_agent, is_project_admin, is_staff, require_agent};
use crate::domain::caller::{load_project, resolve, Caller};
use crate::domain::forms::forms_of;
use crate::domain::macros::macros_of;
use crate::domain::moderation::{audit_trail, AuditTrail};
use crate::domain::organizations::read_organizations;
use crate::domain::requests::{get_request_with, queue_with_project, ListOptions, RequestDetail, RequestPage};
use crate::error::ApiError;
use crate::items::{
    held_partition, managed_domains_key, project_forms_key, project_key, project_macros_key, queue_status_partition,
    reporter_partition, viewing_key,
};
use crate::model::{
    Organization, Project, ProjectForms, ProjectMacros, ProjectRole, ProjectTeam, Record, Request, RequestStatus, User,
    Viewing,
};
use crate::store::Query;
use crate::store::{Condition, Write};
use crate::table::Index;
use crate::App;
use std::collections::{BTreeMap, BTreeSet};

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
    /// How many requests each bounded tab holds ("open", "pending", "held"), at most
    /// `QUEUE_COUNT_CAP` each; closed (which only grows) is not counted.
    pub counts: Vec<(&'static str, usize)>,
    /// Keys of the page's requests with activity since the agent last opened them (or never
    /// opened, when newer than `SEEN_KEEP_SECS`).
    pub unseen: BTreeSet<String>,
    /// The names the page's reporters gave, by user id (those without one are not here).
    pub reporter_names: BTreeMap<String, String>,
}

/// The most a tab's count reads: past it the tab says "500+" (a count reads what a list of
/// that many would, so this bounds a page view's cost).
pub const QUEUE_COUNT_CAP: usize = 500;

pub async fn queue(app: &App, caller: &Caller, project: &str, options: &ListOptions) -> Result<DeskQueue, ApiError> {
    let (listed, orgs) =
        tokio::join!(queue_with_project(app, caller, project, options), read_organizations(app, project));
    let (project, page) = listed?;
    // Counted once the caller is known to be the project's agent (the list checked it).
    let partitions = [
        queue_status_partition(&project.key, RequestStatus::Open),
        queue_status_partition(&project.key, RequestStatus::Pending),
        held_partition(&project.key),
    ];
    let me = caller.require_claim()?;
    // With the marks, the reporters' accounts (their names): one BatchGet.
    let reporters: BTreeSet<_> = page.items.iter().map(|(_, r)| r.reporter_id.as_str()).collect();
    let seen_keys: Vec<_> = page
        .items
        .iter()
        .map(|(_, r)| viewing_key(&r.key, me))
        .chain(reporters.iter().map(|id| crate::items::user_key(id)))
        .collect();
    let (counted, seen) = tokio::try_join!(
        futures::future::try_join_all(partitions.iter().map(|partition| app.store.count(
            Index::Gsi3,
            partition,
            QUEUE_COUNT_CAP
        )),),
        async {
            if seen_keys.is_empty() {
                Ok(vec![])
            } else {
                app.store.get_many(&seen_keys).await
            }
        },
    )?;
    let unseen = unseen_of(&page, &seen, app.now());
    let reporter_names = seen
        .iter()
        .filter_map(|r| match r {
            Record::User(u) => Some((u.id.clone(), u.name.clone().filter(|n| !n.trim().is_empty())?)),
            _ => None,
        })
        .collect();
    let (open, pending, held) = (counted[0], counted[1], counted[2]);
    let counts = vec![("open", open), ("pending", pending), ("held", held)];
    Ok(DeskQueue { project, page, organizations: orgs?, counts, unseen, reporter_names })
}

/// The requests of `page` changed since the agent last opened them (`seen`: their `Viewing`
/// items; any change, a colleague's note or assignment too), or, never opened or not for
/// `SEEN_KEEP_SECS`, changed within that time.
fn unseen_of(page: &RequestPage, seen: &[Record], now: i64) -> BTreeSet<String> {
    let seen_version = |key: &str| {
        seen.iter().find_map(|r| match r {
            Record::Viewing(v) if v.request_key == key => Some(v.seen_version),
            _ => None,
        })
    };
    page.items
        .iter()
        .filter(|(_, r)| match seen_version(&r.key) {
            Some(version) => r.version > version,
            None => r.activity_at() > now - SEEN_KEEP_SECS,
        })
        .map(|(_, r)| r.key.clone())
        .collect()
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
    /// The project's agents: who the request may be assigned to.
    pub team: ProjectTeam,
    /// Other agents who opened it in the last two minutes (names, else addresses).
    pub viewers: Vec<String>,
    /// When it was read: its clocks are shown relative to this.
    pub now: i64,
}

/// How long an agent counts as looking at a request after opening it.
pub const VIEWING_SECS: i64 = 120;
/// How long the console remembers that an agent opened a request: activity on a request
/// not opened for this long, or never, is marked only when it is newer than this.
pub const SEEN_KEEP_SECS: i64 = 30 * 86_400;

/// Agents of the request's project only: anyone else who may see it (its reporter) gets 403,
/// anyone who may not gets 404, as on every path.
pub async fn request_page(app: &App, caller: &Caller, key: &str) -> Result<DeskRequest, ApiError> {
    let project = crate::items::project_of(key).unwrap_or_default();
    let extra = |p: &str| vec![project_macros_key(p), project_forms_key(p), crate::domain::team::team_key(p)];
    // One item per agent who opened it in the last 30 days (a team's worth): those who opened
    // it in the last two minutes are looking.
    let viewing = Query::partition(Index::Table, crate::items::viewing_partition(key), 200);
    let (read, orgs, looking) = tokio::join!(
        get_request_with(app, caller, key, extra),
        read_organizations(app, project),
        app.store.query(&viewing)
    );
    let (detail, project, user, records) = read?;
    require_agent(&user, &project.key)?;
    let now = app.now();
    let viewers = looking?.keep(|r| match r {
        Record::Viewing(v) if v.user_id != user.id && v.seen_at + VIEWING_SECS > now => {
            Some(v.name.unwrap_or(v.email.to_string()))
        }
        _ => None,
    });
    // This agent is looking now too, and has seen it as it is (an unconditional PutItem;
    // TTL removes it).
    let me = Viewing {
        request_key: detail.request.key.clone(),
        user_id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        seen_at: now,
        seen_version: detail.request.version,
        expires_at: now + SEEN_KEEP_SECS,
    };
    app.store.transact(vec![Write::Put { record: Record::Viewing(me), condition: Condition::None }]).await?;
    let team = match crate::domain::team::team_in(&records, &project.key) {
        Some(team) => team,
        None => crate::domain::team::load_team(app, &project.key).await?,
    };
    Ok(DeskRequest {
        now,
        viewers,
        team,
        macros: macros_of(&project.key, &records),
        forms: forms_of(&project.key, &records),
        organizations: orgs?,
        detail,
        project,
        user,
    })
}

/// A project's settings page: the project, and its forms and macros (agents read it; only
/// its admins may change it, which the same `update_project`, `save_form` and `save_macro` as
/// the API decide).
#[derive(Debug)]
pub struct DeskSettings {
    pub project: Project,
    pub admin: bool,
    pub forms: ProjectForms,
    pub macros: ProjectMacros,
}

pub async fn settings(app: &App, caller: &Caller, key: &str) -> Result<DeskSettings, ApiError> {
    let extra = [project_forms_key(key), project_macros_key(key)];
    let (actor, project, records) = load_project(app, caller, key, &extra).await?;
    require_agent(&actor.user, &project.key)?;
    Ok(DeskSettings {
        admin: is_project_admin(&actor.user, &project.key),
        forms: forms_of(&project.key, &records),
        macros: macros_of(&project.key, &records),
        project,
    })
}

/// A project's customers-and-organizations page: its organizations and the managed domains
/// (where only app admins may create accounts: the page says so next to the form). Like
/// `GET /admin/managed-domains`, only an app admin reads the list; others learn whether
/// there is one.
#[derive(Debug)]
pub struct DeskPeople {
    pub project: Project,
    pub organizations: Vec<Organization>,
    pub managed_domains: Vec<String>,
    pub has_managed_domains: bool,
    pub app_admin: bool,
}

pub async fn people(app: &App, caller: &Caller, key: &str) -> Result<DeskPeople, ApiError> {
    let extra = [managed_domains_key()];
    let (loaded, orgs) = tokio::join!(load_project(app, caller, key, &extra), read_organizations(app, key));
    let (actor, project, records) = loaded?;
    require_agent(&actor.user, &project.key)?;
    let managed_domains = records
        .iter()
        .find_map(|r| match r {
            Record::ManagedDomains(m) => Some(m.domains.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let app_admin = actor.user.app_admin;
    Ok(DeskPeople {
        project,
        organizations: orgs?,
        has_managed_domains: !managed_domains.is_empty(),
        managed_domains: if app_admin { managed_domains } else { vec![] },
        app_admin,
    })
}

/// Requests a user page lists: the newest the user reported.
const USER_REQUESTS_SHOWN: usize = 25;

/// A user as their moderator sees them: the account, its audit trail (the moderation rule
/// decides who may), and the newest requests they reported in projects the moderator works on.
#[derive(Debug)]
pub struct DeskUser {
    pub trail: AuditTrail,
    pub requests: Vec<Request>,
}

pub async fn user_page(app: &App, caller: &Caller, user_id: &str) -> Result<DeskUser, ApiError> {
    let mut query = Query::partition(Index::Gsi1, reporter_partition(user_id), USER_REQUESTS_SHOWN);
    query.newest_first = true;
    let (trail, reported) = tokio::join!(audit_trail(app, caller, user_id), app.store.query(&query));
    let trail = trail?;
    let requests = reported?.keep(|r| match r {
        Record::Request(r) if r.reporter_id == user_id && is_agent(&trail.moderator, &r.project) => Some(r),
        _ => None,
    });
    Ok(DeskUser { trail, requests })
}

/// Customers a page of the people list shows.
pub const PEOPLE_PAGE: usize = 25;

/// Someone on a project's people list, as their account says now.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub user_id: String,
    pub email: crate::model::EmailAddress,
    pub name: Option<String>,
    /// Their role on the team; None: a customer.
    pub role: Option<ProjectRole>,
    pub suspended: bool,
}

/// The console's people list: a project's agents (all, on the first page) and a page of its
/// customers, for its admins; the projects the reader may list, to choose another.
#[derive(Debug)]
pub struct DeskPeopleList {
    /// None: an app admin who administers no project yet (they name one to list).
    pub project: Option<Project>,
    pub agents: Vec<Person>,
    pub customers: Vec<Person>,
    /// The last customer shown, when more follow: the next page's cursor.
    pub next: Option<String>,
    /// The projects the reader administers, by key.
    pub administered: Vec<String>,
    pub app_admin: bool,
}

/// A project's people for its admins (anyone else gets 403, an unknown project 404). Without
/// a project, the first the reader administers. Customers come in user id order,
/// `PEOPLE_PAGE` at a time after `after` (one Query of the project's `CUSTOMER#` items, read
/// one beyond the page to know whether more follow), then one BatchGet of the accounts shown.
pub async fn people_list(
    app: &App,
    caller: &Caller,
    project: Option<&str>,
    after: Option<&str>,
) -> Result<DeskPeopleList, ApiError> {
    let administered = |user: &User| -> Vec<String> {
        user.project_roles.iter().filter(|(_, r)| **r == ProjectRole::Admin).map(|(k, _)| k.clone()).collect()
    };
    let key = match project {
        Some(key) => key.to_string(),
        // No project named: the first the reader administers (one read of the caller).
        None => {
            let user = require_staff(app, caller).await?;
            let mine = administered(&user);
            match mine.first() {
                Some(key) => key.clone(),
                None if user.app_admin => {
                    let (agents, customers, next) = (vec![], vec![], None);
                    return Ok(DeskPeopleList {
                        project: None,
                        agents,
                        customers,
                        next,
                        administered: mine,
                        app_admin: true,
                    });
                }
                None => return Err(ApiError::forbidden("the people list is for project admins")),
            }
        }
    };
    let start = crate::items::project_customers_after(&key, after);
    let query = Query { after: Some(start.sk), ..Query::partition(Index::Table, start.pk, PEOPLE_PAGE + 1) };
    let extra = [crate::items::project_team_key(&key)];
    let (loaded, listed) = tokio::join!(load_project(app, caller, &key, &extra), app.store.query(&query));
    let (actor, project, records) = loaded?;
    if !is_staff(&actor.user) {
        return Err(ApiError::forbidden("the agent console is for agents"));
    }
    crate::domain::access::require_project_admin(&actor.user, &project.key)?;
    let mut list = DeskPeopleList {
        project: None,
        agents: vec![],
        customers: vec![],
        next: None,
        administered: administered(&actor.user),
        app_admin: actor.user.app_admin,
    };
    // The partition goes on past its customers (`FORMS`, ...): the list stops at the first.
    let mut customers: Vec<_> = listed?
        .records
        .into_iter()
        .map_while(|r| match r {
            Record::ProjectCustomer(c) => {
                Some(Person { user_id: c.user_id, email: c.email, name: None, role: None, suspended: false })
            }
            _ => None,
        })
        .collect();
    if customers.len() > PEOPLE_PAGE {
        customers.truncate(PEOPLE_PAGE);
        list.next = customers.last().map(|c| c.user_id.clone());
    }
    if after.is_none() {
        let team = match crate::domain::team::team_in(&records, &project.key) {
            Some(team) => team,
            None => crate::domain::team::load_team(app, &project.key).await?,
        };
        list.agents = team
            .agents
            .into_iter()
            .map(|(id, a)| Person { user_id: id, email: a.email, name: a.name, role: Some(a.role), suspended: false })
            .collect();
        list.agents.sort_by_cached_key(|a| a.email.to_string());
    }
    // Names and suspensions live on the accounts.
    let keys: Vec<_> = list.agents.iter().chain(&customers).map(|p| crate::items::user_key(&p.user_id)).collect();
    let accounts = if keys.is_empty() { vec![] } else { app.store.get_many(&keys).await? };
    for person in list.agents.iter_mut().chain(customers.iter_mut()) {
        let account = accounts.iter().find_map(|r| match r {
            Record::User(u) if u.id == person.user_id => Some(u),
            _ => None,
        });
        if let Some(u) = account {
            person.name = u.name.clone().or(person.name.take());
            person.suspended = u.suspended;
        }
    }
    list.customers = customers;
    list.project = Some(project);
    Ok(list)
}

/// The console's new-project form: app admins only, like `POST /projects`.
pub async fn require_app_admin(app: &App, caller: &Caller) -> Result<User, ApiError> {
    let user = require_staff(app, caller).await?;
    crate::domain::access::require_app_admin(&user, "create projects")?;
    Ok(user)
}
