//! A bounded load run (not a test): mixed create/get/list/reply traffic through the local
//! gateway on loopback for a fixed time, then a check that every acknowledged write is in the
//! table. Exits non-zero if any acknowledged write is missing or any answer was a 5xx.
//! LOAD_SECONDS (default 20) and LOAD_WORKERS (default 16) bound it.

use helpdesk::items::{comment_key, request_key};
use helpdesk::store::Store;
use helpdesk_tests::Harness;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Tally {
    latencies: Vec<(&'static str, f64)>,
    errors_5xx: usize,
    errors_4xx: usize,
    created: Vec<String>,
    replies: Vec<(String, String)>,
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let workers: usize = std::env::var("LOAD_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let h = Arc::new(Harness::start().await);
    h.admin_with_project("LOAD").await;
    let mut tokens = vec![];
    for i in 0..4 {
        tokens.push(h.sign_in(&h.email(&format!("load{i}"))).await);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
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
                let mut req = http.request(method, format!("{}{path}", h.base)).bearer_auth(&token);
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let started = Instant::now();
                let res = req.send().await;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                tally.lock().unwrap().latencies.push((name, ms));
                let Ok(res) = res else {
                    tally.lock().unwrap().errors_5xx += 1;
                    continue;
                };
                let status = res.status().as_u16();
                let answer: Value = res.json().await.unwrap_or(Value::Null);
                let mut t = tally.lock().unwrap();
                match status {
                    500..=599 => t.errors_5xx += 1,
                    400..=499 => t.errors_4xx += 1,
                    _ => match name {
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
                    },
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let t = std::mem::take(&mut *tally.lock().unwrap());
    println!("Load run: {workers} workers for {seconds} s against the local gateway on loopback");
    let total = t.latencies.len();
    println!(
        "  {total} calls, {:.0} calls/s, {} 4xx, {} 5xx or transport errors",
        total as f64 / seconds as f64,
        t.errors_4xx,
        t.errors_5xx
    );
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
    println!(
        "  acknowledged: {} requests ({} distinct keys), {} replies; missing from the table: {missing}",
        t.created.len(),
        unique.len(),
        t.replies.len()
    );
    if missing > 0 || t.errors_5xx > 0 || unique.len() != t.created.len() {
        eprintln!("load run FAILED: lost writes, duplicate keys or server errors");
        std::process::exit(1);
    }
}
