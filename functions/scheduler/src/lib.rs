//! Scheduler function: EventBridge invokes it every 5 minutes; it does the service-level work
//! due by now (`domain::sla::scheduler`) and logs what it did. It touches the table only: the
//! notifier emails from the changes it writes.

use helpdesk::domain::sla::scheduler;
use helpdesk::{ApiError, App};
use serde_json::Value;
use std::time::Instant;

/// Runs as of `now`; the event's content does not matter (a missed or repeated invocation
/// loses and doubles nothing).
pub async fn handle(app: &App, now: i64) -> Result<Value, ApiError> {
    let started = Instant::now();
    let run = scheduler::run(app, now).await?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        function = "scheduler",
        hours = run.hours,
        alarms = run.alarms,
        warnings = run.warnings.len(),
        breaches = run.breaches.len(),
        skipped = run.skipped,
        elapsed_ms,
        "run"
    );
    Ok(serde_json::to_value(run).unwrap_or_default())
}
