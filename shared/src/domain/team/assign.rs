//! Automatic assignment of a new request: the project's mode picks an available agent under
//! the cap, and an atomic claim on the team item makes sure concurrent creates never pass it.

use crate::error::ApiError;
use crate::items::project_team_key;
use crate::model::{Assignee, AssignmentMode, Project, ProjectTeam, Record};
use crate::store::LoadChange;
use crate::App;

/// The agent `mode` picks next from `team`: available, under `cap`; round robin takes the
/// first after the last one assigned in id order, least open the lightest load (ties in
/// round-robin order). None when nobody can take it.
pub fn pick(team: &ProjectTeam, mode: AssignmentMode, cap: Option<u32>) -> Option<String> {
    let ids: Vec<&String> = team.agents.keys().collect();
    let start = team.last_assigned.as_ref().and_then(|last| ids.iter().position(|id| *id > last)).unwrap_or(0);
    let in_turn = ids[start..].iter().chain(ids[..start].iter()).copied();
    let eligible = in_turn.filter(|id| {
        let member = &team.agents[*id];
        member.available && cap.is_none_or(|c| member.open() < c)
    });
    match mode {
        AssignmentMode::Manual => None,
        AssignmentMode::RoundRobin => eligible.into_iter().next().cloned(),
        // min_by_key keeps the first of equals: the round-robin order breaks ties.
        AssignmentMode::LeastOpen => eligible.min_by_key(|id| team.agents[*id].open()).cloned(),
    }
}

/// Claims an agent for the new request `request` (its id) of `project` (None: manual, or
/// nobody available under the cap). `read` is the team as read with the session, if it was. A claim that loses to a
/// concurrent one reads the team again and picks again: each loss means another request took
/// a place, so this ends.
pub(crate) async fn claim_agent(
    app: &App,
    project: &Project,
    read: Option<ProjectTeam>,
    request: &str,
) -> Result<Option<Assignee>, ApiError> {
    let settings = &project.settings.assignment;
    if settings.mode == AssignmentMode::Manual {
        return Ok(None);
    }
    // A project that never stored a team has had no agent added since teams were kept, and
    // its settings were not changed to assign (which stores it): nobody to claim.
    let mut team = match read {
        Some(team) => team,
        None => match super::roster::read_team(app, &project.key).await? {
            Some(team) => team,
            None => return Ok(None),
        },
    };
    for _ in 0..=2 * team.agents.len() + 2 {
        let Some(id) = pick(&team, settings.mode, settings.cap) else { return Ok(None) };
        if app.store.change_load(&project.key, &id, LoadChange::Claim { request, cap: settings.cap }).await? {
            let member = &team.agents[&id];
            return Ok(Some(Assignee { id, email: member.email.clone(), name: member.name.clone() }));
        }
        team = match app.store.get(&project_team_key(&project.key)).await? {
            Some(Record::ProjectTeam(t)) => t,
            _ => return Ok(None),
        };
    }
    Ok(None)
}

/// Gives back a claim whose request was not made after all (or was a replay).
pub(crate) async fn release_agent(app: &App, project: &str, agent: &str, request: &str) -> Result<(), ApiError> {
    app.store.change_load(project, agent, LoadChange::Release { request }).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EmailAddress, NotifyLevel, ProjectRole, TeamMember};

    fn team(loads: &[(&str, u32, bool)], last: Option<&str>) -> ProjectTeam {
        let agents = loads
            .iter()
            .map(|(id, open, available)| {
                let member = TeamMember {
                    email: EmailAddress::stored(&format!("{id}@example.com")),
                    name: None,
                    role: ProjectRole::Agent,
                    available: *available,
                    notify: NotifyLevel::Assigned,
                    requests: (0..*open).map(|n| format!("{id}-{n}")).collect(),
                };
                (id.to_string(), member)
            })
            .collect();
        ProjectTeam { project: "HD".into(), agents, last_assigned: last.map(String::from), version: 1 }
    }

    #[test]
    fn round_robin_goes_on_after_the_last_one_and_skips_who_cannot_take_it() {
        let t = team(&[("a", 0, true), ("b", 0, true), ("c", 0, true)], None);
        assert_eq!(pick(&t, AssignmentMode::RoundRobin, None).as_deref(), Some("a"));
        let t = team(&[("a", 0, true), ("b", 0, true), ("c", 0, true)], Some("a"));
        assert_eq!(pick(&t, AssignmentMode::RoundRobin, None).as_deref(), Some("b"));
        let t = team(&[("a", 0, true), ("b", 0, false), ("c", 2, true)], Some("a"));
        assert_eq!(pick(&t, AssignmentMode::RoundRobin, Some(2)).as_deref(), Some("a"), "b away, c full: back to a");
        let t = team(&[("a", 0, true), ("b", 0, true), ("c", 0, true)], Some("c"));
        assert_eq!(pick(&t, AssignmentMode::RoundRobin, None).as_deref(), Some("a"), "wraps around");
        let t = team(&[("a", 2, true), ("b", 2, true)], None);
        assert_eq!(pick(&t, AssignmentMode::RoundRobin, Some(2)), None);
        assert_eq!(pick(&t, AssignmentMode::Manual, None), None);
    }

    #[test]
    fn least_open_takes_the_lightest_load_ties_in_turn() {
        let t = team(&[("a", 3, true), ("b", 1, true), ("c", 1, true)], Some("b"));
        assert_eq!(pick(&t, AssignmentMode::LeastOpen, None).as_deref(), Some("c"));
        let t = team(&[("a", 3, true), ("b", 1, false), ("c", 2, true)], None);
        assert_eq!(pick(&t, AssignmentMode::LeastOpen, Some(3)).as_deref(), Some("c"));
        assert_eq!(pick(&t, AssignmentMode::LeastOpen, Some(2)), None);
    }
}
