//! The benchmark (not a test): cost and speed per operation, zip sizes and init times.
//! Run by `scripts/bench.sh`, which starts DynamoDB Local and moto and builds the binaries.

use helpdesk::items::dynamo::key_item;
use helpdesk::items::project_key;
use helpdesk_tests::events::filled;
use helpdesk_tests::runtime::Function;
use helpdesk_tests::Harness;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[path = "bench_parts/automations.rs"]
mod automations;
#[path = "bench_parts/merges.rs"]
mod merges;
#[path = "bench_parts/reports.rs"]
mod reports;
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

/// A cold start of `path` through the test Runtime API: (init ms, init + first answer ms,
/// peak memory in MiB after `event` 25 more times, the init steps the function logged).
async fn cold_start(
    path: &std::path::Path,
    name: &str,
    env: &[(String, String)],
    event: &str,
) -> (f64, f64, f64, String) {
    let started = Instant::now();
    let mut function = Function::start_binary(path, name, env).await;
    function.invoke(event).await;
    let first = started.elapsed().as_secs_f64() * 1000.0;
    let init = function.first_poll().map(|t| (t - started).as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    for _ in 0..25 {
        function.invoke(event).await;
    }
    let steps = init_steps(&function.logs(), init);
    (init, first, function.peak_memory_kib().unwrap_or(0) as f64 / 1024.0, steps)
}

/// The `init` line's steps (ms), led by the time before `main` logged it (process start,
/// loading, the runtime): `init` minus the steps' total.
fn init_steps(logs: &str, init: f64) -> String {
    let line =
        logs.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find(|l| l["message"] == "init");
    match line {
        Some(l) => format!(
            "before_main={:.2} {}",
            init - l["total_ms"].as_f64().unwrap_or(0.0),
            l["steps_ms"].as_str().unwrap_or_default()
        ),
        None => "-".into(),
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

    scheduler_costs(&h, &admin).await;
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

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    println!("\nLambda zips (cargo lambda build --release --arm64):");
    let mut functions = helpdesk_tools::template::binaries(&helpdesk_tools::template::load());
    functions.push("hello-lambda".into());
    for name in &functions {
        let zip = root.join(format!("target/lambda/{name}/bootstrap.zip"));
        match std::fs::metadata(&zip) {
            Ok(m) => println!("  {name:<14} {:>9} bytes ({:.2} MB)", m.len(), m.len() as f64 / 1_048_576.0),
            Err(_) => println!("  {name:<14} not built (run scripts/build.sh)"),
        }
    }
    // An empty table of its own: DynamoDB Local's DescribeTable (the init's warm-up call) slows
    // with the items the runs above wrote, which DynamoDB itself does not.
    let init_table = format!("{}_init", h.table);
    helpdesk_tools::local::ensure_table(&raw, &init_table).await.expect("init table");
    let profile_dir = std::env::var("BENCH_BIN_DIR").unwrap_or_else(|_| "target/bench-local".into());
    // Each function's first event: one that reaches DynamoDB (or S3) before it answers.
    let first_events = [
        ("auth", "me"),
        ("intake", "get-request"),
        ("sharing", "share"),
        ("organizations", "visibility"),
        ("moderation", "suspend"),
        ("web", "portal-page"),
        ("inbound", "ses-receipt"),
        ("notifier", "stream-comments"),
        ("automations", "stream-comments"),
        ("webhooks", "webhook-delivery"),
        ("scheduler", "scheduled"),
        ("indexer", "index-requests"),
        ("hello-lambda", "me"),
    ];
    println!(
        "\nCold start through a Runtime API on loopback (median of 5, native {profile_dir} build): init is process \
         start to the first poll (SDK clients made, connections warmed); first answer adds one event that reads \
         DynamoDB (or S3); peak is the process's VmHWM after 25 more events:"
    );
    println!(
        "  {:<14} {:>9} {:>16} {:>10} {:>12}   init steps (ms, of the median run)",
        "function", "init ms", "first answer ms", "peak MiB", "MemorySize"
    );
    let mut hello_first = 0.0;
    for (name, event) in first_events {
        let mut env = h.function_env(if name == "hello-lambda" { "auth" } else { name });
        env.retain(|(k, _)| k != "TABLE_NAME");
        env.push(("TABLE_NAME".into(), init_table.clone()));
        let path = root.join(&profile_dir).join(name);
        if !path.exists() {
            println!("  {name:<14} not measured (run scripts/bench.sh to build it)");
            continue;
        }
        // The indexer's first event names a request (not there: its document is deleted, a
        // commit all the same).
        let event = filled(event, &[("__REQUEST__", "INIT-1")]);
        let mut samples = vec![];
        for _ in 0..5 {
            samples.push(cold_start(&path, name, &env, &event).await);
        }
        samples.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (init, first, peak, steps) = samples.swap_remove(samples.len() / 2);
        let memory = if name == "hello-lambda" {
            hello_first = first;
            "-".to_string()
        } else {
            format!("{} MB", helpdesk_tools::template::memory_mb(&template, name))
        };
        println!("  {name:<14} {init:>9.1} {first:>16.1} {peak:>10.1} {memory:>12}   {steps}");
    }
    println!(
        "  floor: hello-world's first answer plus one raw GetItem (p50 above) = {:.1} ms",
        hello_first + rows[0].p50
    );
    let _ = raw.delete_table().table_name(&init_table).send().await;
}

/// The scheduler's cost per run with 0, 100 and 10,000 open requests on a clock (written
/// straight to the table with their alarms), at a time nothing is due, and with 100 due; and
/// what its 5-minute trigger costs a month at rest.
async fn scheduler_costs(h: &Harness, admin: &str) {
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
