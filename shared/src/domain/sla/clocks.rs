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
    let sla = RequestSla { first_reply, next_reply, resolution };
    after.sla = (sla != RequestSla::default()).then_some(sla);
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
        });
        c.target = target;
        let was_due = c.due_at.take();
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
            }
            // Paused, or stopped unmet: it keeps what it counted.
            None => {}
        }
        Some(c)
    }
}
