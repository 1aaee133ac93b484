//! A fault-injecting HTTP proxy on loopback, between the functions and DynamoDB Local:
//! DynamoDB Local never throttles, conflicts or stalls, so the tests make it look as if it did.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Refuse: close every connection at once, as if DynamoDB were stopped.
    Down,
    /// Answer after this long, as if DynamoDB were overloaded.
    Slow(Duration),
    /// Answer every call with this DynamoDB error type (`ProvisionedThroughputExceededException`, ...).
    Error(&'static str),
    /// Forward the next call of this operation, then drop its answer: the write happens, the
    /// caller never hears of it. Later calls pass.
    CutAfterForward(&'static str),
}

struct State {
    fault: Mutex<Fault>,
    calls: AtomicUsize,
    target: String,
    http: reqwest::Client,
}

pub struct FaultProxy {
    pub url: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultProxy {
    pub async fn start(target: &str) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            fault: Mutex::new(Fault::Pass),
            calls: AtomicUsize::new(0),
            target: target.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        });
        let shared = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = shared.clone();
                tokio::spawn(async move {
                    if *state.fault.lock().unwrap() == Fault::Down {
                        return; // dropping the stream closes it unanswered
                    }
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { proxy(&state, req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy { url, state, server }
    }

    pub fn set(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
    }

    /// Calls that reached the proxy since the last `take_calls`.
    pub fn take_calls(&self) -> usize {
        self.state.calls.swap(0, Ordering::SeqCst)
    }
}

async fn proxy(state: &State, req: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('.').nth(1))
        .unwrap_or("")
        .to_string();
    let fault = state.fault.lock().unwrap().clone();
    match &fault {
        // Kept-alive connections too: the caller sees its connection closed unanswered.
        Fault::Down => return Err(std::io::Error::other("storage down (test proxy)")),
        Fault::Error(kind) => {
            let body = format!(
                r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected by the test proxy"}}"#
            );
            return Ok(hyper::Response::builder()
                .status(400)
                .header("content-type", "application/x-amz-json-1.0")
                .body(Full::new(Bytes::from(body)))
                .unwrap());
        }
        Fault::Slow(delay) => tokio::time::sleep(*delay).await,
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let mut forward = state.http.request(parts.method.clone(), format!("{}{}", state.target, parts.uri));
    for (name, value) in parts.headers.iter() {
        if name != "host" && name != "content-length" {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.body(body).send().await.map_err(std::io::Error::other)?;
    if let Fault::CutAfterForward(op) = &fault {
        if *op == operation {
            *state.fault.lock().unwrap() = Fault::Pass;
            // The write went through; the caller gets a broken connection instead of its answer.
            return Err(std::io::Error::other("cut by the test proxy"));
        }
    }
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.map_err(std::io::Error::other)?;
    let mut res = hyper::Response::builder().status(status.as_u16());
    for (name, value) in headers.iter() {
        if name != "content-length" && name != "transfer-encoding" {
            res = res.header(name.as_str(), value.as_bytes());
        }
    }
    Ok(res.body(Full::new(bytes)).unwrap())
}
