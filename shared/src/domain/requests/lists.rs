//! The lists that find requests: the customer's (own, participating, organizations) and the
//! agents' queue, newest first, with cursors that stay stable across merged sources.

use super::{parse_status, ListOptions, RequestPage, DEFAULT_PAGE, MAX_PAGE};
use crate::domain::access::{require_agent, viewer};
use crate::domain::caller::{load_project, resolve, Caller};
use crate::error::ApiError;
use crate::items::request_key;
use crate::model::{Priority, Project, Record, Request, RequestStatus, User};
use crate::store::Query;
use crate::table::Index;
use crate::text::{decode_cursor, encode_cursor};
use crate::App;

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

/// A list cursor: the sort key (request ULID) the next page continues after.
fn decode_list_cursor(raw: &str) -> Result<String, ApiError> {
    match decode_cursor(raw)?.as_slice() {
        [ulid] if ulid.len() == 26 && ulid.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(ulid.clone()),
        // The due index's sort key: `<due, 12 digits>#<ULID>`.
        [due] if due.len() == 39 && due.as_bytes()[12] == b'#' && due[..12].bytes().all(|b| b.is_ascii_digit()) => {
            Ok(due.clone())
        }
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
    keep: impl Fn(&Request) -> bool,
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
            Record::Request(r) if keep(&r) => Some(r),
            _ => None,
        }));
        after = page.last_sort_key;
        if after.is_none() || items.len() >= limit {
            break;
        }
    }
    Ok((items, after))
}

/// Requests found through link items (participations, tags), newest first: a Query of the
/// links, then one BatchGet of those requests, keeping those `keep` accepts.
async fn read_linked(
    app: &App,
    pk: String,
    status: Option<RequestStatus>,
    mut after: Option<String>,
    limit: usize,
    keep: impl Fn(&Request) -> bool,
) -> Result<Run, ApiError> {
    let mut items = Vec::new();
    for _ in 0..10 {
        let query = Query {
            index: Index::Gsi1,
            pk: pk.clone(),
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
                Record::RequestTag(t) => Some(request_key(&t.request_key)),
                _ => None,
            })
            .collect();
        let mut requests: Vec<Request> = if keys.is_empty() {
            vec![]
        } else {
            app.store
                .get_many(&keys)
                .await?
                .into_iter()
                .filter_map(|r| match r {
                    Record::Request(r) if keep(&r) && status.is_none_or(|s| r.status == s) => Some(r),
                    _ => None,
                })
                .collect()
        };
        requests.sort_by(|a, b| b.id.cmp(&a.id));
        items.extend(requests);
        after = page.last_sort_key;
        if after.is_none() || items.len() >= limit {
            break;
        }
    }
    Ok((items, after))
}

/// Requests the user participates in (still: the request's own list decides).
async fn read_participating(
    app: &App,
    user_id: &str,
    status: Option<RequestStatus>,
    after: Option<String>,
    limit: usize,
) -> Result<Run, ApiError> {
    let pk = crate::items::participant_partition(user_id);
    read_linked(app, pk, status, after, limit, |r| r.participant_ids.iter().any(|id| id == user_id)).await
}

/// Merges runs of several sources into one page, newest first, without duplicates. Every
/// source has delivered all its requests at or after the largest resume key, so the page
/// keeps only those, and the next page continues after the last one kept.
fn merge_runs(reader: &User, runs: Vec<Run>, limit: usize) -> RequestPage {
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
    let items = items.into_iter().map(|r| (viewer(reader, &r), r)).collect();
    RequestPage { items, next_cursor: next.map(|n| encode_cursor(&[&n])) }
}

/// The customer's list: `mine` (reported), `participating`, `all` (both, merged; organization
/// sharing joins it with its issue), newest first, with a stable cursor across pages.
/// The options of a customer list, checked: status, page size, cursor and which sources.
struct CustomerList {
    status: Option<RequestStatus>,
    limit: usize,
    after: Option<String>,
    own: bool,
    participating: bool,
    orgs: bool,
}

fn customer_list(options: &ListOptions) -> Result<CustomerList, ApiError> {
    let (own, participating, orgs) = match options.view.as_deref().unwrap_or("all") {
        "mine" => (true, false, false),
        "participating" => (false, true, false),
        "organization" => (false, false, true),
        "all" => (true, true, true),
        _ => {
            return Err(ApiError::bad_request("invalid_view", "view must be all, mine, participating or organization"))
        }
    };
    if options.organization.as_ref().is_some_and(|o| o.len() > 64) {
        return Err(ApiError::bad_request("invalid_organization", "organization is an organization id"));
    }
    Ok(CustomerList {
        status: parse_status(options.status.as_deref())?,
        limit: page_size(options.limit.as_deref())?,
        after: options.cursor.as_deref().map(decode_list_cursor).transpose()?,
        own,
        participating,
        orgs,
    })
}

pub async fn list_for_customer(app: &App, caller: &Caller, options: &ListOptions) -> Result<RequestPage, ApiError> {
    let user_id = caller.require_claim()?;
    // Bad options are reported only to a caller who is signed in.
    let list = match customer_list(options) {
        Ok(list) => list,
        Err(bad) => return Err(resolve(app, caller, &[]).await.err().unwrap_or(bad)),
    };
    let CustomerList { status, limit, after, own: with_own, participating: with_participating, orgs: with_orgs } = list;
    let reported = || {
        read_index(app, Index::Gsi1, crate::items::reporter_partition(user_id), status, after.clone(), limit, |_| true)
    };
    let participating = || read_participating(app, user_id, status, after.clone(), limit);
    // The lists of the user the token claims are read while the session is checked; they are
    // returned only when the check passes.
    let (auth, own, shared) = tokio::join!(
        resolve(app, caller, &[]),
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
    let (actor, _) = auth?;
    let mut runs: Vec<Run> = own?.into_iter().chain(shared?).collect();
    if with_orgs {
        runs.extend(
            read_organizations(app, &actor.user, options.organization.as_deref(), status, &after, limit).await?,
        );
    }
    if let Some(org) = &options.organization {
        for (items, _) in runs.iter_mut() {
            items.retain(|r| r.organization.as_deref() == Some(org.as_str()));
        }
    }
    Ok(merge_runs(&actor.user, runs, limit))
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
    let orgs = crate::domain::caller::sharing_organizations(app, user, only).await?;
    let reads = orgs.iter().map(|org| {
        read_index(app, Index::Gsi4, crate::items::org_requests_partition(org), status, after.clone(), limit, |_| true)
    });
    futures::future::try_join_all(reads).await
}

/// The project's queue for agents, newest first, optionally by status and by tag.
pub async fn list_queue(
    app: &App,
    caller: &Caller,
    project: &str,
    options: &ListOptions,
) -> Result<RequestPage, ApiError> {
    Ok(queue_with_project(app, caller, project, options).await?.1)
}

/// Whose requests a queue shows.
#[derive(Debug, Clone, PartialEq)]
enum Owner {
    Me,
    Unassigned,
    Agent(crate::domain::email::EmailAddress),
}

/// The queue's options, checked.
struct QueueOptions {
    status: Option<RequestStatus>,
    tag: Option<String>,
    owner: Option<Owner>,
    priority: Option<Priority>,
    by_due: bool,
    limit: usize,
    after: Option<String>,
}

fn queue_options(options: &ListOptions) -> Result<QueueOptions, ApiError> {
    let tag = options.tag.as_deref().map(crate::domain::tags::check_tag).transpose()?;
    if options.organization.as_deref().is_some_and(|o| o.is_empty() || o.len() > 64) {
        return Err(ApiError::bad_request("invalid_organization", "organization is an organization id"));
    }
    let owner =
        match options.assignee.as_deref() {
            None => None,
            Some("me") => Some(Owner::Me),
            Some("none") => Some(Owner::Unassigned),
            Some(raw) => Some(Owner::Agent(crate::domain::email::EmailAddress::parse(raw).map_err(|_| {
                ApiError::bad_request("invalid_assignee", "assignee is me, none or an agent's address")
            })?)),
        };
    let priority = options
        .priority
        .as_deref()
        .map(|p| {
            Priority::parse(p)
                .ok_or_else(|| ApiError::bad_request("invalid_priority", "priority is low, normal, high or urgent"))
        })
        .transpose()?;
    let by_due = match options.sort.as_deref() {
        None | Some("created") => false,
        Some("due") => true,
        Some(_) => {
            return Err(ApiError::bad_request("invalid_sort", "sort is created (newest first) or due (nearest first)"))
        }
    };
    let held = options.status.as_deref() == Some("held");
    if by_due && (held || tag.is_some() || options.organization.is_some()) {
        return Err(ApiError::bad_request(
            "invalid_sort",
            "sort=due orders the requests with a running clock; filter them by status, assignee or priority",
        ));
    }
    if held && (tag.is_some() || owner.is_some()) {
        return Err(ApiError::bad_request("invalid_status", "held requests have no tag or assignee filter"));
    }
    Ok(QueueOptions {
        status: if held { None } else { parse_status(options.status.as_deref())? },
        tag,
        owner,
        priority,
        by_due,
        limit: page_size(options.limit.as_deref())?,
        after: options.cursor.as_deref().map(decode_list_cursor).transpose()?,
    })
}

/// `list_queue`, with the project it read to check the caller (the console shows its name).
/// Which index serves which options: docs/access-patterns.md ("project queue").
pub async fn queue_with_project(
    app: &App,
    caller: &Caller,
    project: &str,
    options: &ListOptions,
) -> Result<(Project, RequestPage), ApiError> {
    let claimed = caller.require_claim()?.to_string();
    let wants_held = options.status.as_deref() == Some("held");
    let checked = match queue_options(options) {
        Ok(checked) => checked,
        // Bad options are reported only to the project's agents.
        Err(bad) => {
            let (actor, project, _) = load_project(app, caller, project, &[]).await?;
            require_agent(&actor.user, &project.key)?;
            return Err(bad);
        }
    };
    let QueueOptions { status, tag, owner, priority, by_due, limit, after } = checked;
    let org = options.organization.as_deref();
    let statuses = match status {
        Some(s) => vec![s],
        None => RequestStatus::ALL.to_vec(),
    };
    let mut extra: Vec<_> = org.iter().map(|o| crate::items::org_key(o)).collect();
    if let Some(Owner::Agent(email)) = &owner {
        extra.push(crate::items::email_key(email));
    }
    // The owner's id: the caller's as claimed, or read with the session for an address, so
    // the queue can only be read in parallel when the owner is known beforehand.
    let owner_id = |records: &[Record]| -> Option<Option<String>> {
        match &owner {
            None => None,
            Some(Owner::Me) => Some(Some(claimed.clone())),
            Some(Owner::Unassigned) => Some(None),
            // Nobody has that address: a partition nothing is in.
            Some(Owner::Agent(email)) => Some(Some(crate::domain::caller::account_of(records, email))),
        }
    };
    let source = |owner: Option<Option<String>>| match (&tag, org, owner) {
        _ if by_due => Source::Due(crate::items::due_partition(project)),
        _ if wants_held => Source::Index(Index::Gsi3, vec![crate::items::held_partition(project)], None),
        (Some(tag), _, _) => Source::Tag(crate::items::tagged_partition(project, tag), status),
        (None, Some(org), _) => Source::Index(Index::Gsi4, vec![crate::items::org_requests_partition(org)], status),
        // An owner's queue: one partition per status (keys only, read through).
        (None, None, Some(owner)) => {
            let pks = statuses.iter().map(|s| crate::items::owner_partition(project, owner.as_deref(), *s)).collect();
            Source::Index(Index::Gsi5, pks, None)
        }
        // The whole queue: its status partitions merged (a request is in one index by status
        // only, so a reply rewrites one copy fewer).
        (None, None, None) => {
            let pks = statuses.iter().map(|s| crate::items::queue_status_partition(project, *s)).collect();
            Source::Index(Index::Gsi3, pks, None)
        }
    };
    // Filters the index cannot apply: held apart, the organization, owner and priority (the
    // owner and status again, since a keys-only index may trail a change by a moment).
    let keep = |owner: &Option<Option<String>>, r: &Request| {
        r.held == wants_held
            && (wants_held || statuses.contains(&r.status))
            && org.is_none_or(|o| r.organization.as_deref() == Some(o))
            && priority.is_none_or(|p| r.priority == p)
            && owner.as_ref().is_none_or(|o| r.assignee.as_ref().map(|a| &a.id) == o.as_ref())
    };
    let read = |source: Source, owner: Option<Option<String>>| {
        let after = after.clone();
        async move {
            match source {
                Source::Index(index, pks, status) => {
                    let reads = pks.into_iter().map(|pk| {
                        read_index(app, index, pk, status, after.clone(), limit, |r: &Request| keep(&owner, r))
                    });
                    futures::future::try_join_all(reads).await
                }
                Source::Tag(pk, status) => {
                    Ok(vec![read_linked(app, pk, status, after, limit, |r: &Request| keep(&owner, r)).await?])
                }
                Source::Due(pk) => Ok(vec![read_due(app, pk, after, limit, |r: &Request| keep(&owner, r)).await?]),
            }
        }
    };
    let (actor, project, records, runs) = if matches!(owner, Some(Owner::Agent(_))) {
        let (actor, project, records) = load_project(app, caller, project, &extra).await?;
        require_agent(&actor.user, &project.key)?;
        let owner = owner_id(&records);
        let runs = read(source(owner.clone()), owner).await;
        (actor, project, records, runs)
    } else {
        // The queue is read while the session and project are; it is returned only to agents.
        let owner = owner_id(&[]);
        let (loaded, runs) =
            tokio::join!(load_project(app, caller, project, &extra), read(source(owner.clone()), owner));
        let (actor, project, records) = loaded?;
        (actor, project, records, runs)
    };
    require_agent(&actor.user, &project.key)?;
    // An organization of another project (or none) is not one this queue knows.
    if org.is_some() && !records.iter().any(|r| matches!(r, Record::Organization(o) if o.project == project.key)) {
        return Err(ApiError::NotFound("organization"));
    }
    let page = match by_due {
        // One partition, already in due order: its own cursor.
        true => {
            let (items, next) = runs?.pop().unwrap_or_default();
            let items = items.into_iter().map(|r| (viewer(&actor.user, &r), r)).collect();
            RequestPage { items, next_cursor: next.map(|n| encode_cursor(&[&n])) }
        }
        false => merge_runs(&actor.user, runs?, limit),
    };
    Ok((project, page))
}

/// A project's requests by nearest due time (oldest first in the due index), after `after`.
async fn read_due(
    app: &App,
    pk: String,
    mut after: Option<String>,
    limit: usize,
    keep: impl Fn(&Request) -> bool,
) -> Result<Run, ApiError> {
    let mut items = Vec::new();
    for _ in 0..10 {
        let query = Query { after: after.take(), ..Query::partition(Index::Gsi2, pk.clone(), limit - items.len()) };
        let page = app.store.query(&query).await?;
        items.extend(page.records.into_iter().filter_map(|r| match r {
            // The index may trail a change by a moment: the request read through decides.
            Record::Request(r) if r.nearest_due().is_some() && keep(&r) => Some(r),
            _ => None,
        }));
        after = page.last_sort_key;
        if after.is_none() || items.len() >= limit {
            break;
        }
    }
    Ok((items, after))
}

/// Where a queue page comes from: index partitions (merged), or a tag's links; each with the
/// status the store filters on.
enum Source {
    Index(Index, Vec<String>, Option<RequestStatus>),
    Tag(String, Option<RequestStatus>),
    /// The due index of a project (`sort=due`).
    Due(String),
}
