//! The other items: sign-in links, blocklist patterns, tags, locks, the team, comments,
//! automations; index costs; sizes and expiry.

use super::*;

#[test]
fn magic_link_item_expires_and_is_found_by_its_address() {
    let link = MagicLink { token_hash: "cd34".into(), email: EmailAddress::stored("ann@example.com"), expires_at: 900 };
    let item = to_item(&Record::MagicLink(link.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("MagicLink")),
        ("pk".into(), s("MAGIC#cd34")),
        ("sk".into(), s("MAGIC")),
        ("gsi1pk".into(), s("MAGICLINKS#ann@example.com")),
        ("gsi1sk".into(), s("cd34")),
        ("ttl".into(), n(900)),
        ("token_hash".into(), s("cd34")),
        ("email".into(), s("ann@example.com")),
        ("expires_at".into(), n(900)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::MagicLink(link));
}

#[test]
fn block_pattern_item_holds_every_scope() {
    let pattern = BlockPattern {
        pattern: "*@spam.example".into(),
        rules: BTreeMap::from([("*".into(), BlockAction::Reject), ("HD".into(), BlockAction::Suspend)]),
        version: 2,
    };
    let item = to_item(&Record::BlockPattern(pattern.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("BlockPattern")),
        ("pk".into(), s("BLOCK#*@spam.example")),
        ("sk".into(), s("RULES")),
        ("pattern".into(), s("*@spam.example")),
        ("rules".into(), AV::M(HashMap::from([("*".into(), s("reject")), ("HD".into(), s("suspend"))]))),
        ("version".into(), n(2)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::BlockPattern(pattern));
}

#[test]
fn request_tag_item_is_found_by_project_and_tag() {
    let tag = RequestTag {
        request_key: "HD-42".into(),
        request_id: "01J0000000000000000000000A".into(),
        project: "HD".into(),
        tag: "billing".into(),
    };
    let item = to_item(&Record::RequestTag(tag.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("RequestTag")),
        ("pk".into(), s("REQ#HD-42")),
        ("sk".into(), s("TAG#billing")),
        ("gsi1pk".into(), s("TAGGED#HD#billing")),
        ("gsi1sk".into(), s("01J0000000000000000000000A")),
        ("request_key".into(), s("HD-42")),
        ("request_id".into(), s("01J0000000000000000000000A")),
        ("project".into(), s("HD")),
        ("tag".into(), s("billing")),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::RequestTag(tag));
}

#[test]
fn link_lock_item_expires_with_its_link() {
    let lock = LinkLock { token_hash: "ab12".into(), expires_at: 1_900_000_000 };
    let item = to_item(&Record::LinkLock(lock.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("LinkLock")),
        ("pk".into(), s("LINKLOCK#ab12")),
        ("sk".into(), s("LINKLOCK")),
        ("ttl".into(), n(1_900_000_000)),
        ("token_hash".into(), s("ab12")),
        ("expires_at".into(), n(1_900_000_000)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::LinkLock(lock));
    // The one-item records sit at fixed keys.
    assert_eq!(signing_keys_key(), ItemKey { pk: "SIGNKEYS".into(), sk: "SIGNKEYS".into() });
    assert_eq!(project_forms_key("HD"), ItemKey { pk: "PROJECT#HD".into(), sk: "FORMS".into() });
    assert_eq!(project_macros_key("HD"), ItemKey { pk: "PROJECT#HD".into(), sk: "MACROS".into() });
}

#[test]
fn partitions_of_audit_blocklist_customers_and_held_requests() {
    assert_eq!(audit_key("U1", "01X"), ItemKey { pk: "AUDIT#U1".into(), sk: "01X".into() });
    assert_eq!(block_rule_key(None, "*@spam.example").pk, "BLOCKLIST#all");
    assert_eq!(block_rule_key(Some("HD"), "a@b.c"), ItemKey { pk: "BLOCKLIST#HD".into(), sk: "a@b.c".into() });
    assert_eq!(customer_of_partition("U1"), "CUSTOMEROF#U1");
    // A held request is in its reporter's list and the held partition, not in the queue.
    let held = Request { held: true, ..sample_request() };
    let keys = Record::Request(held).index_keys();
    assert_eq!(keys.gsi3, Some(("QUEUE#HD#held".into(), sample_request().id)));
    assert_eq!(keys.gsi5, None, "no owner queue holds a held request");
    assert_eq!(keys.gsi6, None, "nor does the queue by activity");
    assert_eq!(keys.gsi_count(), 2);
    assert_eq!(Record::Request(sample_request()).index_keys().gsi_count(), 4);
    let with_org = Request { organization: Some("O1".into()), ..sample_request() };
    assert_eq!(Record::Request(with_org).index_keys().gsi_count(), 5);
}

/// An assigned request is in its owner's partition for its status; an old item without
/// priority or assignee reads as normal and unassigned.
#[test]
fn owner_partitions_and_old_items() {
    let assigned = Request {
        assignee: Some(Assignee { id: "U9".into(), email: EmailAddress::stored("gus@example.com"), name: None }),
        status: RequestStatus::Pending,
        ..sample_request()
    };
    let item = to_item(&Record::Request(assigned.clone()));
    assert_eq!(item["gsi5pk"], s("OWNER#HD#U9#pending"));
    assert_eq!(item["gsi3pk"], s("QUEUE#HD#pending"));
    assert_eq!(
        item["assignee"],
        AV::M(HashMap::from([("id".into(), s("U9")), ("email".into(), s("gus@example.com"))]))
    );
    assert_eq!(from_item(item).unwrap(), Record::Request(assigned));
    let mut old = to_item(&Record::Request(sample_request()));
    old.remove("priority");
    let Record::Request(read) = from_item(old).unwrap() else { panic!("a request") };
    assert_eq!((read.priority, read.assignee), (Priority::Normal, None));
}

/// What a change of a request costs its indexes: a reply moves only the activity key (one
/// write to each ALL index, a delete and a put in the keys-only activity index, none in the
/// owner index); an internal note moves it too; closing moves the queue, owner and activity
/// keys (two writes each); a new request writes each index once.
#[test]
fn index_writes_by_what_moved() {
    let open = Record::Request(sample_request()).index_keys();
    let later = sample_request().updated_at + 60;
    let replied =
        Record::Request(Request { comment_count: 1, version: 2, updated_at: later, ..sample_request() }).index_keys();
    assert_eq!(replied.index_writes(Some(&open)), 2 + 2, "gsi1 and gsi3 copies; gsi6 moved; gsi5 unchanged");
    let noted = Request { note_count: 1, noted_at: Some(later), ..sample_request() };
    assert_eq!(noted.activity_at(), later, "a note is activity for agents");
    let noted = Record::Request(noted).index_keys();
    assert_eq!(noted.gsi6, Some(("ACTIVE#HD#open".into(), format!("{later:012}#{}", sample_request().id))));
    assert_eq!(noted.index_writes(Some(&open)), 2 + 2);
    let closed = Record::Request(Request { status: RequestStatus::Closed, ..sample_request() }).index_keys();
    assert_eq!(closed.index_writes(Some(&open)), 1 + 2 + 2 + 2);
    assert_eq!(open.index_writes(None), 4);
    // A 3 KB request's reply: 3 units for each ALL copy, 1 for each key-sized entry.
    assert_eq!(replied.index_units(Some(&open), 3), 3 + 3 + 2);
    let with_org = Record::Request(Request { organization: Some("O1".into()), ..sample_request() }).index_keys();
    assert_eq!(with_org.index_writes(Some(&open)), 2 + 1, "gsi4 appears");
}

#[test]
fn sessions_expire_by_their_own_time() {
    let session = Session { token_hash: "ab12".into(), user_id: "U1".into(), created_at: 10, expires_at: 20 };
    assert_eq!(Record::Session(session).expires_at(), Some(20));
}

/// The sizes DynamoDB bills by: names plus values; a number takes one byte per two digits
/// plus one; a list or map 3 bytes plus one per element (and a map its keys).
#[test]
fn item_size_follows_dynamodb_rules() {
    let size = |pairs: Vec<(&str, AV)>| item_size(&pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    assert_eq!(size(vec![("pk", s("abcde"))]), 2 + 5);
    assert_eq!(size(vec![("n", n(12345))]), 1 + 3 + 1);
    assert_eq!(size(vec![("b", AV::Bool(true)), ("z", AV::Null(true))]), 2 + 2);
    assert_eq!(size(vec![("bin", AV::B(vec![1u8, 2, 3, 4].into()))]), 3 + 4);
    assert_eq!(size(vec![("l", AV::L(vec![s("ab"), n(7)]))]), 1 + 3 + (1 + 2) + (1 + 2));
    assert_eq!(size(vec![("m", AV::M(HashMap::from([("key".to_string(), s("xy"))])))]), 1 + 3 + 1 + 3 + 2);
    assert_eq!(size(vec![("ss", AV::Ss(vec!["ab".into(), "cde".into()]))]), 2 + 5);
    assert_eq!(size(vec![("ns", AV::Ns(vec!["1".into(), "123".into()]))]), 2 + 2 + 3);
}

/// Every record that expires carries `ttl` (DynamoDB deletes it) and answers `expires_at`
/// (the code refuses it before TTL runs); versioned records answer their version.
#[test]
fn expiring_records_carry_ttl_and_versioned_ones_their_version() {
    use crate::model::{EmailAddress, EmailVerification, IdempotencyRecord, LinkLock, MessageRef, Notified};
    let expiring = [
        Record::Idempotency(IdempotencyRecord {
            user_id: "U1".into(),
            key_hash: "ff".into(),
            request_key: "HD-1".into(),
            comment_id: None,
            body_hash: "bb".into(),
            expires_at: 41,
        }),
        Record::MessageRef(MessageRef {
            message_id: "m@x".into(),
            request_key: "HD-1".into(),
            expires_at: 42,
            ses_id: None,
        }),
        Record::Notified(Notified { event: "E1".into(), user_id: "U1".into(), expires_at: 43 }),
        Record::EmailVerification(EmailVerification {
            token_hash: "tt".into(),
            user_id: "U1".into(),
            email: EmailAddress::stored("a@b.co"),
            expires_at: 44,
        }),
        Record::LinkLock(LinkLock { token_hash: "ll".into(), expires_at: 45 }),
        Record::Upload(crate::model::Upload {
            id: "01UP".into(),
            request_key: "HD-1".into(),
            uploader_id: "U1".into(),
            name: "a.png".into(),
            content_type: "image/png".into(),
            max_size: 10,
            post_until: 40,
            expires_at: 46,
        }),
    ];
    for (i, record) in expiring.iter().enumerate() {
        let at = 41 + i as i64;
        assert_eq!(to_item(record).get("ttl"), Some(&n(at)), "{record:?}");
        assert_eq!(record.expires_at(), Some(at), "{record:?}");
    }
    let forms = ProjectForms {
        project: "HD".into(),
        default_form: "default".into(),
        forms: vec![],
        retired: vec![],
        version: 7,
    };
    assert_eq!(Record::ProjectForms(forms).version(), Some(7));
    let macros = ProjectMacros { project: "HD".into(), macros: vec![], version: 8 };
    assert_eq!(Record::ProjectMacros(macros).version(), Some(8));
}

/// The team item: agents by id, each agent's open requests a string set (absent when none),
/// so DynamoDB's ADD and DELETE on it count a retried update once.
#[test]
fn team_item_is_exactly_this() {
    let member = |requests: &[&str]| TeamMember {
        email: EmailAddress::stored("gus@example.com"),
        name: None,
        role: ProjectRole::Agent,
        available: true,
        notify: NotifyLevel::All,
        requests: requests.iter().map(|r| r.to_string()).collect(),
    };
    let team = ProjectTeam {
        project: "HD".into(),
        agents: BTreeMap::from([("U1".into(), member(&["01A", "01B"])), ("U2".into(), member(&[]))]),
        last_assigned: Some("U1".into()),
        version: 3,
    };
    let item = to_item(&Record::ProjectTeam(team.clone()));
    assert_eq!((&item["pk"], &item["sk"]), (&s("PROJECT#HD"), &s("TEAM")));
    let AV::M(agents) = &item["agents"] else { panic!("a map") };
    let AV::M(gus) = &agents["U1"] else { panic!("a map") };
    assert_eq!(gus["requests"], AV::Ss(vec!["01A".into(), "01B".into()]));
    assert_eq!(gus["notify"], s("all"));
    let AV::M(idle) = &agents["U2"] else { panic!("a map") };
    assert!(!idle.contains_key("requests"), "an empty set is no attribute");
    assert_eq!(from_item(item).unwrap(), Record::ProjectTeam(team.clone()));
    assert_eq!(team.agents["U1"].open(), 2);
}

/// The collision guard's marks are one short string on the request item, read back as they
/// were written; an assignment by someone else names who made it.
#[test]
fn a_request_keeps_its_recent_public_authors_in_one_string() {
    let mut request = Request { version: 11, ..sample_request() };
    request.mark_public("01ARZ3NDEKTSV4RRFFQ69G5FAV");
    request.version = 12;
    request.mark_public("01ARZ3NDEKTSV4RRFFQ69G5FAW");
    let item = to_item(&Record::Request(request.clone()));
    assert_eq!(item["recent_public"], s("12.FFQ69G5FAV 13.FFQ69G5FAW"));
    assert_eq!(from_item(item).unwrap(), Record::Request(request.clone()));
    assert!(request.written_since(12, "01ARZ3NDEKTSV4RRFFQ69G5FAV"), "the other author wrote 13");
    assert!(!request.written_since(12, "01ARZ3NDEKTSV4RRFFQ69G5FAW"), "13 is the reader's own");
    assert!(!request.written_since(13, "anyone"));
}

/// A comment keeps what its author was when writing: customers see the team by it.
#[test]
fn comment_item_is_exactly_this() {
    let comment = Comment {
        request_key: "HD-42".into(),
        id: "01J0000000000000000000000C".into(),
        author_id: "U2".into(),
        author_email: EmailAddress::stored("agent@example.com"),
        body: "On it".into(),
        internal: false,
        created_at: 1_700_000_100,
        author_role: Some(AuthorRole::Team),
        author_name: Some("Gil".into()),
        merged_from: None,
    };
    let item = to_item(&Record::Comment(comment.clone()));
    let expected: HashMap<String, AV> = HashMap::from([
        ("type".into(), s("Comment")),
        ("pk".into(), s("REQ#HD-42")),
        ("sk".into(), s("C#01J0000000000000000000000C")),
        ("request_key".into(), s("HD-42")),
        ("id".into(), s("01J0000000000000000000000C")),
        ("author_id".into(), s("U2")),
        ("author_email".into(), s("agent@example.com")),
        ("body".into(), s("On it")),
        ("internal".into(), AV::Bool(false)),
        ("created_at".into(), n(1_700_000_100)),
        ("author_role".into(), s("team")),
        ("author_name".into(), s("Gil")),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::Comment(comment));
}

/// Automations' items: the rules beside the project, a run claim per (request, rule, event)
/// that expires, a fired mark per rule, an email in the request's partition (the notifier's
/// stream filter sees it), and the scheduler's list of projects with time rules.
#[test]
fn automation_items_are_exactly_these() {
    use crate::model::{AutoMail, AutoMailKind, AutomationFired, AutomationRun, ProjectAutomations, TimeRuleProjects};
    let keys = |record: Record| {
        let item = to_item(&record);
        let ttl = item.get("ttl").cloned();
        assert_eq!(from_item(item.clone()).unwrap(), record);
        (item["pk"].clone(), item["sk"].clone(), ttl, record.version())
    };
    let rules = ProjectAutomations::initial("HD");
    assert_eq!(keys(Record::ProjectAutomations(rules)), (s("PROJECT#HD"), s("AUTOMATIONS"), None, Some(0)));
    let run =
        AutomationRun { request_key: "HD-4".into(), rule: "r1".into(), event: "created".into(), at: 5, expires_at: 9 };
    assert_eq!(keys(Record::AutomationRun(run)), (s("AUTORUN#HD-4"), s("r1#created"), Some(n(9)), None));
    let fired =
        AutomationFired { project: "HD".into(), rule: "r1".into(), at: 5, request_key: "HD-4".into(), skipped: vec![] };
    let item = to_item(&Record::AutomationFired(fired.clone()));
    assert!(!item.contains_key("skipped"), "nothing skipped, no attribute");
    assert_eq!(keys(Record::AutomationFired(fired)), (s("PROJECT#HD"), s("AUTOFIRED#r1"), None, None));
    let mail = AutoMail {
        request_key: "HD-4".into(),
        id: "abc".into(),
        kind: AutoMailKind::Acknowledgement,
        body: "Thanks".into(),
        rule: "r1".into(),
        created_at: 5,
    };
    assert_eq!(to_item(&Record::AutoMail(mail.clone()))["kind"], s("acknowledgement"));
    assert_eq!(keys(Record::AutoMail(mail)), (s("REQ#HD-4"), s("MAIL#abc"), None, None));
    let projects = TimeRuleProjects { projects: ["HD".to_string()].into(), version: 2 };
    assert_eq!(keys(Record::TimeRuleProjects(projects)), (s("APP#automations"), s("TIMERULES"), None, Some(2)));
}

#[test]
fn stats_counts_item_holds_each_count_as_its_own_number() {
    let counts = StatsCounts {
        project: "HD".into(),
        scope: "ALL".into(),
        day: "2026-03-01".into(),
        counts: [("created".to_string(), 3), ("fr12".to_string(), 1), ("backlog".to_string(), -2)].into(),
    };
    let item = to_item(&Record::StatsCounts(counts.clone()));
    let expected: Item = HashMap::from([
        ("pk".into(), s("STATS#HD")),
        ("sk".into(), s("ALL#2026-03-01")),
        ("type".into(), s("StatsCounts")),
        ("project".into(), s("HD")),
        ("scope".into(), s("ALL")),
        ("day".into(), s("2026-03-01")),
        ("created".into(), n(3)),
        ("fr12".into(), n(1)),
        ("backlog".into(), n(-2)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::StatsCounts(counts));
    let ledger =
        StatsLedger { project: "HD".into(), request_key: "HD-7".into(), version: 4, view: None, events: vec![] };
    let item = to_item(&Record::StatsLedger(ledger.clone()));
    assert_eq!((item["pk"].clone(), item["sk"].clone()), (s("STATSREQ#HD"), s("HD-7")));
    assert_eq!(from_item(item).unwrap(), Record::StatsLedger(ledger));
}

#[test]
fn the_search_pointer_item_is_exact() {
    use crate::model::SearchPointer;
    let pointer = SearchPointer { id: "01JSEARCH".into(), version: 3, committed_at: 12 };
    let item = to_item(&Record::SearchPointer(pointer.clone()));
    let s = |v: &str| AV::S(v.into());
    let n = |v: i64| AV::N(v.to_string());
    let expected = HashMap::from([
        ("pk".into(), s("SEARCH#index")),
        ("sk".into(), s("POINTER")),
        ("type".into(), s("SearchPointer")),
        ("id".into(), s("01JSEARCH")),
        ("version".into(), n(3)),
        ("committed_at".into(), n(12)),
    ]);
    assert_eq!(item, expected);
    assert_eq!(from_item(item).unwrap(), Record::SearchPointer(pointer));
}
