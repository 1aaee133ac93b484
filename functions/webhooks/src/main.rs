//! The webhook sender: set up once (config, DynamoDB client, the HTTP client that checks where
//! it connects), then one delivery per invocation.

use helpdesk_webhooks::poster::HttpPoster;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = helpdesk::app::init_event_function(false, false).await?;
    // Deployed, the helpdesk is served over HTTPS: only public addresses are reached.
    let poster: &'static HttpPoster = Box::leak(Box::new(HttpPoster::new(!app.config.https())));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        // An error makes Lambda retry the invocation (twice, then the failed-events queue).
        helpdesk_webhooks::handle(app, poster, event.payload)
            .await
            .map_err(|e| lambda_runtime::Error::from(e.to_string()))
    }))
    .await
}
