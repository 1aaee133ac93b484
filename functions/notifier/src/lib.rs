//! Notifier function: the table's stream, as Lambda's event source mapping delivers it, turned
//! into emails by `domain::notify`. Failures are reported per record (ReportBatchItemFailures):
//! Lambda retries from the first failed record, and what was sent is not sent again.

use aws_lambda_events::dynamodb::{Event, EventRecord};
use helpdesk::domain::notify::{notify, Event as MailEvent, Notice};
use helpdesk::items::dynamo::stream_images;
use helpdesk::items::{ADMIN_NOTICE_PREFIX, REQUEST_PARTITION_PREFIX};
use helpdesk::model::Record;
use helpdesk::App;
use serde_json::{json, Value};

pub async fn handle(app: &App, event: Event) -> Value {
    let mut failures = vec![];
    for record in &event.records {
        // Only request partitions and the admins' notices can mean mail.
        let prefixes = [REQUEST_PARTITION_PREFIX, ADMIN_NOTICE_PREFIX];
        let Some((old, new)) = stream_images(record, &prefixes) else { continue };
        if let (None, Some(Record::AdminNotice(notice))) = (&old, &new) {
            if let Err(e) = helpdesk::domain::notify::notify_admins(app, notice).await {
                tracing::error!(function = "notifier", event_id = %record.event_id, error = %e, "notice failed");
                let id = record.change.sequence_number.clone().unwrap_or_else(|| record.event_id.clone());
                failures.push(json!({ "itemIdentifier": id }));
                break;
            }
            continue;
        }
        for mail_event in MailEvent::all(old.as_ref(), new.as_ref()) {
            if !notified(app, record, &mail_event, &mut failures).await {
                break;
            }
        }
        if !failures.is_empty() {
            break;
        }
    }
    json!({ "batchItemFailures": failures })
}

/// Sends one event's emails and logs each; false (with the record's failure noted) when a
/// retry must come.
async fn notified(app: &App, record: &EventRecord, mail_event: &MailEvent, failures: &mut Vec<Value>) -> bool {
    match notify(app, mail_event).await {
        Ok(notices) => {
            for notice in notices {
                let (outcome, to) = match &notice {
                    Notice::Sent { to } => ("sent", to),
                    Notice::AlreadySent { to } => ("already_sent", to),
                    Notice::RateLimited { to } => ("rate_limited", to),
                };
                tracing::info!(function = "notifier", event_id = %record.event_id, outcome, to = %to, "notification");
            }
            true
        }
        Err(e) => {
            tracing::error!(function = "notifier", event_id = %record.event_id, error = %e, "notification failed");
            // Lambda retries from here; later records would be retried anyway.
            let id = record.change.sequence_number.clone().unwrap_or_else(|| record.event_id.clone());
            failures.push(json!({ "itemIdentifier": id }));
            false
        }
    }
}
