//! The search indexer: set up once (config, DynamoDB and S3 clients, the local index
//! directory), then one batch of changed requests per invocation.

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = helpdesk::app::init_indexer().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        // An error makes Lambda retry the invocation (twice, then the failed-events queue).
        helpdesk_indexer::handle(app, event.payload).await.map_err(|e| lambda_runtime::Error::from(e.to_string()))
    }))
    .await
}
