//! The project's team item: its agents, their availability, notification choice and load.
//! Written where membership changes and, for loads, in the same transaction as every change
//! of a request that moves one (a new request's automatic claim is its own atomic update).

use crate::domain::access::{is_project_admin, require_agent};
use crate::domain::caller::{load_project, Caller};
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{project_team_key, ItemKey};
use crate::model::{NotifyLevel, ProjectMember, ProjectRole, ProjectTeam, Record, Request, TeamMember};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::App;
use serde::Deserialize;

/// The team among records read with `project_team_key`.
pub(crate) fn team_in(records: &[Record], project: &str) -> Option<ProjectTeam> {
    records.iter().find_map(|r| match r {
        Record::ProjectTeam(t) if t.project == project => Some(t.clone()),
        _ => None,
    })
}

/// The project's team. A project that never stored one (made before teams were kept) gets
/// one from its member items, stored at once so every later change orders on its version.
pub(crate) async fn load_team(app: &App, project: &str) -> Result<ProjectTeam, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        if let Some(Record::ProjectTeam(team)) = app.store.get(&project_team_key(project)).await? {
            return Ok(team);
        }
        let mut team =
            ProjectTeam { project: project.to_string(), agents: Default::default(), last_assigned: None, version: 1 };
        for member in members(app, project).await? {
            team.agents.insert(member.user_id.clone(), new_member(&member.email, None, member.role));
        }
        let write = Write::Put { record: Record::ProjectTeam(team.clone()), condition: Condition::NotExists };
        match app.store.transact(vec![write]).await {
            Ok(()) => return Ok(team),
            // Built at the same moment elsewhere: read that one.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The project's member items: its partition from `MEMBER#` on, up to `META` (which sorts
/// right after them), so its customers are never read.
async fn members(app: &App, project: &str) -> Result<Vec<ProjectMember>, ApiError> {
    let pk = crate::items::project_key(project).pk;
    let mut found = vec![];
    let mut after = Some("MEMBER#".to_string());
    loop {
        let query = Query { after, ..Query::partition(Index::Table, pk.clone(), 100) };
        let page = app.store.query(&query).await?;
        let mut done = page.last_sort_key.is_none();
        for record in page.records {
            match record {
                Record::ProjectMember(m) => found.push(m),
                _ => done = true,
            }
        }
        if done {
            return Ok(found);
        }
        after = page.last_sort_key;
    }
}

pub(super) fn new_member(email: &crate::model::EmailAddress, name: Option<String>, role: ProjectRole) -> TeamMember {
    TeamMember {
        email: email.clone(),
        name,
        role,
        available: true,
        notify: NotifyLevel::default(),
        requests: Default::default(),
    }
}

/// The agent whose load a request counts toward: its assignee while it is open or pending.
fn load_of(request: &Request) -> Option<&str> {
    request.assignee.as_ref().filter(|_| request.status.is_active()).map(|a| a.id.as_str())
}

/// Whether a change of a request moves an agent's load.
pub(crate) fn moves_load(before: &Request, after: &Request) -> bool {
    load_of(before) != load_of(after)
}

/// The team item, if the project has one (GetItem).
pub(crate) async fn read_team(app: &App, project: &str) -> Result<Option<ProjectTeam>, ApiError> {
    Ok(match app.store.get(&project_team_key(project)).await? {
        Some(Record::ProjectTeam(team)) => Some(team),
        _ => None,
    })
}

/// The write, for the change's own transaction, that moves the loads as `before` -> `after`
/// does: the request's id leaves one agent's set and joins another's. Agents not on the team
/// (an app admin who is no member) carry no load. None when nothing moves.
pub(crate) fn load_write(team: Option<&ProjectTeam>, before: &Request, after: &Request) -> Option<Write> {
    let on_team = |agent: &&str| team.is_some_and(|t| t.agents.contains_key(*agent));
    let (from, to) = (load_of(before).filter(on_team), load_of(after).filter(on_team));
    if from == to {
        return None;
    }
    let id = &after.id;
    Some(Write::MoveLoads {
        project: after.project.clone(),
        add: to.map(|a| (a.to_string(), id.clone())).into_iter().collect(),
        remove: from.map(|a| (a.to_string(), id.clone())).into_iter().collect(),
    })
}

/// The writes that take `closing` (requests about to be closed together, of any projects) out
/// of their agents' loads: one per project, for the closing transaction.
pub(crate) async fn release_writes(app: &App, closing: &[Request]) -> Result<Vec<Write>, ApiError> {
    let mut projects: Vec<&str> = closing.iter().filter(|r| load_of(r).is_some()).map(|r| r.project.as_str()).collect();
    projects.sort();
    projects.dedup();
    if projects.is_empty() {
        return Ok(vec![]);
    }
    let keys: Vec<_> = projects.iter().map(|p| project_team_key(p)).collect();
    let teams: Vec<ProjectTeam> = app
        .store
        .get_many(&keys)
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::ProjectTeam(t) => Some(t),
            _ => None,
        })
        .collect();
    Ok(teams
        .iter()
        .filter_map(|team| {
            let remove: Vec<(String, String)> = closing
                .iter()
                .filter(|r| r.project == team.project)
                .filter_map(|r| {
                    load_of(r).filter(|a| team.agents.contains_key(*a)).map(|a| (a.to_string(), r.id.clone()))
                })
                .collect();
            (!remove.is_empty()).then(|| Write::MoveLoads { project: team.project.clone(), add: vec![], remove })
        })
        .collect())
}

/// Replaces the team when nobody changed it since `before` was read.
pub(super) fn team_write(before: &ProjectTeam, mut next: ProjectTeam) -> Write {
    next.version = before.version + 1;
    Write::Put { record: Record::ProjectTeam(next), condition: Condition::VersionIs(before.version) }
}

/// Applies `change` to the team under optimistic locking (a membership change, an agent's
/// settings); `change` returns false when there is nothing to write.
pub(crate) async fn change_team(
    app: &App,
    project: &str,
    change: impl Fn(&mut ProjectTeam) -> Result<bool, ApiError>,
) -> Result<ProjectTeam, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let team = load_team(app, project).await?;
        let mut next = team.clone();
        if !change(&mut next)? {
            return Ok(team);
        }
        let write = team_write(&team, next);
        let Write::Put { record: Record::ProjectTeam(written), .. } = &write else { unreachable!() };
        let written = written.clone();
        match app.store.transact(vec![write]).await {
            Ok(()) => return Ok(written),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// What an agent may change of their own place on a team (and a project admin of anyone's);
/// the role is a project admin's to change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    pub available: Option<bool>,
    pub notify: Option<NotifyLevel>,
    pub role: Option<ProjectRole>,
}

/// The project's team, for its agents (the console's assignee choices, availability).
pub async fn get_team(app: &App, caller: &Caller, project: &str) -> Result<ProjectTeam, ApiError> {
    let (actor, project, records) = load_project(app, caller, project, &[project_team_key(project)]).await?;
    require_agent(&actor.user, &project.key)?;
    match team_in(&records, &project.key) {
        Some(team) => Ok(team),
        None => load_team(app, &project.key).await,
    }
}

/// Sets an agent's availability for auto-assignment and which emails they get (the agent
/// themselves, or a project admin) and their role (a project admin; never the last admin's
/// own way out: `keeps_an_admin`). The team item changes first, then the account's role.
pub async fn update_agent(
    app: &App,
    caller: &Caller,
    project: &str,
    agent_id: &str,
    patch: Input<AgentPatch>,
) -> Result<(String, TeamMember), ApiError> {
    let (actor, project, records) = load_project(app, caller, project, &[project_team_key(project)]).await?;
    require_agent(&actor.user, &project.key)?;
    if actor.user.id != agent_id && !is_project_admin(&actor.user, &project.key) {
        return Err(ApiError::forbidden("only a project admin changes another agent's settings"));
    }
    let patch = patch?;
    if patch.role.is_some() && !is_project_admin(&actor.user, &project.key) {
        return Err(ApiError::forbidden("only a project admin changes roles"));
    }
    let mut written = None;
    if let Some(role) = patch.role {
        // The agent's address comes with the session's read; `set_role` reads the team again
        // (its version guards the last admin).
        let read = match team_in(&records, &project.key) {
            Some(team) => team,
            // An old project's first use of its team item.
            None => load_team(app, &project.key).await?,
        };
        let email = read.agents.get(agent_id).map(|m| m.email.clone()).ok_or(ApiError::NotFound("agent"))?;
        let grantee = super::roles::Grantee::Member { id: agent_id, email: &email };
        written = Some(super::roles::set_role(app, &project.key, grantee, role, Some(&actor)).await?.1);
    }
    let team = match (written, patch.available.is_none() && patch.notify.is_none()) {
        (Some(team), true) => team,
        _ => {
            change_team(app, &project.key, |team| {
                let member = team.agents.get_mut(agent_id).ok_or(ApiError::NotFound("agent"))?;
                let before = member.clone();
                member.available = patch.available.unwrap_or(member.available);
                member.notify = patch.notify.unwrap_or(member.notify);
                Ok(*member != before)
            })
            .await?
        }
    };
    let member = team.agents.get(agent_id).cloned().ok_or(ApiError::NotFound("agent"))?;
    Ok((agent_id.to_string(), member))
}

/// The key of the team item, for loaders that read it with the session.
pub fn team_key(project: &str) -> ItemKey {
    project_team_key(project)
}
