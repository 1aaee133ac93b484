//! The notifier function: set up once (config, SES and DynamoDB clients), then handle
//! batches of the table's stream.

use helpdesk::{App, Config};
use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per environment: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mut steps = helpdesk::app::InitSteps::start();
    let config = helpdesk::app::or_init_error(Config::from_env()).await?;
    steps.mark("config");
    let sdk = App::aws_config().await;
    steps.mark("sdk_config");
    let (app, warm_up) = App::from_sdk(&sdk, config, true);
    let app: &'static App = Box::leak(Box::new(app));
    steps.mark("clients");
    warm_up.await;
    steps.mark("warm_up");
    steps.log();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| async move {
        Ok::<_, std::convert::Infallible>(helpdesk_notifier::handle(app, event.payload).await)
    }))
    .await
}
