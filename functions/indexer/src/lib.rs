//! The search indexer: the only writer of the search index. The automations function hands
//! it the keys of the requests a stream batch touched (`{"requests": ["HD-1", ...]}`); it
//! indexes each as it is now (`domain::search::index_requests`) and answers what it committed.

use helpdesk::{ApiError, App};
use serde::Deserialize;
use serde_json::{json, Value};

/// More keys than a stream batch can name is not an invocation from the automations.
const MAX_KEYS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Changed {
    requests: Vec<String>,
}

pub async fn handle(app: &App, payload: Value) -> Result<Value, ApiError> {
    let changed: Changed = serde_json::from_value(payload)
        .map_err(|e| ApiError::bad_request("invalid_event", format!("expected {{\"requests\": [keys]}}: {e}")))?;
    if changed.requests.len() > MAX_KEYS || changed.requests.iter().any(|k| helpdesk::items::project_of(k).is_none()) {
        return Err(ApiError::bad_request("invalid_event", "requests are request keys (PROJECT-n), at most 1000"));
    }
    if changed.requests.is_empty() {
        return Ok(json!({"version": null, "requests": 0}));
    }
    let indexed = helpdesk::domain::search::index_requests(app, &changed.requests).await?;
    tracing::info!(
        function = "indexer",
        version = indexed.version,
        requests = indexed.requests,
        retries = indexed.retries,
        "indexed"
    );
    Ok(json!({"version": indexed.version, "requests": indexed.requests, "retries": indexed.retries}))
}
