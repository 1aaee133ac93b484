//! Email addresses: parsed and normalised once, then compared as values.

use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_EMAIL_LEN: usize = 254;

/// A normalised address (trimmed, lower-cased, checked shape). Accounts, participants, rules
/// and managed domains all compare these, never raw strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::invalid("invalid_email", format!("'{}' is not an email address", raw.trim()));
        // Counted before trimming and checked ASCII before lower-casing, as EMAIL_PATTERN
        // and the document's maxLength say.
        if raw.chars().count() > MAX_EMAIL_LEN || !raw.trim().is_ascii() {
            return Err(bad());
        }
        let email = raw.trim().to_ascii_lowercase();
        if email.is_empty() {
            return Err(bad());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
        // `*` alone is how blocklist rules spell "anyone at": never an account's address.
        let local_ok = !local.is_empty()
            && local != "*"
            && local.len() <= 64
            && !local.contains('@')
            && local.chars().all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c));
        if !(is_domain(domain) && local_ok) {
            return Err(bad());
        }
        Ok(EmailAddress(email))
    }

    /// An address written as a mailbox, `Name <address>` or bare.
    pub fn parse_mailbox(raw: &str) -> Result<Self, ApiError> {
        let address = raw.rsplit_once('<').map(|(_, a)| a.trim_end().trim_end_matches('>')).unwrap_or(raw);
        EmailAddress::parse(address)
    }

    /// An address read back from the table, where only parsed addresses are written.
    pub fn stored(email: &str) -> Self {
        EmailAddress(email.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Whether the address is in `domain` or one of its subdomains (on a dot boundary).
    pub fn is_in(&self, domain: &str) -> bool {
        let own = self.domain();
        own == domain || own.strip_suffix(domain).is_some_and(|p| p.ends_with('.'))
    }
}

/// Around a value, what `str::trim` takes away (Unicode White_Space), as a regex class of
/// literal characters that ECMA-262, Python and Rust regexes read alike.
pub const WHITE_SPACE_CLASS: &str =
    "[\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]";

/// What `EmailAddress::parse` accepts (with at most MAX_EMAIL_LEN characters), as the API
/// document publishes it: a local part of 1-64 printable ASCII characters but
/// `"(),:;<>@[\]` (and not `*` alone), `@`, a domain of 2-10 labels.
pub fn email_pattern() -> String {
    format!("^{ws}*{core}{ws}*$", ws = WHITE_SPACE_CLASS, core = email_core())
}

/// An address without anchors or surrounding space, for patterns that contain one.
pub fn email_core() -> String {
    let local = "[!#-'*+\\-./0-9=?A-Z^-~]";
    let first = "[!#-'+\\-./0-9=?A-Z^-~]";
    format!("({first}{local}{{0,63}}|\\*{local}{{1,63}})@{DOMAIN_CORE}")
}

/// A domain as `is_domain` accepts it (without the 253-character bound).
pub const DOMAIN_CORE: &str = "[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+){1,9}";

/// Labels a domain may have: real ones have a handful; the blocklist checks one pattern per
/// parent domain inside a transaction, so the count must stay small.
pub const MAX_DOMAIN_LABELS: usize = 10;

/// A DNS name as addresses use it: letters, digits, `-` and dots, with at least one dot.
pub fn is_domain(domain: &str) -> bool {
    domain.contains('.')
        && domain.split('.').count() <= MAX_DOMAIN_LABELS
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.len() <= 253
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for EmailAddress {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for EmailAddress {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = ApiError;
    fn try_from(raw: String) -> Result<Self, ApiError> {
        EmailAddress::parse(&raw)
    }
}

impl From<EmailAddress> for String {
    fn from(email: EmailAddress) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_normalise_and_reject() {
        assert_eq!(EmailAddress::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@exa mple.com",
            "a@b@c.d",
            "a@b..c",
        ] {
            assert_eq!(EmailAddress::parse(bad).unwrap_err().code(), "invalid_email", "{bad}");
        }
    }

    #[test]
    fn domains_match_on_a_dot_boundary() {
        let a = EmailAddress::parse("a@mail.syr.edu").unwrap();
        assert!(a.is_in("syr.edu") && a.is_in("mail.syr.edu"));
        assert!(!a.is_in("yr.edu") && !a.is_in("edu.evil"));
        assert_eq!(a.domain(), "mail.syr.edu");
    }
}
