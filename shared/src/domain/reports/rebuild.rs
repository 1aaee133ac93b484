//! `helpdesk-admin rebuild-stats KEY`: the aggregates again from the table. First every request
//! whose ledger is behind it (made before reports were kept, or a change the stream lost) is
//! counted up to its current state the way the stream counts a change, on the same condition;
//! then every count of the project is summed again from the ledgers and written whole.
//! Changes counted from the stream between those two steps are lost to the written counts:
//! run it when the desk is quiet, or twice.

use super::apply::{clock_of, count_change};
use super::counts::tally;
use super::records::{StatsCounts, StatsLedger};
use crate::domain::requests::{every_record, every_request};
use crate::error::ApiError;
use crate::items::{project_key, request_key, stats_ledger_partition, stats_partition};
use crate::model::{Record, Request};
use crate::store::{Condition, Write};
use crate::table::Index;
use crate::App;
use std::collections::{BTreeMap, BTreeSet};

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub requests: usize,
    /// Requests whose ledger was behind them and was counted up.
    pub caught_up: usize,
    /// Count items written, and removed (no longer counted).
    pub written: usize,
    pub removed: usize,
}

/// Rebuilds project `key`'s counts; `progress(done, total)` after each request.
pub async fn rebuild_stats(app: &App, key: &str, mut progress: impl FnMut(usize, usize)) -> Result<Rebuilt, ApiError> {
    let project = match app.store.get(&project_key(key)).await? {
        Some(Record::Project(p)) => p,
        _ => return Err(ApiError::NotFound("project")),
    };
    let requests: Vec<Request> = every_request(app, key).await?;
    let ledgers: BTreeMap<String, StatsLedger> = every_record(app, Index::Table, stats_ledger_partition(key))
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::StatsLedger(l) => Some((l.request_key.clone(), l)),
            _ => None,
        })
        .collect();
    let (zone, _) = clock_of(Some(&project));
    let mut done = Rebuilt { requests: requests.len(), ..Default::default() };
    let gone: Vec<&StatsLedger> = {
        let present: BTreeSet<&str> = requests.iter().map(|r| r.key.as_str()).collect();
        ledgers.values().filter(|l| l.view.is_some() && !present.contains(l.request_key.as_str())).collect()
    };
    let total = requests.len() + gone.len();
    for (i, request) in requests.iter().enumerate() {
        // Behind its request (or none yet): counted as the stream counts a change, which reads
        // the ledger as it is now (the stream may have moved it since the list was read) and
        // counts nothing when it is at this version or later.
        let behind = ledgers.get(&request.key).is_none_or(|l| l.version < request.version);
        if behind {
            done.caught_up += usize::from(count_change(app, &request.key, Some(request), request.updated_at).await?);
        }
        progress(i + 1, total);
    }
    for (i, ledger) in gone.iter().enumerate() {
        // Not in any list read: deleted, or it moved between the lists while they were read.
        let current = match app.store.get(&request_key(&ledger.request_key)).await? {
            Some(Record::Request(r)) => Some(r),
            _ => None,
        };
        let at = current.as_ref().map_or(app.now(), |r| r.updated_at);
        done.caught_up += usize::from(count_change(app, &ledger.request_key, current.as_ref(), at).await?);
        progress(requests.len() + i + 1, total);
    }
    // Every count again, from the ledgers as they are now.
    let events: Vec<_> = every_record(app, Index::Table, stats_ledger_partition(key))
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::StatsLedger(l) => Some(l.events),
            _ => None,
        })
        .flatten()
        .collect();
    let counts = tally(key, &events, &zone);
    let fresh: BTreeSet<(String, String)> = counts.iter().map(|c| (c.scope.clone(), c.day.clone())).collect();
    let stale: Vec<StatsCounts> = every_record(app, Index::Table, stats_partition(key))
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::StatsCounts(c) if !fresh.contains(&(c.scope.clone(), c.day.clone())) => Some(c),
            _ => None,
        })
        .collect();
    done.written = counts.len();
    done.removed = stale.len();
    app.store.put_all(counts.into_iter().map(Record::StatsCounts).collect()).await?;
    for chunk in stale.chunks(25) {
        let deletes = chunk
            .iter()
            .map(|c| Write::Delete {
                key: crate::items::stats_counts_key(key, &c.scope, &c.day),
                condition: Condition::None,
            })
            .collect();
        app.store.transact(deletes).await?;
    }
    Ok(done)
}
