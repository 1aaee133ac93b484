//! The aggregation over a scripted history, against numbers worked out by hand; a replayed
//! change; a rebuild that equals what the stream counted.

use super::counts::{bucket, bucket_value};
use super::report::Times;
use super::*;
use crate::items::stats_partition;
use crate::model::{ProjectRole, Record, Request, RequestStatus, StatsCounts};
use crate::store::{Query, Store};
use crate::table::Index;
use crate::testing::{open_request, Desk};

/// Monday 2026-03-02 09:00 UTC.
const T0: i64 = 1_772_442_000;
const DAY: i64 = 86_400;

fn at_version(request: &Request, version: u64, change: impl Fn(&mut Request)) -> Request {
    let mut next = request.clone();
    change(&mut next);
    next.version = version;
    next
}

/// Every count of project HD; a count that went back to zero is as good as none.
async fn all_counts(desk: &Desk) -> Vec<StatsCounts> {
    let page = desk.store.query(&Query::partition(Index::Table, stats_partition("HD"), 1000)).await.unwrap();
    page.keep(|r| match r {
        Record::StatsCounts(mut c) => {
            c.counts.retain(|_, v| *v != 0);
            Some(c)
        }
        _ => None,
    })
}

#[tokio::test]
async fn a_scripted_history_counts_as_worked_out_by_hand_once_however_often_delivered() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let lead = desk.staff("lead@example.com", "HD", ProjectRole::Agent).await;
    let app = &desk.app;
    // HD-1: created Monday 09:00, answered at 09:10 (pending), the customer writes back at
    // 10:00 (open), closed at 11:00; reopened Tuesday 09:00, closed again at 09:30.
    let v1 = open_request("HD-1", "cust", T0);
    let v2 = at_version(&v1, 2, |r| {
        r.first_response_at = Some(T0 + 600);
        r.status = RequestStatus::Pending;
    });
    let v3 = at_version(&v2, 3, |r| r.status = RequestStatus::Open);
    let v4 = at_version(&v3, 4, |r| r.status = RequestStatus::Closed);
    let v5 = at_version(&v4, 5, |r| r.status = RequestStatus::Open);
    let v6 = at_version(&v5, 6, |r| r.status = RequestStatus::Closed);
    // HD-2: created Tuesday 12:00 and still open.
    let other = open_request("HD-2", "cust", T0 + DAY + 3 * 3600);
    let script = [
        (&v1, T0),
        (&v2, T0 + 600),
        (&v3, T0 + 3600),
        (&v4, T0 + 2 * 3600),
        (&v5, T0 + DAY),
        (&v6, T0 + DAY + 1800),
        (&other, T0 + DAY + 3 * 3600),
    ];
    let mut counted = vec![];
    for (request, at) in script {
        counted.push(count_change(app, &request.key, Some(request), at).await.unwrap());
    }
    // The pending -> open move counts nothing, and writes nothing.
    assert_eq!(counted, [true, true, false, true, true, true, true]);
    let streamed = all_counts(&desk).await;
    // A redelivered batch, and an older change arriving late, count nothing.
    for (request, at) in [(&v4, T0 + 2 * 3600), (&v6, T0 + DAY + 1800), (&v2, T0 + 600)] {
        assert!(!count_change(app, &request.key, Some(request), at).await.unwrap());
    }
    assert_eq!(all_counts(&desk).await, streamed);

    let query = ReportQuery { from: Some("2026-03-02".into()), to: Some("2026-03-03".into()), ..Default::default() };
    let report = project_report(app, &lead, "HD", &query).await.unwrap();
    let [monday, tuesday] = report.periods.as_slice() else { panic!("{:?}", report.periods) };
    let one = |seconds| Times {
        median: Some(bucket_value(bucket(seconds))),
        p90: Some(bucket_value(bucket(seconds))),
        count: 1,
    };
    assert_eq!((monday.created, monday.closed, monday.reopened, monday.backlog), (1, 1, 0, 0));
    assert_eq!((monday.first_reply, monday.resolution), (one(600), one(2 * 3600)));
    assert_eq!((tuesday.created, tuesday.closed, tuesday.reopened, tuesday.backlog), (1, 1, 1, 1));
    assert_eq!((tuesday.first_reply.count, tuesday.resolution), (0, one(DAY + 1800)));
    let total = &report.total;
    assert_eq!((total.created, total.closed, total.reopened, total.backlog), (2, 2, 1, 1));
    // Two resolutions, 2 h and 24.5 h: the median is the first, the 90th percentile the second.
    let both =
        Times { median: Some(bucket_value(bucket(7_200))), p90: Some(bucket_value(bucket(DAY + 1800))), count: 2 };
    assert_eq!(total.resolution, both);
    // Weeks: both days in the week of Monday the 2nd.
    let weekly = ReportQuery { by: Some("week".into()), ..query.clone() };
    let report = project_report(app, &lead, "HD", &weekly).await.unwrap();
    assert_eq!(report.periods.len(), 1);
    assert_eq!((report.periods[0].created, report.periods[0].backlog), (2, 1));

    // A rebuild from the table, where the requests are as the last change left them, sums the
    // same counts.
    desk.store.put_all(vec![Record::Request(v6.clone()), Record::Request(other.clone())]).await.unwrap();
    let rebuilt = rebuild_stats(app, "HD", |_, _| {}).await.unwrap();
    assert_eq!((rebuilt.requests, rebuilt.caught_up), (2, 0));
    assert_eq!(all_counts(&desk).await, streamed);
}

#[tokio::test]
async fn a_rebuild_counts_requests_made_before_reports_were_kept_and_agrees_with_the_stream() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let ann = desk.sign_in("ann@example.com").await;
    let lead = desk.staff("lead@example.com", "HD", ProjectRole::Agent).await;
    // Three requests through the use cases, one closed by its reporter.
    let mut made = vec![];
    for summary in ["Printer", "Invoice", "Login"] {
        made.push(desk.raise(&ann, "HD", summary).await);
    }
    crate::requests::set_status(&desk.app, &ann, &made[2].key, RequestStatus::Closed).await.unwrap();
    // Nothing was streamed: the rebuild counts them all from the table.
    let first = rebuild_stats(&desk.app, "HD", |_, _| {}).await.unwrap();
    assert_eq!((first.requests, first.caught_up), (3, 3));
    let query = ReportQuery::default();
    let report = project_report(&desk.app, &lead, "HD", &query).await.unwrap();
    assert_eq!((report.total.created, report.total.closed, report.total.backlog), (3, 1, 2));
    let counted = all_counts(&desk).await;
    // The stream delivering those changes now counts nothing more; a second rebuild neither.
    for request in &made {
        let Some(Record::Request(now)) = desk.store.get(&crate::items::request_key(&request.key)).await.unwrap() else {
            panic!()
        };
        assert!(!count_change(&desk.app, &now.key, Some(&now), now.updated_at).await.unwrap());
    }
    let second = rebuild_stats(&desk.app, "HD", |_, _| {}).await.unwrap();
    assert_eq!(second.caught_up, 0);
    assert_eq!(all_counts(&desk).await, counted);
}
