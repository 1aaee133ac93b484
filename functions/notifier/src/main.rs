//! The notifier function: set up once (config, SES and DynamoDB clients), then handle
//! batches of the table's stream.

use helpdesk::{App, Config};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    helpdesk::app::init_tracing();
    let config = helpdesk::app::or_init_error(Config::from_env()).await?;
    let app: &'static App = Box::leak(Box::new(App::connect(config, true).await));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| async move {
        Ok::<_, std::convert::Infallible>(helpdesk_notifier::handle(app, event.payload).await)
    }))
    .await
}
