//! The automations function: set up once (config, DynamoDB client), then handle batches of
//! the table's stream.

use helpdesk::{App, Config};
use lambda_runtime::{service_fn, LambdaEvent};

// One batch at a time per environment: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mut steps = helpdesk::app::InitSteps::start();
    let config = helpdesk::app::or_init_error(Config::from_env()).await?;
    steps.mark("config");
    let sdk = App::aws_config().await;
    steps.mark("sdk_config");
    let sender = helpdesk::app::or_init_error(helpdesk::invoke::LambdaInvoker::from_env(&sdk)).await?;
    let (app, warm_up) = App::from_sdk(&sdk, config, false);
    // It hands webhook deliveries to the sender function.
    let app: &'static App = Box::leak(Box::new(app.with_webhook_sender(std::sync::Arc::new(sender))));
    steps.mark("clients");
    warm_up.await;
    steps.mark("warm_up");
    steps.log();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| async move {
        Ok::<_, std::convert::Infallible>(helpdesk_automations::handle(app, event.payload).await)
    }))
    .await
}
