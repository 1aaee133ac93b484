use super::*;
use crate::domain::caller::Caller;
use crate::domain::participants::{share, ShareInput};
use crate::domain::requests::{add_comment, set_status, NewComment};
use crate::model::ProjectRole;
use crate::testing::Desk;

struct Scene {
    desk: Desk,
    ann: Caller,
    agent: Caller,
    request: Request,
}

/// Ann's request HD-1, shared with Bob; an agent works HD.
async fn scene() -> Scene {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let agent = desk.staff("agent@example.com", "HD", ProjectRole::Agent).await;
    desk.sign_in("bob@example.com").await;
    let ann = desk.sign_in("ann@example.com").await;
    let request = desk.raise(&ann, "HD", "Printer").await;
    let emails = ShareInput { emails: vec!["bob@example.com".into()] };
    let (request, _) = share(&desk.app, &ann, &request.key, Ok(emails)).await.unwrap();
    Scene { desk, ann, agent, request }
}

async fn comment(desk: &Desk, who: &Caller, key: &str, body: &str, internal: bool) -> Comment {
    let input = NewComment { body: body.into(), internal, seen_version: None, attachments: vec![] };
    add_comment(&desk.app, who, key, Ok(input), Ok(None)).await.unwrap().0.comment().cloned().expect("a comment")
}

/// The text of the last mail sent.
fn last_text(desk: &Desk) -> String {
    let (_, raw) = desk.outbox.sent_raw().pop().unwrap();
    mail_parser::MessageParser::default().parse(&raw).unwrap().body_text(0).unwrap().replace("\r\n", "\n")
}

fn sent_to(desk: &Desk) -> Vec<String> {
    desk.outbox.sent_raw().into_iter().map(|(to, _)| to).collect()
}

#[tokio::test]
async fn a_reply_mails_every_party_but_its_author_once() {
    let s = scene().await;
    let reply = comment(&s.desk, &s.agent, &s.request.key, "Turn it off", false).await;
    let event = Event::of(None, Some(&Record::Comment(reply))).expect("a public comment is an event");
    let notices = notify(&s.desk.app, &event).await.unwrap();
    assert_eq!(
        notices,
        vec![Notice::Sent { to: "ann@example.com".into() }, Notice::Sent { to: "bob@example.com".into() }]
    );
    // The stream delivers it again: nothing more is sent.
    let again = notify(&s.desk.app, &event).await.unwrap();
    assert!(again.iter().all(|n| matches!(n, Notice::AlreadySent { .. })), "{again:?}");
    assert_eq!(sent_to(&s.desk), ["ann@example.com", "bob@example.com"]);

    let (_, raw) = &s.desk.outbox.sent_raw()[0];
    let mail = mail_parser::MessageParser::default().parse(raw).unwrap();
    assert_eq!(mail.subject(), Some("[HD-1] Printer"));
    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("HD support wrote on HD-1:\n\nTurn it off"), "{text}");
    assert!(!text.contains("agent@example.com"), "agents' addresses stay private");
    assert!(text.contains("http://127.0.0.1:3000/p/k1."), "{text}");
    let reply_to = mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string();
    let token = crate::domain::reply_address::parse(&reply_to, "desk.example").unwrap();
    assert!(token.grants(&s.desk.app, &s.request.reporter_id, &s.request).await.unwrap());
    assert_eq!(mail.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
    let root = format!("hd-1.{}@desk.example", s.request.id.to_lowercase());
    assert_eq!(mail.in_reply_to().as_text(), Some(root.as_str()));
}

#[tokio::test]
async fn internal_notes_and_the_authors_own_changes_mail_nobody() {
    let s = scene().await;
    let note = comment(&s.desk, &s.agent, &s.request.key, "Customer is rude", true).await;
    assert_eq!(Event::of(None, Some(&Record::Comment(note))), None);
    let own = comment(&s.desk, &s.ann, &s.request.key, "Any news?", false).await;
    let event = Event::of(None, Some(&Record::Comment(own))).unwrap();
    assert_eq!(notify(&s.desk.app, &event).await.unwrap(), vec![Notice::Sent { to: "bob@example.com".into() }]);
    let (_, closed) = set_status(&s.desk.app, &s.ann, &s.request.key, RequestStatus::Closed).await.unwrap();
    let before = Record::Request(s.request.clone());
    let event = Event::of(Some(&before), Some(&Record::Request(closed))).unwrap();
    assert_eq!(notify(&s.desk.app, &event).await.unwrap(), vec![Notice::Sent { to: "bob@example.com".into() }]);
    let (_, raw) = s.desk.outbox.sent_raw().pop().unwrap();
    let text = mail_parser::MessageParser::default().parse(&raw).unwrap().body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.starts_with("ann@example.com closed HD-1."), "{text}");
    assert!(!text.contains("rude"));
    // Same status again, a held request: no event.
    let same = Record::Request(s.request.clone());
    assert_eq!(Event::of(Some(&same), Some(&same)), None);
    let held = Record::Request(Request { held: true, ..s.request.clone() });
    assert_eq!(Event::of(None, Some(&held)), None);
}

#[tokio::test]
async fn one_address_gets_at_most_the_hourly_limit() {
    let s = scene().await;
    let mut limited = 0;
    for i in 0..(crate::model::DEFAULT_NOTIFY_PER_HOUR + 2) {
        let reply = comment(&s.desk, &s.agent, &s.request.key, &format!("Auto answer {i}"), false).await;
        let notices = notify(&s.desk.app, &Event::of(None, Some(&Record::Comment(reply))).unwrap()).await.unwrap();
        limited += notices.iter().filter(|n| matches!(n, Notice::RateLimited { .. })).count();
    }
    assert_eq!(limited, 4, "two over the limit, for each of the two recipients");
    let to_ann = sent_to(&s.desk).iter().filter(|t| *t == "ann@example.com").count();
    assert_eq!(to_ann as u32, crate::model::DEFAULT_NOTIFY_PER_HOUR);
    s.desk.app.clock.advance(3600);
    let reply = comment(&s.desk, &s.agent, &s.request.key, "Next hour", false).await;
    let notices = notify(&s.desk.app, &Event::of(None, Some(&Record::Comment(reply))).unwrap()).await.unwrap();
    assert!(notices.iter().all(|n| matches!(n, Notice::Sent { .. })), "{notices:?}");
}

/// Fails the first send, then delivers to the outbox.
struct FlakyMailer {
    failed: std::sync::atomic::AtomicBool,
    outbox: std::sync::Arc<crate::mailer::Outbox>,
}

#[async_trait::async_trait]
impl crate::mailer::Mailer for FlakyMailer {
    async fn send(&self, email: crate::mailer::Email) -> Result<(), crate::mailer::MailError> {
        self.outbox.send(email).await
    }
    async fn send_raw(&self, to: &str, raw: Vec<u8>) -> Result<String, crate::mailer::MailError> {
        if !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::mailer::MailError("SES throttled".into()));
        }
        self.outbox.send_raw(to, raw).await
    }
}

#[tokio::test]
async fn a_failed_send_is_retried_and_sent_once() {
    let mut s = scene().await;
    let reply = comment(&s.desk, &s.agent, &s.request.key, "Turn it off", false).await;
    let event = Event::of(None, Some(&Record::Comment(reply))).unwrap();
    s.desk.app.mailer = std::sync::Arc::new(FlakyMailer { failed: Default::default(), outbox: s.desk.outbox.clone() });
    let failed = notify(&s.desk.app, &event).await;
    assert!(failed.is_err(), "the batch reports a failure");
    assert!(sent_to(&s.desk).is_empty());
    let retried = notify(&s.desk.app, &event).await.unwrap();
    assert_eq!(retried.len(), 2, "{retried:?}");
    assert_eq!(sent_to(&s.desk), ["ann@example.com", "bob@example.com"]);
    let again = notify(&s.desk.app, &event).await.unwrap();
    assert!(again.iter().all(|n| matches!(n, Notice::AlreadySent { .. })), "{again:?}");
    assert_eq!(sent_to(&s.desk).len(), 2);
}

/// A request opened is an event unless held; a held request's changes are none (its release
/// is the one that counts).
#[tokio::test]
async fn a_request_opened_is_an_event_and_a_held_ones_changes_are_not() {
    let s = scene().await;
    let opened = Record::Request(s.request.clone());
    assert_eq!(Event::of(None, Some(&opened)), Some(Event::Opened(s.request.clone())));
    let held = Request { held: true, ..s.request.clone() };
    let held_closed = Request { status: RequestStatus::Closed, ..held.clone() };
    assert_eq!(Event::of(Some(&Record::Request(held)), Some(&Record::Request(held_closed))), None);
}

/// A sent notification is remembered for a week: a replay days later sends nothing.
#[tokio::test]
async fn a_replay_within_the_week_sends_nothing() {
    let s = scene().await;
    let reply = comment(&s.desk, &s.agent, &s.request.key, "Turn it off", false).await;
    let event = Event::of(None, Some(&Record::Comment(reply))).unwrap();
    notify(&s.desk.app, &event).await.unwrap();
    // Remembered for the week, and no longer (the item's TTL).
    let ann = s.request.reporter_id.clone();
    let Some(Record::Notified(claim)) = s.desk.app.store.get(&notified_key(&event.id(), &ann)).await.unwrap() else {
        panic!("no claim")
    };
    assert_eq!(claim.expires_at, s.desk.app.now() + 7 * 24 * 3600);
    s.desk.app.clock.advance(7 * 24 * 3600 - 1);
    let again = notify(&s.desk.app, &event).await.unwrap();
    assert!(again.iter().all(|n| matches!(n, Notice::AlreadySent { .. })), "{again:?}");
    assert_eq!(sent_to(&s.desk).len(), 2);
}

/// The mail's reply address lasts as long as its public link (30 days by default), and the
/// id SES gave the mail threads replies as the Message-ID SES writes in its place.
#[tokio::test]
async fn a_notifications_reply_address_lasts_its_links_days_and_its_ses_id_threads() {
    let s = scene().await;
    let reply = comment(&s.desk, &s.agent, &s.request.key, "Turn it off", false).await;
    notify(&s.desk.app, &Event::of(None, Some(&Record::Comment(reply))).unwrap()).await.unwrap();
    let ses_ref =
        crate::items::message_ref_key(&crate::domain::inbound::message_key("<outbox-1@eu-west-1.amazonses.com>"));
    assert!(s.desk.app.store.get(&ses_ref).await.unwrap().is_some(), "the id SES gave the first mail");
    let (_, raw) = &s.desk.outbox.sent_raw()[0];
    let mail = mail_parser::MessageParser::default().parse(raw).unwrap();
    let reply_to = mail.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string();
    let token = crate::domain::reply_address::parse(&reply_to, "desk.example").unwrap();
    s.desk.app.clock.advance(30 * 24 * 3600 - 1);
    assert!(token.grants(&s.desk.app, &s.request.reporter_id, &s.request).await.unwrap());
}

/// An assignment is an event when it gives the request to an agent, by someone else, while
/// it is not held; a status change and an assignment at once are both.
#[tokio::test]
async fn an_assignment_by_someone_else_is_an_event_of_its_own() {
    let s = scene().await;
    let agent = |id: &str| crate::model::Assignee {
        id: id.into(),
        email: crate::domain::email::EmailAddress::parse(&format!("{id}@example.com")).unwrap(),
        name: None,
    };
    let request = |assignee: Option<&str>, by: Option<&str>| Request {
        assignee: assignee.map(agent),
        assigned_by: by.map(str::to_string),
        ..s.request.clone()
    };
    let all = |before: &Request, after: &Request| {
        Event::all(Some(&Record::Request(before.clone())), Some(&Record::Request(after.clone())))
    };
    let unassigned = request(None, None);
    let given = request(Some("a1"), Some("lead"));
    assert_eq!(all(&unassigned, &given), [Event::Assigned(given.clone())]);
    assert_eq!(all(&unassigned, &request(Some("a1"), None)), [], "taken by the agent themselves");
    assert_eq!(all(&given, &request(Some("a1"), Some("lead"))), [], "the same agent still");
    assert_eq!(all(&given, &request(None, Some("lead"))), [], "unassigned");
    let held = |r: Request| Request { held: true, ..r };
    assert_eq!(all(&held(unassigned.clone()), &held(given.clone())), [], "held");
    let closed_and_given = Request { status: RequestStatus::Closed, ..given.clone() };
    assert_eq!(
        all(&unassigned, &closed_and_given),
        [Event::StatusChanged(closed_and_given.clone()), Event::Assigned(closed_and_given.clone())]
    );
}

/// Agents hear by their `notify` choice: of a new unassigned request when they asked for all
/// activity; of an assignment made by someone else, and of a customer's reply on what is
/// theirs. No customer hears of an assignment; an agent's own reply tells no agent.
#[tokio::test]
async fn agents_hear_of_what_is_theirs_by_their_choice() {
    let s = scene().await;
    let app = &s.desk.app;
    let lead = s.desk.staff("lead@example.com", "HD", ProjectRole::Agent).await;
    let (agent, lead_id) =
        (crate::auth::me(app, &s.agent).await.unwrap(), crate::auth::me(app, &lead).await.unwrap().id);
    let all = crate::domain::team::AgentPatch { notify: Some(NotifyLevel::All), ..Default::default() };
    crate::domain::team::update_agent(app, &lead, "HD", &lead_id, Ok(all)).await.unwrap();
    let sent = |notices: Vec<Notice>| -> Vec<String> {
        notices.into_iter().map(|n| if let Notice::Sent { to } = n { to } else { panic!("{n:?}") }).collect()
    };
    assert_eq!(
        sent(notify(app, &Event::Opened(s.request.clone())).await.unwrap()),
        ["bob@example.com", "lead@example.com"]
    );
    // The team reads who did it and is not told the request was shared with them.
    assert!(last_text(&s.desk).starts_with("ann@example.com opened HD-1:\n\n"), "{}", last_text(&s.desk));

    let assignee = crate::model::Assignee { id: agent.id.clone(), email: agent.email.clone(), name: None };
    let assigned = Request { assignee: Some(assignee), assigned_by: Some(lead_id.clone()), ..s.request.clone() };
    assert_eq!(sent(notify(app, &Event::Assigned(assigned.clone())).await.unwrap()), ["agent@example.com"]);
    assert!(last_text(&s.desk).starts_with("lead@example.com assigned HD-1 to you."), "{}", last_text(&s.desk));

    let stored = Write::Put { record: Record::Request(assigned), condition: Condition::None };
    app.store.transact(vec![stored]).await.unwrap();
    let from_ann = comment(&s.desk, &s.ann, &s.request.key, "Still broken", false).await;
    let event = Event::of(None, Some(&Record::Comment(from_ann))).unwrap();
    assert_eq!(sent(notify(app, &event).await.unwrap()), ["bob@example.com", "agent@example.com"]);
    let from_lead = comment(&s.desk, &lead, &s.request.key, "On it", false).await;
    let event = Event::of(None, Some(&Record::Comment(from_lead))).unwrap();
    assert_eq!(sent(notify(app, &event).await.unwrap()), ["ann@example.com", "bob@example.com"]);
}

/// A new request mails those it was opened with: a participant added since hears of the
/// sharing itself, not of the opening.
#[tokio::test]
async fn an_opening_mails_only_those_it_was_opened_with() {
    let s = scene().await;
    let as_opened = Request { participants: vec![], participant_ids: vec![], ..s.request.clone() };
    assert_eq!(notify(&s.desk.app, &Event::Opened(as_opened)).await.unwrap(), []);
    assert!(sent_to(&s.desk).is_empty());
}

/// Customers read an agent as the team, under the agent's display name when they gave one.
#[tokio::test]
async fn customers_read_a_named_agent_as_that_name_of_the_team() {
    let s = scene().await;
    let agent = crate::auth::me(&s.desk.app, &s.agent).await.unwrap();
    let named = User { name: Some("Gil".into()), version: agent.version + 1, ..agent };
    s.desk
        .app
        .store
        .transact(vec![Write::Put { record: Record::User(named), condition: Condition::None }])
        .await
        .unwrap();
    let reply = comment(&s.desk, &s.agent, &s.request.key, "Turn it off", false).await;
    notify(&s.desk.app, &Event::of(None, Some(&Record::Comment(reply))).unwrap()).await.unwrap();
    assert!(last_text(&s.desk).starts_with("Gil (HD support) wrote on HD-1:"), "{}", last_text(&s.desk));
}
