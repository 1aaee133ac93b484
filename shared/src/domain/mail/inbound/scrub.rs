//! The helpdesk's own secrets (public links, reply addresses) found in received text, however
//! mail clients and security gateways wrapped them, so none is quoted back into a thread where
//! everyone else on it would read it.

use super::decode::{base64_parameters, positions, proofpoint_v3, web_decoded};
use crate::App;

/// What a quoted secret was, named by the mark left in its place.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Secret {
    Link,
    Address,
}

impl Secret {
    fn mark(self) -> &'static str {
        match self {
            Secret::Link => "[link removed]",
            Secret::Address => "[address removed]",
        }
    }
}

/// Decoded copies of one word searched at most (none longer than the word): a crafted word
/// costs a bounded multiple of its length.
const MAX_VARIANTS: usize = 16;
/// Decodings stacked at most: percent-encoding twice, in an HTML character reference, in a
/// gateway's wrapper is as deep as real mail goes.
const MAX_DEPTH: usize = 4;
/// Characters of a signed token's HMAC (32 bytes, base64url without padding).
const TAG_CHARS: usize = 43;
/// Characters of a reply address's short signature (signing::sign_short).
const SHORT_TAG_CHARS: usize = 16;

/// Every public link and reply address the helpdesk sent, as quoted in a reply: each is
/// someone's key to the request. Mail clients and security gateways rewrite them (Outlook
/// SafeLinks, Proofpoint, `mailto:`, `%40`, `&#64;`, `HTTP://`, another name of the host), so
/// they are found by their signed shape in the decoded copies of each word, and the whole word
/// goes: a wrapper URL that carries a token opens the request as well as the token does.
pub(super) fn redact(app: &App, text: &str) -> String {
    let ours = Ours::of(app);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in words(text) {
        let Some(secret) = ours.secret_in_word(&text[start..end]) else { continue };
        // Punctuation that ends a sentence is never part of a token: it stays.
        let end = start + text[start..end].trim_end_matches(['.', ',', ':', '!', '?']).len();
        out.push_str(&text[copied..start]);
        out.push_str(secret.mark());
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Byte ranges of the runs between whitespace, brackets and quotes: a link or an address with
/// whatever wraps it (`mailto:`, a gateway's URL, encodings) is one word.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let delimiter = |c: char| c.is_whitespace() || "<>()[]{}\"'`".contains(c);
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while chars.next_if(|&(_, c)| delimiter(c)).is_some() {}
        let (start, _) = chars.next()?;
        while chars.next_if(|&(_, c)| !delimiter(c)).is_some() {}
        Some((start, chars.peek().map_or(text.len(), |&(i, _)| i)))
    })
}

/// This deployment's own names, for the forms that have no signed shape.
struct Ours {
    /// `<public base URL>/p/`: what follows it was a link, signed or cut short.
    link_prefix: Vec<u8>,
    /// `@<support domain>`, after `reply.…`.
    reply_domain: Vec<u8>,
    /// The public base URL's host, as Mimecast names the site behind its opaque links.
    public_host: Vec<u8>,
    /// Shorter words hold no secret in any encoding: decoding never lengthens a word.
    shortest: usize,
}

impl Ours {
    fn of(app: &App) -> Ours {
        let base = app.config.public_base_url.to_ascii_lowercase();
        let authority = base.split_once("://").map_or(base.as_str(), |(_, rest)| rest);
        let host = authority.split(['/', ':', '?', '#']).next().unwrap_or_default();
        let link_prefix = format!("{base}/p/").into_bytes();
        let reply_domain = format!("@{}", app.config.support_domain.to_ascii_lowercase()).into_bytes();
        // `reply.k1.a.0.` and a short signature; `k1.a.` and an HMAC.
        let shortest =
            [13 + SHORT_TAG_CHARS, 5 + TAG_CHARS, link_prefix.len() + 1, "reply.".len() + reply_domain.len()]
                .into_iter()
                .min()
                .unwrap_or(0);
        Ours { link_prefix, reply_domain, public_host: host.as_bytes().to_vec(), shortest }
    }

    /// The secret in a word or in any of its decodings, searched depth first.
    fn secret_in_word(&self, word: &str) -> Option<Secret> {
        if word.len() < self.shortest {
            return None;
        }
        // Invisible characters inside a token hide it from a search, not from a reader.
        let mut pending = vec![(crate::text::strip_format_chars(word).into_bytes(), 0)];
        for _ in 0..MAX_VARIANTS {
            let Some((text, depth)) = pending.pop() else { break };
            if let Some(secret) = self.secret_in(&text) {
                return Some(secret);
            }
            if depth < MAX_DEPTH {
                let decoded = [web_decoded(&text), proofpoint_v3(&text), base64_parameters(&text)];
                pending.extend(decoded.into_iter().flatten().map(|d| (d, depth + 1)));
            }
        }
        None
    }

    fn secret_in(&self, text: &[u8]) -> Option<Secret> {
        if has_signed_token(text) || self.has_link(text) || self.has_mimecast_link(text) {
            Some(Secret::Link)
        } else if has_reply_local_part(text) || self.has_reply_address(text) {
            Some(Secret::Address)
        } else {
            None
        }
    }

    /// `<base>/p/` and a token character, in any case.
    fn has_link(&self, text: &[u8]) -> bool {
        let after = self.link_prefix.len();
        positions(text, &self.link_prefix).any(|at| text.get(at + after).is_some_and(|&c| base64url(c)))
    }

    /// `reply.…@<support domain>`, in any case, signed or not.
    fn has_reply_address(&self, text: &[u8]) -> bool {
        positions(text, &self.reply_domain).any(|at| {
            let start = text[..at].iter().rposition(|&c| !address_byte(c)).map_or(0, |i| i + 1);
            text[start..at].get(..6).is_some_and(|head| head.eq_ignore_ascii_case(b"reply."))
        })
    }

    /// Mimecast rewrites a link to an opaque id and names the site's host beside it: there is
    /// no token to find, but the link still leads to it.
    fn has_mimecast_link(&self, text: &[u8]) -> bool {
        let host_byte = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-');
        positions(text, b"mimecast.com/s/").next().is_some()
            && positions(text, b"domain=").any(|at| {
                let value = &text[at + "domain=".len()..];
                let end = value.iter().position(|c| !host_byte(c)).unwrap_or(value.len());
                value[..end].eq_ignore_ascii_case(&self.public_host)
            })
    }
}

fn base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')
}

fn address_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'+')
}

/// A signed token (signing::sign) anywhere in `text`: `k<digits>.<payload>.<HMAC>` in
/// base64url, its key id not the end of a longer word. Each run between dots is read at most
/// twice, so this is linear.
fn has_signed_token(text: &[u8]) -> bool {
    let run = |from: usize| text[from..].iter().take_while(|&&c| base64url(c)).count();
    (0..text.len()).any(|k| {
        if text[k] != b'k' || (k > 0 && text[k - 1].is_ascii_alphanumeric()) {
            return false;
        }
        let digits = text[k + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let first_dot = k + 1 + digits;
        if digits == 0 || text.get(first_dot) != Some(&b'.') {
            return false;
        }
        let payload = run(first_dot + 1);
        let second_dot = first_dot + 1 + payload;
        payload > 0
            && text.get(second_dot) == Some(&b'.')
            && text[second_dot + 1..].iter().take(TAG_CHARS).take_while(|&&c| base64url(c)).count() == TAG_CHARS
    })
}

/// A reply address's local part anywhere in `text`, in any case (reply_address.rs):
/// `reply.k<digits>.<request key>.<expiry day>.<short signature>`.
fn has_reply_local_part(text: &[u8]) -> bool {
    positions(text, b"reply.").any(|at| reply_shape(&text[at + "reply.".len()..]).is_some())
}

fn reply_shape(rest: &[u8]) -> Option<()> {
    // 1 to `max` bytes that are `ok`, then a dot: where the next field starts.
    let field = |from: usize, ok: fn(u8) -> bool, max: usize| {
        let n = rest.get(from..)?.iter().take(max + 1).take_while(|&&c| ok(c)).count();
        ((1..=max).contains(&n) && rest.get(from + n) == Some(&b'.')).then_some(from + n + 1)
    };
    rest.first().filter(|c| c.eq_ignore_ascii_case(&b'k'))?;
    let request_key = field(1, |c| c.is_ascii_digit(), 10)?;
    let expiry_day = field(request_key, |c| c.is_ascii_alphanumeric() || c == b'-', 32)?;
    let signature = field(expiry_day, |c| c.is_ascii_alphanumeric(), 4)?;
    let base32 = |c: &&u8| matches!(c.to_ascii_lowercase(), b'a'..=b'z' | b'2'..=b'7');
    let signature = rest.get(signature..)?.iter().take(SHORT_TAG_CHARS).take_while(base32).count();
    (signature == SHORT_TAG_CHARS).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::inbound::clean::clean_text;
    use crate::domain::signing;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    /// The test app, a public-link token and a reply address's local part it signed.
    async fn signed() -> (App, String, String) {
        let (app, _, _) = crate::testing::memory_app();
        let payload = "HD-1\n01J00000000000000000000ANN\n0123456789abcdef0123456789abcdef\n1802592000\n0";
        let token = signing::sign(&app, "public-link", payload).await.unwrap();
        let (kid, tag) = signing::sign_short(&app, "reply-address", "HD-1\n01J0ANN\n20863\n0").await.unwrap();
        (app, token, format!("reply.{kid}.hd-1.g3z.{tag}"))
    }

    /// `text` quoted in a reply, as cleaned.
    fn quoted(app: &App, text: &str) -> String {
        clean_text(app, &format!("Still broken.\n> Open it: {text}\n> Thanks"), 100_000, "-")
    }

    fn percent_encoded(text: &str) -> String {
        text.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    #[tokio::test]
    async fn links_are_found_by_their_signed_shape_in_any_wrapping() {
        let (app, token, _) = signed().await;
        let (head, tail) = token.split_at(12);
        let safelinks = "https://eur01.safelinks.protection.outlook.com/?url=";
        let v2 = token.replace('-', "-2D").replace('_', "-5F");
        let (v3, v3_sent_aside) = (token.replace('.', "*"), STANDARD.encode(".."));
        let entities = token.replace('.', "&#x2E;").replace('k', "&#107;");
        let sophos = STANDARD.encode(format!("https://desk.example/p/{token}"));
        let wrapped = [
            // Outlook SafeLinks: the token as it was, or every byte of it encoded.
            format!("{safelinks}http%3A%2F%2F127.0.0.1%3A3000%2Fp%2F{token}&data=05%7C02%7C0&sdata=a%2Bb%3D"),
            format!("{safelinks}https%3A%2F%2Fdesk.example%2Fp%2F{}&amp;data=05", percent_encoded(&token)),
            // Proofpoint v2 (`-XX`, `_` for `/`) and v3 (`*` for characters sent aside).
            format!("https://urldefense.proofpoint.com/v2/url?u=http-3A__localhost-3A3000_p_{v2}&d=DwMFaQ&c=x_y&e="),
            format!("https://urldefense.com/v3/__http://localhost:3000/p/{v3}__;{v3_sent_aside}!!ABC!xyz$"),
            // v3 with a run: `**B` stands for the next three characters sent aside (`://`).
            format!(
                "https://urldefense.com/v3/__http**Blocalhost:3000/p/{v3}__;{}!!ABC!xyz$",
                STANDARD.encode("://..")
            ),
            // Percent-encoded twice, HTML references, base64 (Sophos).
            format!("http%253A%252F%252F127.0.0.1%253A3000%252Fp%252F{}", token.replace('.', "%252E")),
            format!("http&#58;//127.0.0.1:3000/p/{entities}"),
            token.replace('.', "&period;"),
            format!("https://eu-central-1.protection.sophos.com?d=desk.example&u={sophos}&i=NjE&t=abc&h=1"),
            format!("https://eu-central-1.protection.sophos.com?d=desk.example&u={}", sophos.trim_end_matches('=')),
            // Another scheme case, another name of the host, no URL at all.
            format!("HTTP://LOCALHOST:3000/p/{token}"),
            format!("«{token}»"),
            format!("*{head}\u{200B}{tail}*"),
            format!("|{token}|"),
        ];
        for text in wrapped {
            assert_eq!(quoted(&app, &text), "Still broken.\n> Open it: [link removed]\n> Thanks", "{text}");
        }
        // Mimecast links carry no token, only an id and the site's host.
        let mimecast = "https://protect-eu.mimecast.com/s/AbCdEfGhIjKl?domain=127.0.0.1";
        assert_eq!(quoted(&app, mimecast), "Still broken.\n> Open it: [link removed]\n> Thanks");
        // Around it, the sentence stays.
        let sentence = format!("(see <HTTP://127.0.0.1:3000/p/{token}>.)");
        assert_eq!(quoted(&app, &sentence), "Still broken.\n> Open it: (see <[link removed]>.)\n> Thanks");
        let sentence = format!("here: http://127.0.0.1:3000/p/{token}/reply. Bye");
        assert_eq!(quoted(&app, &sentence), "Still broken.\n> Open it: here: [link removed]. Bye\n> Thanks");
    }

    #[tokio::test]
    async fn reply_addresses_are_found_by_their_signed_shape_in_any_wrapping() {
        let (app, _, local) = signed().await;
        let wrapped = [
            format!("{local}%40desk.example"),
            format!("{local}&#64;desk.example"),
            format!("&lt;mailto:{local}&#x40;desk.example&gt;"),
            format!("mailto:{local}@desk.example?subject=Re%3A%20%5BHD-1%5D"),
            format!("mailto%3A{}%40desk.example", local.replace('.', "%2E")),
            format!("{}@DESK.EXAMPLE", local.to_uppercase()),
            format!("{local}-40desk.example"),
            format!("{local}@help.elsewhere.example"),
        ];
        for text in wrapped {
            assert_eq!(quoted(&app, &text), "Still broken.\n> Open it: [address removed]\n> Thanks", "{text}");
        }
        let quoted_local_part = format!("\"{local}\"@desk.example,");
        assert_eq!(
            quoted(&app, &quoted_local_part),
            "Still broken.\n> Open it: \"[address removed]\"@desk.example,\n> Thanks"
        );
    }

    /// `reply.…@<support domain>` goes signed or not (an old or cut-short address still names
    /// a request), after whatever ends the word's start (`mailto:`).
    #[test]
    fn unsigned_reply_addresses_of_the_support_domain_go_too() {
        let (app, _, _) = crate::testing::memory_app();
        for text in ["reply.x@desk.example", "mailto:reply.x@desk.example", "REPLY.Old@Desk.Example"] {
            assert_eq!(quoted(&app, text), "Still broken.\n> Open it: [address removed]\n> Thanks", "{text}");
        }
    }

    /// Each field of a reply address's local part may be as long as its longest value: a key
    /// number of 10 digits, a request key of 32 characters, an expiry day of 4.
    #[test]
    fn reply_local_parts_with_their_longest_fields_are_found() {
        let (app, _, _) = crate::testing::memory_app();
        let tag = "a".repeat(SHORT_TAG_CHARS);
        for local in [
            format!("reply.k1234567890.hd-1.g3z.{tag}"),
            format!("reply.k1.{}.g3z.{tag}", "h".repeat(32)),
            format!("reply.k1.hd-1.zzzz.{tag}"),
        ] {
            assert_eq!(quoted(&app, &local), "Still broken.\n> Open it: [address removed]\n> Thanks", "{local}");
        }
    }

    /// Query values of 20 characters and more are read as base64: under a short support domain
    /// a 20-character value can hold a reply address.
    #[test]
    fn a_base64_query_value_of_20_characters_is_decoded() {
        let (mut app, _, _) = crate::testing::memory_app();
        app.config.support_domain = "d.io".into();
        let value = STANDARD.encode("reply.abcd@d.io");
        assert_eq!(value.len(), 20);
        let text = format!("https://eu-central-1.protection.sophos.com?u={value}");
        assert_eq!(quoted(&app, &text), "Still broken.\n> Open it: [address removed]\n> Thanks");
    }

    /// With long names (support domain, public URL), the shortest secret is a bare reply
    /// address's local part: 29 characters, not skipped as too short.
    #[test]
    fn the_shortest_reply_local_part_is_found_whatever_the_deployments_names() {
        let (mut app, _, _) = crate::testing::memory_app();
        app.config.support_domain = "support.a-rather-long-company-name.example".into();
        app.config.public_base_url = "https://helpdesk.a-rather-long-company-name.example".into();
        let local = format!("reply.k1.a.0.{}", "a".repeat(SHORT_TAG_CHARS));
        assert_eq!(local.len(), 29);
        assert_eq!(quoted(&app, &local), "Still broken.\n> Open it: [address removed]\n> Thanks");
    }

    /// Decodings stack `MAX_DEPTH` deep, the cost bound of a crafted word: a token whose dots
    /// are percent-encoded four times over is found; five is past what real mail does.
    #[tokio::test]
    async fn decodings_stack_four_deep_and_no_deeper() {
        let (app, token, _) = signed().await;
        for (layers, found) in [(1, true), (4, true), (5, false)] {
            let word = token.replace('.', &format!("%{}2E", "25".repeat(layers - 1)));
            assert_eq!(quoted(&app, &word).contains("[link removed]"), found, "{layers} layers: {word}");
        }
    }

    #[test]
    fn ordinary_text_stays() {
        let (app, _, _) = crate::testing::memory_app();
        for text in [
            "See https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fexample.org%2Fa%3Fb%3D1&data=05",
            "write to hd@desk.example or reply. Thanks, noreply.k1@desk.example",
            "https://127.0.0.1:3000/requests/HD-1 and http://127.0.0.1:3000/p/ and HTTP://127.0.0.1:3000/",
            "reply.k1.hd-1 is no address, k1.abc.def no token, nor k8s.io",
            "k1.SEQtMQ.aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8 (too short a signature)",
            "disk1.backup.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U (a key id is not the end of a word)",
            "k.backup.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U (nor without its digits)",
            "k1..dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U (nor with no payload)",
            "reply.k.hd-1.g3z.abcdefghijklmnop (a reply key id has digits too)",
            "/v3/__https://a*b__;Lg!! (a word that starts with a gateway's marker)",
            "commit 3f2a9c1e0b7d4a6f8e2c1b0a9d8e7f6a5b4c3d2e",
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "https://protect-eu.mimecast.com/s/AbCdEfGhIjKl?domain=example.org",
            "100% &amp; %41 &#64; &lt;b&gt; &bogus; %zz",
        ] {
            assert_eq!(quoted(&app, text), format!("Still broken.\n> Open it: {text}\n> Thanks"));
        }
    }

    #[test]
    fn crafted_words_cost_a_bounded_pass() {
        let (app, _, _) = crate::testing::memory_app();
        for text in [
            "-k1.".repeat(20_000),
            "k1.A".repeat(20_000),
            "%2525".repeat(15_000),
            "&#38;".repeat(15_000),
            format!("https://urldefense.com/v3/__{}__;{}!", "**_".repeat(20_000), "A".repeat(20_000)),
            format!("?u={}", "QUFB".repeat(20_000)),
            "reply.".repeat(12_000),
        ] {
            let started = std::time::Instant::now();
            assert_eq!(quoted(&app, &text), format!("Still broken.\n> Open it: {text}\n> Thanks"));
            assert!(started.elapsed() < std::time::Duration::from_secs(2), "{}", &text[..20]);
        }
    }
}
