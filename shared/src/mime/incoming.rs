//! Reading a received message (mail-parser): who wrote it, to whom, the text, the files, the
//! thread it answers, and whether a machine sent it. Real mail is messier than the standards:
//! lines of spaces before the headers, raw 8-bit headers in legacy charsets, broken `From:`
//! addresses, and files without names are all read as a person would read them.

use super::{charset, machine, parts, sender};
use mail_parser::{Address, HeaderValue, Message, MessageParser};
pub use sender::SenderSource;

/// What the helpdesk needs of a received message, in plain types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncomingMail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To, then References newest first, without angle brackets.
    pub references: Vec<String>,
    /// The sender: `From:` (repaired when slightly broken), else `Sender:`, `Reply-To:`, then
    /// the envelope sender.
    pub from: Option<String>,
    /// Where `from` was found: only `From:` as written is what SES's DMARC verdict checked.
    pub sender_source: SenderSource,
    /// The `Return-Path:` address an MTA recorded (empty for `<>`), when there is one.
    pub return_path: Option<String>,
    /// Mailboxes in `From:` (more than one: nobody can say who wrote it).
    pub senders: usize,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// Every text part in order; HTML converted to text where it is the richer alternative.
    pub text: String,
    /// Why a machine sent it (the name of a rule in `machine::RULES`), when one did.
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

/// Parses raw RFC 822 bytes; None when nothing message-like is there. Never panics on
/// malformed or truncated input (mail-parser reads what it can).
pub fn parse(raw: &[u8], envelope_from: Option<&str>) -> Option<IncomingMail> {
    let raw = charset::skip_preamble(raw);
    let first = MessageParser::default().parse(raw)?;
    match charset::utf8_headers(raw, &first) {
        Some(fixed) => {
            drop(first);
            let message = MessageParser::default().parse(&fixed)?;
            Some(read(&message, &fixed, envelope_from))
        }
        None => Some(read(&first, raw, envelope_from)),
    }
}

fn read(message: &Message, raw: &[u8], envelope_from: Option<&str>) -> IncomingMail {
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
    let replying = !references.is_empty();
    references.retain(|r| usable_id(r));
    let addresses = |a: Option<&Address>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address()).map(str::to_string).collect()).unwrap_or_default()
    };
    let text = parts::body_text(raw, message);
    let sender = sender::sender(message, envelope_from);
    let subject = message.subject().unwrap_or_default().to_string();
    let facts = facts(message, sender.as_ref().map(|(s, _)| s.as_str()), envelope_from, &subject, &text, replying);
    let (from, sender_source) = sender.map_or((None, SenderSource::default()), |(s, source)| (Some(s), source));
    IncomingMail {
        message_id: message.message_id().filter(|id| usable_id(id)).map(str::to_string),
        references,
        senders: senders(message),
        return_path: message.header_raw("Return-Path").map(|r| r.trim().trim_matches(['<', '>']).trim().to_string()),
        from,
        sender_source,
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject,
        text,
        automated: machine::verdict(&facts),
        attachments: parts::files(raw, message),
    }
}

/// Mailboxes in `From:`, counting an entry written as two bare addresses (`a@x b@y`, which
/// no repair may choose between) as two.
fn senders(message: &Message) -> usize {
    let written = |address: &str| address.split_whitespace().filter(|w| w.contains('@')).count().max(1);
    message.from().map_or(0, |a| a.iter().map(|x| x.address().map_or(1, written)).sum())
}

/// A Message-ID worth remembering: short and without spaces (a sender may write anything).
fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 250 && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What the machine-mail rules look at.
fn facts(
    message: &Message,
    sender: Option<&str>,
    envelope_from: Option<&str>,
    subject: &str,
    text: &str,
    replying: bool,
) -> machine::Facts {
    let lower = |s: &str| s.trim().to_lowercase();
    let headers = message.headers_raw().map(|(name, value)| (lower(name), lower(value))).collect();
    let from = message.from().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default();
    let mut senders: Vec<String> = from.iter().filter_map(|a| a.address()).map(lower).collect();
    senders.extend(message.sender().into_iter().flat_map(|a| a.iter()).filter_map(|a| a.address()).map(lower));
    senders.extend(sender.map(lower));
    let envelope = envelope_from.map(|e| lower(e.trim().trim_matches(['<', '>']))).unwrap_or_default();
    let return_path = message.header_raw("Return-Path").map(|r| r.trim_matches(['<', '>', ' ', '\r', '\n', '\t']));
    let empty_envelope = envelope_from.is_some_and(|f| f.trim().trim_matches(['<', '>']).trim().is_empty());
    machine::Facts {
        headers,
        senders,
        envelope,
        sender_names: from.iter().filter_map(|a| a.name()).map(lower).collect(),
        subject: lower(subject),
        content_type: message.parts.first().map(parts::mime_type).unwrap_or_default(),
        part_types: message.parts.iter().map(parts::mime_type).collect(),
        text: lower(&text.chars().take(machine::TEXT_SAMPLE).collect::<String>()),
        empty_return_path: empty_envelope || return_path.is_some_and(str::is_empty),
        replying,
    }
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
        let bare = PLAIN.replace("From: Ann <ann@example.com>", "From: ann@example.com eve@example.com");
        assert_eq!(parse(bare.as_bytes(), None).unwrap().senders, 2);
        let named = PLAIN.replace("From: Ann <ann@example.com>", "From: Ann Example ann@example.com");
        let named = parse(named.as_bytes(), None).unwrap();
        assert_eq!((named.senders, named.from.as_deref()), (1, Some("ann@example.com")));
        assert_eq!(named.sender_source, SenderSource::RepairedFrom);
    }

    #[test]
    fn machines_are_recognised() {
        let with = |extra: &str| format!("{extra}{PLAIN}");
        for (extra, reason) in [
            ("Auto-Submitted: auto-replied\r\n", "auto_submitted"),
            ("Precedence: bulk\r\n", "precedence"),
            ("X-Autoreply: yes\r\n", "autoreply_header"),
            ("Return-Path: <>\r\n", "empty_return_path"),
            ("X-Apple-Action: VACATION\r\n", "apple_vacation"),
            ("X-Failed-Recipients: gone@example.org\r\n", "failed_recipients"),
        ] {
            assert_eq!(parse(with(extra).as_bytes(), None).unwrap().automated, Some(reason), "{extra}");
        }
        assert_eq!(parse(with("Auto-Submitted: no\r\n").as_bytes(), None).unwrap().automated, None);
        assert_eq!(parse(PLAIN.as_bytes(), Some("<>")).unwrap().automated, Some("empty_return_path"));
        let daemon = PLAIN.replace("Ann <ann@example.com>", "MAILER-DAEMON@mx.example.com");
        assert_eq!(parse(daemon.as_bytes(), None).unwrap().automated, Some("mailer_daemon"));
        // A daemon without a domain names nobody to answer, but is still a daemon.
        let bare = PLAIN.replace("Ann <ann@example.com>", "Mail Delivery Subsystem <MAILER-DAEMON>");
        assert_eq!(parse(bare.as_bytes(), Some("<>")).unwrap().automated, Some("mailer_daemon"));
        // A delivery-status part inside multipart/mixed, and a subject with the words of one.
        let mixed = "From: relay@mx.example.net\r\nSubject: Delivery Status Notification (Failure)\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--b--\r\n";
        assert_eq!(parse(mixed.as_bytes(), None).unwrap().automated, Some("delivery_status_part"));
        let subject_only =
            "From: relay@mx.example.net\r\nSubject: Delivery Status Notification (Failure)\r\n\r\nFailed.\r\n";
        assert_eq!(parse(subject_only.as_bytes(), None).unwrap().automated, Some("bounce_subject"));
        // The subject with a mail client and a quote of what it answers: a person.
        let person = format!(
            "User-Agent: Mutt/2.2\r\nSubject: Out of office: how do I turn it off?\r\n{}",
            PLAIN
                .replace("Subject: =?iso-8859-1?q?Caf=E9?= broken\r\n", "")
                .replace("Hello", "How?\r\n> Your request was updated")
        );
        assert_eq!(parse(person.as_bytes(), None).unwrap().automated, None);
    }
}
