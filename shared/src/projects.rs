//! Projects, their settings and their agents; the first app admin.

use crate::auth::{find_user_by_email, new_account_writes, new_user, Principal};
use crate::error::ApiError;
use crate::items::project_key;
use crate::model::{Project, ProjectMember, ProjectRole, ProjectSettings, Record, User};
use crate::store::{Condition, StoreError, Write};
use crate::text::{check_text, normalize_email, rfc3339};
use crate::App;
use serde::Deserialize;
use serde_json::{json, Value};

pub const MAX_PARTICIPANT_CAP: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub support_address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalPatch {
    pub private: Option<bool>,
    pub public: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub support_address: Option<String>,
    pub org_sharing: Option<bool>,
    pub portal: Option<PortalPatch>,
    pub participant_cap: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub email: String,
    pub role: ProjectRole,
}

pub fn project_json(p: &Project) -> Value {
    json!({
        "key": p.key,
        "name": p.name,
        "support_address": p.support_address,
        "org_sharing": p.settings.org_sharing,
        "portal": {"private": p.settings.portal_private, "public": p.settings.portal_public},
        "participant_cap": p.settings.participant_cap,
        "created_at": rfc3339(p.created_at),
    })
}

/// Project keys are what request keys start with: `HD` gives `HD-42`.
pub fn check_project_key(key: &str) -> Result<(), ApiError> {
    let ok = (2..=10).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_uppercase())
        && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid("invalid_project_key", "a project key is 2-10 characters: A-Z first, then A-Z or 0-9"))
    }
}

pub async fn create_project(app: &App, principal: &Principal, input: NewProject) -> Result<Project, ApiError> {
    if !principal.user.app_admin {
        return Err(ApiError::forbidden("only an app admin can create projects"));
    }
    check_project_key(&input.key)?;
    check_text("name", &input.name, 200, false, true)?;
    let support_address = match &input.support_address {
        Some(address) => normalize_email(address)?,
        None => format!("{}@{}", input.key.to_lowercase(), app.config.support_domain),
    };
    let project = Project {
        key: input.key,
        name: input.name.trim().to_string(),
        support_address,
        settings: ProjectSettings::default(),
        last_seq: 0,
        created_at: app.now(),
        version: 1,
    };
    match app
        .store
        .transact(vec![Write::Put { record: Record::Project(project.clone()), condition: Condition::NotExists }])
        .await
    {
        Ok(()) => Ok(project),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::Conflict {
            code: "project_exists",
            message: format!("a project with key {} already exists", project.key),
        }),
        Err(e) => Err(e.into()),
    }
}

/// `create_project` for the caller of a bearer token.
pub async fn create_project_as(app: &App, bearer: Option<&str>, input: NewProject) -> Result<Project, ApiError> {
    let (principal, _) = crate::auth::authenticate(app, bearer, &[]).await?;
    create_project(app, &principal, input).await
}

/// Reads a project with the caller's session in one round trip.
pub async fn load_project(app: &App, bearer: Option<&str>, key: &str) -> Result<(Principal, Project), ApiError> {
    let (principal, records) = crate::auth::authenticate(app, bearer, &[project_key(key)]).await?;
    match records.into_iter().next() {
        Some(Record::Project(p)) => Ok((principal, p)),
        _ => Err(ApiError::NotFound("project")),
    }
}

pub fn require_agent(principal: &Principal, project: &str) -> Result<(), ApiError> {
    if principal.user.app_admin || principal.user.is_agent_of(project) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs an agent of the project"))
    }
}

pub fn require_admin(principal: &Principal, project: &str) -> Result<(), ApiError> {
    if principal.user.is_admin_of(project) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs a project admin"))
    }
}

pub async fn get_project(app: &App, bearer: Option<&str>, key: &str) -> Result<Project, ApiError> {
    let (principal, project) = load_project(app, bearer, key).await?;
    require_agent(&principal, &project.key)?;
    Ok(project)
}

pub async fn update_project(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    patch: ProjectPatch,
) -> Result<Project, ApiError> {
    let (principal, mut project) = load_project(app, bearer, key).await?;
    require_admin(&principal, &project.key)?;
    if let Some(name) = &patch.name {
        check_text("name", name, 200, false, true)?;
    }
    let support_address = patch.support_address.as_deref().map(normalize_email).transpose()?;
    if let Some(cap) = patch.participant_cap {
        if !(1..=MAX_PARTICIPANT_CAP).contains(&cap) {
            return Err(ApiError::invalid("invalid_field", format!("participant_cap must be 1-{MAX_PARTICIPANT_CAP}")));
        }
    }
    for _ in 0..5 {
        let mut next = project.clone();
        if let Some(name) = &patch.name {
            next.name = name.trim().to_string();
        }
        if let Some(address) = &support_address {
            next.support_address = address.clone();
        }
        let s = &mut next.settings;
        s.org_sharing = patch.org_sharing.unwrap_or(s.org_sharing);
        s.participant_cap = patch.participant_cap.unwrap_or(s.participant_cap);
        if let Some(portal) = &patch.portal {
            s.portal_private = portal.private.unwrap_or(s.portal_private);
            s.portal_public = portal.public.unwrap_or(s.portal_public);
        }
        next.version += 1;
        let write =
            Write::Put { record: Record::Project(next.clone()), condition: Condition::VersionIs(project.version) };
        match app.store.transact(vec![write]).await {
            Ok(()) => return Ok(next),
            // A request was raised meanwhile (it bumps the counter): reread and apply again.
            Err(StoreError::ConditionFailed { .. }) => match app.store.get(&project_key(key)).await? {
                Some(Record::Project(p)) => project = p,
                _ => return Err(ApiError::NotFound("project")),
            },
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

/// Gives `email` a role on a project, creating the account when there is none.
pub async fn add_agent(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    input: NewAgent,
) -> Result<(User, ProjectRole), ApiError> {
    let (principal, project) = load_project(app, bearer, key).await?;
    require_admin(&principal, &project.key)?;
    let email = normalize_email(&input.email)?;
    grant_role(app, &email, &project.key, input.role).await
}

/// Sets a role (idempotent) and records the membership, in one transaction.
pub async fn grant_role(
    app: &App,
    email: &str,
    project: &str,
    role: ProjectRole,
) -> Result<(User, ProjectRole), ApiError> {
    update_user_by_email(app, email, |user| {
        user.project_roles.insert(project.to_string(), role);
        vec![Write::Put {
            record: Record::ProjectMember(ProjectMember {
                project: project.to_string(),
                user_id: user.id.clone(),
                email: user.email.clone(),
                role,
                added_at: app.now(),
            }),
            condition: Condition::None,
        }]
    })
    .await
    .map(|u| (u, role))
}

/// Creates a project unless it exists (seeding and the CLI; no caller to check).
pub async fn ensure_project(app: &App, key: &str, name: &str) -> Result<Project, ApiError> {
    check_project_key(key)?;
    if let Some(Record::Project(p)) = app.store.get(&project_key(key)).await? {
        return Ok(p);
    }
    let project = Project {
        key: key.to_string(),
        name: name.to_string(),
        support_address: format!("{}@{}", key.to_lowercase(), app.config.support_domain),
        settings: ProjectSettings::default(),
        last_seq: 0,
        created_at: app.now(),
        version: 1,
    };
    let write = Write::Put { record: Record::Project(project.clone()), condition: Condition::NotExists };
    match app.store.transact(vec![write]).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(project),
        Err(e) => Err(e.into()),
    }
}

/// Makes an address an app admin (the CLI's bootstrap). Idempotent.
pub async fn bootstrap_app_admin(app: &App, email: &str) -> Result<User, ApiError> {
    let email = normalize_email(email)?;
    update_user_by_email(app, &email, |user| {
        user.app_admin = true;
        vec![]
    })
    .await
}

/// Applies `change` to the account of `email` (made on the spot when missing) under
/// optimistic locking, with the extra writes `change` returns in the same transaction.
pub(crate) async fn update_user_by_email(
    app: &App,
    email: &str,
    change: impl Fn(&mut User) -> Vec<Write>,
) -> Result<User, ApiError> {
    for _ in 0..5 {
        let existing = find_user_by_email(app, email).await?;
        let mut user = existing.clone().unwrap_or_else(|| new_user(email, app.now()));
        let extra = change(&mut user);
        let mut writes = match &existing {
            Some(old) => {
                user.version = old.version + 1;
                vec![Write::Put { record: Record::User(user.clone()), condition: Condition::VersionIs(old.version) }]
            }
            None => new_account_writes(&user).to_vec(),
        };
        writes.extend(extra);
        match app.store.transact(writes).await {
            Ok(()) => return Ok(user),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::memory_app;

    #[test]
    fn project_keys() {
        for ok in ["HD", "DEMO", "A1", "ABCDEFGHIJ"] {
            assert!(check_project_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "H", "hd", "1A", "H-D", "ABCDEFGHIJK", "HÉ"] {
            assert!(check_project_key(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn bootstrap_is_idempotent_and_grants_are_kept() {
        let (app, _, store) = memory_app();
        let admin = bootstrap_app_admin(&app, "Admin@Example.com").await.unwrap();
        let again = bootstrap_app_admin(&app, "admin@example.com").await.unwrap();
        assert_eq!(admin.id, again.id);
        assert!(again.app_admin);
        grant_role(&app, "admin@example.com", "DEMO", ProjectRole::Admin).await.unwrap();
        let user = find_user_by_email(&app, "admin@example.com").await.unwrap().unwrap();
        assert!(user.app_admin && user.is_admin_of("DEMO"));
        // user, email owner, membership
        assert_eq!(store.len(), 3);
    }
}
