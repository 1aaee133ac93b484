//! The scheduler's run (`functions/scheduler`, every few minutes; locally on demand and every
//! 30 s): the alarms due by `now`, found by Query in their hourly partitions, each turned into
//! a warning (75% of a target used) or a breach on its request, written with the request's
//! version so a change made meanwhile wins. The notifier emails from the request's change, once
//! per event, so a run repeated for the same time changes and sends nothing more. The first
//! run of each hour also fires the automations' time rules (`automations::timer`).

use super::clocks::next_alarm;
use crate::domain::requests::replace_request;
use crate::error::ApiError;
use crate::items::{alarm_partition, request_key, scheduler_cursor_key};
use crate::model::{Record, Request, SchedulerCursor, SlaClock};
use crate::store::{Condition, Query, StoreError, Write};
use crate::table::Index;
use crate::App;
use serde::Serialize;
use std::collections::BTreeSet;

/// Hours a new deployment's first run looks back (alarms written before any run).
const FIRST_LOOK_BACK_HOURS: i64 = 7 * 24;
const PAGE: usize = 100;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Run {
    /// Hourly partitions read.
    pub hours: usize,
    /// Alarms due by the run's time.
    pub alarms: usize,
    pub warnings: Vec<Fired>,
    pub breaches: Vec<Fired>,
    /// Requests another change wrote first: their new alarm is found next time.
    pub skipped: usize,
    /// Time rules fired (swept once an hour, when the run starts a new hour).
    pub automations: Vec<crate::domain::automations::Fired>,
    /// Webhook deliveries handed to the sender again.
    pub webhook_retries: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Fired {
    pub request: String,
    pub target: &'static str,
}

/// Does the work due by `now`.
pub async fn run(app: &App, now: i64) -> Result<Run, ApiError> {
    let hour = now.div_euclid(3600);
    let cursor = match app.store.get(&scheduler_cursor_key()).await? {
        Some(Record::SchedulerCursor(c)) => Some(c),
        _ => None,
    };
    let from = cursor.as_ref().map_or(hour - FIRST_LOOK_BACK_HOURS, |c| c.done_before_hour.min(hour));
    let mut report = Run::default();
    let mut keys = BTreeSet::new();
    let mut retries = vec![];
    for partition in from..=hour {
        report.hours += 1;
        let mut after = None;
        loop {
            let query =
                Query { after: after.take(), ..Query::partition(Index::Table, alarm_partition(partition), PAGE) };
            let page = app.store.query(&query).await?;
            let mut past_now = false;
            for record in page.records {
                let at = match &record {
                    Record::SlaAlarm(alarm) => alarm.at,
                    Record::WebhookRetry(retry) => retry.at,
                    _ => continue,
                };
                if at > now {
                    past_now = true;
                    break;
                }
                match record {
                    Record::SlaAlarm(alarm) => {
                        report.alarms += 1;
                        keys.insert(alarm.request_key);
                    }
                    Record::WebhookRetry(r) => retries.push(r),
                    _ => {}
                }
            }
            match page.last_sort_key {
                Some(last) if !past_now => after = Some(last),
                _ => break,
            }
        }
    }
    let keys: Vec<_> = keys.iter().map(|k| request_key(k)).collect();
    for chunk in keys.chunks(100) {
        for record in app.store.get_many(chunk).await? {
            let Record::Request(request) = record else { continue };
            fire(app, request, now, &mut report).await?;
        }
    }
    // Webhook deliveries due again go to the sender, each alarm moved on first (a lease: a
    // failed hand-off or sender run is found again); the sender removes or moves it.
    report.webhook_retries = retries.len();
    let mut handed = vec![];
    for retry in &retries {
        handed.push(crate::domain::webhooks::deliveries::rearm(app, retry, now).await?);
    }
    crate::domain::webhooks::deliveries::hand_on(app, &handed).await;
    // In request order, whatever order the reads came back in.
    report.warnings.sort();
    report.breaches.sort();
    // Every alarm of the hours before this one is done: the next run starts here.
    if cursor.as_ref().is_none_or(|c| c.done_before_hour < hour) {
        // A failed sweep leaves the cursor where it was: the next run sweeps again.
        report.automations = crate::domain::automations::timer::sweep(app, now).await?;
        let version = cursor.as_ref().map_or(0, |c| c.version);
        let next = SchedulerCursor { done_before_hour: hour, version: version + 1 };
        let condition = if cursor.is_some() { Condition::VersionIs(version) } else { Condition::NotExists };
        match app.store.transact(vec![Write::Put { record: Record::SchedulerCursor(next), condition }]).await {
            // A twin run moved it first.
            Ok(()) | Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// Marks what is due on one request and writes it, with its next alarm.
async fn fire(app: &App, request: Request, now: i64, report: &mut Run) -> Result<(), ApiError> {
    let mut next = request.clone();
    let (warnings, breaches) = mark(&mut next, now);
    if warnings.is_empty() && breaches.is_empty() {
        return Ok(());
    }
    // Agents' business only: customers' `updated_at` stays.
    next.version = request.version + 1;
    let mut writes = vec![replace_request(&request, next.clone())];
    writes.extend(super::alarm_writes(Some(&request), &next));
    match app.store.transact(writes).await {
        Ok(()) => {
            let fired = |target| Fired { request: request.key.clone(), target };
            report.warnings.extend(warnings.into_iter().map(fired));
            report.breaches.extend(breaches.into_iter().map(fired));
            Ok(())
        }
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            report.skipped += 1;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks the warnings and breaches due by `now` on a request's running clocks, and moves its
/// alarm to the next one. A clock already run out is breached without a warning first.
pub fn mark(request: &mut Request, now: i64) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut warnings, mut breaches) = (vec![], vec![]);
    let Some(sla) = request.sla.as_mut().filter(|_| !request.held && request.status.is_active()) else {
        return (warnings, breaches);
    };
    let clocks: [(&'static str, &mut Option<SlaClock>); 3] = [
        ("first_reply", &mut sla.first_reply),
        ("next_reply", &mut sla.next_reply),
        ("resolution", &mut sla.resolution),
    ];
    for (name, clock) in clocks {
        let Some(c) = clock.as_mut().filter(|c| c.running_since.is_some()) else { continue };
        let due = c.due_at.filter(|due| *due <= now && c.breached_at.is_none());
        let warn = c.warn_at.filter(|at| *at <= now && c.warned_at.is_none());
        if let Some(due) = due {
            c.breached_at = Some(due);
            c.warned_at.get_or_insert(now);
            breaches.push(name);
        } else if warn.is_some() {
            c.warned_at = Some(now);
            warnings.push(name);
        }
    }
    sla.alarm_at = next_alarm(sla).map(|at| at.max(now));
    (warnings, breaches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Desk;

    const H: i64 = 3600;

    async fn desk_with_sla() -> Desk {
        let desk = Desk::new().await;
        desk.project("HD").await;
        let patch = crate::projects::ProjectPatch {
            sla: Some(Some(super::tests_support::sla_settings())),
            ..Default::default()
        };
        crate::projects::update_project(&desk.app, &desk.admin, "HD", Ok(patch)).await.unwrap();
        desk
    }

    fn fired(list: &[Fired]) -> Vec<(&str, &str)> {
        list.iter().map(|f| (f.request.as_str(), f.target)).collect()
    }

    #[tokio::test]
    async fn warnings_then_breaches_each_once_and_a_met_target_never_breaches() {
        let desk = desk_with_sla().await;
        let app = &desk.app;
        let ann = desk.sign_in("ann@example.com").await;
        let start = app.now();
        desk.raise(&ann, "HD", "one").await;
        desk.raise(&ann, "HD", "two").await;
        assert_eq!(run(app, start + H).await.unwrap().alarms, 0, "nothing due yet");
        // 3 hours in: first reply warned on both; the same run again does nothing.
        let warned = run(app, start + 3 * H).await.unwrap();
        assert_eq!(fired(&warned.warnings), [("HD-1", "first_reply"), ("HD-2", "first_reply")]);
        assert!(run(app, start + 3 * H).await.unwrap().warnings.is_empty(), "each warning once");
        // HD-2 is answered in time; HD-1 is not.
        let agent = desk.staff("agent@example.com", "HD", crate::model::ProjectRole::Agent).await;
        let reply = crate::requests::NewComment {
            body: "On it".into(),
            internal: false,
            seen_version: None,
            attachments: vec![],
        };
        crate::requests::add_comment(app, &agent, "HD-2", Ok(reply), Ok(None)).await.unwrap();
        let late = run(app, start + 4 * H).await.unwrap();
        assert_eq!(fired(&late.breaches), [("HD-1", "first_reply")]);
        assert!(run(app, start + 5 * H).await.unwrap().breaches.is_empty(), "each breach once");
        // Resolution: warned at 6h, breached at 8h (HD-2's too: only its first reply was met).
        let later = run(app, start + 9 * H).await.unwrap();
        assert_eq!(fired(&later.breaches), [("HD-1", "resolution"), ("HD-2", "resolution")]);
        assert!(later.warnings.is_empty(), "a clock already run out is breached, not warned");
        let Some(Record::Request(hd2)) = app.store.get(&request_key("HD-2")).await.unwrap() else { panic!() };
        let first = hd2.sla.as_ref().unwrap().first_reply.clone().unwrap();
        assert_eq!(first.breached_at, None, "met in time, never breached");
        assert_eq!(hd2.sla.unwrap().alarm_at, None, "nothing left to do");
    }

    #[tokio::test]
    async fn pending_stops_the_resolution_clock_and_a_missed_run_loses_nothing() {
        let desk = desk_with_sla().await;
        let app = &desk.app;
        let ann = desk.sign_in("ann@example.com").await;
        let start = app.now();
        desk.raise(&ann, "HD", "one").await;
        let agent = desk.staff("agent@example.com", "HD", crate::model::ProjectRole::Agent).await;
        let patch = crate::domain::team::RequestPatch {
            status: Some(crate::model::RequestStatus::Pending),
            ..Default::default()
        };
        crate::domain::team::update_request_fields(app, &agent, "HD-1", Ok(patch), Ok(None)).await.unwrap();
        // No run for two days: the first reply (not paused) breaches once; resolution waits.
        let run_late = run(app, start + 48 * H).await.unwrap();
        assert_eq!(fired(&run_late.breaches), [("HD-1", "first_reply")]);
        assert!(run_late.hours > 24, "it read every hour since the last run");
        assert!(run(app, start + 49 * H).await.unwrap().breaches.is_empty());
    }
}

#[cfg(test)]
mod events {
    use super::tests_support::*;
    use crate::domain::notify::Event;

    /// What the notifier makes of the scheduler's marks: one event per clock, and none for a
    /// breach that a late reply recorded (the agent who replied knows).
    #[tokio::test]
    async fn marks_become_one_event_each() {
        let (before, now) = overdue_request().await;
        let mut after = before.clone();
        let (warnings, breaches) = super::mark(&mut after, now);
        assert_eq!((warnings, breaches), (vec![], vec!["first_reply"]));
        let old = crate::model::Record::Request(before.clone());
        let new = crate::model::Record::Request(after.clone());
        let events = Event::all(Some(&old), Some(&new));
        assert!(matches!(events.as_slice(), [Event::SlaBreach(r, "first_reply")] if r.key == after.key), "{events:?}");
        // The same request met late by a reply: breached, met, and no event.
        let mut replied = before.clone();
        replied.first_response_at = Some(now);
        replied.customer_spoke_last = false;
        crate::domain::sla::advance(Some(&before), &mut replied, Some(&sla_settings()), now);
        assert!(replied.sla.as_ref().unwrap().first_reply.as_ref().unwrap().breached_at.is_some());
        let late = crate::model::Record::Request(replied);
        assert!(Event::all(Some(&old), Some(&late)).is_empty());
    }
}

#[cfg(test)]
mod tests_support {
    use crate::model::{Priority, Request, SlaSettings, SlaTargets};
    use std::collections::BTreeMap;

    pub fn sla_settings() -> SlaSettings {
        let day = || vec!["00:00".to_string(), "24:00".to_string()];
        SlaSettings {
            timezone: "UTC".into(),
            hours: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| (d.to_string(), day())).collect(),
            holidays: vec![],
            targets: BTreeMap::from([(
                Priority::Normal,
                SlaTargets { first_reply: Some("4h".into()), next_reply: None, resolution: Some("8h".into()) },
            )]),
        }
    }

    /// A request raised with the settings above, and a time five hours later.
    pub async fn overdue_request() -> (Request, i64) {
        let desk = crate::testing::Desk::new().await;
        desk.project("HD").await;
        let patch = crate::projects::ProjectPatch { sla: Some(Some(sla_settings())), ..Default::default() };
        crate::projects::update_project(&desk.app, &desk.admin, "HD", Ok(patch)).await.unwrap();
        let ann = desk.sign_in("ann@example.com").await;
        let request = desk.raise(&ann, "HD", "one").await;
        let now = desk.app.now() + 5 * 3600;
        (request, now)
    }
}
