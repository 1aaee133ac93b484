//! What a change of a request means for reports: the events between the view last counted and
//! the view now. Pure, so the stream, a rebuild and the tests derive the same events.

use super::records::{Rating, SlaTarget, StatEvent, StatKind, StatsView};
use crate::domain::sla::calendar::Calendar;
use crate::model::{Request, RequestStatus, SlaClock, Timestamp};

/// What reports read of a request.
pub fn view_of(request: &Request) -> StatsView {
    let clock = |c: Option<&SlaClock>| c.map_or((None, None), |c| (c.met_at, c.breached_at));
    let sla = request.sla.as_ref();
    StatsView {
        status: request.status,
        assignee: request.assignee.as_ref().map(|a| a.id.clone()),
        created_at: request.created_at,
        first_response_at: request.first_response_at,
        sla: [
            clock(sla.and_then(|s| s.first_reply.as_ref())),
            clock(sla.and_then(|s| s.next_reply.as_ref())),
            clock(sla.and_then(|s| s.resolution.as_ref())),
        ],
        csat: request.csat.as_ref().map(|c| (c.rating, c.first_at, request.assignee.as_ref().map(|a| a.id.clone()))),
    }
}

/// The view a request had the moment it was created, before anything happened to it.
fn fresh(after: &StatsView) -> StatsView {
    StatsView {
        status: RequestStatus::Open,
        assignee: after.assignee.clone(),
        created_at: after.created_at,
        first_response_at: None,
        sla: Default::default(),
        csat: None,
    }
}

/// Seconds between two instants: working seconds when the project keeps a calendar.
pub fn elapsed(calendar: Option<&Calendar>, from: Timestamp, to: Timestamp) -> i64 {
    match calendar {
        Some(calendar) => calendar.between(from, to),
        None => (to - from).max(0),
    }
}

/// Where a request stands in the backlog: None when closed, else whose backlog it is in.
fn backlog_of(view: &StatsView) -> Option<Option<&str>> {
    (view.status != RequestStatus::Closed).then_some(view.assignee.as_deref())
}

/// The events between `before` (None: never counted) and `after` (None: deleted), at `at`
/// for what the views do not date themselves (status changes, assignments).
pub fn events_between(
    before: Option<&StatsView>,
    after: Option<&StatsView>,
    at: Timestamp,
    calendar: Option<&Calendar>,
) -> Vec<StatEvent> {
    let mut events = vec![];
    let start;
    let before = match (before, after) {
        (Some(before), _) => before,
        (None, None) => return events,
        (None, Some(after)) => {
            start = fresh(after);
            let agent = start.assignee.clone();
            events.push(StatEvent { at: start.created_at, agent: agent.clone(), kind: StatKind::Created });
            events.push(StatEvent { at: start.created_at, agent, kind: StatKind::Backlog(1) });
            &start
        }
    };
    let event = |at, agent: Option<&str>, kind| StatEvent { at, agent: agent.map(str::to_string), kind };
    let Some(after) = after else {
        if let Some(agent) = backlog_of(before) {
            events.push(event(at, agent, StatKind::Backlog(-1)));
        }
        return events;
    };
    let agent = after.assignee.as_deref();
    if let Some(first) = after.first_response_at.filter(|_| before.first_response_at.is_none()) {
        events.push(event(first, agent, StatKind::FirstReply(elapsed(calendar, after.created_at, first))));
    }
    for (i, target) in SlaTarget::ALL.into_iter().enumerate() {
        let ((met_before, breached_before), (met, breached)) = (before.sla[i], after.sla[i]);
        if let Some(t) = breached.filter(|_| breached != breached_before) {
            events.push(event(t, agent, StatKind::SlaBreached(target)));
        }
        // A clock met after it ran out counts as breached only.
        if let Some(t) = met.filter(|_| met != met_before && breached.is_none()) {
            events.push(event(t, agent, StatKind::SlaMet(target)));
        }
    }
    match (before.status == RequestStatus::Closed, after.status == RequestStatus::Closed) {
        (false, true) => events.push(event(at, agent, StatKind::Closed(elapsed(calendar, after.created_at, at)))),
        (true, false) => events.push(event(at, agent, StatKind::Reopened)),
        _ => {}
    }
    let (was, is) = (backlog_of(before), backlog_of(after));
    if was != is {
        if let Some(owner) = was {
            events.push(event(at, owner, StatKind::Backlog(-1)));
        }
        if let Some(owner) = is {
            events.push(event(at, owner, StatKind::Backlog(1)));
        }
    }
    if before.csat != after.csat {
        let rating = |c: &(Rating, Timestamp, Option<String>), delta| StatEvent {
            at: c.1,
            agent: c.2.clone(),
            kind: StatKind::Csat(c.0, delta),
        };
        events.extend(before.csat.as_ref().map(|c| rating(c, -1)));
        events.extend(after.csat.as_ref().map(|c| rating(c, 1)));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: RequestStatus) -> StatsView {
        StatsView {
            status,
            assignee: None,
            created_at: 1_000,
            first_response_at: None,
            sla: Default::default(),
            csat: None,
        }
    }

    #[test]
    fn a_new_request_is_created_into_the_backlog_and_a_deleted_one_leaves_it() {
        let open = view(RequestStatus::Open);
        let made = events_between(None, Some(&open), 5_000, None);
        assert_eq!(
            made,
            [
                StatEvent { at: 1_000, agent: None, kind: StatKind::Created },
                StatEvent { at: 1_000, agent: None, kind: StatKind::Backlog(1) },
            ]
        );
        let gone = events_between(Some(&open), None, 9_000, None);
        assert_eq!(gone, [StatEvent { at: 9_000, agent: None, kind: StatKind::Backlog(-1) }]);
        // Open and pending are both the backlog: moving between them counts nothing.
        assert_eq!(events_between(Some(&open), Some(&view(RequestStatus::Pending)), 9_000, None), []);
    }

    #[test]
    fn a_request_first_seen_closed_is_created_and_closed() {
        let closed = StatsView { first_response_at: Some(1_600), ..view(RequestStatus::Closed) };
        let kinds: Vec<_> =
            events_between(None, Some(&closed), 4_000, None).into_iter().map(|e| (e.at, e.kind)).collect();
        assert_eq!(
            kinds,
            [
                (1_000, StatKind::Created),
                (1_000, StatKind::Backlog(1)),
                (1_600, StatKind::FirstReply(600)),
                (4_000, StatKind::Closed(3_000)),
                (4_000, StatKind::Backlog(-1)),
            ]
        );
    }

    #[test]
    fn an_assignment_moves_the_backlog_between_agents_and_a_changed_rating_moves_its_count() {
        let ann = StatsView { assignee: Some("ann".into()), ..view(RequestStatus::Open) };
        let bob = StatsView { assignee: Some("bob".into()), ..ann.clone() };
        let moved: Vec<_> =
            events_between(Some(&ann), Some(&bob), 2_000, None).into_iter().map(|e| (e.agent, e.kind)).collect();
        assert_eq!(moved, [(Some("ann".into()), StatKind::Backlog(-1)), (Some("bob".into()), StatKind::Backlog(1))]);
        let good = StatsView { csat: Some((Rating::Good, 3_000, Some("bob".into()))), ..bob.clone() };
        let bad = StatsView { csat: Some((Rating::Bad, 3_000, Some("bob".into()))), ..bob.clone() };
        let changed: Vec<_> =
            events_between(Some(&good), Some(&bad), 5_000, None).into_iter().map(|e| (e.at, e.kind)).collect();
        assert_eq!(changed, [(3_000, StatKind::Csat(Rating::Good, -1)), (3_000, StatKind::Csat(Rating::Bad, 1))]);
    }

    #[test]
    fn a_clock_met_after_it_ran_out_counts_as_breached_only() {
        let open = view(RequestStatus::Open);
        let breached = StatsView { sla: [(None, Some(2_000)), (None, None), (None, None)], ..open.clone() };
        let late = StatsView { sla: [(Some(2_500), Some(2_000)), (None, None), (None, None)], ..open.clone() };
        let on_time = StatsView { sla: [(Some(1_500), None), (None, None), (None, None)], ..open.clone() };
        let kinds = |a: &StatsView, b: &StatsView| -> Vec<StatKind> {
            events_between(Some(a), Some(b), 3_000, None).into_iter().map(|e| e.kind).collect()
        };
        assert_eq!(kinds(&open, &breached), [StatKind::SlaBreached(SlaTarget::FirstReply)]);
        assert_eq!(kinds(&breached, &late), []);
        assert_eq!(kinds(&open, &on_time), [StatKind::SlaMet(SlaTarget::FirstReply)]);
    }
}
