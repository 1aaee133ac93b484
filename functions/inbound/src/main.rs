//! The inbound function: set up once (config, clients), then handle SES receipt events.

use helpdesk::app::{or_init_error, InitSteps};
use helpdesk::{App, Config};
use helpdesk_inbound::{handle, Inbound, MailBucket};
use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per environment: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mut steps = InitSteps::start();
    let config = or_init_error(Config::from_env()).await?;
    let mail = or_init_error(MailBucket::from_lookup(|name| std::env::var(name).ok())).await?;
    steps.mark("config");
    let sdk = App::aws_config().await;
    steps.mark("sdk_config");
    let s3 = App::s3_client(&sdk);
    let (app, warm_up) = App::from_sdk(&sdk, config, false);
    let app = app.with_s3_files(&sdk);
    steps.mark("clients");
    warm_up.await;
    steps.mark("warm_up");
    steps.log();
    let inbound: &'static Inbound = Box::leak(Box::new(Inbound { app, s3, mail }));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::ses::SimpleEmailEvent>| async move {
        // An error makes Lambda retry the event (storage was unavailable).
        let outcomes = handle(inbound, event.payload).await.map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
        Ok::<_, lambda_runtime::Error>(serde_json::json!({ "handled": outcomes.len() }))
    }))
    .await
}
