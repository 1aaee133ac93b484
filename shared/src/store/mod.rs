//! The single-table store behind a small trait: the Dynamo implementation talks to DynamoDB,
//! the in-memory one serves fast domain tests. Both keep the same semantics (conditions,
//! transactions, index queries, paging).

mod dynamo;
pub mod items;
mod memory;
pub mod table;

pub use dynamo::DynamoStore;
pub use memory::MemoryStore;

use crate::items::ItemKey;
use crate::model::{Record, Timestamp};
use crate::table::Index;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// A transaction was cancelled because a condition failed. `old` holds, per write, the
    /// item as it was when its own condition failed (None for writes that passed or had none).
    #[error("condition failed")]
    ConditionFailed { failed: Vec<usize>, old: Vec<Option<Record>> },
    /// Another transaction touched the same items at the same moment; retrying is right.
    #[error("transaction conflict")]
    Conflict,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Other(String),
}

impl StoreError {
    /// The old record of write `index` when that write's condition failed.
    pub fn failed_old(&self, index: usize) -> Option<&Record> {
        match self {
            StoreError::ConditionFailed { old, .. } => old.get(index).and_then(|o| o.as_ref()),
            _ => None,
        }
    }
    pub fn failed_at(&self, index: usize) -> bool {
        matches!(self, StoreError::ConditionFailed { failed, .. } if failed.contains(&index))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    None,
    NotExists,
    Exists,
    /// The stored record's `version` equals this.
    VersionIs(u64),
    /// `VersionIs`, naming the index keys of the item it replaces: the store counts the index
    /// writes the change makes (a moved key costs two) from them.
    Replaces {
        version: u64,
        before: Box<crate::items::IndexKeys>,
    },
    /// Absent, or present but expired at this time (TTL deletes lazily).
    NotExistsOrExpired(Timestamp),
    /// Present and not yet expired at this time.
    ExistsUnexpired(Timestamp),
}

// Writes live only while a transaction is built; boxing records would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        record: Record,
        condition: Condition,
    },
    Delete {
        key: ItemKey,
        condition: Condition,
    },
    Check {
        key: ItemKey,
        condition: Condition,
    },
    /// One update of a project's team item: request ids join (`add`) or leave (`remove`)
    /// agents' load sets, as (agent id, request id), and the version moves. Every agent named
    /// must be on the team (the update fails otherwise). One write per item and transaction:
    /// all of a transaction's load moves go in one.
    MoveLoads {
        project: String,
        add: Vec<(String, String)>,
        remove: Vec<(String, String)>,
    },
    /// Adds each of `counts.counts` to the item's count of that name (a missing item or count
    /// starts at zero): one UpdateItem ADD, so concurrent adds never lose one.
    AddCounts {
        counts: crate::model::StatsCounts,
    },
}

impl Write {
    /// The item this write touches.
    pub fn key(&self) -> ItemKey {
        match self {
            Write::Put { record, .. } => record.key(),
            Write::Delete { key, .. } | Write::Check { key, .. } => key.clone(),
            Write::MoveLoads { project, .. } => crate::items::project_team_key(project),
            Write::AddCounts { counts } => crate::items::stats_counts_key(&counts.project, &counts.scope, &counts.day),
        }
    }
}

/// A change of one agent's open load on a project's team outside a transaction (a new
/// request's claim, and giving it back): the set of request ids they own gains or loses one
/// (so doing it twice is doing it once). Changes of existing requests move loads in their own
/// transaction (`Write::MoveLoads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadChange<'a> {
    /// An automatic assignment of request `request`: added while the agent is available and
    /// under the cap (None: no cap), or already theirs; marks them the last one assigned.
    Claim { request: &'a str, cap: Option<u32> },
    /// A claim given back (its request was not made).
    Release { request: &'a str },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub newest_first: bool,
    pub limit: usize,
    /// Continue after this sort key: only keys strictly before it (newest first) or after
    /// it (oldest first). Sort keys of lists are unique ULIDs, so this is a stable cursor that
    /// also works across several partitions merged into one list.
    pub after: Option<String>,
    /// Keep only requests in this status. Like DynamoDB's FilterExpression it applies after
    /// `limit`, so a page may come back short with a `next` cursor.
    pub status: Option<crate::model::RequestStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    /// The sort key where DynamoDB stopped (its LastEvaluatedKey), when it may have more.
    pub last_sort_key: Option<String>,
}

/// A fixed-window counter: `bump` counts one hit and says whether it stayed within the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    pub key: ItemKey,
    pub limit: u32,
    pub expires_at: Timestamp,
}

impl Counter {
    /// A counter of `subject`'s hits under `scope` in the clock hour of `now`.
    pub fn hourly(scope: &str, subject: &str, limit: u32, now: Timestamp) -> Counter {
        let hour = now / 3600;
        Counter { key: crate::items::rate_key(scope, subject, hour), limit, expires_at: (hour + 1) * 3600 }
    }
}

impl Page {
    /// The records `pick` keeps, in order (a partition holds several kinds).
    pub fn keep<T>(self, pick: impl FnMut(Record) -> Option<T>) -> Vec<T> {
        self.records.into_iter().filter_map(pick).collect()
    }
}

impl Query {
    /// The first `limit` items of one partition, oldest first (small partitions: audit trails,
    /// blocklist, organization members).
    pub fn partition(index: Index, pk: String, limit: usize) -> Query {
        Query { index, pk, newest_first: false, limit, after: None, status: None }
    }
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Strongly consistent reads of several keys in one round trip; missing keys are skipped.
    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError>;
    async fn get(&self, key: &ItemKey) -> Result<Option<Record>, StoreError> {
        Ok(self.get_many(std::slice::from_ref(key)).await?.into_iter().next())
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// How many items one partition of `index` holds, counted up to `cap`: a count reads
    /// what the Query would (the cap bounds its cost), and returns none of it.
    async fn count(&self, index: crate::table::Index, pk: &str, cap: usize) -> Result<usize, StoreError> {
        let mut query = Query::partition(index, pk.to_string(), cap.clamp(1, 500));
        let mut counted = 0;
        loop {
            let page = self.query(&query).await?;
            counted += page.records.len();
            match page.last_sort_key {
                Some(sort_key) if counted < cap => query.after = Some(sort_key),
                _ => return Ok(counted.min(cap)),
            }
        }
    }
    /// All writes or none, in one round trip.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// Unconditional puts, each item on its own (not all or none), in as few round trips as
    /// the store allows: for records nothing depends on atomically (Message-ID references).
    async fn put_all(&self, records: Vec<Record>) -> Result<(), StoreError>;
    /// Counts one hit unless the counter reached its limit (false then), atomically.
    async fn bump(&self, counter: &Counter) -> Result<bool, StoreError>;
    /// Takes back one hit counted by `bump` that turned out not to count (never below zero).
    async fn unbump(&self, counter: &Counter) -> Result<(), StoreError>;
    /// Takes the next request number of a project atomically (its counter and version go up
    /// by one), for creates that lost the optimistic race for it.
    async fn next_request_number(&self, project: &str) -> Result<u64, StoreError>;
    /// Moves `agent`'s load on `project`'s team item atomically (one UpdateItem, its version
    /// up by one): false when the change's condition does not hold (not on the team; a claim
    /// over the cap or while away). Concurrent claims never pass the cap.
    async fn change_load(&self, project: &str, agent: &str, change: LoadChange<'_>) -> Result<bool, StoreError>;
}
