//! Malicious users (seed 002): the blocklist, and suspension as one retry-safe action that
//! suspends, notes why, blocks the addresses, closes the user's requests and ends their
//! sessions, each step in the user's append-only audit trail.

use crate::domain::access::{may_manage_rules, may_moderate, require_moderator};
use crate::domain::audit::audit;
use crate::domain::caller::{resolve, Actor, Caller};
use crate::domain::rules::{find_pattern, ref_text, rule_writes};
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{
    audit_partition, block_pattern_key, customer_of_partition, magic_links_partition, project_of, reporter_partition,
    user_key, user_sessions_partition,
};
use crate::model::{AuditEntry, BlockAction, Record, Request, RequestStatus, RuleRef, Suspension, User};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::text::{check_text, new_ulid};
use crate::App;
use serde::Deserialize;

/// Requests closed per transaction: up to three items each (the request, its audit entry,
/// its service-level alarm) and the team loads they release, under the 100-item limit.
const CLOSE_BATCH: usize = 25;
/// Sessions deleted per transaction.
const SESSION_BATCH: usize = 90;

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

/// The request a note or suspension concerns: a request key, nothing else.
fn check_request_ref(request: &Option<String>) -> Result<(), ApiError> {
    match request {
        Some(key) if key.len() > 32 || project_of(key).is_none() => {
            Err(ApiError::invalid("invalid_field", "request must be a request key such as HD-42"))
        }
        _ => Ok(()),
    }
}

/// The projects a user is a customer of: those they raised or were shared a request in, were
/// added to as a customer, or belong to an organization of.
async fn customer_projects(app: &App, user: &User) -> Result<Vec<String>, ApiError> {
    let query = Query::partition(Index::Gsi1, customer_of_partition(&user.id), 1000);
    let mut projects = app.store.query(&query).await?.keep(|r| match r {
        Record::ProjectCustomer(c) => Some(c.project),
        _ => None,
    });
    projects.extend(user.organizations.values().cloned());
    projects.sort();
    projects.dedup();
    Ok(projects)
}

/// The moderator, the user they act on, and the projects that user is a customer of, when
/// the moderator may act on them (`access::may_moderate`); 404 for an unknown user.
async fn load_target(app: &App, caller: &Caller, user_id: &str) -> Result<(Actor, User, Vec<String>), ApiError> {
    let (actor, records) = resolve(app, caller, &[user_key(user_id)]).await?;
    let target = records
        .into_iter()
        .find_map(|r| match r {
            Record::User(u) if u.id == user_id => Some(u),
            _ => None,
        })
        .or_else(|| (actor.user.id == user_id).then(|| actor.user.clone()));
    let Some(target) = target else {
        // Only someone who may moderate at all learns that the id is unknown.
        require_moderator(&actor.user)?;
        return Err(ApiError::NotFound("user"));
    };
    let projects = if actor.user.app_admin { vec![] } else { customer_projects(app, &target).await? };
    may_moderate(&actor.user, &target, &projects)?;
    Ok((actor, target, projects))
}

pub async fn add_note(
    app: &App,
    caller: &Caller,
    user_id: &str,
    input: Input<NoteInput>,
) -> Result<AuditEntry, ApiError> {
    let (actor, target, _) = load_target(app, caller, user_id).await?;
    let input = input?;
    check_text("body", &input.body, 5000, true, true)?;
    check_request_ref(&input.request)?;
    let write = audit(&target.id, new_ulid(), &actor.user, "note", Some(input.body), input.request, app.now());
    let Write::Put { record: Record::AuditEntry(entry), .. } = &write else { unreachable!("audit makes an entry") };
    let entry = entry.clone();
    app.store.transact(vec![write]).await?;
    Ok(entry)
}

/// A user as their moderator sees them: the account and its audit trail (notes, suspensions).
#[derive(Debug)]
pub struct AuditTrail {
    pub user: User,
    pub entries: Vec<AuditEntry>,
    /// Who asked: what else of the user's they see depends on their own roles.
    pub moderator: User,
}

/// The user and their audit trail, oldest first, for whoever may moderate them.
pub async fn audit_trail(app: &App, caller: &Caller, user_id: &str) -> Result<AuditTrail, ApiError> {
    let (moderator, user, _) = load_target(app, caller, user_id).await?;
    let query = Query::partition(Index::Table, audit_partition(user_id), 1000);
    let entries = app.store.query(&query).await?.keep(|r| match r {
        Record::AuditEntry(a) => Some(a),
        _ => None,
    });
    Ok(AuditTrail { user, entries, moderator: moderator.user })
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
    caller: &Caller,
    user_id: &str,
    input: Input<SuspendInput>,
    stop_after: Option<SuspendStep>,
) -> Result<SuspendOutcome, ApiError> {
    let (moderator, target, projects) = load_target(app, caller, user_id).await?;
    let input = input?;
    check_text("reason", &input.reason, 2000, true, true)?;
    check_request_ref(&input.request)?;
    let actor = &moderator.user;
    let target = match target.suspension.clone() {
        Some(_) => target,
        None => mark_suspended(app, actor, target, &projects, &input).await?,
    };
    let suspension = target.suspension.clone().expect("marked above");
    if stop_after == Some(SuspendStep::Marked) {
        return Ok(SuspendOutcome { user: target, closed: vec![], sessions_ended: 0 });
    }
    let closed = close_open_requests(app, actor, &target, &suspension).await?;
    if stop_after == Some(SuspendStep::RequestsClosed) {
        return Ok(SuspendOutcome { user: target, closed, sessions_ended: 0 });
    }
    let sessions_ended = end_sessions(app, &target).await?;
    let entry = audit(
        &target.id,
        format!("{}#e", suspension.id),
        actor,
        "sessions_ended",
        Some(format!("{sessions_ended} sessions and unused sign-in links")),
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

/// Marks the user suspended, with the note saying why and `reject:` rules for their address
/// (app-wide from an app admin; from a project admin, one per project of the target's), in
/// one transaction. Rules that already existed are not claimed: unsuspend leaves them.
async fn mark_suspended(
    app: &App,
    actor: &User,
    mut target: User,
    projects: &[String],
    input: &SuspendInput,
) -> Result<User, ApiError> {
    let now = app.now();
    let id = new_ulid();
    let pattern = target.email.to_string();
    let read = app.store.get_many(&[block_pattern_key(&pattern)]).await?;
    let current = find_pattern(&read, &pattern);
    let scopes: Vec<Option<&str>> =
        if actor.app_admin { vec![None] } else { projects.iter().map(|p| Some(p.as_str())).collect() };
    let claimed: Vec<RuleRef> = scopes
        .iter()
        .filter(|scope| current.is_none_or(|c| !c.rules.contains_key(scope.unwrap_or(crate::model::APP_SCOPE))))
        .map(|scope| RuleRef { pattern: pattern.clone(), project: scope.map(str::to_string) })
        .collect();
    let previous_version = target.version;
    target.suspended = true;
    target.suspension = Some(Suspension {
        id: id.clone(),
        reason: input.reason.clone(),
        request: input.request.clone(),
        by: actor.email.clone(),
        at: now,
        rules: claimed.clone(),
    });
    target.version += 1;
    let reason = Some(input.reason.clone());
    let mut writes = vec![
        Write::Put { record: Record::User(target.clone()), condition: Condition::VersionIs(previous_version) },
        audit(&target.id, format!("{id}#a"), actor, "suspended", reason.clone(), input.request.clone(), now),
        audit(&target.id, format!("{id}#b"), actor, "note", reason, input.request.clone(), now),
    ];
    if !claimed.is_empty() {
        let changes: Vec<_> = claimed.iter().map(|r| (r.project.as_deref(), Some(BlockAction::Reject))).collect();
        writes.extend(rule_writes(current, &pattern, &changes, actor, Some(&target.id), now));
    }
    for (i, rule) in claimed.iter().enumerate() {
        writes.push(audit(&target.id, format!("{id}#c{i:02}"), actor, "rule_added", Some(ref_text(rule)), None, now));
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
    // Open and pending alike are still live: the status filter takes one at a time.
    for status in RequestStatus::ALL.into_iter().filter(|s| s.is_active()) {
        closed.extend(close_in_status(app, actor, target, suspension, status).await?);
    }
    Ok(closed)
}

async fn close_in_status(
    app: &App,
    actor: &User,
    target: &User,
    suspension: &Suspension,
    status: RequestStatus,
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
            status: Some(status),
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
        // Closed by the helpdesk's moderation, not by anyone the notifier should name.
        let closed = Request {
            status: RequestStatus::Closed,
            status_by: None,
            closed_at: Some(now),
            version: r.version + 1,
            updated_at: now,
            // Closed as abuse: its service-level clocks end with it, unmet and unbreached.
            sla: None,
            ..r.clone()
        };
        let alarms = crate::domain::sla::alarm_writes(Some(r), &closed);
        let mut writes = vec![
            crate::domain::requests::replace_request(r, closed),
            audit(
                &target.id,
                format!("{}#d{}", suspension.id, r.key),
                actor,
                "request_closed",
                None,
                Some(r.key.clone()),
                now,
            ),
        ];
        writes.extend(alarms);
        writes
    };
    // Closed requests leave their agents' loads, in the same transaction.
    let mut writes: Vec<Write> = batch.iter().flat_map(writes_for).collect();
    writes.extend(crate::domain::team::release_writes(app, batch).await?);
    match app.store.transact(writes).await {
        Ok(()) => return Ok(batch.iter().map(|r| r.key.clone()).collect()),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    // Someone changed one of them meanwhile: close one by one, reading each again.
    let mut closed = vec![];
    for r in batch {
        if let Some(Record::Request(current)) = app.store.get(&crate::items::request_key(&r.key)).await? {
            let mut writes = writes_for(&current).to_vec();
            writes.extend(crate::domain::team::release_writes(app, std::slice::from_ref(&current)).await?);
            if current.status.is_active() && app.store.transact(writes).await.is_ok() {
                closed.push(current.key);
            }
        }
    }
    Ok(closed)
}

/// Deletes every session of the user and every unused sign-in link of their address (found
/// by the user index), in batches. Returns the number of sessions ended.
async fn end_sessions(app: &App, user: &User) -> Result<usize, ApiError> {
    delete_all(app, magic_links_partition(&user.email)).await?;
    delete_all(app, user_sessions_partition(&user.id)).await
}

/// Deletes every item of one gsi1 partition, a transaction per batch.
/// Pages forward, so an index that still shows deleted items for a moment cannot make it
/// loop or count twice.
async fn delete_all(app: &App, partition: String) -> Result<usize, ApiError> {
    let mut ended = 0;
    let mut after = None;
    loop {
        let query = Query {
            index: Index::Gsi1,
            pk: partition.clone(),
            newest_first: false,
            limit: SESSION_BATCH,
            after: after.take(),
            status: None,
        };
        let page = app.store.query(&query).await?;
        let deletes: Vec<Write> =
            page.records.iter().map(|r| Write::Delete { key: r.key(), condition: Condition::None }).collect();
        if !deletes.is_empty() {
            ended += deletes.len();
            app.store.transact(deletes).await?;
        }
        match page.last_sort_key {
            Some(last) => after = Some(last),
            None => return Ok(ended),
        }
    }
}

/// Lifts a suspension and the rules it added (closed requests stay closed). Idempotent.
pub async fn unsuspend(app: &App, caller: &Caller, user_id: &str) -> Result<User, ApiError> {
    let (moderator, mut target, _) = load_target(app, caller, user_id).await?;
    let Some(suspension) = target.suspension.take() else {
        return Ok(target);
    };
    let actor = &moderator.user;
    // Lifting a suspension lifts its rules: only someone who may manage all of them may.
    for rule in &suspension.rules {
        may_manage_rules(actor, rule.project.as_deref())?;
    }
    let now = app.now();
    let previous_version = target.version;
    target.suspended = false;
    target.version += 1;
    let mut writes = vec![
        Write::Put { record: Record::User(target.clone()), condition: Condition::VersionIs(previous_version) },
        audit(&target.id, format!("{}#z", suspension.id), actor, "unsuspended", None, None, now),
    ];
    if let Some(first) = suspension.rules.first() {
        let read = app.store.get_many(&[block_pattern_key(&first.pattern)]).await?;
        let changes: Vec<_> = suspension.rules.iter().map(|r| (r.project.as_deref(), None)).collect();
        writes.extend(rule_writes(find_pattern(&read, &first.pattern), &first.pattern, &changes, actor, None, now));
    }
    for (i, rule) in suspension.rules.iter().enumerate() {
        let id = format!("{}#z{i:02}", suspension.id);
        writes.push(audit(&target.id, id, actor, "rule_removed", Some(ref_text(rule)), None, now));
    }
    match app.store.transact(writes).await {
        Ok(()) => Ok(target),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            Err(ApiError::Conflict { code: "conflict", message: "the user changed meanwhile; retry".into() })
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[path = "moderation_tests.rs"]
mod tests;
