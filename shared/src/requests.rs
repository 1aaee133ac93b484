//! Requests (tickets): raise, read, reply, close and reopen, and the lists that find them.

use crate::auth::{authenticate, claimed_user_id, Principal};
use crate::error::ApiError;
use crate::items::{idempotency_key, project_key, request_key, request_partition, ItemKey};
use crate::model::{
    BlockAction, Comment, HistoryEntry, IdempotencyRecord, Project, Record, Request, RequestStatus, User,
};
use crate::projects::{load_project, require_agent};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::text::{check_text, decode_cursor, encode_cursor, rfc3339, sha256_hex};
use crate::App;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const MAX_SUMMARY: usize = 255;
pub const MAX_DESCRIPTION: usize = 32_000;
pub const MAX_COMMENT: usize = 32_000;
pub const MAX_FIELDS: usize = 50;
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;
pub const DEFAULT_PAGE: usize = 25;
pub const MAX_PAGE: usize = 100;
/// Comments read with a request; more than this is not a support conversation any more.
const MAX_COMMENTS_READ: usize = 1000;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub form: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
}

/// Query-string options of the lists.
#[derive(Debug, Default, Clone)]
pub struct ListOptions {
    pub view: Option<String>,
    /// Only requests shared with this organization (customer lists).
    pub organization: Option<String>,
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A page of requests and the cursor of the next one.
#[derive(Debug, PartialEq)]
pub struct RequestPage {
    pub items: Vec<Request>,
    pub next_cursor: Option<String>,
}

pub fn request_json(r: &Request) -> Value {
    json!({
        "key": r.key,
        "project": r.project,
        "summary": r.summary,
        "description": r.description,
        "form": r.form,
        "fields": r.fields,
        "status": r.status.as_str(),
        "reporter": r.reporter_email,
        "reporter_id": r.reporter_id,
        "held": r.held,
        "organization": r.organization,
        "participants": r.participants,
        "comment_count": r.comment_count,
        "created_at": rfc3339(r.created_at),
        "updated_at": rfc3339(r.updated_at),
    })
}

pub fn comment_json(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "author": c.author_email,
        "body": c.body,
        "internal": c.internal,
        "created_at": rfc3339(c.created_at),
    })
}

pub fn page_json(page: &RequestPage) -> Value {
    json!({"items": page.items.iter().map(request_json).collect::<Vec<_>>(), "next_cursor": page.next_cursor})
}

pub fn is_agent(user: &User, request: &Request) -> bool {
    user.app_admin || user.is_agent_of(&request.project)
}

/// The reporter or a participant.
pub fn is_party(user: &User, request: &Request) -> bool {
    request.reporter_id == user.id || request.participant_ids.contains(&user.id)
}

/// Seed 004: a customer sees a request raised by someone else through their organization only
/// when ALL hold: sharing is on in the project, the request has an organization set, and the
/// customer belongs to that organization.
pub fn org_shared(user: &User, request: &Request, org_sharing: bool) -> bool {
    org_sharing && request.organization.as_deref().is_some_and(|o| user.is_member_of(o))
}

/// Who may see a request: its project's agents, its reporter and participants, and members
/// of its organization when the project shares with organizations. This one function decides
/// for every read and write path; anyone else gets 404, as if the request did not exist.
pub fn can_view(user: &User, request: &Request, org_sharing: bool) -> bool {
    is_agent(user, request) || is_party(user, request) || org_shared(user, request, org_sharing)
}

/// The project settings' sharing switch, from records read alongside a request.
fn sharing_of(records: &[Record]) -> bool {
    records.iter().any(|r| matches!(r, Record::Project(p) if p.settings.org_sharing))
}

fn validate_new_request(input: &NewRequest) -> Result<(), ApiError> {
    check_text("summary", &input.summary, MAX_SUMMARY, false, true)?;
    check_text("description", &input.description, MAX_DESCRIPTION, true, false)?;
    if let Some(form) = &input.form {
        check_text("form", form, 64, false, true)?;
    }
    if input.fields.len() > MAX_FIELDS {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_FIELDS} fields")));
    }
    for (name, value) in &input.fields {
        check_text("field name", name, 64, false, true)?;
        check_text(&format!("field {name}"), value, 1000, true, false)?;
    }
    Ok(())
}

fn check_idempotency_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// Tries at writing a request before giving up with 503.
const CREATE_ATTEMPTS: u32 = 10;

/// Short random pause before retrying a lost optimistic race, growing with the attempts.
async fn backoff(attempt: u32) {
    let ceiling = 5 + 5 * attempt.min(10) as u64;
    tokio::time::sleep(std::time::Duration::from_millis(rand::random::<u64>() % ceiling)).await;
}

/// Raises a request. The key (`HD-42`) comes from the project's counter, bumped in the same
/// transaction that writes the request, so two creates never share a key. With an
/// `Idempotency-Key`, a retry returns the first request and writes nothing.
/// Returns the request and whether it was replayed.
pub async fn create_request(
    app: &App,
    bearer: Option<&str>,
    project: &str,
    input: NewRequest,
    idempotency: Option<&str>,
) -> Result<(Request, bool), ApiError> {
    validate_new_request(&input)?;
    if let Some(key) = idempotency {
        check_idempotency_key(key)?;
    }
    let idem_hash = idempotency.map(sha256_hex);
    let body_hash = sha256_hex(&format!("{project}\n{}", serde_json::to_string(&input).unwrap_or_default()));
    // The project and any earlier result of this Idempotency-Key come with the session read.
    let mut extra = vec![project_key(project)];
    extra.extend(idem_hash.as_ref().map(|h| idempotency_key(claimed_user_id(bearer).unwrap_or_default(), h)));
    let (principal, records) = authenticate(app, bearer, &extra).await?;
    let now = app.now();
    let mut project = None;
    for record in records {
        match record {
            Record::Project(p) => project = Some(p),
            Record::Idempotency(i) if i.expires_at > now => return replay(app, &i, &body_hash).await,
            _ => {}
        }
    }
    let project = project.ok_or(ApiError::NotFound("project"))?;
    let user = &principal.user;
    // Seed 004: raised by a member of exactly one of the project's organizations, the request
    // is set to that organization.
    let organization = {
        let mut orgs = user.organizations_in(&project.key);
        match (orgs.next(), orgs.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => None,
        }
    };
    let mut held = false;
    let mut block_checks = crate::moderation::candidate_keys(&user.email);
    // The number comes from the counter on the project item, bumped in the request's own
    // transaction (one round trip). When creates race for it, the loser takes its number with
    // an atomic increment instead of racing again, so contention costs one extra round trip.
    let mut allocated: Option<u64> = None;
    for attempt in 0..CREATE_ATTEMPTS {
        let seq = allocated.unwrap_or(project.last_seq + 1);
        let request = Request {
            key: format!("{}-{seq}", project.key),
            project: project.key.clone(),
            id: crate::text::new_ulid(),
            summary: input.summary.trim().to_string(),
            description: input.description.clone(),
            form: input.form.clone(),
            fields: input.fields.clone(),
            status: RequestStatus::Open,
            reporter_id: user.id.clone(),
            reporter_email: user.email.clone(),
            organization: organization.clone(),
            participants: vec![],
            participant_ids: vec![],
            comment_count: 0,
            held,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut writes = vec![];
        if allocated.is_none() {
            let counter = Project { last_seq: seq, version: project.version + 1, ..project.clone() };
            writes.push(Write::Put {
                record: Record::Project(counter),
                condition: Condition::VersionIs(project.version),
            });
        }
        writes.push(Write::Put { record: Record::Request(request.clone()), condition: Condition::NotExists });
        let idem_at = idem_hash.as_ref().map(|h| {
            let record = IdempotencyRecord {
                user_id: user.id.clone(),
                key_hash: h.clone(),
                request_key: request.key.clone(),
                comment_id: None,
                body_hash: body_hash.clone(),
                expires_at: now + IDEMPOTENCY_TTL_SECS,
            };
            writes.push(Write::Put {
                record: Record::Idempotency(record),
                condition: Condition::NotExistsOrExpired(now),
            });
            writes.len() - 1
        });
        // The blocklist, checked in the same transaction: no extra round trip.
        let checks_from = writes.len();
        writes
            .extend(block_checks.iter().map(|key| Write::Check { key: key.clone(), condition: Condition::NotExists }));
        match app.store.transact(writes).await {
            Ok(()) => return Ok((request, false)),
            Err(err @ StoreError::ConditionFailed { .. }) => {
                let rules: Vec<Record> = (checks_from..checks_from + block_checks.len())
                    .filter_map(|i| err.failed_old(i).cloned())
                    .collect();
                match crate::moderation::verdict(&rules) {
                    Some(BlockAction::Reject) => return Err(crate::moderation::blocked_error(&user.email)),
                    // `suspend:` rules take the request, held for review.
                    Some(BlockAction::Suspend) => {
                        held = true;
                        block_checks.retain(|k| {
                            !rules.iter().any(|r| matches!(r, Record::BlockRule(b) if b.action == BlockAction::Suspend && r.key() == *k))
                        });
                        continue;
                    }
                    None => {}
                }
                if let Some(Record::Idempotency(first)) = idem_at.and_then(|i| err.failed_old(i)) {
                    return replay(app, first, &body_hash).await;
                }
                if idem_at.is_some_and(|i| err.failed_at(i)) {
                    // Its twin with the same key is committing right now: wait, then replay.
                    backoff(attempt).await;
                    continue;
                }
                // Lost the race for the number, or the key is somehow taken: take the next
                // number atomically.
                allocated = Some(app.store.next_request_number(&project.key).await?);
            }
            Err(StoreError::Conflict) => allocated = Some(app.store.next_request_number(&project.key).await?),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

fn idempotency_reused() -> ApiError {
    ApiError::invalid("idempotency_key_reused", "this Idempotency-Key was used for a different call; use a new key")
}

async fn replay(app: &App, first: &IdempotencyRecord, body_hash: &str) -> Result<(Request, bool), ApiError> {
    if first.body_hash != body_hash {
        return Err(idempotency_reused());
    }
    match app.store.get(&request_key(&first.request_key)).await? {
        Some(Record::Request(r)) => Ok((r, true)),
        _ => Err(ApiError::NotFound("request")),
    }
}

/// Reads a request the caller may see, with the session (and an idempotency record, when
/// asked), in one round trip.
async fn load_visible(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    idempotency: Option<ItemKey>,
) -> Result<(Principal, Request, Option<IdempotencyRecord>), ApiError> {
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let mut keys = vec![request_key(key), project_key(project)];
    keys.extend(idempotency);
    let (principal, records) = authenticate(app, bearer, &keys).await?;
    let sharing = sharing_of(&records);
    let mut request = None;
    let mut first = None;
    for record in records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Idempotency(i) => first = Some(i),
            _ => {}
        }
    }
    match request {
        Some(r) if can_view(&principal.user, &r, sharing) => Ok((principal, r, first)),
        _ => Err(ApiError::NotFound("request")),
    }
}

/// A request as its reader sees it.
#[derive(Debug, PartialEq)]
pub struct RequestDetail {
    pub request: Request,
    /// Oldest first; internal notes only for agents.
    pub comments: Vec<Comment>,
    /// Oldest first: who shared it with whom, and other changes.
    pub history: Vec<HistoryEntry>,
}

pub fn detail_json(detail: &RequestDetail) -> Value {
    let mut body = request_json(&detail.request);
    body["comments"] = detail.comments.iter().map(comment_json).collect();
    body["history"] = detail
        .history
        .iter()
        .map(|h| json!({"action": h.action, "by": h.actor_email, "emails": h.emails, "detail": h.detail, "at": rfc3339(h.at)}))
        .collect();
    body
}

/// A request with its comments and history: one Query of its partition, in parallel with the
/// session check; nothing read is returned unless the caller is signed in and may see it.
pub async fn get_request(app: &App, bearer: Option<&str>, key: &str) -> Result<RequestDetail, ApiError> {
    claimed_user_id(bearer).ok_or(ApiError::Unauthorized)?;
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let query = Query {
        index: Index::Table,
        pk: request_partition(key),
        // Newest first: PART# and META come first, then history (H#) and the latest comments (C#).
        newest_first: true,
        limit: MAX_COMMENTS_READ,
        after: None,
        status: None,
    };
    let project_keys = [project_key(project)];
    let (auth, page) = tokio::join!(authenticate(app, bearer, &project_keys), app.store.query(&query));
    let (principal, extra) = auth?;
    let page = page?;
    let mut request = None;
    let mut comments = vec![];
    let mut history = vec![];
    for record in page.records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Comment(c) => comments.push(c),
            Record::HistoryEntry(h) => history.push(h),
            _ => {}
        }
    }
    comments.reverse();
    history.reverse();
    let sharing = sharing_of(&extra);
    let request = request.filter(|r| can_view(&principal.user, r, sharing)).ok_or(ApiError::NotFound("request"))?;
    if !is_agent(&principal.user, &request) {
        comments.retain(|c| !c.internal);
    }
    Ok(RequestDetail { request, comments, history })
}

/// A history entry for a change of a request, to write in the change's transaction.
pub(crate) fn history_write(
    request: &Request,
    actor: &User,
    action: &str,
    emails: Vec<String>,
    detail: Option<String>,
    at: i64,
) -> Write {
    Write::Put {
        record: Record::HistoryEntry(HistoryEntry {
            request_key: request.key.clone(),
            id: crate::text::new_ulid(),
            actor_id: actor.id.clone(),
            actor_email: actor.email.clone(),
            action: action.to_string(),
            emails,
            detail,
            at,
        }),
        condition: Condition::NotExists,
    }
}

/// Writes `change` of a request under optimistic locking, with `extra` writes in the same
/// transaction; rereads and reapplies when someone else changed it first.
pub(crate) async fn update_request(
    app: &App,
    mut request: Request,
    change: impl Fn(&mut Request),
    extra: impl Fn() -> Vec<Write>,
) -> Result<Request, ApiError> {
    for attempt in 0..8 {
        let mut next = request.clone();
        change(&mut next);
        next.version = request.version + 1;
        next.updated_at = app.now();
        let mut writes = vec![Write::Put {
            record: Record::Request(next.clone()),
            condition: Condition::VersionIs(request.version),
        }];
        writes.extend(extra());
        match app.store.transact(writes).await {
            Ok(()) => return Ok(next),
            Err(err @ StoreError::ConditionFailed { .. }) if err.failed_at(0) => {
                request = match err.failed_old(0) {
                    Some(Record::Request(current)) => current.clone(),
                    _ => match app.store.get(&request_key(&request.key)).await? {
                        Some(Record::Request(current)) => current,
                        _ => return Err(ApiError::NotFound("request")),
                    },
                };
                backoff(attempt).await;
            }
            Err(StoreError::Conflict) => backoff(attempt).await,
            // One of the extra writes lost a race: a twin of this call (same Idempotency-Key)
            // is committing right now. Its retry will replay the result.
            Err(StoreError::ConditionFailed { .. }) => {
                return Err(ApiError::Conflict {
                    code: "idempotency_in_progress",
                    message: "a call with this Idempotency-Key is in progress; retry shortly".into(),
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::StorageUnavailable)
}

/// Replies on a request. With an `Idempotency-Key`, a retry returns the first comment and
/// writes nothing. Returns the comment and whether it was replayed.
pub async fn add_comment(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    input: NewComment,
    idempotency: Option<&str>,
) -> Result<(Comment, bool), ApiError> {
    check_text("body", &input.body, MAX_COMMENT, true, true)?;
    if let Some(k) = idempotency {
        check_idempotency_key(k)?;
    }
    let idem_hash = idempotency.map(sha256_hex);
    let body_hash = sha256_hex(&format!("comment\n{key}\n{}\n{}", input.internal, input.body));
    let idem_key = idem_hash.as_ref().map(|h| idempotency_key(claimed_user_id(bearer).unwrap_or_default(), h));
    let (principal, request, first) = load_visible(app, bearer, key, idem_key).await?;
    let user = &principal.user;
    let now = app.now();
    if let Some(first) = first.filter(|f| f.expires_at > now) {
        if first.body_hash != body_hash {
            return Err(idempotency_reused());
        }
        let comment_key =
            crate::items::comment_key(&first.request_key, first.comment_id.as_deref().unwrap_or_default());
        return match app.store.get(&comment_key).await? {
            Some(Record::Comment(c)) => Ok((c, true)),
            _ => Err(ApiError::NotFound("comment")),
        };
    }
    if input.internal && !is_agent(user, &request) {
        return Err(ApiError::forbidden("only agents can write internal notes"));
    }
    let comment = Comment {
        request_key: request.key.clone(),
        id: crate::text::new_ulid(),
        author_id: user.id.clone(),
        author_email: user.email.clone(),
        body: input.body,
        internal: input.internal,
        created_at: now,
    };
    let mut writes = vec![Write::Put { record: Record::Comment(comment.clone()), condition: Condition::NotExists }];
    if let Some(h) = idem_hash {
        let record = IdempotencyRecord {
            user_id: user.id.clone(),
            key_hash: h,
            request_key: request.key.clone(),
            comment_id: Some(comment.id.clone()),
            body_hash,
            expires_at: now + IDEMPOTENCY_TTL_SECS,
        };
        writes.push(Write::Put { record: Record::Idempotency(record), condition: Condition::NotExistsOrExpired(now) });
    }
    update_request(app, request, |r| r.comment_count += 1, || writes.clone()).await?;
    Ok((comment, false))
}

/// Closes or reopens. The reporter, participants and agents may; setting the status it
/// already has changes nothing (safe to retry).
pub async fn set_status(
    app: &App,
    bearer: Option<&str>,
    key: &str,
    status: RequestStatus,
) -> Result<Request, ApiError> {
    let (principal, request, _) = load_visible(app, bearer, key, None).await?;
    if !(is_agent(&principal.user, &request) || is_party(&principal.user, &request)) {
        return Err(ApiError::forbidden("only the reporter, participants and agents can change the status"));
    }
    if request.status == status {
        return Ok(request);
    }
    update_request(app, request, |r| r.status = status, Vec::new).await
}

/// Releases a request held for review into the queue (agents). Not held: no change.
pub async fn release(app: &App, bearer: Option<&str>, key: &str) -> Result<Request, ApiError> {
    let (principal, request, _) = load_visible(app, bearer, key, None).await?;
    if !is_agent(&principal.user, &request) {
        return Err(ApiError::forbidden("only agents can release held requests"));
    }
    if !request.held {
        return Ok(request);
    }
    let history = history_write(&request, &principal.user, "released", vec![], None, app.now());
    update_request(app, request, |r| r.held = false, || vec![history.clone()]).await
}

fn page_size(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_PAGE),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::bad_request("invalid_limit", format!("limit must be 1-{MAX_PAGE}"))),
    }
}

fn parse_status(raw: Option<&str>) -> Result<Option<RequestStatus>, ApiError> {
    raw.map(|s| {
        RequestStatus::parse(s).ok_or_else(|| ApiError::bad_request("invalid_status", "status must be open or closed"))
    })
    .transpose()
}

/// A list cursor: the sort key (request ULID) the next page continues after.
fn decode_list_cursor(raw: &str) -> Result<String, ApiError> {
    match decode_cursor(raw)?.as_slice() {
        [ulid] if ulid.len() == 26 && ulid.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(ulid.clone()),
        _ => Err(ApiError::bad_request("invalid_cursor", "the cursor is not valid for this list")),
    }
}

/// A run of requests read from one source, newest first, and the sort key to resume after
/// when the source may hold more.
type Run = (Vec<Request>, Option<String>);

/// Requests of one index partition, newest first, after `after`. With a status filter it
/// reads on until `limit` requests are found.
async fn read_index(
    app: &App,
    index: Index,
    pk: String,
    status: Option<RequestStatus>,
    mut after: Option<String>,
    limit: usize,
) -> Result<Run, ApiError> {
    let mut items = Vec::new();
    for _ in 0..10 {
        let query = Query {
            index,
            pk: pk.clone(),
            newest_first: true,
            limit: limit - items.len(),
            after: after.take(),
            status,
        };
        let page = app.store.query(&query).await?;
        items.extend(page.records.into_iter().filter_map(|r| match r {
            Record::Request(r) => Some(r),
            _ => None,
        }));
        after = page.last_sort_key;
        if after.is_none() || items.len() >= limit {
            break;
        }
    }
    Ok((items, after))
}

/// Requests the user participates in, newest first: a Query of their participations, then
/// one BatchGet of those requests.
async fn read_participating(
    app: &App,
    user_id: &str,
    status: Option<RequestStatus>,
    mut after: Option<String>,
    limit: usize,
) -> Result<Run, ApiError> {
    let mut items = Vec::new();
    for _ in 0..10 {
        let query = Query {
            index: Index::Gsi1,
            pk: crate::items::participant_partition(user_id),
            newest_first: true,
            limit: limit - items.len(),
            after: after.take(),
            status: None,
        };
        let page = app.store.query(&query).await?;
        let keys: Vec<_> = page
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Participant(p) => Some(request_key(&p.request_key)),
                _ => None,
            })
            .collect();
        let requests = app.store.get_many(&keys).await?;
        items.extend(requests.into_iter().filter_map(|r| match r {
            Record::Request(r)
                if r.participant_ids.iter().any(|id| id == user_id) && status.is_none_or(|s| r.status == s) =>
            {
                Some(r)
            }
            _ => None,
        }));
        after = page.last_sort_key;
        if after.is_none() || items.len() >= limit {
            break;
        }
    }
    Ok((items, after))
}

/// Merges runs of several sources into one page, newest first, without duplicates. Every
/// source has delivered all its requests at or after the largest resume key, so the page
/// keeps only those, and the next page continues after the last one kept.
fn merge_runs(runs: Vec<Run>, limit: usize) -> RequestPage {
    let boundary = runs.iter().filter_map(|(_, resume)| resume.clone()).max();
    let mut items: Vec<Request> = runs.into_iter().flat_map(|(items, _)| items).collect();
    items.sort_by(|a, b| b.id.cmp(&a.id));
    items.dedup_by(|a, b| a.key == b.key);
    if let Some(b) = &boundary {
        items.retain(|r| r.id >= *b);
    }
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|r| r.id.clone())
    } else {
        boundary
    };
    RequestPage { items, next_cursor: next.map(|n| encode_cursor(&[&n])) }
}

/// The customer's list: `mine` (reported), `participating`, `all` (both, merged; organization
/// sharing joins it with its issue), newest first, with a stable cursor across pages.
pub async fn list_for_customer(
    app: &App,
    bearer: Option<&str>,
    options: &ListOptions,
) -> Result<RequestPage, ApiError> {
    let status = parse_status(options.status.as_deref())?;
    let limit = page_size(options.limit.as_deref())?;
    let after = options.cursor.as_deref().map(decode_list_cursor).transpose()?;
    let view = options.view.as_deref().unwrap_or("all");
    if options.organization.as_ref().is_some_and(|o| o.len() > 64) {
        return Err(ApiError::bad_request("invalid_organization", "organization is an organization id"));
    }
    let user_id = claimed_user_id(bearer).ok_or(ApiError::Unauthorized)?;
    let reported =
        || read_index(app, Index::Gsi1, crate::items::reporter_partition(user_id), status, after.clone(), limit);
    let participating = || read_participating(app, user_id, status, after.clone(), limit);
    let (with_own, with_participating, with_orgs) = match view {
        "mine" => (true, false, false),
        "participating" => (false, true, false),
        "organization" => (false, false, true),
        "all" => (true, true, true),
        _ => {
            return Err(ApiError::bad_request("invalid_view", "view must be all, mine, participating or organization"))
        }
    };
    // The lists of the user the token claims are read while the session is checked; they are
    // returned only when the check passes.
    let (auth, own, shared) = tokio::join!(
        authenticate(app, bearer, &[]),
        async {
            if with_own {
                reported().await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if with_participating {
                participating().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let (principal, _) = auth?;
    let mut runs: Vec<Run> = own?.into_iter().chain(shared?).collect();
    if with_orgs {
        runs.extend(
            read_organizations(app, &principal.user, options.organization.as_deref(), status, &after, limit).await?,
        );
    }
    if let Some(org) = &options.organization {
        for (items, _) in runs.iter_mut() {
            items.retain(|r| r.organization.as_deref() == Some(org.as_str()));
        }
    }
    Ok(merge_runs(runs, limit))
}

/// Requests shared with the user's organizations (or the one asked for), for organizations
/// whose project has sharing on: one BatchGet of those projects, then a Query per
/// organization, in parallel.
async fn read_organizations(
    app: &App,
    user: &User,
    only: Option<&str>,
    status: Option<RequestStatus>,
    after: &Option<String>,
    limit: usize,
) -> Result<Vec<Run>, ApiError> {
    let orgs: Vec<(&String, &String)> =
        user.organizations.iter().filter(|(id, _)| only.is_none_or(|o| o == id.as_str())).collect();
    if orgs.is_empty() {
        return Ok(vec![]);
    }
    let mut project_keys: Vec<_> = orgs.iter().map(|(_, p)| project_key(p)).collect();
    project_keys.sort();
    project_keys.dedup();
    let sharing: Vec<String> = app
        .store
        .get_many(&project_keys)
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::Project(p) if p.settings.org_sharing => Some(p.key),
            _ => None,
        })
        .collect();
    let reads = orgs.into_iter().filter(|(_, p)| sharing.contains(p)).map(|(org, _)| {
        read_index(app, Index::Gsi4, crate::items::org_requests_partition(org), status, after.clone(), limit)
    });
    futures::future::try_join_all(reads).await
}

/// The project's queue for agents, newest first, optionally by status.
pub async fn list_queue(
    app: &App,
    bearer: Option<&str>,
    project: &str,
    options: &ListOptions,
) -> Result<RequestPage, ApiError> {
    claimed_user_id(bearer).ok_or(ApiError::Unauthorized)?;
    // `held`: requests a `suspend:` rule held for review, which the queue leaves out.
    let (index, partition) = match options.status.as_deref() {
        Some("held") => (Index::Gsi3, crate::items::held_partition(project)),
        other => match parse_status(other)? {
            None => (Index::Gsi2, crate::items::queue_partition(project)),
            Some(s) => (Index::Gsi3, crate::items::queue_status_partition(project, s)),
        },
    };
    // The queue is read while the session and project are; it is returned only to agents.
    let limit = page_size(options.limit.as_deref())?;
    let after = options.cursor.as_deref().map(decode_list_cursor).transpose()?;
    let (loaded, run) =
        tokio::join!(load_project(app, bearer, project), read_index(app, index, partition, None, after, limit));
    let (principal, project) = loaded?;
    require_agent(&principal, &project.key)?;
    Ok(merge_runs(vec![run?], limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projects::{bootstrap_app_admin, create_project, grant_role, NewProject};
    use crate::testing::memory_app;

    async fn sign_in(app: &App, outbox: &crate::mailer::Outbox, email: &str) -> String {
        crate::auth::request_magic_link(app, email).await.unwrap();
        let text = outbox.sent().last().unwrap().text.clone();
        let token = text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        crate::auth::create_session(app, &token).await.unwrap().0
    }

    fn new_request(summary: &str) -> NewRequest {
        NewRequest { summary: summary.into(), description: "d".into(), form: None, fields: BTreeMap::new() }
    }

    async fn setup() -> (App, String, String, String, std::sync::Arc<crate::mailer::Outbox>) {
        let (app, outbox, _) = memory_app();
        bootstrap_app_admin(&app, "admin@example.com").await.unwrap();
        let admin = sign_in(&app, &outbox, "admin@example.com").await;
        let (principal, _) = authenticate(&app, Some(&admin), &[]).await.unwrap();
        create_project(&app, &principal, NewProject { key: "HD".into(), name: "Help".into(), support_address: None })
            .await
            .unwrap();
        grant_role(&app, "agent@example.com", "HD", crate::model::ProjectRole::Agent).await.unwrap();
        let agent = sign_in(&app, &outbox, "agent@example.com").await;
        let ann = sign_in(&app, &outbox, "ann@example.com").await;
        let bob = sign_in(&app, &outbox, "bob@example.com").await;
        let _ = admin;
        (app, agent, ann, bob, outbox)
    }

    #[tokio::test]
    async fn keys_count_up_and_strangers_see_nothing() {
        let (app, agent, ann, bob, _) = setup().await;
        let (r1, _) = create_request(&app, Some(&ann), "HD", new_request("one"), None).await.unwrap();
        let (r2, _) = create_request(&app, Some(&ann), "HD", new_request("two"), None).await.unwrap();
        assert_eq!((r1.key.as_str(), r2.key.as_str()), ("HD-1", "HD-2"));
        assert_eq!(get_request(&app, Some(&bob), "HD-1").await.unwrap_err(), ApiError::NotFound("request"));
        assert!(get_request(&app, Some(&agent), "HD-1").await.is_ok());
        let note = NewComment { body: "secret".into(), internal: true };
        assert_eq!(add_comment(&app, Some(&ann), "HD-1", note, None).await.unwrap_err().code(), "forbidden");
        add_comment(&app, Some(&agent), "HD-1", NewComment { body: "internal".into(), internal: true }, None)
            .await
            .unwrap();
        add_comment(&app, Some(&agent), "HD-1", NewComment { body: "public".into(), internal: false }, None)
            .await
            .unwrap();
        let seen_by_ann = get_request(&app, Some(&ann), "HD-1").await.unwrap();
        assert_eq!(seen_by_ann.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["public"]);
        let seen_by_agent = get_request(&app, Some(&agent), "HD-1").await.unwrap();
        assert_eq!((seen_by_agent.comments.len(), seen_by_agent.request.comment_count), (2, 2));
    }

    #[tokio::test]
    async fn idempotent_create_replays_and_refuses_a_changed_body() {
        let (app, _, ann, _, _) = setup().await;
        let (first, replayed) = create_request(&app, Some(&ann), "HD", new_request("x"), Some("k1")).await.unwrap();
        assert!(!replayed);
        let (again, replayed) = create_request(&app, Some(&ann), "HD", new_request("x"), Some("k1")).await.unwrap();
        assert!(replayed);
        assert_eq!(first.key, again.key);
        let err = create_request(&app, Some(&ann), "HD", new_request("y"), Some("k1")).await.unwrap_err();
        assert_eq!(err.code(), "idempotency_key_reused");
        let page = list_for_customer(&app, Some(&ann), &ListOptions::default()).await.unwrap();
        assert_eq!(page.items.len(), 1);
    }

    #[tokio::test]
    async fn status_changes_and_filtered_paging() {
        let (app, agent, ann, bob, _) = setup().await;
        for i in 0..7 {
            create_request(&app, Some(&ann), "HD", new_request(&format!("r{i}")), None).await.unwrap();
        }
        assert_eq!(set_status(&app, Some(&bob), "HD-2", RequestStatus::Closed).await.unwrap_err().code(), "not_found");
        for key in ["HD-2", "HD-4", "HD-6"] {
            set_status(&app, Some(&ann), key, RequestStatus::Closed).await.unwrap();
        }
        // Closing twice is a no-op.
        let again = set_status(&app, Some(&ann), "HD-2", RequestStatus::Closed).await.unwrap();
        assert_eq!(again.version, 2);
        let mut seen = vec![];
        let mut options = ListOptions { status: Some("open".into()), limit: Some("2".into()), ..Default::default() };
        loop {
            let page = list_for_customer(&app, Some(&ann), &options).await.unwrap();
            seen.extend(page.items.iter().map(|r| r.key.clone()));
            match page.next_cursor {
                Some(c) => options.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["HD-7", "HD-5", "HD-3", "HD-1"]);
        let closed =
            list_queue(&app, Some(&agent), "HD", &ListOptions { status: Some("closed".into()), ..Default::default() })
                .await
                .unwrap();
        assert_eq!(closed.items.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["HD-6", "HD-4", "HD-2"]);
        assert_eq!(list_queue(&app, Some(&ann), "HD", &ListOptions::default()).await.unwrap_err().code(), "forbidden");
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_any_write() {
        let (app, _, ann, _, _) = setup().await;
        for (summary, code) in [("", "invalid_field"), ("a\u{0}b", "invalid_field")] {
            let err = create_request(&app, Some(&ann), "HD", new_request(summary), None).await.unwrap_err();
            assert_eq!(err.code(), code);
        }
        let long = "x".repeat(MAX_SUMMARY + 1);
        assert_eq!(
            create_request(&app, Some(&ann), "HD", new_request(&long), None).await.unwrap_err().code(),
            "invalid_field"
        );
        assert_eq!(
            create_request(&app, Some(&ann), "NOPE", new_request("x"), None).await.unwrap_err().code(),
            "not_found"
        );
        assert!(list_for_customer(&app, Some(&ann), &ListOptions::default()).await.unwrap().items.is_empty());
    }
}
