//! Sharing a request with other people (seeds 000, 001): participants, customers added by
//! agents, and the managed email domains where only app admins may create accounts.

use crate::auth::{authenticate, new_account_writes, new_user, Principal};
use crate::error::ApiError;
use crate::items::{email_key, managed_domains_key, project_key, project_of, request_key};
use crate::model::{ManagedDomains, Participant, Project, ProjectCustomer, Record, Request, User};
use crate::requests::{can_view, history_write, is_agent, is_party};
use crate::store::{Condition, StoreError, Write};
use crate::text::{check_text, normalize_email};
use crate::App;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Addresses one share call may add: bounded so a call stays one transaction (<= 100 items).
pub const MAX_EMAILS_PER_CALL: usize = 20;
pub const MAX_MANAGED_DOMAINS: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareInput {
    pub emails: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainsInput {
    pub domains: Vec<String>,
}

pub fn participants_json(request: &Request, cap: Option<u32>) -> Value {
    json!({
        "request": request.key,
        "items": request.participants.iter().map(|e| json!({"email": e})).collect::<Vec<_>>(),
        "participant_cap": cap,
    })
}

/// Lower-cased, trimmed, deduplicated, in the caller's order; any bad address refuses all.
fn normalize_all(raw: &[String]) -> Result<Vec<String>, ApiError> {
    if raw.len() > MAX_EMAILS_PER_CALL {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_EMAILS_PER_CALL} addresses per call")));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for r in raw {
        let email = normalize_email(r)?;
        if !out.contains(&email) {
            out.push(email);
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid("invalid_field", "emails must list at least one address"));
    }
    if out.len() > MAX_EMAILS_PER_CALL {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_EMAILS_PER_CALL} addresses per call")));
    }
    Ok(out)
}

/// Refuses addresses a `reject:` blocklist rule matches, given the rules read with them.
fn refuse_rejected(emails: &[String], records: &[Record]) -> Result<(), ApiError> {
    for email in emails {
        let patterns = crate::moderation::candidate_patterns(email);
        let rules: Vec<Record> = records
            .iter()
            .filter(|r| matches!(r, Record::BlockRule(b) if patterns.contains(&b.pattern)))
            .cloned()
            .collect();
        if crate::moderation::verdict(&rules) == Some(crate::model::BlockAction::Reject) {
            return Err(crate::moderation::blocked_error(email));
        }
    }
    Ok(())
}

pub(crate) fn managed_domain_refusal(emails: &[&String]) -> ApiError {
    let list = emails.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
    ApiError::Refused {
        code: "managed_domain",
        message: format!(
            "{list}: this address is in a managed domain, where only an app admin can create accounts. Ask an app admin to add the customer first."
        ),
    }
}

/// What one read (with the session) brings for sharing: the request, its project, the managed
/// domains and the accounts of the addresses.
struct ShareContext {
    principal: Principal,
    request: Request,
    project: Project,
    managed: ManagedDomains,
    owners: BTreeMap<String, String>,
    /// Blocklist rules matching the addresses.
    rules: Vec<Record>,
}

async fn load_share_context(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    emails: &[String],
) -> Result<ShareContext, ApiError> {
    let project_key_str = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let mut keys = vec![request_key(key), project_key(project_key_str), managed_domains_key()];
    keys.extend(emails.iter().map(|e| email_key(e)));
    keys.extend(emails.iter().flat_map(|e| crate::moderation::candidate_keys(e)));
    let (principal, records) = authenticate(app, bearer, &keys).await?;
    let (mut request, mut project, mut managed) = (None, None, ManagedDomains::default());
    let mut owners = BTreeMap::new();
    let mut rules = vec![];
    for record in records {
        match record {
            rule @ Record::BlockRule(_) => rules.push(rule),
            Record::Request(r) => request = Some(r),
            Record::Project(p) => project = Some(p),
            Record::ManagedDomains(m) => managed = m,
            Record::EmailOwner(o) => {
                owners.insert(o.email, o.user_id);
            }
            _ => {}
        }
    }
    let project = project.ok_or(ApiError::NotFound("request"))?;
    let sharing = project.settings.org_sharing;
    let request = request.filter(|r| can_view(&principal.user, r, sharing)).ok_or(ApiError::NotFound("request"))?;
    if !(is_agent(&principal.user, &request) || is_party(&principal.user, &request)) {
        return Err(ApiError::forbidden("only the reporter, participants and agents can share this request"));
    }
    Ok(ShareContext { principal, request, project, managed, owners, rules })
}

/// Shares a request with several addresses in one transaction. Addresses already sharing it
/// (or its reporter) are no-ops, so a retried call writes nothing and adds no history. Every
/// address must have an account: agents may create one on the spot (not in a managed domain,
/// unless they are app admin); customers get `participant_unknown`. All or nothing.
pub async fn share(app: &App, bearer: Option<&str>, key: &str, input: ShareInput) -> Result<(Request, u32), ApiError> {
    let emails = normalize_all(&input.emails)?;
    for _ in 0..5 {
        let ctx = load_share_context(app, bearer, key, &emails).await?;
        let user = &ctx.principal.user;
        let cap = ctx.project.settings.participant_cap;
        let new: Vec<&String> = emails
            .iter()
            .filter(|e| !ctx.request.participants.contains(e) && **e != ctx.request.reporter_email)
            .filter(|e| ctx.owners.get(*e) != Some(&ctx.request.reporter_id))
            .collect();
        if new.is_empty() {
            return Ok((ctx.request, cap));
        }
        refuse_rejected(&new.iter().map(|e| (*e).clone()).collect::<Vec<_>>(), &ctx.rules)?;
        let unknown: Vec<&String> = new.iter().copied().filter(|e| !ctx.owners.contains_key(*e)).collect();
        if !unknown.is_empty() {
            if !is_agent(user, &ctx.request) {
                let list = unknown.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
                return Err(ApiError::invalid(
                    "participant_unknown",
                    format!(
                        "{list} has no account with this helpdesk yet. Ask them to open a request first (for example by writing to {}), then share again.",
                        ctx.project.support_address
                    ),
                ));
            }
            let managed: Vec<&String> = unknown.iter().copied().filter(|e| ctx.managed.covers(e)).collect();
            if !managed.is_empty() && !user.app_admin {
                return Err(managed_domain_refusal(&managed));
            }
        }
        if ctx.request.participant_ids.len() + new.len() > cap as usize {
            return Err(ApiError::invalid(
                "participant_cap",
                format!(
                    "a request can have at most {cap} participants; it has {} and this adds {}",
                    ctx.request.participant_ids.len(),
                    new.len()
                ),
            ));
        }
        let now = app.now();
        let mut next = ctx.request.clone();
        let mut writes = vec![];
        for email in &new {
            let user_id = match ctx.owners.get(*email) {
                Some(id) => id.clone(),
                None => {
                    let account = new_user(email, now);
                    writes.extend(new_account_writes(&account));
                    writes.push(customer_write(&ctx.project.key, &account, &user.id, now));
                    account.id
                }
            };
            next.participants.push((*email).clone());
            next.participant_ids.push(user_id.clone());
            writes.push(Write::Put {
                record: Record::Participant(Participant {
                    request_key: next.key.clone(),
                    request_id: next.id.clone(),
                    user_id,
                    email: (*email).clone(),
                    added_by: user.id.clone(),
                    added_at: now,
                }),
                condition: Condition::None,
            });
        }
        writes.push(history_write(
            &next,
            user,
            "participants_added",
            new.iter().map(|e| (*e).clone()).collect(),
            None,
            now,
        ));
        next.version += 1;
        next.updated_at = now;
        writes.insert(
            0,
            Write::Put { record: Record::Request(next.clone()), condition: Condition::VersionIs(ctx.request.version) },
        );
        match app.store.transact(writes).await {
            Ok(()) => return Ok((next, cap)),
            // The request changed or an account appeared meanwhile: read again and redo.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

/// Stops sharing a request with an address: access ends at once. Removing someone who is not
/// a participant changes nothing (safe to retry).
pub async fn unshare(app: &App, bearer: Option<&str>, key: &str, raw_email: &str) -> Result<(Request, u32), ApiError> {
    let email = normalize_email(raw_email)?;
    for _ in 0..5 {
        let ctx = load_share_context(app, bearer, key, std::slice::from_ref(&email)).await?;
        let cap = ctx.project.settings.participant_cap;
        let Some(index) = ctx.request.participants.iter().position(|e| *e == email) else {
            return Ok((ctx.request, cap));
        };
        let now = app.now();
        let mut next = ctx.request.clone();
        next.participants.remove(index);
        let user_id = next.participant_ids.remove(index);
        next.version += 1;
        next.updated_at = now;
        let writes = vec![
            Write::Put { record: Record::Request(next.clone()), condition: Condition::VersionIs(ctx.request.version) },
            Write::Delete { key: crate::items::participant_key(&next.key, &user_id), condition: Condition::None },
            history_write(&next, &ctx.principal.user, "participants_removed", vec![email.clone()], None, now),
        ];
        match app.store.transact(writes).await {
            Ok(()) => return Ok((next, cap)),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

/// The participants of a request the caller can see.
pub async fn list_participants(app: &App, bearer: Option<&str>, key: &str) -> Result<Request, ApiError> {
    let project = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let (principal, records) = authenticate(app, bearer, &[request_key(key), project_key(project)]).await?;
    let sharing = records.iter().any(|r| matches!(r, Record::Project(p) if p.settings.org_sharing));
    records
        .into_iter()
        .find_map(|r| match r {
            Record::Request(r) if can_view(&principal.user, &r, sharing) => Some(r),
            _ => None,
        })
        .ok_or(ApiError::NotFound("request"))
}

fn customer_write(project: &str, account: &User, added_by: &str, now: i64) -> Write {
    Write::Put {
        record: Record::ProjectCustomer(ProjectCustomer {
            project: project.to_string(),
            user_id: account.id.clone(),
            email: account.email.clone(),
            added_by: added_by.to_string(),
            added_at: now,
        }),
        condition: Condition::None,
    }
}

/// Adds a customer to a project (agents). An existing account is simply recorded as a
/// customer of the project; a new one is created, except in a managed domain where only an
/// app admin may. Returns the account and whether it was created.
pub async fn add_customer(
    app: &App,
    bearer: Option<&str>,
    project: &str,
    input: NewCustomer,
) -> Result<(User, bool), ApiError> {
    let email = normalize_email(&input.email)?;
    if let Some(name) = &input.name {
        check_text("name", name, 200, false, true)?;
    }
    for _ in 0..5 {
        let mut keys = vec![project_key(project), managed_domains_key(), email_key(&email)];
        keys.extend(crate::moderation::candidate_keys(&email));
        let (principal, records) = authenticate(app, bearer, &keys).await?;
        refuse_rejected(std::slice::from_ref(&email), &records)?;
        let (mut found_project, mut managed, mut owner) = (None, ManagedDomains::default(), None);
        for record in records {
            match record {
                Record::Project(p) => found_project = Some(p),
                Record::ManagedDomains(m) => managed = m,
                Record::EmailOwner(o) => owner = Some(o.user_id),
                _ => {}
            }
        }
        let found_project = found_project.ok_or(ApiError::NotFound("project"))?;
        crate::projects::require_agent(&principal, &found_project.key)?;
        let now = app.now();
        if let Some(user_id) = owner {
            let account = match app.store.get(&crate::items::user_key(&user_id)).await? {
                Some(Record::User(u)) => u,
                _ => return Err(ApiError::Internal(format!("account {user_id} missing for its address"))),
            };
            let write = customer_write(&found_project.key, &account, &principal.user.id, now);
            app.store.transact(vec![write]).await?;
            return Ok((account, false));
        }
        if managed.covers(&email) && !principal.user.app_admin {
            return Err(managed_domain_refusal(&[&email]));
        }
        let mut account = new_user(&email, now);
        account.name = input.name.as_ref().map(|n| n.trim().to_string());
        let mut writes = new_account_writes(&account).to_vec();
        writes.push(customer_write(&found_project.key, &account, &principal.user.id, now));
        match app.store.transact(writes).await {
            Ok(()) => return Ok((account, true)),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

fn require_app_admin(principal: &Principal) -> Result<(), ApiError> {
    if principal.user.app_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("only an app admin can manage managed domains"))
    }
}

pub async fn get_managed_domains(app: &App, bearer: Option<&str>) -> Result<ManagedDomains, ApiError> {
    let (principal, records) = authenticate(app, bearer, &[managed_domains_key()]).await?;
    require_app_admin(&principal)?;
    Ok(records
        .into_iter()
        .find_map(|r| match r {
            Record::ManagedDomains(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default())
}

/// Replaces the managed domains (idempotent: the same list twice is the same state).
pub async fn put_managed_domains(
    app: &App,
    bearer: Option<&str>,
    input: DomainsInput,
) -> Result<ManagedDomains, ApiError> {
    let (principal, _) = authenticate(app, bearer, &[]).await?;
    require_app_admin(&principal)?;
    if input.domains.len() > MAX_MANAGED_DOMAINS {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_MANAGED_DOMAINS} domains")));
    }
    let mut domains = Vec::with_capacity(input.domains.len());
    for raw in &input.domains {
        let domain = raw.trim().trim_start_matches('@').to_lowercase();
        normalize_email(&format!("x@{domain}"))
            .map_err(|_| ApiError::invalid("invalid_domain", format!("'{}' is not a domain", raw.trim())))?;
        domains.push(domain);
    }
    domains.sort();
    domains.dedup();
    let managed = ManagedDomains { domains, updated_at: app.now() };
    let write = Write::Put { record: Record::ManagedDomains(managed.clone()), condition: Condition::None };
    app.store.transact(vec![write]).await?;
    Ok(managed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_normalise_dedupe_and_bound() {
        let raw = vec![" Bob@Example.com".to_string(), "bob@example.com".into(), "cy@example.com".into()];
        assert_eq!(normalize_all(&raw).unwrap(), ["bob@example.com", "cy@example.com"]);
        assert_eq!(normalize_all(&[]).unwrap_err().code(), "invalid_field");
        assert_eq!(normalize_all(&["ok@example.com".into(), "nope".into()]).unwrap_err().code(), "invalid_email");
        let many: Vec<String> = (0..=MAX_EMAILS_PER_CALL).map(|i| format!("u{i}@example.com")).collect();
        assert_eq!(normalize_all(&many).unwrap_err().code(), "invalid_field");
    }
}
