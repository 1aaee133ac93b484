//! Service levels (PRODUCT.md "Service levels and the clock"): a project's targets in
//! business hours, and each request's clocks, recomputed in the transaction of every change
//! that moves one. Agents see them; customers never do.

pub mod calendar;
pub mod clocks;
pub mod scheduler;

use crate::error::ApiError;
use crate::items::alarm_key;
use crate::model::{Priority, Record, Request, SlaAlarm, SlaSettings};
use crate::store::{Condition, Write};
use calendar::{Calendar, DAY_MINUTES};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

pub use clocks::advance;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
pub const MAX_HOLIDAYS: usize = 400;
/// The longest target: a year of working hours is more than any promise.
const MAX_TARGET_SECS: i64 = 10_000 * 3600;

fn invalid(message: String) -> ApiError {
    ApiError::invalid("invalid_sla", message)
}

/// `HH:MM` as minutes after midnight; `24:00` is the end of the day.
fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    (m < 60 && total <= DAY_MINUTES).then_some(total)
}

/// A target's length in business seconds: `30m`, `4h` (1 minute to 10,000 hours).
pub fn duration(text: &str) -> Option<i64> {
    let unit = match text.chars().last()? {
        'm' => 60,
        'h' => 3600,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = digits.parse::<i64>().ok()? * unit;
    (60..=MAX_TARGET_SECS).contains(&seconds).then_some(seconds)
}

/// The calendar the settings describe, or why they are wrong (422 `invalid_sla`).
pub fn calendar_of(settings: &SlaSettings) -> Result<Calendar, ApiError> {
    let zone = TimeZone::get(&settings.timezone)
        .map_err(|_| invalid(format!("{:?} is not an IANA time zone such as Europe/Berlin", settings.timezone)))?;
    let mut week = [None; 7];
    for (day, times) in &settings.hours {
        let index = DAYS
            .iter()
            .position(|d| d == day)
            .ok_or_else(|| invalid(format!("{day:?} is not a day: use mon to sun")))?;
        let [open, close] = times.as_slice() else {
            return Err(invalid(format!("hours of {day}: give an opening and a closing time, [\"09:00\", \"17:00\"]")));
        };
        let (Some(from), Some(to)) = (minutes(open), minutes(close)) else {
            return Err(invalid(format!("hours of {day}: times are HH:MM, 00:00 to 24:00")));
        };
        if from >= to {
            return Err(invalid(format!("hours of {day}: {open} is not before {close}")));
        }
        week[index] = Some((from, to));
    }
    if week.iter().all(Option::is_none) {
        return Err(invalid("hours: name at least one working day".into()));
    }
    if settings.holidays.len() > MAX_HOLIDAYS {
        return Err(invalid(format!("at most {MAX_HOLIDAYS} holidays")));
    }
    let mut holidays = BTreeSet::new();
    for day in &settings.holidays {
        let date: Date = day
            .parse()
            .ok()
            .filter(|_| day.len() == 10)
            .ok_or_else(|| invalid(format!("holiday {day:?} is not a date YYYY-MM-DD")))?;
        holidays.insert(date);
    }
    for (priority, targets) in &settings.targets {
        for (name, value) in [
            ("first_reply", &targets.first_reply),
            ("next_reply", &targets.next_reply),
            ("resolution", &targets.resolution),
        ] {
            if let Some(text) = value {
                if duration(text).is_none() {
                    return Err(invalid(format!(
                        "targets.{}.{name}: {text:?} is not a duration such as 30m or 4h",
                        priority.as_str()
                    )));
                }
            }
        }
    }
    Ok(Calendar::new(zone, week, holidays))
}

/// The writes that keep a request's scheduler alarm in step with its clocks, in the change's
/// own transaction: the old alarm goes, the new one comes.
pub fn alarm_writes(before: Option<&Request>, after: &Request) -> Vec<Write> {
    let old = before.and_then(|r| r.sla.as_ref()).and_then(|s| s.alarm_at);
    let new = after.sla.as_ref().and_then(|s| s.alarm_at);
    if old == new {
        return vec![];
    }
    let mut writes = vec![];
    if let Some(at) = old {
        writes.push(Write::Delete { key: alarm_key(at, &after.key), condition: Condition::None });
    }
    if let Some(at) = new {
        let alarm = SlaAlarm { request_key: after.key.clone(), at };
        writes.push(Write::Put { record: Record::SlaAlarm(alarm), condition: Condition::None });
    }
    writes
}

/// The targets for a priority, in business seconds: first reply, next reply, resolution.
pub fn targets(settings: &SlaSettings, priority: Priority) -> [Option<i64>; 3] {
    let Some(t) = settings.targets.get(&priority) else { return [None; 3] };
    [&t.first_reply, &t.next_reply, &t.resolution].map(|v| v.as_deref().and_then(duration))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SlaTargets;
    use std::collections::BTreeMap;

    pub(crate) fn settings() -> SlaSettings {
        let day = || vec!["09:00".to_string(), "17:00".to_string()];
        SlaSettings {
            timezone: "Europe/Berlin".into(),
            hours: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), day())).collect(),
            holidays: vec!["2026-12-25".into()],
            targets: BTreeMap::from([(
                Priority::Normal,
                SlaTargets {
                    first_reply: Some("4h".into()),
                    next_reply: Some("8h".into()),
                    resolution: Some("40h".into()),
                },
            )]),
        }
    }

    #[test]
    fn settings_are_checked_with_reasons() {
        assert!(calendar_of(&settings()).is_ok());
        let wrong = |edit: fn(&mut SlaSettings)| {
            let mut s = settings();
            edit(&mut s);
            calendar_of(&s).unwrap_err().public_message()
        };
        assert!(wrong(|s| s.timezone = "Mars/Olympus".into()).contains("IANA"));
        assert!(wrong(|s| s.hours = BTreeMap::from([("mon".into(), vec!["17:00".into(), "09:00".into()])]))
            .contains("not before"));
        assert!(wrong(|s| s.hours = BTreeMap::from([("monday".into(), vec!["09:00".into(), "17:00".into()])]))
            .contains("not a day"));
        assert!(wrong(|s| s.hours = BTreeMap::from([("mon".into(), vec!["9:00".into(), "24:01".into()])]))
            .contains("HH:MM"));
        assert!(wrong(|s| s.hours.clear()).contains("at least one"));
        assert!(wrong(|s| s.holidays = vec!["2026-02-30".into()]).contains("not a date"));
        assert!(wrong(|s| s.targets.get_mut(&Priority::Normal).unwrap().first_reply = Some("2d".into()))
            .contains("duration"));
        let mut midnight = settings();
        midnight.hours.insert("sat".into(), vec!["18:00".into(), "24:00".into()]);
        let one_time = SlaSettings { hours: BTreeMap::from([("mon".into(), vec!["09:00".into()])]), ..settings() };
        assert!(calendar_of(&one_time).unwrap_err().public_message().contains("opening and a closing"));
        assert!(calendar_of(&midnight).is_ok(), "hours may end at 24:00");
    }

    #[test]
    fn durations_are_minutes_or_hours() {
        assert_eq!(duration("30m"), Some(1800));
        assert_eq!(duration("4h"), Some(14_400));
        for bad in ["", "h", "0m", "30s", "1.5h", "-1h", "4 h", "99999999h", "10001h"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
        assert_eq!(targets(&settings(), Priority::Normal), [Some(4 * 3600), Some(8 * 3600), Some(40 * 3600)]);
        assert_eq!(targets(&settings(), Priority::Urgent), [None, None, None]);
    }
}
