//! The scheduler function: set up once (config, DynamoDB client, the webhook sender's
//! invoker), then one run per invocation.

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = helpdesk::app::init_event_function(false, true).await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        // An error makes Lambda invoke again: the run picks up where this one stopped.
        helpdesk_scheduler::handle(app, app.now()).await.map_err(|e| lambda_runtime::Error::from(e.to_string()))
    }))
    .await
}
