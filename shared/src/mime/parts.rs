//! Which parts of a message are its text and which are files, as a person reading it in a mail
//! client sees them: every text part in order, the richer of alternatives, and every file
//! listed with a name (its own, else one made from what it is).

use super::charset::part_text;
use super::incoming::IncomingAttachment;
use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// Nesting followed at most (mail-parser bounds it too).
const MAX_DEPTH: usize = 32;
/// Characters kept of an enclosed message's subject, as its file name.
const MAX_SUBJECT_NAME: usize = 100;

/// `type/subtype`, lower case; a part without a Content-Type is text/plain.
pub(super) fn mime_type(part: &MessagePart) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        }
        .to_ascii_lowercase(),
        None if part.is_text() => "text/plain".into(),
        None if part.is_message() => "message/rfc822".into(),
        None => "application/octet-stream".into(),
    }
}

/// A file rather than text: anything but plain text and HTML, and any part sent as an
/// attachment or with a file name (an inline `notes.txt` is a file the sender attached).
fn is_file(part: &MessagePart) -> bool {
    match &part.body {
        PartType::Multipart(_) => false,
        PartType::Message(_) => true,
        _ => {
            let kind = mime_type(part);
            let text = kind == "text/plain" || kind == "text/html";
            let attachment = part.content_disposition().is_some_and(|d| d.is_attachment());
            !text || attachment || part.attachment_name().is_some_and(|n| !n.trim().is_empty())
        }
    }
}

/// Text of one part and whether it came from HTML.
struct Text {
    text: String,
    html: bool,
}

impl Text {
    fn blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// The message's text: HTML converted; in `multipart/alternative` the plain part unless it is
/// blank (then the richest part that is not); in `multipart/related` its root; elsewhere every
/// text part in order, separated by a blank line.
///
/// A message whose only text is an inline part with a file name (`body.txt`) shows that text,
/// as a mail client does, besides listing it as a file.
pub(super) fn body_text(raw: &[u8], message: &Message) -> String {
    let text = text_of(raw, message, 0, 0).map(|t| t.text).unwrap_or_default();
    if !text.trim().is_empty() {
        return text;
    }
    let inline_named = |part: &&MessagePart| {
        matches!(mime_type(part).as_str(), "text/plain" | "text/html")
            && !part.content_disposition().is_some_and(|d| d.is_attachment())
    };
    match message.parts.iter().find(inline_named) {
        Some(part) if part.is_text_html() => mail_parser::decoders::html::html_to_text(&part_text(raw, part)),
        Some(part) => part_text(raw, part),
        None => text,
    }
}

fn text_of(raw: &[u8], message: &Message, id: usize, depth: usize) -> Option<Text> {
    let part = message.parts.get(id)?;
    if depth > MAX_DEPTH || is_file(part) {
        return None;
    }
    let PartType::Multipart(children) = &part.body else {
        let text = part_text(raw, part);
        return Some(if part.is_text_html() {
            Text { text: mail_parser::decoders::html::html_to_text(&text), html: true }
        } else {
            Text { text, html: false }
        });
    };
    let mut texts = children.iter().filter_map(|&child| text_of(raw, message, child as usize, depth + 1));
    match mime_type(part).as_str() {
        "multipart/alternative" => {
            let texts: Vec<Text> = texts.collect();
            let plain = texts.iter().position(|t| !t.html && !t.blank());
            let richest = texts.iter().rposition(|t| !t.blank());
            let chosen = plain.or(richest).unwrap_or(0);
            texts.into_iter().nth(chosen)
        }
        "multipart/related" => texts.next(),
        _ => {
            let texts: Vec<Text> = texts.filter(|t| !t.blank()).collect();
            let html = texts.iter().any(|t| t.html);
            let joined: Vec<&str> = texts.iter().map(|t| t.text.trim_end()).collect();
            Some(Text { text: joined.join("\n\n"), html })
        }
    }
}

/// Every file of the message, in order; an enclosed message is one file (`.eml`).
pub(super) fn files(raw: &[u8], message: &Message) -> Vec<IncomingAttachment> {
    message
        .parts
        .iter()
        .filter(|part| is_file(part))
        .map(|part| {
            let content_type = mime_type(part);
            let bytes = if part.is_text() { part_text(raw, part).into_bytes() } else { part.contents().to_vec() };
            IncomingAttachment { name: file_name(raw, part, &content_type), content_type, bytes }
        })
        .collect()
}

/// The part's own name (RFC 2047 words folded inside it repaired); else the enclosed message's
/// subject as `.eml`; else its Content-ID; else `attachment`; with the type's usual extension
/// when a made-up name has none.
fn file_name(raw: &[u8], part: &MessagePart, content_type: &str) -> String {
    let named = part.attachment_name().map(repair_encoded_words).or_else(|| {
        raw_parameter(raw, part, "Content-Disposition", "filename")
            .or_else(|| raw_parameter(raw, part, "Content-Type", "name"))
            .map(|name| repair_encoded_words(&name))
    });
    if let Some(name) = named.filter(|n| !n.trim().is_empty()) {
        return name;
    }
    let extension = extension_of(content_type);
    if let Some(message) = part.message() {
        let subject: String = message
            .subject()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { ' ' } else { c })
            .take(MAX_SUBJECT_NAME)
            .collect();
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        return format!("{}.eml", if subject.is_empty() { "message" } else { &subject });
    }
    let base = part
        .content_id()
        .map(|id| id.trim().trim_matches(['<', '>']))
        .map(|id| id.split_once('@').map_or(id, |(local, _)| local))
        .filter(|id| !id.is_empty() && !id.contains(['/', '\\']))
        .unwrap_or("attachment");
    match extension {
        Some(ext) if !has_extension_for(base, content_type) => format!("{base}.{ext}"),
        _ => base.to_string(),
    }
}

/// Usual extensions by type; the first of a type is the one a made-up name gets.
const EXTENSIONS: &[(&str, &str)] = &[
    ("application/pdf", "pdf"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/jpeg", "jpeg"),
    ("image/jpg", "jpg"),
    ("image/pjpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
    ("image/bmp", "bmp"),
    ("image/tiff", "tif"),
    ("image/tiff", "tiff"),
    ("image/svg+xml", "svg"),
    ("image/heic", "heic"),
    ("text/plain", "txt"),
    ("text/html", "html"),
    ("text/html", "htm"),
    ("text/csv", "csv"),
    ("text/calendar", "ics"),
    ("text/vcard", "vcf"),
    ("text/x-vcard", "vcf"),
    ("text/xml", "xml"),
    ("text/rfc822-headers", "txt"),
    ("message/rfc822", "eml"),
    ("message/delivery-status", "txt"),
    ("message/disposition-notification", "txt"),
    ("application/xml", "xml"),
    ("application/json", "json"),
    ("application/zip", "zip"),
    ("application/gzip", "gz"),
    ("application/x-7z-compressed", "7z"),
    ("application/vnd.rar", "rar"),
    ("application/msword", "doc"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("application/vnd.ms-excel", "xls"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("application/vnd.ms-powerpoint", "ppt"),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/rtf", "rtf"),
    ("application/ics", "ics"),
    ("application/pgp-signature", "asc"),
    ("application/pgp-keys", "asc"),
    ("application/pkcs7-signature", "p7s"),
    ("application/x-pkcs7-signature", "p7s"),
    ("application/octet-stream", "bin"),
    ("audio/mpeg", "mp3"),
    ("audio/wav", "wav"),
    ("audio/ogg", "ogg"),
    ("video/mp4", "mp4"),
    ("video/quicktime", "mov"),
];

fn extension_of(content_type: &str) -> Option<&'static str> {
    EXTENSIONS.iter().find(|(kind, _)| *kind == content_type).map(|(_, ext)| *ext)
}

fn has_extension_for(name: &str, content_type: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        EXTENSIONS.iter().any(|(kind, known)| *kind == content_type && known.eq_ignore_ascii_case(ext))
    })
}

/// A name with RFC 2047 words mail-parser left encoded because a fold fell inside one (the
/// whitespace of the fold removed, then decoded); other names as they are.
fn repair_encoded_words(name: &str) -> String {
    if !name.contains("=?") {
        return name.to_string();
    }
    let mut unfolded = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find("=?") {
        unfolded.push_str(&rest[..start]);
        let word = &rest[start..];
        // `=?charset?E?text?=`: the word ends at the `?=` that is its fourth `?`.
        let end = word.match_indices('?').nth(3).filter(|(i, _)| word[*i..].starts_with("?=")).map(|(i, _)| i + 2);
        let Some(end) = end else {
            unfolded.push_str(word);
            rest = "";
            break;
        };
        // A fold written like a quoted-printable soft break (`=` before it) goes with it.
        let mut chars = word[..end].chars().peekable();
        while let Some(c) = chars.next() {
            if c == '=' && chars.peek().is_some_and(|n| n.is_whitespace()) {
                continue;
            }
            if !c.is_whitespace() {
                unfolded.push(c);
            }
        }
        rest = &word[end..];
    }
    unfolded.push_str(rest);
    let header = format!("Subject: {unfolded}\r\n\r\n");
    let decoded = MessageParser::default().parse(header.as_bytes()).and_then(|m| m.subject().map(str::to_string));
    decoded.filter(|d| !d.contains("=?")).unwrap_or_else(|| name.to_string())
}

/// A parameter read from the part's raw header when mail-parser found none (a fold between
/// `filename=` and its quoted value): unfolded, unquoted.
fn raw_parameter(raw: &[u8], part: &MessagePart, header: &str, parameter: &str) -> Option<String> {
    let field = part.headers().iter().find(|h| h.name().eq_ignore_ascii_case(header))?;
    let value = raw.get(field.offset_start() as usize..field.offset_end() as usize)?;
    let value: String = String::from_utf8_lossy(value).replace(['\r', '\n'], "");
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(parameter) {
        let at = from + found;
        from = at + parameter.len();
        let before = lower[..at].trim_end();
        let after = lower[from..].trim_start();
        if !(before.is_empty() || before.ends_with(';')) || !after.starts_with('=') {
            continue;
        }
        let rest = value[value.len() - after.len() + 1..].trim_start();
        let name = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default(),
            None => rest.split(';').next().unwrap_or_default().trim(),
        };
        return (!name.trim().is_empty()).then(|| name.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Vec<u8> {
        format!(
            "From: ann@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n{body}--b--\r\n"
        )
        .into_bytes()
    }

    fn read(raw: &[u8]) -> (String, Vec<(String, String, String)>) {
        let parsed = MessageParser::default().parse(raw).unwrap();
        let files = files(raw, &parsed)
            .into_iter()
            .map(|f| (f.name, f.content_type, String::from_utf8_lossy(&f.bytes).into_owned()))
            .collect();
        (body_text(raw, &parsed).replace("\r\n", "\n"), files)
    }

    #[test]
    fn every_text_part_of_mixed_mail_is_kept_in_order() {
        let raw = message("--b\r\nContent-Type: text/plain\r\n\r\nFirst part.\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--b\r\nContent-Type: text/plain\r\n\r\nSecond part.\r\n");
        let (text, files) = read(&raw);
        assert_eq!(text, "First part.\n\nSecond part.");
        assert_eq!(files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), ["attachment.png"]);
    }

    #[test]
    fn a_blank_plain_alternative_gives_way_to_the_html_one() {
        let alternative = "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\n \r\n--a\r\nContent-Type: text/html\r\n\r\n<p>The <b>VPN</b> drops.</p>\r\n--a--\r\n";
        let raw = format!("From: ann@example.com\r\nSubject: x\r\n{alternative}");
        assert_eq!(read(raw.as_bytes()).0.trim(), "The VPN drops.");
        let full = raw.replace("\r\n \r\n--a", "\r\nPlain wins.\r\n--a");
        assert_eq!(read(full.as_bytes()).0.trim(), "Plain wins.");
    }

    #[test]
    fn an_inline_text_part_with_a_file_name_is_a_file() {
        let raw = message("--b\r\nContent-Type: text/plain\r\n\r\nSee the log.\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Disposition: inline; filename=\"log.txt\"\r\n\r\nerror 42\r\n");
        let (text, files) = read(&raw);
        assert_eq!(text.trim(), "See the log.");
        assert_eq!(files.len(), 1);
        assert_eq!((files[0].0.as_str(), files[0].1.as_str()), ("log.txt", "text/plain"));
        assert_eq!(files[0].2.trim(), "error 42");
        // When it is the only text there is, it is the text too.
        let only = message("--b\r\nContent-Type: text/plain; name=\"body.txt\"\r\n\r\nThe only words.\r\n--b\r\nContent-Type: image/png\r\n\r\nPNG\r\n");
        let (text, files) = read(&only);
        assert_eq!(text.trim(), "The only words.");
        assert_eq!(files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), ["body.txt", "attachment.png"]);
    }

    #[test]
    fn files_without_names_are_named_from_what_they_are() {
        let enclosed = "--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: bob@example.com\r\nSubject: Re: Order #12 / March\r\n\r\nold\r\n";
        let cid = "--b\r\nContent-Type: image/jpeg\r\nContent-ID: <logo.jpg@01D9>\r\n\r\nJPEG\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <part1.0607@example.com>\r\n\r\nPNG\r\n";
        let bare = "--b\r\nContent-Type: application/pdf\r\n\r\nPDF\r\n--b\r\nContent-Type: application/x-unknown\r\n\r\n??\r\n";
        let raw = message(&format!("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n{enclosed}{cid}{bare}"));
        let names: Vec<String> = read(&raw).1.into_iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            ["Re Order #12 March.eml", "logo.jpg", "part1.0607.png", "attachment.pdf", "attachment"],
            "made-up names"
        );
    }

    #[test]
    fn an_encoded_word_folded_inside_a_quoted_name_is_decoded() {
        let raw = message("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?UTF-8?Q?Rapport_=C3=A9t=C3=A9\r\n .pdf?=\"\r\n\r\nPDF\r\n");
        assert_eq!(read(&raw).1[0].0, "Rapport été.pdf");
        // Folds mail-parser leaves encoded (inside the charset, or after a soft-break `=`) or
        // loses (between `filename=` and its quoted value).
        for disposition in [
            "filename=\"=?UTF-\r\n 8?Q?Rapport_=C3=A9t=C3=A9.pdf?=\"",
            "filename=\"=?UTF-8?Q?Rapport_=C3=A9t=\r\n =C3=A9.pdf?=\"",
            "filename=\r\n \"=?UTF-8?Q?Rapport_=C3=A9t=C3=A9.pdf?=\"",
        ] {
            let raw = message(&format!("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; {disposition}\r\n\r\nPDF\r\n"));
            assert_eq!(read(&raw).1[0].0, "Rapport été.pdf", "{disposition}");
        }
        assert_eq!(repair_encoded_words("plain name.pdf"), "plain name.pdf");
        assert_eq!(repair_encoded_words("=?broken"), "=?broken");
    }
}
