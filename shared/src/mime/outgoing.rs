//! Writing a notification as a raw MIME message (mail-builder), threaded into the request's
//! conversation and marked as automatic so well-behaved auto-responders stay quiet.

use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;

/// One notification, in plain types.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMail {
    pub from: String,
    pub to: String,
    pub reply_to: String,
    pub subject: String,
    pub text: String,
    /// Without angle brackets.
    pub message_id: String,
    /// The thread's first message: every notification of a request answers it.
    pub thread_root: String,
}

impl OutgoingMail {
    pub fn to_bytes(&self) -> Vec<u8> {
        MessageBuilder::new()
            .from(self.from.as_str())
            .to(self.to.as_str())
            .reply_to(self.reply_to.as_str())
            .subject(self.subject.as_str())
            .message_id(self.message_id.as_str())
            .in_reply_to(self.thread_root.as_str())
            .references(self.thread_root.as_str())
            .header("Auto-Submitted", Raw::new("auto-replied"))
            .text_body(self.text.as_str())
            .write_to_vec()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_reads_back_threaded_and_automatic() {
        let mail = OutgoingMail {
            from: "helpdesk@desk.example".into(),
            to: "ann@example.com".into(),
            reply_to: "reply.k1.hd-1.abc.0123456789abcdef@desk.example".into(),
            subject: "[HD-1] Café".into(),
            text: "Bob wrote:\n\nHéllo".into(),
            message_id: "n1@desk.example".into(),
            thread_root: "HD-1.01J@desk.example".into(),
        };
        let raw = mail.to_bytes();
        let back = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(back.subject(), Some("[HD-1] Café"));
        assert_eq!(back.message_id(), Some("n1@desk.example"));
        assert_eq!(back.in_reply_to().as_text(), Some("HD-1.01J@desk.example"));
        assert_eq!(back.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
        let reply_to = back.reply_to().and_then(|a| a.first()).and_then(|a| a.address());
        assert_eq!(reply_to, Some("reply.k1.hd-1.abc.0123456789abcdef@desk.example"));
        assert_eq!(back.body_text(0).unwrap().trim(), "Bob wrote:\n\nHéllo");
        // Our own message, if it came back, is recognised as a machine's.
        assert_eq!(crate::mime::incoming::parse(&raw, None).unwrap().automated, Some("auto_submitted"));
    }
}
