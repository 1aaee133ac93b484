//! What search costs: the indexer's work per change (a commit: one pack PUT, one pointer
//! write), an index of 100,000 synthetic requests with 3 comments each (size, build time),
//! warm queries through the gateway and on the engine alone, a cold searcher's first query
//! (every pack downloaded), and how soon a reply is searchable while requests keep coming.

use helpdesk::domain::search::index_requests;
use helpdesk::model::{Record, SearchPointer};
use helpdesk::search::engine::{Commit, EngineError};
use helpdesk::search::find::{Scope, Sort};
use helpdesk::search::query::parse;
use helpdesk::search::schema::RequestText;
use helpdesk::search::{IndexFiles, SearchIndex};
use helpdesk_tests::Harness;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SYNTHETIC: usize = 100_000;
const PER_COMMIT: usize = 5_000;
const CHANGES: usize = 50;

/// Counts the bucket requests and bytes that go through it.
struct Counted {
    inner: Arc<dyn IndexFiles>,
    puts: AtomicU64,
    gets: AtomicU64,
    got_bytes: AtomicU64,
    largest: AtomicU64,
}

#[async_trait::async_trait]
impl IndexFiles for Counted {
    async fn get(&self, name: &str) -> Result<Vec<u8>, EngineError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let bytes = self.inner.get(name).await?;
        self.got_bytes.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        self.largest.fetch_max(bytes.len() as u64, Ordering::SeqCst);
        Ok(bytes)
    }
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), EngineError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put(name, bytes).await
    }
    async fn delete(&self, name: &str) -> Result<(), EngineError> {
        self.inner.delete(name).await
    }
    async fn list(&self) -> Result<Vec<(String, i64)>, EngineError> {
        self.inner.list().await
    }
}

impl Counted {
    fn take(&self) -> (u64, u64, u64) {
        (
            self.puts.swap(0, Ordering::SeqCst),
            self.gets.swap(0, Ordering::SeqCst),
            self.got_bytes.swap(0, Ordering::SeqCst),
        )
    }
}

/// Deterministic words: a few hundred common ones, a long tail of rare ones.
struct Words {
    state: u64,
    vocabulary: Vec<String>,
}

impl Words {
    fn new() -> Words {
        let common = "printer invoice login password email account billing refund laptop screen network wifi \
            error crash update install license order delivery payment card charge report access server backup \
            phone calendar meeting room projector scanner paper tray toner cable mouse keyboard monitor battery";
        let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fe", "gu", "hi", "ja"];
        let mut vocabulary: Vec<String> = common.split_whitespace().map(str::to_string).collect();
        for a in syllables {
            for b in syllables {
                for c in syllables {
                    vocabulary.push(format!("{a}{b}{c}"));
                }
            }
        }
        Words { state: 0x2545_f491_4f6c_dd1d, vocabulary }
    }
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
    /// Skewed towards the start of the vocabulary, as real text is.
    fn word(&mut self) -> &str {
        let r = (self.next() % 10_000) as f64 / 10_000.0;
        let at = ((r * r * r) * self.vocabulary.len() as f64) as usize;
        &self.vocabulary[at.min(self.vocabulary.len() - 1)]
    }
    fn text(&mut self, words: usize) -> String {
        (0..words).map(|_| self.word().to_string()).collect::<Vec<_>>().join(" ")
    }
}

fn percentile(mut times: Vec<f64>, p: f64) -> f64 {
    times.sort_by(f64::total_cmp);
    times[((times.len() as f64 - 1.0) * p).round() as usize]
}

fn dir_bytes(root: &std::path::Path, commit: &Commit) -> u64 {
    commit.files.iter().filter_map(|f| std::fs::metadata(root.join("files").join(f)).ok()).map(|m| m.len()).sum()
}

pub async fn search_costs(h: &Harness, admin: &str) {
    let search = h.app.search.clone().expect("the harness searches");
    let counted = Arc::new(Counted {
        inner: search.files.clone(),
        puts: AtomicU64::new(0),
        gets: AtomicU64::new(0),
        got_bytes: AtomicU64::new(0),
        largest: AtomicU64::new(0),
    });
    let root = h.search_root("bench");
    let mut app = h.app.clone();
    app.search = Some(Arc::new(SearchIndex::new(counted.clone(), root.clone())));

    // The indexer's work for one change (one key per invocation, as the stream's records are).
    let made = h.call("POST", "/projects", Some(admin), Some(json!({"key": "SRCH", "name": "Search"}))).await;
    assert_eq!(made.status, 201, "{made:?}");
    let customer = h.sign_in(&h.email("search-customer")).await;
    let mut keys = vec![];
    for n in 0..CHANGES {
        let body = json!({"summary": format!("Printer {n} jams"), "description": "The tray sticks."});
        let made = h.call("POST", "/projects/SRCH/requests", Some(&customer), Some(body)).await;
        keys.push(made.body["key"].as_str().unwrap().to_string());
    }
    h.store.take_metrics();
    counted.take();
    let mut times = vec![];
    for key in &keys {
        let started = Instant::now();
        index_requests(&app, std::slice::from_ref(key)).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let m = h.store.take_metrics();
    let (puts, gets, _) = counted.take();
    let per = |x: f64| x / CHANGES as f64;
    println!("\nSearch: the indexer on one changed request ({CHANGES} commits):");
    println!(
        "  {:.2} round trips, {:.2} read units, {:.2} write units, {:.2} S3 PUTs, {:.2} S3 GETs, p50 {:.1} ms, p99 {:.1} ms",
        per(m.round_trips as f64),
        per(m.read_units),
        per(m.write_units + m.transaction_units),
        per(puts as f64),
        per(gets as f64),
        percentile(times.clone(), 0.5),
        percentile(times, 0.99)
    );

    // 100,000 requests with 3 comments each: their items in the table (the page's reads),
    // their documents in commits of 5,000 on top of the current commit, then the pointer.
    let made = h.call("POST", "/projects", Some(admin), Some(json!({"key": "BIG", "name": "Big"}))).await;
    assert_eq!(made.status, 201, "{made:?}");
    let now = h.app.now();
    let mut words = Words::new();
    let texts: Vec<RequestText> = (0..SYNTHETIC)
        .map(|i| {
            let created = now - (SYNTHETIC - i) as i64 * 60;
            let public = vec![words.text(6), words.text(40), words.text(30), words.text(30)];
            RequestText {
                key: format!("BIG-{}", i + 1),
                project: "BIG".into(),
                statuses: vec![["open", "pending", "closed"][i % 3].into()],
                priority: "normal".into(),
                requester_email: format!("customer{}@example.com", i % 500),
                parties: vec![format!("user{}", i % 500)],
                created_at: created,
                updated_at: created + 600,
                public,
                internal: vec![words.text(30)],
                ..Default::default()
            }
        })
        .collect();
    let started = Instant::now();
    let items: Vec<Record> = texts
        .iter()
        .map(|t| {
            let mut r = helpdesk::requests::open_request(&t.key, "someone", t.created_at);
            r.summary = t.public[0].clone();
            r.updated_at = t.updated_at;
            Record::Request(r)
        })
        .collect();
    use futures::StreamExt;
    let writes =
        futures::stream::iter(items.chunks(1_000).map(|c| helpdesk::store::Store::put_all(&h.store, c.to_vec())));
    for written in writes.buffer_unordered(8).collect::<Vec<_>>().await {
        written.unwrap();
    }
    let put_seconds = started.elapsed().as_secs_f64();
    // What the stream gathered of those writes is not the indexer's to do here.
    while !h.poll_stream().await.records.is_empty() {}
    let pointer = match h.app.store.get(&helpdesk::items::search_pointer_key()).await.unwrap() {
        Some(Record::SearchPointer(p)) => p,
        other => panic!("no pointer: {other:?}"),
    };
    let index = app.search.clone().unwrap();
    let mut commit = index.describe(&pointer.id).await.unwrap();
    counted.take();
    let started = Instant::now();
    for chunk in texts.chunks(PER_COMMIT) {
        let changes = chunk.iter().map(|t| (t.key.clone(), Some(t.clone()))).collect();
        commit = index.write(&commit, changes, now).await.unwrap().commit;
    }
    let build_seconds = started.elapsed().as_secs_f64();
    let (build_puts, _, _) = counted.take();
    let next = SearchPointer { id: commit.id.clone(), version: commit.version, committed_at: now };
    helpdesk::store::Store::put_all(&h.store, vec![Record::SearchPointer(next)]).await.unwrap();
    let size = dir_bytes(&root, &commit);
    println!(
        "\nSearch: {SYNTHETIC} requests with 3 comments and a note each ({} words a request): index {:.1} MB in {} segment files, {} packs; \
         built in {build_seconds:.1} s ({PER_COMMIT} a commit, {build_puts} PUTs); the request items written in {put_seconds:.1} s",
        6 + 40 + 30 + 30 + 30,
        size as f64 / 1e6,
        commit.files.len(),
        commit.packs.len()
    );

    // Warm queries: through the gateway (session and pointer, the query, the page's requests),
    // and on the engine alone.
    let queries = ["printer", "kalomi", "\"printer invoice\"", "bill*", "status:open refund", "kaloka sanera"];
    println!(
        "{:<28} {:>8} {:>11} {:>10} {:>10} {:>12} {:>12}",
        "query (100,000 requests)", "matches", "round trips", "p50 ms", "p99 ms", "engine p50", "engine p99"
    );
    let snapshot = index.snapshot(&commit).await.unwrap();
    let agent = Scope::Agent { project: "BIG".into(), me: "none".into() };
    for q in queries {
        let path =
            format!("/projects/BIG/search?q={}", form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
        let total = h.call("GET", &path, Some(admin), None).await.body["total"].as_u64().unwrap_or_default();
        let row = super::measure(h, "search", |_| {
            let path = path.clone();
            async move {
                let answer = h.call("GET", &path, Some(admin), None).await;
                assert_eq!(answer.status, 200, "{answer:?}");
            }
        })
        .await;
        let parsed = parse(q).unwrap();
        let mut engine = vec![];
        for _ in 0..200 {
            let started = Instant::now();
            snapshot.find(&agent, &parsed, Sort::Relevance, 0, 20).unwrap();
            engine.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{:<28} {:>8} {:>11.2} {:>10.2} {:>10.2} {:>12.2} {:>12.2}",
            q,
            total,
            row.round_trips,
            row.p50,
            row.p99,
            percentile(engine.clone(), 0.5),
            percentile(engine, 0.99)
        );
    }

    // A cold searcher: a new environment's first query, every pack fetched from the bucket.
    let cold_root = h.search_root("cold");
    let cold = SearchIndex::new(counted.clone(), cold_root);
    counted.take();
    let started = Instant::now();
    let described = cold.describe(&commit.id).await.unwrap();
    let opened = cold.snapshot(&described).await.unwrap();
    let found = opened.find(&agent, &parse("printer").unwrap(), Sort::Relevance, 0, 20).unwrap();
    let cold_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (_, cold_gets, cold_bytes) = counted.take();
    assert!(found.total > 0);
    println!(
        "Cold searcher, first query: {cold_ms:.0} ms ({cold_gets} GETs, {:.1} MB from moto on loopback; the largest pack {:.1} MB, held in memory while unpacked)",
        cold_bytes as f64 / 1e6,
        counted.largest.load(Ordering::SeqCst) as f64 / 1e6
    );

    // Freshness: a reply's words searchable, while a request is raised every 200 ms; the
    // stream, the automations and the indexer run as the local run runs them.
    let fresh_key = keys[0].clone();
    let agent_token = admin.to_string();
    let mut delays = vec![];
    let load = async {
        for n in 0.. {
            h.call("POST", "/projects/SRCH/requests", Some(&customer), Some(json!({"summary": format!("Load {n}")})))
                .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let pipeline = async {
        loop {
            h.run_stream().await;
            h.run_indexer().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let measure = async {
        for i in 0..20 {
            let word = format!("fresh{i}word");
            let body = json!({"body": format!("Tried {word} on it.")});
            h.call("POST", &format!("/requests/{fresh_key}/comments"), Some(&agent_token), Some(body)).await;
            let started = Instant::now();
            loop {
                let found = h.call("GET", &format!("/projects/SRCH/search?q={word}"), Some(&agent_token), None).await;
                if found.body["total"].as_u64() == Some(1) {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(30), "{word} never became searchable");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            delays.push(started.elapsed().as_secs_f64());
        }
    };
    tokio::select! {
        _ = load => {}
        _ = pipeline => {}
        _ = measure => {}
    }
    println!(
        "Freshness under load (a request raised every 200 ms): a reply searchable after p50 {:.2} s, p99 {:.2} s (20 replies)",
        percentile(delays.clone(), 0.5),
        percentile(delays, 0.99)
    );
    h.take_index_invocations().await;
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(h.search_root("cold"));
}
