//! Removing an agent from a project, in retry-safe steps: the role goes first (they can no
//! longer act there), then their open and pending requests there become unassigned, then
//! their place on the team. A retry redoes only what is left.

use super::roles::keeps_an_admin;
use super::roster::{change_team, load_team};
use crate::domain::access::require_project_admin;
use crate::domain::caller::{load_project, Actor, Caller};
use crate::domain::requests::{history_write, try_update_request, Seen};
use crate::error::ApiError;
use crate::items::{owner_partition, project_member_key, user_key};
use crate::model::{Record, Request, RequestStatus};
use crate::store::{Condition, Query, Write};
use crate::table::Index;
use crate::App;

/// What a removal did: the requests it unassigned.
#[derive(Debug, PartialEq)]
pub struct Removed {
    pub unassigned: Vec<String>,
}

pub async fn remove_agent(app: &App, caller: &Caller, project: &str, agent_id: &str) -> Result<Removed, ApiError> {
    let (actor, project, records) = load_project(app, caller, project, &[user_key(agent_id)]).await?;
    require_project_admin(&actor.user, &project.key)?;
    // The caller's own account comes with the session, not among the records.
    let own = (actor.user.id == agent_id).then(|| actor.user.clone());
    let Some(agent) = own.or_else(|| {
        records.into_iter().find_map(|r| match r {
            Record::User(u) if u.id == agent_id => Some(u),
            _ => None,
        })
    }) else {
        return Err(ApiError::NotFound("agent"));
    };
    // First nobody may give them anything more here: off the team (no claim, no assignment
    // by address) and without the role (they can no longer act).
    let team = load_team(app, &project.key).await?;
    let was_agent = agent.project_roles.contains_key(&project.key) || team.agents.contains_key(agent_id);
    change_team(app, &project.key, |team| {
        keeps_an_admin(team, agent_id, None)?;
        Ok(team.agents.remove(agent_id).is_some())
    })
    .await?;
    if agent.project_roles.contains_key(&project.key) {
        let key = project.key.clone();
        crate::domain::projects::update_user_by_email(app, &agent.email, Some(&actor), |user| {
            user.project_roles.remove(&key);
            vec![Write::Delete { key: project_member_key(&key, &user.id), condition: Condition::None }]
        })
        .await?;
    }
    // Then what they own. A retry after a failure here finds them in no role and on no team,
    // and finishes this step.
    let unassigned = unassign_all(app, &actor, &project.key, agent_id).await?;
    if !was_agent && unassigned.is_empty() {
        return Err(ApiError::NotFound("agent"));
    }
    Ok(Removed { unassigned })
}

/// Unassigns every open and pending request of `project` the agent owns, one change each
/// (with its history entry), found through the owner index.
async fn unassign_all(app: &App, actor: &Actor, project: &str, agent_id: &str) -> Result<Vec<String>, ApiError> {
    let mut done = vec![];
    for status in RequestStatus::ALL.into_iter().filter(|s| s.is_active()) {
        let mut after = None;
        loop {
            let query = Query {
                newest_first: true,
                after: after.take(),
                ..Query::partition(Index::Gsi5, owner_partition(project, Some(agent_id), status), 50)
            };
            let page = app.store.query(&query).await?;
            // The index may trail a change by a moment: the request read through decides.
            let owned = page.records.into_iter().filter_map(|r| match r {
                Record::Request(r) if r.assignee.as_ref().is_some_and(|a| a.id == agent_id) => Some(r),
                _ => None,
            });
            for request in owned {
                let key = request.key.clone();
                let history =
                    history_write(&request, &actor.user, "assigned", vec![], Some("unassigned".into()), app.now());
                let unassign = |r: &mut Request| {
                    if r.assignee.as_ref().is_some_and(|a| a.id == agent_id) {
                        r.assignee = None;
                    }
                    Ok(())
                };
                try_update_request(app, actor, None, request, Seen::AgentsOnly, unassign, |_, _| vec![history.clone()])
                    .await?;
                done.push(key);
            }
            match page.last_sort_key {
                Some(last) => after = Some(last),
                None => break,
            }
        }
    }
    Ok(done)
}
