//! Merging a duplicate request into another of its project (agents). The source's public
//! thread is copied onto the target (each comment and file keeps its id and time, marked
//! `merged_from`), its reporter and participants join the target where the sharing rules
//! allow (the rest are named in a note), and the source is closed with `merged_into`: later
//! mail to it lands on the target, its public links stop working, nobody writes on it.
//!
//! Retry-safe in steps, like a suspension: (1) the source is marked, (2) the copies are
//! written (puts of the same items) and the target counts them in one transaction with its
//! `merged_from` history entry, which a retry finds and skips, (3) participants are shared
//! (no-ops for those already there; the note of the rest is written once).

use super::{every_record, history_entry, history_write, try_update_request, Seen, HELPDESK_AUTHOR};
use crate::domain::access::require_agent;
use crate::domain::caller::{load_request, Caller, RequestScope};
use crate::domain::participants::share_where_allowed;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{history_key, project_of, request_key, request_partition, ItemKey};
use crate::model::{Attachment, AuthorRole, Comment, HistoryEntry, Record, Request, RequestStatus};
use crate::store::{Condition, Write};
use crate::table::Index;
use crate::text::{check_text, derived_ulid};
use crate::App;
use serde::Deserialize;

/// Merges followed from a merged request to the one that now holds its thread.
const MAX_HOPS: usize = 8;
pub const MAX_MERGE_NOTE: usize = 2000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The request that stays: `HD-5`.
    pub into: String,
    /// Why, for the agents: an internal note on the target.
    #[serde(default)]
    pub note: Option<String>,
}

/// Where a merge may stop early: tests use it to simulate a crash between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStep {
    Marked,
    Copied,
}

/// What a merge did (the same on a retry).
#[derive(Debug)]
pub struct Merged {
    pub source: Request,
    pub target: Request,
    /// Public comments (the source's first message counts as one) and files copied.
    pub comments: usize,
    pub attachments: usize,
    /// Addresses that could not join the target, each with why.
    pub skipped: Vec<String>,
}

/// The refusal of a write on a merged request.
pub(crate) fn refuse_merged(request: &Request) -> Result<(), ApiError> {
    match &request.merged_into {
        Some(into) => Err(ApiError::Conflict {
            code: "request_merged",
            message: format!("{} was merged into {into}: write there", request.key),
        }),
        None => Ok(()),
    }
}

/// The request that holds `key`'s thread now: itself, or where merges took it.
pub(crate) async fn follow_merges(app: &App, key: &str) -> Result<Request, ApiError> {
    let mut key = key.to_string();
    for _ in 0..MAX_HOPS {
        match app.store.get(&request_key(&key)).await? {
            Some(Record::Request(r)) => match &r.merged_into {
                Some(next) => key = next.clone(),
                None => return Ok(r),
            },
            _ => return Err(ApiError::NotFound("request")),
        }
    }
    Err(ApiError::NotFound("request"))
}

/// Merges request `key` into `input.into`. Into itself, across projects, or an unknown
/// request: 422; into a merged or closed request, or a source merged elsewhere: 409.
pub async fn merge(
    app: &App,
    caller: &Caller,
    key: &str,
    input: Input<MergeInput>,
    stop_after: Option<MergeStep>,
) -> Result<Merged, ApiError> {
    let (scope, input) = check(app, caller, key, input).await?;
    let into = input.into.as_str();
    let source = match scope.request.merged_into.as_deref() {
        // A retry: finish what the first call began.
        Some(done) if done == into => scope.request.clone(),
        _ => {
            let target = target_of(&scope, into)?;
            mark_source(app, &scope, target).await?
        }
    };
    let target = follow_merges(app, into).await?;
    if stop_after == Some(MergeStep::Marked) {
        return Ok(Merged { source, target, comments: 0, attachments: 0, skipped: vec![] });
    }
    let records = every_record(app, Index::Table, request_partition(&source.key)).await?;
    let (comments, attachments) = copies(&source, &target.key, records);
    let target = count_copies(app, &scope, &source, target, &comments, &attachments, input.note.as_deref()).await?;
    if stop_after == Some(MergeStep::Copied) {
        let (comments, attachments) = (comments.len(), attachments.len());
        return Ok(Merged { source, target, comments, attachments, skipped: vec![] });
    }
    let skipped = join_parties(app, caller, &source, &target.key).await?;
    let target = follow_merges(app, &target.key).await?;
    Ok(Merged { source, target, comments: comments.len(), attachments: attachments.len(), skipped })
}

/// Both requests as a merge of `key` into `into` would take them, for its confirmation page:
/// the same refusals as the merge itself, nothing written.
/// With no `into` yet: the source alone, to its agents.
pub async fn merge_preview(
    app: &App,
    caller: &Caller,
    key: &str,
    into: Option<&str>,
) -> Result<(Request, Option<Request>), ApiError> {
    let Some(into) = into else { return Ok((agents_scope(app, caller, key, &[]).await?.request, None)) };
    let input = MergeInput { into: into.to_string(), note: None };
    let (scope, _) = check(app, caller, key, Ok(input)).await?;
    let target = target_of(&scope, into)?.clone();
    Ok((scope.request, Some(target)))
}

/// The request `key` read for an agent of its project (with `extra` in the same round trip).
async fn agents_scope(app: &App, caller: &Caller, key: &str, extra: &[ItemKey]) -> Result<RequestScope, ApiError> {
    let scope = load_request(app, caller, key, extra).await?;
    require_agent(scope.user(), &scope.project.key)?;
    Ok(scope)
}

/// The caller (an agent of the source's project) and the input, checked; the target read with
/// the source in one round trip.
async fn check(
    app: &App,
    caller: &Caller,
    key: &str,
    input: Input<MergeInput>,
) -> Result<(RequestScope, MergeInput), ApiError> {
    let wanted: Vec<_> = input.iter().filter(|i| is_request_key(&i.into)).map(|i| request_key(&i.into)).collect();
    let scope = agents_scope(app, caller, key, &wanted).await?;
    let input = input?;
    if let Some(note) = &input.note {
        check_text("note", note, MAX_MERGE_NOTE, true, true)?;
    }
    let into = input.into.as_str();
    if !is_request_key(into) {
        return Err(ApiError::invalid("invalid_field", "into must be a request key such as HD-5"));
    }
    if into == scope.request.key {
        return Err(ApiError::invalid("merge_into_itself", "a request cannot be merged into itself"));
    }
    if project_of(into) != Some(scope.project.key.as_str()) {
        return Err(ApiError::invalid(
            "merge_across_projects",
            "only a request of the same project can take the merge",
        ));
    }
    Ok((scope, input))
}

/// The target of a first merge of the scope's request: it must exist, be open and unmerged,
/// and the source must not be merged elsewhere already.
fn target_of<'a>(scope: &'a RequestScope, into: &str) -> Result<&'a Request, ApiError> {
    if let Some(other) = &scope.request.merged_into {
        if other != into {
            return Err(ApiError::Conflict {
                code: "already_merged",
                message: format!("{} was already merged into {other}", scope.request.key),
            });
        }
    }
    let target = scope.extra.iter().find_map(|r| match r {
        Record::Request(r) if r.key == into => Some(r),
        _ => None,
    });
    let target = target
        .ok_or_else(|| ApiError::invalid("unknown_request", format!("{into} is not a request of this project")))?;
    refuse_as_target(target)?;
    if scope.request.held {
        // A held request's words are nobody's yet (an unauthenticated sender, a stranger).
        return Err(ApiError::Conflict {
            code: "source_held",
            message: format!("{} is held for review: release it before merging it", scope.request.key),
        });
    }
    Ok(target)
}

fn is_request_key(key: &str) -> bool {
    key.len() <= 32 && project_of(key).is_some()
}

fn refuse_as_target(target: &Request) -> Result<(), ApiError> {
    if let Some(into) = &target.merged_into {
        return Err(ApiError::Conflict {
            code: "target_merged",
            message: format!("{} was itself merged into {into}: merge into that one", target.key),
        });
    }
    if target.held {
        return Err(ApiError::Conflict {
            code: "target_held",
            message: format!("{} is held for review: release it before merging into it", target.key),
        });
    }
    if target.status == RequestStatus::Closed {
        return Err(ApiError::Conflict {
            code: "target_closed",
            message: format!("{} is closed: reopen it first, or merge the other way", target.key),
        });
    }
    Ok(())
}

/// Step 1: the source is closed with `merged_into`, with its history entry, in one
/// transaction that also checks the target is as it was read (so two opposite merges at once
/// cannot both pass: one fails and sees the other's); a source merged meanwhile into the
/// same target (a twin call) is taken as it is.
async fn mark_source(app: &App, scope: &RequestScope, target: &Request) -> Result<Request, ApiError> {
    let (agent, now, into) = (scope.user(), app.now(), target.key.as_str());
    let target_unchanged =
        Write::Check { key: request_key(&target.key), condition: Condition::VersionIs(target.version) };
    let mark = |r: &mut Request| {
        // Merged meanwhile (a twin call, or into another): answered below, never marked twice.
        refuse_merged(r)?;
        r.merged_into = Some(into.to_string());
        r.status = RequestStatus::Closed;
        r.status_by = Some(agent.id.clone());
        // The merge's time: the target's entry for it derives its id from this.
        r.closed_at = Some(now);
        Ok(())
    };
    let history = |before: &Request, _: &Request| {
        vec![history_write(before, agent, "merged_into", vec![], Some(into.to_string()), now), target_unchanged.clone()]
    };
    let sla = scope.project.settings.sla.as_ref();
    match try_update_request(app, &scope.actor, sla, scope.request.clone(), Seen::Public, mark, history).await {
        Err(ApiError::Conflict { code: "idempotency_in_progress", .. }) => Err(ApiError::Conflict {
            code: "target_changed",
            message: format!("{into} changed while merging into it: look at it again, then merge"),
        }),
        Err(ApiError::Conflict { code: "request_merged", .. }) => {
            match app.store.get(&request_key(&scope.request.key)).await? {
                Some(Record::Request(r)) if r.merged_into.as_deref() == Some(into) => Ok(r),
                _ => Err(ApiError::Conflict {
                    code: "already_merged",
                    message: format!("{} was merged into another request meanwhile", scope.request.key),
                }),
            }
        }
        other => other,
    }
}

/// The target's copies of the source's public thread: its first message as a comment at its
/// time, every public comment and every file customers could see there, same ids.
fn copies(source: &Request, target: &str, records: Vec<Record>) -> (Vec<Comment>, Vec<Attachment>) {
    let first_message = Comment {
        request_key: target.to_string(),
        id: derived_ulid(source.created_at.max(0) as u64 * 1000, &format!("merged\n{}", source.key)),
        author_id: source.reporter_id.clone(),
        author_email: source.reporter_email.clone(),
        body: format!("{}\n\n{}", source.summary, source.description).trim().to_string(),
        internal: false,
        created_at: source.created_at,
        // The reporter's own words, never the team's.
        author_role: Some(AuthorRole::Customer),
        author_name: None,
        merged_from: Some(source.key.clone()),
    };
    let (mut comments, mut files) = (vec![], vec![]);
    for record in records {
        match record {
            Record::Comment(c) if !c.internal => comments.push(c),
            Record::Attachment(a) => files.push(a),
            _ => {}
        }
    }
    files.retain(|a| a.comment_id.as_ref().is_none_or(|id| comments.iter().any(|c| &c.id == id)));
    let mut copied = vec![first_message.clone()];
    copied.extend(comments.into_iter().map(|c| Comment {
        request_key: target.to_string(),
        merged_from: Some(c.merged_from.clone().unwrap_or_else(|| source.key.clone())),
        ..c
    }));
    let files = files
        .into_iter()
        .map(|a| Attachment {
            request_key: target.to_string(),
            comment_id: Some(a.comment_id.clone().unwrap_or_else(|| first_message.id.clone())),
            merged_from: Some(a.merged_from.clone().unwrap_or_else(|| source.key.clone())),
            ..a
        })
        .collect();
    (copied, files)
}

/// Step 2: the copies are put (the same items again on a retry), then the target counts them
/// in one transaction with its `merged_from` entry (and the agent's note), which a retry finds.
async fn count_copies(
    app: &App,
    scope: &RequestScope,
    source: &Request,
    target: Request,
    comments: &[Comment],
    attachments: &[Attachment],
    note: Option<&str>,
) -> Result<Request, ApiError> {
    let merged_at = source.closed_at.unwrap_or(source.updated_at).max(0) as u64 * 1000;
    let entry_id = derived_ulid(merged_at, &format!("merge\n{}\n{}", source.key, target.key));
    if app.store.get(&history_key(&target.key, &entry_id)).await?.is_some() {
        return Ok(target);
    }
    let mut records: Vec<Record> = comments.iter().cloned().map(Record::Comment).collect();
    records.extend(attachments.iter().cloned().map(Record::Attachment));
    app.store.put_all(records).await?;
    let (agent, now) = (scope.user(), app.now());
    let merged_from = Some(source.key.clone());
    let entry = HistoryEntry { id: entry_id, ..history_entry(&target, agent, "merged_from", vec![], merged_from, now) };
    let note = note.filter(|n| !n.trim().is_empty()).map(|body| Comment {
        request_key: target.key.clone(),
        id: derived_ulid(merged_at + 1, &format!("merge note\n{}\n{}", source.key, target.key)),
        author_id: agent.id.clone(),
        author_email: agent.email.clone(),
        body: body.trim().to_string(),
        internal: true,
        created_at: now,
        author_role: Some(AuthorRole::Team),
        author_name: agent.name.clone(),
        merged_from: None,
    });
    let mut writes = vec![Write::Put { record: Record::HistoryEntry(entry), condition: Condition::NotExists }];
    writes.extend(note.clone().map(|c| Write::Put { record: Record::Comment(c), condition: Condition::NotExists }));
    let copied = comments.len() as u32;
    let count = |r: &mut Request| {
        r.comment_count += copied;
        if note.is_some() {
            r.note_count += 1;
            r.noted_at = Some(now);
        }
        Ok(())
    };
    let sla = scope.project.settings.sla.as_ref();
    match try_update_request(app, &scope.actor, sla, target.clone(), Seen::Public, count, |_, _| writes.clone()).await {
        Ok(target) => Ok(target),
        // A twin call counted them first.
        Err(ApiError::Conflict { code: "idempotency_in_progress", .. }) => follow_merges(app, &target.key).await,
        Err(e) => Err(e),
    }
}

/// Step 3: the source's reporter and participants join the target where the rules allow;
/// the rest are named in one internal note (written once, whatever the retries).
async fn join_parties(app: &App, caller: &Caller, source: &Request, target: &str) -> Result<Vec<String>, ApiError> {
    let mut skipped = vec![];
    let mut emails = vec![];
    if source.reporter_id == HELPDESK_AUTHOR {
        // Held mail from an address with no account here: nobody to share with yet.
        skipped.push(format!(
            "- {}: not added: their request was held for review without an account",
            source.reporter_email
        ));
    } else {
        emails.push(source.reporter_email.clone());
    }
    emails.extend(source.participants.iter().filter(|e| **e != source.reporter_email).cloned());
    skipped.extend(share_where_allowed(app, caller, target, &emails).await?);
    if !skipped.is_empty() {
        let body = format!(
            "Merged from {}. These people were on it but were not added here:\n{}",
            source.key,
            skipped.join("\n")
        );
        super::add_helpdesk_note(app, target, body, &format!("merge skipped\n{}", source.key)).await?;
    }
    Ok(skipped)
}
