//! Service levels through HTTP on DynamoDB Local: a project's targets, and each request's
//! clocks as agents read them (customers never do). Round-the-clock hours, so due times are
//! exact whatever the time the test runs.

use helpdesk_tests::Harness;
use serde_json::{json, Value};

fn seconds(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().unwrap_or_else(|| panic!("a time: {rfc3339}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp()
}

fn all_week() -> Value {
    let day = json!(["00:00", "24:00"]);
    json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day})
}

#[tokio::test]
async fn clocks_follow_the_request_and_only_agents_see_them() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let bad = json!({"sla": {"timezone": "Mars/Olympus", "hours": all_week()}});
    let refused = h.call("PATCH", "/projects/HD", Some(&admin), Some(bad)).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_sla"), "{refused:?}");
    let sla = json!({"timezone": "Europe/Berlin", "hours": all_week(), "holidays": [],
                     "targets": {"normal": {"first_reply": "4h", "next_reply": "8h", "resolution": "40h"},
                                 "urgent": {"first_reply": "1h", "resolution": "4h"}}});
    let set = h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": sla}))).await;
    assert_eq!(set.body["sla"]["targets"]["normal"]["first_reply"], "4h");

    let ann = h.sign_in(&h.email("ann")).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer"}))).await.body;
    let key = made["key"].as_str().unwrap().to_string();
    assert!(made.get("sla").is_none(), "customers never see the clock: {made}");
    let path = format!("/requests/{key}");
    let read = h.ok("GET", &path, Some(&admin), None).await.body;
    let created = seconds(&read["created_at"]);
    assert_eq!(seconds(&read["sla"]["first_reply"]["due_at"]), created + 4 * 3600, "{read}");
    assert_eq!(seconds(&read["sla"]["resolution"]["due_at"]), created + 40 * 3600);
    assert!(read["sla"]["next_reply"].is_null());
    let theirs = h.ok("GET", &path, Some(&ann), None).await.body;
    assert!(theirs.get("sla").is_none(), "{theirs}");

    // A priority change moves the due times; pending stops the resolution clock.
    let urgent = h.ok("PATCH", &path, Some(&admin), Some(json!({"priority": "urgent"}))).await.body;
    assert_eq!(seconds(&urgent["sla"]["first_reply"]["due_at"]), created + 3600, "{urgent}");
    let pending = h.ok("PATCH", &path, Some(&admin), Some(json!({"status": "pending"}))).await.body;
    assert_eq!(pending["sla"]["resolution"]["paused"], true, "{pending}");
    assert!(pending["sla"]["resolution"]["due_at"].is_null());
    assert!(!pending["sla"]["first_reply"]["due_at"].is_null(), "pending does not pause the first reply");

    // The team's public reply meets the first reply in time.
    h.ok("POST", &format!("{path}/comments"), Some(&admin), Some(json!({"body": "On it"}))).await;
    let replied = h.ok("GET", &path, Some(&admin), None).await.body;
    let first = &replied["sla"]["first_reply"];
    assert!(!first["met_at"].is_null() && first["breached_at"].is_null() && first["due_at"].is_null(), "{first}");
    // The customer answers: open again, a next-reply clock (urgent has none) and resolution runs.
    h.ok("POST", &format!("{path}/comments"), Some(&ann), Some(json!({"body": "Thanks, still broken"}))).await;
    let asked = h.ok("GET", &path, Some(&admin), None).await.body;
    assert_eq!(asked["status"], "open");
    assert!(asked["sla"]["next_reply"].is_null(), "urgent has no next-reply target: {asked}");
    assert!(!asked["sla"]["resolution"]["due_at"].is_null(), "{asked}");
    let closed = h.ok("POST", &format!("{path}/close"), Some(&admin), None).await.body;
    assert!(!closed["sla"]["resolution"]["met_at"].is_null(), "{closed}");

    // Turned off: new requests have no clocks.
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": null}))).await;
    let plain = h.ok("POST", "/projects/HD/requests", Some(&admin), Some(json!({"summary": "Later"}))).await.body;
    assert!(plain["sla"].is_null(), "{plain}");
}
