//! Local setup: the table (from the template) and the demo seed.

use crate::template::create_table;
use helpdesk::model::ProjectRole;
use helpdesk::projects::{bootstrap_app_admin, ensure_project, grant_role};
use helpdesk::{ApiError, App};

pub const DEMO_PROJECT: &str = "DEMO";
pub const DEMO_ADMIN: &str = "admin@example.com";

/// Creates the table unless it exists.
pub async fn ensure_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), String> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            create_table(client, name).await.map_err(|e| format!("creating table {name}: {e}"))
        }
        Err(e) => Err(format!("DynamoDB at the configured endpoint did not answer: {e:?}")),
    }
}

/// The demo project `DEMO` whose project admin `admin@example.com` is also app admin.
/// Idempotent: running it again changes nothing.
pub async fn seed_demo(app: &App) -> Result<(), ApiError> {
    bootstrap_app_admin(app, DEMO_ADMIN).await?;
    ensure_project(app, DEMO_PROJECT, "Demo project").await?;
    let admin = helpdesk::domain::email::EmailAddress::parse(DEMO_ADMIN)?;
    grant_role(app, &admin, DEMO_PROJECT, ProjectRole::Admin, None).await?;
    Ok(())
}

/// Lets the local SES (moto) send from the configured address: real SES needs the identity
/// verified too, which the README's deploy steps cover.
pub async fn verify_sender(client: &aws_sdk_sesv2::Client, mail_from: &str) -> Result<(), String> {
    let domain = mail_from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or(mail_from);
    match client.create_email_identity().email_identity(domain).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(format!("SES at the configured endpoint did not answer: {e:?}")),
    }
}

/// An S3 client that names buckets in the path: moto on 127.0.0.1 has no per-bucket hosts.
pub fn path_style_s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

/// The key of every project in `table`: a Scan of the project items (`PROJECT#<key>/META`),
/// for admin commands that walk every project. Never on a request's path.
pub async fn project_keys(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<String>, String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut keys = vec![];
    let mut pages = client
        .scan()
        .table_name(table)
        .filter_expression("begins_with(pk, :p) AND sk = :meta")
        .expression_attribute_values(":p", AttributeValue::S("PROJECT#".into()))
        .expression_attribute_values(":meta", AttributeValue::S("META".into()))
        .projection_expression("pk")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for item in page.map_err(|e| format!("{e:?}"))?.items() {
            if let Some(AttributeValue::S(pk)) = item.get("pk") {
                keys.extend(pk.strip_prefix("PROJECT#").map(str::to_string));
            }
        }
    }
    keys.sort();
    Ok(keys)
}
