//! Malicious users (seed 002): the blocklist, and suspension as one retry-safe action that
//! suspends, notes why, blocks the addresses, closes the user's requests and ends their
//! sessions, each step in the user's append-only audit trail.

use crate::auth::{authenticate, Principal};
use crate::error::ApiError;
use crate::items::{
    audit_partition, block_rule_key, reporter_partition, user_key, user_sessions_partition, BLOCKLIST_PARTITION,
};
use crate::model::{AuditEntry, BlockAction, BlockRule, Record, Request, RequestStatus, Suspension, User};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::text::{check_text, new_ulid, normalize_email, rfc3339};
use crate::App;
use serde::Deserialize;
use serde_json::{json, Value};

/// Requests closed per transaction (two items each, under the 100-item limit).
const CLOSE_BATCH: usize = 40;
/// Sessions deleted per transaction.
const SESSION_BATCH: usize = 90;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub rule: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspendInput {
    pub reason: String,
    #[serde(default)]
    pub request: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub body: String,
    #[serde(default)]
    pub request: Option<String>,
}

/// Parses `reject:alice@example.com`, `reject:*@spam.example`, `suspend:bob@x.org`.
pub fn parse_rule(raw: &str) -> Result<(BlockAction, String), ApiError> {
    let bad = || {
        ApiError::invalid(
            "invalid_rule",
            "a rule is reject:<address>, reject:*@<domain>, suspend:<address> or suspend:*@<domain>",
        )
    };
    let (action, pattern) = raw.trim().split_once(':').ok_or_else(bad)?;
    let action = match action.trim().to_lowercase().as_str() {
        "reject" => BlockAction::Reject,
        "suspend" => BlockAction::Suspend,
        _ => return Err(bad()),
    };
    let pattern = pattern.trim().to_lowercase();
    let pattern = match pattern.strip_prefix("*@") {
        Some(domain) => {
            format!("*@{}", normalize_email(&format!("x@{domain}")).map_err(|_| bad())?.trim_start_matches("x@"))
        }
        None => normalize_email(&pattern).map_err(|_| bad())?,
    };
    Ok((action, pattern))
}

/// The rule patterns that would match an address: itself, then `*@` its domain and each
/// parent domain (not the bare top-level domain). Each is one key: lookups are GetItems.
pub fn candidate_patterns(email: &str) -> Vec<String> {
    let mut out = vec![email.to_string()];
    if let Some((_, domain)) = email.rsplit_once('@') {
        let mut rest = domain;
        while rest.contains('.') {
            out.push(format!("*@{rest}"));
            rest = rest.split_once('.').map(|(_, r)| r).unwrap_or("");
        }
    }
    out
}

pub fn candidate_keys(email: &str) -> Vec<crate::items::ItemKey> {
    candidate_patterns(email).iter().map(|p| block_rule_key(p)).collect()
}

/// The strongest matching rule among records read with `candidate_keys`: reject beats suspend.
pub fn verdict(records: &[Record]) -> Option<BlockAction> {
    let actions = records.iter().filter_map(|r| match r {
        Record::BlockRule(rule) => Some(rule.action),
        _ => None,
    });
    actions.max_by_key(|a| matches!(a, BlockAction::Reject))
}

/// What the blocklist says about an address: one BatchGet of its candidate keys.
pub async fn check_address(app: &App, email: &str) -> Result<Option<BlockAction>, ApiError> {
    Ok(verdict(&app.store.get_many(&candidate_keys(email)).await?))
}

pub fn blocked_error(email: &str) -> ApiError {
    ApiError::Refused { code: "blocked", message: format!("{email} is blocked by this helpdesk") }
}

pub fn rule_json(rule: &BlockRule) -> Value {
    json!({"rule": rule.text(), "created_by": rule.created_by, "created_at": rfc3339(rule.created_at), "suspension_of": rule.suspension_of})
}

pub fn audit_json(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id, "action": entry.action, "by": entry.actor_email, "detail": entry.detail,
        "request": entry.request, "at": rfc3339(entry.at),
    })
}

/// Project admins of any project, and app admins, moderate.
fn require_moderator(principal: &Principal) -> Result<(), ApiError> {
    let user = &principal.user;
    if user.app_admin || user.project_roles.values().any(|r| *r == crate::model::ProjectRole::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only project admins and app admins can do this"))
    }
}

pub async fn list_rules(app: &App, bearer: Option<&str>) -> Result<Vec<BlockRule>, ApiError> {
    let (principal, _) = authenticate(app, bearer, &[]).await?;
    require_moderator(&principal)?;
    Ok(app
        .store
        .query(&Query::partition(Index::Gsi2, BLOCKLIST_PARTITION.to_string(), 1000))
        .await?
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::BlockRule(b) => Some(b),
            _ => None,
        })
        .collect())
}

fn audit(
    user_id: &str,
    id: String,
    actor: &User,
    action: &str,
    detail: Option<String>,
    request: Option<String>,
    at: i64,
) -> Write {
    Write::Put {
        record: Record::AuditEntry(AuditEntry {
            user_id: user_id.to_string(),
            id,
            actor_id: actor.id.clone(),
            actor_email: actor.email.clone(),
            action: action.to_string(),
            detail,
            request,
            at,
        }),
        condition: Condition::NotExists,
    }
}

/// Adds a rule (replacing the action of the same pattern). Audited in the actor's trail.
pub async fn add_rule(app: &App, bearer: Option<&str>, input: RuleInput) -> Result<BlockRule, ApiError> {
    let (action, pattern) = parse_rule(&input.rule)?;
    let (principal, _) = authenticate(app, bearer, &[]).await?;
    require_moderator(&principal)?;
    let actor = &principal.user;
    let now = app.now();
    let rule = BlockRule { pattern, action, created_by: actor.email.clone(), created_at: now, suspension_of: None };
    app.store
        .transact(vec![
            Write::Put { record: Record::BlockRule(rule.clone()), condition: Condition::None },
            audit(&actor.id, new_ulid(), actor, "rule_added", Some(rule.text()), None, now),
        ])
        .await?;
    Ok(rule)
}

/// Removes a rule; removing one that is not there changes nothing.
pub async fn remove_rule(app: &App, bearer: Option<&str>, input: RuleInput) -> Result<(), ApiError> {
    let (_, pattern) = parse_rule(&input.rule)?;
    let (principal, _) = authenticate(app, bearer, &[]).await?;
    require_moderator(&principal)?;
    let actor = &principal.user;
    app.store
        .transact(vec![
            Write::Delete { key: block_rule_key(&pattern), condition: Condition::None },
            audit(
                &actor.id,
                new_ulid(),
                actor,
                "rule_removed",
                Some(input.rule.trim().to_lowercase()),
                None,
                app.now(),
            ),
        ])
        .await?;
    Ok(())
}

/// The moderator and the user they act on.
async fn load_target(app: &App, bearer: Option<&str>, user_id: &str) -> Result<(Principal, User), ApiError> {
    let (principal, records) = authenticate(app, bearer, &[user_key(user_id)]).await?;
    require_moderator(&principal)?;
    let target = records
        .into_iter()
        .find_map(|r| match r {
            Record::User(u) if u.id == user_id => Some(u),
            _ => None,
        })
        .or_else(|| (principal.user.id == user_id).then(|| principal.user.clone()))
        .ok_or(ApiError::NotFound("user"))?;
    if target.app_admin && !principal.user.app_admin {
        return Err(ApiError::forbidden("a project admin cannot act on an app admin"));
    }
    if target.id == principal.user.id {
        return Err(ApiError::invalid("cannot_moderate_self", "you cannot suspend or unsuspend yourself"));
    }
    Ok((principal, target))
}

pub async fn add_note(
    app: &App,
    bearer: Option<&str>,
    user_id: &str,
    input: NoteInput,
) -> Result<AuditEntry, ApiError> {
    check_text("body", &input.body, 5000, true, true)?;
    let (principal, records) = authenticate(app, bearer, &[user_key(user_id)]).await?;
    require_moderator(&principal)?;
    if !records.iter().any(|r| matches!(r, Record::User(u) if u.id == user_id)) && principal.user.id != user_id {
        return Err(ApiError::NotFound("user"));
    }
    let write = audit(user_id, new_ulid(), &principal.user, "note", Some(input.body), input.request, app.now());
    let Write::Put { record: Record::AuditEntry(entry), .. } = &write else { unreachable!("audit makes an entry") };
    let entry = entry.clone();
    app.store.transact(vec![write]).await?;
    Ok(entry)
}

pub async fn audit_trail(app: &App, bearer: Option<&str>, user_id: &str) -> Result<Vec<AuditEntry>, ApiError> {
    let (principal, _) = authenticate(app, bearer, &[]).await?;
    require_moderator(&principal)?;
    Ok(app
        .store
        .query(&Query::partition(Index::Table, audit_partition(user_id), 1000))
        .await?
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::AuditEntry(a) => Some(a),
            _ => None,
        })
        .collect())
}

/// Where a suspension may stop early: tests use it to simulate a crash between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SuspendStep {
    Marked,
    RequestsClosed,
    SessionsEnded,
}

/// What a suspension did.
#[derive(Debug, PartialEq)]
pub struct SuspendOutcome {
    pub user: User,
    pub closed: Vec<String>,
    pub sessions_ended: usize,
}

/// Suspends a user: marks them suspended with a note saying why and blocklist rules for their
/// address (one transaction, so the three appear together), closes their open requests in
/// batches, and deletes every session. Each write is keyed by the suspension's id, so a retry
/// after a crash at any point finishes the job and duplicates nothing.
pub async fn suspend(
    app: &App,
    bearer: Option<&str>,
    user_id: &str,
    input: SuspendInput,
    stop_after: Option<SuspendStep>,
) -> Result<SuspendOutcome, ApiError> {
    check_text("reason", &input.reason, 2000, true, true)?;
    let (principal, target) = load_target(app, bearer, user_id).await?;
    let actor = &principal.user;
    let target = match target.suspension.clone() {
        Some(_) => target,
        None => mark_suspended(app, actor, target, &input).await?,
    };
    let suspension = target.suspension.clone().expect("marked above");
    if stop_after == Some(SuspendStep::Marked) {
        return Ok(SuspendOutcome { user: target, closed: vec![], sessions_ended: 0 });
    }
    let closed = close_open_requests(app, actor, &target, &suspension).await?;
    if stop_after == Some(SuspendStep::RequestsClosed) {
        return Ok(SuspendOutcome { user: target, closed, sessions_ended: 0 });
    }
    let sessions_ended = end_sessions(app, &target.id).await?;
    let entry = audit(
        &target.id,
        format!("{}#e", suspension.id),
        actor,
        "sessions_ended",
        Some(format!("{sessions_ended} sessions")),
        None,
        app.now(),
    );
    match app.store.transact(vec![entry]).await {
        // A retry after the sessions were ended: the entry is already in the trail.
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(SuspendOutcome { user: target, closed, sessions_ended })
}

async fn mark_suspended(app: &App, actor: &User, mut target: User, input: &SuspendInput) -> Result<User, ApiError> {
    let now = app.now();
    let id = new_ulid();
    let patterns = vec![target.email.clone()];
    let existing = app.store.get_many(&patterns.iter().map(|p| block_rule_key(p)).collect::<Vec<_>>()).await?;
    let new_patterns: Vec<String> = patterns
        .into_iter()
        .filter(|p| !existing.iter().any(|r| matches!(r, Record::BlockRule(b) if &b.pattern == p)))
        .collect();
    let previous_version = target.version;
    target.suspended = true;
    target.suspension = Some(Suspension {
        id: id.clone(),
        reason: input.reason.clone(),
        request: input.request.clone(),
        by: actor.email.clone(),
        at: now,
        rules: new_patterns.clone(),
    });
    target.version += 1;
    let mut writes = vec![
        Write::Put { record: Record::User(target.clone()), condition: Condition::VersionIs(previous_version) },
        audit(
            &target.id,
            format!("{id}#a"),
            actor,
            "suspended",
            Some(input.reason.clone()),
            input.request.clone(),
            now,
        ),
        audit(&target.id, format!("{id}#b"), actor, "note", Some(input.reason.clone()), input.request.clone(), now),
    ];
    for (i, pattern) in new_patterns.iter().enumerate() {
        let rule = BlockRule {
            pattern: pattern.clone(),
            action: BlockAction::Reject,
            created_by: actor.email.clone(),
            created_at: now,
            suspension_of: Some(target.id.clone()),
        };
        writes.push(audit(&target.id, format!("{id}#c{i:02}"), actor, "rule_added", Some(rule.text()), None, now));
        writes.push(Write::Put { record: Record::BlockRule(rule), condition: Condition::None });
    }
    match app.store.transact(writes).await {
        Ok(()) => Ok(target),
        // Someone suspended or changed the user meanwhile: take theirs, if it is a suspension.
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            match app.store.get(&user_key(&target.id)).await? {
                Some(Record::User(u)) if u.suspension.is_some() => Ok(u),
                _ => Err(ApiError::Conflict { code: "conflict", message: "the user changed meanwhile; retry".into() }),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Closes every open request the user reported, a batch per transaction, each close with its
/// audit entry. Pages from the start each round: closed requests drop out of the filter.
async fn close_open_requests(
    app: &App,
    actor: &User,
    target: &User,
    suspension: &Suspension,
) -> Result<Vec<String>, ApiError> {
    let mut closed = vec![];
    let mut after = None;
    loop {
        let query = Query {
            index: Index::Gsi1,
            pk: reporter_partition(&target.id),
            newest_first: true,
            limit: 200,
            after: after.take(),
            status: Some(RequestStatus::Open),
        };
        let page = app.store.query(&query).await?;
        let open: Vec<Request> = page
            .records
            .into_iter()
            .filter_map(|r| match r {
                Record::Request(r) => Some(r),
                _ => None,
            })
            .collect();
        for batch in open.chunks(CLOSE_BATCH) {
            closed.extend(close_batch(app, actor, target, suspension, batch).await?);
        }
        match page.last_sort_key {
            Some(last) => after = Some(last),
            None => return Ok(closed),
        }
    }
}

async fn close_batch(
    app: &App,
    actor: &User,
    target: &User,
    suspension: &Suspension,
    batch: &[Request],
) -> Result<Vec<String>, ApiError> {
    let now = app.now();
    let writes_for = |r: &Request| {
        let closed = Request { status: RequestStatus::Closed, version: r.version + 1, updated_at: now, ..r.clone() };
        [
            Write::Put { record: Record::Request(closed), condition: Condition::VersionIs(r.version) },
            audit(
                &target.id,
                format!("{}#d{}", suspension.id, r.key),
                actor,
                "request_closed",
                None,
                Some(r.key.clone()),
                now,
            ),
        ]
    };
    match app.store.transact(batch.iter().flat_map(writes_for).collect()).await {
        Ok(()) => return Ok(batch.iter().map(|r| r.key.clone()).collect()),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    // Someone changed one of them meanwhile: close one by one, reading each again.
    let mut closed = vec![];
    for r in batch {
        if let Some(Record::Request(current)) = app.store.get(&crate::items::request_key(&r.key)).await? {
            if current.status == RequestStatus::Open && app.store.transact(writes_for(&current).to_vec()).await.is_ok()
            {
                closed.push(current.key);
            }
        }
    }
    Ok(closed)
}

/// Deletes every session of the user (found by the sessions index), in batches.
async fn end_sessions(app: &App, user_id: &str) -> Result<usize, ApiError> {
    let mut ended = 0;
    loop {
        let query = Query {
            index: Index::Gsi1,
            pk: user_sessions_partition(user_id),
            newest_first: false,
            limit: SESSION_BATCH,
            after: None,
            status: None,
        };
        let page = app.store.query(&query).await?;
        let deletes: Vec<Write> =
            page.records.iter().map(|r| Write::Delete { key: r.key(), condition: Condition::None }).collect();
        if deletes.is_empty() {
            return Ok(ended);
        }
        ended += deletes.len();
        app.store.transact(deletes).await?;
    }
}

/// Lifts a suspension and the rules it added (closed requests stay closed). Idempotent.
pub async fn unsuspend(app: &App, bearer: Option<&str>, user_id: &str) -> Result<User, ApiError> {
    let (principal, mut target) = load_target(app, bearer, user_id).await?;
    let Some(suspension) = target.suspension.take() else {
        return Ok(target);
    };
    let actor = &principal.user;
    let now = app.now();
    let previous_version = target.version;
    target.suspended = false;
    target.version += 1;
    let mut writes = vec![
        Write::Put { record: Record::User(target.clone()), condition: Condition::VersionIs(previous_version) },
        audit(&target.id, format!("{}#z", suspension.id), actor, "unsuspended", None, None, now),
    ];
    for (i, pattern) in suspension.rules.iter().enumerate() {
        writes.push(Write::Delete { key: block_rule_key(pattern), condition: Condition::None });
        writes.push(audit(
            &target.id,
            format!("{}#z{i:02}", suspension.id),
            actor,
            "rule_removed",
            Some(format!("reject:{pattern}")),
            None,
            now,
        ));
    }
    match app.store.transact(writes).await {
        Ok(()) => Ok(target),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            Err(ApiError::Conflict { code: "conflict", message: "the user changed meanwhile; retry".into() })
        }
        Err(e) => Err(e.into()),
    }
}

pub fn suspension_json(outcome: &SuspendOutcome) -> Value {
    json!({
        "user_id": outcome.user.id,
        "email": outcome.user.email,
        "suspended": outcome.user.suspended,
        "reason": outcome.user.suspension.as_ref().map(|s| s.reason.clone()),
        "rules": outcome.user.suspension.as_ref().map(|s| s.rules.iter().map(|p| format!("reject:{p}")).collect::<Vec<_>>()),
        "requests_closed": outcome.closed,
        "sessions_ended": outcome.sessions_ended,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_normalise() {
        assert_eq!(parse_rule("reject:Alice@Example.com").unwrap(), (BlockAction::Reject, "alice@example.com".into()));
        assert_eq!(parse_rule(" reject:*@Spam.Example ").unwrap(), (BlockAction::Reject, "*@spam.example".into()));
        assert_eq!(parse_rule("suspend:bob@x.org").unwrap(), (BlockAction::Suspend, "bob@x.org".into()));
        for bad in ["", "reject", "ban:a@b.c", "reject:nobody", "reject:*@", "reject:*@nodot"] {
            assert_eq!(parse_rule(bad).unwrap_err().code(), "invalid_rule", "{bad}");
        }
    }

    #[test]
    fn candidates_cover_address_domain_and_parents() {
        assert_eq!(candidate_patterns("a@x.spam.example"), ["a@x.spam.example", "*@x.spam.example", "*@spam.example"]);
    }
}
