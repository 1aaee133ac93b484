//! The functions as Lambda runs them: each `bootstrap` binary (built natively, `cargo build
//! --workspace --bins`) polling a Lambda Runtime API served here on loopback, with the
//! environment the template gives it. Events go in as JSON; what the binary posts to
//! `/response`, `/error` or `/init/error` comes back.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, oneshot};

/// What a function posted back for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Response(Value),
    /// `/invocation/{id}/error`: Lambda would retry an asynchronous event.
    Error(Value),
}

#[derive(Default)]
struct Shared {
    waiting: HashMap<String, oneshot::Sender<Answer>>,
    init_error: Option<(String, Value)>,
    /// When the process first asked for an event: its init was over.
    first_poll: Option<std::time::Instant>,
}

/// One function process and the Runtime API it polls.
pub struct Function {
    name: String,
    events: mpsc::UnboundedSender<(String, Bytes)>,
    shared: Arc<Mutex<Shared>>,
    child: tokio::process::Child,
    logs: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
    invocations: u64,
}

/// Builds every binary of the workspace once per test process (a no-op when they are fresh:
/// the test command has already built them with the same profile).
fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        // What `cargo test` set for this package (CARGO_MANIFEST_DIR, CARGO_PKG_*...) would
        // look like a changed environment to build scripts and rebuild half the tree.
        let settings =
            ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_INCREMENTAL", "CARGO_BUILD_", "CARGO_PROFILE_", "CARGO_NET_"];
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().to_string();
            if name.starts_with("CARGO_") && !settings.iter().any(|s| name.starts_with(s)) {
                cargo.env_remove(&name);
            }
        }
        let status = cargo
            .args(["build", "--quiet", "--workspace", "--bins"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --workspace --bins failed");
    });
    // Test binaries live in target/<profile>/deps; the functions' binaries one level up.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join(name)
}

impl Function {
    /// Starts `name` with `env`, as Lambda would: `AWS_LAMBDA_RUNTIME_API` pointing here.
    pub async fn start(name: &str, env: &[(String, String)]) -> Function {
        Self::start_binary(&binary(name), name, env).await
    }

    /// `start` with a binary of another build (the benchmark's optimised one).
    pub async fn start_binary(path: &std::path::Path, name: &str, env: &[(String, String)]) -> Function {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback port");
        let api = listener.local_addr().expect("bound").to_string();
        let (events, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let server = tokio::spawn(serve(listener, Arc::new(tokio::sync::Mutex::new(queue)), shared.clone()));
        let mut child = tokio::process::Command::new(path)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &api)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let logs = Arc::new(Mutex::new(vec![]));
        for out in [child.stdout.take().map(boxed), child.stderr.take().map(boxed)].into_iter().flatten() {
            let logs = logs.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(out).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    logs.lock().unwrap().push(line);
                }
            });
        }
        Function { name: name.into(), events, shared, child, logs, server, invocations: 0 }
    }

    /// One invocation: the event goes out on the next poll, the answer is what the function
    /// posts for its request id.
    pub async fn invoke(&mut self, event: &str) -> Answer {
        self.invocations += 1;
        let id = format!("{}-{}", self.name, self.invocations);
        let (tx, rx) = oneshot::channel();
        self.shared.lock().unwrap().waiting.insert(id.clone(), tx);
        self.events.send((id, Bytes::from(event.to_string()))).expect("the runtime API is up");
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(answer)) => answer,
            _ => panic!("{} did not answer; its output:\n{}", self.name, self.logs()),
        }
    }

    /// An API Gateway event's answer: status and JSON body (null when empty).
    pub async fn invoke_http(&mut self, event: &str) -> (u16, Value) {
        let (status, _, body) = self.invoke_page(event).await;
        (status, if body.is_empty() { Value::Null } else { serde_json::from_str(&body).expect("a JSON body") })
    }

    /// An API Gateway event's answer: status, headers (lower-case names) and body text.
    pub async fn invoke_page(&mut self, event: &str) -> (u16, HashMap<String, String>, String) {
        let answer = match self.invoke(event).await {
            Answer::Response(v) => v,
            Answer::Error(e) => panic!("{} reported an error: {e}", self.name),
        };
        let status = answer["statusCode"].as_u64().expect("statusCode") as u16;
        let headers = answer["headers"]
            .as_object()
            .map(|h| h.iter().map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        assert_ne!(answer["isBase64Encoded"], true, "text bodies are not base64");
        (status, headers, answer["body"].as_str().unwrap_or_default().to_string())
    }

    /// Waits for the process to exit (an init that failed), with what it posted to
    /// `/init/error` (the error type header and the body) and its exit code.
    pub async fn init_failure(&mut self) -> (Option<(String, Value)>, Option<i32>) {
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} kept running; its output:\n{}", self.name, self.logs()))
            .expect("exit status");
        (self.shared.lock().unwrap().init_error.clone(), status.code())
    }

    /// When the process first polled for an event (the end of its init), if it has.
    pub fn first_poll(&self) -> Option<std::time::Instant> {
        self.shared.lock().unwrap().first_poll
    }

    /// The process's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Everything the process printed so far (JSON log lines and anything else).
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn boxed(r: impl tokio::io::AsyncRead + Send + Unpin + 'static) -> Box<dyn tokio::io::AsyncRead + Send + Unpin> {
    Box::new(r)
}

type Queue = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>>;

async fn serve(listener: tokio::net::TcpListener, queue: Queue, shared: Arc<Mutex<Shared>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let (queue, shared) = (queue.clone(), shared.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| route(req, queue.clone(), shared.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// The four routes of the Runtime API a function uses.
async fn route(
    req: Request<hyper::body::Incoming>,
    queue: Queue,
    shared: Arc<Mutex<Shared>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().trim_start_matches("/2018-06-01/runtime/").to_string();
    let method = req.method().clone();
    let error_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = req.into_body().collect().await?.to_bytes();
    let json =
        || serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    let accepted = || Response::builder().status(StatusCode::ACCEPTED).body(Full::new(Bytes::new())).unwrap();
    let parts: Vec<&str> = path.split('/').collect();
    Ok(match (method, parts.as_slice()) {
        (Method::GET, ["invocation", "next"]) => {
            shared.lock().unwrap().first_poll.get_or_insert_with(std::time::Instant::now);
            let Some((id, event)) = queue.lock().await.recv().await else {
                return Ok(Response::builder().status(StatusCode::GONE).body(Full::new(Bytes::new())).unwrap());
            };
            let deadline = std::time::SystemTime::now() + Duration::from_secs(30);
            let deadline_ms = deadline.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
            Response::builder()
                .header("lambda-runtime-aws-request-id", id)
                .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
                .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:test")
                .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
                .header("content-type", "application/json")
                .body(Full::new(event))
                .unwrap()
        }
        (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
            let answer = if *kind == "response" { Answer::Response(json()) } else { Answer::Error(json()) };
            if let Some(waiter) = shared.lock().unwrap().waiting.remove(*id) {
                let _ = waiter.send(answer);
            }
            accepted()
        }
        (Method::POST, ["init", "error"]) => {
            shared.lock().unwrap().init_error = Some((error_type, json()));
            accepted()
        }
        _ => Response::builder().status(StatusCode::NOT_FOUND).body(Full::new(Bytes::new())).unwrap(),
    })
}
