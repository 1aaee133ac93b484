//! Local email in: `POST /_local/inbound-email` (never in the template) stores a raw message
//! in S3 (moto) and runs the inbound function on a receipt record, as SES would.

use aws_lambda_events::ses::SimpleEmailEvent;
use helpdesk::domain::inbound::Outcome;
use helpdesk::{ApiError, App};
use helpdesk_inbound::{Inbound, MailBucket};
use serde_json::{json, Value};

pub const ROUTE: &str = "/_local/inbound-email";

/// The largest message SES receives (40 MB, headers and encoded attachments included).
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

#[derive(Clone)]
pub struct LocalMail {
    pub s3: aws_sdk_s3::Client,
    pub mail: MailBucket,
}

impl LocalMail {
    /// Makes the bucket unless it exists.
    pub async fn ensure_bucket(&self) -> Result<(), String> {
        match self.s3.create_bucket().bucket(&self.mail.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()) =>
            {
                Ok(())
            }
            Err(e) => Err(format!("S3 at the configured endpoint did not answer: {e:?}")),
        }
    }

    /// Stores `raw` as SES's S3 action would and invokes the inbound function. `query` may set
    /// verdicts (`spam`, `virus`, `spf`, `dkim`, `dmarc`: PASS by default), `message_id`
    /// (the SES message id, to deliver one message twice) and `envelope_from` (the envelope
    /// sender, `MAIL FROM`; empty for a bounce's `<>`).
    ///
    /// Without `envelope_from`, the envelope sender passed on is what an MTA would have
    /// recorded: the message's `Return-Path`, else the sender it names (`From:`, repaired when
    /// slightly broken, else `Sender:`, else `Reply-To:`); when it names nobody at all, the
    /// record has no envelope sender (`source` absent) and the message is dropped as
    /// `no_sender` rather than taken for a bounce.
    pub async fn receive(&self, app: &App, raw: Vec<u8>, query: &str) -> Result<Outcome, ApiError> {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.to_uppercase());
        let id = params
            .iter()
            .find(|(k, _)| k == "message_id")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| ulid::Ulid::new().to_string().to_lowercase());
        let parsed = helpdesk::mime::incoming::parse(&raw, None).unwrap_or_default();
        let envelope_from = params
            .iter()
            .find(|(k, _)| k == "envelope_from")
            .map(|(_, v)| v.clone())
            .or_else(|| parsed.return_path.clone())
            .or_else(|| parsed.from.clone());
        // SES hands the function the recipients its rule matched: the support domain's.
        let recipients: Vec<String> = parsed
            .to
            .iter()
            .chain(&parsed.cc)
            .filter(|a| a.to_lowercase().ends_with(&format!("@{}", app.config.support_domain)))
            .cloned()
            .collect();
        let key = format!("{}{id}", self.mail.prefix);
        self.s3
            .put_object()
            .bucket(&self.mail.bucket)
            .key(&key)
            .body(raw.into())
            .send()
            .await
            .map_err(|e| ApiError::Internal(format!("storing the message in S3: {e:?}")))?;
        let verdict = |name: &str| param(name).unwrap_or_else(|| "PASS".into());
        let event = receipt_event(
            &id,
            &recipients,
            envelope_from.as_deref(),
            [verdict("spam"), verdict("virus"), verdict("spf"), verdict("dkim"), verdict("dmarc")],
        );
        let inbound = Inbound { app: app.clone(), s3: self.s3.clone(), mail: self.mail.clone() };
        let handled = helpdesk_inbound::handle(&inbound, event);
        let mut outcomes = crate::function::FUNCTION.scope("inbound", handled).await?;
        outcomes.pop().ok_or_else(|| ApiError::Internal("no outcome".into()))
    }
}

/// A receipt record as SES's Lambda action sends it (see `events/ses-receipt.json`); `from` is
/// the envelope sender (absent when None).
pub fn receipt_event(id: &str, recipients: &[String], from: Option<&str>, verdicts: [String; 5]) -> SimpleEmailEvent {
    let [spam, virus, spf, dkim, dmarc] = verdicts;
    let now = "2026-11-23T12:00:00.000Z";
    let event: Value = json!({
        "Records": [{
            "eventSource": "aws:ses",
            "eventVersion": "1.0",
            "ses": {
                "mail": {
                    "timestamp": now,
                    "source": from,
                    "messageId": id,
                    "destination": recipients,
                    "headersTruncated": false,
                    "headers": [],
                    "commonHeaders": { "returnPath": from, "from": from.into_iter().collect::<Vec<_>>(), "to": recipients, "messageId": id }
                },
                "receipt": {
                    "timestamp": now,
                    "processingTimeMillis": 1,
                    "recipients": recipients,
                    "spamVerdict": { "status": spam },
                    "virusVerdict": { "status": virus },
                    "spfVerdict": { "status": spf },
                    "dkimVerdict": { "status": dkim },
                    "dmarcVerdict": { "status": dmarc },
                    "action": { "type": "Lambda", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:inbound", "invocationType": "Event" }
                }
            }
        }]
    });
    serde_json::from_value(event).expect("a receipt record")
}

/// The answer of the local route: `{"outcome": ..., "request"?: ..., "reason"?: ...}`.
pub fn outcome_json(outcome: &Outcome) -> Value {
    serde_json::to_value(outcome).unwrap_or_default()
}
