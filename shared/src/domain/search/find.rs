//! Searching, for agents (one project, every text field) and customers (what the access
//! policy lets them see, public text only). The session, the project and the index's pointer
//! come in one read; the page's requests in a second, so what is shown (status, summary) is
//! current and every hit passes `access::can_view` as it is now.

use super::indexer::{engine_error, search_of};
use super::records::SearchPointer;
use crate::domain::access::{can_view, customer_may_filter, require_agent, Viewer};
use crate::domain::caller::{load_project, resolve, sharing_organizations, Caller};
use crate::error::ApiError;
use crate::items::{project_key, project_of, request_key, search_pointer_key};
use crate::model::{Record, Request};
use crate::search::engine::{Commit, EngineError};
use crate::search::find::{Scope, Sort};
use crate::search::query::{parse, Parsed};
use crate::text::{decode_cursor, encode_cursor, sha256_hex};
use crate::App;
use std::collections::HashMap;

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 50;
/// How deep paging goes: the engine ranks offset + limit documents to answer a page.
pub const MAX_OFFSET: usize = 10_000;

/// The query string of a search, unchecked.
#[derive(Debug, Default, Clone)]
pub struct SearchOptions {
    pub q: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A page of results: each request as its reader may see it, with its snippet.
#[derive(Debug)]
pub struct SearchPage {
    /// The project searched (key, name), for agents.
    pub project: Option<(String, String)>,
    pub items: Vec<(Viewer, Request, String)>,
    pub next_cursor: Option<String>,
    pub total: usize,
}

/// The options, checked.
struct Checked {
    parsed: Parsed,
    sort: Sort,
    limit: usize,
    /// (commit id, offset) of a later page.
    cursor: Option<(String, usize)>,
    fingerprint: String,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

fn check(options: &SearchOptions) -> Result<Checked, ApiError> {
    let q = options.q.as_deref().unwrap_or("").trim();
    let parsed = parse(q).map_err(|e| bad(e.0))?;
    let sort = match options.sort.as_deref() {
        None | Some("relevance") => Sort::Relevance,
        Some("updated") => Sort::Updated,
        Some(_) => return Err(ApiError::bad_request("invalid_sort", "sort is relevance or updated")),
    };
    let limit = match options.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::bad_request("invalid_limit", format!("limit must be 1-{MAX_PAGE}")))?,
    };
    // A cursor continues the search it came from, nothing else.
    let fingerprint = sha256_hex(&format!("{q}\n{sort:?}\n{limit}"))[..12].to_string();
    let cursor = match options.cursor.as_deref() {
        None => None,
        Some(raw) => {
            let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is not valid for this search");
            match decode_cursor(raw)?.as_slice() {
                [id, offset, print] if *print == fingerprint && ulid::Ulid::from_string(id).is_ok() => {
                    let offset = offset.parse::<usize>().ok().filter(|o| *o <= MAX_OFFSET).ok_or_else(invalid)?;
                    Some((id.clone(), offset))
                }
                _ => return Err(invalid()),
            }
        }
    };
    Ok(Checked { parsed, sort, limit, cursor, fingerprint })
}

fn pointer_in(records: &[Record]) -> Option<SearchPointer> {
    records.iter().find_map(|r| match r {
        Record::SearchPointer(p) => Some(p.clone()),
        _ => None,
    })
}

/// The commit a page is read from: the newest for a first page, the first page's for the
/// rest (so pages never repeat or skip a request while the index changes).
async fn commit_for(
    app: &App,
    pointer: Option<SearchPointer>,
    cursor: &Option<(String, usize)>,
) -> Result<Commit, ApiError> {
    let id = match cursor {
        Some((id, _)) => id.clone(),
        None => pointer.map(|p| p.id).unwrap_or_default(),
    };
    let first_page = cursor.is_none();
    search_of(app)?.describe(&id).await.map_err(|e| match e {
        // The current commit's pack is never deleted: missing, it is a fault, not the caller's.
        EngineError::Missing(_) if !first_page => expired(),
        other => engine_error(other),
    })
}

fn expired() -> ApiError {
    ApiError::bad_request("cursor_expired", "this search is too old to page through: search again")
}

/// Runs `checked` over `commit` as `scope` asks; the keys found, in order, with snippets.
async fn run(
    app: &App,
    commit: &Commit,
    scope: Scope,
    checked: &Checked,
) -> Result<(Vec<(String, String)>, usize, Option<String>), ApiError> {
    let snapshot = search_of(app)?.snapshot(commit).await.map_err(|e| match e {
        EngineError::Missing(_) => {
            ApiError::bad_request("cursor_expired", "this search is too old to page through: search again")
        }
        other => engine_error(other),
    })?;
    let offset = checked.cursor.as_ref().map_or(0, |(_, o)| *o);
    let (parsed, sort, limit) = (checked.parsed.clone(), checked.sort, checked.limit);
    let found = tokio::task::spawn_blocking(move || snapshot.find(&scope, &parsed, sort, offset, limit))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(engine_error)?;
    // Past MAX_OFFSET there is no next page: narrow the search instead.
    let next = (offset + limit < found.total && offset + limit <= MAX_OFFSET)
        .then(|| encode_cursor(&[&commit.id, &(offset + limit).to_string(), &checked.fingerprint]));
    Ok((found.hits.into_iter().map(|h| (h.key, h.snippet)).collect(), found.total, next))
}

/// The hits' requests and projects as they are now, in the hits' order.
async fn load_hits(
    app: &App,
    hits: &[(String, String)],
) -> Result<(Vec<(Request, String)>, HashMap<String, crate::model::Project>), ApiError> {
    let mut keys: Vec<_> = hits.iter().map(|(k, _)| request_key(k)).collect();
    let mut projects: Vec<_> = hits.iter().filter_map(|(k, _)| project_of(k)).map(project_key).collect();
    projects.sort();
    projects.dedup();
    keys.extend(projects);
    let records = if hits.is_empty() { vec![] } else { app.store.get_many(&keys).await? };
    let (mut requests, mut projects) = (HashMap::new(), HashMap::new());
    for record in records {
        match record {
            Record::Request(r) => {
                requests.insert(r.key.clone(), r);
            }
            Record::Project(p) => {
                projects.insert(p.key.clone(), p);
            }
            _ => {}
        }
    }
    let ordered = hits.iter().filter_map(|(k, snippet)| requests.remove(k).map(|r| (r, snippet.clone()))).collect();
    Ok((ordered, projects))
}

/// `GET /projects/{key}/search`: the project's agents search all of its requests.
pub async fn search_project(
    app: &App,
    caller: &Caller,
    project: &str,
    options: &SearchOptions,
) -> Result<SearchPage, ApiError> {
    let (actor, project, records) = load_project(app, caller, project, &[search_pointer_key()]).await?;
    require_agent(&actor.user, &project.key)?;
    let checked = check(options)?;
    let commit = commit_for(app, pointer_in(&records), &checked.cursor).await?;
    let scope = Scope::Agent { project: project.key.clone(), me: actor.user.id.clone() };
    let (hits, total, next_cursor) = run(app, &commit, scope, &checked).await?;
    let (found, _) = load_hits(app, &hits).await?;
    let items =
        found.into_iter().filter(|(r, _)| r.project == project.key).map(|(r, s)| (Viewer::Agent, r, s)).collect();
    Ok(SearchPage { project: Some((project.key, project.name)), items, next_cursor, total })
}

/// `GET /requests/search`: a customer searches what they may see, by its public text.
pub async fn search_customer(app: &App, caller: &Caller, options: &SearchOptions) -> Result<SearchPage, ApiError> {
    let (actor, records) = resolve(app, caller, &[search_pointer_key()]).await?;
    let checked = check(options)?;
    if !checked.parsed.filters.iter().all(customer_may_filter) {
        return Err(bad("you can filter by status (open, pending, closed), priority, org, form and dates"));
    }
    let user = &actor.user;
    // Only organizations whose project shares with them: the index then narrows to what the
    // policy allows, so not even the total counts a request the customer may not see.
    let organizations = sharing_organizations(app, user, None).await?;
    let commit = commit_for(app, pointer_in(&records), &checked.cursor).await?;
    let scope = Scope::Customer { me: user.id.clone(), organizations };
    let (hits, total, next_cursor) = run(app, &commit, scope, &checked).await?;
    let (found, projects) = load_hits(app, &hits).await?;
    let items = found
        .into_iter()
        .filter(|(r, _)| projects.get(&r.project).is_some_and(|p| can_view(user, r, p.settings.org_sharing)))
        // Whoever searches here reads as a customer, an agent too.
        .map(|(r, s)| (Viewer::Customer, r, s))
        .collect();
    Ok(SearchPage { project: None, items, next_cursor, total })
}
