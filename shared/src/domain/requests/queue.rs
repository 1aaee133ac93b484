//! The agents' queue of a project: by status, owner, priority, tag or organization; newest
//! first, by latest activity or by nearest due.

use super::lists::{by_id, decode_list_cursor, merge_runs, page_size, read_index, read_linked, Run};
use super::{parse_status, ListOptions, RequestPage};
use crate::domain::access::{require_agent, viewer};
use crate::domain::caller::{load_project, Caller};
use crate::error::ApiError;
use crate::items::timed_sort_key;
use crate::model::{Priority, Project, Record, Request, RequestStatus};
use crate::store::Query;
use crate::table::Index;
use crate::text::encode_cursor;
use crate::App;

/// A request's place in the queue by latest activity: gsi6's sort key, from the request read
/// (the index may trail a change by a moment).
fn by_activity(r: &Request) -> String {
    timed_sort_key(r.activity_at(), &r.id)
}

/// The project's queue for agents (`queue_with_project`: which filters and orders).
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

/// A queue's order: newest first, latest activity first, or nearest due first.
#[derive(Debug, Clone, Copy, PartialEq)]
enum QueueSort {
    Created,
    Activity,
    Due,
}

/// The queue's options, checked.
struct QueueOptions {
    status: Option<RequestStatus>,
    tag: Option<String>,
    owner: Option<Owner>,
    priority: Option<Priority>,
    sort: QueueSort,
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
    let sort = match options.sort.as_deref() {
        None | Some("created") => QueueSort::Created,
        Some("activity") => QueueSort::Activity,
        Some("due") => QueueSort::Due,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_sort",
                "sort is created (newest first), activity (latest activity first) or due (nearest first)",
            ))
        }
    };
    let held = options.status.as_deref() == Some("held");
    if sort != QueueSort::Created && (held || tag.is_some() || options.organization.is_some()) {
        let what = match sort {
            QueueSort::Due => "sort=due orders the requests with a running clock",
            _ => "sort=activity orders the queue's requests (held ones by creation only)",
        };
        return Err(ApiError::bad_request(
            "invalid_sort",
            format!("{what}; filter them by status, assignee or priority"),
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
        sort,
        limit: page_size(options.limit.as_deref())?,
        after: options.cursor.as_deref().map(|c| decode_list_cursor(c, sort != QueueSort::Created)).transpose()?,
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
    let QueueOptions { status, tag, owner, priority, sort, limit, after } = checked;
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
        _ if sort == QueueSort::Due => Source::Due(crate::items::due_partition(project)),
        // By activity: its status partitions merged, the owner a filter in code.
        _ if sort == QueueSort::Activity => {
            let pks = statuses.iter().map(|s| crate::items::activity_partition(project, *s)).collect();
            Source::Index(Index::Gsi6, pks, None)
        }
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
    let page = match sort {
        // One partition, already in due order: its own cursor.
        QueueSort::Due => {
            let (items, next) = runs?.pop().unwrap_or_default();
            let items = items.into_iter().map(|r| (viewer(&actor.user, &r), r)).collect();
            RequestPage { items, next_cursor: next.map(|n| encode_cursor(&[&n])) }
        }
        QueueSort::Activity => merge_runs(&actor.user, runs?, limit, after.as_deref(), by_activity),
        QueueSort::Created => merge_runs(&actor.user, runs?, limit, after.as_deref(), by_id),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::requests::open_request;

    /// The activity index trails the table: a request read through is placed by what it is
    /// now. One listed on page 1 by its new activity, whose old index entry page 2's read
    /// still finds, is not listed again, and the cursor only goes down.
    #[test]
    fn a_request_ahead_of_its_index_entry_is_listed_once() {
        let reader = crate::domain::auth::new_user(&crate::model::EmailAddress::stored("a@example.com"), 0);
        let at = |key: &str, activity: i64| Request { updated_at: activity, ..open_request(key, "U1", 0) };
        let (fresh, older) = (at("HD-1", 250), at("HD-2", 200));
        let keys = |p: &RequestPage| p.items.iter().map(|(_, r)| r.key.clone()).collect::<Vec<_>>();
        let cursor =
            |p: &RequestPage| crate::text::decode_cursor(p.next_cursor.as_deref().unwrap()).unwrap()[0].clone();
        // Page 1 (limit 1): the index still has HD-1 at 100, below HD-2; read through, it is at 250.
        let read = vec![(vec![older.clone(), fresh.clone()], Some(timed_sort_key(100, &fresh.id)))];
        let first = merge_runs(&reader, read.clone(), 1, None, by_activity);
        assert_eq!(keys(&first), ["HD-1"]);
        let after = cursor(&first);
        assert_eq!(after, timed_sort_key(250, &fresh.id));
        // Page 2 reads the index below that: HD-2, and HD-1's old entry again.
        let second = merge_runs(&reader, read, 1, Some(&after), by_activity);
        assert_eq!(keys(&second), ["HD-2"], "HD-1 was on page 1");
        assert!(cursor(&second) < after, "the cursor goes down");
    }
}
