//! Blocklist rules (seed 002): parsing, and matching an address on a channel. Every channel
//! and every write asks this module, and only this module, whether a rule applies.
//!
//! A rule has a scope: app-wide (`project` None) or one project, where it applies to that
//! project's channels only. All rules of one pattern live on one `BlockPattern` item, so a
//! write checks an address with one ConditionCheck per candidate pattern inside its own
//! transaction (no extra round trip), and a read finds them with one BatchGet.

use crate::domain::access::is_agent;
use crate::domain::caller::Actor;
use crate::domain::email::{is_domain, EmailAddress};
use crate::error::ApiError;
use crate::items::{block_pattern_key, ItemKey};
use crate::model::{BlockAction, BlockPattern, Record};
use crate::store::{Condition, StoreError, Write};
use crate::App;

/// The longest rule text accepted (the document's maxLength).
pub const MAX_RULE_LEN: usize = 300;

/// What `parse_rule` accepts (with at most MAX_RULE_LEN characters), as the API document
/// publishes it.
pub fn rule_pattern() -> String {
    use crate::domain::email::{email_core, DOMAIN_CORE, WHITE_SPACE_CLASS as WS};
    format!(
        "^{WS}*([Rr][Ee][Jj][Ee][Cc][Tt]|[Ss][Uu][Ss][Pp][Ee][Nn][Dd]){WS}*:{WS}*(\\*@{DOMAIN_CORE}|{}){WS}*$",
        email_core()
    )
}

/// Parses `reject:alice@example.com`, `reject:*@spam.example`, `suspend:bob@x.org`.
pub fn parse_rule(raw: &str) -> Result<(BlockAction, String), ApiError> {
    let bad = || {
        ApiError::invalid(
            "invalid_rule",
            "a rule is reject:<address>, reject:*@<domain>, suspend:<address> or suspend:*@<domain>",
        )
    };
    if raw.chars().count() > MAX_RULE_LEN {
        return Err(bad());
    }
    let (action, pattern) = raw.trim().split_once(':').ok_or_else(bad)?;
    let action = match action.trim().to_ascii_lowercase().as_str() {
        "reject" => BlockAction::Reject,
        "suspend" => BlockAction::Suspend,
        _ => return Err(bad()),
    };
    let pattern = pattern.trim().to_ascii_lowercase();
    let pattern = match pattern.strip_prefix("*@") {
        Some(domain) if is_domain(domain) => format!("*@{domain}"),
        Some(_) => return Err(bad()),
        None => EmailAddress::parse(&pattern).map_err(|_| bad())?.to_string(),
    };
    Ok((action, pattern))
}

pub fn rule_text(action: BlockAction, pattern: &str) -> String {
    let action = match action {
        BlockAction::Reject => "reject",
        BlockAction::Suspend => "suspend",
    };
    format!("{action}:{pattern}")
}

/// The rule patterns that would match an address: itself, then `*@` its domain and each
/// parent domain (not the bare top-level domain). Each is one key: lookups are GetItems.
pub fn candidate_patterns(email: &EmailAddress) -> Vec<String> {
    let mut out = vec![email.to_string()];
    let mut rest = email.domain();
    while rest.contains('.') {
        out.push(format!("*@{rest}"));
        rest = rest.split_once('.').map(|(_, r)| r).unwrap_or("");
    }
    out
}

/// The keys to read (BatchGet) for the rules that could match an address.
pub fn pattern_keys(email: &EmailAddress) -> Vec<ItemKey> {
    candidate_patterns(email).iter().map(|p| block_pattern_key(p)).collect()
}

/// The strongest rule for an address on a channel of `project` (None: app-level channels
/// such as sign-in, where only app-wide rules apply), among records read with
/// `pattern_keys` (other records are ignored). Reject beats suspend.
pub fn verdict(email: &EmailAddress, project: Option<&str>, records: &[Record]) -> Option<BlockAction> {
    let patterns = candidate_patterns(email);
    records
        .iter()
        .filter_map(|r| match r {
            Record::BlockPattern(p) if patterns.contains(&p.pattern) => p.action_for(project),
            _ => None,
        })
        .max_by_key(|a| matches!(a, BlockAction::Reject))
}

pub fn blocked_error(email: &EmailAddress) -> ApiError {
    ApiError::Refused { code: "blocked", message: format!("{email} is blocked by this helpdesk") }
}

/// Refuses when a `reject:` rule matches; answers whether a `suspend:` rule does.
pub fn refuse_rejected(email: &EmailAddress, project: Option<&str>, records: &[Record]) -> Result<bool, ApiError> {
    match verdict(email, project, records) {
        Some(BlockAction::Reject) => Err(blocked_error(email)),
        Some(BlockAction::Suspend) => Ok(true),
        None => Ok(false),
    }
}

/// The blocklist check of a write, carried inside the write's own transaction: one
/// ConditionCheck per candidate pattern, failing when any rule of that pattern exists.
pub struct Guard {
    email: EmailAddress,
    project: Option<String>,
    keys: Vec<ItemKey>,
}

/// What a failed transaction says about the guard's checks.
#[derive(Debug, PartialEq)]
pub enum Judged {
    /// None of the guard's checks failed: the failure is the caller's.
    NotGuard,
    /// A `reject:` rule in scope matched.
    Blocked(ApiError),
    /// Only rules that do not refuse this write matched (another project's, or `suspend:`);
    /// their checks are dropped, so the retry passes. `held`: a `suspend:` rule in scope.
    Passed { held: bool },
}

impl Guard {
    pub fn new(email: &EmailAddress, project: Option<&str>) -> Guard {
        Guard { email: email.clone(), project: project.map(str::to_string), keys: pattern_keys(email) }
    }

    /// A guard that checks nothing: writes no actor makes (seeding, the CLI).
    pub fn none() -> Guard {
        Guard { email: EmailAddress::stored(""), project: None, keys: vec![] }
    }

    /// The guard of a write by `actor` on a channel of `project`. A project's rules bind its
    /// customers; its agents and admins (and app admins) answer to app-wide rules only, so a
    /// project admin cannot block staff through a project rule.
    pub fn for_actor(actor: &Actor, project: &str) -> Guard {
        // The helpdesk's own writes (its notes, automations) are by nobody a rule could name.
        if actor.user.id == crate::domain::requests::HELPDESK_AUTHOR
            || actor.user.id == crate::domain::automations::AUTOMATION_AUTHOR
        {
            return Guard::none();
        }
        let scope = (!is_agent(&actor.user, project)).then_some(project);
        Guard::new(&actor.email(), scope)
    }

    pub fn writes(&self) -> Vec<Write> {
        self.keys.iter().map(|key| Write::Check { key: key.clone(), condition: Condition::NotExists }).collect()
    }

    /// Reads the failed checks of a transaction where `writes()` started at `offset`.
    pub fn judge(&mut self, err: &StoreError, offset: usize) -> Judged {
        let failed: Vec<Record> =
            (offset..offset + self.keys.len()).filter_map(|i| err.failed_old(i).cloned()).collect();
        if failed.is_empty() {
            return Judged::NotGuard;
        }
        match verdict(&self.email, self.project.as_deref(), &failed) {
            Some(BlockAction::Reject) => Judged::Blocked(blocked_error(&self.email)),
            held => {
                let seen: Vec<ItemKey> = failed.iter().map(Record::key).collect();
                self.keys.retain(|k| !seen.contains(k));
                Judged::Passed { held: held == Some(BlockAction::Suspend) }
            }
        }
    }
}

/// How a guarded transaction went.
#[derive(Debug)]
pub enum Commit {
    Done,
    /// Another transaction touched the same items at the same moment.
    Conflict,
    /// Only guard checks that do not refuse failed; they are dropped, so the same writes can be
    /// tried again. `held`: a `suspend:` rule in scope matched.
    Retry {
        held: bool,
    },
    /// A condition of the caller's own writes failed.
    Failed(StoreError),
}

impl Guard {
    /// Commits `writes` with this guard's checks in the same transaction. A `reject:` rule in
    /// scope is an error; everything else is the caller's to decide.
    pub async fn commit(&mut self, app: &App, mut writes: Vec<Write>) -> Result<Commit, ApiError> {
        let checks_at = writes.len();
        writes.extend(self.writes());
        let err = match app.store.transact(writes).await {
            Ok(()) => return Ok(Commit::Done),
            Err(StoreError::Conflict) => return Ok(Commit::Conflict),
            Err(err @ StoreError::ConditionFailed { .. }) => err,
            Err(e) => return Err(e.into()),
        };
        match self.judge(&err, checks_at) {
            Judged::Blocked(refusal) => Err(refusal),
            Judged::Passed { held } => Ok(Commit::Retry { held }),
            Judged::NotGuard => Ok(Commit::Failed(err)),
        }
    }
}

impl BlockPattern {
    /// The action of this pattern's rules that apply on a channel of `project`.
    pub fn action_for(&self, project: Option<&str>) -> Option<BlockAction> {
        let app = self.rules.get(crate::model::APP_SCOPE).copied();
        let own = project.and_then(|p| self.rules.get(p)).copied();
        [app, own].into_iter().flatten().max_by_key(|a| matches!(a, BlockAction::Reject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn pattern(p: &str, rules: &[(&str, BlockAction)]) -> Record {
        Record::BlockPattern(BlockPattern {
            pattern: p.into(),
            rules: rules.iter().map(|(s, a)| (s.to_string(), *a)).collect::<BTreeMap<_, _>>(),
            version: 1,
        })
    }

    #[test]
    fn rules_parse_and_normalise() {
        assert_eq!(parse_rule("reject:Alice@Example.com").unwrap(), (BlockAction::Reject, "alice@example.com".into()));
        assert_eq!(parse_rule(" reject:*@Spam.Example ").unwrap(), (BlockAction::Reject, "*@spam.example".into()));
        assert_eq!(parse_rule("suspend:bob@x.org").unwrap(), (BlockAction::Suspend, "bob@x.org".into()));
        for bad in ["", "reject", "ban:a@b.c", "reject:nobody", "reject:*@", "reject:*@nodot"] {
            assert_eq!(parse_rule(bad).unwrap_err().code(), "invalid_rule", "{bad}");
        }
    }

    #[test]
    fn a_rule_is_at_most_300_characters_as_sent() {
        let padded = |len: usize| format!("{}reject:a@b.co", " ".repeat(len - "reject:a@b.co".len()));
        assert!(parse_rule(&padded(MAX_RULE_LEN)).is_ok());
        assert_eq!(parse_rule(&padded(MAX_RULE_LEN + 1)).unwrap_err().code(), "invalid_rule");
    }

    #[test]
    fn candidates_cover_address_domain_and_parents() {
        assert_eq!(
            candidate_patterns(&email("a@x.spam.example")),
            ["a@x.spam.example", "*@x.spam.example", "*@spam.example"]
        );
    }

    #[test]
    fn scope_and_strength_decide() {
        let a = email("a@spam.example");
        let records = [
            pattern("*@spam.example", &[("HD", BlockAction::Reject), ("*", BlockAction::Suspend)]),
            pattern("other@spam.example", &[("*", BlockAction::Reject)]),
        ];
        assert_eq!(verdict(&a, Some("HD"), &records), Some(BlockAction::Reject));
        assert_eq!(verdict(&a, Some("OT"), &records), Some(BlockAction::Suspend));
        assert_eq!(verdict(&a, None, &records), Some(BlockAction::Suspend));
        let project_only = [pattern("a@spam.example", &[("HD", BlockAction::Reject)])];
        assert_eq!(verdict(&a, None, &project_only), None);
        assert_eq!(verdict(&a, Some("OT"), &project_only), None);
        assert_eq!(verdict(&a, Some("HD"), &project_only), Some(BlockAction::Reject));
    }

    #[test]
    fn a_guard_drops_checks_that_do_not_refuse_and_reports_holds() {
        let a = email("a@spam.example");
        let mut guard = Guard::new(&a, Some("OT"));
        assert_eq!(guard.writes().len(), 2);
        let err = StoreError::ConditionFailed {
            failed: vec![2, 3],
            old: vec![
                None,
                None,
                Some(pattern("a@spam.example", &[("HD", BlockAction::Reject)])),
                Some(pattern("*@spam.example", &[("*", BlockAction::Suspend)])),
            ],
        };
        assert_eq!(guard.judge(&err, 2), Judged::Passed { held: true });
        assert!(guard.writes().is_empty());
        let other = StoreError::ConditionFailed { failed: vec![0], old: vec![None] };
        assert_eq!(Guard::new(&a, None).judge(&other, 1), Judged::NotGuard);
        let mut strict = Guard::new(&a, Some("HD"));
        assert_eq!(strict.judge(&err, 2), Judged::Blocked(blocked_error(&a)));
        // Checks right after the first write: the second check's failure counts too.
        let late = StoreError::ConditionFailed {
            failed: vec![2],
            old: vec![None, None, Some(pattern("*@spam.example", &[("*", BlockAction::Reject)]))],
        };
        assert_eq!(Guard::new(&a, None).judge(&late, 1), Judged::Blocked(blocked_error(&a)));
    }

    #[test]
    fn a_projects_rules_bind_its_customers_not_its_staff() {
        let customer = crate::auth::new_user(&email("a@spam.example"), 0);
        let mut agent = customer.clone();
        agent.project_roles.insert("HD".into(), crate::model::ProjectRole::Agent);
        let err = StoreError::ConditionFailed {
            failed: vec![1],
            old: vec![None, Some(pattern("a@spam.example", &[("HD", BlockAction::Reject)]))],
        };
        let actor = |user: &crate::model::User| Actor { user: user.clone(), session_hash: None };
        assert!(matches!(Guard::for_actor(&actor(&customer), "HD").judge(&err, 1), Judged::Blocked(_)));
        assert_eq!(Guard::for_actor(&actor(&agent), "HD").judge(&err, 1), Judged::Passed { held: false });
    }
}
