//! Reading a received message (mail-parser): who wrote it, to whom, the text, the thread it
//! answers, and whether a machine sent it.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

/// What the helpdesk needs of a received message, in plain types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncomingMail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To, then References newest first, without angle brackets.
    pub references: Vec<String>,
    pub from: Option<String>,
    /// Mailboxes in `From:` (more than one: nobody can say who wrote it).
    pub senders: usize,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// The text body; HTML-only mail is converted to text.
    pub text: String,
    /// Why a machine sent it (auto-reply, bounce, list), when one did.
    pub automated: Option<&'static str>,
    pub attachments: Vec<IncomingAttachment>,
}

/// A file that came with the message.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn attachments(message: &mail_parser::Message) -> Vec<IncomingAttachment> {
    message
        .attachments()
        .map(|part| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let name = part.attachment_name().map(str::to_string).unwrap_or_else(|| "attachment".into());
            IncomingAttachment { name, content_type, bytes: part.contents().to_vec() }
        })
        .collect()
}

/// Parses raw RFC 822 bytes; None when nothing message-like is there. Never panics on
/// malformed or truncated input (mail-parser reads what it can).
pub fn parse(raw: &[u8], envelope_from: Option<&str>) -> Option<IncomingMail> {
    let message = MessageParser::default().parse(raw)?;
    let ids = |value: &HeaderValue| -> Vec<String> {
        match value {
            HeaderValue::Text(t) => vec![t.to_string()],
            HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
            _ => vec![],
        }
    };
    let mut references = ids(message.in_reply_to());
    let mut older = ids(message.references());
    older.reverse();
    references.extend(older);
    references.retain(|r| !r.is_empty());
    references.dedup();
    let addresses = |a: Option<&Address>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address()).map(str::to_string).collect()).unwrap_or_default()
    };
    let automated = automated(&message, envelope_from);
    references.retain(|r| usable_id(r));
    let from = addresses(message.from());
    Some(IncomingMail {
        message_id: message.message_id().filter(|id| usable_id(id)).map(str::to_string),
        references,
        senders: from.len(),
        from: from.into_iter().next(),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or_default().to_string(),
        text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        automated,
        attachments: attachments(&message),
    })
}

/// A Message-ID worth remembering: short and without spaces (a sender may write anything).
fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 250 && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// RFC 3834 and the usual marks of machine mail. An auto-reply answered would answer back.
fn automated(message: &mail_parser::Message, envelope_from: Option<&str>) -> Option<&'static str> {
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if header("Auto-Submitted").is_some_and(|v| !v.is_empty() && v != "no") {
        return Some("auto_submitted");
    }
    if header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply")) {
        return Some("precedence");
    }
    if header("X-Autoreply").is_some() || header("X-Autorespond").is_some() {
        return Some("autoreply_header");
    }
    if message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        return Some("delivery_report");
    }
    let sender = message.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default();
    let local = sender.rsplit_once('@').map(|(l, _)| l).unwrap_or(sender).to_ascii_lowercase();
    if matches!(local.as_str(), "mailer-daemon" | "postmaster") {
        return Some("mailer_daemon");
    }
    // An empty envelope sender (`MAIL FROM:<>`) or Return-Path marks bounces and notices.
    let return_path = header("Return-Path");
    if envelope_from.is_some_and(|f| f.trim().trim_matches(['<', '>']).is_empty())
        || return_path.is_some_and(|r| r.trim_matches(['<', '>', ' ']).is_empty())
    {
        return Some("empty_return_path");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: Ann <ann@example.com>\r\nTo: help@desk.example\r\nCc: Bob <bob@example.com>, carl@example.com\r\nSubject: =?iso-8859-1?q?Caf=E9?= broken\r\nMessage-ID: <m1@example.com>\r\nIn-Reply-To: <m0@desk.example>\r\nReferences: <r1@x> <r2@x>\r\n\r\nHello\r\n";

    #[test]
    fn reads_addresses_ids_and_encoded_words() {
        let mail = parse(PLAIN.as_bytes(), Some("ann@example.com")).unwrap();
        assert_eq!(mail.from.as_deref(), Some("ann@example.com"));
        assert_eq!(mail.to, vec!["help@desk.example"]);
        assert_eq!(mail.cc, vec!["bob@example.com", "carl@example.com"]);
        assert_eq!(mail.subject, "Café broken");
        assert_eq!(mail.message_id.as_deref(), Some("m1@example.com"));
        assert_eq!(mail.references, vec!["m0@desk.example", "r2@x", "r1@x"]);
        assert_eq!(mail.text.trim(), "Hello");
        assert_eq!(mail.automated, None);
        assert_eq!(mail.senders, 1);
    }

    #[test]
    fn odd_message_ids_are_ignored() {
        let long = format!("<{}@x>", "a".repeat(300));
        let raw = PLAIN.replace("<m1@example.com>", &long).replace("<r1@x> <r2@x>", "<r1@x> <bad id@x>");
        let mail = parse(raw.as_bytes(), None).unwrap();
        assert_eq!(mail.message_id, None);
        assert!(!mail.references.iter().any(|r| r.len() > 250 || r.contains(' ')), "{:?}", mail.references);
        let two = PLAIN.replace("From: Ann <ann@example.com>", "From: ann@example.com, eve@example.com");
        assert_eq!(parse(two.as_bytes(), None).unwrap().senders, 2);
    }

    #[test]
    fn machines_are_recognised() {
        let with = |extra: &str| format!("{extra}{PLAIN}");
        for (extra, reason) in [
            ("Auto-Submitted: auto-replied\r\n", "auto_submitted"),
            ("Precedence: bulk\r\n", "precedence"),
            ("X-Autoreply: yes\r\n", "autoreply_header"),
            ("Return-Path: <>\r\n", "empty_return_path"),
        ] {
            assert_eq!(parse(with(extra).as_bytes(), None).unwrap().automated, Some(reason), "{extra}");
        }
        assert_eq!(parse(with("Auto-Submitted: no\r\n").as_bytes(), None).unwrap().automated, None);
        assert_eq!(parse(PLAIN.as_bytes(), Some("<>")).unwrap().automated, Some("empty_return_path"));
        let daemon = PLAIN.replace("Ann <ann@example.com>", "MAILER-DAEMON@mx.example.com");
        assert_eq!(parse(daemon.as_bytes(), None).unwrap().automated, Some("mailer_daemon"));
    }
}
