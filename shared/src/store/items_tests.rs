//! The exact items `items` writes, and the docs that list their keys.

use super::dynamo::*;
use super::*;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use std::collections::{BTreeMap, HashMap};

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}
fn n(v: i64) -> AV {
    AV::N(v.to_string())
}

fn sample_request() -> Request {
    Request {
        key: "HD-42".into(),
        project: "HD".into(),
        id: "01J0000000000000000000000A".into(),
        summary: "Printer on fire".into(),
        description: "It smokes".into(),
        form: None,
        fields: BTreeMap::from([("severity".into(), "high".into())]),
        status: RequestStatus::Open,
        priority: Priority::High,
        assignee: None,
        reporter_id: "U1".into(),
        reporter_email: EmailAddress::stored("ann@example.com"),
        organization: None,
        participants: vec![],
        participant_ids: vec![],
        comment_count: 0,
        note_count: 0,
        noted_at: None,
        macro_note: None,
        held: false,
        public_link_generation: 0,
        first_response_at: None,
        customer_spoke_last: false,
        tags: vec![],
        recent_public: vec![],
        assigned_by: None,
        status_by: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
        version: 1,
        sla: None,
        channel: None,
        automated_version: None,
        csat: None,
        closed_at: None,
        merged_into: None,
        follow_up_of: None,
    }
}

#[test]
fn request_item_is_exactly_this() {
    let item = to_item(&Record::Request(sample_request()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("Request")),
        ("pk".into(), s("REQ#HD-42")),
        ("sk".into(), s("META")),
        ("gsi1pk".into(), s("REPORTER#U1")),
        ("gsi1sk".into(), s("01J0000000000000000000000A")),
        ("gsi3pk".into(), s("QUEUE#HD#open")),
        ("gsi3sk".into(), s("01J0000000000000000000000A")),
        ("gsi5pk".into(), s("OWNER#HD#none#open")),
        ("gsi5sk".into(), s("01J0000000000000000000000A")),
        ("gsi6pk".into(), s("ACTIVE#HD#open")),
        ("gsi6sk".into(), s("001700000000#01J0000000000000000000000A")),
        ("key".into(), s("HD-42")),
        ("project".into(), s("HD")),
        ("id".into(), s("01J0000000000000000000000A")),
        ("summary".into(), s("Printer on fire")),
        ("description".into(), s("It smokes")),
        ("form".into(), AV::Null(true)),
        ("fields".into(), AV::M(HashMap::from([("severity".into(), s("high"))]))),
        ("status".into(), s("open")),
        ("priority".into(), s("high")),
        ("reporter_id".into(), s("U1")),
        ("reporter_email".into(), s("ann@example.com")),
        ("organization".into(), AV::Null(true)),
        ("participants".into(), AV::L(vec![])),
        ("participant_ids".into(), AV::L(vec![])),
        ("comment_count".into(), n(0)),
        ("note_count".into(), n(0)),
        ("noted_at".into(), AV::Null(true)),
        ("held".into(), AV::Bool(false)),
        ("created_at".into(), n(1_700_000_000)),
        ("updated_at".into(), n(1_700_000_000)),
        ("version".into(), n(1)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::Request(sample_request()));
}

#[test]
fn a_request_with_an_organization_is_in_its_index() {
    let request = Request { organization: Some("O7".into()), ..sample_request() };
    let item = to_item(&Record::Request(request.clone()));
    assert_eq!(item["gsi4pk"], s("ORGREQ#O7"));
    assert_eq!(item["gsi4sk"], s("01J0000000000000000000000A"));
    assert_eq!(item["organization"], s("O7"));
    assert_eq!(from_item(item).unwrap(), Record::Request(request));
}

#[test]
fn organization_item_is_listed_under_its_project() {
    let org = Organization {
        id: "O1".into(),
        project: "HD".into(),
        name: "Acme".into(),
        external: None,
        created_at: 1_700_000_000,
    };
    let item = to_item(&Record::Organization(org.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("Organization")),
        ("pk".into(), s("ORG#O1")),
        ("sk".into(), s("META")),
        ("gsi1pk".into(), s("ORGS#HD")),
        ("gsi1sk".into(), s("O1")),
        ("id".into(), s("O1")),
        ("project".into(), s("HD")),
        ("name".into(), s("Acme")),
        ("external".into(), AV::Null(true)),
        ("created_at".into(), n(1_700_000_000)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::Organization(org));
}

#[test]
fn session_item_carries_ttl_and_user_index() {
    let session = Session { token_hash: "ab12".into(), user_id: "U1".into(), created_at: 10, expires_at: 20 };
    let item = to_item(&Record::Session(session.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("Session")),
        ("pk".into(), s("SESSION#ab12")),
        ("sk".into(), s("SESSION")),
        ("gsi1pk".into(), s("SESSIONS#U1")),
        ("gsi1sk".into(), s("ab12")),
        ("ttl".into(), n(20)),
        ("token_hash".into(), s("ab12")),
        ("user_id".into(), s("U1")),
        ("created_at".into(), n(10)),
        ("expires_at".into(), n(20)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::Session(session));
}

#[test]
fn user_item_is_exactly_this() {
    let user = User {
        id: "U1".into(),
        email: EmailAddress::stored("ann@example.com"),
        name: Some("Ann".into()),
        app_admin: false,
        project_roles: BTreeMap::from([("HD".into(), ProjectRole::Agent)]),
        suspended: false,
        suspension: None,
        organizations: BTreeMap::from([("O1".into(), "HD".into())]),
        secondary_emails: vec![],
        created_at: 5,
        version: 3,
    };
    let item = to_item(&Record::User(user.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("User")),
        ("pk".into(), s("USER#U1")),
        ("sk".into(), s("PROFILE")),
        ("id".into(), s("U1")),
        ("email".into(), s("ann@example.com")),
        ("name".into(), s("Ann")),
        ("app_admin".into(), AV::Bool(false)),
        ("project_roles".into(), AV::M(HashMap::from([("HD".into(), s("agent"))]))),
        ("suspended".into(), AV::Bool(false)),
        ("suspension".into(), AV::Null(true)),
        ("organizations".into(), AV::M(HashMap::from([("O1".into(), s("HD"))]))),
        ("created_at".into(), n(5)),
        ("version".into(), n(3)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::User(user));
}

#[test]
fn participant_item_is_exactly_this() {
    let p = Participant {
        request_key: "HD-7".into(),
        request_id: "01J0000000000000000000000B".into(),
        user_id: "U2".into(),
        email: EmailAddress::stored("bob@example.com"),
        added_by: "U1".into(),
        added_at: 9,
    };
    let item = to_item(&Record::Participant(p.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("Participant")),
        ("pk".into(), s("REQ#HD-7")),
        ("sk".into(), s("PART#U2")),
        ("gsi1pk".into(), s("PARTICIPANT#U2")),
        ("gsi1sk".into(), s("01J0000000000000000000000B")),
        ("request_key".into(), s("HD-7")),
        ("request_id".into(), s("01J0000000000000000000000B")),
        ("user_id".into(), s("U2")),
        ("email".into(), s("bob@example.com")),
        ("added_by".into(), s("U1")),
        ("added_at".into(), n(9)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::Participant(p));
}

#[test]
fn a_form_moves_history_entry_keeps_the_values_it_dropped() {
    let entry = HistoryEntry {
        request_key: "HD-7".into(),
        id: "01J0000000000000000000000H".into(),
        actor_id: "U1".into(),
        actor_email: EmailAddress::stored("gil@example.com"),
        action: "form_changed".into(),
        emails: vec![],
        detail: Some("hardware -> support-ops".into()),
        at: 9,
        actor_role: None,
        dropped: BTreeMap::from([("asset".to_string(), "LT-42".to_string())]),
        undone_at: Some(12),
    };
    let item = to_item(&Record::HistoryEntry(entry.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("HistoryEntry")),
        ("pk".into(), s("REQ#HD-7")),
        ("sk".into(), s("H#01J0000000000000000000000H")),
        ("request_key".into(), s("HD-7")),
        ("id".into(), s("01J0000000000000000000000H")),
        ("actor_id".into(), s("U1")),
        ("actor_email".into(), s("gil@example.com")),
        ("action".into(), s("form_changed")),
        ("emails".into(), AV::L(vec![])),
        ("detail".into(), s("hardware -> support-ops")),
        ("at".into(), n(9)),
        ("dropped".into(), AV::M(HashMap::from([("asset".to_string(), s("LT-42"))]))),
        ("undone_at".into(), n(12)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::HistoryEntry(entry));
}

/// The access-pattern table in the docs names every key prefix this module writes.
#[test]
fn the_docs_list_every_key_prefix() {
    let docs = include_str!("../../../docs/access-patterns.md");
    let source = include_str!("items.rs");
    let mut prefixes: Vec<&str> = source
        .match_indices('"')
        .filter_map(|(i, _)| {
            let rest = &source[i + 1..];
            let end = rest.find('#')?;
            let word = &rest[..end];
            (!word.is_empty() && word.chars().all(|c| c.is_ascii_uppercase())).then(|| &rest[..=end])
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    assert!(prefixes.len() >= 12, "{prefixes:?}");
    for prefix in prefixes {
        assert!(docs.contains(&format!("`{prefix}")), "docs/access-patterns.md does not mention {prefix}");
    }
}

#[test]
fn key_formats() {
    assert_eq!(project_of("HD-42"), Some("HD"));
    assert_eq!(project_of("A1-B2-3"), Some("A1-B2"));
    assert_eq!(project_of("HD-"), None);
    assert_eq!(project_of("HD-x"), None);
    assert_eq!(history_key("HD-1", "01X").sk, "H#01X");
    assert_eq!(project_customer_key("HD", "U1").sk, "CUSTOMER#U1");
    // A page of customers starts after `CUSTOMER#` (before every customer) or after one.
    let first = project_customers_after("HD", None);
    assert_eq!(first, ItemKey { pk: "PROJECT#HD".into(), sk: "CUSTOMER#".into() });
    assert!(first.sk < project_customer_key("HD", "0").sk && project_customer_key("HD", "U1").sk.as_str() < "FORMS");
    assert!(first.sk.as_str() > "AUTOMATIONS" && first.sk.as_str() > "AUTOFIRED#r1");
    assert_eq!(project_customers_after("HD", Some("U1")), project_customer_key("HD", "U1"));
    assert_eq!(managed_domains_key(), ItemKey { pk: "APP#settings".into(), sk: "MANAGED_DOMAINS".into() });
    assert_eq!(email_key("a@b.c"), ItemKey { pk: "EMAIL#a@b.c".into(), sk: "EMAIL".into() });
    assert_eq!(comment_key("HD-1", "01X"), ItemKey { pk: "REQ#HD-1".into(), sk: "C#01X".into() });
    assert_eq!(project_member_key("HD", "U9").sk, "MEMBER#U9");
    assert_eq!(idempotency_key("U1", "ff").pk, "IDEM#U1#ff");
    assert_eq!(rate_key("magic", "a@b.c", 7).pk, "RATE#magic#a@b.c#7");
    assert_eq!(queue_status_partition("HD", RequestStatus::Closed), "QUEUE#HD#closed");
}

#[path = "items/more_tests.rs"]
mod more;
