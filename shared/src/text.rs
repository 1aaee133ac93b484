//! Text validation, secrets and hashes, cursors, ULIDs, timestamps for output.

use crate::error::ApiError;
use crate::model::Timestamp;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Checks a free-text field: not blank (when required), at most `max` characters, and no
/// control characters (newlines and tabs allowed only where `multiline`).
pub fn check_text(field: &str, value: &str, max: usize, multiline: bool, required: bool) -> Result<(), ApiError> {
    let message = match text_fault(value, max, multiline, required) {
        None => return Ok(()),
        Some(TextFault::Empty) => format!("{field} must not be empty"),
        Some(TextFault::TooLong) => format!("{field} must be at most {max} characters"),
        Some(TextFault::Control) => format!("{field} must not contain control characters"),
    };
    Err(ApiError::invalid("invalid_field", message))
}

/// What `check_text` refuses, for callers that say it in their own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    Empty,
    TooLong,
    Control,
}

pub fn text_fault(value: &str, max: usize, multiline: bool, required: bool) -> Option<TextFault> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if required && value.trim().is_empty() {
        Some(TextFault::Empty)
    } else if value.chars().count() > max {
        Some(TextFault::TooLong)
    } else if value.chars().any(|c| c.is_control() && !allowed(c)) {
        Some(TextFault::Control)
    } else {
        None
    }
}

/// Invisible formatting characters that change how text around them shows: bidirectional
/// overrides and isolates (U+202E turns `invoice\u{202E}fdp.exe` into "invoiceexe.pdf"), marks
/// and zero-width characters. Names and one-line texts are stored without them.
pub fn is_format_char(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

/// `text` without `is_format_char` characters.
pub fn strip_format_chars(text: &str) -> String {
    text.chars().filter(|c| !is_format_char(*c)).collect()
}

/// What `check_text` accepts (with at most `max` characters, the document's maxLength), as
/// the API document publishes it.
pub fn text_pattern(multiline: bool, required: bool) -> String {
    let allowed =
        if multiline { "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]" } else { "[^\\x00-\\x1f\\x7f-\\x9f]" };
    if !required {
        return format!("^{allowed}*$");
    }
    // Allowed and not White_Space (what `trim` removes); the rest of White_Space is control.
    let visible = "[^\\x00-\\x1f\\x7f-\\x9f \u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]";
    format!("^{allowed}*{visible}{allowed}*$")
}

/// Splits an email reply into its new text and the quoted history below it (the trailing
/// block of `>` lines, with the "On ... wrote:" line that introduces it), so views can fold
/// the history. Text without a trailing quote is all new.
pub fn split_quoted(body: &str) -> (&str, Option<&str>) {
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    let is_quote = |l: &str| l.trim_start().starts_with('>');
    let is_blank = |l: &str| l.trim().is_empty();
    // The quote is the tail from the first `>` line after which only `>` or blank lines follow.
    let mut start = lines.len();
    while start > 0 && (is_quote(lines[start - 1]) || is_blank(lines[start - 1])) {
        start -= 1;
    }
    while start < lines.len() && is_blank(lines[start]) {
        start += 1;
    }
    if start == lines.len() || !lines[start..].iter().any(|l| is_quote(l)) {
        return (body, None);
    }
    // "On Mon, 23 Nov 2026, Ann wrote:" (maybe after a blank line) belongs to the quote.
    let mut cut = start;
    let mut before = cut;
    while before > 0 && is_blank(lines[before - 1]) {
        before -= 1;
    }
    if before > 0 && lines[before - 1].trim_end().ends_with(':') {
        cut = before - 1;
    }
    let offset: usize = lines[..cut].iter().map(|l| l.len()).sum();
    let (new, quoted) = body.split_at(offset);
    if new.trim().is_empty() {
        return (body, None);
    }
    (new.trim_end(), Some(quoted.trim()))
}

/// 256 random bits, URL-safe: for magic links and sessions.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256: secrets are stored only as this.
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn rfc3339(ts: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// An RFC 3339 date and time as epoch seconds; None when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// Opaque page cursor: URL-safe base64 of the last item's keys.
pub fn encode_cursor(parts: &[&str]) -> String {
    let json = serde_json::to_vec(parts).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub fn decode_cursor(raw: &str) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::bad_request("invalid_cursor", "the cursor is not valid for this list");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// A ULID that sorts after every ULID this process made before, even within one millisecond,
/// so lists ordered by it follow creation order.
pub fn new_ulid() -> String {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    generator.generate().unwrap_or_else(|_| ulid::Ulid::new()).to_string()
}

/// A ULID at `at_ms` whose random part derives from `event`: what a redelivered event (or a
/// retried step) writes lands on the same item instead of beside it.
pub fn derived_ulid(at_ms: u64, event: &str) -> String {
    let digest = sha256_hex(event);
    let random = u128::from_str_radix(&digest[..20], 16).unwrap_or_default();
    ulid::Ulid::from_parts(at_ms, random).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_history_is_split_off() {
        let reply = "It is still smoking.\n\nOn Mon, 23 Nov 2026, Help Desk wrote:\n> Turn it off.\n> Thanks\n";
        assert_eq!(
            split_quoted(reply),
            ("It is still smoking.", Some("On Mon, 23 Nov 2026, Help Desk wrote:\n> Turn it off.\n> Thanks"))
        );
        assert_eq!(split_quoted("No quote here\nat all"), ("No quote here\nat all", None));
        // A quote in the middle, answered below, is part of the new text.
        let inline = "> Is it on?\nYes it is.\n";
        assert_eq!(split_quoted(inline), (inline, None));
        // Only a quote: nothing to fold it under.
        assert_eq!(split_quoted("> just this\n"), ("> just this\n", None));
        assert_eq!(split_quoted("Hi\n>q\n\n>q2"), ("Hi", Some(">q\n\n>q2")));
    }

    #[test]
    fn text_rules() {
        assert!(check_text("summary", "ok", 10, false, true).is_ok());
        assert!(check_text("summary", " ", 10, false, true).is_err());
        assert!(check_text("summary", "x".repeat(11).as_str(), 10, false, true).is_err());
        assert!(check_text("summary", "a\u{7}b", 10, false, true).is_err());
        assert!(check_text("summary", "a\nb", 10, false, true).is_err());
        assert!(check_text("description", "a\nb\tc", 10, true, false).is_ok());
    }

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = new_secret();
        assert_eq!(a.len(), 43); // 32 bytes
        assert_ne!(a, new_secret());
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(&["a", "b"]);
        assert_eq!(decode_cursor(&c).unwrap(), vec!["a", "b"]);
        assert!(decode_cursor("!!").is_err());
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
