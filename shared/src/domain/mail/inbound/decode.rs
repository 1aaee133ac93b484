//! The decodings a quoted link or address may hide behind: percent-encoding, HTML character
//! references, Proofpoint URL Defense v3, base64 query values.

use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let digit = |c: &u8| (*c as char).to_digit(16);
    match pair? {
        [high, low] => u8::try_from(digit(high)? * 16 + digit(low)?).ok(),
        _ => None,
    }
}

/// One pass of percent-decoding and HTML character references (`%40`, `&#64;`, `&#x40;`,
/// `&commat;`); None when there is nothing to decode.
pub(super) fn web_decoded(text: &[u8]) -> Option<Vec<u8>> {
    if !text.iter().any(|&c| c == b'%' || c == b'&') {
        return None;
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            if let Some(byte) = hex_pair(text.get(i + 1..i + 3)) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        if text[i] == b'&' {
            if let Some((c, used)) = char_reference(&text[i..]) {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += used;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    (out != text).then_some(out)
}

/// Named references a URL or an address is written with.
const NAMED: [(&str, char); 15] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("commat", '@'),
    ("period", '.'),
    ("sol", '/'),
    ("colon", ':'),
    ("lowbar", '_'),
    ("equals", '='),
    ("percnt", '%'),
    ("quest", '?'),
    ("num", '#'),
    ("plus", '+'),
];

/// The character reference at the start of `text` (which starts with `&`) and its length.
fn char_reference(text: &[u8]) -> Option<(char, usize)> {
    let end = text.iter().take(12).position(|&c| c == b';')?;
    let name = std::str::from_utf8(&text[1..end]).ok()?;
    let c = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
    } else if let Some(decimal) = name.strip_prefix('#') {
        char::from_u32(decimal.parse().ok()?)?
    } else {
        NAMED.iter().find(|(named, _)| *named == name)?.1
    };
    Some((c, end + 1))
}

/// Base64 as gateways write it: either alphabet (read as the standard one), padded or not.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn base64_decoded(text: &[u8]) -> Option<Vec<u8>> {
    let standard: Vec<u8> = text
        .iter()
        .map(|&c| match c {
            b'-' => b'+',
            b'_' => b'/',
            c => c,
        })
        .collect();
    LENIENT_BASE64.decode(standard).ok()
}

/// Proofpoint URL Defense v3 (`urldefense.com/v3/__<URL>__;<base64url>!!…`) writes the URL
/// with some characters as `*` (or `**` and a count), the characters themselves following in
/// base64url: the URL with them put back. None when nothing was replaced.
pub(super) fn proofpoint_v3(text: &[u8]) -> Option<Vec<u8>> {
    const RUNS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let rest = &text[positions(text, b"/v3/__").next()? + "/v3/__".len()..];
    let (url, encoded) = match positions(rest, b"__;").next() {
        Some(end) => (&rest[..end], &rest[end + "__;".len()..]),
        None => (rest, &rest[rest.len()..]),
    };
    if !url.contains(&b'*') {
        return None;
    }
    let encoded = &encoded[..encoded.iter().position(|&c| c == b'!').unwrap_or(encoded.len())];
    let replaced = base64_decoded(encoded).and_then(|bytes| String::from_utf8(bytes).ok()).unwrap_or_default();
    let mut replaced = replaced.chars();
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < url.len() {
        if url[i] != b'*' {
            out.push(url[i]);
            i += 1;
            continue;
        }
        let count = match (url.get(i + 1), url.get(i + 2)) {
            (Some(b'*'), Some(run)) => {
                i += 3;
                RUNS.iter().position(|c| c == run).map_or(0, |n| n + 2)
            }
            _ => {
                i += 1;
                1
            }
        };
        for c in replaced.by_ref().take(count) {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    Some(out)
}

/// Gateways that carry the URL in base64 (Sophos: `?d=<host>&u=<base64>`): every long enough
/// query value that decodes, one per line. None when none does.
pub(super) fn base64_parameters(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    for piece in text.split(|&c| c == b'?' || c == b'&') {
        let Some(equals) = piece.iter().position(|&c| c == b'=') else { continue };
        let value = &piece[equals + 1..];
        let value = &value[..value.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1)];
        if value.len() < 20 {
            continue;
        }
        if let Some(decoded) = base64_decoded(value) {
            out.extend_from_slice(&decoded);
            out.push(b'\n');
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Where `needle` (not empty) starts in `haystack`, in any ASCII case.
pub(super) fn positions<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack.windows(needle.len()).enumerate().filter(move |(_, w)| w.eq_ignore_ascii_case(needle)).map(|(i, _)| i)
}
