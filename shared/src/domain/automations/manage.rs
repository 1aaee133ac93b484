//! A project's rules, as its admins keep them (its agents read them): one item per project,
//! written with its version. A change that switches the project's time rules on or off also
//! updates the scheduler's list of projects to sweep, in the same transaction.

use super::engine::automations_of;
use super::rules::{check_rule, AutomationAction, ProjectAutomations, RuleCondition, Trigger, MAX_RULES};
use crate::domain::access::{require_agent, require_project_admin};
use crate::domain::caller::{load_project, Caller};
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{automation_fired_key, project_automations_key, project_webhooks_key, time_rule_projects_key};
use crate::model::{AutomationFired, Record, RequestStatus, TimeRuleProjects};
use crate::store::{Condition, StoreError, Write};
use crate::App;
use serde::Deserialize;

pub use super::rules::Automation;

/// A rule as an admin writes it (`POST`, and `PUT` which replaces one whole).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationInput {
    pub name: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub on: Trigger,
    #[serde(default)]
    pub status: Option<RequestStatus>,
    #[serde(default)]
    pub idle: Option<String>,
    #[serde(default)]
    pub conditions: Vec<RuleCondition>,
    pub actions: Vec<AutomationAction>,
}

fn enabled_by_default() -> bool {
    true
}

impl AutomationInput {
    fn into_rule(self, id: String) -> Automation {
        Automation {
            id,
            name: self.name,
            enabled: self.enabled,
            on: self.on,
            status: self.status,
            idle: self.idle,
            conditions: self.conditions,
            actions: self.actions,
        }
    }
}

/// The rules and when each last fired.
#[derive(Debug, Clone)]
pub struct RuleList {
    pub automations: ProjectAutomations,
    pub fired: Vec<AutomationFired>,
    pub project_name: String,
    /// Whether the reader may change them.
    pub admin: bool,
}

impl RuleList {
    pub fn last_fired(&self, rule: &str) -> Option<&AutomationFired> {
        self.fired.iter().find(|f| f.rule == rule)
    }
}

/// The project's rules (its agents), with when each last fired.
pub async fn list_automations(app: &App, caller: &Caller, project: &str) -> Result<RuleList, ApiError> {
    let (actor, p, records) = load_project(app, caller, project, &[project_automations_key(project)]).await?;
    require_agent(&actor.user, &p.key)?;
    let automations = automations_of(&p.key, &records);
    let keys: Vec<_> = automations.rules.iter().map(|r| automation_fired_key(&p.key, &r.id)).collect();
    let fired = app.store.get_many(&keys).await?.into_iter().filter_map(|r| match r {
        Record::AutomationFired(f) => Some(f),
        _ => None,
    });
    let admin = crate::domain::access::is_project_admin(&actor.user, &p.key);
    Ok(RuleList { automations, fired: fired.collect(), project_name: p.name.clone(), admin })
}

/// Adds a rule (project admins).
pub async fn add_automation(
    app: &App,
    caller: &Caller,
    project: &str,
    input: Input<AutomationInput>,
) -> Result<Automation, ApiError> {
    let id = crate::text::new_ulid().to_lowercase();
    let add = |rules: &mut ProjectAutomations, rule: &Automation| {
        if rules.rules.len() >= MAX_RULES {
            return Err(ApiError::invalid("too_many_automations", format!("a project has at most {MAX_RULES} rules")));
        }
        rules.rules.push(rule.clone());
        Ok(())
    };
    save(app, caller, project, id, input, add).await
}

/// Replaces a rule whole, keeping its id and place (project admins).
pub async fn update_automation(
    app: &App,
    caller: &Caller,
    project: &str,
    id: &str,
    input: Input<AutomationInput>,
) -> Result<Automation, ApiError> {
    let replace = |rules: &mut ProjectAutomations, rule: &Automation| {
        let slot = rules.rules.iter_mut().find(|r| r.id == rule.id).ok_or(ApiError::NotFound("automation"))?;
        *slot = rule.clone();
        Ok(())
    };
    save(app, caller, project, id.to_string(), input, replace).await
}

/// Removes a rule (project admins). Removing one already gone is a 404.
pub async fn delete_automation(app: &App, caller: &Caller, project: &str, id: &str) -> Result<(), ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let keys = [project_automations_key(project), time_rule_projects_key()];
        let (actor, p, records) = load_project(app, caller, project, &keys).await?;
        require_project_admin(&actor.user, &p.key)?;
        let current = automations_of(&p.key, &records);
        let mut next = current.clone();
        next.rules.retain(|r| r.id != id);
        if next.rules.len() == current.rules.len() {
            return Err(ApiError::NotFound("automation"));
        }
        match write(app, &records, current, next).await? {
            true => return Ok(()),
            false => continue,
        }
    }
}

async fn save(
    app: &App,
    caller: &Caller,
    project: &str,
    id: String,
    input: Input<AutomationInput>,
    edit: impl Fn(&mut ProjectAutomations, &Automation) -> Result<(), ApiError>,
) -> Result<Automation, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let keys = [project_automations_key(project), time_rule_projects_key(), project_webhooks_key(project)];
        let (actor, p, records) = load_project(app, caller, project, &keys).await?;
        require_project_admin(&actor.user, &p.key)?;
        let rule = check_rule(input.clone()?.into_rule(id.clone()))?;
        let targets = crate::domain::webhooks::targets::webhooks_of(&p.key, &records);
        for (i, action) in rule.actions.iter().enumerate() {
            if let AutomationAction::Webhook { id } = action {
                if !targets.targets.iter().any(|t| &t.id == id) {
                    return Err(ApiError::invalid(
                        "invalid_automation",
                        format!("action {} (webhook): no webhook {id:?} on this project", i + 1),
                    ));
                }
            }
        }
        let current = automations_of(&p.key, &records);
        let mut next = current.clone();
        edit(&mut next, &rule)?;
        if write(app, &records, current, next).await? {
            return Ok(rule);
        }
    }
}

/// Writes the rules (and, when the project's time rules went on or off, the scheduler's list)
/// on condition that neither moved since they were read; false when one did.
async fn write(
    app: &App,
    records: &[Record],
    current: ProjectAutomations,
    mut next: ProjectAutomations,
) -> Result<bool, ApiError> {
    next.version = current.version + 1;
    let condition = if current.version == 0 { Condition::NotExists } else { Condition::VersionIs(current.version) };
    let project = next.project.clone();
    let timed = next.time_rules().next().is_some();
    let mut writes = vec![Write::Put { record: Record::ProjectAutomations(next), condition }];
    let listed = records.iter().find_map(|r| match r {
        Record::TimeRuleProjects(t) => Some(t.clone()),
        _ => None,
    });
    let list = listed.clone().unwrap_or_default();
    if list.projects.contains(&project) != timed {
        let mut projects = list.projects.clone();
        if timed {
            projects.insert(project);
        } else {
            projects.remove(&project);
        }
        let condition = if listed.is_some() { Condition::VersionIs(list.version) } else { Condition::NotExists };
        let record = TimeRuleProjects { projects, version: list.version + 1 };
        writes.push(Write::Put { record: Record::TimeRuleProjects(record), condition });
    }
    match app.store.transact(writes).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
