//! Projects, their settings and their agents; the first app admin.

use crate::domain::access::{
    may_claim_support_address, may_create_account, may_set_support_address, require_agent, require_app_admin,
    require_project_admin,
};
use crate::domain::auth::{find_user_by_email, new_account_writes, new_user};
use crate::domain::blocklist::{Commit, Guard};
use crate::domain::caller::{load_project, resolve, Actor, Caller};
use crate::domain::email::EmailAddress;
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{email_key, managed_domains_key, project_key, support_address_key};
use crate::model::{
    AssignmentSettings, ManagedDomains, Project, ProjectRole, ProjectSettings, Record, SupportAddress, User,
};
use crate::store::{Condition, StoreError, Write};
use crate::text::check_text;
use crate::App;
use serde::Deserialize;

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
    /// Days a public link stays valid.
    #[serde(default, deserialize_with = "crate::domain::whole")]
    pub link_days: Option<u32>,
}

pub const MAX_PUBLIC_LINK_DAYS: u32 = 365;
pub const MAX_REOPEN_DAYS: u32 = 365;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub support_address: Option<String>,
    pub org_sharing: Option<bool>,
    pub portal: Option<PortalPatch>,
    #[serde(default, deserialize_with = "crate::domain::whole")]
    pub participant_cap: Option<u32>,
    /// Notifications one address may get from the project in an hour.
    #[serde(default, deserialize_with = "crate::domain::whole")]
    pub notify_per_hour: Option<u32>,
    /// Automatic assignment of new requests (replaced whole).
    pub assignment: Option<AssignmentSettings>,
    /// Who may raise requests.
    pub intake: Option<crate::model::Intake>,
    /// Service-level targets (replaced whole; null: none).
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub sla: Option<Option<crate::model::SlaSettings>>,
    /// Whether the close email asks for a rating.
    pub csat: Option<bool>,
    /// Days after a close in which a customer's reply reopens a request (0: never).
    #[serde(default, deserialize_with = "crate::domain::whole")]
    pub reopen_days: Option<u32>,
}

/// The highest per-agent cap of automatic assignment.
pub const MAX_ASSIGNMENT_CAP: u32 = 1000;

pub const MAX_NOTIFY_PER_HOUR: u32 = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub email: String,
    pub role: ProjectRole,
}

/// What `check_project_key` accepts, as the API document publishes it.
pub const PROJECT_KEY_PATTERN: &str = "^[A-Z][A-Z0-9]{1,9}$";

/// Project keys are what request keys start with: `HD` gives `HD-42`.
pub fn check_project_key(key: &str) -> Result<(), ApiError> {
    if crate::items::is_project_key(key) {
        Ok(())
    } else {
        Err(ApiError::invalid("invalid_project_key", "a project key is 2-10 characters: A-Z first, then A-Z or 0-9"))
    }
}

/// The support address a project asks for: any address for an app admin; otherwise one in
/// the helpdesk's support domain, since inbound mail routes by it.
fn check_support_address(app: &App, user: &User, project: &str, raw: &str) -> Result<EmailAddress, ApiError> {
    let address = EmailAddress::parse(raw)?;
    may_set_support_address(user, &address, &app.config.support_domain)?;
    let from = EmailAddress::parse_mailbox(&app.config.mail_from).ok();
    may_claim_support_address(project, &address, from.as_ref(), &app.config.support_domain)?;
    Ok(address)
}

fn claim(address: &EmailAddress, project: &str) -> Write {
    Write::Put {
        record: Record::SupportAddress(SupportAddress { address: address.clone(), project: project.to_string() }),
        condition: Condition::NotExists,
    }
}

fn address_taken(address: &EmailAddress) -> ApiError {
    ApiError::Conflict {
        code: "support_address_taken",
        message: format!("{address} is the support address of another project"),
    }
}

fn new_project(app: &App, key: String, name: String, support_address: EmailAddress) -> Project {
    Project {
        key,
        name,
        support_address,
        settings: ProjectSettings::default(),
        last_seq: 0,
        created_at: app.now(),
        version: 1,
    }
}

pub async fn create_project(app: &App, caller: &Caller, input: Input<NewProject>) -> Result<Project, ApiError> {
    let (actor, _) = resolve(app, caller, &[]).await?;
    require_app_admin(&actor.user, "create projects")?;
    let input = input?;
    check_project_key(&input.key)?;
    check_text("name", &input.name, 200, false, true)?;
    let support_address = match &input.support_address {
        Some(address) => check_support_address(app, &actor.user, &input.key, address)?,
        None => default_address(app, &input.key),
    };
    let project = new_project(app, input.key, input.name.trim().to_string(), support_address);
    let writes = vec![
        Write::Put { record: Record::Project(project.clone()), condition: Condition::NotExists },
        claim(&project.support_address, &project.key),
    ];
    let err = match app.store.transact(writes).await {
        Ok(()) => return Ok(project),
        Err(err) => err,
    };
    // The same project, just made and unchanged since: a retried create (a double-submitted
    // form) is answered with it.
    if let Some(made) = twin_of(&err, &project) {
        return Ok(made.clone());
    }
    match err {
        e if e.failed_at(0) => Err(ApiError::Conflict {
            code: "project_exists",
            message: format!("a project with key {} already exists", project.key),
        }),
        StoreError::ConditionFailed { .. } => Err(address_taken(&project.support_address)),
        e => Err(e.into()),
    }
}

/// The project a refused create found, when it is what creating `asked` made a moment ago
/// (within an hour, untouched since).
fn twin_of<'a>(refused: &'a StoreError, asked: &Project) -> Option<&'a Project> {
    match refused.failed_old(0) {
        Some(Record::Project(made))
            if made.version == 1
                && made.name == asked.name
                && made.support_address == asked.support_address
                && (0..3600).contains(&(asked.created_at - made.created_at)) =>
        {
            Some(made)
        }
        _ => None,
    }
}

fn default_address(app: &App, key: &str) -> EmailAddress {
    // Project keys and the configured support domain make a valid address.
    EmailAddress::stored(&format!("{}@{}", key.to_lowercase(), app.config.support_domain))
}

/// A project for its agents.
pub async fn get_project(app: &App, caller: &Caller, key: &str) -> Result<Project, ApiError> {
    let (actor, project, _) = load_project(app, caller, key, &[]).await?;
    require_agent(&actor.user, &project.key)?;
    Ok(project)
}

pub async fn update_project(
    app: &App,
    caller: &Caller,
    key: &str,
    patch: Input<ProjectPatch>,
) -> Result<Project, ApiError> {
    let (actor, mut project, _) = load_project(app, caller, key, &[]).await?;
    require_project_admin(&actor.user, &project.key)?;
    let patch = patch?;
    if let Some(name) = &patch.name {
        check_text("name", name, 200, false, true)?;
    }
    let support_address =
        patch.support_address.as_deref().map(|a| check_support_address(app, &actor.user, key, a)).transpose()?;
    if let Some(cap) = patch.participant_cap {
        if !(1..=MAX_PARTICIPANT_CAP).contains(&cap) {
            return Err(ApiError::invalid("invalid_field", format!("participant_cap must be 1-{MAX_PARTICIPANT_CAP}")));
        }
    }
    if let Some(limit) = patch.notify_per_hour {
        if !(1..=MAX_NOTIFY_PER_HOUR).contains(&limit) {
            return Err(ApiError::invalid("invalid_field", format!("notify_per_hour must be 1-{MAX_NOTIFY_PER_HOUR}")));
        }
    }
    if patch.reopen_days.is_some_and(|d| d > MAX_REOPEN_DAYS) {
        return Err(ApiError::invalid("invalid_field", format!("reopen_days must be 0-{MAX_REOPEN_DAYS}")));
    }
    if let Some(Some(sla)) = &patch.sla {
        crate::domain::sla::calendar_of(sla)?;
    }
    if let Some(cap) = patch.assignment.as_ref().and_then(|a| a.cap) {
        if !(1..=MAX_ASSIGNMENT_CAP).contains(&cap) {
            return Err(ApiError::invalid("invalid_field", format!("assignment.cap must be 1-{MAX_ASSIGNMENT_CAP}")));
        }
    }
    if let Some(days) = patch.portal.as_ref().and_then(|p| p.link_days) {
        if !(1..=MAX_PUBLIC_LINK_DAYS).contains(&days) {
            return Err(ApiError::invalid(
                "invalid_field",
                format!("portal.link_days must be 1-{MAX_PUBLIC_LINK_DAYS}"),
            ));
        }
    }
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
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
        s.notify_per_hour = patch.notify_per_hour.unwrap_or(s.notify_per_hour);
        s.intake = patch.intake.unwrap_or(s.intake);
        s.csat = patch.csat.unwrap_or(s.csat);
        s.reopen_days = patch.reopen_days.unwrap_or(s.reopen_days);
        if let Some(sla) = &patch.sla {
            s.sla = sla.clone();
        }
        if let Some(assignment) = &patch.assignment {
            s.assignment = assignment.clone();
        }
        if let Some(portal) = &patch.portal {
            s.portal_private = portal.private.unwrap_or(s.portal_private);
            s.portal_public = portal.public.unwrap_or(s.portal_public);
            s.public_link_days = portal.link_days.unwrap_or(s.public_link_days);
        }
        next.version += 1;
        let mut writes = vec![Write::Put {
            record: Record::Project(next.clone()),
            condition: Condition::VersionIs(project.version),
        }];
        if next.support_address != project.support_address {
            writes.push(claim(&next.support_address, &next.key));
            writes
                .push(Write::Delete { key: support_address_key(&project.support_address), condition: Condition::None });
        }
        match app.store.transact(writes).await {
            Ok(()) => {
                if next.settings.assignment.mode != crate::model::AssignmentMode::Manual {
                    // Assignment picks from the team item: make sure the project has one.
                    crate::domain::team::load_team(app, &next.key).await?;
                }
                return Ok(next);
            }
            Err(e) if e.failed_at(1) => return Err(address_taken(&next.support_address)),
            // A request was raised meanwhile (it bumps the counter): reread and apply again.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
                match app.store.get(&project_key(key)).await? {
                    Some(Record::Project(p)) => project = p,
                    _ => return Err(ApiError::NotFound("project")),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Gives an address a role on a project, creating the account when there is none (not in a
/// managed domain, unless the caller is an app admin).
pub async fn add_agent(
    app: &App,
    caller: &Caller,
    key: &str,
    input: Input<NewAgent>,
) -> Result<(User, ProjectRole), ApiError> {
    let email = input.as_ref().ok().and_then(|i| EmailAddress::parse(&i.email).ok());
    let extra: Vec<_> = email.iter().flat_map(|e| [managed_domains_key(), email_key(e.as_str())]).collect();
    let (actor, project, records) = load_project(app, caller, key, &extra).await?;
    require_project_admin(&actor.user, &project.key)?;
    let input = input?;
    let email = EmailAddress::parse(&input.email)?;
    if !records.iter().any(|r| matches!(r, Record::EmailOwner(_))) {
        may_create_account(&actor.user, &[&email], &managed_domains(&records))?;
    }
    grant_role(app, &email, &project.key, input.role, Some(&actor)).await
}

/// The managed domains among records read with `managed_domains_key()`.
pub fn managed_domains(records: &[Record]) -> ManagedDomains {
    records
        .iter()
        .find_map(|r| match r {
            Record::ManagedDomains(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Sets a role (idempotent): the account (made when there is none), its membership and its
/// place on the team in one transaction; never the project's last admin's way out.
pub async fn grant_role(
    app: &App,
    email: &EmailAddress,
    project: &str,
    role: ProjectRole,
    by: Option<&Actor>,
) -> Result<(User, ProjectRole), ApiError> {
    let grantee = crate::domain::team::Grantee::Anyone(email);
    let (user, _) = crate::domain::team::set_role(app, project, grantee, role, by).await?;
    Ok((user, role))
}

/// Creates a project unless it exists (seeding and the CLI; no caller to check).
pub async fn ensure_project(app: &App, key: &str, name: &str) -> Result<Project, ApiError> {
    check_project_key(key)?;
    if let Some(Record::Project(p)) = app.store.get(&project_key(key)).await? {
        return Ok(p);
    }
    let project = new_project(app, key.to_string(), name.to_string(), default_address(app, key));
    let writes = vec![
        Write::Put { record: Record::Project(project.clone()), condition: Condition::NotExists },
        claim(&project.support_address, &project.key),
    ];
    match app.store.transact(writes).await {
        Ok(()) => Ok(project),
        // Made at the same moment by another run: take it.
        Err(e) if e.failed_at(0) => match e.failed_old(0) {
            Some(Record::Project(p)) => Ok(p.clone()),
            _ => Ok(project),
        },
        Err(StoreError::ConditionFailed { .. }) => Err(address_taken(&project.support_address)),
        Err(e) => Err(e.into()),
    }
}

/// Makes an address an app admin (the CLI's bootstrap). Idempotent.
pub async fn bootstrap_app_admin(app: &App, email: &str) -> Result<User, ApiError> {
    let email = EmailAddress::parse(email)?;
    update_user_by_email(app, &email, None, |user| {
        user.app_admin = true;
        vec![]
    })
    .await
}

/// Applies `change` to the account of `email` (made on the spot when missing) under
/// optimistic locking, with the extra writes `change` returns in the same transaction.
pub(crate) async fn update_user_by_email(
    app: &App,
    email: &EmailAddress,
    by: Option<&Actor>,
    change: impl Fn(&mut User) -> Vec<Write>,
) -> Result<User, ApiError> {
    // The staff member making the change answers to the app-wide blocklist.
    let mut guard = by.map(|actor| Guard::new(&actor.email(), None)).unwrap_or_else(Guard::none);
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
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
        if let Commit::Done = guard.commit(app, writes).await? {
            return Ok(user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::is_project_admin;
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
        let email = EmailAddress::parse("admin@example.com").unwrap();
        grant_role(&app, &email, "DEMO", ProjectRole::Admin, None).await.unwrap();
        let user = find_user_by_email(&app, &email).await.unwrap().unwrap();
        assert!(user.app_admin && is_project_admin(&user, "DEMO"));
        // user, email owner, membership, the project's team
        assert_eq!(store.len(), 4);
    }
}
