//! Lambda zip sizes, and each function's cold start through a Runtime API on loopback.

use helpdesk_tests::events::filled;
use helpdesk_tests::runtime::Function;
use helpdesk_tests::Harness;
use std::path::PathBuf;
use std::time::Instant;

/// The zips' sizes and each function's cold start; `raw_get_p50` (a raw GetItem) makes the
/// floor a first answer cannot beat.
pub async fn zips_and_cold_starts(h: &Harness, raw: &aws_sdk_dynamodb::Client, raw_get_p50: f64) {
    let template = helpdesk_tools::template::load();
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
    helpdesk_tools::local::ensure_table(raw, &init_table).await.expect("init table");
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
        hello_first + raw_get_p50
    );
    let _ = raw.delete_table().table_name(&init_table).send().await;
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
