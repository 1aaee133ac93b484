//! Deliveries: made in the automations function's transaction for an event (with a run claim,
//! so a replayed record makes none twice), then posted by the sender function, which touches
//! nothing but its deliveries, its targets' failure marks and the admins' notices. A failed
//! attempt is tried again by the scheduler with exponential backoff for 24 hours; a target whose
//! every attempt failed for 24 hours is switched off and the project's admins are told.

use super::records::{
    AdminNotice, DeliveryAttempt, DeliveryState, WebhookDelivery, WebhookFormat, WebhookRetry, WebhookTarget,
};
use super::targets::{save, webhooks_of};
use crate::domain::automations::rules::Trigger;
use crate::error::ApiError;
use crate::items::{project_webhooks_key, webhook_delivery_key, webhook_retry_key, webhook_secret_key};
use crate::model::{Comment, Record, Request};
use crate::store::{Condition, StoreError, Write};
use crate::App;
use hmac::{Hmac, Mac};
use serde_json::json;

/// How long a delivery, and a target's failures, are tried before giving up.
pub const GIVE_UP_SECS: i64 = 24 * 3600;
/// The first retry's wait; each next one doubles, up to `MAX_BACKOFF_SECS`.
const FIRST_BACKOFF_SECS: i64 = 60;
const MAX_BACKOFF_SECS: i64 = 6 * 3600;
/// The safety net of a new delivery: when the sender never got it, the scheduler hands it on.
const FIRST_TRY_GRACE_SECS: i64 = 300;

/// The body a target gets for an event on a request.
pub fn body(
    format: WebhookFormat,
    event: Trigger,
    request: &Request,
    comment: Option<&Comment>,
    delivery: &str,
    base_url: &str,
    at: i64,
) -> String {
    let url = format!("{base_url}/desk/requests/{}", request.key);
    match format {
        WebhookFormat::Json => {
            let request = json!({
                "key": request.key, "summary": request.summary, "status": request.status.as_str(),
                "priority": request.priority.as_str(), "reporter": request.reporter_email,
                "assignee": request.assignee.as_ref().map(|a| a.email.to_string()), "tags": request.tags,
                "url": url,
            });
            let comment = comment.map(|c| {
                json!({"id": c.id, "author": c.author_email, "body": c.body, "created_at": crate::text::rfc3339(c.created_at)})
            });
            json!({"event": event.as_str(), "project": request["key"].as_str().and_then(crate::items::project_of),
                   "request": request, "comment": comment, "at": crate::text::rfc3339(at), "delivery": delivery})
            .to_string()
        }
        WebhookFormat::Slack => {
            let what = match event {
                Trigger::RequestCreated => "new request",
                Trigger::CommentCustomer => "the customer replied",
                Trigger::CommentAgent => "the team replied",
                Trigger::StatusChanged => request.status.as_str(),
                Trigger::SlaWarning => "a service-level target is near",
                Trigger::SlaBreach => "a service-level target was missed",
                Trigger::Time => "idle",
            };
            json!({"text": format!("[{}] {}: {what} <{url}>", request.key, request.summary)}).to_string()
        }
    }
}

/// The writes that make a delivery of `body` to `target`, with the safety-net alarm, and the
/// delivery as it is handed on.
pub(crate) fn new_delivery(
    project: &str,
    target: &str,
    request: &str,
    event: Trigger,
    body: String,
    id: &str,
    now: i64,
) -> (Vec<Write>, Handed) {
    let next_at = now + FIRST_TRY_GRACE_SECS;
    let delivery = WebhookDelivery {
        target: target.into(),
        id: id.into(),
        project: project.into(),
        request_key: request.into(),
        event,
        body,
        state: DeliveryState::Pending,
        attempts: vec![],
        next_at: Some(next_at),
        created_at: now,
        version: 1,
    };
    let retry = WebhookRetry { project: project.into(), target: target.into(), delivery: id.into(), at: next_at };
    let handed = Handed { project: project.into(), target: target.into(), delivery: id.into(), alarm_at: next_at };
    let writes = vec![
        Write::Put { record: Record::WebhookDelivery(delivery), condition: Condition::NotExists },
        Write::Put { record: Record::WebhookRetry(retry), condition: Condition::None },
    ];
    (writes, handed)
}

/// The scheduler's lease on a retry due: its alarm moves a few minutes on before the delivery
/// is handed to the sender, so a hand-off or a sender run that fails is found again.
pub async fn rearm(app: &App, due: &WebhookRetry, now: i64) -> Result<Handed, ApiError> {
    let at = now + FIRST_TRY_GRACE_SECS;
    let moved = WebhookRetry { at, ..due.clone() };
    let writes = vec![
        Write::Delete { key: webhook_retry_key(due.at, &due.target, &due.delivery), condition: Condition::None },
        Write::Put { record: Record::WebhookRetry(moved), condition: Condition::None },
    ];
    app.store.transact(writes).await?;
    Ok(Handed {
        project: due.project.clone(),
        target: due.target.clone(),
        delivery: due.delivery.clone(),
        alarm_at: at,
    })
}

/// A delivery handed to the sender, with the alarm that stands for it meanwhile: if the
/// hand-off or the sender fails, the scheduler finds that alarm and hands it on again.
#[derive(Debug, Clone, PartialEq)]
pub struct Handed {
    pub project: String,
    pub target: String,
    pub delivery: String,
    pub alarm_at: i64,
}

/// Hands deliveries to the sender; a failure to hand one on leaves it to its alarm.
pub async fn hand_on(app: &App, deliveries: &[Handed]) {
    let Some(sender) = &app.webhook_sender else { return };
    for Handed { project, target, delivery, alarm_at } in deliveries {
        let payload = json!({"project": project, "target": target, "delivery": delivery, "alarm_at": alarm_at});
        if let Err(e) = sender.invoke(payload).await {
            tracing::warn!(error = %e, delivery = %delivery, "handing a delivery to the sender failed: the scheduler retries it");
        }
    }
}

/// `Helpdesk-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, at: i64, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{at}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={at},v1={hex}")
}

/// How long to wait after the `attempts`-th failed attempt.
pub fn backoff(attempts: usize) -> i64 {
    let doublings = attempts.saturating_sub(1).min(20) as u32;
    (FIRST_BACKOFF_SECS << doublings).min(MAX_BACKOFF_SECS)
}

/// What a target answered, as the sender saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub ms: u32,
}

impl Posted {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Posts a body to a target's URL (the sender function's HTTP client, which checks where it
/// connects).
#[async_trait::async_trait]
pub trait Post: Send + Sync {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Posted;
}

/// The delivery after an attempt, and whether (when) it is tried again.
pub fn after_attempt(delivery: &WebhookDelivery, posted: &Posted, now: i64) -> WebhookDelivery {
    let mut next = delivery.clone();
    next.attempts.push(DeliveryAttempt { at: now, status: posted.status, error: posted.error.clone(), ms: posted.ms });
    next.version += 1;
    if posted.ok() {
        next.state = DeliveryState::Delivered;
        next.next_at = None;
    } else {
        let retry_at = now + backoff(next.attempts.len());
        if retry_at - delivery.created_at > GIVE_UP_SECS {
            next.state = DeliveryState::Failed;
            next.next_at = None;
        } else {
            next.next_at = Some(retry_at);
        }
    }
    next
}

/// The target after an attempt: failing since the first failure of a spell, switched off after
/// 24 hours of it, well again after a success. A failure longer after the last one than any
/// retry waits starts a new spell: one blip days after an outage does not switch it off.
/// None when nothing changes.
pub fn target_after(target: &WebhookTarget, ok: bool, now: i64) -> Option<WebhookTarget> {
    let mut next = target.clone();
    if ok {
        next.failing_since = None;
        next.last_failed_at = None;
    } else {
        let spell_over = next.last_failed_at.is_none_or(|last| now - last > MAX_BACKOFF_SECS + FIRST_TRY_GRACE_SECS);
        if spell_over {
            next.failing_since = Some(now);
        }
        next.last_failed_at = Some(now);
        if next.failing_since.is_some_and(|since| now - since >= GIVE_UP_SECS) {
            next.enabled = false;
            next.disabled_at = Some(now);
        }
    }
    (next != *target).then_some(next)
}

/// What the sender did with a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    Delivered(u16),
    /// Failed this time; tried again at the time given, or never (None).
    Failed(Option<i64>),
    /// Nothing to do: already delivered or given up, or its target is gone.
    Nothing,
}

/// The sender's work for one delivery: post it (signed) and record the attempt, the next
/// try's alarm and the target's health, in one transaction.
/// `alarm_at`: the alarm that stood for this hand-off (moved or removed here).
pub async fn deliver(
    app: &App,
    poster: &dyn Post,
    project: &str,
    target_id: &str,
    id: &str,
    alarm_at: Option<i64>,
) -> Result<Sent, ApiError> {
    let keys = [webhook_delivery_key(target_id, id), webhook_secret_key(target_id), project_webhooks_key(project)];
    let records = app.store.get_many(&keys).await?;
    let mut delivery = None;
    let mut secret = None;
    for r in &records {
        match r {
            Record::WebhookDelivery(d) => delivery = Some(d.clone()),
            Record::WebhookSecret(s) => secret = Some(s.secret.clone()),
            _ => {}
        }
    }
    let Some(delivery) = delivery.filter(|d| d.state == DeliveryState::Pending && d.project == project) else {
        // Done already (a twin hand-off): its leftover alarm goes.
        if let Some(at) = alarm_at {
            let key = webhook_retry_key(at, target_id, id);
            app.store.transact(vec![Write::Delete { key, condition: Condition::None }]).await?;
        }
        return Ok(Sent::Nothing);
    };
    let webhooks = webhooks_of(project, &records);
    let target = webhooks.targets.iter().find(|t| t.id == target_id).filter(|t| t.enabled);
    let (Some(target), Some(secret)) = (target, secret) else {
        // Removed or switched off since: the delivery ends here.
        let mut ended = delivery.clone();
        ended.state = DeliveryState::Failed;
        ended.next_at = None;
        ended.version += 1;
        finish(app, &delivery, ended, None, alarm_at).await?;
        return Ok(Sent::Nothing);
    };
    let now = app.now();
    let headers = [
        ("content-type", "application/json".to_string()),
        ("user-agent", "helpdesk-webhooks/1".to_string()),
        ("helpdesk-signature", signature(&secret, now, &delivery.body)),
        ("helpdesk-delivery", delivery.id.clone()),
        ("helpdesk-event", delivery.event.as_str().to_string()),
    ];
    let posted = poster.post(&target.url, &headers, &delivery.body).await;
    let next = after_attempt(&delivery, &posted, app.now());
    let health = target_after(target, posted.ok(), app.now()).map(|t| {
        let mut targets = webhooks.clone();
        if let Some(slot) = targets.targets.iter_mut().find(|x| x.id == t.id) {
            *slot = t.clone();
        }
        (save(webhooks.clone(), targets), t)
    });
    let sent = match (&posted, next.state) {
        (p, DeliveryState::Delivered) => Sent::Delivered(p.status.unwrap_or_default()),
        _ => Sent::Failed(next.next_at),
    };
    finish(app, &delivery, next, health, alarm_at).await?;
    Ok(sent)
}

/// Writes the delivery as it now is, moves its alarm, and (when the target's health changed)
/// the targets item and, for a target switched off, the admins' notice. A lost race on the
/// targets item (an admin's edit) drops only the health mark: the next attempt makes it again.
async fn finish(
    app: &App,
    before: &WebhookDelivery,
    after: WebhookDelivery,
    health: Option<(Write, WebhookTarget)>,
    alarm_at: Option<i64>,
) -> Result<(), ApiError> {
    let mut writes = vec![Write::Put {
        record: Record::WebhookDelivery(after.clone()),
        condition: Condition::VersionIs(before.version),
    }];
    // The delivery's own alarm and the one that stood for this hand-off, unless still wanted.
    let mut stale: Vec<i64> =
        [before.next_at, alarm_at].into_iter().flatten().filter(|at| Some(*at) != after.next_at).collect();
    stale.sort_unstable();
    stale.dedup();
    for at in stale {
        writes
            .push(Write::Delete { key: webhook_retry_key(at, &before.target, &before.id), condition: Condition::None });
    }
    if let Some(at) = after.next_at.filter(|at| Some(*at) != before.next_at && Some(*at) != alarm_at) {
        let retry = WebhookRetry {
            project: after.project.clone(),
            target: after.target.clone(),
            delivery: after.id.clone(),
            at,
        };
        writes.push(Write::Put { record: Record::WebhookRetry(retry), condition: Condition::None });
    }
    let base = writes.clone();
    if let Some((save, target)) = health {
        writes.push(save);
        if !target.enabled {
            let notice = AdminNotice {
                project: after.project.clone(),
                id: format!("webhook-off.{}", target.id),
                subject: "A webhook was switched off".into(),
                body: format!(
                    "Every delivery to {} failed for 24 hours, so the helpdesk stopped sending to it. \
                     Its delivery log says what it answered. Add it again when it works.",
                    target.url
                ),
                created_at: app.now(),
            };
            writes.push(Write::Put { record: Record::AdminNotice(notice), condition: Condition::None });
        }
    }
    match app.store.transact(writes.clone()).await {
        Ok(()) => Ok(()),
        // A twin of this attempt wrote the delivery first: its record stands.
        Err(e) if e.failed_at(0) => Ok(()),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) if writes.len() > base.len() => {
            match app.store.transact(base).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_time_and_body() {
        // Worked with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn backoff_doubles_to_six_hours_and_gives_up_after_a_day() {
        assert_eq!((1..=6).map(backoff).collect::<Vec<_>>(), [60, 120, 240, 480, 960, 1920]);
        assert_eq!(backoff(30), 6 * 3600);
        let delivery = WebhookDelivery {
            target: "t".into(),
            id: "d".into(),
            project: "HD".into(),
            request_key: "HD-1".into(),
            event: Trigger::RequestCreated,
            body: "{}".into(),
            state: DeliveryState::Pending,
            attempts: vec![],
            next_at: Some(300),
            created_at: 0,
            version: 1,
        };
        let failed = Posted { status: Some(500), error: None, ms: 3 };
        let once = after_attempt(&delivery, &failed, 10);
        assert_eq!((once.state, once.next_at, once.attempts.len()), (DeliveryState::Pending, Some(70), 1));
        let late = after_attempt(&once, &failed, GIVE_UP_SECS - 30);
        assert_eq!((late.state, late.next_at), (DeliveryState::Failed, None), "a retry past a day is none");
        let ok = after_attempt(&once, &Posted { status: Some(204), error: None, ms: 3 }, 80);
        assert_eq!((ok.state, ok.next_at, ok.version), (DeliveryState::Delivered, None, 3));
    }

    #[test]
    fn a_target_failing_for_a_day_is_switched_off_and_a_success_heals_it() {
        let target = WebhookTarget {
            id: "t".into(),
            url: "https://x.example".into(),
            events: vec![Trigger::RequestCreated],
            format: WebhookFormat::Json,
            enabled: true,
            failing_since: None,
            last_failed_at: None,
            disabled_at: None,
            created_at: 0,
        };
        let failing = target_after(&target, false, 100).unwrap();
        assert_eq!((failing.failing_since, failing.enabled), (Some(100), true));
        let again = target_after(&failing, false, 200).unwrap();
        assert_eq!((again.failing_since, again.last_failed_at), (Some(100), Some(200)), "the same spell");
        // Failing all day, each retry within the longest wait of the last: switched off.
        let mut t = failing.clone();
        let mut now = 100;
        while t.enabled {
            now += MAX_BACKOFF_SECS;
            t = target_after(&t, false, now).unwrap();
        }
        assert_eq!((t.disabled_at, now - 100 >= GIVE_UP_SECS), (Some(now), true));
        // One blip long after the last failure starts a new spell instead.
        let blip = target_after(&failing, false, 100 + 2 * GIVE_UP_SECS).unwrap();
        assert_eq!((blip.enabled, blip.failing_since), (true, Some(100 + 2 * GIVE_UP_SECS)));
        let healed = target_after(&failing, true, 300).unwrap();
        assert_eq!((healed.failing_since, healed.last_failed_at), (None, None));
        assert_eq!(target_after(&target, true, 300), None);
    }
}
