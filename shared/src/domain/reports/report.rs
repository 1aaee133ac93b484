//! A project's report: its days' counts from `from` to `to`, merged into days or weeks. One
//! Query reads the scope's days from `from` up to today and its running totals (newest first):
//! the backlog at the end of a period is today's total less what moved after it.

use super::apply::clock_of;
use super::counts::{quantile, FIRST_REPLY_BUCKET, RESOLUTION_BUCKET};
use super::records::{agent_scope, SlaTarget, StatsCounts, ALL_SCOPE, TOTAL_DAY};
use crate::domain::access::require_agent;
use crate::domain::caller::{load_project, Caller};
use crate::error::ApiError;
use crate::items::{stats_counts_key, stats_partition};
use crate::model::Record;
use crate::store::Query;
use crate::table::Index;
use crate::App;
use jiff::civil::{Date, Weekday};
use std::collections::BTreeMap;

/// The longest report, in days.
pub const MAX_DAYS: i64 = 366;
/// Days a report covers when `from` is not given.
pub const DEFAULT_DAYS: i64 = 30;

/// The query of `GET /projects/{key}/reports`, as given.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    /// An agent's address, `me` or `none` (unassigned).
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
}

/// The median and 90th percentile of some times, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub median: Option<i64>,
    pub p90: Option<i64>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeriodRow {
    /// The period's first day (a week starts on Monday, or at `from`).
    pub start: String,
    pub created: i64,
    pub closed: i64,
    pub reopened: i64,
    /// Open and pending at the period's end.
    pub backlog: i64,
    pub first_reply: Times,
    pub resolution: Times,
    /// Per target (first reply, next reply, resolution): met and breached.
    pub sla: [(i64, i64); 3],
    pub csat: (i64, i64),
    /// First-reply times of the period, by bucket (for the distribution chart).
    pub first_reply_buckets: BTreeMap<u32, i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub project: String,
    pub project_name: String,
    pub from: String,
    pub to: String,
    pub by: Period,
    /// The agent's id it is narrowed to (`none`: unassigned).
    pub assignee: Option<String>,
    pub time_zone: String,
    /// Whether the project keeps service-level clocks.
    pub has_sla: bool,
    pub periods: Vec<PeriodRow>,
    /// The whole range as one period (its backlog: at `to`).
    pub total: PeriodRow,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_report", message)
}

fn date(text: Option<&str>, name: &str) -> Result<Option<Date>, ApiError> {
    text.map(|t| t.parse::<Date>().map_err(|_| bad(format!("{name} is a date, YYYY-MM-DD")))).transpose()
}

/// A project's report (its agents).
pub async fn project_report(
    app: &App,
    caller: &Caller,
    project: &str,
    query: &ReportQuery,
) -> Result<Report, ApiError> {
    // An agent named by address is found with the caller, in the same read.
    let named = match query.assignee.as_deref() {
        None | Some("me") | Some("none") => Ok(None),
        Some(raw) => crate::domain::email::EmailAddress::parse(raw)
            .map(Some)
            .map_err(|_| bad("assignee is me, none or an agent's address")),
    };
    let extra: Vec<_> = named.iter().flatten().map(crate::items::email_key).collect();
    let (actor, p, records) = load_project(app, caller, project, &extra).await?;
    require_agent(&actor.user, &p.key)?;
    let named = named?;
    let assignee = match (query.assignee.as_deref(), &named) {
        (None, _) => None,
        (Some("me"), _) => Some(actor.user.id.clone()),
        // Nobody has that address: nothing was ever assigned to them.
        (_, Some(email)) => Some(crate::domain::caller::account_of(&records, email)),
        (Some(_), None) => Some(crate::items::UNASSIGNED.to_string()),
    };
    let (zone, _) = clock_of(Some(&p));
    let today =
        jiff::Timestamp::from_second(app.now()).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone()).date();
    let to = date(query.to.as_deref(), "to")?.unwrap_or(today);
    let from = match date(query.from.as_deref(), "from")? {
        Some(from) => from,
        None => to.checked_sub(jiff::Span::new().days(DEFAULT_DAYS - 1)).map_err(|_| bad("to is out of range"))?,
    };
    if from > to {
        return Err(bad("from is after to"));
    }
    let span = to.since(from).map(|s| s.get_days() as i64).unwrap_or(i64::MAX);
    if span >= MAX_DAYS {
        return Err(bad(format!("a report covers at most {MAX_DAYS} days")));
    }
    let by = match query.by.as_deref() {
        None | Some("day") => Period::Day,
        Some("week") => Period::Week,
        Some(_) => return Err(bad("by is day or week")),
    };
    let scope = assignee.as_deref().map_or(ALL_SCOPE.to_string(), |a| agent_scope(Some(a)));
    // At most one item per day from `from` to today, and the totals: a page one larger than
    // that ends in the scope before (or the partition's end), so one Query reads it all, and
    // little of the scope before when the days are sparse.
    let span = today.since(from).map_or(0, |s| i64::from(s.get_days()).max(0));
    let days = read_days(app, &p.key, &scope, from, (span + 3).min(400) as usize).await?;
    let (periods, total) = build(&days, from, to, by);
    Ok(Report {
        project: p.key.clone(),
        project_name: p.name.clone(),
        from: from.to_string(),
        to: to.to_string(),
        by,
        assignee,
        time_zone: p.settings.sla.as_ref().map_or("UTC".to_string(), |s| s.timezone.clone()),
        has_sla: p.settings.sla.is_some(),
        periods,
        total,
    })
}

/// The scope's running totals and every day from `from` on, newest first.
async fn read_days(
    app: &App,
    project: &str,
    scope: &str,
    from: Date,
    page: usize,
) -> Result<Vec<StatsCounts>, ApiError> {
    let prefix = format!("{scope}#");
    let first = format!("{prefix}{from}");
    let mut after = Some(format!("{}~", stats_counts_key(project, scope, TOTAL_DAY).sk));
    let mut days = vec![];
    loop {
        let query = Query {
            index: Index::Table,
            pk: stats_partition(project),
            newest_first: true,
            limit: page,
            after: after.take(),
            status: None,
        };
        let page = app.store.query(&query).await?;
        let last = page.last_sort_key.clone();
        let mut done = false;
        for record in page.records {
            if let Record::StatsCounts(c) = record {
                let sk = format!("{}#{}", c.scope, c.day);
                if c.scope != scope || sk < first {
                    done = true;
                    break;
                }
                days.push(c);
            }
        }
        match last {
            Some(last) if !done && last.starts_with(&prefix) => after = Some(last),
            _ => return Ok(days),
        }
    }
}

/// The first day of the period holding `day`.
fn period_start(day: Date, from: Date, by: Period) -> Date {
    match by {
        Period::Day => day,
        Period::Week => {
            let back = i64::from(day.weekday().since(Weekday::Monday));
            day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day).max(from)
        }
    }
}

fn add(row: &mut PeriodRow, counts: &BTreeMap<String, i64>, resolution: &mut BTreeMap<u32, i64>) {
    for (name, value) in counts {
        match name.as_str() {
            "created" => row.created += value,
            "closed" => row.closed += value,
            "reopened" => row.reopened += value,
            "csat_good" => row.csat.0 += value,
            "csat_bad" => row.csat.1 += value,
            _ => {
                if let Some(bucket) = name.strip_prefix(RESOLUTION_BUCKET).and_then(|b| b.parse::<u32>().ok()) {
                    *resolution.entry(bucket).or_default() += value;
                } else if let Some(bucket) = name.strip_prefix(FIRST_REPLY_BUCKET).and_then(|b| b.parse::<u32>().ok()) {
                    *row.first_reply_buckets.entry(bucket).or_default() += value;
                } else {
                    for (i, target) in SlaTarget::ALL.into_iter().enumerate() {
                        if name == &format!("sla_{}_met", target.as_str()) {
                            row.sla[i].0 += value;
                        } else if name == &format!("sla_{}_breached", target.as_str()) {
                            row.sla[i].1 += value;
                        }
                    }
                }
            }
        }
    }
}

fn times(buckets: &BTreeMap<u32, i64>) -> Times {
    Times { median: quantile(buckets, 0.5), p90: quantile(buckets, 0.9), count: buckets.values().sum() }
}

/// The periods from `from` to `to` out of the scope's days (newest first, totals first).
pub fn build(days: &[StatsCounts], from: Date, to: Date, by: Period) -> (Vec<PeriodRow>, PeriodRow) {
    let mut backlog_now = 0;
    let mut by_day: BTreeMap<String, &BTreeMap<String, i64>> = BTreeMap::new();
    for d in days {
        if d.day == TOTAL_DAY {
            backlog_now = d.counts.get("backlog").copied().unwrap_or(0);
        } else {
            by_day.insert(d.day.clone(), &d.counts);
        }
    }
    // Backlog at the end of each day: today's total less every later day's moves.
    let backlog_after = |day: &str| -> i64 {
        let later: i64 = by_day
            .range::<str, _>((std::ops::Bound::Excluded(day), std::ops::Bound::Unbounded))
            .map(|(_, c)| c.get("backlog").copied().unwrap_or(0))
            .sum();
        backlog_now - later
    };
    let mut rows: BTreeMap<Date, (PeriodRow, BTreeMap<u32, i64>)> = BTreeMap::new();
    let mut total = (PeriodRow { start: from.to_string(), ..Default::default() }, BTreeMap::new());
    let mut day = from;
    while day <= to {
        let start = period_start(day, from, by);
        let (row, resolution) = rows
            .entry(start)
            .or_insert_with(|| (PeriodRow { start: start.to_string(), ..Default::default() }, BTreeMap::new()));
        let key = day.to_string();
        if let Some(counts) = by_day.get(&key) {
            add(row, counts, resolution);
            add(&mut total.0, counts, &mut total.1);
        }
        row.backlog = backlog_after(&key);
        total.0.backlog = row.backlog;
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    let finish = |(mut row, resolution): (PeriodRow, BTreeMap<u32, i64>)| {
        row.first_reply = times(&row.first_reply_buckets);
        row.resolution = times(&resolution);
        row
    };
    (rows.into_values().map(finish).collect(), finish(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reports::counts::{bucket, bucket_value};

    fn day(day: &str, counts: &[(&str, i64)]) -> StatsCounts {
        StatsCounts {
            project: "HD".into(),
            scope: "ALL".into(),
            day: day.into(),
            counts: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn weeks_start_on_monday_and_the_backlog_is_counted_back_from_today() {
        let fr = format!("fr{}", bucket(600));
        let days = [
            day(TOTAL_DAY, &[("backlog", 3)]),
            // After the range: moved the backlog by -1 since.
            day("2026-03-20", &[("backlog", -1), ("closed", 1)]),
            day("2026-03-10", &[("created", 2), ("backlog", 2), (&fr, 2)]),
            day("2026-03-04", &[("created", 3), ("backlog", 2), ("closed", 1), ("csat_good", 1)]),
        ];
        let (from, to) = ("2026-03-04".parse().unwrap(), "2026-03-15".parse().unwrap());
        let (rows, total) = build(&days, from, to, Period::Week);
        // Wednesday the 4th starts the first period; Mondays the 9th and 16th (past `to`) the next.
        assert_eq!(rows.iter().map(|r| r.start.as_str()).collect::<Vec<_>>(), ["2026-03-04", "2026-03-09"]);
        assert_eq!((rows[0].created, rows[0].closed, rows[0].csat), (3, 1, (1, 0)));
        // Today 3; the 20th took one away: 4 at the end of the 15th; without the 10th's 2: 2.
        assert_eq!((rows[0].backlog, rows[1].backlog), (2, 4));
        assert_eq!(
            rows[1].first_reply,
            Times { median: Some(bucket_value(bucket(600))), p90: Some(bucket_value(bucket(600))), count: 2 }
        );
        assert_eq!((total.created, total.closed, total.backlog), (5, 1, 4));
    }
}
