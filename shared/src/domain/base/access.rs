//! Who may do what: the one place the helpdesk's access rules are written. Every channel
//! (API, pages, email, public links) asks here; nothing else decides.

use crate::domain::email::EmailAddress;
use crate::domain::link_token::PublicLink;
use crate::error::ApiError;
use crate::model::{BlockRule, Comment, HistoryEntry, Intake, ManagedDomains, Project, ProjectRole, Request, User};

/// An agent of a project: any role in it, or an app admin.
pub fn is_agent(user: &User, project: &str) -> bool {
    user.app_admin || user.project_roles.contains_key(project)
}

pub fn is_project_admin(user: &User, project: &str) -> bool {
    user.app_admin || user.project_roles.get(project) == Some(&ProjectRole::Admin)
}

/// Staff anywhere: an app admin, or an agent or admin of any project.
pub fn is_staff(user: &User) -> bool {
    user.app_admin || !user.project_roles.is_empty()
}

pub fn require_agent(user: &User, project: &str) -> Result<(), ApiError> {
    if is_agent(user, project) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs an agent of the project"))
    }
}

pub fn require_project_admin(user: &User, project: &str) -> Result<(), ApiError> {
    if is_project_admin(user, project) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs a project admin"))
    }
}

pub fn require_app_admin(user: &User, what: &str) -> Result<(), ApiError> {
    if user.app_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only an app admin can {what}")))
    }
}

/// The reporter or a participant.
pub fn is_party(user: &User, request: &Request) -> bool {
    request.reporter_id == user.id || request.participant_ids.contains(&user.id)
}

/// Seed 004: a customer sees a request raised by someone else through their organization only
/// when ALL hold: sharing is on in the project, the request has an organization set, and the
/// customer belongs to that organization.
pub fn org_shared(user: &User, request: &Request, org_sharing: bool) -> bool {
    org_sharing && request.organization.as_deref().is_some_and(|o| user.is_member_of(o))
}

/// Who may see a request: its project's agents, its reporter and participants, and members
/// of its organization when the project shares with organizations. Anyone else gets 404, as
/// if the request did not exist. Seeing it also lets a user reply publicly.
pub fn can_view(user: &User, request: &Request, org_sharing: bool) -> bool {
    is_agent(user, &request.project) || is_party(user, request) || org_shared(user, request, org_sharing)
}

/// Close, reopen and share: the reporter, participants and agents (not other org members).
pub fn require_party_or_agent(user: &User, request: &Request, what: &str) -> Result<(), ApiError> {
    if is_agent(user, &request.project) || is_party(user, request) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only the reporter, participants and agents can {what}")))
    }
}

/// How much of a request its reader sees: agents see internal notes and moderation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Agent,
    Customer,
}

pub fn viewer(user: &User, request: &Request) -> Viewer {
    if is_agent(user, &request.project) {
        Viewer::Agent
    } else {
        Viewer::Customer
    }
}

/// Internal notes are for the project's agents only, by every channel.
pub fn may_read_comment(viewer: Viewer, comment: &Comment) -> bool {
    viewer == Viewer::Agent || !comment.internal
}

/// History customers may read: not what only agents know (a hold, and its release).
pub fn may_read_history(viewer: Viewer, entry: &HistoryEntry) -> bool {
    viewer == Viewer::Agent || !AGENT_ONLY_HISTORY.contains(&entry.action.as_str())
}

/// History entries that record agents' own work (a release from hold, revoking links,
/// triage by tag and form).
const AGENT_ONLY_HISTORY: [&str; 9] = [
    "released",
    "public_links_revoked",
    "tag_added",
    "tag_removed",
    "form_changed",
    "form_move_undone",
    "macro_applied",
    "assigned",
    "automation",
];

pub fn require_internal_allowed(viewer: Viewer) -> Result<(), ApiError> {
    match viewer {
        Viewer::Agent => Ok(()),
        Viewer::Customer => Err(ApiError::forbidden("only agents can write internal notes")),
    }
}

/// A public link shows its request while all hold: the project offers the public portal, the
/// link has not expired, no revocation came after it was minted, and its recipient is still
/// the reporter or a participant, with an account in good standing. (The address it was sent
/// to may be a secondary one: the account, not the address, is what must still be a party.)
/// Whoever holds it reads as a customer, whatever the recipient's roles.
pub fn may_use_public_link(link: &PublicLink, user: &User, request: &Request, project: &Project, now: i64) -> bool {
    project.settings.portal_public
        && link.expires_at > now
        && link.request == request.key
        && link.generation == request.public_link_generation
        && !user.suspended
        && is_party(user, request)
        // A merged request's thread lives on elsewhere: its links show nothing.
        && request.merged_into.is_none()
}

/// What a customer's search may filter by: what customers see of a request (its status but
/// not a hold, priority, organization, form, dates). Never agents' own data (assignee, tags,
/// a hold), nor other customers' addresses (requester).
pub fn customer_may_filter(filter: &crate::search::query::Filter) -> bool {
    use crate::search::query::{Filter, Keyword};
    match filter {
        Filter::Is(Keyword::Status, status) => status != "held",
        Filter::Is(Keyword::Priority | Keyword::Org | Keyword::Form, _) => true,
        Filter::Is(Keyword::Assignee | Keyword::Tag | Keyword::Requester, _) | Filter::AssigneeMe => false,
        Filter::After(..) | Filter::Before(..) => true,
    }
}

/// Who may raise a request in `project`: anyone, unless its intake is customers only; then
/// its agents, its customers (`known_customer`: added by an agent or shared in) and members
/// of its organizations.
pub fn may_raise(user: &User, project: &Project, known_customer: bool) -> bool {
    project.settings.intake == Intake::Anyone
        || is_agent(user, &project.key)
        || known_customer
        || user.organizations_in(&project.key).next().is_some()
}

/// Seed 001: accounts in a managed domain are made by app admins only, by any route.
pub fn may_create_account(actor: &User, emails: &[&EmailAddress], managed: &ManagedDomains) -> Result<(), ApiError> {
    let refused: Vec<&str> = emails.iter().filter(|e| managed.covers(e)).map(|e| e.as_str()).collect();
    if refused.is_empty() || actor.app_admin {
        return Ok(());
    }
    Err(ApiError::Refused {
        code: "managed_domain",
        message: format!(
            "{}: this address is in a managed domain, where only an app admin can create accounts. Ask an app admin to add the customer first.",
            refused.join(", ")
        ),
    })
}

/// Inbound mail routes by support address: outside the helpdesk's support domain only an
/// app admin may set one.
pub fn may_set_support_address(user: &User, address: &EmailAddress, support_domain: &str) -> Result<(), ApiError> {
    if user.app_admin || address.domain() == support_domain {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_support_address",
            format!("a support address must be in {support_domain}; only an app admin may set another"),
        ))
    }
}

/// Role addresses no project may take as its support address: mail meant for the system.
const ROLE_ADDRESSES: [&str; 8] =
    ["postmaster", "abuse", "mailer-daemon", "noreply", "no-reply", "hostmaster", "webmaster", "helpdesk"];

/// Addresses no project may take as its support address, by anyone: the helpdesk's own From
/// address (customers answer notifications there), the shape of signed reply addresses, role
/// addresses, and another project's default address (`<key>@<support domain>`, kept for the
/// project with that key, made now or later).
pub fn may_claim_support_address(
    project: &str,
    address: &EmailAddress,
    mail_from: Option<&EmailAddress>,
    support_domain: &str,
) -> Result<(), ApiError> {
    let local = address.as_str().rsplit_once('@').map_or(address.as_str(), |(l, _)| l);
    let in_domain = address.is_in(support_domain);
    let own_default = local.eq_ignore_ascii_case(project);
    let reserved = mail_from == Some(address)
        || ROLE_ADDRESSES.contains(&local)
        || local.starts_with("reply.")
        || (in_domain && !own_default && crate::items::is_project_key(&local.to_uppercase()));
    if reserved {
        return Err(ApiError::invalid(
            "reserved_address",
            format!("{address} is reserved (the helpdesk's own, a role address, or another project's default address)"),
        ));
    }
    Ok(())
}

/// Seed 002, scoped: an app admin moderates anyone but themselves; a project admin moderates
/// only users who are nothing but customers of projects that admin administers
/// (`customer_of`: every project the target is a customer of). Anyone else: 403.
pub fn may_moderate(moderator: &User, target: &User, customer_of: &[String]) -> Result<(), ApiError> {
    let administers = |p: &String| moderator.project_roles.get(p) == Some(&ProjectRole::Admin);
    let allowed = if moderator.app_admin {
        true
    } else {
        require_moderator(moderator)?;
        !is_staff(target) && !customer_of.is_empty() && customer_of.iter().all(administers)
    };
    if !allowed {
        return Err(ApiError::forbidden(
            "a project admin moderates only users who are nothing but customers of projects they administer",
        ));
    }
    if target.id == moderator.id {
        // A refusal of who is asking, not of the body: 403 with its own code.
        return Err(ApiError::Refused { code: "cannot_moderate_self", message: "you cannot moderate yourself".into() });
    }
    Ok(())
}

/// App admins and project admins moderate (whom, `may_moderate` says).
pub fn require_moderator(user: &User) -> Result<(), ApiError> {
    if user.app_admin || user.project_roles.values().any(|r| *r == ProjectRole::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only project admins and app admins moderate users"))
    }
}

/// Blocklist rules: app-wide ones belong to app admins, a project's to its admins.
pub fn may_manage_rules(user: &User, project: Option<&str>) -> Result<(), ApiError> {
    match project {
        None => require_app_admin(user, "manage app-wide blocklist rules"),
        Some(p) => require_project_admin(user, p),
    }
}

/// Changing or removing one rule: within the caller's scope, and an app-wide rule only by
/// the app admin who made it (other app admins' rules stay theirs).
pub fn may_change_rule(user: &User, project: Option<&str>, existing: Option<&BlockRule>) -> Result<(), ApiError> {
    may_manage_rules(user, project)?;
    match existing {
        Some(rule) if project.is_none() && rule.created_by != user.email => Err(ApiError::Refused {
            code: "rule_not_yours",
            message: format!("{} belongs to {}: ask them to change it", rule.text(), rule.created_by),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn user(id: &str, roles: &[(&str, ProjectRole)], app_admin: bool) -> User {
        let mut u = crate::auth::new_user(&EmailAddress::parse(&format!("{id}@example.com")).unwrap(), 0);
        u.id = id.into();
        u.app_admin = app_admin;
        u.project_roles = roles.iter().map(|(p, r)| (p.to_string(), *r)).collect::<BTreeMap<_, _>>();
        u
    }

    #[test]
    fn project_admins_moderate_only_their_own_customers() {
        let lead = user("lead", &[("OT", ProjectRole::Admin), ("HD", ProjectRole::Agent)], false);
        let customer = user("c", &[], false);
        let ot = vec!["OT".to_string()];
        assert!(may_moderate(&lead, &customer, &ot).is_ok());
        for customer_of in [vec![], vec!["HD".to_string()], vec!["OT".to_string(), "HD".to_string()]] {
            assert!(may_moderate(&lead, &customer, &customer_of).is_err(), "{customer_of:?}");
        }
        for staff in [user("g", &[("HD", ProjectRole::Agent)], false), user("a", &[], true)] {
            assert!(may_moderate(&lead, &staff, &ot).is_err());
        }
        let agent = user("g", &[("HD", ProjectRole::Agent)], false);
        assert!(may_moderate(&agent, &customer, &ot).is_err());
        let app = user("app", &[], true);
        assert!(may_moderate(&app, &agent, &[]).is_ok());
        let refused = may_moderate(&app, &app, &[]).unwrap_err();
        assert_eq!((refused.code(), refused.status()), ("cannot_moderate_self", 403));
    }

    #[test]
    fn only_admins_moderate_and_support_addresses_stay_in_the_domain() {
        let agent = user("g", &[("HD", ProjectRole::Agent)], false);
        assert!(require_moderator(&agent).is_err());
        assert!(require_moderator(&user("lead", &[("HD", ProjectRole::Admin)], false)).is_ok());
        assert!(require_moderator(&user("a", &[], true)).is_ok());
        let inside = EmailAddress::parse("help@desk.example").unwrap();
        let outside = EmailAddress::parse("help@gmail.com").unwrap();
        let lead = user("lead", &[("HD", ProjectRole::Admin)], false);
        assert!(may_set_support_address(&lead, &inside, "desk.example").is_ok());
        let refused = may_set_support_address(&lead, &outside, "desk.example").unwrap_err();
        assert_eq!(refused.code(), "invalid_support_address");
        assert!(may_set_support_address(&user("a", &[], true), &outside, "desk.example").is_ok());
    }

    #[test]
    fn rule_scopes() {
        let lead = user("lead", &[("OT", ProjectRole::Admin)], false);
        assert!(may_manage_rules(&lead, Some("OT")).is_ok());
        assert!(may_manage_rules(&lead, Some("HD")).is_err());
        assert!(may_manage_rules(&lead, None).is_err());
        let app_admin = user("a", &[], true);
        assert!(may_manage_rules(&app_admin, None).is_ok());
        let theirs = BlockRule {
            pattern: "x@spam.example".into(),
            project: None,
            action: crate::model::BlockAction::Reject,
            created_by: EmailAddress::stored("other@example.com"),
            created_at: 0,
            suspension_of: None,
        };
        assert_eq!(may_change_rule(&app_admin, None, Some(&theirs)).unwrap_err().code(), "rule_not_yours");
        let mine = BlockRule { created_by: app_admin.email.clone(), ..theirs.clone() };
        assert!(may_change_rule(&app_admin, None, Some(&mine)).is_ok());
        let in_project = BlockRule { project: Some("OT".into()), ..theirs };
        assert!(may_change_rule(&lead, Some("OT"), Some(&in_project)).is_ok());
    }

    #[test]
    fn a_customers_only_project_takes_requests_from_its_agents_customers_and_members() {
        let project = |intake| Project {
            key: "HD".into(),
            name: "Help".into(),
            support_address: EmailAddress::parse("hd@desk.example").unwrap(),
            settings: crate::model::ProjectSettings { intake, ..Default::default() },
            last_seq: 0,
            created_at: 0,
            version: 1,
        };
        let (open, closed) = (project(Intake::Anyone), project(Intake::Customers));
        let stranger = user("s", &[], false);
        assert!(may_raise(&stranger, &open, false));
        assert!(!may_raise(&stranger, &closed, false));
        assert!(may_raise(&stranger, &closed, true), "a known customer");
        assert!(may_raise(&user("g", &[("HD", ProjectRole::Agent)], false), &closed, false));
        assert!(
            !may_raise(&user("g", &[("OT", ProjectRole::Agent)], false), &closed, false),
            "another project's agent"
        );
        let member_of = |project: &str| {
            let mut u = user("m", &[], false);
            u.organizations.insert("org1".into(), project.into());
            u
        };
        assert!(may_raise(&member_of("HD"), &closed, false));
        assert!(!may_raise(&member_of("OT"), &closed, false), "a member of another project's organization");
    }

    #[test]
    fn support_addresses_the_helpdesk_or_another_project_needs_are_reserved() {
        let claim = |project: &str, raw: &str, mail_from: Option<&str>| {
            let from = mail_from.map(|f| EmailAddress::parse(f).unwrap());
            may_claim_support_address(project, &EmailAddress::parse(raw).unwrap(), from.as_ref(), "desk.example")
        };
        assert!(claim("HD", "help-desk@desk.example", None).is_ok());
        assert!(claim("HD", "hd@desk.example", None).is_ok(), "its own default address");
        assert!(claim("OT", "hd@partner.example", None).is_ok(), "a project-key shape outside the domain");
        for (project, raw, mail_from) in [
            ("HD", "desk-mail@desk.example", Some("desk-mail@desk.example")),
            ("HD", "postmaster@partner.example", None),
            ("HD", "reply.k1.x@partner.example", None),
            ("OT", "hd@desk.example", None),
            ("OT", "hd2@desk.example", None),
        ] {
            let refused = claim(project, raw, mail_from).unwrap_err();
            assert_eq!(refused.code(), "reserved_address", "{raw} for {project}");
        }
    }

    #[test]
    fn managed_domains_need_an_app_admin() {
        let managed = ManagedDomains { domains: vec!["syr.edu".into()], updated_at: 0 };
        let inside = EmailAddress::parse("x@mail.syr.edu").unwrap();
        let outside = EmailAddress::parse("x@example.com").unwrap();
        let agent = user("g", &[("HD", ProjectRole::Agent)], false);
        assert_eq!(may_create_account(&agent, &[&outside, &inside], &managed).unwrap_err().code(), "managed_domain");
        assert!(may_create_account(&agent, &[&outside], &managed).is_ok());
        assert!(may_create_account(&user("a", &[], true), &[&inside], &managed).is_ok());
    }
}
