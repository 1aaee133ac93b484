//! What reports cost: the automations function's work to count one change of a request (a
//! create, a close, a move that counts nothing, a redelivery), and a 90-day report read at
//! 1,000 and at 100,000 requests (the counts those requests make, written as the stream would
//! leave them: the report reads count items, one per scope and day, whatever the volume).

use helpdesk::domain::reports::count_change;
use helpdesk::domain::reports::counts::tally;
use helpdesk::domain::reports::records::{Rating, StatEvent, StatKind};
use helpdesk::items::request_key;
use helpdesk::model::{Record, Request, RequestStatus};
use helpdesk_tests::Harness;
use serde_json::json;
use std::time::Instant;

const CHANGES: usize = 50;
const DAY: i64 = 86_400;

async fn stored(h: &Harness, key: &str) -> Request {
    match h.app.store.get(&request_key(key)).await.unwrap() {
        Some(Record::Request(r)) => r,
        other => panic!("{key}: {other:?}"),
    }
}

pub async fn report_costs(h: &Harness, admin: &str) {
    let made = h.call("POST", "/projects", Some(admin), Some(json!({"key": "REP", "name": "Reports"}))).await;
    assert_eq!(made.status, 201, "{made:?}");
    let customer = h.sign_in(&h.email("rep-customer")).await;
    println!("\nReports: counting a change (the automations function; {CHANGES} changes each):");
    println!("{:<52} {:>11} {:>10} {:>10} {:>9}", "change", "round trips", "read units", "tx WCU", "ms");
    let mut keys = vec![];
    for n in 0..CHANGES {
        let made =
            h.call("POST", "/projects/REP/requests", Some(&customer), Some(json!({"summary": format!("r{n}")}))).await;
        keys.push(made.body["key"].as_str().unwrap().to_string());
    }
    let row = |name: &str, ms: f64, counted: usize, expected: usize| {
        assert_eq!(counted, expected, "{name}");
        let m = h.store.take_metrics();
        let per = |x: f64| x / CHANGES as f64;
        println!(
            "{:<52} {:>11.2} {:>10.2} {:>10.2} {:>9.2}",
            name,
            per(m.round_trips as f64),
            per(m.read_units),
            per(m.transaction_units),
            per(ms)
        );
    };
    let mut created = vec![];
    for key in &keys {
        created.push(stored(h, key).await);
    }
    for (name, change) in [
        ("created (a new ledger, the day's and the totals)", None),
        ("the same change delivered again", None),
        ("open -> pending (counts nothing)", Some(RequestStatus::Pending)),
        ("closed (resolution time, backlog down)", Some(RequestStatus::Closed)),
    ] {
        let changed: Vec<Request> = created
            .iter()
            .map(|r| match change {
                Some(status) => Request { status, version: r.version + 1 + status as u64, ..r.clone() },
                None => r.clone(),
            })
            .collect();
        h.store.take_metrics();
        let started = Instant::now();
        let mut counted = 0;
        for request in &changed {
            counted += usize::from(count_change(&h.app, &request.key, Some(request), h.app.now()).await.unwrap());
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let expected = if name.starts_with("created") || name.starts_with("closed") { CHANGES } else { 0 };
        row(name, ms, counted, expected);
    }

    println!("\nReports: a 90-day report (GET /projects/{{key}}/reports?from=&to=, by day, and by week for everyone; and one agent's):");
    println!(
        "{:<44} {:>10} {:>11} {:>10} {:>8} {:>8}",
        "requests in the 90 days", "items", "round trips", "read units", "p50 ms", "p99 ms"
    );
    let today = helpdesk::text::rfc3339(h.app.now())[..10].to_string();
    let from =
        jiff::civil::Date::strptime("%Y-%m-%d", &today).unwrap().checked_sub(jiff::Span::new().days(89)).unwrap();
    for (key, requests) in [("R1K", 1_000_i64), ("R100K", 100_000)] {
        let made = h.call("POST", "/projects", Some(admin), Some(json!({"key": key, "name": key}))).await;
        assert_eq!(made.status, 201);
        let started = Instant::now();
        let events = synthetic_history(requests, h.app.now());
        let counts = tally(key, &events, &jiff::tz::TimeZone::UTC);
        let items = counts.len();
        h.app.store.put_all(counts.into_iter().map(Record::StatsCounts).collect()).await.unwrap();
        let written = started.elapsed().as_secs_f64();
        for (by, assignee) in [("day", ""), ("week", ""), ("day", "&assignee=none")] {
            let path = format!("/projects/{key}/reports?from={from}&to={today}&by={by}{assignee}");
            let measured = super::measure(h, "report", |_| {
                let path = path.clone();
                async move {
                    let answer = h.call("GET", &path, Some(admin), None).await;
                    assert_eq!(answer.status, 200, "{answer:?}");
                    assert_eq!(
                        answer.body["periods"].as_array().unwrap().len(),
                        if by == "day" { 90 } else { 14 }.min(90)
                    );
                }
            })
            .await;
            let what = format!("{requests} (by {by}{})", if assignee.is_empty() { "" } else { ", one agent" });
            println!(
                "{:<44} {:>10} {:>11.2} {:>10.2} {:>8.2} {:>8.2}",
                what, items, measured.round_trips, measured.reported, measured.p50, measured.p99
            );
        }
        if requests == 100_000 {
            println!("({items} count items for 100,000 requests over 90 days, written in {written:.1} s.)");
        }
    }
}

/// What `requests` requests spread over the 90 days before `now` make: created, answered
/// within minutes to a day, most closed within days, some reopened, some rated; a quarter
/// unassigned, the rest over 8 agents.
fn synthetic_history(requests: i64, now: i64) -> Vec<StatEvent> {
    let mut events = Vec::with_capacity(requests as usize * 7);
    for n in 0..requests {
        let created = now - 90 * DAY + (n * 90 * DAY) / requests;
        let agent = (n % 4 != 0).then(|| format!("AGENT{}", n % 8));
        let event = |at: i64, kind| StatEvent { at: at.min(now), agent: agent.clone(), kind };
        events.push(event(created, StatKind::Created));
        events.push(event(created, StatKind::Backlog(1)));
        events.push(event(created + 300 + (n * 97) % DAY, StatKind::FirstReply(300 + (n * 97) % DAY)));
        if n % 10 != 0 {
            let took = 3_600 + (n * 7_919) % (5 * DAY);
            if created + took < now {
                events.push(event(created + took, StatKind::Closed(took)));
                events.push(event(created + took, StatKind::Backlog(-1)));
                if n % 5 == 1 {
                    let rating = if n % 3 == 0 { Rating::Bad } else { Rating::Good };
                    events.push(event(created + took + 600, StatKind::Csat(rating, 1)));
                }
            }
        }
    }
    events
}
