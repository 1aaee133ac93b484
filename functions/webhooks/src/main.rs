//! The webhook sender: set up once (config, DynamoDB client, the HTTP client that checks where
//! it connects), then one delivery per invocation.

use helpdesk::{App, Config};
use helpdesk_webhooks::poster::HttpPoster;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mut steps = helpdesk::app::InitSteps::start();
    let config = helpdesk::app::or_init_error(Config::from_env()).await?;
    steps.mark("config");
    let sdk = App::aws_config().await;
    steps.mark("sdk_config");
    // Deployed, the helpdesk is served over HTTPS: only public addresses are reached.
    let poster = HttpPoster::new(!config.https());
    let (app, warm_up) = App::from_sdk(&sdk, config, false);
    let app: &'static App = Box::leak(Box::new(app));
    let poster: &'static HttpPoster = Box::leak(Box::new(poster));
    steps.mark("clients");
    warm_up.await;
    steps.mark("warm_up");
    steps.log();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        // An error makes Lambda retry the invocation (twice, then the failed-events queue).
        helpdesk_webhooks::handle(app, poster, event.payload)
            .await
            .map_err(|e| lambda_runtime::Error::from(e.to_string()))
    }))
    .await
}
