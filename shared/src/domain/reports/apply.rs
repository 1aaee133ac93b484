//! Keeping the aggregates: each change of a request adds the events between the view its
//! ledger last counted and its view now, in one transaction with the ledger (on condition
//! that the ledger is still the one read). A redelivered or older change finds the ledger at
//! its version or later and counts nothing.

use super::counts::tally;
use super::events::{events_between, view_of};
use super::records::{StatsLedger, StatsView};
use crate::domain::retry::Budget;
use crate::domain::sla::calendar::Calendar;
use crate::error::ApiError;
use crate::items::{project_key, project_of, stats_ledger_key};
use crate::model::{Project, Record, Request, Timestamp};
use crate::store::{Condition, StoreError, Write};
use crate::App;
use jiff::tz::TimeZone;

/// The time zone days are counted in (the service-level calendar's; UTC without one), and
/// the calendar reply and resolution times are counted in.
pub fn clock_of(project: Option<&Project>) -> (TimeZone, Option<Calendar>) {
    let Some(sla) = project.and_then(|p| p.settings.sla.as_ref()) else { return (TimeZone::UTC, None) };
    match crate::domain::sla::calendar_of(sla) {
        Ok(calendar) => (TimeZone::get(&sla.timezone).unwrap_or(TimeZone::UTC), Some(calendar)),
        Err(_) => (TimeZone::UTC, None),
    }
}

/// Counts the change of request `key` to `after` (None: deleted) made at `at`. Whether it
/// counted anything.
pub async fn count_change(app: &App, key: &str, after: Option<&Request>, at: Timestamp) -> Result<bool, ApiError> {
    let Some(project) = project_of(key) else { return Ok(false) };
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let records = app.store.get_many(&[stats_ledger_key(project, key), project_key(project)]).await?;
        let (mut ledger, mut settings) = (None, None);
        for record in records {
            match record {
                Record::StatsLedger(l) => ledger = Some(l),
                Record::Project(p) => settings = Some(p),
                _ => {}
            }
        }
        if let (Some(ledger), Some(after)) = (&ledger, after) {
            if ledger.version >= after.version {
                return Ok(false);
            }
        }
        let (zone, calendar) = clock_of(settings.as_ref());
        let view = after.map(view_of);
        let Some(writes) =
            ledger_writes(project, key, ledger, view, after.map_or(0, |a| a.version), at, &zone, calendar.as_ref())
        else {
            return Ok(false);
        };
        match app.store.transact(writes).await {
            Ok(()) => return Ok(true),
            // Another delivery of this change, or a later one, counted first: read again.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The writes that move a request's ledger from what it holds to `view` at `version`, and add
/// the events between to the counts; None when there is nothing to count.
#[allow(clippy::too_many_arguments)]
fn ledger_writes(
    project: &str,
    key: &str,
    ledger: Option<StatsLedger>,
    view: Option<StatsView>,
    version: u64,
    at: Timestamp,
    zone: &TimeZone,
    calendar: Option<&Calendar>,
) -> Option<Vec<Write>> {
    let before = ledger.as_ref().and_then(|l| l.view.as_ref());
    if ledger.is_some() && before == view.as_ref() {
        return None;
    }
    if ledger.is_none() && view.is_none() {
        return None;
    }
    let events = events_between(before, view.as_ref(), at, calendar);
    // A change that counts nothing (open and pending, an assignee of a closed request) leaves
    // the ledger as it is: what differs then never makes an event later either.
    if events.is_empty() && ledger.is_some() {
        return None;
    }
    let condition = ledger.as_ref().map_or(Condition::NotExists, |l| Condition::VersionIs(l.version));
    let mut next = ledger.unwrap_or_else(|| StatsLedger {
        project: project.to_string(),
        request_key: key.to_string(),
        version: 0,
        view: None,
        events: vec![],
    });
    next.version = next.version.max(version);
    next.view = view;
    let mut writes: Vec<Write> =
        tally(project, &events, zone).into_iter().map(|counts| Write::AddCounts { counts }).collect();
    next.events.extend(events);
    writes.insert(0, Write::Put { record: Record::StatsLedger(next), condition });
    Some(writes)
}
