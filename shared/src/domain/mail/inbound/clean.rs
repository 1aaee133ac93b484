//! Received text made fit for a request: one-line summaries, and bounded bodies with none of
//! the helpdesk's own secrets quoted back into a thread (`scrub`).

use super::scrub::redact;
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
    // Control characters go before the secrets: dropped after, they could join a token that
    // they split back together.
    let kept: String =
        text.replace("\r\n", "\n").chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let text = redact(app, &kept);
    let trimmed = text.trim();
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
