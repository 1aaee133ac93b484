//! Service levels through HTTP on DynamoDB Local: a project's targets, and each request's
//! clocks as agents read them (customers never do). Round-the-clock hours, so due times are
//! exact whatever the time the test runs. Also the queue's orders by time: nearest due and
//! latest activity.

use helpdesk_tests::Harness;
use serde_json::{json, Value};

fn seconds(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().unwrap_or_else(|| panic!("a time: {rfc3339}"));
    helpdesk::text::parse_rfc3339(text).expect("RFC 3339")
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

/// `POST /_local/scheduler` as of a time, then the stream to the notifier: a warning, then a
/// breach, each emailed once to the agents who asked for everything (the request has no
/// assignee), even when the scheduler runs twice for the same time; a met target never
/// breaches.
#[tokio::test]
async fn the_scheduler_warns_then_reports_a_breach_each_once() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let admin_email = h.email("admin");
    let sla = json!({"timezone": "UTC", "hours": all_week(),
                     "targets": {"normal": {"first_reply": "4h"}}});
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": sla}))).await;
    let team = h.ok("GET", "/projects/HD/agents", Some(&admin), None).await.body;
    let id = team["items"][0]["id"].as_str().unwrap().to_string();
    h.ok("PUT", &format!("/projects/HD/agents/{id}"), Some(&admin), Some(json!({"notify": "all"}))).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let late = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Late"}))).await.body;
    let met = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Met"}))).await.body;
    let (late, met) = (late["key"].as_str().unwrap().to_string(), met["key"].as_str().unwrap().to_string());
    h.run_stream().await;
    let created = seconds(&h.ok("GET", &format!("/requests/{late}"), Some(&admin), None).await.body["created_at"]);
    let run = |at: i64| {
        let body = json!({"time": helpdesk::text::rfc3339(at)}).to_string();
        let h = &h;
        async move {
            let answer = h.call_raw("POST", "/_local/scheduler", None, Some(body), &[]).await;
            assert_eq!(answer.status, 200, "{answer:?}");
            answer.body
        }
    };
    let mails_before = h.raw_mail_to(&admin_email).await.len();
    let warned = run(created + 3 * 3600 + 60).await;
    assert_eq!(warned["warnings"].as_array().unwrap().len(), 2, "{warned}");
    assert!(run(created + 3 * 3600 + 60).await["warnings"].as_array().unwrap().is_empty(), "twice: nothing more");
    h.ok("POST", &format!("/requests/{met}/comments"), Some(&admin), Some(json!({"body": "On it"}))).await;
    let breached = run(created + 5 * 3600).await;
    assert_eq!(breached["breaches"], json!([{"request": late, "target": "first_reply"}]), "{breached}");
    assert!(run(created + 5 * 3600).await["breaches"].as_array().unwrap().is_empty());
    h.run_stream().await;
    h.run_stream().await;
    let mails: Vec<String> = h
        .raw_mail_to(&admin_email)
        .await
        .iter()
        .skip(mails_before)
        .map(|raw| {
            let mail = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("a message");
            format!("{}\n{}", mail.subject().unwrap_or(""), mail.body_text(0).unwrap_or_default())
        })
        .collect();
    let warnings = mails.iter().filter(|m| m.contains("three quarters")).count();
    let breaches: Vec<&String> = mails.iter().filter(|m| m.contains("is overdue")).collect();
    assert_eq!((warnings, breaches.len()), (2, 1), "{mails:#?}");
    assert!(breaches[0].contains(&late), "{}", breaches[0]);
    let read = h.ok("GET", &format!("/requests/{met}"), Some(&admin), None).await.body;
    assert!(
        read["sla"]["first_reply"]["breached_at"].is_null() && !read["sla"]["first_reply"]["met_at"].is_null(),
        "{read}"
    );
    let bad = h.call_raw("POST", "/_local/scheduler", None, Some(r#"{"time": "yesterday"}"#.into()), &[]).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_time"));
}

/// `sort=due`: the queue by nearest due time, one Query of the due index; closed requests and
/// requests without a running clock are not in it; pages go on with a cursor.
#[tokio::test]
async fn the_queue_sorts_by_nearest_due() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let sla = json!({"timezone": "UTC", "hours": all_week(),
                     "targets": {"normal": {"first_reply": "4h"}, "urgent": {"first_reply": "1h"}, "high": {"first_reply": "2h"}}});
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": sla}))).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let mut keys = vec![];
    for summary in ["normal", "urgent", "high", "low", "closed"] {
        let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": summary}))).await;
        keys.push(made.body["key"].as_str().unwrap().to_string());
    }
    for (key, priority) in [(&keys[1], "urgent"), (&keys[2], "high"), (&keys[3], "low")] {
        h.ok("PATCH", &format!("/requests/{key}"), Some(&admin), Some(json!({"priority": priority}))).await;
    }
    h.ok("POST", &format!("/requests/{}/close", keys[4]), Some(&admin), None).await;
    let first = h.ok("GET", "/projects/HD/requests?sort=due&limit=2", Some(&admin), None).await.body;
    let order = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|r| r["summary"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(order(&first), ["urgent", "high"], "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
    let next = format!("/projects/HD/requests?sort=due&limit=2&cursor={cursor}");
    let second = h.ok("GET", &next, Some(&admin), None).await.body;
    assert_eq!(order(&second), ["normal"], "low has no target, closed has no running clock");
    let urgent_only = h.ok("GET", "/projects/HD/requests?sort=due&priority=urgent", Some(&admin), None).await.body;
    assert_eq!(order(&urgent_only), ["urgent"]);
    let refused = h.call("GET", "/projects/HD/requests?sort=due&tag=x", Some(&admin), None).await;
    assert_eq!((refused.status, refused.code()), (400, "invalid_sort"));
    let customer = h.call("GET", "/projects/HD/requests?sort=due", Some(&ann), None).await;
    assert_eq!(customer.status, 403);
}

/// `sort=activity` (the console's default order): the latest change first, an internal note
/// counting for agents and an assignment not; status, assignee and priority filter it; pages
/// go on with a cursor of its own; held, tag and organization are refused; the console's
/// queue is in that order unless "Newest" is asked for.
#[tokio::test]
async fn the_queue_sorts_by_latest_activity() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let mut keys = vec![];
    for summary in ["first", "second", "third", "fourth"] {
        let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": summary}))).await;
        keys.push(made.body["key"].as_str().unwrap().to_string());
    }
    // Customers see the priority: set in the second the requests were raised.
    h.ok("PATCH", &format!("/requests/{}", keys[2]), Some(&admin), Some(json!({"priority": "high"}))).await;
    // Activity is kept to the second: each change comes in a later one.
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(1100));
    tick().await;
    let note = json!({"body": "Called them", "internal": true});
    h.ok("POST", &format!("/requests/{}/comments", keys[0]), Some(&admin), Some(note)).await;
    tick().await;
    h.ok("POST", &format!("/requests/{}/comments", keys[1]), Some(&ann), Some(json!({"body": "Any news?"}))).await;
    let assign = json!({"assignee": h.email("admin")});
    h.ok("PATCH", &format!("/requests/{}", keys[2]), Some(&admin), Some(assign)).await;
    tick().await;
    h.ok("POST", &format!("/requests/{}/close", keys[3]), Some(&admin), None).await;
    let order = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|r| r["summary"].as_str().unwrap().to_string()).collect()
    };
    let list = |query: &str| {
        let path = format!("/projects/HD/requests?sort=activity&{query}");
        let (h, admin) = (&h, &admin);
        async move { h.ok("GET", &path, Some(admin), None).await.body }
    };
    let first = list("limit=2").await;
    assert_eq!(order(&first), ["fourth", "second"], "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
    assert_eq!(order(&list(&format!("limit=2&cursor={cursor}")).await), ["first", "third"]);
    assert_eq!(order(&list("status=open").await), ["second", "first", "third"]);
    assert_eq!(order(&list("status=open&assignee=me").await), ["third"]);
    assert_eq!(order(&list("priority=high").await), ["third"]);
    assert_eq!(order(&list("status=closed").await), ["fourth"]);
    for query in ["sort=activity&status=held", "sort=activity&tag=x", &format!("sort=created&cursor={cursor}")] {
        let refused = h.call("GET", &format!("/projects/HD/requests?{query}"), Some(&admin), None).await;
        assert_eq!(refused.status, 400, "{query}");
        assert!(["invalid_sort", "invalid_cursor"].contains(&refused.code()), "{query}");
    }
    assert_eq!(h.call("GET", "/projects/HD/requests?sort=activity", Some(&ann), None).await.status, 403);
    // The console: latest activity unless "Newest" is asked for.
    let cookie = format!("hd_session={admin}");
    let rows = |text: &str| -> Vec<usize> {
        let at = |k: &String| text.find(&format!("<a href=\"/desk/requests/{k}\">")).unwrap_or(usize::MAX);
        let mut shown: Vec<usize> = (0..3).filter(|i| at(&keys[*i]) < usize::MAX).collect();
        shown.sort_by_key(|i| at(&keys[*i]));
        shown
    };
    let queue = h.page("GET", "/desk/projects/HD?status=open", &cookie, None).await;
    assert!(queue.text.contains(r#"aria-current="page">Latest activity</a>"#), "{}", queue.text);
    assert_eq!(rows(&queue.text), [1, 0, 2]);
    let newest = h.page("GET", "/desk/projects/HD?status=open&sort=created", &cookie, None).await;
    assert!(newest.text.contains(r#"aria-current="page">Newest</a>"#));
    assert_eq!(rows(&newest.text), [2, 1, 0]);
    // A tag filter has no order by activity: newest first, and the page says so.
    let tagged = h.page("GET", "/desk/projects/HD?status=open&tag=x", &cookie, None).await;
    assert_eq!(tagged.status, 200, "{}", tagged.text);
    assert!(tagged.text.contains(r#"aria-current="page">Newest</a>"#));
    // Addresses no order fits read as the nearest one that does, never an error page.
    for (query, order) in [
        ("status=closed&sort=due", "Latest activity"),
        ("status=held&sort=due&tag=x&assignee=me", ""),
        ("status=open&sort=due&tag=x", "Newest"),
        ("status=open&sort=sideways", "Latest activity"),
    ] {
        let page = h.page("GET", &format!("/desk/projects/HD?{query}"), &cookie, None).await;
        assert_eq!(page.status, 200, "{query}: {}", page.text);
        let current = format!(r#"aria-current="page">{order}</a>"#);
        assert!(order.is_empty() || page.text.contains(&current), "{query}: {}", page.text);
    }
}

/// The console shows the clocks: a due badge in the queue (and the nearest-due order), and
/// the request's clocks on its page; the customer's portal shows none of it.
#[tokio::test]
async fn the_console_shows_due_badges_and_the_requests_clocks() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let sla = json!({"timezone": "UTC", "hours": all_week(), "targets": {"normal": {"first_reply": "4h", "resolution": "40h"}}});
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"sla": sla}))).await;
    let ann = h.sign_in(&h.email("ann")).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer"}))).await.body;
    let key = made["key"].as_str().unwrap().to_string();
    let cookie = format!("hd_session={admin}");
    let queue = h.page("GET", "/desk/projects/HD?status=open&sort=due", &cookie, None).await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    // Read in the second it was raised, or the next: 4 h left, or 3 h and some minutes.
    let due_in = |text: &str, hours: [&str; 2]| hours.iter().any(|h| text.contains(&format!("due in {h} h")));
    assert!(queue.text.contains(r#"<span class="badge" title="#) && due_in(&queue.text, ["4", "3"]), "{}", queue.text);
    assert!(queue.text.contains(r#"aria-current="page">Nearest due</a>"#));
    let page = h.page("GET", &format!("/desk/requests/{key}"), &cookie, None).await;
    assert!(page.text.contains("<dt>First reply</dt><dd>due in "), "{}", page.text);
    assert!(due_in(&page.text, ["4", "3"]) && due_in(&page.text, ["40", "39"]), "{}", page.text);
    let portal = h.page("GET", &format!("/portal/requests/{key}"), &format!("hd_session={ann}"), None).await;
    assert_eq!(portal.status, 200);
    assert!(!portal.text.contains("due in") && !portal.text.contains("First reply"), "{}", portal.text);
}

/// The settings page's service-level form: the same settings as the API, refused in place
/// with the typed values kept, then saved and shown back; off again with one box.
#[tokio::test]
async fn the_settings_page_sets_service_levels() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let cookie = format!("hd_session={admin}");
    let page = h.page("GET", "/desk/projects/HD/settings", &cookie, None).await;
    assert!(page.text.contains("Service levels") && page.text.contains(r#"name="mon.open""#), "{}", page.text);
    let csrf = page.csrf();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("sla_on", "true"),
        ("timezone", "Europe/Atlantis"),
        ("mon.open", "09:00"),
        ("mon.close", "17:00"),
        ("fri.open", "09:00"),
        ("fri.close", "13:00"),
        ("holidays", "2026-12-25\n2026-12-26"),
        ("urgent.first_reply", "30m"),
        ("normal.resolution", "16h"),
    ];
    let refused = h.page("POST", "/desk/projects/HD/sla", &cookie, Some(&form)).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("IANA time zone") && refused.text.contains(r#"value="Europe/Atlantis""#));
    form[2] = ("timezone", "Europe/Berlin");
    let saved = h.page("POST", "/desk/projects/HD/sla", &cookie, Some(&form)).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let project = h.ok("GET", "/projects/HD", Some(&admin), None).await.body;
    assert_eq!(project["sla"]["timezone"], "Europe/Berlin");
    assert_eq!(project["sla"]["hours"], json!({"mon": ["09:00", "17:00"], "fri": ["09:00", "13:00"]}));
    assert_eq!(project["sla"]["holidays"], json!(["2026-12-25", "2026-12-26"]));
    assert_eq!(project["sla"]["targets"], json!({"urgent": {"first_reply": "30m"}, "normal": {"resolution": "16h"}}));
    let shown = h.page("GET", "/desk/projects/HD/settings", &cookie, None).await;
    assert!(
        shown.text.contains(
            r#"name="fri.close" type="text" inputmode="numeric" maxlength="5" placeholder="17:00" value="13:00""#
        ),
        "{}",
        shown.text
    );
    let off = h.page("POST", "/desk/projects/HD/sla", &cookie, Some(&[("csrf", csrf.as_str())])).await;
    assert_eq!(off.status, 303);
    assert!(h.ok("GET", "/projects/HD", Some(&admin), None).await.body["sla"].is_null());
}
