//! The lists that find requests: the customer's (own, participating, organizations), newest
//! first, with cursors that stay stable across merged sources; and the readers the agents'
//! queue (`queue.rs`) shares.

use super::{parse_status, ListOptions, RequestPage, DEFAULT_PAGE, MAX_PAGE};
use crate::domain::access::viewer;
use crate::domain::caller::{resolve, Caller};
use crate::error::ApiError;
use crate::items::request_key;
use crate::model::{Record, Request, RequestStatus, User};
use crate::store::Query;
use crate::table::Index;
use crate::text::{decode_cursor, encode_cursor};
use crate::App;
use std::collections::BTreeSet;

pub(super) fn page_size(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_PAGE),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::bad_request("invalid_limit", format!("limit must be 1-{MAX_PAGE}"))),
    }
}

/// A list cursor: the sort key the next page continues after, a request ULID or, in a list
/// by time (`timed`), `<time, 12 digits>#<ULID>` (the due and activity indexes' sort key).
pub(super) fn decode_list_cursor(raw: &str, timed: bool) -> Result<String, ApiError> {
    let is_ulid = |s: &str| s.len() == 26 && s.chars().all(|c| c.is_ascii_alphanumeric());
    match decode_cursor(raw)?.as_slice() {
        [ulid] if !timed && is_ulid(ulid) => Ok(ulid.clone()),
        [key]
            if timed
                && key.len() == 39
                && key.as_bytes()[12] == b'#'
                && key[..12].bytes().all(|b| b.is_ascii_digit())
                && is_ulid(&key[13..]) =>
        {
            Ok(key.clone())
        }
        _ => Err(ApiError::bad_request("invalid_cursor", "the cursor is not valid for this list")),
    }
}

/// A request's place in a list by creation: its ULID.
pub(super) fn by_id(r: &Request) -> String {
    r.id.clone()
}

/// A run of requests read from one source, newest first, and the sort key to resume after
/// when the source may hold more.
pub(super) type Run = (Vec<Request>, Option<String>);

/// Requests of one index partition, newest first, after `after`. With a status filter it
/// reads on until `limit` requests are found.
pub(super) async fn read_index(
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
pub(super) async fn read_linked(
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

/// Merges runs of several sources into one page, greatest sort key (`place`) first, without
/// duplicates. Every source has delivered all its requests at or after the largest resume
/// key, so the page keeps only those, and the next page continues after the last one kept.
/// A place comes from the request as read, which may be ahead of a keys-only index's entry
/// (`sort=activity`): a request already placed at or above `after` was on an earlier page.
pub(super) fn merge_runs(
    reader: &User,
    runs: Vec<Run>,
    limit: usize,
    after: Option<&str>,
    place: fn(&Request) -> String,
) -> RequestPage {
    let boundary = runs.iter().filter_map(|(_, resume)| resume.clone()).max();
    let mut items: Vec<(String, Request)> = runs
        .into_iter()
        .flat_map(|(items, _)| items)
        .map(|r| (place(&r), r))
        .filter(|(at, _)| after.is_none_or(|after| at.as_str() < after))
        .collect();
    items.sort_by(|a, b| b.0.cmp(&a.0));
    let mut listed = BTreeSet::new();
    items.retain(|(_, r)| listed.insert(r.key.clone()));
    if let Some(b) = &boundary {
        items.retain(|(at, _)| at >= b);
    }
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|(at, _)| at.clone())
    } else {
        boundary
    };
    let items: Vec<Request> = items.into_iter().map(|(_, r)| r).collect();
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
        after: options.cursor.as_deref().map(|c| decode_list_cursor(c, false)).transpose()?,
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
    Ok(merge_runs(&actor.user, runs, limit, after.as_deref(), by_id))
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
