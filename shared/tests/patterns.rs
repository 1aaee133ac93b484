//! The patterns the API document publishes against the parsers that decide: on many random
//! strings built from the characters that matter, a parser accepts exactly what its pattern
//! (and maxLength) allows, so the document is neither looser nor stricter than the API.

use helpdesk::domain::blocklist::{parse_rule, rule_pattern, MAX_RULE_LEN};
use helpdesk::domain::email::{email_pattern, EmailAddress, MAX_EMAIL_LEN};
use helpdesk::domain::participants::{managed_domain_pattern, parse_managed_domain, MAX_DOMAIN_TEXT};
use helpdesk::domain::projects::{check_project_key, PROJECT_KEY_PATTERN};
use helpdesk::text::{check_text, text_pattern};
use rand::{Rng, SeedableRng};

const ALPHABET: &[&str] = &[
    "a", "Z", "0", "-", ".", "@", "*", "*@", "!", "~", "^", "`", "'", "\"", "(", ",", ":", ";", "<", "[", "\\", " ",
    "\t", "\n", "\r", "\u{b}", "\u{1c}", "\u{7f}", "\u{85}", "\u{a0}", "\u{1680}", "\u{2003}", "\u{3000}", "\u{feff}",
    "\u{212a}", "é", "ß", "\u{0}", "reject:", "suspend:", "REJECT:", "x@y.co", "a.b", "HD", "h", "@@",
];

fn samples(seed: u64, count: usize, max_parts: usize) -> Vec<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out: Vec<String> = ALPHABET.iter().map(|s| s.to_string()).collect();
    for _ in 0..count {
        let parts = rng.random_range(0..=max_parts);
        out.push((0..parts).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())]).collect());
    }
    out
}

fn agrees(name: &str, pattern: &str, max_chars: usize, accepts: impl Fn(&str) -> bool, extra: &[String]) {
    let re = regex_lite::Regex::new(pattern).unwrap_or_else(|e| panic!("{name}: {e}"));
    for s in samples(7, 40_000, 12).iter().chain(extra) {
        let documented = re.is_match(s) && s.chars().count() <= max_chars;
        assert_eq!(accepts(s), documented, "{name} on {s:?}");
    }
}

#[test]
fn email_addresses_match_their_pattern() {
    let long_local = "a".repeat(64);
    let extra = vec![
        format!("{long_local}@x.co"),
        format!("a{long_local}@x.co"),
        format!("a@{}.co", "b".repeat(248)),
        format!("a@{}.co", "b".repeat(249)),
        format!(" a@{}.co", "b".repeat(248)),
        "a@b.c.d.e.f.g.h.i.j".into(),
        "a@b.c.d.e.f.g.h.i.j.k".into(),
    ];
    agrees("email", &email_pattern(), MAX_EMAIL_LEN, |s| EmailAddress::parse(s).is_ok(), &extra);
}

#[test]
fn blocklist_rules_match_their_pattern() {
    let extra = vec!["reject:*@spam.example".into(), " Suspend : Bob@X.org ".into(), "reject:*".into()];
    agrees("rule", &rule_pattern(), MAX_RULE_LEN, |s| parse_rule(s).is_ok(), &extra);
}

#[test]
fn managed_domains_match_their_pattern() {
    let extra = vec!["@@example.com".into(), " x.co ".into(), format!("{}.co", "b".repeat(250))];
    agrees("domain", &managed_domain_pattern(), MAX_DOMAIN_TEXT, |s| parse_managed_domain(s).is_ok(), &extra);
}

#[test]
fn project_keys_match_their_pattern() {
    let extra = vec!["HD".into(), "H".into(), "HD123456789".into(), "HD12345678".into(), "9HD".into()];
    agrees("project key", PROJECT_KEY_PATTERN, 10, |s| check_project_key(s).is_ok(), &extra);
}

#[test]
fn free_text_matches_its_pattern() {
    for (multiline, required) in [(false, false), (false, true), (true, false), (true, true)] {
        let name = format!("text multiline={multiline} required={required}");
        let pattern = text_pattern(multiline, required);
        agrees(&name, &pattern, 20, |s| check_text("f", s, 20, multiline, required).is_ok(), &[]);
    }
}
