//! Serves every route of the template on one port (PORT, default 3000), against the DynamoDB,
//! S3 and SES endpoints of the environment (`scripts/local.sh` starts DynamoDB Local and moto),
//! with the local-only `POST /_local/inbound-email` and `POST /_local/scheduler`, the stream
//! pollers that feed the notifier and the automations, the webhook sender, the search indexer
//! (fed by the automations, as in AWS), and the scheduler every 30 s.

use helpdesk::{App, Config};
use helpdesk_inbound::MailBucket;
use helpdesk_tools::local_mail::LocalMail;
use helpdesk_tools::stream::{run_consumer, run_scheduler, Consumer, StreamPoller};
use helpdesk_tools::{gateway, local};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    helpdesk::app::init_tracing();
    let mut config = Config::from_env()?;
    let port: u16 = std::env::var("PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(3000);
    let mail = MailBucket::from_lookup(|name| std::env::var(name).ok().or_else(|| local_default(name)))?;
    let sdk = App::aws_config().await;
    local::ensure_table(&aws_sdk_dynamodb::Client::new(&sdk), &config.table_name).await?;
    local::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), &config.mail_from).await?;
    let local_mail = LocalMail { s3: local::path_style_s3(&sdk), mail };
    local_mail.ensure_bucket().await?;
    // Locally, attachments share the mail bucket, as in the template.
    config.files_bucket.get_or_insert_with(|| local_mail.mail.bucket.clone());
    let (sender, deliveries) = helpdesk_tools::invoke::queued_sender();
    let (indexer, changes) = helpdesk_tools::invoke::queued_sender();
    let app = App::connect_with(&sdk, config.clone(), true)
        .await
        .with_s3_files(&sdk)
        .with_search_in(local::path_style_s3(&sdk), config.files_bucket.as_deref().unwrap_or_default())
        .with_webhook_sender(sender)
        .with_indexer(indexer);
    local::seed_demo(&app).await?;
    // Each stream consumer reads the stream on its own, as each event source mapping does.
    for consumer in [Consumer::Notifier, Consumer::Automations] {
        let poller = StreamPoller::new(&sdk, &config.table_name).await?;
        tokio::spawn(run_consumer(app.clone(), poller, consumer));
    }
    tokio::spawn(run_scheduler(app.clone()));
    tokio::spawn(helpdesk_tools::invoke::run_sender(app.clone(), deliveries));
    tokio::spawn(helpdesk_tools::invoke::run_indexer(app.clone(), changes));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "helpdesk listening on http://127.0.0.1:{port} (demo project {}, admin {})",
        local::DEMO_PROJECT,
        local::DEMO_ADMIN
    );
    gateway::serve(app, Some(local_mail), listener).await?;
    Ok(())
}

fn local_default(name: &str) -> Option<String> {
    (name == "INBOUND_BUCKET").then(|| "helpdesk-inbound".to_string())
}
