//! The notifier function: set up once (config, SES and DynamoDB clients), then handle
//! batches of the table's stream.

use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per environment: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = helpdesk::app::init_event_function(true, false).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| async move {
        Ok::<_, std::convert::Infallible>(helpdesk_notifier::handle(app, event.payload).await)
    }))
    .await
}
