//! In-memory store for fast domain tests. Same semantics as DynamoStore.

use super::*;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<ItemKey, Record>>,
    counters: Mutex<BTreeMap<ItemKey, u32>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn records(&self) -> Vec<Record> {
        self.items.lock().unwrap().values().cloned().collect()
    }
}

fn holds(condition: &Condition, current: Option<&Record>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) | Condition::Replaces { version: v, .. } => {
            current.and_then(Record::version) == Some(*v)
        }
        Condition::NotExistsOrExpired(now) => current.is_none_or(|r| r.expires_at().is_some_and(|e| e <= *now)),
        Condition::ExistsUnexpired(now) => current.is_some_and(|r| r.expires_at().is_some_and(|e| e > *now)),
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Record>, StoreError> {
        let items = self.items.lock().unwrap();
        // Like BatchGetItem: each distinct key once, in no order a caller may rely on (here the
        // last key first, so code that assumed the asked order fails its tests).
        let mut seen = std::collections::BTreeSet::new();
        let mut found: Vec<Record> =
            keys.iter().filter(|k| seen.insert(*k)).filter_map(|k| items.get(k).cloned()).collect();
        found.reverse();
        Ok(found)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let items = self.items.lock().unwrap();
        let mut matching: Vec<((String, String, String), Record)> = items
            .values()
            .filter_map(|r| {
                let keys = r.index_keys();
                let (pk, sk) = keys.for_index(query.index)?;
                (pk == query.pk).then(|| ((sk.to_string(), keys.pk.clone(), keys.sk.clone()), r.clone()))
            })
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        if query.newest_first {
            matching.reverse();
        }
        let rest: Vec<_> = matching
            .into_iter()
            .filter(|((sk, _, _), _)| match &query.after {
                None => true,
                Some(after) if query.newest_first => sk < after,
                Some(after) => sk > after,
            })
            .collect();
        let page: Vec<_> = rest.iter().take(query.limit).collect();
        let last_sort_key = (rest.len() > query.limit).then(|| page.last().unwrap().0 .0.clone());
        let keep = |r: &Record| match (query.status, r) {
            (None, _) => true,
            (Some(status), Record::Request(req)) => req.status == status,
            (Some(_), _) => false,
        };
        Ok(Page { records: page.into_iter().map(|(_, r)| r.clone()).filter(keep).collect(), last_sort_key })
    }

    async fn put_all(&self, records: Vec<Record>) -> Result<(), StoreError> {
        let mut items = self.items.lock().unwrap();
        for record in records {
            items.insert(record.key(), record);
        }
        Ok(())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut items = self.items.lock().unwrap();
        let mut failed = vec![];
        let mut old = vec![];
        for (i, write) in writes.iter().enumerate() {
            let (key, condition) = match write {
                Write::Put { record, condition } => (record.key(), condition),
                Write::Delete { key, condition } | Write::Check { key, condition } => (key.clone(), condition),
                Write::MoveLoads { .. } => (write.key(), &Condition::Exists),
                Write::AddCounts { .. } => (write.key(), &Condition::None),
            };
            let current = items.get(&key);
            let on_team =
                |agent: &String| matches!(current, Some(Record::ProjectTeam(t)) if t.agents.contains_key(agent));
            let members = match write {
                Write::MoveLoads { add, remove, .. } => add.iter().chain(remove).all(|(agent, _)| on_team(agent)),
                _ => true,
            };
            if holds(condition, current) && members {
                old.push(None);
            } else {
                failed.push(i);
                old.push(current.cloned());
            }
        }
        if !failed.is_empty() {
            return Err(StoreError::ConditionFailed { failed, old });
        }
        for write in writes {
            match write {
                Write::Put { record, .. } => {
                    items.insert(record.key(), record);
                }
                Write::Delete { key, .. } => {
                    items.remove(&key);
                }
                Write::Check { .. } => {}
                Write::AddCounts { counts } => {
                    let key = crate::items::stats_counts_key(&counts.project, &counts.scope, &counts.day);
                    let entry = items.entry(key).or_insert_with(|| {
                        Record::StatsCounts(crate::model::StatsCounts { counts: Default::default(), ..counts.clone() })
                    });
                    if let Record::StatsCounts(held) = entry {
                        for (name, delta) in counts.counts {
                            *held.counts.entry(name).or_default() += delta;
                        }
                    }
                }
                Write::MoveLoads { project, add, remove } => {
                    if let Some(Record::ProjectTeam(team)) = items.get_mut(&crate::items::project_team_key(&project)) {
                        for (agent, request) in remove {
                            team.agents.get_mut(&agent).map(|m| m.requests.remove(&request));
                        }
                        for (agent, request) in add {
                            team.agents.get_mut(&agent).map(|m| m.requests.insert(request));
                        }
                        team.version += 1;
                    }
                }
            }
        }
        Ok(())
    }

    async fn bump(&self, counter: &Counter) -> Result<bool, StoreError> {
        let mut counters = self.counters.lock().unwrap();
        let count = counters.entry(counter.key.clone()).or_insert(0);
        if *count >= counter.limit {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }

    async fn unbump(&self, counter: &Counter) -> Result<(), StoreError> {
        let mut counters = self.counters.lock().unwrap();
        if let Some(count) = counters.get_mut(&counter.key) {
            *count = count.saturating_sub(1);
        }
        Ok(())
    }

    async fn change_load(&self, project: &str, agent: &str, change: LoadChange<'_>) -> Result<bool, StoreError> {
        let mut items = self.items.lock().unwrap();
        let Some(Record::ProjectTeam(team)) = items.get_mut(&crate::items::project_team_key(project)) else {
            return Ok(false);
        };
        let Some(member) = team.agents.get_mut(agent) else { return Ok(false) };
        match change {
            LoadChange::Claim { request, cap } => {
                let room = member.available && cap.is_none_or(|c| member.open() < c);
                if !room && !member.requests.contains(request) {
                    return Ok(false);
                }
                member.requests.insert(request.to_string());
                team.last_assigned = Some(agent.to_string());
            }
            LoadChange::Release { request } => {
                member.requests.remove(request);
            }
        }
        team.version += 1;
        Ok(true)
    }

    async fn next_request_number(&self, project: &str) -> Result<u64, StoreError> {
        let mut items = self.items.lock().unwrap();
        match items.get_mut(&crate::items::project_key(project)) {
            Some(Record::Project(p)) => {
                p.last_seq += 1;
                p.version += 1;
                Ok(p.last_seq)
            }
            _ => Err(StoreError::Other(format!("no project {project}"))),
        }
    }
}
