//! Serves every route of the template on one port (PORT, default 3000), against the DynamoDB
//! and SES endpoints of the environment (`scripts/local.sh` starts DynamoDB Local and moto).

use helpdesk::{App, Config};
use helpdesk_tools::{gateway, local};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    helpdesk::app::init_tracing();
    let config = Config::from_env()?;
    let port: u16 = std::env::var("PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(3000);
    let sdk = App::aws_config().await;
    local::ensure_table(&aws_sdk_dynamodb::Client::new(&sdk), &config.table_name).await?;
    local::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), &config.mail_from).await?;
    let app = App::connect(config, true).await;
    local::seed_demo(&app).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "helpdesk listening on http://127.0.0.1:{port} (demo project {}, admin {})",
        local::DEMO_PROJECT,
        local::DEMO_ADMIN
    );
    gateway::serve(app, listener).await?;
    Ok(())
}
