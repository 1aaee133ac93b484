//! Organizations and who sees what (seeds 002 and 004): membership, the organization on a
//! request, externally managed organizations, and the visibility checklist.

use crate::auth::{authenticate, find_user_by_email, Principal};
use crate::error::ApiError;
use crate::items::{
    email_key, managed_domains_key, org_key, org_member_key, org_partition, project_key, project_of, request_key,
    user_key,
};
use crate::model::{ExternalSource, ManagedDomains, OrgMember, Organization, Project, Record, Request, User};
use crate::participants::managed_domain_refusal;
use crate::projects::{load_project, require_agent, update_user_by_email};
use crate::requests::{can_view, history_write, is_agent, org_shared, update_request};
use crate::store::{Condition, Query, Write};
use crate::table::Index;
use crate::text::{check_text, new_ulid, normalize_email, rfc3339};
use crate::App;
use serde::Deserialize;
use serde_json::{json, Value};

/// Members one organization may have (the sync reads them in one Query).
pub const MAX_MEMBERS: usize = 1000;

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

pub fn organization_json(o: &Organization) -> Value {
    json!({
        "id": o.id,
        "project": o.project,
        "name": o.name,
        "external": o.external.as_ref().map(|e| json!({"source": e.source, "contact": e.contact})),
        "created_at": rfc3339(o.created_at),
    })
}

pub async fn create_organization(
    app: &App,
    bearer: Option<&str>,
    project: &str,
    input: NewOrganization,
) -> Result<Organization, ApiError> {
    check_text("name", &input.name, 200, false, true)?;
    if let Some(external) = &input.external {
        check_text("external.source", &external.source, 100, false, true)?;
        check_text("external.contact", &external.contact, 254, false, true)?;
    }
    let (principal, project) = load_project(app, bearer, project).await?;
    require_agent(&principal, &project.key)?;
    if input.external.is_some() && !principal.user.app_admin {
        return Err(ApiError::forbidden("only an app admin can create externally managed organizations"));
    }
    let org = Organization {
        id: new_ulid(),
        project: project.key,
        name: input.name.trim().to_string(),
        external: input.external,
        created_at: app.now(),
    };
    app.store
        .transact(vec![Write::Put { record: Record::Organization(org.clone()), condition: Condition::NotExists }])
        .await?;
    Ok(org)
}

/// An organization and its caller, who must be an agent of its project.
async fn load_org(app: &App, bearer: Option<&str>, org_id: &str) -> Result<(Principal, Organization), ApiError> {
    let (principal, records) = authenticate(app, bearer, &[org_key(org_id)]).await?;
    let org = records
        .into_iter()
        .find_map(|r| match r {
            Record::Organization(o) => Some(o),
            _ => None,
        })
        .ok_or(ApiError::NotFound("organization"))?;
    require_agent(&principal, &org.project)?;
    Ok((principal, org))
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
async fn ensure_member(app: &App, caller: &User, org: &Organization, email: &str) -> Result<User, ApiError> {
    if find_user_by_email(app, email).await?.is_none() && !caller.app_admin {
        let managed = match app.store.get(&managed_domains_key()).await? {
            Some(Record::ManagedDomains(m)) => m,
            _ => ManagedDomains::default(),
        };
        if managed.covers(email) {
            return Err(managed_domain_refusal(&[&email.to_string()]));
        }
    }
    let now = app.now();
    update_user_by_email(app, email, |user| {
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
async fn end_membership(app: &App, org: &Organization, email: &str) -> Result<(), ApiError> {
    match find_user_by_email(app, email).await? {
        Some(user) if user.is_member_of(&org.id) => {
            update_user_by_email(app, email, |user| {
                user.organizations.remove(&org.id);
                vec![Write::Delete { key: org_member_key(&org.id, &user.id), condition: Condition::None }]
            })
            .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

pub async fn add_member(app: &App, bearer: Option<&str>, org_id: &str, input: MemberInput) -> Result<User, ApiError> {
    let email = normalize_email(&input.email)?;
    let (principal, org) = load_org(app, bearer, org_id).await?;
    refuse_if_external(&org)?;
    ensure_member(app, &principal.user, &org, &email).await
}

pub async fn remove_member(app: &App, bearer: Option<&str>, org_id: &str, raw_email: &str) -> Result<(), ApiError> {
    let email = normalize_email(raw_email)?;
    let (_, org) = load_org(app, bearer, org_id).await?;
    refuse_if_external(&org)?;
    end_membership(app, &org, &email).await
}

/// The CRM sync (app admins): makes the membership exactly `emails`, in one idempotent call.
pub async fn sync_members(
    app: &App,
    bearer: Option<&str>,
    org_id: &str,
    input: SyncInput,
) -> Result<Vec<String>, ApiError> {
    let (principal, org) = load_org(app, bearer, org_id).await?;
    if !principal.user.app_admin {
        return Err(ApiError::forbidden("only an app admin can sync an organization's members"));
    }
    if input.emails.len() > MAX_MEMBERS {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_MEMBERS} members")));
    }
    let mut wanted = input.emails.iter().map(|e| normalize_email(e)).collect::<Result<Vec<_>, _>>()?;
    wanted.sort();
    wanted.dedup();
    let current = members(app, &org.id).await?;
    for member in current.iter().filter(|m| wanted.binary_search(&m.email).is_err()) {
        end_membership(app, &org, &member.email).await?;
    }
    for email in wanted.iter().filter(|e| !current.iter().any(|m| &m.email == *e)) {
        ensure_member(app, &principal.user, &org, email).await?;
    }
    Ok(wanted)
}

async fn members(app: &App, org_id: &str) -> Result<Vec<OrgMember>, ApiError> {
    let page = app.store.query(&Query::partition(Index::Table, org_partition(org_id), MAX_MEMBERS + 1)).await?;
    Ok(page
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::OrgMember(m) => Some(m),
            _ => None,
        })
        .collect())
}

/// Sets (Some) or removes (None) the organization of a request: agents only. The same value
/// again changes nothing.
pub async fn set_request_organization(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    org_id: Option<&str>,
) -> Result<Request, ApiError> {
    let project = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let mut keys = vec![request_key(key), project_key(project)];
    keys.extend(org_id.map(org_key));
    let (principal, records) = authenticate(app, bearer, &keys).await?;
    let (mut request, mut sharing, mut org) = (None, false, None);
    for record in records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Project(p) => sharing = p.settings.org_sharing,
            Record::Organization(o) => org = Some(o),
            _ => {}
        }
    }
    let user = &principal.user;
    let request = request.filter(|r| can_view(user, r, sharing)).ok_or(ApiError::NotFound("request"))?;
    if !is_agent(user, &request) {
        return Err(ApiError::forbidden("only agents can set a request's organization"));
    }
    if let Some(id) = org_id {
        if org.as_ref().is_none_or(|o| o.project != request.project) {
            return Err(ApiError::invalid(
                "invalid_organization",
                format!("{id} is not an organization of project {}", request.project),
            ));
        }
    }
    let wanted = org_id.map(str::to_string);
    if request.organization == wanted {
        return Ok(request);
    }
    let (action, detail) = match &wanted {
        Some(id) => ("organization_set", Some(id.clone())),
        None => ("organization_removed", request.organization.clone()),
    };
    let history = history_write(&request, user, action, vec![], detail, app.now());
    update_request(app, request, |r| r.organization = wanted.clone(), || vec![history.clone()]).await
}

/// Seed 004's checklist for one customer and one request: each condition, and the verdict.
pub async fn visibility(app: &App, bearer: Option<&str>, key: &str, raw_email: &str) -> Result<Value, ApiError> {
    let email = normalize_email(raw_email)?;
    let project_key_str = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let keys = [request_key(key), project_key(project_key_str), email_key(&email)];
    let (principal, records) = authenticate(app, bearer, &keys).await?;
    let (mut request, mut project, mut owner): (Option<Request>, Option<Project>, Option<String>) = (None, None, None);
    for record in records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Project(p) => project = Some(p),
            Record::EmailOwner(o) => owner = Some(o.user_id),
            _ => {}
        }
    }
    let project = project.ok_or(ApiError::NotFound("request"))?;
    let sharing = project.settings.org_sharing;
    let request = request.filter(|r| can_view(&principal.user, r, sharing)).ok_or(ApiError::NotFound("request"))?;
    if !is_agent(&principal.user, &request) {
        return Err(ApiError::forbidden("only agents can read the visibility checklist"));
    }
    let customer = match owner {
        Some(id) => match app.store.get(&user_key(&id)).await? {
            Some(Record::User(u)) => Some(u),
            _ => None,
        },
        None => None,
    };
    let org = request.organization.clone();
    let member = customer.as_ref().zip(org.as_deref()).is_some_and(|(c, o)| c.is_member_of(o));
    let in_several = customer.as_ref().is_some_and(|c| c.organizations_in(&request.project).count() > 1);
    let reporter = customer.as_ref().is_some_and(|c| c.id == request.reporter_id);
    let participant = customer.as_ref().is_some_and(|c| request.participant_ids.contains(&c.id));
    let agent = customer.as_ref().is_some_and(|c| is_agent(c, &request));
    let through_org = customer.as_ref().is_some_and(|c| org_shared(c, &request, sharing));
    let visible = customer.as_ref().is_some_and(|c| can_view(c, &request, sharing));
    let filter = org.as_ref().map(|o| format!("/requests?view=organization&organization={o}"));
    let checks = json!([
        {"check": "organization_set", "ok": org.is_some(),
         "why": "the request must have an organization set to appear in the organization's shared view"},
        {"check": "sharing_on", "ok": sharing,
         "why": "with sharing off, customers cannot see requests raised by other people in their organization"},
        {"check": "customer_in_organization", "ok": member,
         "why": "customers only see shared requests of organizations they belong to"},
        {"check": "right_filter", "ok": !in_several, "filter": filter,
         "why": "a customer in several organizations may need to choose this organization in their request list"},
    ]);
    let reason = if customer.is_none() {
        "no account has this address".to_string()
    } else if reporter {
        "the customer raised it".to_string()
    } else if participant {
        "the customer is a participant".to_string()
    } else if agent {
        "the address belongs to an agent of the project".to_string()
    } else if through_org {
        "shared through the customer's organization".to_string()
    } else {
        "not the reporter, not a participant, and not shared with an organization they belong to".to_string()
    };
    Ok(json!({
        "request": request.key,
        "email": email,
        "checks": checks,
        "reporter": reporter,
        "participant": participant,
        "verdict": if visible { "visible" } else { "hidden" },
        "reason": reason,
    }))
}
