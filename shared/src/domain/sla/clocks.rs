//! A request's clocks, moved by a change: the pure step from the request before a change to
//! the request after it, at the change's time.
//!
//! - First reply: from opening until the team's first public reply.
//! - Next reply: from a customer's public reply (after the team had replied) until the team
//!   answers; pending pauses it.
//! - Resolution: from opening until closed; pending pauses it, reopening resumes it (the
//!   closed time does not count).
//!
//! A held request has no clocks until released (it is not in the queue). A target met after
//! its due time is met and breached; a clock that runs out unmet is breached at its due time.

use super::calendar::Calendar;
use crate::model::{Request, RequestSla, RequestStatus, SlaClock, SlaSettings};

/// Whether a change may move a clock: what the clocks read changed.
pub fn moved(before: &Request, after: &Request) -> bool {
    before.status != after.status
        || before.priority != after.priority
        || before.held != after.held
        || before.first_response_at != after.first_response_at
        || before.customer_spoke_last != after.customer_spoke_last
}

/// Moves `after`'s clocks for the change from `before` (None: just opened) at `now`.
pub fn advance(before: Option<&Request>, after: &mut Request, settings: Option<&SlaSettings>, now: i64) {
    let calendar = settings.and_then(|s| super::calendar_of(s).ok());
    let (Some(settings), Some(calendar)) = (settings, calendar) else {
        after.sla = None;
        return;
    };
    if after.held {
        after.sla = None;
        return;
    }
    let [first, next, resolution] = super::targets(settings, after.priority);
    let old = before.and_then(|b| b.sla.clone()).unwrap_or_default();
    let open = after.status == RequestStatus::Open;
    let replied = after.first_response_at.is_some();
    // The team answered the customer's last words in this change.
    let answered = before.is_some_and(|b| b.customer_spoke_last) && !after.customer_spoke_last && replied;
    // The customer spoke again after the team had replied: a new next-reply cycle.
    let asked = after.customer_spoke_last && before.is_none_or(|b| !b.customer_spoke_last) && replied;
    let step = Step { calendar: &calendar, now };
    let first_reply = step.clock(
        old.first_reply,
        first,
        after.status.is_active() && !replied,
        after.first_response_at.filter(|_| replied),
    );
    let next_cycle = if asked { None } else { old.next_reply };
    let next_reply = match (next_cycle.is_some() || asked, answered) {
        (false, _) => None,
        (true, true) => step.clock(next_cycle, next, false, Some(now)),
        (true, false) => step.clock(next_cycle, next, open && after.customer_spoke_last, None),
    };
    let closed = (after.status == RequestStatus::Closed).then_some(now);
    let resolution = step.clock(old.resolution, resolution, open, closed);
    let mut sla = RequestSla { first_reply, next_reply, resolution, alarm_at: None };
    sla.alarm_at = next_alarm(&sla).map(|at| at.max(now));
    after.sla = (sla != RequestSla::default()).then_some(sla);
}

/// The scheduler's next work on these clocks: a warning not yet given, or a running clock
/// running out. (Written no earlier than the change itself, so no hour already worked is
/// written to.)
pub fn next_alarm(sla: &RequestSla) -> Option<i64> {
    [&sla.first_reply, &sla.next_reply, &sla.resolution]
        .into_iter()
        .flatten()
        .filter(|c| c.running_since.is_some())
        .flat_map(|c| {
            let warn = c.warn_at.filter(|_| c.warned_at.is_none());
            let due = c.due_at.filter(|_| c.breached_at.is_none());
            [warn, due]
        })
        .flatten()
        .min()
}

struct Step<'a> {
    calendar: &'a Calendar,
    now: i64,
}

impl Step<'_> {
    /// One clock after the change: counts what ran since it last moved, then runs, pauses or
    /// stops (met at `met`). None when the priority has no such target.
    fn clock(&self, clock: Option<SlaClock>, target: Option<i64>, running: bool, met: Option<i64>) -> Option<SlaClock> {
        let target = target?;
        let now = self.now;
        let mut c = clock.unwrap_or(SlaClock {
            target,
            used: 0,
            running_since: None,
            due_at: None,
            met_at: None,
            breached_at: None,
            warn_at: None,
            warned_at: None,
        });
        c.target = target;
        let was_due = c.due_at.take();
        c.warn_at = None;
        if let Some(since) = c.running_since.take() {
            c.used += self.calendar.between(since, now);
        }
        // It ran out before now unmet, or is met only now, after it ran out. Met at the due
        // second itself is met in time.
        if let Some(due) = was_due {
            if met.map_or(due < now, |at| at > due) {
                c.breached_at.get_or_insert(due);
            }
        }
        match met {
            Some(at) => {
                c.met_at.get_or_insert(at);
            }
            None if running => {
                c.met_at = None;
                c.running_since = Some(now);
                c.due_at = Some(self.calendar.add(now, (target - c.used).max(0)));
                if c.warned_at.is_none() {
                    c.warn_at = Some(self.calendar.add(now, (target * 3 / 4 - c.used).max(0)));
                }
            }
            // Paused, or stopped unmet: it keeps what it counted.
            None => {}
        }
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Priority, SlaTargets};
    use std::collections::BTreeMap;

    const H: i64 = 3600;

    /// Mon 2 March 2026, 09:00 in Berlin.
    const MONDAY_9: i64 = 1_772_438_400;

    fn settings() -> SlaSettings {
        let day = || vec!["09:00".to_string(), "17:00".to_string()];
        let targets = |f: &str, n: &str, r: &str| SlaTargets {
            first_reply: Some(f.into()),
            next_reply: Some(n.into()),
            resolution: Some(r.into()),
        };
        SlaSettings {
            timezone: "Europe/Berlin".into(),
            hours: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), day())).collect(),
            holidays: vec![],
            targets: BTreeMap::from([
                (Priority::Normal, targets("4h", "8h", "16h")),
                (Priority::Urgent, targets("1h", "2h", "4h")),
            ]),
        }
    }

    fn opened(at: i64) -> Request {
        let mut r = crate::testing::open_request("HD-1", "U1", at);
        advance(None, &mut r, Some(&settings()), at);
        r
    }

    /// The request after `change` at `at`.
    fn then(before: &Request, at: i64, change: impl FnOnce(&mut Request)) -> Request {
        let mut after = before.clone();
        change(&mut after);
        advance(Some(before), &mut after, Some(&settings()), at);
        after
    }

    fn sla(r: &Request) -> &RequestSla {
        r.sla.as_ref().expect("clocks")
    }

    fn agent_reply(r: &mut Request, at: i64) {
        r.first_response_at.get_or_insert(at);
        r.customer_spoke_last = false;
    }

    #[test]
    fn first_reply_in_time_and_met_exactly_at_the_due_second() {
        let r = opened(MONDAY_9);
        let first = sla(&r).first_reply.clone().unwrap();
        assert_eq!(first.due_at, Some(MONDAY_9 + 4 * H));
        assert_eq!(sla(&r).resolution.as_ref().unwrap().due_at, Some(MONDAY_9 + 16 * H + 16 * H), "two working days");
        assert!(sla(&r).next_reply.is_none(), "no next reply before the first");
        let due = MONDAY_9 + 4 * H;
        let answered = then(&r, due, |r| agent_reply(r, due));
        let first = sla(&answered).first_reply.clone().unwrap();
        assert_eq!((first.met_at, first.breached_at, first.due_at), (Some(due), None, None));
        let late = then(&r, due + 1, |r| agent_reply(r, due + 1));
        let first = sla(&late).first_reply.clone().unwrap();
        assert_eq!((first.met_at, first.breached_at), (Some(due + 1), Some(due)), "met a second late: breached too");
    }

    #[test]
    fn pending_pauses_next_reply_and_resolution_but_not_first_reply() {
        let r = opened(MONDAY_9);
        // An hour in, the agent asks a question and sets it pending without a public reply.
        let pending = then(&r, MONDAY_9 + H, |r| r.status = RequestStatus::Pending);
        assert_eq!(sla(&pending).first_reply.as_ref().unwrap().due_at, Some(MONDAY_9 + 4 * H), "still runs");
        let resolution = sla(&pending).resolution.clone().unwrap();
        assert_eq!((resolution.used, resolution.due_at, resolution.running_since), (H, None, None));
        // The customer answers the next day at 10: open again, resolution resumes with 15h left.
        let tuesday_10 = MONDAY_9 + 25 * H;
        let back = then(&pending, tuesday_10, |r| r.status = RequestStatus::Open);
        let resolution = sla(&back).resolution.clone().unwrap();
        assert_eq!(resolution.due_at, Some(MONDAY_9 + 2 * 24 * H + 8 * H), "Tue 7h + Wed 8h = 15h: Wed 17:00");
    }

    #[test]
    fn next_reply_runs_from_the_customers_words_to_the_teams_answer() {
        let r = opened(MONDAY_9);
        let answered = then(&r, MONDAY_9 + H, |r| agent_reply(r, MONDAY_9 + H));
        assert!(sla(&answered).next_reply.is_none());
        let asked = then(&answered, MONDAY_9 + 2 * H, |r| r.customer_spoke_last = true);
        let next = sla(&asked).next_reply.clone().unwrap();
        assert_eq!(next.due_at, Some(MONDAY_9 + 2 * H + 6 * H + 16 * H + 2 * H), "8h: Mon 11-17 and Tue 9-11");
        let again = then(&asked, MONDAY_9 + 3 * H, |r| agent_reply(r, MONDAY_9 + 3 * H));
        let next = sla(&again).next_reply.clone().unwrap();
        assert_eq!((next.met_at, next.due_at), (Some(MONDAY_9 + 3 * H), None));
        // A new question starts a new cycle.
        let asked = then(&again, MONDAY_9 + 4 * H, |r| r.customer_spoke_last = true);
        let next = sla(&asked).next_reply.clone().unwrap();
        assert_eq!((next.met_at, next.used, next.running_since), (None, 0, Some(MONDAY_9 + 4 * H)));
    }

    #[test]
    fn a_priority_change_moves_the_due_times_and_a_reopened_request_resumes() {
        let r = opened(MONDAY_9);
        let urgent = then(&r, MONDAY_9 + 30 * 60, |r| r.priority = Priority::Urgent);
        assert_eq!(sla(&urgent).first_reply.as_ref().unwrap().due_at, Some(MONDAY_9 + H));
        assert_eq!(sla(&urgent).resolution.as_ref().unwrap().due_at, Some(MONDAY_9 + 4 * H));
        let low = then(&urgent, MONDAY_9 + 40 * 60, |r| r.priority = Priority::Low);
        assert_eq!(low.sla, None, "no targets for low: no clocks");
        // Closed after 2 working hours, reopened a day later: the closed time does not count.
        let closed = then(&r, MONDAY_9 + 2 * H, |r| r.status = RequestStatus::Closed);
        let resolution = sla(&closed).resolution.clone().unwrap();
        assert_eq!((resolution.met_at, resolution.used), (Some(MONDAY_9 + 2 * H), 2 * H));
        let reopened = then(&closed, MONDAY_9 + 24 * H, |r| r.status = RequestStatus::Open);
        let resolution = sla(&reopened).resolution.clone().unwrap();
        assert_eq!(resolution.met_at, None);
        assert_eq!(resolution.due_at, Some(MONDAY_9 + 24 * H + 8 * H + 16 * H + 6 * H), "14h left from Tue 9:00");
    }

    #[test]
    fn a_clock_that_ran_out_is_breached_at_its_due_time_and_held_requests_have_none() {
        let r = opened(MONDAY_9);
        let due = MONDAY_9 + 4 * H;
        let mut tagged = r.clone();
        tagged.tags.push("printer".into());
        assert!(!moved(&r, &tagged), "a tag moves no clock");
        // The next change after the due time records the breach; the clock still runs.
        let pending = then(&r, due + H, |r| r.status = RequestStatus::Pending);
        let first = sla(&pending).first_reply.clone().unwrap();
        assert_eq!((first.breached_at, first.running_since), (Some(due), Some(due + H)));
        let replied = then(&pending, due + 2 * H, |r| agent_reply(r, due + 2 * H));
        let first = sla(&replied).first_reply.clone().unwrap();
        assert_eq!((first.breached_at, first.met_at), (Some(due), Some(due + 2 * H)));
        let mut held = opened(MONDAY_9);
        held.held = true;
        advance(None, &mut held, Some(&settings()), MONDAY_9);
        assert_eq!(held.sla, None);
        let released = then(&held, MONDAY_9 + H, |r| r.held = false);
        assert_eq!(sla(&released).first_reply.as_ref().unwrap().due_at, Some(MONDAY_9 + 5 * H), "from release");
        let mut none = opened(MONDAY_9);
        advance(None, &mut none, None, MONDAY_9);
        assert_eq!(none.sla, None, "no settings, no clocks");
    }
}
