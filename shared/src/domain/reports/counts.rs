//! Counting events per scope and day, and reading times back from fixed buckets.
//!
//! Reply and resolution times go into log-spaced buckets: bucket `i >= 1` holds times in
//! `(G^(i-2), G^(i-1)]` seconds with G = 1.1, bucket 0 holds 0. Buckets of any days merge by
//! adding, so a 90-day median is read from the same items as a one-day one. A time read back
//! is its bucket's midpoint `2·G^(i-1)/(G+1)`: within (G-1)/(G+1) = 4.8% of any time in it.

use super::records::{agent_scope, StatEvent, StatKind, StatsCounts, ALL_SCOPE, TOTAL_DAY};
use crate::model::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

const GROWTH: f64 = 1.1;

/// The bucket of a time in seconds.
pub fn bucket(seconds: i64) -> u32 {
    if seconds <= 0 {
        return 0;
    }
    // The small epsilon keeps exact powers (1.1^k computed as 1.1^k·(1±ε)) in their bucket.
    1 + ((seconds as f64).ln() / GROWTH.ln() - 1e-9).ceil().max(0.0) as u32
}

/// The time a bucket stands for.
pub fn bucket_value(bucket: u32) -> i64 {
    if bucket == 0 {
        return 0;
    }
    (2.0 * GROWTH.powi(bucket as i32 - 1) / (GROWTH + 1.0)).round() as i64
}

/// Count names: `fr<i>` and `res<i>` are reply- and resolution-time buckets.
pub const FIRST_REPLY_BUCKET: &str = "fr";
pub const RESOLUTION_BUCKET: &str = "res";

/// The local date of an instant, `YYYY-MM-DD`.
pub fn day_of(at: Timestamp, zone: &TimeZone) -> String {
    let instant = jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    instant.to_zoned(zone.clone()).date().to_string()
}

/// What one event adds to its day's counts.
fn counts_of(kind: &StatKind) -> Vec<(String, i64)> {
    let one = |name: &str| (name.to_string(), 1);
    match kind {
        StatKind::Created => vec![one("created")],
        StatKind::Closed(seconds) => vec![one("closed"), one(&format!("{RESOLUTION_BUCKET}{}", bucket(*seconds)))],
        StatKind::Reopened => vec![one("reopened")],
        StatKind::Backlog(delta) => vec![("backlog".into(), *delta)],
        StatKind::FirstReply(seconds) => vec![one(&format!("{FIRST_REPLY_BUCKET}{}", bucket(*seconds)))],
        StatKind::SlaMet(target) => vec![one(&format!("sla_{}_met", target.as_str()))],
        StatKind::SlaBreached(target) => vec![one(&format!("sla_{}_breached", target.as_str()))],
        StatKind::Csat(rating, delta) => vec![(format!("csat_{}", rating.as_str()), *delta)],
    }
}

/// The counts `events` add, per (scope, day): each to the project's scope and to its agent's;
/// backlog moves also to each scope's running totals. Counts that net to zero are left out.
pub fn tally(project: &str, events: &[StatEvent], zone: &TimeZone) -> Vec<StatsCounts> {
    let mut all: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for event in events {
        let day = day_of(event.at, zone);
        for (name, delta) in counts_of(&event.kind) {
            for scope in [ALL_SCOPE.to_string(), agent_scope(event.agent.as_deref())] {
                let mut add = |day: &str| {
                    *all.entry((scope.clone(), day.to_string())).or_default().entry(name.clone()).or_default() += delta;
                };
                add(&day);
                if name == "backlog" {
                    add(TOTAL_DAY);
                }
            }
        }
    }
    all.into_iter()
        .filter_map(|((scope, day), mut counts)| {
            counts.retain(|_, v| *v != 0);
            (!counts.is_empty()).then(|| StatsCounts { project: project.to_string(), scope, day, counts })
        })
        .collect()
}

/// The value at quantile `q` (0..1) of bucketed times (bucket index -> count).
pub fn quantile(buckets: &BTreeMap<u32, i64>, q: f64) -> Option<i64> {
    let total: i64 = buckets.values().sum();
    if total <= 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (bucket, count) in buckets {
        seen += count;
        if seen >= rank {
            return Some(bucket_value(*bucket));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reports::records::Rating;

    #[test]
    fn a_bucket_stands_for_its_times_within_five_percent() {
        assert_eq!((bucket(0), bucket_value(0)), (0, 0));
        for seconds in [1_i64, 2, 7, 59, 60, 61, 3_599, 3_600, 86_400, 7 * 86_400, 365 * 86_400] {
            let value = bucket_value(bucket(seconds)) as f64;
            let error = (value - seconds as f64).abs() / seconds as f64;
            assert!(error <= 0.048 + 0.5 / seconds as f64, "{seconds} s read back as {value} ({error})");
        }
        assert!(bucket(365 * 86_400) < 200, "a year fits in under 200 buckets");
    }

    #[test]
    fn quantiles_read_the_rank_from_merged_buckets() {
        let mut buckets = BTreeMap::new();
        for seconds in [60, 60, 120, 3_600, 7_200] {
            *buckets.entry(bucket(seconds)).or_insert(0) += 1;
        }
        assert_eq!(quantile(&buckets, 0.5), Some(bucket_value(bucket(120))));
        assert_eq!(quantile(&buckets, 0.9), Some(bucket_value(bucket(7_200))));
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
    }

    #[test]
    fn events_count_for_the_project_and_their_agent_on_their_local_day() {
        let zone = TimeZone::get("America/New_York").unwrap();
        // 2026-03-02 03:00 UTC is still March 1st in New York.
        let at = 1_772_420_400;
        let events = [
            StatEvent { at, agent: Some("ann".into()), kind: StatKind::Created },
            StatEvent { at, agent: Some("ann".into()), kind: StatKind::Backlog(1) },
            StatEvent { at, agent: None, kind: StatKind::Csat(Rating::Good, 1) },
            StatEvent { at, agent: None, kind: StatKind::Csat(Rating::Good, -1) },
        ];
        let counts = tally("HD", &events, &zone);
        let find =
            |scope: &str, day: &str| counts.iter().find(|c| c.scope == scope && c.day == day).map(|c| c.counts.clone());
        let day = BTreeMap::from([("backlog".to_string(), 1), ("created".to_string(), 1)]);
        assert_eq!(find("ALL", "2026-03-01"), Some(day.clone()));
        assert_eq!(find("A#ann", "2026-03-01"), Some(day));
        assert_eq!(find("ALL", TOTAL_DAY), Some(BTreeMap::from([("backlog".to_string(), 1)])));
        // A rating counted and taken back nets to nothing: no item for the unassigned scope.
        assert_eq!(find("A#none", "2026-03-01"), None);
        assert_eq!(counts.len(), 4);
    }
}
