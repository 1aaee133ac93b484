//! The rules that guard access, each checked on the in-memory store where a one-line slip
//! (the kind a mutation tool makes) would let something through: `cargo test -p
//! helpdesk-shared` needs no server to catch them.

use crate::domain::caller::Caller;
use crate::domain::idempotency::IdempotencyKey;
use crate::model::{ProjectRole, Request};
use crate::organizations::{self, MemberInput, NewOrganization};
use crate::participants::{self, ShareInput};
use crate::projects::{self, ProjectPatch};
use crate::requests::{self, NewComment, NewRequest};
use crate::testing::Desk;
use crate::{auth, moderation, rules, ApiError};

async fn organization(desk: &Desk, agent: &Caller, project: &str, name: &str) -> String {
    let input = NewOrganization { name: name.into(), external: None };
    organizations::create_organization(&desk.app, agent, project, Ok(input)).await.unwrap().id
}

async fn join(desk: &Desk, agent: &Caller, org: &str, email: &str) {
    organizations::add_member(&desk.app, agent, org, Ok(MemberInput { email: email.into() })).await.unwrap();
}

async fn sharing_on(desk: &Desk, project: &str) {
    let patch = ProjectPatch { org_sharing: Some(true), ..Default::default() };
    projects::update_project(&desk.app, &desk.admin, project, Ok(patch)).await.unwrap();
}

fn new_request(summary: &str) -> NewRequest {
    NewRequest {
        summary: summary.into(),
        description: String::new(),
        form: None,
        fields: Default::default(),
        channel: Default::default(),
        follow_up_of: None,
    }
}

fn key(k: &str) -> Result<Option<IdempotencyKey>, ApiError> {
    IdempotencyKey::from_header(Some(k.as_bytes()))
}

async fn create(
    desk: &Desk,
    caller: &Caller,
    project: &str,
    summary: &str,
    k: &str,
) -> Result<(Request, bool), ApiError> {
    let made = requests::create_request(&desk.app, caller, project, Ok(new_request(summary)), key(k)).await?;
    Ok((made.0 .1, made.1))
}

#[tokio::test]
async fn a_customer_sees_through_the_requests_own_organization_only() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    sharing_on(&desk, "HD").await;
    let (o1, o2) =
        (organization(&desk, &desk.admin, "HD", "One").await, organization(&desk, &desk.admin, "HD", "Two").await);
    let ann = desk.sign_in("ann@example.com").await;
    let cy = desk.sign_in("cy@example.com").await;
    join(&desk, &desk.admin, &o2, "cy@example.com").await;
    let request = desk.raise(&ann, "HD", "ann's").await;
    organizations::set_request_organization(&desk.app, &desk.admin, &request.key, Ok(Some(o1.clone()))).await.unwrap();
    // A member of another organization of the same project sees nothing.
    assert_eq!(requests::get_request(&desk.app, &cy, &request.key).await.unwrap_err(), ApiError::NotFound("request"));
    join(&desk, &desk.admin, &o1, "cy@example.com").await;
    assert!(requests::get_request(&desk.app, &cy, &request.key).await.is_ok());
    // Seeing it through the organization lets cy reply, not close or share it.
    let reply = Ok(NewComment { body: "me too".into(), internal: false, seen_version: None, attachments: vec![] });
    requests::add_comment(&desk.app, &cy, &request.key, reply, Ok(None)).await.unwrap();
    let closed = requests::set_status(&desk.app, &cy, &request.key, crate::model::RequestStatus::Closed).await;
    assert_eq!(closed.unwrap_err().code(), "forbidden");
    let share = Ok(ShareInput { emails: vec!["admin@example.com".into()] });
    assert_eq!(participants::share(&desk.app, &cy, &request.key, share).await.unwrap_err().code(), "forbidden");
}

#[tokio::test]
async fn customers_never_see_a_hold_in_the_history() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let rule = rules::RuleInput { rule: "suspend:held@example.com".into() };
    rules::add_rule(&desk.app, &desk.admin, None, Ok(rule)).await.unwrap();
    let held = desk.sign_in("held@example.com").await;
    desk.sign_in("bob@example.com").await;
    let request = desk.raise(&held, "HD", "review me").await;
    assert!(request.held);
    requests::release(&desk.app, &desk.admin, &request.key).await.unwrap();
    let share = Ok(ShareInput { emails: vec!["bob@example.com".into()] });
    participants::share(&desk.app, &held, &request.key, share).await.unwrap();
    let actions =
        |detail: &requests::RequestDetail| detail.history.iter().map(|h| h.action.clone()).collect::<Vec<_>>();
    let seen_by_customer = requests::get_request(&desk.app, &held, &request.key).await.unwrap();
    assert_eq!(actions(&seen_by_customer), ["participants_added"]);
    let seen_by_agent = requests::get_request(&desk.app, &desk.admin, &request.key).await.unwrap();
    assert_eq!(actions(&seen_by_agent), ["released", "participants_added"]);
}

#[tokio::test]
async fn an_organization_of_another_project_is_never_set_on_a_request() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    desk.project("OT").await;
    let foreign = organization(&desk, &desk.admin, "OT", "Elsewhere").await;
    let ann = desk.sign_in("ann@example.com").await;
    let request = desk.raise(&ann, "HD", "ann's").await;
    let err = organizations::set_request_organization(&desk.app, &desk.admin, &request.key, Ok(Some(foreign)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_organization");
}

#[tokio::test]
async fn the_automatic_organization_counts_the_projects_own_memberships_only() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    desk.project("OT").await;
    let hd = organization(&desk, &desk.admin, "HD", "Here").await;
    let ot = organization(&desk, &desk.admin, "OT", "There").await;
    join(&desk, &desk.admin, &hd, "ann@example.com").await;
    join(&desk, &desk.admin, &ot, "ann@example.com").await;
    let ann = desk.sign_in("ann@example.com").await;
    assert_eq!(desk.raise(&ann, "HD", "one").await.organization, Some(hd));
    // Two organizations in the project: no automatic choice.
    let second = organization(&desk, &desk.admin, "HD", "Also here").await;
    join(&desk, &desk.admin, &second, "ann@example.com").await;
    let ann = desk.sign_in("ann@example.com").await;
    assert_eq!(desk.raise(&ann, "HD", "two").await.organization, None);
}

#[tokio::test]
async fn idempotency_keys_are_per_user_per_project_and_expire() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    desk.project("OT").await;
    let ann = desk.sign_in("ann@example.com").await;
    let bob = desk.sign_in("bob@example.com").await;
    let (first, replayed) = create(&desk, &ann, "HD", "x", "k").await.unwrap();
    assert!(!replayed);
    let (again, replayed) = create(&desk, &ann, "HD", "x", "k").await.unwrap();
    assert!(replayed && again.key == first.key);
    // Another user's key is theirs: a new request, never ann's.
    let (bobs, replayed) = create(&desk, &bob, "HD", "x", "k").await.unwrap();
    assert!(!replayed && bobs.key != first.key && bobs.reporter_email.as_str() == "bob@example.com");
    // The same body on another project is another call.
    assert_eq!(create(&desk, &ann, "OT", "x", "k").await.unwrap_err().code(), "idempotency_key_reused");
    // A day long: still the same call after 23 hours, a new one after 24.
    desk.app.clock.advance(23 * 3600);
    let ann = desk.sign_in("ann@example.com").await;
    assert!(create(&desk, &ann, "HD", "x", "k").await.unwrap().1, "replayed after 23 hours");
    desk.app.clock.advance(3600 + 1);
    let ann = desk.sign_in("ann@example.com").await;
    let (later, replayed) = create(&desk, &ann, "HD", "x", "k").await.unwrap();
    assert!(!replayed && later.key != first.key);
}

#[tokio::test]
async fn a_comments_key_is_bound_to_its_request() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let ann = desk.sign_in("ann@example.com").await;
    let (one, two) = (desk.raise(&ann, "HD", "one").await, desk.raise(&ann, "HD", "two").await);
    let hi = || Ok(NewComment { body: "hi".into(), internal: false, seen_version: None, attachments: vec![] });
    requests::add_comment(&desk.app, &ann, &one.key, hi(), key("c")).await.unwrap();
    let err = requests::add_comment(&desk.app, &ann, &two.key, hi(), key("c")).await.unwrap_err();
    assert_eq!(err.code(), "idempotency_key_reused");
}

#[tokio::test]
async fn the_participant_cap_counts_new_addresses_and_binds_agents_too() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let agent = desk.staff("agent@example.com", "HD", ProjectRole::Agent).await;
    let project = projects::get_project(&desk.app, &desk.admin, "HD").await.unwrap();
    assert_eq!(project.settings.participant_cap, 20);
    let patch = ProjectPatch { participant_cap: Some(2), ..Default::default() };
    projects::update_project(&desk.app, &desk.admin, "HD", Ok(patch)).await.unwrap();
    let ann = desk.sign_in("ann@example.com").await;
    for email in ["bob@example.com", "cy@example.com", "dee@example.com"] {
        desk.sign_in(email).await;
    }
    let request = desk.raise(&ann, "HD", "shared").await;
    let input = |emails: &[&str]| Ok(ShareInput { emails: emails.iter().map(|e| e.to_string()).collect() });
    participants::share(&desk.app, &ann, &request.key, input(&["bob@example.com"])).await.unwrap();
    // One new address, one already sharing: within the cap of 2.
    let both = input(&["bob@example.com", "cy@example.com"]);
    let (shared, _) = participants::share(&desk.app, &ann, &request.key, both).await.unwrap();
    assert_eq!(shared.participants.len(), 2);
    let err = participants::share(&desk.app, &agent, &request.key, input(&["dee@example.com"])).await.unwrap_err();
    assert_eq!(err.code(), "participant_cap");
}

#[tokio::test]
async fn a_share_checks_every_address_against_the_blocklist() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let ann = desk.sign_in("ann@example.com").await;
    desk.sign_in("bob@example.com").await;
    desk.sign_in("mal@example.com").await;
    let rule = rules::RuleInput { rule: "reject:mal@example.com".into() };
    rules::add_rule(&desk.app, &desk.admin, None, Ok(rule)).await.unwrap();
    let request = desk.raise(&ann, "HD", "shared").await;
    let agent = desk.staff("agent@example.com", "HD", crate::model::ProjectRole::Agent).await;
    let before = desk.store.len();
    let input = || ShareInput { emails: vec!["bob@example.com".into(), "mal@example.com".into()] };
    // A customer is told only that Mal cannot be shared with, as for an address with no
    // account: nothing of his moderation.
    let err = participants::share(&desk.app, &ann, &request.key, Ok(input())).await.unwrap_err();
    assert_eq!(err.code(), "participant_unknown");
    assert!(err.public_message().starts_with("mal@example.com has no account"), "{}", err.public_message());
    // The team is told why.
    let err = participants::share(&desk.app, &agent, &request.key, Ok(input())).await.unwrap_err();
    assert_eq!(err.code(), "blocked");
    assert_eq!(desk.store.len(), before, "nothing written");
}

#[tokio::test]
async fn a_suspension_ends_every_session_and_never_claims_a_rule_it_did_not_add() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    // More sessions than one delete batch holds.
    let mut sessions = vec![];
    for i in 0..95 {
        if i % auth::MAGIC_LINK_LIMIT == 0 {
            desk.app.clock.advance(auth::MAGIC_LINK_WINDOW_SECS);
        }
        sessions.push(desk.sign_in("mal@example.com").await);
    }
    let mal = auth::me(&desk.app, &sessions[0]).await.unwrap();
    desk.raise(&sessions[0], "HD", "spam").await;
    let rule = rules::RuleInput { rule: "reject:mal@example.com".into() };
    rules::add_rule(&desk.app, &desk.admin, None, Ok(rule)).await.unwrap();
    let input = moderation::SuspendInput { reason: "spam".into(), request: None };
    let outcome = moderation::suspend(&desk.app, &desk.admin, &mal.id, Ok(input), None).await.unwrap();
    assert_eq!(outcome.sessions_ended, 95);
    assert!(outcome.user.suspension.as_ref().unwrap().rules.is_empty(), "the rule was there before");
    for session in &sessions {
        assert_eq!(auth::me(&desk.app, session).await.unwrap_err(), ApiError::Unauthorized);
    }
    moderation::unsuspend(&desk.app, &desk.admin, &mal.id).await.unwrap();
    let left = rules::list_rules(&desk.app, &desk.admin, None).await.unwrap();
    assert_eq!(left.iter().map(|r| r.text()).collect::<Vec<_>>(), ["reject:mal@example.com"]);
}

#[tokio::test]
async fn a_suspension_closes_exactly_the_open_requests_and_audits_each_step() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let mal = desk.sign_in("mal@example.com").await;
    let mut keys = vec![];
    for i in 0..3 {
        keys.push(desk.raise(&mal, "HD", &format!("spam {i}")).await.key);
    }
    requests::set_status(&desk.app, &mal, &keys[2], crate::model::RequestStatus::Closed).await.unwrap();
    let user = auth::me(&desk.app, &mal).await.unwrap();
    for bad in ["x".repeat(33), "HD-1\u{0}".into(), "not a key".into()] {
        let input = moderation::SuspendInput { reason: "r".into(), request: Some(bad.clone()) };
        let err = moderation::suspend(&desk.app, &desk.admin, &user.id, Ok(input), None).await.unwrap_err();
        assert_eq!(err.code(), "invalid_field", "{bad:?}");
    }
    let input = moderation::SuspendInput { reason: "phishing".into(), request: Some(keys[0].clone()) };
    let outcome = moderation::suspend(&desk.app, &desk.admin, &user.id, Ok(input), None).await.unwrap();
    let mut closed = outcome.closed.clone();
    closed.sort();
    assert_eq!(closed, [keys[0].clone(), keys[1].clone()], "the open ones, once each");
    assert_eq!((outcome.user.version, outcome.sessions_ended), (user.version + 1, 1));
    for key in &keys {
        let request = requests::get_request(&desk.app, &desk.admin, key).await.unwrap().request;
        assert_eq!(request.status, crate::model::RequestStatus::Closed);
    }
    let trail = moderation::audit_trail(&desk.app, &desk.admin, &user.id).await.unwrap().entries;
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["suspended", "note", "rule_added", "request_closed", "request_closed", "sessions_ended"]);
    assert_eq!(trail[1].request.as_deref(), Some(keys[0].as_str()));
    let lifted = moderation::unsuspend(&desk.app, &desk.admin, &user.id).await.unwrap();
    assert_eq!((lifted.suspended, lifted.version), (false, outcome.user.version + 1));
    assert!(rules::list_rules(&desk.app, &desk.admin, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn project_admins_moderate_by_the_customer_records_and_unknown_ids_are_404() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    desk.project("OT").await;
    let lead = desk.staff("lead@example.com", "OT", ProjectRole::Admin).await;
    let dee = desk.sign_in("dee@example.com").await;
    let dee_id = auth::me(&desk.app, &dee).await.unwrap().id;
    // A customer of nothing yet: not the lead's to moderate.
    let early = moderation::audit_trail(&desk.app, &lead, &dee_id).await.unwrap_err();
    assert_eq!(early.code(), "forbidden");
    desk.raise(&dee, "OT", "hello").await;
    assert!(moderation::audit_trail(&desk.app, &lead, &dee_id).await.is_ok());
    let unknown = moderation::audit_trail(&desk.app, &lead, "NOBODY").await.unwrap_err();
    assert_eq!(unknown, ApiError::NotFound("user"));
    let customer = desk.sign_in("cy@example.com").await;
    let err = moderation::audit_trail(&desk.app, &customer, "NOBODY").await.unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

/// A rule lives in its scope: adding it in two scopes keeps both on the pattern's item (its
/// version moving by one each time), removing one leaves the other, removing it again
/// changes nothing and audits nothing, and removing the last drops the pattern's item.
#[tokio::test]
async fn rules_are_added_and_removed_per_scope_and_audited_once_each() {
    use crate::items::{audit_partition, block_pattern_key};
    use crate::model::{BlockAction, Record};
    use crate::store::{Query, Store};
    use crate::table::Index;
    let desk = Desk::new().await;
    desk.project("HD").await;
    let (admin, _) = crate::caller::resolve(&desk.app, &desk.admin, &[]).await.unwrap();
    let rule = |r: &str| Ok(rules::RuleInput { rule: r.into() });
    let pattern = || async {
        match desk.store.get(&block_pattern_key("*@spam.example")).await.unwrap() {
            Some(Record::BlockPattern(p)) => Some((p.rules.into_iter().collect::<Vec<_>>(), p.version)),
            _ => None,
        }
    };
    let audited = || async {
        let query = Query::partition(Index::Table, audit_partition(&admin.user.id), 100);
        let entries = desk.store.query(&query).await.unwrap().keep(|r| match r {
            Record::AuditEntry(a) => Some((a.action, a.detail.unwrap_or_default())),
            _ => None,
        });
        entries
    };
    rules::add_rule(&desk.app, &desk.admin, None, rule("reject:*@spam.example")).await.unwrap();
    rules::add_rule(&desk.app, &desk.admin, Some("HD"), rule("suspend:*@Spam.example")).await.unwrap();
    let both = vec![("*".to_string(), BlockAction::Reject), ("HD".to_string(), BlockAction::Suspend)];
    assert_eq!(pattern().await, Some((both, 2)));

    rules::remove_rule(&desk.app, &desk.admin, None, rule("reject:*@spam.example")).await.unwrap();
    assert_eq!(pattern().await, Some((vec![("HD".to_string(), BlockAction::Suspend)], 3)));
    assert!(rules::list_rules(&desk.app, &desk.admin, None).await.unwrap().is_empty());
    let listed = rules::list_rules(&desk.app, &desk.admin, Some("HD")).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.pattern.as_str()).collect::<Vec<_>>(), ["*@spam.example"]);

    rules::remove_rule(&desk.app, &desk.admin, None, rule("reject:*@spam.example")).await.unwrap();
    assert_eq!(pattern().await.map(|(_, version)| version), Some(3), "removing twice changes nothing");
    rules::remove_rule(&desk.app, &desk.admin, Some("HD"), rule("suspend:*@spam.example")).await.unwrap();
    assert_eq!(pattern().await, None, "no rule left: no pattern item");
    assert!(rules::list_rules(&desk.app, &desk.admin, Some("HD")).await.unwrap().is_empty());

    let expected = [
        ("rule_added", "reject:*@spam.example"),
        ("rule_added", "suspend:*@spam.example (project HD)"),
        ("rule_removed", "reject:*@spam.example"),
        ("rule_removed", "suspend:*@spam.example (project HD)"),
    ];
    let got = audited().await;
    assert_eq!(got.iter().map(|(a, d)| (a.as_str(), d.as_str())).collect::<Vec<_>>(), expected);
}
