//! Suspension's own steps on the in-memory store: the rule it adds, a race with another
//! moderator, closing requests that changed meanwhile, and the request reference.

use super::*;
use crate::domain::requests::{self, NewComment};
use crate::store::Store;
use crate::testing::Desk;

fn stored_request(records: Option<Record>) -> Request {
    match records {
        Some(Record::Request(r)) => r,
        other => panic!("no request: {other:?}"),
    }
}

#[test]
fn a_request_reference_is_a_request_key_of_at_most_32_characters() {
    let key = |len: usize| Some(format!("HD-{}", "1".repeat(len - 3)));
    assert!(check_request_ref(&key(32)).is_ok());
    assert_eq!(check_request_ref(&key(33)).unwrap_err().code(), "invalid_field");
    assert_eq!(check_request_ref(&Some("not a key".into())).unwrap_err().code(), "invalid_field");
    assert!(check_request_ref(&None).is_ok());
}

/// A suspension adds `reject:<address>` when no such rule was there, names it as its own,
/// and unsuspending takes it away again.
#[tokio::test]
async fn a_suspension_adds_its_rule_and_unsuspending_lifts_it() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let mal = desk.sign_in("mal@example.com").await;
    let mal = crate::auth::me(&desk.app, &mal).await.unwrap();
    let input = SuspendInput { reason: "spam".into(), request: None };
    let outcome = suspend(&desk.app, &desk.admin, &mal.id, Ok(input), None).await.unwrap();
    let claimed = outcome.user.suspension.unwrap().rules;
    assert_eq!(claimed, [RuleRef { pattern: "mal@example.com".into(), project: None }]);
    let listed = crate::rules::list_rules(&desk.app, &desk.admin, None).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.text()).collect::<Vec<_>>(), ["reject:mal@example.com"]);
    let trail = audit_trail(&desk.app, &desk.admin, &mal.id).await.unwrap().entries;
    let added: Vec<_> = trail.iter().filter(|e| e.action == "rule_added").map(|e| e.detail.as_deref()).collect();
    assert_eq!(added, [Some("reject:mal@example.com")]);
    unsuspend(&desk.app, &desk.admin, &mal.id).await.unwrap();
    assert!(crate::rules::list_rules(&desk.app, &desk.admin, None).await.unwrap().is_empty());
}

/// Two moderators at once: the one who finds the user already suspended takes that
/// suspension; one who finds the user changed in another way is told to retry.
#[tokio::test]
async fn a_suspension_that_lost_a_race_takes_the_winners() {
    let desk = Desk::new().await;
    let (admin, _) = resolve(&desk.app, &desk.admin, &[]).await.unwrap();
    let mal = desk.sign_in("mal@example.com").await;
    let stale = crate::auth::me(&desk.app, &mal).await.unwrap();
    let input = SuspendInput { reason: "first".into(), request: None };
    let winner = mark_suspended(&desk.app, &admin.user, stale.clone(), &[], &input).await.unwrap();
    let second = SuspendInput { reason: "second".into(), request: None };
    let taken = mark_suspended(&desk.app, &admin.user, stale.clone(), &[], &second).await.unwrap();
    assert_eq!(taken.suspension.as_ref().map(|s| s.reason.as_str()), Some("first"));
    assert_eq!(taken, winner);

    let other = desk.sign_in("other@example.com").await;
    let stale = crate::auth::me(&desk.app, &other).await.unwrap();
    let changed = User { version: stale.version + 1, ..stale.clone() };
    desk.store.transact(vec![Write::Put { record: Record::User(changed), condition: Condition::None }]).await.unwrap();
    let refused = mark_suspended(&desk.app, &admin.user, stale, &[], &second).await.unwrap_err();
    assert_eq!(refused.code(), "conflict");
}

/// Closing a batch whose requests changed since they were read: each is read again, an
/// open one is closed (by nobody the notifier names, its version and time moved), and one
/// someone closed meanwhile is left as it is.
#[tokio::test]
async fn a_batch_that_changed_meanwhile_closes_what_is_still_open() {
    let desk = Desk::new().await;
    desk.project("HD").await;
    let (admin, _) = resolve(&desk.app, &desk.admin, &[]).await.unwrap();
    let ann = desk.sign_in("ann@example.com").await;
    let target = crate::auth::me(&desk.app, &ann).await.unwrap();
    let (first, second) = (desk.raise(&ann, "HD", "one").await, desk.raise(&ann, "HD", "two").await);
    // The first is closed and reopened by its reporter (so it names who changed its status),
    // then replied to; the second is closed by its reporter.
    requests::set_status(&desk.app, &ann, &first.key, RequestStatus::Closed).await.unwrap();
    requests::set_status(&desk.app, &ann, &first.key, RequestStatus::Open).await.unwrap();
    let reply = NewComment { body: "still there".into(), internal: false, seen_version: None, attachments: vec![] };
    requests::add_comment(&desk.app, &ann, &first.key, Ok(reply), Ok(None)).await.unwrap();
    requests::set_status(&desk.app, &ann, &second.key, RequestStatus::Closed).await.unwrap();
    let before = stored_request(desk.store.get(&crate::items::request_key(&first.key)).await.unwrap());
    assert!(before.status_by.is_some());
    desk.app.clock.advance(60);
    let suspension = Suspension {
        id: new_ulid(),
        reason: "spam".into(),
        request: None,
        by: admin.user.email.clone(),
        at: desk.app.now(),
        rules: vec![],
    };
    let closed = close_batch(&desk.app, &admin.user, &target, &suspension, &[first.clone(), second.clone()]).await;
    assert_eq!(closed.unwrap(), vec![first.key.clone()]);
    let after = stored_request(desk.store.get(&crate::items::request_key(&first.key)).await.unwrap());
    assert_eq!((after.status, after.status_by.clone()), (RequestStatus::Closed, None));
    assert_eq!((after.version, after.updated_at), (before.version + 1, desk.app.now()));
    let untouched = stored_request(desk.store.get(&crate::items::request_key(&second.key)).await.unwrap());
    assert_eq!(untouched.status_by, Some(target.id.clone()), "closed by its reporter, not again");
}

/// An app-wide rule is its author's: another app admin may not remove it.
#[tokio::test]
async fn an_app_wide_rule_is_removed_by_its_author_only() {
    let desk = Desk::new().await;
    crate::projects::bootstrap_app_admin(&desk.app, "second@example.com").await.unwrap();
    let second = desk.sign_in("second@example.com").await;
    let rule = || Ok(crate::rules::RuleInput { rule: "reject:*@spam.example".into() });
    crate::rules::add_rule(&desk.app, &desk.admin, None, rule()).await.unwrap();
    let refused = crate::rules::remove_rule(&desk.app, &second, None, rule()).await.unwrap_err();
    assert_eq!((refused.code(), refused.status()), ("rule_not_yours", 403));
    assert_eq!(crate::rules::list_rules(&desk.app, &second, None).await.unwrap().len(), 1);
    crate::rules::remove_rule(&desk.app, &desk.admin, None, rule()).await.unwrap();
    assert!(crate::rules::list_rules(&desk.app, &second, None).await.unwrap().is_empty());
}
