//! Outbound email. SESv2 in deployment (moto locally); an in-memory outbox for domain tests.

use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("sending email failed: {0}")]
pub struct MailError(pub String);

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: Email) -> Result<(), MailError>;
    /// Sends a complete MIME message (notifications, with their own threading headers) and
    /// returns the id SES gave it: SES rewrites Message-ID to `<that id@...amazonses.com>`.
    async fn send_raw(&self, to: &str, raw: Vec<u8>) -> Result<String, MailError>;
}

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: String) -> Self {
        SesMailer { client, from }
    }

    pub async fn warm_up(&self) {
        let _ = self.client.get_account().send().await;
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |text: String| Content::builder().data(text).charset("UTF-8").build();
        let message = Message::builder()
            .subject(content(email.subject).map_err(|e| MailError(e.to_string()))?)
            .body(Body::builder().text(content(email.text).map_err(|e| MailError(e.to_string()))?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| MailError(format!("{e:?}")))?;
        Ok(())
    }

    async fn send_raw(&self, to: &str, raw: Vec<u8>) -> Result<String, MailError> {
        use aws_sdk_sesv2::primitives::Blob;
        use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
        let raw = RawMessage::builder().data(Blob::new(raw)).build().map_err(|e| MailError(e.to_string()))?;
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| MailError(format!("{e:?}")))?;
        Ok(sent.message_id.unwrap_or_default())
    }
}

/// Keeps what was sent, for domain tests.
#[derive(Default)]
pub struct Outbox {
    sent: Mutex<Vec<Email>>,
    raw: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Outbox {
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().unwrap().clone()
    }
    /// Raw messages sent, as (recipient, MIME bytes).
    pub fn sent_raw(&self) -> Vec<(String, Vec<u8>)> {
        self.raw.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        self.sent.lock().unwrap().push(email);
        Ok(())
    }

    async fn send_raw(&self, to: &str, raw: Vec<u8>) -> Result<String, MailError> {
        let mut sent = self.raw.lock().unwrap();
        sent.push((to.to_string(), raw));
        Ok(format!("outbox-{}", sent.len()))
    }
}

/// For functions that send no mail (and have no SES permission).
pub struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _email: Email) -> Result<(), MailError> {
        Err(MailError("this function does not send mail".into()))
    }

    async fn send_raw(&self, _to: &str, _raw: Vec<u8>) -> Result<String, MailError> {
        Err(MailError("this function does not send mail".into()))
    }
}
