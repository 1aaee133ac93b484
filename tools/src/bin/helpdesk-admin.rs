//! Operator commands against the deployed (or local) table:
//!   helpdesk-admin bootstrap-admin <email>   make <email> an app admin (creates the account)
//!   helpdesk-admin create-table              create TABLE_NAME as infra/template.yaml defines it
//!   helpdesk-admin rotate-signing-key        sign new public links with a new key (old ones still work)
//!   helpdesk-admin retire-signing-key <id>   stop accepting links signed with an old key
//! Uses the usual AWS credential chain and TABLE_NAME, MAIL_FROM, PUBLIC_BASE_URL.

use helpdesk::{App, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = Config::from_env()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["bootstrap-admin", email] => {
            let app = App::connect(config, false).await;
            let user = helpdesk::projects::bootstrap_app_admin(&app, email).await?;
            println!("{} ({}) is an app admin", user.email, user.id);
        }
        ["create-table"] => {
            let sdk = App::aws_config().await;
            helpdesk_tools::local::ensure_table(&aws_sdk_dynamodb::Client::new(&sdk), &config.table_name).await?;
            println!("table {} is ready", config.table_name);
        }
        ["rotate-signing-key"] => {
            let app = App::connect(config, false).await;
            let id = helpdesk::domain::signing::rotate(&app).await?;
            println!("new links are signed with key {id}; older keys still verify until retired");
        }
        ["retire-signing-key", id] => {
            let app = App::connect(config, false).await;
            helpdesk::domain::signing::retire(&app, id).await?;
            println!("key {id} is retired: links it signed no longer open (warm functions within 5 minutes)");
        }
        _ => {
            eprintln!("usage: helpdesk-admin bootstrap-admin <email> | create-table | rotate-signing-key | retire-signing-key <id>");
            std::process::exit(2);
        }
    }
    Ok(())
}
