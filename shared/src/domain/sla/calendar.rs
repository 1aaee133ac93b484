//! Business time: the working hours of a project's week in its time zone, minus holidays.
//! A target of "4h" is four hours of working time; `add` says when they run out, `between`
//! how many passed. Windows are computed in local time and read as instants, so a
//! daylight-saving change inside a window counts the hours that really pass.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::BTreeSet;

/// How far ahead a due time is looked for: a calendar with any working day has one long
/// before this (the settings allow at most 400 holidays).
const MAX_DAYS: usize = 3 * 366;

/// Minutes in a day: a window may close at `24:00`.
pub const DAY_MINUTES: u32 = 24 * 60;

#[derive(Debug, Clone)]
pub struct Calendar {
    zone: TimeZone,
    /// `[open, close)` in minutes after local midnight, Monday first; None: closed all day.
    week: [Option<(u32, u32)>; 7],
    holidays: BTreeSet<Date>,
}

impl Calendar {
    /// A calendar; `week` windows must open before they close (checked by the settings).
    pub fn new(zone: TimeZone, week: [Option<(u32, u32)>; 7], holidays: BTreeSet<Date>) -> Calendar {
        Calendar { zone, week, holidays }
    }

    fn local_date(&self, at: i64) -> Date {
        let instant = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
        instant.to_zoned(self.zone.clone()).date()
    }

    /// The instant of local `minutes` after midnight of `date` (24:00 is the next midnight);
    /// in a daylight-saving gap, the time after it.
    fn instant(&self, date: Date, minutes: u32) -> i64 {
        let (date, minutes) = match (minutes >= DAY_MINUTES, date.tomorrow()) {
            (true, Ok(next)) => (next, 0),
            _ => (date, minutes.min(DAY_MINUTES - 1)),
        };
        let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).unwrap_or(Time::midnight());
        date.to_datetime(time).to_zoned(self.zone.clone()).map(|z| z.timestamp().as_second()).unwrap_or(0)
    }

    /// The working window of a local date, as instants.
    fn window(&self, date: Date) -> Option<(i64, i64)> {
        if self.holidays.contains(&date) {
            return None;
        }
        let (open, close) = self.week[date.weekday().to_monday_zero_offset() as usize]?;
        Some((self.instant(date, open), self.instant(date, close)))
    }

    /// The instant when `seconds` of working time after `start` have passed. With none left
    /// (`seconds` 0), `start` itself when it is in working time, else the next opening.
    pub fn add(&self, start: i64, seconds: i64) -> i64 {
        let mut left = seconds.max(0);
        let mut date = self.local_date(start);
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(date) {
                let from = start.max(open);
                if from < close {
                    if left <= close - from {
                        return from + left;
                    }
                    left -= close - from;
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        start.saturating_add(seconds)
    }

    /// Seconds of working time in `[from, to)`.
    pub fn between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let (mut date, last) = (self.local_date(from), self.local_date(to));
        let mut total = 0;
        while date <= last {
            if let Some((open, close)) = self.window(date) {
                total += (close.min(to) - open.max(from)).max(0);
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        dt.to_zoned(TimeZone::get(zone).unwrap()).unwrap().timestamp().as_second()
    }

    fn show(zone: &str, at: i64) -> String {
        let z = Timestamp::from_second(at).unwrap().to_zoned(TimeZone::get(zone).unwrap());
        z.strftime("%Y-%m-%d %H:%M %a").to_string()
    }

    const NINE_TO_FIVE: Option<(u32, u32)> = Some((9 * 60, 17 * 60));

    fn office(zone: &str, holidays: &[&str]) -> Calendar {
        let week = [NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, None, None];
        let holidays = holidays.iter().map(|d| d.parse().unwrap()).collect();
        Calendar::new(TimeZone::get(zone).unwrap(), week, holidays)
    }

    const H: i64 = 3600;

    /// (zone, holidays, start, business seconds, due as local time)
    #[test]
    fn due_times_in_business_hours() {
        let berlin = "Europe/Berlin";
        let ny = "America/New_York";
        let cases: &[(&str, &[&str], &str, i64, &str)] = &[
            // Inside the day, and exactly to its close.
            (berlin, &[], "2026-03-02T10:00", 2 * H, "2026-03-02 12:00 Mon"),
            (berlin, &[], "2026-03-02T10:00", 7 * H, "2026-03-02 17:00 Mon"),
            // Before opening and after closing: the clock starts at the next opening.
            (berlin, &[], "2026-03-02T06:30", H, "2026-03-02 10:00 Mon"),
            (berlin, &[], "2026-03-02T19:00", H, "2026-03-03 10:00 Tue"),
            // Over a weekend, and over a weekend and a Monday holiday.
            (berlin, &[], "2026-03-06T16:00", 2 * H, "2026-03-09 10:00 Mon"),
            (berlin, &["2026-03-09"], "2026-03-06T16:00", 2 * H, "2026-03-10 10:00 Tue"),
            // A 40-hour target is a working week.
            (berlin, &[], "2026-03-02T09:00", 40 * H, "2026-03-06 17:00 Fri"),
            // Daylight saving starts (Berlin 29 March 2026, New York 8 March 2026) and ends
            // (Berlin 25 October, New York 1 November): local hours stay 9 to 5.
            (berlin, &[], "2026-03-27T16:00", 2 * H, "2026-03-30 10:00 Mon"),
            (berlin, &[], "2026-10-23T16:00", 2 * H, "2026-10-26 10:00 Mon"),
            (ny, &[], "2026-03-06T16:00", 2 * H, "2026-03-09 10:00 Mon"),
            (ny, &[], "2026-10-30T16:00", 2 * H, "2026-11-02 10:00 Mon"),
            // Nothing left: due at once in working time, else at the next opening.
            (berlin, &[], "2026-03-02T10:00", 0, "2026-03-02 10:00 Mon"),
            (berlin, &[], "2026-03-07T10:00", 0, "2026-03-09 09:00 Mon"),
        ];
        for (zone, holidays, start, seconds, due) in cases {
            let calendar = office(zone, holidays);
            let got = calendar.add(at(zone, start), *seconds);
            assert_eq!(show(zone, got), *due, "{zone} {start} + {seconds}s");
            // And back: the time between is the target, to the second.
            if *seconds > 0 {
                assert_eq!(calendar.between(at(zone, start), got), *seconds, "{zone} {start}");
            }
        }
    }

    #[test]
    fn hours_may_run_to_midnight_and_a_daylight_saving_night_counts_what_passes() {
        let zone = "Europe/Berlin";
        let all_day = Some((0, DAY_MINUTES));
        let calendar = Calendar::new(TimeZone::get(zone).unwrap(), [all_day; 7], BTreeSet::new());
        // 29 March 2026 has 23 hours in Berlin: 24 hours of working time end an hour later.
        let start = at(zone, "2026-03-29T00:00");
        assert_eq!(show(zone, calendar.add(start, 24 * H)), "2026-03-30 01:00 Mon");
        assert_eq!(calendar.between(start, at(zone, "2026-03-30T00:00")), 23 * H);
        // Evening hours that end at midnight.
        let evenings = Some((18 * 60, DAY_MINUTES));
        let calendar = Calendar::new(TimeZone::get(zone).unwrap(), [evenings; 7], BTreeSet::new());
        assert_eq!(show(zone, calendar.add(at(zone, "2026-03-02T23:00"), 2 * H)), "2026-03-03 19:00 Tue");
        assert_eq!(calendar.between(at(zone, "2026-03-02T12:00"), at(zone, "2026-03-03T12:00")), 6 * H);
    }

    #[test]
    fn between_counts_only_working_time() {
        let zone = "Europe/Berlin";
        let calendar = office(zone, &["2026-03-04"]);
        let (from, to) = (at(zone, "2026-03-02T16:00"), at(zone, "2026-03-05T10:00"));
        // Monday 16-17, Tuesday 9-17, Wednesday a holiday, Thursday 9-10.
        assert_eq!(calendar.between(from, to), 10 * H);
        assert_eq!(calendar.between(to, from), 0);
    }
}
