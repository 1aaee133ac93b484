//! Time rules (`on: "time"`): once an hour the scheduler reads, for each project with such a
//! rule switched on, the requests in the rules' statuses (gsi3, one partition per status) and
//! fires each rule whose idle time has passed since the request's last public activity. The run
//! claim names that activity's time, so a rule fires once per quiet spell.

use super::engine::{automations_of, fire_matching, Fired};
use super::events::AutoEvent;
use super::rules::{idle_seconds, ProjectAutomations, Trigger};
use crate::error::ApiError;
use crate::items::{project_automations_key, project_webhooks_key, queue_status_partition, time_rule_projects_key};
use crate::model::{Record, RequestStatus};
use crate::store::Query;
use crate::table::Index;
use crate::App;

const PAGE: usize = 100;

/// Fires the time rules due by `now`.
pub async fn sweep(app: &App, now: i64) -> Result<Vec<Fired>, ApiError> {
    let Some(Record::TimeRuleProjects(list)) = app.store.get(&time_rule_projects_key()).await? else {
        return Ok(vec![]);
    };
    let mut fired = vec![];
    for project in &list.projects {
        let records = app.store.get_many(&[project_automations_key(project), project_webhooks_key(project)]).await?;
        let rules = automations_of(project, &records);
        let webhooks = crate::domain::webhooks::targets::webhooks_of(project, &records);
        let mut statuses: Vec<RequestStatus> = rules.time_rules().filter_map(|r| r.status).collect();
        statuses.sort_by_key(|s| s.as_str());
        statuses.dedup();
        for status in statuses {
            let mut after = None;
            loop {
                let partition = queue_status_partition(project, status);
                let query = Query { after: after.take(), ..Query::partition(Index::Gsi3, partition, PAGE) };
                let page = app.store.query(&query).await?;
                for record in page.records {
                    let Record::Request(request) = record else { continue };
                    let idle = now - request.updated_at;
                    let due: Vec<_> = rules
                        .time_rules()
                        .filter(|r| r.status == Some(request.status))
                        .filter(|r| r.idle.as_deref().and_then(idle_seconds).is_some_and(|secs| idle >= secs))
                        .cloned()
                        .collect();
                    if due.is_empty() || request.held {
                        continue;
                    }
                    let event = AutoEvent {
                        trigger: Trigger::Time,
                        request_key: request.key.clone(),
                        id: format!("time.{}", request.updated_at),
                        comment: None,
                    };
                    let due = ProjectAutomations { rules: due, ..rules.clone() };
                    fired.extend(fire_matching(app, &due, &webhooks, request, &event).await?);
                }
                match page.last_sort_key {
                    Some(last) => after = Some(last),
                    None => break,
                }
            }
        }
    }
    Ok(fired)
}
