//! The automations function: set up once (config, DynamoDB client, the webhook sender's
//! invoker), then handle batches of the table's stream.

use lambda_runtime::{service_fn, LambdaEvent};

// One batch at a time per environment: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = helpdesk::app::init_event_function(false, true).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| async move {
        Ok::<_, std::convert::Infallible>(helpdesk_automations::handle(app, event.payload).await)
    }))
    .await
}
