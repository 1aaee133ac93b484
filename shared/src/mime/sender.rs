//! Who sent a message when its `From:` is slightly broken or missing: the address repaired
//! (a trailing dot, spaces, no angle brackets), else `Sender:`, `Reply-To:`, then the envelope
//! sender SES reports.

use crate::domain::email::EmailAddress;
use mail_parser::{Address, Message};
use serde::Serialize;

/// Where the sender's address was read. Only an address read as `From:` wrote it is the one
/// SES's DMARC verdict speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderSource {
    #[default]
    From,
    /// `From:`, but only after repairing how it was written.
    RepairedFrom,
    Sender,
    ReplyTo,
    /// The envelope sender (`MAIL FROM`), when no header names anyone.
    Envelope,
}

impl SenderSource {
    /// Whether the address is `From:` exactly as written (what DMARC checks).
    pub fn is_from_header(self) -> bool {
        self == SenderSource::From
    }
}

/// The sender's address and where it was found; None when nothing names one.
pub(super) fn sender(message: &Message, envelope_from: Option<&str>) -> Option<(String, SenderSource)> {
    let first = |a: Option<&Address>| a.and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string);
    if let Some(from) = first(message.from()) {
        if EmailAddress::parse(&from).is_ok() {
            return Some((from, SenderSource::From));
        }
    }
    let raw_from = message.header_raw("From").map(str::to_string).or_else(|| first(message.from()));
    if let Some(repaired) = raw_from.as_deref().and_then(repair) {
        return Some((repaired, SenderSource::RepairedFrom));
    }
    let header = |name: &str, parsed: Option<&Address>| {
        first(parsed).filter(|a| EmailAddress::parse(a).is_ok()).or_else(|| message.header_raw(name).and_then(repair))
    };
    if let Some(sender) = header("Sender", message.sender()) {
        return Some((sender, SenderSource::Sender));
    }
    if let Some(reply_to) = header("Reply-To", message.reply_to()) {
        return Some((reply_to, SenderSource::ReplyTo));
    }
    envelope_from.and_then(repair).map(|e| (e, SenderSource::Envelope))
}

/// The one address in a slightly broken mailbox: inside its last `<...>` when there is one;
/// the one word with an `@` (`Name user@example.com`); else with its spaces removed
/// (`ann @ example.com`); without a trailing dot or stray quotes. None when it names no
/// address, or two.
pub(super) fn repair(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    let words: Vec<&str> = inner.split_whitespace().collect();
    let mut with_at = words.iter().enumerate().filter(|(_, w)| w.contains('@'));
    let (Some((at, _)), None) = (with_at.next(), with_at.next()) else { return None };
    // The word with the `@` alone (`Name user@example.com`), else joined to the words beside
    // it (`ann @ example.com`, `ann@exa mple.com`).
    let (before, after) = (at.saturating_sub(1), (at + 1).min(words.len() - 1));
    [(at, at), (at, after), (before, at), (before, after)].into_iter().find_map(|(first, last)| {
        let candidate = words[first..=last].concat();
        let trimmed = candidate.trim_matches(|c: char| "\"'<>()[],;:".contains(c)).trim_end_matches('.');
        EmailAddress::parse(trimmed).ok().map(|_| trimmed.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn sender_of(headers: &str, envelope: Option<&str>) -> Option<(String, SenderSource)> {
        let raw = format!("{headers}Subject: x\r\n\r\nhi\r\n");
        sender(&MessageParser::default().parse(raw.as_bytes()).unwrap(), envelope)
    }

    #[test]
    fn slightly_broken_from_addresses_are_repaired() {
        for (from, want) in [
            ("Ann <ann@example.com.>", "ann@example.com"),
            ("ann@example.com.", "ann@example.com"),
            ("Ann <ann @ example.com>", "ann@example.com"),
            ("ann@exa mple.com", "ann@example.com"),
            ("Ann Smith ann@example.com", "ann@example.com"),
        ] {
            let got = sender_of(&format!("From: {from}\r\n"), None);
            assert_eq!(got, Some((want.to_string(), SenderSource::RepairedFrom)), "{from}");
        }
        for exact in ["Ann <ann@example.com>", "\"Smith, Ann\" <ann@example.com>", "ann@example.com (Ann)"] {
            let got = sender_of(&format!("From: {exact}\r\n"), None);
            assert_eq!(got, Some(("ann@example.com".into(), SenderSource::From)), "{exact}");
        }
    }

    #[test]
    fn without_a_usable_from_the_sender_reply_to_then_envelope_name_the_sender() {
        let got =
            sender_of("Sender: Desk Bot <bot@example.com>\r\nReply-To: ann@example.com\r\n", Some("env@example.com"));
        assert_eq!(got, Some(("bot@example.com".into(), SenderSource::Sender)));
        let got = sender_of("From: undisclosed\r\nReply-To: Ann <ann@example.com>\r\n", Some("env@example.com"));
        assert_eq!(got, Some(("ann@example.com".into(), SenderSource::ReplyTo)));
        assert_eq!(
            sender_of("To: hd@desk.example\r\n", Some("<env@example.com>")),
            Some(("env@example.com".into(), SenderSource::Envelope))
        );
        assert_eq!(sender_of("To: hd@desk.example\r\n", Some("")), None);
        assert_eq!(sender_of("To: hd@desk.example\r\n", None), None);
    }

    #[test]
    fn two_addresses_or_none_are_not_guessed_between() {
        assert_eq!(repair("ann@example.com bob@example.com"), None);
        assert_eq!(repair("Ann Smith"), None);
        assert_eq!(repair("@"), None);
        assert_eq!(repair("ann@@example.com"), None);
    }
}
