//! Webhook sender function: invoked asynchronously with `{project, target, delivery, alarm_at}`
//! (`alarm_at`: the alarm standing for the hand-off, removed or moved here) (by the
//! automations function for a new delivery, by the scheduler for a retry), it posts the
//! delivery, signed, and records the attempt (`domain::webhooks::deliveries::deliver`). It
//! reads and writes its deliveries, its targets and their secrets, nothing else.

pub mod poster;

use helpdesk::domain::webhooks::deliveries::{deliver, Post, Sent};
use helpdesk::{ApiError, App};
use serde_json::{json, Value};

pub async fn handle(app: &App, poster: &dyn Post, payload: Value) -> Result<Value, ApiError> {
    let field = |name: &str| payload[name].as_str().filter(|v| !v.is_empty()).map(str::to_string);
    let (Some(project), Some(target), Some(delivery)) = (field("project"), field("target"), field("delivery")) else {
        tracing::warn!(
            function = "webhooks",
            outcome = "malformed",
            "an invocation without project, target and delivery"
        );
        return Ok(json!({"outcome": "malformed"}));
    };
    let alarm_at = payload["alarm_at"].as_i64();
    let sent = deliver(app, poster, &project, &target, &delivery, alarm_at).await?;
    let (outcome, detail) = match &sent {
        Sent::Delivered(status) => ("delivered", json!(status)),
        Sent::Failed(Some(at)) => ("retry", json!(helpdesk::text::rfc3339(*at))),
        Sent::Failed(None) => ("given_up", Value::Null),
        Sent::Nothing => ("nothing", Value::Null),
    };
    tracing::info!(function = "webhooks", project = %project, target = %target, delivery = %delivery, outcome, "delivery");
    Ok(json!({"outcome": outcome, "detail": detail}))
}
