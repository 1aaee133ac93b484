//! Roles on a project: who is an agent or an admin there. A role lives on the account (what
//! access checks read), on a membership item, and on the team item (what assignment and the
//! last-admin rule read); all three change in one transaction.

use super::roster::{load_team, new_member, team_write};
use crate::domain::auth::{find_user_by_email, new_account_writes, new_user};
use crate::domain::blocklist::{Commit, Guard};
use crate::domain::caller::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::retry::Budget;
use crate::error::ApiError;
use crate::items::project_team_key;
use crate::model::{ProjectMember, ProjectRole, ProjectTeam, Record, TeamMember, User};
use crate::store::{Condition, Write};
use crate::App;

/// A project keeps an admin on its team: `agent_id` may not stop being one (a role change to
/// `next`, or a removal: None) while nobody else is. Checked on the team item as read and
/// written with its version checked, so two changes at once cannot both pass.
pub(crate) fn keeps_an_admin(team: &ProjectTeam, agent_id: &str, next: Option<ProjectRole>) -> Result<(), ApiError> {
    let admin = |m: &TeamMember| m.role == ProjectRole::Admin;
    let leaving = team.agents.get(agent_id).is_some_and(admin) && next != Some(ProjectRole::Admin);
    if leaving && !team.agents.iter().any(|(id, m)| id != agent_id && admin(m)) {
        return Err(ApiError::Conflict {
            code: "last_admin",
            message: "they are the project's only admin: make another agent an admin first".into(),
        });
    }
    Ok(())
}

/// Who gets a role: anyone with an address (the account is made when there is none), or an
/// agent already on the team (404 otherwise: one removed meanwhile gets nothing back).
pub(crate) enum Grantee<'a> {
    Anyone(&'a EmailAddress),
    Member { id: &'a str, email: &'a EmailAddress },
}

/// Gives `grantee` `role` on `project`: the account, its membership item and its place on the
/// team in one transaction, the team as read (version-checked), refused when it would leave
/// the project without an admin. Idempotent. Returns the account and the team as written.
pub(crate) async fn set_role(
    app: &App,
    project: &str,
    grantee: Grantee<'_>,
    role: ProjectRole,
    by: Option<&Actor>,
) -> Result<(User, ProjectTeam), ApiError> {
    // The staff member making the change answers to the app-wide blocklist.
    let mut guard = by.map(|actor| Guard::new(&actor.email(), None)).unwrap_or_else(Guard::none);
    let email = match grantee {
        Grantee::Anyone(email) | Grantee::Member { email, .. } => email,
    };
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let (team, existing) = tokio::try_join!(load_team(app, project), find_user_by_email(app, email))?;
        let mut user = match (&grantee, &existing) {
            (Grantee::Member { id, .. }, Some(user)) if user.id == *id && team.agents.contains_key(*id) => user.clone(),
            (Grantee::Member { .. }, _) => return Err(ApiError::NotFound("agent")),
            (Grantee::Anyone(_), Some(user)) => user.clone(),
            (Grantee::Anyone(_), None) => new_user(email, app.now()),
        };
        keeps_an_admin(&team, &user.id, Some(role))?;
        user.project_roles.insert(project.to_string(), role);
        let mut writes = match &existing {
            Some(old) => {
                user.version = old.version + 1;
                vec![Write::Put { record: Record::User(user.clone()), condition: Condition::VersionIs(old.version) }]
            }
            None => new_account_writes(&user).to_vec(),
        };
        writes.push(Write::Put {
            record: Record::ProjectMember(ProjectMember {
                project: project.to_string(),
                user_id: user.id.clone(),
                email: user.email.clone(),
                role,
                added_at: app.now(),
            }),
            condition: Condition::None,
        });
        let mut next = team.clone();
        let member =
            next.agents.entry(user.id.clone()).or_insert_with(|| new_member(&user.email, user.name.clone(), role));
        (member.role, member.email, member.name) = (role, user.email.clone(), user.name.clone());
        let written = match next == team {
            // Nothing to change on the team: still, it is checked as read.
            true => {
                writes.push(Write::Check {
                    key: project_team_key(project),
                    condition: Condition::VersionIs(team.version),
                });
                team
            }
            false => {
                let write = team_write(&team, next.clone());
                writes.push(write);
                ProjectTeam { version: team.version + 1, ..next }
            }
        };
        match guard.commit(app, writes).await? {
            Commit::Done => return Ok((user, written)),
            // A version moved (the team, the account) or a twin got there: read again.
            Commit::Conflict | Commit::Retry { .. } | Commit::Failed(_) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_admin_can_neither_step_down_nor_leave() {
        let member = |role| new_member(&EmailAddress::stored("a@example.com"), None, role);
        let mut team =
            ProjectTeam { project: "HD".into(), agents: Default::default(), last_assigned: None, version: 1 };
        team.agents.insert("A".into(), member(ProjectRole::Admin));
        team.agents.insert("B".into(), member(ProjectRole::Agent));
        for next in [Some(ProjectRole::Agent), None] {
            assert_eq!(keeps_an_admin(&team, "A", next).unwrap_err().code(), "last_admin");
        }
        assert!(keeps_an_admin(&team, "A", Some(ProjectRole::Admin)).is_ok(), "staying one");
        assert!(keeps_an_admin(&team, "B", None).is_ok(), "an agent leaves");
        assert!(keeps_an_admin(&team, "nobody", None).is_ok());
        team.agents.insert("C".into(), member(ProjectRole::Admin));
        assert!(keeps_an_admin(&team, "A", Some(ProjectRole::Agent)).is_ok(), "another admin stays");
    }
}
