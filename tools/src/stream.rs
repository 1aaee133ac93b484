//! The local stand-in for Lambda's DynamoDB event source mappings: reads the table's stream
//! from DynamoDB Local and hands each batch to a consumer (the notifier, the automations),
//! retrying from the first failed record as Lambda does with ReportBatchItemFailures.

use aws_lambda_events::dynamodb::Event;
use aws_sdk_dynamodbstreams::types::{Record as StreamRecord, ShardIteratorType};
use helpdesk::App;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

pub struct StreamPoller {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    /// Open shards and where reading them continues.
    iterators: HashMap<String, Option<String>>,
    /// Shards read to their end.
    finished: Vec<String>,
}

impl StreamPoller {
    /// Reads the stream of `table` from its oldest record.
    pub async fn new(sdk: &aws_config::SdkConfig, table: &str) -> Result<StreamPoller, String> {
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let described = ddb.describe_table().table_name(table).send().await.map_err(|e| format!("{e:?}"))?;
        let stream_arn =
            described.table.and_then(|t| t.latest_stream_arn).ok_or_else(|| format!("table {table} has no stream"))?;
        let client = aws_sdk_dynamodbstreams::Client::new(sdk);
        Ok(StreamPoller { client, stream_arn, iterators: HashMap::new(), finished: vec![] })
    }

    /// Every record written since the last poll, as one Lambda event (maybe empty).
    pub async fn poll(&mut self) -> Result<Event, String> {
        let shards = self
            .client
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default();
        for shard in shards {
            let id = shard.shard_id.unwrap_or_default();
            if self.iterators.contains_key(&id) || self.finished.contains(&id) {
                continue;
            }
            let iterator = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(&id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?
                .shard_iterator;
            self.iterators.insert(id, iterator);
        }
        let mut records = vec![];
        let ids: Vec<String> = self.iterators.keys().cloned().collect();
        for id in ids {
            let Some(Some(iterator)) = self.iterators.get(&id).cloned() else {
                self.iterators.remove(&id);
                self.finished.push(id);
                continue;
            };
            let out = self.client.get_records().shard_iterator(iterator).send().await.map_err(|e| format!("{e:?}"))?;
            records.extend(out.records.unwrap_or_default().iter().map(|r| self.lambda_record(r)));
            self.iterators.insert(id, out.next_shard_iterator);
        }
        serde_json::from_value(json!({ "Records": records })).map_err(|e| e.to_string())
    }

    /// A stream record in the shape Lambda hands to the function.
    fn lambda_record(&self, record: &StreamRecord) -> Value {
        let change = record.dynamodb.as_ref();
        let image = |m: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
            m.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or_default())
        };
        let mut dynamodb = json!({
            "Keys": image(change.and_then(|c| c.keys.as_ref())),
            "SequenceNumber": change.and_then(|c| c.sequence_number.clone()),
            "SizeBytes": change.and_then(|c| c.size_bytes).unwrap_or_default(),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time).map(|t| t.secs()).unwrap_or_default(),
        });
        if let Some(new) = image(change.and_then(|c| c.new_image.as_ref())) {
            dynamodb["NewImage"] = new;
        }
        if let Some(old) = image(change.and_then(|c| c.old_image.as_ref())) {
            dynamodb["OldImage"] = old;
        }
        json!({
            "eventID": record.event_id,
            "eventName": record.event_name.as_ref().map(|n| n.as_str().to_string()),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": self.stream_arn,
            "dynamodb": dynamodb,
        })
    }
}

/// A function the table's stream feeds, each with its own event source mapping in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    Notifier,
    Automations,
}

impl Consumer {
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Notifier => "notifier",
            Consumer::Automations => "automations",
        }
    }

    /// Hands one batch to the function, as its event source mapping would.
    pub async fn handle(self, app: &App, event: Event) -> serde_json::Value {
        let answer = async {
            match self {
                Consumer::Notifier => helpdesk_notifier::handle(app, event).await,
                Consumer::Automations => helpdesk_automations::handle(app, event).await,
            }
        };
        crate::function::FUNCTION.scope(self.name(), answer).await
    }
}

/// Feeds `consumer` from its own poller until the task is dropped: a failed record is retried
/// (with the ones after it) a second later, as the event source mapping would.
pub async fn run_consumer(app: App, mut poller: StreamPoller, consumer: Consumer) {
    let mut pending: Option<Event> = None;
    loop {
        let event = match pending.take() {
            Some(event) => event,
            None => match poller.poll().await {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!(error = %e, consumer = consumer.name(), "reading the stream failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        if event.records.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let answer = consumer.handle(&app, event.clone()).await;
        let failed = answer["batchItemFailures"][0]["itemIdentifier"].as_str().map(str::to_string);
        if let Some(from) = failed {
            let mut retry = event;
            let start = retry.records.iter().position(|r| r.change.sequence_number.as_deref() == Some(&from));
            retry.records.drain(..start.unwrap_or(0));
            pending = Some(retry);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// The local run's scheduler: every 30 s at the real time, as EventBridge runs the function
/// every few minutes in AWS.
pub async fn run_scheduler(app: App) {
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let run = crate::function::FUNCTION.scope("scheduler", helpdesk_scheduler::handle(&app, app.now())).await;
        if let Err(e) = run {
            tracing::warn!(error = %e, "the scheduler's run failed");
        }
    }
}
