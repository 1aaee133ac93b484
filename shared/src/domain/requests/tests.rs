use super::*;
use crate::domain::caller::Caller;
use crate::domain::email::EmailAddress;
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::Input;
use crate::model::RequestStatus;
use crate::projects::{bootstrap_app_admin, create_project, grant_role, NewProject};
use crate::testing::memory_app;

fn s(bearer: &str) -> Caller {
    Caller::session(Some(bearer))
}

fn key(k: &str) -> Input<Option<IdempotencyKey>> {
    IdempotencyKey::from_header(Some(k.as_bytes()))
}

async fn sign_in(app: &App, outbox: &crate::mailer::Outbox, email: &str) -> String {
    crate::auth::request_magic_link(app, email).await.unwrap();
    let text = outbox.sent().last().unwrap().text.clone();
    let token = text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    crate::auth::create_session(app, &token).await.unwrap().0
}

fn new_request(summary: &str) -> NewRequest {
    NewRequest {
        summary: summary.into(),
        description: "d".into(),
        form: None,
        fields: BTreeMap::new(),
        channel: Default::default(),
        follow_up_of: None,
    }
}

async fn setup() -> (App, String, String, String, std::sync::Arc<crate::mailer::Outbox>) {
    let (app, outbox, _) = memory_app();
    bootstrap_app_admin(&app, "admin@example.com").await.unwrap();
    let admin = sign_in(&app, &outbox, "admin@example.com").await;
    create_project(&app, &s(&admin), Ok(NewProject { key: "HD".into(), name: "Help".into(), support_address: None }))
        .await
        .unwrap();
    grant_role(&app, &EmailAddress::parse("agent@example.com").unwrap(), "HD", crate::model::ProjectRole::Agent, None)
        .await
        .unwrap();
    let agent = sign_in(&app, &outbox, "agent@example.com").await;
    let ann = sign_in(&app, &outbox, "ann@example.com").await;
    let bob = sign_in(&app, &outbox, "bob@example.com").await;
    let _ = admin;
    (app, agent, ann, bob, outbox)
}

#[tokio::test]
async fn keys_count_up_and_strangers_see_nothing() {
    let (app, agent, ann, bob, _) = setup().await;
    let ((_, r1), _) = create_request(&app, &s(&ann), "HD", Ok(new_request("one")), Ok(None)).await.unwrap();
    let ((_, r2), _) = create_request(&app, &s(&ann), "HD", Ok(new_request("two")), Ok(None)).await.unwrap();
    assert_eq!((r1.key.as_str(), r2.key.as_str()), ("HD-1", "HD-2"));
    assert_eq!(get_request(&app, &s(&bob), "HD-1").await.unwrap_err(), ApiError::NotFound("request"));
    assert!(get_request(&app, &s(&agent), "HD-1").await.is_ok());
    let note = NewComment { body: "secret".into(), internal: true, seen_version: None, attachments: vec![] };
    assert_eq!(add_comment(&app, &s(&ann), "HD-1", Ok(note), Ok(None)).await.unwrap_err().code(), "forbidden");
    add_comment(
        &app,
        &s(&agent),
        "HD-1",
        Ok(NewComment { body: "internal".into(), internal: true, seen_version: None, attachments: vec![] }),
        Ok(None),
    )
    .await
    .unwrap();
    add_comment(
        &app,
        &s(&agent),
        "HD-1",
        Ok(NewComment { body: "public".into(), internal: false, seen_version: None, attachments: vec![] }),
        Ok(None),
    )
    .await
    .unwrap();
    let seen_by_ann = get_request(&app, &s(&ann), "HD-1").await.unwrap();
    assert_eq!(seen_by_ann.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["public"]);
    let seen_by_agent = get_request(&app, &s(&agent), "HD-1").await.unwrap();
    let r = &seen_by_agent.request;
    assert_eq!((seen_by_agent.comments.len(), r.comment_count, r.note_count), (2, 1, 1));
}

#[tokio::test]
async fn idempotent_create_replays_and_refuses_a_changed_body() {
    let (app, _, ann, _, _) = setup().await;
    let ((_, first), replayed) = create_request(&app, &s(&ann), "HD", Ok(new_request("x")), key("k1")).await.unwrap();
    assert!(!replayed);
    let ((_, again), replayed) = create_request(&app, &s(&ann), "HD", Ok(new_request("x")), key("k1")).await.unwrap();
    assert!(replayed);
    assert_eq!(first.key, again.key);
    let err = create_request(&app, &s(&ann), "HD", Ok(new_request("y")), key("k1")).await.unwrap_err();
    assert_eq!(err.code(), "idempotency_key_reused");
    let page = list_for_customer(&app, &s(&ann), &ListOptions::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn status_changes_and_filtered_paging() {
    let (app, agent, ann, bob, _) = setup().await;
    for i in 0..7 {
        create_request(&app, &s(&ann), "HD", Ok(new_request(&format!("r{i}"))), Ok(None)).await.unwrap();
    }
    assert_eq!(set_status(&app, &s(&bob), "HD-2", RequestStatus::Closed).await.unwrap_err().code(), "not_found");
    for key in ["HD-2", "HD-4", "HD-6"] {
        set_status(&app, &s(&ann), key, RequestStatus::Closed).await.unwrap();
    }
    // Closing twice is a no-op.
    let (_, again) = set_status(&app, &s(&ann), "HD-2", RequestStatus::Closed).await.unwrap();
    assert_eq!(again.version, 2);
    let mut seen = vec![];
    let mut options = ListOptions { status: Some("open".into()), limit: Some("2".into()), ..Default::default() };
    loop {
        let page = list_for_customer(&app, &s(&ann), &options).await.unwrap();
        seen.extend(page.items.iter().map(|(_, r)| r.key.clone()));
        match page.next_cursor {
            Some(c) => options.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["HD-7", "HD-5", "HD-3", "HD-1"]);
    let closed =
        list_queue(&app, &s(&agent), "HD", &ListOptions { status: Some("closed".into()), ..Default::default() })
            .await
            .unwrap();
    assert_eq!(closed.items.iter().map(|(_, r)| r.key.as_str()).collect::<Vec<_>>(), ["HD-6", "HD-4", "HD-2"]);
    assert_eq!(list_queue(&app, &s(&ann), "HD", &ListOptions::default()).await.unwrap_err().code(), "forbidden");
}

#[tokio::test]
async fn bad_input_is_refused_before_any_write() {
    let (app, _, ann, _, _) = setup().await;
    for (summary, code) in [("", "invalid_field"), ("a\u{0}b", "invalid_field")] {
        let err = create_request(&app, &s(&ann), "HD", Ok(new_request(summary)), Ok(None)).await.unwrap_err();
        assert_eq!(err.code(), code);
    }
    let long = "x".repeat(MAX_SUMMARY + 1);
    assert_eq!(
        create_request(&app, &s(&ann), "HD", Ok(new_request(&long)), Ok(None)).await.unwrap_err().code(),
        "invalid_field"
    );
    assert_eq!(
        create_request(&app, &s(&ann), "NOPE", Ok(new_request("x")), Ok(None)).await.unwrap_err().code(),
        "not_found"
    );
    assert!(list_for_customer(&app, &s(&ann), &ListOptions::default()).await.unwrap().items.is_empty());
}
