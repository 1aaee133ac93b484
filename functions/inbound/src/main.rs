//! The inbound function: set up once (config, clients), then handle SES receipt events.

use helpdesk::app::or_init_error;
use helpdesk::{App, Config};
use helpdesk_inbound::{handle, Inbound, MailBucket};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    helpdesk::app::init_tracing();
    let config = or_init_error(Config::from_env()).await?;
    let mail = or_init_error(MailBucket::from_lookup(|name| std::env::var(name).ok())).await?;
    let sdk = App::aws_config().await;
    let s3 = App::s3_client(&sdk);
    let app = App::connect(config, false).await.with_s3_files().await;
    let inbound: &'static Inbound = Box::leak(Box::new(Inbound { app, s3, mail }));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::ses::SimpleEmailEvent>| async move {
        // An error makes Lambda retry the event (storage was unavailable).
        let outcomes = handle(inbound, event.payload).await.map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
        Ok::<_, lambda_runtime::Error>(serde_json::json!({ "handled": outcomes.len() }))
    }))
    .await
}
