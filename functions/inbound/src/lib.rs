//! Inbound function: SES stored a received message in S3 and invokes this with the receipt
//! record; the raw message is read from S3 and handed to `domain::inbound::receive`.

use aws_lambda_events::ses::{SimpleEmailEvent, SimpleEmailRecord};
use helpdesk::domain::inbound::{receive, Delivery, Outcome, Verdicts};
use helpdesk::{ApiError, App};
use std::time::Instant;

/// Where SES's S3 action puts raw messages: `<prefix><SES message id>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MailBucket {
    pub bucket: String,
    pub prefix: String,
}

impl MailBucket {
    /// Reads `INBOUND_BUCKET` (required) and `INBOUND_PREFIX` (default `inbound/`) once.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let bucket = get("INBOUND_BUCKET").filter(|b| !b.trim().is_empty()).ok_or("INBOUND_BUCKET must be set")?;
        let prefix = get("INBOUND_PREFIX").unwrap_or_else(|| "inbound/".into());
        Ok(MailBucket { bucket, prefix })
    }
}

pub struct Inbound {
    pub app: App,
    pub s3: aws_sdk_s3::Client,
    pub mail: MailBucket,
}

/// Largest message read; SES itself accepts at most 40 MB.
const MAX_RAW_BYTES: i64 = 40 * 1024 * 1024;

/// Handles every record of the event. An error (storage, S3 unreachable) makes Lambda retry
/// the event; the SES message id keeps a retry from acting twice. Problems with the message
/// itself are outcomes, logged and dropped, never retried.
pub async fn handle(ctx: &Inbound, event: SimpleEmailEvent) -> Result<Vec<Outcome>, ApiError> {
    let mut outcomes = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let started = Instant::now();
        let id = record.ses.mail.message_id.clone().unwrap_or_default();
        let outcome = match read_raw(ctx, &id).await? {
            Some(raw) => receive(&ctx.app, delivery(record, &id, &raw)).await?,
            None => Outcome::Dropped { reason: "raw_message_missing".into() },
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Outcome::Created { request } | Outcome::Appended { request } | Outcome::Duplicate { request } => {
                let kind = match outcome {
                    Outcome::Created { .. } => "created",
                    Outcome::Appended { .. } => "appended",
                    _ => "duplicate",
                };
                tracing::info!(function = "inbound", ses_message_id = %id, outcome = kind, request = %request, elapsed_ms, "email");
            }
            Outcome::Dropped { reason } => {
                tracing::info!(function = "inbound", ses_message_id = %id, outcome = "dropped", reason = %reason, elapsed_ms, "email");
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn delivery<'a>(record: &SimpleEmailRecord, id: &'a str, raw: &'a [u8]) -> Delivery<'a> {
    let receipt = &record.ses.receipt;
    let verdict = |v: &Option<String>| v.clone().unwrap_or_else(|| "PROCESSING_FAILED".into());
    Delivery {
        ses_message_id: id,
        recipients: receipt.recipients.clone(),
        verdicts: Verdicts {
            spam: verdict(&receipt.spam_verdict.status),
            virus: verdict(&receipt.virus_verdict.status),
            dmarc: verdict(&receipt.dmarc_verdict.status),
        },
        envelope_from: record.ses.mail.source.clone(),
        raw,
    }
}

/// The raw message SES stored; None when it is not there (or absurdly large): nothing a
/// retry would change.
async fn read_raw(ctx: &Inbound, id: &str) -> Result<Option<Vec<u8>>, ApiError> {
    if id.is_empty() || id.contains('/') {
        return Ok(None);
    }
    let key = format!("{}{id}", ctx.mail.prefix);
    let object = match ctx.s3.get_object().bucket(&ctx.mail.bucket).key(&key).send().await {
        Ok(object) => object,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => {
            tracing::error!(error = ?e, key = %key, "reading the raw message failed");
            return Err(ApiError::StorageUnavailable);
        }
    };
    if object.content_length.unwrap_or_default() > MAX_RAW_BYTES {
        return Ok(None);
    }
    let bytes = object.body.collect().await.map_err(|_| ApiError::StorageUnavailable)?;
    Ok(Some(bytes.into_bytes().to_vec()))
}
