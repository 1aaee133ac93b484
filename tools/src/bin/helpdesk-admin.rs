//! Operator commands against the deployed (or local) table:
//!   helpdesk-admin bootstrap-admin <email>   make <email> an app admin (creates the account)
//!   helpdesk-admin create-table              create TABLE_NAME as infra/template.yaml defines it
//!   helpdesk-admin rotate-signing-key        sign new public links with a new key (old ones still work)
//!   helpdesk-admin retire-signing-key <id>   stop accepting links signed with an old key
//!   helpdesk-admin index-owners KEY          put project KEY's requests written before the
//!                                            owner index (Mine / Unassigned) into it
//!   helpdesk-admin rebuild-stats KEY         count project KEY's reports again from its requests
//!   helpdesk-admin reindex [KEY]             rebuild the search index of project KEY (or of every
//!                                            project) from the table (needs FILES_BUCKET)
//!   helpdesk-admin inbound FILE.eml [QUERY]  drop a raw message into the local helpdesk, as SES
//!                                            would (QUERY: e.g. spam=FAIL); prints what happened
//! Uses the usual AWS credential chain and TABLE_NAME, MAIL_FROM, PUBLIC_BASE_URL (`inbound`
//! only needs the local helpdesk's URL: PUBLIC_BASE_URL, default http://127.0.0.1:3000).

use helpdesk::{App, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some("inbound") = args.first().map(String::as_str) {
        return inbound(&args[1..]).await;
    }
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
        // `index-owners`: its name when it added the owner index alone.
        ["index-requests" | "index-owners", key] => {
            let app = App::connect(config, false).await;
            let rewritten = helpdesk::domain::requests::index_requests(&app, key).await?;
            println!("{rewritten} requests of {key} are in the owner and activity indexes");
        }
        ["rebuild-stats", key] => {
            let app = App::connect(config, false).await;
            let bar = progress_bar(format!("counting {key}"))?;
            let rebuilt = helpdesk::domain::reports::rebuild_stats(&app, key, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await?;
            bar.finish();
            println!(
                "{} requests of {key}: {} counted up to date; {} count items written, {} removed",
                rebuilt.requests, rebuilt.caught_up, rebuilt.written, rebuilt.removed
            );
        }
        ["reindex", rest @ ..] if rest.len() <= 1 => {
            let sdk = App::aws_config().await;
            if config.files_bucket.is_none() {
                return Err("FILES_BUCKET must name the bucket the search index lives in".into());
            }
            let app = App::connect_with(&sdk, config.clone(), false).await.with_search(&sdk);
            let projects = match rest.first() {
                Some(key) => vec![key.to_string()],
                // Every project: an admin's one-off Scan of the project items, never a request's.
                None => {
                    helpdesk_tools::local::project_keys(&aws_sdk_dynamodb::Client::new(&sdk), &config.table_name)
                        .await?
                }
            };
            for key in projects {
                let bar = progress_bar(format!("indexing {key}"))?;
                let done = helpdesk::domain::search::reindex(&app, &key, |done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
                bar.finish();
                println!(
                    "{key}: {} requests indexed, {} gone ones removed, in {} commits",
                    done.requests, done.removed, done.commits
                );
            }
        }
        _ => {
            eprintln!("usage: helpdesk-admin bootstrap-admin <email> | create-table | rotate-signing-key | retire-signing-key <id> | index-requests KEY | rebuild-stats KEY | reindex [KEY] | inbound FILE.eml [QUERY]");
            std::process::exit(2);
        }
    }
    Ok(())
}

/// A bar over a project's requests, for the commands that walk them all.
fn progress_bar(message: String) -> Result<indicatif::ProgressBar, Box<dyn std::error::Error>> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} requests ({eta} left)")?
            .progress_chars("=> "),
    );
    bar.set_message(message);
    Ok(bar)
}

/// Posts a raw message to the local gateway's `/_local/inbound-email`.
async fn inbound(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [file, rest @ ..] = args else {
        eprintln!("usage: helpdesk-admin inbound FILE.eml [QUERY]");
        std::process::exit(2);
    };
    let raw = std::fs::read(file)?;
    let base = std::env::var("PUBLIC_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let query = rest.first().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!("{}{}{query}", base.trim_end_matches('/'), helpdesk_tools::local_mail::ROUTE);
    let answer = reqwest::Client::new().post(url).body(raw).send().await?;
    let status = answer.status();
    println!("{}", answer.text().await?);
    if !status.is_success() {
        std::process::exit(1);
    }
    Ok(())
}
