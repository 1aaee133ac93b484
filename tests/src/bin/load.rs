//! A bounded load run (not a test): mixed create/get/list/reply traffic through the local
//! gateway on loopback for a fixed time, then a check that every acknowledged write is in the
//! table. LOAD_SECONDS (default 20) and LOAD_WORKERS (default 16) bound it.
//!
//! Writes carry an Idempotency-Key and are retried with it (up to 8 tries, 1 s apart) after a
//! 5xx or a dropped connection, as a careful client would. With LOAD_FREEZE_SECONDS=N and
//! LOAD_DYNAMODB_PID, DynamoDB Local is frozen (SIGSTOP) for N seconds a third of the way in,
//! then thawed (SIGCONT).
//!
//! Exits non-zero if an acknowledged write is missing, a request was created twice, or a call
//! failed with anything but 503 `storage_unavailable` (or failed at all without a freeze).

use helpdesk::items::{comment_key, request_key};
use helpdesk::store::Store;
use helpdesk_tests::Harness;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Tally {
    latencies: Vec<(&'static str, f64)>,
    /// Failed calls by status and error code ("503 storage_unavailable", "transport").
    failures: BTreeMap<String, usize>,
    errors_4xx: usize,
    /// Writes acknowledged only after a retry with their Idempotency-Key.
    retried: usize,
    created: Vec<String>,
    replies: Vec<(String, String)>,
}

const TRIES: usize = 8;

#[tokio::main]
async fn main() {
    let env_num = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let seconds = env_num("LOAD_SECONDS", 20);
    let workers = env_num("LOAD_WORKERS", 16) as usize;
    let freeze = env_num("LOAD_FREEZE_SECONDS", 0);
    let h = Arc::new(Harness::start().await);
    let admin = h.admin_with_project("LOAD").await;
    let mut tokens = vec![];
    for i in 0..4 {
        tokens.push(h.sign_in(&h.email(&format!("load{i}"))).await);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let freezer = (freeze > 0).then(|| {
        let pid = std::env::var("LOAD_DYNAMODB_PID").expect("LOAD_FREEZE_SECONDS needs LOAD_DYNAMODB_PID");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(seconds / 3)).await;
            signal("STOP", &pid);
            tokio::time::sleep(Duration::from_secs(freeze)).await;
            signal("CONT", &pid);
        })
    });
    let http = reqwest::Client::new();
    let mut tasks = vec![];
    for w in 0..workers {
        let (h, tally, http) = (h.clone(), tally.clone(), http.clone());
        let token = tokens[w % tokens.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut mine: Vec<String> = vec![];
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let pick = (n * 7 + w as u64) % 10;
                let (name, method, path, body) = match (pick, mine.last()) {
                    (0..=2, _) | (_, None) => (
                        "create",
                        reqwest::Method::POST,
                        "/projects/LOAD/requests".to_string(),
                        Some(json!({"summary": format!("w{w} n{n}")})),
                    ),
                    (3..=6, Some(key)) => ("get", reqwest::Method::GET, format!("/requests/{key}"), None),
                    (7..=8, _) => ("list", reqwest::Method::GET, "/requests?limit=25".to_string(), None),
                    (_, Some(key)) => (
                        "reply",
                        reqwest::Method::POST,
                        format!("/requests/{key}/comments"),
                        Some(json!({"body": format!("r{n}")})),
                    ),
                };
                let idempotency_key = format!("load-w{w}-n{n}");
                let tries = if body.is_some() { TRIES } else { 1 };
                for attempt in 1..=tries {
                    let mut req = http.request(method.clone(), format!("{}{path}", h.base)).bearer_auth(&token);
                    if let Some(b) = &body {
                        req = req.header("idempotency-key", &idempotency_key).json(b);
                    }
                    let started = Instant::now();
                    let res = req.send().await;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    let (status, answer) = match res {
                        Ok(res) => (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null)),
                        Err(_) => (0, Value::Null),
                    };
                    let failed = {
                        let mut t = tally.lock().unwrap();
                        t.latencies.push((name, ms));
                        record(&mut t, name, status, &answer, attempt, &mut mine)
                    };
                    if !failed {
                        break;
                    }
                    if attempt < tries {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    if let Some(freezer) = freezer {
        freezer.await.expect("freezer");
    }
    let t = std::mem::take(&mut *tally.lock().unwrap());
    let elapsed = started.elapsed().as_secs_f64();
    println!("Load run: {workers} workers for {seconds} s against the local gateway on loopback");
    if freeze > 0 {
        println!("  DynamoDB Local frozen (SIGSTOP) for {freeze} s from second {}", seconds / 3);
    }
    let total = t.latencies.len();
    let failed: usize = t.failures.values().sum();
    println!(
        "  {total} calls, {:.0} calls/s, {} 4xx, {failed} failed; {} writes acknowledged after a retry",
        total as f64 / elapsed,
        t.errors_4xx,
        t.retried
    );
    for (kind, count) in &t.failures {
        println!("    {count:>6} × {kind}");
    }
    for name in ["create", "get", "list", "reply"] {
        let mut ms: Vec<f64> = t.latencies.iter().filter(|(n, _)| *n == name).map(|(_, ms)| *ms).collect();
        if ms.is_empty() {
            continue;
        }
        ms.sort_by(f64::total_cmp);
        let p = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
        println!("  {name:<7} {:>6} calls  p50 {:>7.2} ms  p99 {:>7.2} ms", ms.len(), p(0.5), p(0.99));
    }
    // Every acknowledged write must be in the table.
    let mut missing = 0;
    let keys: Vec<_> = t.created.iter().map(|k| request_key(k)).collect();
    for chunk in keys.chunks(100) {
        let found = h.store.get_many(chunk).await.expect("read back");
        missing += chunk.len() - found.len();
    }
    let comment_keys: Vec<_> = t.replies.iter().map(|(k, id)| comment_key(k, id)).collect();
    for chunk in comment_keys.chunks(100) {
        let found = h.store.get_many(chunk).await.expect("read back");
        missing += chunk.len() - found.len();
    }
    let mut unique = t.created.clone();
    unique.sort();
    unique.dedup();
    // Each create had its own summary: one request per summary, retried or not.
    let summaries = project_summaries(&h, &admin).await;
    let stored = summaries.len();
    let mut distinct = summaries;
    distinct.sort();
    distinct.dedup();
    println!(
        "  acknowledged: {} requests ({} distinct keys), {} replies; missing from the table: {missing}; \
         requests in the project: {stored}, created twice: {}",
        t.created.len(),
        unique.len(),
        t.replies.len(),
        stored - distinct.len()
    );
    let unexpected: usize =
        t.failures.iter().filter(|(kind, _)| freeze == 0 || *kind != "503 storage_unavailable").map(|(_, n)| n).sum();
    if missing > 0 || unexpected > 0 || unique.len() != t.created.len() || stored != distinct.len() {
        eprintln!("load run FAILED: lost writes, duplicate requests or unexpected failures");
        std::process::exit(1);
    }
}

/// Counts one answer; true when it failed (5xx or no answer) and a write may be retried.
fn record(t: &mut Tally, name: &str, status: u16, answer: &Value, attempt: usize, mine: &mut Vec<String>) -> bool {
    match status {
        0 | 500..=599 => {
            let code = answer["error"]["code"].as_str().unwrap_or("no code");
            let kind = if status == 0 { "transport error".to_string() } else { format!("{status} {code}") };
            *t.failures.entry(kind).or_default() += 1;
            return true;
        }
        400..=499 => t.errors_4xx += 1,
        _ => {
            t.retried += usize::from(attempt > 1);
            match name {
                "create" => {
                    let key = answer["key"].as_str().unwrap_or_default().to_string();
                    t.created.push(key.clone());
                    mine.push(key);
                }
                "reply" => {
                    let key = mine.last().cloned().unwrap_or_default();
                    t.replies.push((key, answer["id"].as_str().unwrap_or_default().to_string()));
                }
                _ => {}
            }
        }
    }
    false
}

fn signal(name: &str, pid: &str) {
    let status = std::process::Command::new("kill").args([&format!("-{name}"), pid]).status().expect("kill runs");
    assert!(status.success(), "kill -{name} {pid}");
}

/// Every request's summary in project LOAD, read through the API page by page (bounded).
async fn project_summaries(h: &Harness, admin: &str) -> Vec<String> {
    let mut summaries = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let path = match &cursor {
            Some(c) => format!("/projects/LOAD/requests?limit=100&cursor={c}"),
            None => "/projects/LOAD/requests?limit=100".to_string(),
        };
        let page = h.ok("GET", &path, Some(admin), None).await.body;
        for item in page["items"].as_array().expect("items") {
            summaries.push(item["summary"].as_str().unwrap_or_default().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return summaries,
        }
    }
    panic!("more than 10,000 pages of requests");
}
