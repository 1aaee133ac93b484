//! Automations function: the table's stream, as Lambda's event source mapping delivers it;
//! each event a record means runs the project's matching rules (`domain::automations`), each
//! change of a request is counted for reports (`domain::reports`), and the requests the batch
//! touched are handed to the search indexer (one asynchronous invoke per batch). The stream's
//! second consumer does all three: a table's stream serves two readers well, and a third
//! would be throttled.
//! Failures are reported per record (ReportBatchItemFailures): Lambda retries from the first
//! failed record; rules that fired already do not fire again (their run claims), and changes
//! counted already are not counted again (their ledgers).

use aws_lambda_events::dynamodb::Event;
use helpdesk::domain::automations::{events_of, on_event};
use helpdesk::domain::reports::count_change;
use helpdesk::items::dynamo::{stream_images, stream_request_key};
use helpdesk::items::REQUEST_PARTITION_PREFIX;
use helpdesk::model::Record;
use helpdesk::App;
use serde_json::{json, Value};

pub async fn handle(app: &App, event: Event) -> Value {
    let outcome = run_records(app, &event).await;
    // Every batch's requests go to the indexer, even when a record failed (Lambda retries
    // from that record, not the ones before it): the indexer reads each as it is now, so
    // handing it a key twice, or early, changes nothing.
    let changed = changed_requests(&event);
    if let (Some(indexer), false) = (&app.indexer, changed.is_empty()) {
        if let Err(e) = indexer.invoke(json!({ "requests": changed })).await {
            tracing::error!(function = "automations", error = %e, "handing changes to the search indexer failed");
            let first =
                event.records.first().map(|r| r.change.sequence_number.clone().unwrap_or_else(|| r.event_id.clone()));
            return json!({ "batchItemFailures": [{ "itemIdentifier": first }] });
        }
    }
    outcome
}

/// Rules and report counts for each record, in order; the first that fails stops the batch
/// (reported as a partial failure from there).
async fn run_records(app: &App, event: &Event) -> Value {
    for record in &event.records {
        let Some((old, new)) = stream_images(record, &[REQUEST_PARTITION_PREFIX]) else { continue };
        let failed = || {
            let id = record.change.sequence_number.clone().unwrap_or_else(|| record.event_id.clone());
            json!({ "batchItemFailures": [{ "itemIdentifier": id }] })
        };
        if let (Some(Record::Request(r)), _) | (None, Some(Record::Request(r))) = (&new, &old) {
            let after = match &new {
                Some(Record::Request(after)) => Some(after),
                _ => None,
            };
            let stamped = record.change.approximate_creation_date_time.timestamp();
            let at = if stamped > 0 { stamped } else { app.now() };
            if let Err(e) = count_change(app, &r.key, after, at).await {
                tracing::error!(function = "automations", event_id = %record.event_id, error = %e, "counting for reports failed");
                return failed();
            }
        }
        for auto_event in events_of(old.as_ref(), new.as_ref()) {
            match on_event(app, &auto_event).await {
                Ok(fired) => {
                    for f in fired {
                        tracing::info!(
                            function = "automations",
                            event_id = %record.event_id,
                            request = %f.request,
                            rule = %f.rule,
                            event = %f.event,
                            skipped = f.skipped.len(),
                            outcome = "fired",
                            "automation"
                        );
                    }
                }
                Err(e) => {
                    tracing::error!(function = "automations", event_id = %record.event_id, error = %e, "automation failed");
                    // Lambda retries from here; later records would be retried anyway.
                    return failed();
                }
            }
        }
    }
    json!({ "batchItemFailures": [] })
}

/// The keys of the requests whose partition the batch wrote (the request, its comments,
/// files, tags, participants), each once.
fn changed_requests(event: &Event) -> Vec<String> {
    let mut keys: Vec<String> = event.records.iter().filter_map(stream_request_key).collect();
    keys.sort();
    keys.dedup();
    keys
}
