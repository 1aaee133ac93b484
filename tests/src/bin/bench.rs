//! The benchmark (not a test): cost and speed per operation, zip sizes and init times.
//! Run by `scripts/bench.sh`, which starts DynamoDB Local and moto and builds the binaries.

use helpdesk::items::dynamo::key_item;
use helpdesk::items::project_key;
use helpdesk_tests::Harness;
use serde_json::json;
use std::time::Instant;

#[path = "bench_parts/automations.rs"]
mod automations;
#[path = "bench_parts/cold_starts.rs"]
mod cold_starts;
#[path = "bench_parts/merges.rs"]
mod merges;
#[path = "bench_parts/reports.rs"]
mod reports;
#[path = "bench_parts/scheduler.rs"]
mod scheduler;
#[path = "bench_parts/search.rs"]
mod search;

const ITERATIONS: usize = 200;
const WARMUP: usize = 20;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

struct Row {
    name: &'static str,
    round_trips: f64,
    reported: f64,
    by_aws_rules: f64,
    p50: f64,
    p99: f64,
    /// Mean time per call outside DynamoDB: gateway, handler, loopback HTTP.
    overhead: f64,
}

/// Times `op` ITERATIONS times (after a warm-up) and averages the store's counters per call.
async fn measure<F, Fut>(h: &Harness, name: &'static str, mut op: F) -> Row
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..WARMUP {
        op(i).await;
    }
    h.store.take_metrics();
    let mut times = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS {
        let started = Instant::now();
        op(WARMUP + i).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let m = h.store.take_metrics();
    let n = ITERATIONS as f64;
    let overhead = (times.iter().sum::<f64>() - m.busy.as_secs_f64() * 1000.0) / n;
    times.sort_by(f64::total_cmp);
    // Reads are reported correctly by DynamoDB Local; transactions are not, so writes are
    // counted by AWS's rules (see Metrics::transaction_units).
    Row {
        name,
        round_trips: m.round_trips as f64 / n,
        reported: m.reported_units / n,
        by_aws_rules: m.transaction_units / n,
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        overhead,
    }
}

#[tokio::main]
async fn main() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("BENCH").await;
    let customer = h.sign_in(&h.email("customer")).await;
    let colleagues: Vec<String> = (1..=3).map(|i| h.email(&format!("colleague{i}"))).collect();
    let mut colleague_tokens = vec![];
    for c in &colleagues {
        colleague_tokens.push(h.sign_in(c).await);
    }
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, token: &str, body: Option<serde_json::Value>| {
        let mut req = http.request(method, format!("{}{path}", h.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let res = req.send().await.expect("gateway answers");
            assert!(res.status().is_success(), "{}", res.status());
            let _ = res.bytes().await;
        }
    };
    // A page as a browser gets it: the session in the cookie, HTML back.
    let page = |path: String, cookie: Option<String>| {
        let mut req = http.get(format!("{}{path}", h.base)).header("accept", "text/html");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move {
            let res = req.send().await.expect("gateway answers");
            assert_eq!(res.status().as_u16(), 200, "{path}");
            let _ = res.bytes().await;
        }
    };
    let customer_cookie = format!("hd_session={customer}");
    use reqwest::Method;
    let raw = h.store.client().clone();
    let table = h.table.clone();
    let mut rows = vec![];
    rows.push(
        measure(&h, "raw DynamoDB Local GetItem", |_| {
            let get = raw.get_item().table_name(&table).set_key(Some(key_item(&project_key("BENCH"))));
            async move {
                get.send().await.expect("GetItem");
            }
        })
        .await,
    );
    // Made with the SDK directly, outside the store's counters.
    rows[0].round_trips = 1.0;
    rows[0].overhead = 0.0;
    rows.push(
        measure(&h, "create request", |i| {
            call(
                Method::POST,
                "/projects/BENCH/requests".into(),
                &customer,
                Some(json!({"summary": format!("bench {i}")})),
            )
        })
        .await,
    );
    rows.push(
        measure(&h, "get request", |i| call(Method::GET, format!("/requests/BENCH-{}", i % 100 + 1), &customer, None))
            .await,
    );
    rows.push(
        measure(&h, "page: request", |i| {
            page(format!("/portal/requests/BENCH-{}", i % 100 + 1), Some(customer_cookie.clone()))
        })
        .await,
    );
    rows.push(measure(&h, "list own (25)", |_| call(Method::GET, "/requests?limit=25".into(), &customer, None)).await);
    rows.push(measure(&h, "page: portal list (25)", |_| page("/portal".into(), Some(customer_cookie.clone()))).await);
    let minted: serde_json::Value = http
        .post(format!("{}/requests/BENCH-1/public-links", h.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("mint")
        .json()
        .await
        .expect("JSON");
    let link = minted["items"][0]["url"].as_str().expect("a link").strip_prefix(&h.base).expect("ours").to_string();
    rows.push(measure(&h, "page: public link", |_| page(link.clone(), None)).await);
    rows.push(
        measure(&h, "agent queue (25)", |_| {
            call(Method::GET, "/projects/BENCH/requests?limit=25".into(), &admin, None)
        })
        .await,
    );
    // The team's queues: an agent owns every third request, some are urgent.
    let agent_email = h.email("agent");
    call(Method::POST, "/projects/BENCH/agents".into(), &admin, Some(json!({"email": agent_email, "role": "agent"})))
        .await;
    for n in 1..=100 {
        let (owner, priority) = match n % 3 {
            0 => (json!(agent_email), "urgent"),
            1 => (json!(null), "high"),
            _ => (json!(h.email("admin")), "normal"),
        };
        let body = json!({"assignee": owner, "priority": priority});
        call(Method::PATCH, format!("/requests/BENCH-{n}"), &admin, Some(body)).await;
    }
    rows.push(
        measure(&h, "queue: Mine, open (25)", |_| {
            call(Method::GET, "/projects/BENCH/requests?assignee=me&status=open&limit=25".into(), &admin, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "queue: Unassigned, open (25)", |_| {
            call(Method::GET, "/projects/BENCH/requests?assignee=none&status=open&limit=25".into(), &admin, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "queue: open, urgent (25)", |_| {
            call(Method::GET, "/projects/BENCH/requests?status=open&priority=urgent&limit=25".into(), &admin, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "PATCH assignee + priority", |i| {
            let body = json!({"assignee": if i % 2 == 0 { json!("me") } else { json!(null) }, "priority": "high"});
            call(Method::PATCH, format!("/requests/BENCH-{}", i % 100 + 1), &admin, Some(body))
        })
        .await,
    );
    let admin_cookie = format!("hd_session={admin}");
    rows.push(
        measure(&h, "page: desk queue (25)", |_| {
            page("/desk/projects/BENCH?status=all".into(), Some(admin_cookie.clone()))
        })
        .await,
    );
    rows.push(
        measure(&h, "agent get request", |i| {
            call(Method::GET, format!("/requests/BENCH-{}", i % 100 + 1), &admin, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "page: desk request", |i| {
            page(format!("/desk/requests/BENCH-{}", i % 100 + 1), Some(admin_cookie.clone()))
        })
        .await,
    );
    rows.push(
        measure(&h, "share with 3 addresses", |i| {
            let path = format!("/requests/BENCH-{}/participants", i + 1);
            call(Method::POST, path, &customer, Some(json!({"emails": colleagues})))
        })
        .await,
    );
    let colleague = &colleague_tokens[0];
    rows.push(
        measure(&h, "list participating (25)", |_| {
            call(Method::GET, "/requests?view=participating&limit=25".into(), colleague, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "list all, participant (25)", |_| {
            call(Method::GET, "/requests?view=all&limit=25".into(), colleague, None)
        })
        .await,
    );
    // A customer in 3 organizations of a project that shares with them, 30 requests each.
    let admin_call = |method: Method, path: String, body: serde_json::Value| call(method, path, &admin, Some(body));
    admin_call(Method::PATCH, "/projects/BENCH".into(), json!({"org_sharing": true})).await;
    let org_member = &colleague_tokens[1];
    for o in 0..3 {
        let org: serde_json::Value = http
            .post(format!("{}/projects/BENCH/organizations", h.base))
            .bearer_auth(&admin)
            .json(&json!({"name": format!("Org {o}")}))
            .send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("JSON");
        let id = org["id"].as_str().expect("organization id").to_string();
        admin_call(Method::POST, format!("/organizations/{id}/members"), json!({"email": colleagues[1]})).await;
        for r in 0..30 {
            let key = format!("BENCH-{}", 100 + o * 30 + r);
            admin_call(Method::PUT, format!("/requests/{key}/organization"), json!({"organization_id": id})).await;
        }
    }
    rows.push(
        measure(&h, "list all, 3 orgs (25)", |_| {
            call(Method::GET, "/requests?view=all&limit=25".into(), org_member, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "reply", |i| {
            call(
                Method::POST,
                format!("/requests/BENCH-{}/comments", i % 100 + 1),
                &customer,
                Some(json!({"body": "bench reply"})),
            )
        })
        .await,
    );

    rows.push(
        measure(&h, "apply macro (3 actions)", |i| {
            let path = format!("/requests/BENCH-{}/macros/incorrect-form-used", i % 100 + 1);
            call(Method::POST, path, &admin, None)
        })
        .await,
    );
    rows.push(
        measure(&h, "queue by tag (25)", |_| {
            call(Method::GET, "/projects/BENCH/requests?tag=incorrect-form&limit=25".into(), &admin, None)
        })
        .await,
    );
    // Email: a new request from a first-time sender (account, request, Message-ID), and a
    // reply that threads by In-Reply-To; the notifier on one public reply to
    // BENCH-1's reporter and its three participants (limit raised so none is rate-limited).
    let support = "bench@desk.test";
    let harness = &h;
    rows.push(
        measure(&h, "mail in: new request", |i| {
            let raw = format!(
                "From: {}\r\nTo: {support}\r\nSubject: Mail {i}\r\nMessage-ID: <bench-{i}@client>\r\n\r\nHello\r\n",
                h.email(&format!("mailer{i}"))
            );
            async move {
                let answer = harness.inbound_email(raw, "").await;
                assert_eq!(answer.body["outcome"], "created", "{answer:?}");
            }
        })
        .await,
    );
    rows.push(
        measure(&h, "mail in: reply (In-Reply-To)", |i| {
            let raw = format!(
                "From: {}\r\nTo: {support}\r\nSubject: Re\r\nMessage-ID: <bench-reply-{i}@client>\r\nIn-Reply-To: <bench-{i}@client>\r\n\r\nMore\r\n",
                h.email(&format!("mailer{i}"))
            );
            async move {
                let answer = harness.inbound_email(raw, "").await;
                assert_eq!(answer.body["outcome"], "appended", "{answer:?}");
            }
        })
        .await,
    );
    admin_call(Method::PATCH, "/projects/BENCH".into(), json!({"notify_per_hour": 1000})).await;
    let agent_id = h.app.store.get(&helpdesk::items::email_key(h.email("admin"))).await.ok().flatten();
    let agent_id = match agent_id {
        Some(helpdesk::model::Record::EmailOwner(o)) => o.user_id,
        _ => panic!("the bench admin has an account"),
    };
    rows.push(
        measure(&h, "notify: reply, 4 recipients", |i| {
            let comment = helpdesk::model::Comment {
                request_key: "BENCH-1".into(),
                id: ulid::Ulid::new().to_string(),
                author_id: agent_id.clone(),
                author_email: helpdesk::model::EmailAddress::stored("admin@bench"),
                body: format!("Answer {i}"),
                internal: false,
                created_at: 0,
                author_role: Some(helpdesk::model::AuthorRole::Team),
                author_name: None,
                merged_from: None,
            };
            let app = h.app.clone();
            async move {
                let event = helpdesk::domain::notify::Event::Commented(comment);
                let sent = helpdesk::domain::notify::notify(&app, &event).await.expect("notified");
                assert!(!sent.is_empty());
            }
        })
        .await,
    );

    println!("Per operation ({ITERATIONS} calls each after {WARMUP} warm-up, through the local gateway on loopback):");
    println!(
        "{:<28} {:>11} {:>12} {:>13} {:>8} {:>8} {:>15} {:>12}",
        "operation", "round trips", "units (DDB)", "tx WCU (AWS)", "p50 ms", "p99 ms", "p50 - RT x raw", "overhead ms"
    );
    let raw_p50 = rows[0].p50;
    for r in &rows {
        println!(
            "{:<28} {:>11.2} {:>12.2} {:>13.2} {:>8.2} {:>8.2} {:>15.2} {:>12.2}",
            r.name,
            r.round_trips,
            r.reported,
            r.by_aws_rules,
            r.p50,
            r.p99,
            r.p50 - r.round_trips * raw_p50,
            r.overhead
        );
    }
    println!(
        "units (DDB): capacity units DynamoDB Local reported. Reads match AWS; transactions do not (a known bug)."
    );
    println!(
        "tx WCU (AWS): transaction writes by AWS's rules: 2 WCU per KB per item, plus 1 WCU per KB per GSI it is in."
    );
    println!(
        "p50 - RT x raw: p50 minus that many raw GetItems (a transaction is slower than a GetItem in DynamoDB Local)."
    );
    println!("overhead ms: mean time per call not spent waiting on DynamoDB: gateway, handler, JSON, loopback HTTP.");

    scheduler::scheduler_costs(&h, &admin).await;
    automations::automation_costs(&h, &admin).await;
    reports::report_costs(&h, &admin).await;
    search::search_costs(&h, &admin).await;
    merges::merge_and_upload_costs(&h, &admin).await;

    // A ticket's whole life, 50 times over, priced per 1,000 tickets.
    let customers = vec![customer.clone(), colleague_tokens[0].clone(), colleague_tokens[1].clone()];
    let usage = helpdesk_tests::cost::play(&h, "BENCH", &admin, &customers, 50).await;
    let template = helpdesk_tools::template::load();
    println!(
        "\nCost of 1,000 tickets (each: one create, five replies (three by an agent), ten reads, one close; \
         the automations and the notifier on each stream record; measured on {} tickets here, durations as measured \
         through the local gateway, us-east-1 list prices):",
        usage.tickets
    );
    print!("{}", usage.table(|f| helpdesk_tools::template::memory_mb(&template, f) as f64));

    // One suspension of a user with 500 requests (and 3 sessions): a single call, measured whole.
    let spammer_email = h.email("spammer");
    let mut spammer = String::new();
    for _ in 0..3 {
        spammer = h.sign_in(&spammer_email).await;
    }
    for i in 0..500 {
        call(Method::POST, "/projects/BENCH/requests".into(), &spammer, Some(json!({"summary": format!("spam {i}")})))
            .await;
    }
    let me: serde_json::Value =
        http.get(format!("{}/me", h.base)).bearer_auth(&spammer).send().await.expect("me").json().await.expect("JSON");
    let spammer_id = me["id"].as_str().expect("user id").to_string();
    h.store.take_metrics();
    let started = Instant::now();
    let suspended: serde_json::Value = http
        .post(format!("{}/users/{spammer_id}/suspend", h.base))
        .bearer_auth(&admin)
        .json(&json!({"reason": "bench"}))
        .send()
        .await
        .expect("suspend")
        .json()
        .await
        .expect("JSON");
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let m = h.store.take_metrics();
    println!(
        "\nSuspend a user with 500 requests and 3 sessions: {} closed, {} sessions ended, {} round trips, {:.1} capacity units reported (reads), {:.1} tx WCU by AWS rules, {:.0} ms",
        suspended["requests_closed"].as_array().map(Vec::len).unwrap_or(0),
        suspended["sessions_ended"],
        m.round_trips,
        m.reported_units,
        m.transaction_units,
        elapsed
    );

    cold_starts::zips_and_cold_starts(&h, &raw, rows[0].p50).await;
}
