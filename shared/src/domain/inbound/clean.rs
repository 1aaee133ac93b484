//! Received text made fit for a request: one-line summaries, bounded bodies, and none of the
//! helpdesk's own secrets (public links, reply addresses) quoted back into a thread, where
//! everyone else on it would read them.

use crate::domain::requests::MAX_SUMMARY;
use crate::App;

/// A subject as a summary: one line, not blank, not too long.
pub(super) fn clean_subject(subject: &str) -> String {
    let line: String =
        crate::text::strip_format_chars(subject).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let line: String = line.chars().take(MAX_SUMMARY).collect();
    if line.is_empty() {
        "(no subject)".to_string()
    } else {
        line
    }
}

/// A body as text: newlines normalised, other control characters dropped, the helpdesk's
/// links and reply addresses removed, cut to `max` characters.
pub(super) fn clean_text(app: &App, text: &str, max: usize, empty: &str) -> String {
    let text = redact(app, &text.replace("\r\n", "\n"));
    let kept: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let trimmed = kept.trim();
    if trimmed.is_empty() {
        return empty.to_string();
    }
    const CUT: &str = "\n[… cut: the message was longer than a request can hold]";
    if trimmed.chars().count() <= max {
        return trimmed.to_string();
    }
    let keep = max - CUT.chars().count();
    format!("{}{CUT}", trimmed.chars().take(keep).collect::<String>())
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+')
}

/// Every public link (`<base>/p/<token>`) and reply address (`reply.…@<support domain>`)
/// the helpdesk sent, as quoted in a reply: each is someone's key to the request.
fn redact(app: &App, text: &str) -> String {
    let link = format!("{}/p/", app.config.public_base_url);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&link) {
        out.push_str(&rest[..at]);
        let after = &rest[at + link.len()..];
        let end = after.find(|c: char| !token_char(c)).unwrap_or(after.len());
        out.push_str("[link removed]");
        rest = &after[end..];
    }
    out.push_str(rest);
    let domain = format!("@{}", app.config.support_domain.to_ascii_lowercase());
    let lower = out.to_ascii_lowercase();
    let mut redacted = String::with_capacity(out.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(&domain) {
        let at = from + found;
        let start = lower[..at].rfind(|c: char| !token_char(c)).map(|i| i + 1).unwrap_or(0);
        if lower[start..at].starts_with("reply.") && start >= copied {
            redacted.push_str(&out[copied..start]);
            redacted.push_str("[address removed]");
            copied = at + domain.len();
        }
        from = at + domain.len();
    }
    redacted.push_str(&out[copied..]);
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_bodies_are_cleaned() {
        let (app, _, _) = crate::testing::memory_app();
        assert_eq!(clean_subject("  Re:\tHelp\r\n me "), "Re: Help me");
        assert_eq!(clean_subject(""), "(no subject)");
        assert_eq!(clean_text(&app, "a\r\nb\u{7}", 100, "-"), "a\nb");
        let long = clean_text(&app, &"x".repeat(200), 100, "-");
        assert_eq!(long.chars().count(), 100);
        assert!(long.ends_with("hold]"));
    }

    #[test]
    fn the_helpdesks_links_and_reply_addresses_are_not_quoted_back() {
        let (app, _, _) = crate::testing::memory_app();
        let quoted = "Thanks!\n> Open it: http://127.0.0.1:3000/p/k1.SEQtMQ.abc_-9 or reply.\n> Reply-To: <reply.k1.hd-1.g22.abcdefghijklmnop@Desk.Example>\n> write to hd@desk.example";
        let clean = clean_text(&app, quoted, 1000, "-");
        assert_eq!(
            clean,
            "Thanks!\n> Open it: [link removed] or reply.\n> Reply-To: <[address removed]>\n> write to hd@desk.example"
        );
    }
}
