//! What the service-level scheduler costs a run, and a month at rest.

use helpdesk_tests::Harness;
use std::time::Instant;

/// The scheduler's cost per run with 0, 100 and 10,000 open requests on a clock (written
/// straight to the table with their alarms), at a time nothing is due, and with 100 due; and
/// what its 5-minute trigger costs a month at rest.
pub async fn scheduler_costs(h: &Harness, admin: &str) {
    use helpdesk::domain::sla::{self, scheduler};
    use helpdesk::model::Record;
    let day = serde_json::json!(["00:00", "24:00"]);
    let hours = serde_json::json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day});
    // The first 100 requests on a 1-hour target; the rest on a 100-hour one (not due here).
    let targets = serde_json::json!({"normal": {"first_reply": "1h"}, "low": {"first_reply": "100h"}});
    let settings = serde_json::json!({"timezone": "UTC", "hours": hours, "targets": targets});
    let created =
        h.call("POST", "/projects", Some(admin), Some(serde_json::json!({"key": "SLA", "name": "Clocks"}))).await;
    assert_eq!(created.status, 201, "{created:?}");
    let patched = h.call("PATCH", "/projects/SLA", Some(admin), Some(serde_json::json!({"sla": settings}))).await;
    assert_eq!(patched.status, 200, "{patched:?}");
    let Some(Record::Project(project)) = h.app.store.get(&helpdesk::items::project_key("SLA")).await.unwrap() else {
        panic!("the SLA project")
    };
    let policy = project.settings.sla.clone();
    let start = h.app.now();
    // Written as the API writes them: the request with its clocks, and its alarm.
    let write_requests = |from: usize, to: usize| {
        let mut records = vec![];
        for n in from..to {
            let mut request = helpdesk::requests::open_request(&format!("SLA-{}", n + 1), "bench", start);
            request.summary = format!("open {n}");
            request.reporter_email = helpdesk::model::EmailAddress::stored("bench@example.com");
            if n >= 100 {
                request.priority = helpdesk::model::Priority::Low;
            }
            sla::advance(None, &mut request, policy.as_ref(), start);
            let alarm = request.sla.as_ref().and_then(|s| s.alarm_at).expect("an alarm");
            records.push(Record::SlaAlarm(helpdesk::model::SlaAlarm { request_key: request.key.clone(), at: alarm }));
            records.push(Record::Request(request));
        }
        records
    };
    let measured = |at: i64| async move {
        h.store.take_metrics();
        let started = Instant::now();
        let run = scheduler::run(&h.app, at).await.expect("a run");
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let m = h.store.take_metrics();
        (run, m, ms)
    };
    println!("\nScheduler per run (100 requests on a 1-hour first-reply target, the rest on 100 hours):");
    println!("{:<44} {:>11} {:>10} {:>10} {:>9}", "run", "round trips", "read units", "tx WCU", "ms");
    // The cursor is made on the first run; then each run reads its hour.
    measured(start).await;
    let mut quiet_ms = 0.0;
    let mut written = 0;
    for open in [0usize, 100, 10_000] {
        for chunk in write_requests(written, open).chunks(25) {
            h.app.store.put_all(chunk.to_vec()).await.expect("written");
        }
        written = open;
        let (run, m, ms) = measured(start + 60).await;
        assert_eq!(run.alarms, 0, "nothing due a minute in");
        println!(
            "{:<44} {:>11} {:>10.1} {:>10.1} {:>9.1}",
            format!("{open} open, nothing due"),
            m.round_trips,
            m.read_units,
            m.transaction_units,
            ms
        );
        quiet_ms = ms;
    }
    // 50 minutes in, the 100 on a 1-hour target are three quarters run: 100 warnings.
    let (run, m, ms) = measured(start + 50 * 60).await;
    assert_eq!(run.warnings.len(), 100, "{run:?}");
    println!(
        "{:<44} {:>11} {:>10.1} {:>10.1} {:>9.1}",
        format!("{} open, {} warnings due", written, run.warnings.len()),
        m.round_trips,
        m.read_units,
        m.transaction_units,
        ms
    );
    let per_request = |x: f64| x / run.warnings.len().max(1) as f64;
    println!(
        "  per warning: {:.2} round trips, {:.2} read units, {:.2} tx WCU, {:.2} ms",
        per_request(m.round_trips as f64),
        per_request(m.read_units),
        per_request(m.transaction_units),
        per_request(ms)
    );
    // At rest: every 5 minutes, a GetItem of the cursor and one Query of the hour (0.5 read
    // units each, eventually consistent 0.5 at most), 128 MB for the measured time.
    let runs = 30.0 * 24.0 * 12.0;
    let lambda = runs * helpdesk_tests::cost::LAMBDA_PER_MILLION / 1e6
        + runs * (quiet_ms / 1000.0) * 0.125 * helpdesk_tests::cost::LAMBDA_PER_GB_SECOND;
    // Plus, once an hour, the GetItem of the projects with time rules (none: nothing more).
    let reads = (runs * 2.0 + 30.0 * 24.0) * helpdesk_tests::cost::READ_UNIT_PER_MILLION / 1e6;
    let cursor = 30.0 * 24.0 * helpdesk_tests::cost::WRITE_UNIT_PER_MILLION / 1e6;
    println!(
        "At rest, rate(5 minutes): {runs:.0} runs a month: Lambda ${lambda:.4}, reads ${reads:.4}, cursor writes ${cursor:.4}: ${:.4} a month",
        lambda + reads + cursor
    );
}
