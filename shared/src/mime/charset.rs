//! Legacy charsets where a message does not say, or says wrong: raw 8-bit header bytes and
//! undeclared 8-bit bodies. mail-parser decodes declared charsets and RFC 2047 words itself;
//! these are the bytes it would read as UTF-8 and turn into U+FFFD.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, ISO_2022_JP, UTF_8};
use mail_parser::{Encoding as Transfer, Message, MessagePart, MimeHeaders};

/// The message without what comes before its first header: lines of spaces (or empty ones) and
/// an mbox `From ` separator, which would otherwise end the header block before it begins.
pub(super) fn skip_preamble(raw: &[u8]) -> &[u8] {
    let mut rest = raw;
    while let Some(end) = rest.iter().position(|&c| c == b'\n').map(|i| i + 1) {
        let line = &rest[..end];
        let blank = line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
        if !(blank || line.starts_with(b"From ")) {
            break;
        }
        rest = &rest[end..];
    }
    if rest.len() < raw.len() && looks_like_header(rest) {
        rest
    } else {
        raw
    }
}

/// Whether `text` starts with a header field (`Name:` with a printable ASCII name).
fn looks_like_header(text: &[u8]) -> bool {
    let name_len = text.iter().take_while(|&&c| c.is_ascii_graphic() && c != b':').count();
    name_len > 0 && text.get(name_len) == Some(&b':')
}

/// The encoding a message declares for its text: the first `charset` of a text part, else
/// of any part. None when it declares none or one encoding_rs does not know.
fn declared(message: &Message) -> Option<&'static Encoding> {
    let charset = |part: &MessagePart, text_only: bool| {
        let ct = part.content_type()?;
        if text_only && !ct.ctype().eq_ignore_ascii_case("text") {
            return None;
        }
        Encoding::for_label(ct.attribute("charset")?.trim().as_bytes())
    };
    let parts = &message.parts;
    parts.iter().find_map(|p| charset(p, true)).or_else(|| parts.iter().find_map(|p| charset(p, false)))
}

/// The legacy encoding of `bytes` as chardetng guesses it (never UTF-8 nor ISO-2022-JP, which
/// are 7-bit or valid UTF-8 already).
fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, Utf8Detection::Deny)
}

/// `bytes` in `encoding`, when every byte decodes.
fn strictly(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding.decode_without_bom_handling_and_without_replacement(bytes).map(|s| s.into_owned())
}

/// A header line mail-parser would misread: raw 8-bit bytes that are not UTF-8, or raw
/// ISO-2022-JP (7-bit, but escape sequences rather than RFC 2047 words).
fn misread(line: &[u8]) -> bool {
    std::str::from_utf8(line).is_err() || jis(line)
}

fn jis(line: &[u8]) -> bool {
    line.windows(2).any(|w| w == b"\x1b$")
}

/// The message with every header block that has misread lines rewritten as UTF-8 (mail-parser
/// reads raw header bytes as UTF-8, as RFC 6532 says, and would replace the rest): 8-bit lines
/// decoded in the charset the message declares for its body, else the one chardetng detects,
/// ISO-2022-JP lines as ISO-2022-JP. None when there is nothing to rewrite.
pub(super) fn utf8_headers(raw: &[u8], message: &Message) -> Option<Vec<u8>> {
    let lines = |(start, end): (usize, usize)| raw[start..end].split_inclusive(|&c| c == b'\n');
    let mut blocks: Vec<(usize, usize)> = message
        .parts
        .iter()
        .map(|p| (p.raw_header_offset() as usize, p.raw_body_offset() as usize))
        .filter(|&(start, end)| start < end && end <= raw.len() && lines((start, end)).any(misread))
        .collect();
    if blocks.is_empty() {
        return None;
    }
    blocks.sort_unstable();
    blocks.dedup();
    let sample: Vec<u8> =
        blocks.iter().flat_map(|b| lines(*b)).filter(|l| std::str::from_utf8(l).is_err()).flatten().copied().collect();
    let encoding = declared(message)
        .filter(|e| *e != UTF_8 && e.is_ascii_compatible() && strictly(e, &sample).is_some())
        .unwrap_or_else(|| detect(&sample));
    let mut out = Vec::with_capacity(raw.len() + sample.len());
    let mut done = 0;
    for (start, end) in blocks {
        if start < done {
            continue;
        }
        out.extend_from_slice(&raw[done..start]);
        for line in lines((start, end)) {
            if std::str::from_utf8(line).is_err() {
                out.extend_from_slice(encoding.decode_without_bom_handling(line).0.as_bytes());
            } else if let Some(text) = jis(line).then(|| strictly(ISO_2022_JP, line)).flatten() {
                out.extend_from_slice(text.as_bytes());
            } else {
                out.extend_from_slice(line);
            }
        }
        done = end;
    }
    out.extend_from_slice(&raw[done..]);
    Some(out)
}

/// A text part's text (HTML stays HTML). mail-parser's, unless it had to replace bytes because the part declares
/// no charset (or US-ASCII or UTF-8, or one it does not know) and is not UTF-8: then the
/// transfer-decoded bytes in the encoding chardetng detects.
pub(super) fn part_text(raw: &[u8], part: &MessagePart) -> String {
    let text = part.text_contents().unwrap_or_default();
    if !text.contains('\u{FFFD}') {
        return text.to_string();
    }
    let label = part.content_type().and_then(|ct| ct.attribute("charset")).map(|c| c.trim().to_ascii_lowercase());
    let undeclared = match label.as_deref() {
        None => true,
        Some(label) => {
            matches!(label, "us-ascii" | "ascii" | "utf-8" | "utf8") || Encoding::for_label(label.as_bytes()).is_none()
        }
    };
    let (start, end) = (part.raw_body_offset() as usize, part.raw_end_offset() as usize);
    let Some(body) = raw.get(start..end.max(start)) else { return text.to_string() };
    let bytes = match part.encoding {
        Transfer::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(body),
        Transfer::Base64 => mail_parser::decoders::base64::base64_decode(body),
        Transfer::None => Some(body.to_vec()),
    };
    match bytes {
        Some(bytes) if undeclared && std::str::from_utf8(&bytes).is_err() => {
            detect(&bytes).decode_without_bom_handling(&bytes).0.into_owned()
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn fixed(raw: &[u8]) -> Vec<u8> {
        let message = MessageParser::default().parse(raw).unwrap();
        utf8_headers(raw, &message).unwrap_or_else(|| raw.to_vec())
    }

    fn subject(raw: &[u8]) -> String {
        let raw = fixed(raw);
        MessageParser::default().parse(&raw).unwrap().subject().unwrap_or_default().to_string()
    }

    #[test]
    fn raw_latin1_headers_take_the_declared_body_charset() {
        let raw = b"From: ann@example.com\r\nSubject: Caf\xe9 cr\xe8me\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nLe caf\xe9\r\n";
        assert_eq!(subject(raw), "Café crème");
    }

    #[test]
    fn raw_headers_without_a_declared_charset_are_detected() {
        // GB2312 (打印机坏了, "the printer is broken") and Shift_JIS (印刷できません).
        let gb = b"From: ann@example.com\r\nSubject: \xb4\xf2\xd3\xa1\xbb\xfa\xbb\xb5\xc1\xcb\r\n\r\nhi\r\n";
        assert_eq!(subject(gb), "打印机坏了");
        let sjis =
            b"From: ann@example.com\r\nSubject: \x88\xf3\x8d\xfc\x82\xc5\x82\xab\x82\xdc\x82\xb9\x82\xf1\r\n\r\nhi\r\n";
        assert_eq!(subject(sjis), "印刷できません");
        // A declared UTF-8 body says nothing of raw Latin-1 headers: detected too.
        let wrong = b"From: ann@example.com\r\nSubject: Re\xe7u le re\xe7u\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n";
        assert_eq!(subject(wrong), "Reçu le reçu");
    }

    #[test]
    fn raw_iso_2022_jp_headers_are_decoded() {
        // 印刷 ("printing") in JIS escapes, written raw instead of as an RFC 2047 word.
        let raw = b"From: ann@example.com\r\nSubject: \x1b$B0u:~\x1b(B error\r\n\r\nhi\r\n";
        assert_eq!(subject(raw), "印刷 error");
        // An escape that is not ISO-2022-JP is left as it came.
        let odd = b"From: ann@example.com\r\nSubject: \x1b$Z odd\r\n\r\nhi\r\n";
        assert_eq!(subject(odd), "\u{1b}$Z odd");
    }

    #[test]
    fn utf8_headers_are_left_alone_and_part_headers_are_fixed_too() {
        let utf8 = "From: ann@example.com\r\nSubject: Déjà vu\r\n\r\nhi\r\n".as_bytes();
        let message = MessageParser::default().parse(utf8).unwrap();
        assert_eq!(utf8_headers(utf8, &message), None);
        let part = b"From: ann@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"R\xe9sum\xe9.pdf\"\r\n\r\nxx\r\n--b--\r\n";
        let raw = fixed(part);
        let message = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(message.attachment(0).and_then(|a| a.attachment_name()), Some("Résumé.pdf"));
    }

    #[test]
    fn undeclared_8bit_bodies_are_detected_declared_ones_kept() {
        let raw = b"From: ann@example.com\r\nSubject: x\r\n\r\nLe caf\xe9 est froid, \xe7a ne va pas.\r\n";
        let message = MessageParser::default().parse(raw).unwrap();
        assert_eq!(part_text(raw, &message.parts[0]).trim(), "Le café est froid, ça ne va pas.");
        let qp = b"From: ann@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus M=FCnchen\r\n";
        let message = MessageParser::default().parse(qp).unwrap();
        assert_eq!(part_text(qp, &message.parts[0]).trim(), "Grüße aus München");
        // A replacement character the sender wrote stays.
        let written = "From: a@b.example\r\nSubject: x\r\n\r\nbroken \u{FFFD} char\r\n".as_bytes();
        let message = MessageParser::default().parse(written).unwrap();
        assert_eq!(part_text(written, &message.parts[0]).trim(), "broken \u{FFFD} char");
    }

    #[test]
    fn lines_of_spaces_and_mbox_separators_before_the_headers_are_skipped() {
        let raw = b"   \r\n\r\nFrom: ann@example.com\r\nSubject: After spaces\r\n\r\nhi\r\n";
        let message = MessageParser::default().parse(skip_preamble(raw)).unwrap();
        assert_eq!(message.subject(), Some("After spaces"));
        let mbox = b"From ann@example.com Mon Nov 23 10:00:00 2026\r\nFrom: ann@example.com\r\nSubject: mbox\r\n\r\nhi";
        assert!(skip_preamble(mbox).starts_with(b"From: ann"));
        // A body that is only spaces is not skipped into nothing.
        assert_eq!(skip_preamble(b"  \r\n"), b"  \r\n");
        assert_eq!(skip_preamble(b"\r\nhello"), b"\r\nhello");
    }
}
