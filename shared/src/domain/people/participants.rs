//! Sharing a request with other people (seeds 000, 001): participants, customers added by
//! agents, and the managed email domains where only app admins may create accounts.

use crate::domain::access::{is_agent, may_create_account, require_agent, require_app_admin, require_party_or_agent};
use crate::domain::auth::{new_account_writes, new_user};
use crate::domain::blocklist::{self, Commit, Guard};
use crate::domain::caller::{load_project, load_request, resolve, Caller};
use crate::domain::email::{is_domain, EmailAddress};
use crate::domain::projects::managed_domains;
use crate::domain::requests::{history_write, replace_request};
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{email_key, managed_domains_key, participant_key, user_key, ItemKey};
use crate::model::{ManagedDomains, Participant, ProjectCustomer, Record, Request, User};
use crate::store::{Condition, Write};
use crate::text::check_text;
use crate::App;
use serde::Deserialize;
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

/// Parsed, deduplicated, in the caller's order; any bad address refuses all.
fn parse_all(raw: &[String]) -> Result<Vec<EmailAddress>, ApiError> {
    if raw.len() > MAX_EMAILS_PER_CALL {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_EMAILS_PER_CALL} addresses per call")));
    }
    let mut out: Vec<EmailAddress> = Vec::with_capacity(raw.len());
    for r in raw {
        let email = EmailAddress::parse(r)?;
        if !out.contains(&email) {
            out.push(email);
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid("invalid_field", "emails must list at least one address"));
    }
    Ok(out)
}

/// What to read with the session for a set of addresses: their accounts, the blocklist rules
/// that could match them, and the managed domains.
fn address_keys(emails: &[EmailAddress]) -> Vec<ItemKey> {
    let mut keys = vec![managed_domains_key()];
    keys.extend(emails.iter().map(|e| email_key(e.as_str())));
    keys.extend(emails.iter().flat_map(blocklist::pattern_keys));
    keys
}

fn owners(records: &[Record]) -> BTreeMap<String, String> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::EmailOwner(o) => Some((o.email.to_string(), o.user_id.clone())),
            _ => None,
        })
        .collect()
}

fn customer_write(project: &str, user_id: &str, email: &EmailAddress, added_by: &str, now: i64) -> Write {
    Write::Put {
        record: Record::ProjectCustomer(ProjectCustomer {
            project: project.to_string(),
            user_id: user_id.to_string(),
            email: email.clone(),
            added_by: added_by.to_string(),
            added_at: now,
        }),
        condition: Condition::None,
    }
}

/// Shares a request with several addresses in one transaction. Addresses already sharing it
/// (or its reporter) are no-ops, so a retried call writes nothing and adds no history. Every
/// address must have an account: agents may create one on the spot (not in a managed domain,
/// unless they are app admin); customers get `participant_unknown`. All or nothing.
pub async fn share(
    app: &App,
    caller: &Caller,
    key: &str,
    input: Input<ShareInput>,
) -> Result<(Request, u32), ApiError> {
    let parsed = input.and_then(|i| parse_all(&i.emails));
    let extra = parsed.as_ref().map(|e| address_keys(e)).unwrap_or_default();
    let mut guard: Option<Guard> = None;
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let scope = load_request(app, caller, key, &extra).await?;
        let user = scope.user();
        require_party_or_agent(user, &scope.request, "share this request")?;
        let emails = parsed.as_ref().map_err(Clone::clone)?;
        let guard = guard.get_or_insert_with(|| Guard::for_actor(&scope.actor, &scope.project.key));
        let (request, project) = (&scope.request, &scope.project);
        let owners = owners(&scope.extra);
        let cap = project.settings.participant_cap;
        let new: Vec<&EmailAddress> = emails
            .iter()
            .filter(|e| !request.participants.iter().any(|p| *e == p) && **e != request.reporter_email)
            .filter(|e| owners.get(e.as_str()) != Some(&request.reporter_id))
            .collect();
        if new.is_empty() {
            return Ok((scope.request, cap));
        }
        let agent = is_agent(user, &project.key);
        let mut rejected = vec![];
        for email in &new {
            match blocklist::refuse_rejected(email, Some(&project.key), &scope.extra) {
                Ok(_) => {}
                // A customer learns nothing of another user's moderation: the answer is the
                // one for an address that cannot be shared with (no account here).
                Err(_) if !agent => rejected.push(*email),
                Err(e) => return Err(e),
            }
        }
        let unknown: Vec<&EmailAddress> =
            new.iter().copied().filter(|e| !owners.contains_key(e.as_str()) || rejected.contains(e)).collect();
        if !unknown.is_empty() {
            if !agent {
                let list = unknown.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
                return Err(ApiError::invalid(
                    "participant_unknown",
                    format!(
                        "{list} has no account with this helpdesk yet. Ask them to open a request first (for example by writing to {}), then share again.",
                        project.support_address
                    ),
                ));
            }
            may_create_account(user, &unknown, &managed_domains(&scope.extra))?;
        }
        if request.participant_ids.len() + new.len() > cap as usize {
            return Err(ApiError::invalid(
                "participant_cap",
                format!(
                    "a request can have at most {cap} participants; it has {} and this adds {}",
                    request.participant_ids.len(),
                    new.len()
                ),
            ));
        }
        let now = app.now();
        let mut next = request.clone();
        let mut writes = vec![];
        for email in &new {
            let user_id = match owners.get(email.as_str()) {
                Some(id) => id.clone(),
                None => {
                    let account = new_user(email, now);
                    writes.extend(new_account_writes(&account));
                    account.id
                }
            };
            writes.push(customer_write(&project.key, &user_id, email, &user.id, now));
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
        let added = new.iter().map(|e| (*e).clone()).collect();
        writes.push(history_write(&next, user, "participants_added", added, None, now));
        next.version += 1;
        next.updated_at = now;
        writes.insert(0, replace_request(request, next.clone()));
        // Anything but success: the request changed or an account appeared meanwhile, so
        // read again and redo.
        if let Commit::Done = guard.commit(app, writes).await? {
            return Ok((next, cap));
        }
    }
}

/// Shares a request, as `caller`, with every address the sharing rules allow (the cap,
/// managed domains, blocklist rules and suspensions): all at once when they all may, else one
/// by one. Answers the addresses refused, each with why, for a note to the agents.
pub(crate) async fn share_where_allowed(
    app: &App,
    caller: &Caller,
    key: &str,
    emails: &[EmailAddress],
) -> Result<Vec<String>, ApiError> {
    let mut skipped = vec![];
    for chunk in emails.chunks(MAX_EMAILS_PER_CALL) {
        let all = ShareInput { emails: chunk.iter().map(ToString::to_string).collect() };
        if share(app, caller, key, Ok(all)).await.is_ok() {
            continue;
        }
        for email in chunk {
            let one = ShareInput { emails: vec![email.to_string()] };
            match share(app, caller, key, Ok(one)).await {
                Ok(_) => {}
                Err(e @ (ApiError::StorageUnavailable | ApiError::Internal(_))) => return Err(e),
                Err(e) => skipped.push(format!("- {email}: {}", e.public_message())),
            }
        }
    }
    Ok(skipped)
}

/// Stops sharing a request with an address: access ends at once. Removing someone who is not
/// a participant changes nothing (safe to retry).
pub async fn unshare(app: &App, caller: &Caller, key: &str, raw_email: &str) -> Result<(Request, u32), ApiError> {
    let mut guard: Option<Guard> = None;
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let scope = load_request(app, caller, key, &[]).await?;
        require_party_or_agent(scope.user(), &scope.request, "share this request")?;
        let email = EmailAddress::parse(raw_email)?;
        let guard = guard.get_or_insert_with(|| Guard::for_actor(&scope.actor, &scope.project.key));
        let cap = scope.project.settings.participant_cap;
        let Some(index) = scope.request.participants.iter().position(|e| email == *e) else {
            return Ok((scope.request, cap));
        };
        let now = app.now();
        let mut next = scope.request.clone();
        next.participants.remove(index);
        let user_id = next.participant_ids.remove(index);
        next.version += 1;
        next.updated_at = now;
        let writes = vec![
            replace_request(&scope.request, next.clone()),
            Write::Delete { key: participant_key(&next.key, &user_id), condition: Condition::None },
            history_write(&next, scope.user(), "participants_removed", vec![email.clone()], None, now),
        ];
        if let Commit::Done = guard.commit(app, writes).await? {
            return Ok((next, cap));
        }
    }
}

/// The participants of a request the caller can see, and the project's cap.
pub async fn list_participants(app: &App, caller: &Caller, key: &str) -> Result<(Request, u32), ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    Ok((scope.request, scope.project.settings.participant_cap))
}

/// Adds a customer to a project (agents). An existing account is simply recorded as a
/// customer of the project; a new one is created, except in a managed domain where only an
/// app admin may. Returns the account and whether it was created.
pub async fn add_customer(
    app: &App,
    caller: &Caller,
    project: &str,
    input: Input<NewCustomer>,
) -> Result<(User, bool), ApiError> {
    let email = input.as_ref().ok().and_then(|i| EmailAddress::parse(&i.email).ok());
    let extra = address_keys(email.as_slice());
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let (actor, project, records) = load_project(app, caller, project, &extra).await?;
        require_agent(&actor.user, &project.key)?;
        let input = input.as_ref().map_err(Clone::clone)?;
        let email = EmailAddress::parse(&input.email)?;
        if let Some(name) = &input.name {
            check_text("name", name, 200, false, true)?;
        }
        blocklist::refuse_rejected(&email, Some(&project.key), &records)?;
        let mut guard = Guard::for_actor(&actor, &project.key);
        let now = app.now();
        let (account, writes) = match owners(&records).get(email.as_str()) {
            Some(user_id) => match app.store.get(&user_key(user_id)).await? {
                Some(Record::User(u)) => (u, vec![]),
                _ => return Err(ApiError::Internal(format!("account {user_id} missing for its address"))),
            },
            None => {
                may_create_account(&actor.user, &[&email], &managed_domains(&records))?;
                let mut account = new_user(&email, now);
                account.name = input.name.as_ref().map(|n| n.trim().to_string());
                let writes = new_account_writes(&account).to_vec();
                (account, writes)
            }
        };
        let created = !writes.is_empty();
        let mut writes = writes;
        writes.push(customer_write(&project.key, &account.id, &account.email, &actor.user.id, now));
        // Anything but success: the account appeared meanwhile; read again.
        if let Commit::Done = guard.commit(app, writes).await? {
            return Ok((account, created));
        }
    }
}

pub async fn get_managed_domains(app: &App, caller: &Caller) -> Result<ManagedDomains, ApiError> {
    let (actor, records) = resolve(app, caller, &[managed_domains_key()]).await?;
    require_app_admin(&actor.user, "manage managed domains")?;
    Ok(managed_domains(&records))
}

/// The longest managed-domain entry accepted (the document's maxLength).
pub const MAX_DOMAIN_TEXT: usize = 253;

/// What a managed-domain entry may be, as the API document publishes it: a domain, maybe
/// written `@domain`, with space around.
pub fn managed_domain_pattern() -> String {
    use crate::domain::email::{DOMAIN_CORE, WHITE_SPACE_CLASS as WS};
    format!("^{WS}*@*{DOMAIN_CORE}{WS}*$")
}

/// `example.com` or `@example.com`, lower-cased.
pub fn parse_managed_domain(raw: &str) -> Result<String, ApiError> {
    let domain = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    if raw.chars().count() > MAX_DOMAIN_TEXT || !is_domain(&domain) {
        return Err(ApiError::invalid("invalid_domain", format!("'{}' is not a domain", raw.trim())));
    }
    Ok(domain)
}

/// Replaces the managed domains (idempotent: the same list twice is the same state).
pub async fn put_managed_domains(
    app: &App,
    caller: &Caller,
    input: Input<DomainsInput>,
) -> Result<ManagedDomains, ApiError> {
    let (actor, _) = resolve(app, caller, &[]).await?;
    require_app_admin(&actor.user, "manage managed domains")?;
    let input = input?;
    if input.domains.len() > MAX_MANAGED_DOMAINS {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_MANAGED_DOMAINS} domains")));
    }
    let mut domains = Vec::with_capacity(input.domains.len());
    for raw in &input.domains {
        domains.push(parse_managed_domain(raw)?);
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
    use crate::store::Store;

    #[test]
    fn addresses_parse_dedupe_and_bound() {
        let raw = vec![" Bob@Example.com".to_string(), "bob@example.com".into(), "cy@example.com".into()];
        let parsed: Vec<String> = parse_all(&raw).unwrap().into_iter().map(String::from).collect();
        assert_eq!(parsed, ["bob@example.com", "cy@example.com"]);
        assert_eq!(parse_all(&[]).unwrap_err().code(), "invalid_field");
        assert_eq!(parse_all(&["ok@example.com".into(), "nope".into()]).unwrap_err().code(), "invalid_email");
        let many: Vec<String> = (0..=MAX_EMAILS_PER_CALL).map(|i| format!("u{i}@example.com")).collect();
        assert_eq!(parse_all(&many).unwrap_err().code(), "invalid_field");
        assert_eq!(parse_all(&many[..MAX_EMAILS_PER_CALL]).unwrap().len(), MAX_EMAILS_PER_CALL);
    }

    /// The default cap of 20 is reached, not passed; each share and unshare moves the
    /// request's version by one, and removing the same person twice changes nothing.
    #[tokio::test]
    async fn the_cap_is_reached_not_passed_and_versions_move_by_one() {
        let desk = crate::testing::Desk::new().await;
        desk.project("HD").await;
        let ann = desk.sign_in("ann@example.com").await;
        let request = desk.raise(&ann, "HD", "help").await;
        let emails =
            |range: std::ops::Range<usize>| ShareInput { emails: range.map(|i| format!("p{i}@example.com")).collect() };
        let (shared, cap) = share(&desk.app, &desk.admin, &request.key, Ok(emails(0..19))).await.unwrap();
        assert_eq!((shared.participants.len(), cap, shared.version), (19, 20, request.version + 1));
        let (shared, _) = share(&desk.app, &desk.admin, &request.key, Ok(emails(19..20))).await.unwrap();
        assert_eq!((shared.participants.len(), shared.version), (20, request.version + 2));
        let refused = share(&desk.app, &desk.admin, &request.key, Ok(emails(20..21))).await.unwrap_err();
        assert_eq!(refused.code(), "participant_cap");
        let (unshared, _) = unshare(&desk.app, &desk.admin, &request.key, "p3@example.com").await.unwrap();
        assert_eq!((unshared.participants.len(), unshared.version), (19, request.version + 3));
        assert!(!unshared.participants.iter().any(|p| p.as_str() == "p3@example.com"));
        let (again, _) = unshare(&desk.app, &desk.admin, &request.key, "p3@example.com").await.unwrap();
        assert_eq!(again.version, unshared.version);
        let stored = desk.store.get(&crate::items::participant_key(&request.key, &shared.participant_ids[3])).await;
        assert_eq!(stored.unwrap(), None, "the participant item is gone");
    }

    /// Adding a customer who has an account returns that account (not created); a new
    /// address gets one, with its name.
    #[tokio::test]
    async fn a_customer_is_added_once() {
        let desk = crate::testing::Desk::new().await;
        desk.project("HD").await;
        let ann = crate::auth::me(&desk.app, &desk.sign_in("ann@example.com").await).await.unwrap();
        let input = |email: &str| Ok(NewCustomer { email: email.into(), name: Some(" Bo ".into()) });
        let (known, created) = add_customer(&desk.app, &desk.admin, "HD", input("Ann@example.com")).await.unwrap();
        assert_eq!((known.id, created), (ann.id, false));
        let (new, created) = add_customer(&desk.app, &desk.admin, "HD", input("bo@example.com")).await.unwrap();
        assert_eq!((new.email.as_str(), new.name.as_deref(), created), ("bo@example.com", Some("Bo"), true));
        let (again, created) = add_customer(&desk.app, &desk.admin, "HD", input("bo@example.com")).await.unwrap();
        assert_eq!((again.id, created), (new.id, false));
    }

    /// App admins replace the managed domains: trimmed, `@` dropped, lower-cased, sorted,
    /// without duplicates, at most 500; one bad entry refuses all; nobody else may.
    #[tokio::test]
    async fn managed_domains_are_the_app_admins() {
        let desk = crate::testing::Desk::new().await;
        let domains = |list: Vec<String>| Ok(DomainsInput { domains: list });
        let put = put_managed_domains(
            &desk.app,
            &desk.admin,
            domains(vec![" @Corp.Example ".into(), "corp.example".into(), "b.org".into()]),
        );
        assert_eq!(put.await.unwrap().domains, ["b.org", "corp.example"]);
        assert_eq!(get_managed_domains(&desk.app, &desk.admin).await.unwrap().domains, ["b.org", "corp.example"]);
        let bad =
            put_managed_domains(&desk.app, &desk.admin, domains(vec!["ok.example".into(), "not a domain".into()]));
        assert_eq!(bad.await.unwrap_err().code(), "invalid_domain");
        let most: Vec<String> = (0..MAX_MANAGED_DOMAINS).map(|i| format!("d{i}.example")).collect();
        let too_many = [most.clone(), vec!["one-more.example".into()]].concat();
        let refused = put_managed_domains(&desk.app, &desk.admin, domains(too_many)).await.unwrap_err();
        assert_eq!(refused.code(), "invalid_field");
        assert_eq!(get_managed_domains(&desk.app, &desk.admin).await.unwrap().domains, ["b.org", "corp.example"]);
        let all = put_managed_domains(&desk.app, &desk.admin, domains(most)).await.unwrap();
        assert_eq!(all.domains.len(), MAX_MANAGED_DOMAINS);
        let ann = desk.sign_in("ann@example.com").await;
        assert_eq!(get_managed_domains(&desk.app, &ann).await.unwrap_err().status(), 403);
        assert_eq!(put_managed_domains(&desk.app, &ann, domains(vec![])).await.unwrap_err().status(), 403);
    }
}
