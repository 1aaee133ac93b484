//! Managing blocklist rules: list, add and remove within the caller's scope (app-wide rules
//! for app admins, a project's rules for its admins). Matching lives in `blocklist`.

use crate::domain::access::{may_change_rule, may_manage_rules};
use crate::domain::audit::audit;
use crate::domain::blocklist::{parse_rule, rule_text};
use crate::domain::caller::{resolve, Caller};
use crate::domain::projects::check_project_key;
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{block_pattern_key, block_rule_key, blocklist_partition, project_key};
use crate::model::{BlockAction, BlockPattern, BlockRule, Record, RuleRef, User, APP_SCOPE};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::text::new_ulid;
use crate::App;
use serde::Deserialize;

/// Rules one scope lists (and one read returns).
pub const MAX_RULES_LISTED: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub rule: String,
}

fn scope_key(project: Option<&str>) -> String {
    project.unwrap_or(APP_SCOPE).to_string()
}

/// The writes that set rules of one pattern in several scopes (or remove them, with `None`),
/// given the pattern's item as read: its new state under optimistic locking, and each
/// scope's list entry.
pub(crate) fn rule_writes(
    current: Option<&BlockPattern>,
    pattern: &str,
    changes: &[(Option<&str>, Option<BlockAction>)],
    by: &User,
    suspension_of: Option<&str>,
    now: i64,
) -> Vec<Write> {
    let mut next = current.cloned().unwrap_or(BlockPattern {
        pattern: pattern.to_string(),
        rules: Default::default(),
        version: 0,
    });
    let mut writes = vec![];
    for (project, action) in changes {
        match action {
            Some(action) => {
                next.rules.insert(scope_key(*project), *action);
                let rule = BlockRule {
                    pattern: pattern.to_string(),
                    project: project.map(str::to_string),
                    action: *action,
                    created_by: by.email.clone(),
                    created_at: now,
                    suspension_of: suspension_of.map(str::to_string),
                };
                writes.push(Write::Put { record: Record::BlockRule(rule), condition: Condition::None });
            }
            None => {
                next.rules.remove(&scope_key(*project));
                writes.push(Write::Delete { key: block_rule_key(*project, pattern), condition: Condition::None });
            }
        }
    }
    let condition = match current {
        Some(c) => Condition::VersionIs(c.version),
        None => Condition::NotExists,
    };
    next.version += 1;
    writes.insert(
        0,
        if next.rules.is_empty() {
            Write::Delete { key: block_pattern_key(pattern), condition }
        } else {
            Write::Put { record: Record::BlockPattern(next), condition }
        },
    );
    writes
}

pub fn find_pattern<'a>(records: &'a [Record], pattern: &str) -> Option<&'a BlockPattern> {
    records.iter().find_map(|r| match r {
        Record::BlockPattern(p) if p.pattern == pattern => Some(p),
        _ => None,
    })
}

/// The rules of one scope.
pub async fn list_rules(app: &App, caller: &Caller, project: Option<&str>) -> Result<Vec<BlockRule>, ApiError> {
    let (actor, _) = resolve(app, caller, &[]).await?;
    may_manage_rules(&actor.user, project)?;
    project.map(check_project_key).transpose()?;
    let query = Query::partition(Index::Table, blocklist_partition(project), MAX_RULES_LISTED);
    Ok(app.store.query(&query).await?.keep(|r| match r {
        Record::BlockRule(b) => Some(b),
        _ => None,
    }))
}

/// Adds or removes (`action` None) a rule of the caller's scope, audited in the actor's trail.
async fn change_rule(
    app: &App,
    caller: &Caller,
    project: Option<&str>,
    input: Input<RuleInput>,
    remove: bool,
) -> Result<BlockRule, ApiError> {
    let parsed = input.and_then(|i| parse_rule(&i.rule));
    let mut keys: Vec<_> = project.iter().map(|p| project_key(p)).collect();
    keys.extend(parsed.iter().flat_map(|(_, p)| [block_pattern_key(p), block_rule_key(project, p)]));
    let (actor, mut records) = resolve(app, caller, &keys).await?;
    let listed = records.iter().find_map(|r| match r {
        Record::BlockRule(b) => Some(b.clone()),
        _ => None,
    });
    may_change_rule(&actor.user, project, listed.as_ref())?;
    project.map(check_project_key).transpose()?;
    if project.is_some() && !records.iter().any(|r| matches!(r, Record::Project(_))) {
        return Err(ApiError::NotFound("project"));
    }
    let (action, pattern) = parsed?;
    let now = app.now();
    let rule = BlockRule {
        pattern: pattern.clone(),
        project: project.map(str::to_string),
        action,
        created_by: actor.user.email.clone(),
        created_at: now,
        suspension_of: None,
    };
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let current = find_pattern(&records, &pattern);
        if remove && current.is_none_or(|c| !c.rules.contains_key(&scope_key(project))) {
            return Ok(rule);
        }
        let change = [(project, (!remove).then_some(action))];
        let mut writes = rule_writes(current, &pattern, &change, &actor.user, None, now);
        let what = if remove { "rule_removed" } else { "rule_added" };
        let text = scoped(rule.text(), project);
        writes.push(audit(&actor.user.id, new_ulid(), &actor.user, what, Some(text), None, now));
        match app.store.transact(writes).await {
            Ok(()) => return Ok(rule),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
                records = app.store.get_many(&[block_pattern_key(&pattern)]).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Adds a rule (replacing the action of the same pattern in the same scope).
pub async fn add_rule(
    app: &App,
    caller: &Caller,
    project: Option<&str>,
    input: Input<RuleInput>,
) -> Result<BlockRule, ApiError> {
    change_rule(app, caller, project, input, false).await
}

/// Removes a rule of the caller's scope; removing one that is not there changes nothing.
pub async fn remove_rule(
    app: &App,
    caller: &Caller,
    project: Option<&str>,
    input: Input<RuleInput>,
) -> Result<(), ApiError> {
    change_rule(app, caller, project, input, true).await.map(|_| ())
}

/// The text of a rule a suspension added, for its audit entries.
pub fn ref_text(rule: &RuleRef) -> String {
    scoped(rule_text(BlockAction::Reject, &rule.pattern), rule.project.as_deref())
}

/// A rule's text with its scope, as audit entries and suspensions show it.
fn scoped(text: String, project: Option<&str>) -> String {
    match project {
        Some(p) => format!("{text} (project {p})"),
        None => text,
    }
}
