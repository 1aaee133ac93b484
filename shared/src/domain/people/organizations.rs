//! Organizations and who sees what (seeds 002 and 004): membership, the organization on a
//! request, externally managed organizations, and the visibility checklist.

use crate::domain::access::{
    can_view, is_agent, may_create_account, org_shared, require_agent, require_app_admin, Viewer,
};
use crate::domain::auth::{find_user_by_email, owner_account};
use crate::domain::blocklist::{Commit, Guard};
use crate::domain::caller::{load_project, load_request, resolve, Actor, Caller};
use crate::domain::email::EmailAddress;
use crate::domain::projects::{managed_domains, update_user_by_email};
use crate::domain::requests::{history_write, update_request, Seen, Viewed};
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{email_key, managed_domains_key, org_key, org_member_key, org_partition, project_orgs_partition};
use crate::model::{ExternalSource, OrgMember, Organization, Record, Request, User};
use crate::store::{Condition, Query, Write};
use crate::table::Index;
use crate::text::{check_text, new_ulid};
use crate::App;
use serde::Deserialize;

/// Members one organization may have (the sync reads them in one Query).
pub const MAX_MEMBERS: usize = 1000;
/// Organizations one project lists (one Query page).
pub const MAX_ORGANIZATIONS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: String,
    #[serde(default)]
    pub external: Option<ExternalSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncInput {
    pub emails: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestOrgInput {
    pub organization_id: String,
}

/// A project's organizations, by name (its agents): read while the session is, returned only
/// to an agent of the project.
pub async fn list_organizations(app: &App, caller: &Caller, project: &str) -> Result<Vec<Organization>, ApiError> {
    caller.require_claim()?;
    let (loaded, listed) = tokio::join!(load_project(app, caller, project, &[]), read_organizations(app, project));
    let (actor, project, _) = loaded?;
    require_agent(&actor.user, &project.key)?;
    listed
}

/// A project's organizations by name, unchecked: callers return them to its agents only.
pub(crate) async fn read_organizations(app: &App, project: &str) -> Result<Vec<Organization>, ApiError> {
    let query = Query::partition(Index::Gsi1, project_orgs_partition(project), MAX_ORGANIZATIONS);
    let mut orgs = app.store.query(&query).await?.keep(|r| match r {
        Record::Organization(o) if o.project == project => Some(o),
        _ => None,
    });
    orgs.sort_by_cached_key(|o| (o.name.to_lowercase(), o.id.clone()));
    Ok(orgs)
}

pub async fn create_organization(
    app: &App,
    caller: &Caller,
    project: &str,
    input: Input<NewOrganization>,
) -> Result<Organization, ApiError> {
    let (actor, project, _) = load_project(app, caller, project, &[]).await?;
    require_agent(&actor.user, &project.key)?;
    let input = input?;
    check_text("name", &input.name, 200, false, true)?;
    if let Some(external) = &input.external {
        check_text("external.source", &external.source, 100, false, true)?;
        check_text("external.contact", &external.contact, 254, false, true)?;
        require_app_admin(&actor.user, "create externally managed organizations")?;
    }
    let org = Organization {
        id: new_ulid(),
        project: project.key,
        name: input.name.trim().to_string(),
        external: input.external,
        created_at: app.now(),
    };
    let write = Write::Put { record: Record::Organization(org.clone()), condition: Condition::NotExists };
    let mut guard = Guard::for_actor(&actor, &org.project);
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        if let Commit::Done = guard.commit(app, vec![write.clone()]).await? {
            return Ok(org);
        }
    }
}

/// An organization and its caller, who must be an agent of its project.
async fn load_org(app: &App, caller: &Caller, org_id: &str) -> Result<(Actor, Organization), ApiError> {
    caller.require_claim()?;
    let (actor, records) = resolve(app, caller, &[org_key(org_id)]).await?;
    let org = records
        .into_iter()
        .find_map(|r| match r {
            Record::Organization(o) => Some(o),
            _ => None,
        })
        .ok_or(ApiError::NotFound("organization"))?;
    require_agent(&actor.user, &org.project)?;
    Ok((actor, org))
}

/// An organization and its members, by address (agents of its project). The members are
/// read while the caller is; they are returned only once the caller is checked.
pub async fn list_members(
    app: &App,
    caller: &Caller,
    org_id: &str,
) -> Result<(Organization, Vec<OrgMember>), ApiError> {
    let query = Query::partition(Index::Table, org_partition(org_id), MAX_MEMBERS + 1);
    let (loaded, read) = tokio::join!(load_org(app, caller, org_id), app.store.query(&query));
    let (_, org) = loaded?;
    let mut members = read?.keep(|r| match r {
        Record::OrgMember(m) => Some(m),
        _ => None,
    });
    members.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
    Ok((org, members))
}

fn refuse_if_external(org: &Organization) -> Result<(), ApiError> {
    match &org.external {
        Some(external) => Err(ApiError::Conflict {
            code: "externally_managed",
            message: format!(
                "{} is managed by {}: its members cannot be changed here. Ask {} to change them.",
                org.name, external.source, external.contact
            ),
        }),
        None => Ok(()),
    }
}

/// Makes an address a member (creating the account, except in a managed domain unless the
/// caller is app admin). Idempotent.
async fn ensure_member(app: &App, actor: &Actor, org: &Organization, email: &EmailAddress) -> Result<User, ApiError> {
    if !actor.user.app_admin && find_user_by_email(app, email).await?.is_none() {
        let managed = app.store.get_many(&[managed_domains_key()]).await?;
        may_create_account(&actor.user, &[email], &managed_domains(&managed))?;
    }
    let now = app.now();
    update_user_by_email(app, email, Some(actor), |user| {
        user.organizations.insert(org.id.clone(), org.project.clone());
        vec![Write::Put {
            record: Record::OrgMember(OrgMember {
                org_id: org.id.clone(),
                user_id: user.id.clone(),
                email: user.email.clone(),
                added_at: now,
            }),
            condition: Condition::None,
        }]
    })
    .await
}

/// Ends a membership; not a member is a no-op. Hides the organization's requests at once.
async fn end_membership(app: &App, actor: &Actor, org: &Organization, email: &EmailAddress) -> Result<(), ApiError> {
    match find_user_by_email(app, email).await? {
        Some(user) if user.is_member_of(&org.id) => {
            update_user_by_email(app, email, Some(actor), |user| {
                user.organizations.remove(&org.id);
                vec![Write::Delete { key: org_member_key(&org.id, &user.id), condition: Condition::None }]
            })
            .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

pub async fn add_member(app: &App, caller: &Caller, org_id: &str, input: Input<MemberInput>) -> Result<User, ApiError> {
    let (actor, org) = load_org(app, caller, org_id).await?;
    let email = EmailAddress::parse(&input?.email)?;
    refuse_if_external(&org)?;
    ensure_member(app, &actor, &org, &email).await
}

pub async fn remove_member(app: &App, caller: &Caller, org_id: &str, raw_email: &str) -> Result<(), ApiError> {
    let (actor, org) = load_org(app, caller, org_id).await?;
    let email = EmailAddress::parse(raw_email)?;
    refuse_if_external(&org)?;
    end_membership(app, &actor, &org, &email).await
}

/// The CRM sync (app admins): makes the membership exactly `emails`, in one idempotent call.
pub async fn sync_members(
    app: &App,
    caller: &Caller,
    org_id: &str,
    input: Input<SyncInput>,
) -> Result<Vec<EmailAddress>, ApiError> {
    let (actor, org) = load_org(app, caller, org_id).await?;
    require_app_admin(&actor.user, "sync an organization's members")?;
    let input = input?;
    if input.emails.len() > MAX_MEMBERS {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_MEMBERS} members")));
    }
    let mut wanted = input.emails.iter().map(|e| EmailAddress::parse(e)).collect::<Result<Vec<_>, _>>()?;
    wanted.sort();
    wanted.dedup();
    let current = members(app, &org.id).await?;
    for member in current.iter().filter(|m| !wanted.contains(&m.email)) {
        end_membership(app, &actor, &org, &member.email).await?;
    }
    for email in wanted.iter().filter(|e| !current.iter().any(|m| **e == m.email)) {
        ensure_member(app, &actor, &org, email).await?;
    }
    Ok(wanted)
}

async fn members(app: &App, org_id: &str) -> Result<Vec<OrgMember>, ApiError> {
    let page = app.store.query(&Query::partition(Index::Table, org_partition(org_id), MAX_MEMBERS + 1)).await?;
    Ok(page.keep(|r| match r {
        Record::OrgMember(m) => Some(m),
        _ => None,
    }))
}

/// Sets (Some) or removes (None) the organization of a request: agents only. The same value
/// again changes nothing.
pub async fn set_request_organization(
    app: &App,
    caller: &Caller,
    key: &str,
    org_id: Input<Option<String>>,
) -> Result<Viewed, ApiError> {
    let extra: Vec<_> = org_id.iter().flatten().map(|id| org_key(id)).collect();
    let scope = load_request(app, caller, key, &extra).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let wanted = org_id?;
    if let Some(id) = &wanted {
        let known = scope
            .extra
            .iter()
            .any(|r| matches!(r, Record::Organization(o) if &o.id == id && o.project == scope.request.project));
        if !known {
            return Err(ApiError::invalid(
                "invalid_organization",
                format!("{id} is not an organization of project {}", scope.request.project),
            ));
        }
    }
    if scope.request.organization == wanted {
        return Ok((Viewer::Agent, scope.request));
    }
    let (action, detail) = match &wanted {
        Some(id) => ("organization_set", Some(id.clone())),
        None => ("organization_removed", scope.request.organization.clone()),
    };
    let history = history_write(&scope.request, scope.user(), action, vec![], detail, app.now());
    let change = |r: &mut Request| r.organization = wanted.clone();
    let request = update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        Seen::Public,
        change,
        || vec![history.clone()],
    )
    .await?;
    Ok((Viewer::Agent, request))
}

/// One line of seed 004's checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub check: &'static str,
    pub ok: bool,
    /// The list filter that shows the request, for the `right_filter` line.
    pub filter: Option<String>,
    pub why: &'static str,
}

/// Why one customer can or cannot see one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Visibility {
    pub request: String,
    pub email: EmailAddress,
    pub checks: Vec<Check>,
    pub reporter: bool,
    pub participant: bool,
    pub visible: bool,
    pub reason: &'static str,
}

/// Seed 004's checklist for one customer and one request: each condition, and the verdict,
/// decided by the same rule every read path uses.
pub async fn visibility(app: &App, caller: &Caller, key: &str, email: Input<String>) -> Result<Visibility, ApiError> {
    let parsed = email.and_then(|e| EmailAddress::parse(&e));
    let extra: Vec<_> = parsed.iter().map(|e| email_key(e.as_str())).collect();
    let scope = load_request(app, caller, key, &extra).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let email = parsed?;
    let customer = owner_account(app, &scope.extra).await?;
    let (request, sharing) = (&scope.request, scope.project.settings.org_sharing);
    let org = request.organization.clone();
    let holds = |rule: &dyn Fn(&User) -> bool| customer.as_ref().is_some_and(rule);
    let member = holds(&|c| org.as_deref().is_some_and(|o| c.is_member_of(o)));
    let in_several = holds(&|c| c.organizations_in(&request.project).count() > 1);
    let reporter = holds(&|c| c.id == request.reporter_id);
    let participant = holds(&|c| request.participant_ids.contains(&c.id));
    let reason = match &customer {
        None => "no account has this address",
        Some(_) if reporter => "the customer raised it",
        Some(_) if participant => "the customer is a participant",
        Some(c) if is_agent(c, &request.project) => "the address belongs to an agent of the project",
        Some(c) if org_shared(c, request, sharing) => "shared through the customer's organization",
        Some(_) => "not the reporter, not a participant, and not shared with an organization they belong to",
    };
    let checks = vec![
        Check {
            check: "organization_set",
            ok: org.is_some(),
            filter: None,
            why: "the request must have an organization set to appear in the organization's shared view",
        },
        Check {
            check: "sharing_on",
            ok: sharing,
            filter: None,
            why: "with sharing off, customers cannot see requests raised by other people in their organization",
        },
        Check {
            check: "customer_in_organization",
            ok: member,
            filter: None,
            why: "customers only see shared requests of organizations they belong to",
        },
        Check {
            check: "right_filter",
            ok: !in_several,
            filter: org.as_ref().map(|o| format!("/requests?view=organization&organization={o}")),
            why: "a customer in several organizations may need to choose this organization in their request list",
        },
    ];
    Ok(Visibility {
        request: request.key.clone(),
        email,
        checks,
        reporter,
        participant,
        visible: holds(&|c| can_view(c, request, sharing)),
        reason,
    })
}
