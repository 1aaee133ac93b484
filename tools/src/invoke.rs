//! The local stand-in for Lambda's asynchronous invokes of the webhook sender and the search
//! indexer: invocations are queued on a channel; the local run hands each to the function's
//! handler (as Lambda runs an asynchronous invocation), and tests drain the queue when they
//! choose.

use helpdesk::app::Invoke;
use helpdesk::App;
use helpdesk_webhooks::poster::HttpPoster;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

pub struct QueuedSender(UnboundedSender<Value>);

/// A sender for an `App`, and the queue its invocations land in.
pub fn queued_sender() -> (Arc<QueuedSender>, UnboundedReceiver<Value>) {
    let (tx, rx) = unbounded_channel();
    (Arc::new(QueuedSender(tx)), rx)
}

#[async_trait::async_trait]
impl Invoke for QueuedSender {
    async fn invoke(&self, payload: Value) -> Result<(), String> {
        self.0.send(payload).map_err(|_| "the local function has stopped".to_string())
    }
}

/// The sender's handler on one invocation, as the local run's HTTP client (127.0.0.1 allowed
/// when the helpdesk is served over plain HTTP).
pub async fn send(app: &App, poster: &HttpPoster, payload: Value) -> Value {
    let handled = helpdesk_webhooks::handle(app, poster, payload);
    match crate::function::FUNCTION.scope("webhooks", handled).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "the webhook sender failed: the scheduler retries the delivery");
            serde_json::json!({"error": e.to_string()})
        }
    }
}

/// The local run: each queued delivery is sent at once, in a task of its own.
pub async fn run_sender(app: App, mut queue: UnboundedReceiver<Value>) {
    let poster = Arc::new(HttpPoster::new(!app.config.https()));
    while let Some(payload) = queue.recv().await {
        let (app, poster) = (app.clone(), poster.clone());
        tokio::spawn(async move {
            send(&app, &poster, payload).await;
        });
    }
}

/// The indexer's handler on one invocation (the keys of changed requests).
pub async fn index(app: &App, payload: Value) -> Value {
    let handled = helpdesk_indexer::handle(app, payload);
    match crate::function::FUNCTION.scope("indexer", handled).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "the search indexer failed");
            serde_json::json!({"error": e.to_string()})
        }
    }
}

/// The local run's indexer: one invocation at a time (as its reserved concurrency of one
/// makes it in AWS), the keys queued meanwhile indexed together in the next.
pub async fn run_indexer(app: App, mut queue: UnboundedReceiver<Value>) {
    while let Some(first) = queue.recv().await {
        let mut keys: Vec<Value> = first["requests"].as_array().cloned().unwrap_or_default();
        while let Ok(more) = queue.try_recv() {
            keys.extend(more["requests"].as_array().cloned().unwrap_or_default());
        }
        let payload = serde_json::json!({ "requests": keys });
        let answer = index(&app, payload.clone()).await;
        if answer.get("error").is_some() {
            // Lambda retries a failed asynchronous invocation; so does this, once, a second later.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            index(&app, payload).await;
        }
    }
}
