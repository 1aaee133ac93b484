//! A project's webhook targets, as its admins keep them: one item per project, written with
//! its version, and each target's secret in its own partition (written here once, shown once,
//! read by the sender alone).

use super::records::{ProjectWebhooks, WebhookFormat, WebhookSecret, WebhookTarget};
use crate::domain::access::require_project_admin;
use crate::domain::automations::rules::Trigger;
use crate::domain::caller::{load_project, Caller};
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{project_webhooks_key, webhook_deliveries_partition, webhook_secret_key};
use crate::model::{Record, WebhookDelivery};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::App;
use serde::Deserialize;

pub const MAX_TARGETS: usize = 10;
const MAX_URL: usize = 2000;
/// Deliveries a log page shows.
pub const DELIVERY_PAGE: usize = 50;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub url: String,
    pub events: Vec<Trigger>,
    #[serde(default)]
    pub format: WebhookFormat,
}

pub(crate) fn webhooks_of(project: &str, records: &[Record]) -> ProjectWebhooks {
    records
        .iter()
        .find_map(|r| match r {
            Record::ProjectWebhooks(w) if w.project == project => Some(w.clone()),
            _ => None,
        })
        .unwrap_or_else(|| ProjectWebhooks { project: project.into(), targets: vec![], version: 0 })
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid("invalid_webhook", message.into())
}

/// Where a target may point: `https://` with a host, no credentials in it. A helpdesk served
/// over plain HTTP (the local run) may also post to `http://127.0.0.1`, so tests can receive.
/// Whether the host's addresses are public is checked when each delivery is sent.
pub fn check_url(url: &str, local: bool) -> Result<(), ApiError> {
    let url = url.trim();
    if url.len() > MAX_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!("url: at most {MAX_URL} characters, no spaces")));
    }
    let rest = match (url.strip_prefix("https://"), url.strip_prefix("http://127.0.0.1")) {
        (Some(rest), _) => rest,
        (None, Some(rest)) if local && (rest.is_empty() || rest.starts_with([':', '/'])) => return Ok(()),
        _ => return Err(invalid("url: an https:// address")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(invalid("url: name a host, without a user or password"));
    }
    Ok(())
}

/// Adds a target (project admins): its id and its secret, which is shown this once.
pub async fn add_target(
    app: &App,
    caller: &Caller,
    project: &str,
    input: Input<TargetInput>,
) -> Result<(WebhookTarget, String), ApiError> {
    let id = crate::text::new_ulid().to_lowercase();
    let secret = crate::text::new_secret();
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let (actor, p, records) = load_project(app, caller, project, &[project_webhooks_key(project)]).await?;
        require_project_admin(&actor.user, &p.key)?;
        let input = input.as_ref().map_err(Clone::clone)?;
        check_url(&input.url, !app.config.https())?;
        if input.events.is_empty() || input.events.contains(&Trigger::Time) {
            return Err(invalid("events: one or more of the automation events (not time)"));
        }
        let current = webhooks_of(&p.key, &records);
        if current.targets.len() >= MAX_TARGETS {
            return Err(invalid(format!("a project has at most {MAX_TARGETS} webhooks")));
        }
        let mut events = input.events.clone();
        events.dedup();
        let target = WebhookTarget {
            id: id.clone(),
            url: input.url.trim().to_string(),
            events,
            format: input.format,
            enabled: true,
            failing_since: None,
            last_failed_at: None,
            disabled_at: None,
            created_at: app.now(),
        };
        let mut next = current.clone();
        next.targets.push(target.clone());
        let secret_record = WebhookSecret { target: id.clone(), secret: secret.clone() };
        let writes = vec![
            save(current, next),
            // A retry after a lost race writes the same secret again.
            Write::Put { record: Record::WebhookSecret(secret_record), condition: Condition::None },
        ];
        match app.store.transact(writes).await {
            Ok(()) => return Ok((target, secret)),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Removes a target and its secret (project admins); its pending deliveries then fail.
pub async fn delete_target(app: &App, caller: &Caller, project: &str, id: &str) -> Result<(), ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let (actor, p, records) = load_project(app, caller, project, &[project_webhooks_key(project)]).await?;
        require_project_admin(&actor.user, &p.key)?;
        let current = webhooks_of(&p.key, &records);
        let mut next = current.clone();
        next.targets.retain(|t| t.id != id);
        if next.targets.len() == current.targets.len() {
            return Err(ApiError::NotFound("webhook"));
        }
        let writes =
            vec![save(current, next), Write::Delete { key: webhook_secret_key(id), condition: Condition::None }];
        match app.store.transact(writes).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The project's targets (project admins), without their secrets.
pub async fn list_targets(app: &App, caller: &Caller, project: &str) -> Result<ProjectWebhooks, ApiError> {
    let (actor, p, records) = load_project(app, caller, project, &[project_webhooks_key(project)]).await?;
    require_project_admin(&actor.user, &p.key)?;
    Ok(webhooks_of(&p.key, &records))
}

/// A target's newest deliveries, each with its attempts (project admins).
pub async fn list_deliveries(
    app: &App,
    caller: &Caller,
    project: &str,
    id: &str,
) -> Result<Vec<WebhookDelivery>, ApiError> {
    let (actor, p, records) = load_project(app, caller, project, &[project_webhooks_key(project)]).await?;
    require_project_admin(&actor.user, &p.key)?;
    if !webhooks_of(&p.key, &records).targets.iter().any(|t| t.id == id) {
        return Err(ApiError::NotFound("webhook"));
    }
    let query =
        Query { newest_first: true, ..Query::partition(Index::Table, webhook_deliveries_partition(id), DELIVERY_PAGE) };
    Ok(app.store.query(&query).await?.keep(|r| match r {
        Record::WebhookDelivery(d) => Some(d),
        _ => None,
    }))
}

/// The write that replaces the targets item, on condition nobody else did first.
pub(crate) fn save(current: ProjectWebhooks, mut next: ProjectWebhooks) -> Write {
    next.version = current.version + 1;
    let condition = if current.version == 0 { Condition::NotExists } else { Condition::VersionIs(current.version) };
    Write::Put { record: Record::ProjectWebhooks(next), condition }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_https_and_loopback_only_locally() {
        assert!(check_url("https://hooks.example.com/in", false).is_ok());
        assert!(check_url("https://hooks.example.com", false).is_ok());
        for bad in [
            "http://hooks.example.com/in",
            "ftp://x",
            "https://",
            "https:///path",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/a b",
            "http://127.0.0.1:9000/hook",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("http://127.0.0.1.evil.example/", true).is_err(), "not loopback at all");
    }
}
