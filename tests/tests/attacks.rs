//! Attacks from the outside, through HTTP on DynamoDB Local and moto: one test per finding of
//! the security review. Each test asserts the behaviour the fix must have; every setup call is
//! checked, so a refusal can only pass for the reason the finding names.

use helpdesk_tests::{Answer, Harness};
use serde_json::{json, Value};
use std::time::Duration;

/// Asserts status and error code (`""` for a success), naming the step when it fails.
#[track_caller]
fn check(answer: &Answer, status: u16, code: &str, what: &str) {
    assert_eq!((answer.status, answer.code()), (status, code), "{what}: {}", short(answer));
}

/// An answer for a failure message, cut short (some echo 60,000-character fields).
fn short(answer: &Answer) -> String {
    let text = format!("{answer:?}");
    match text.char_indices().nth(600) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

async fn user_id(h: &Harness, token: &str) -> String {
    let me = h.call("GET", "/me", Some(token), None).await;
    check(&me, 200, "", "GET /me");
    me.body["id"].as_str().expect("/me has an id").to_string()
}

/// Raises a request on `project`: 201, returns its key.
async fn raise(h: &Harness, token: &str, project: &str, summary: &str) -> String {
    let raised =
        h.call("POST", &format!("/projects/{project}/requests"), Some(token), Some(json!({"summary": summary}))).await;
    check(&raised, 201, "", &format!("raise on {project}"));
    let key = raised.body["key"].as_str().expect("a request key").to_string();
    assert!(key.starts_with(&format!("{project}-")), "{key}");
    key
}

async fn add_member(h: &Harness, admin: &str, project: &str, email: &str, role: &str) {
    let added = h
        .call("POST", &format!("/projects/{project}/agents"), Some(admin), Some(json!({"email": email, "role": role})))
        .await;
    check(&added, 201, "", &format!("add {role} {email} to {project}"));
}

fn rules(list: &Answer) -> Vec<String> {
    list.body["items"].as_array().expect("a list").iter().map(|r| r["rule"].as_str().unwrap().to_string()).collect()
}

fn actions(audit: &Answer) -> Vec<String> {
    audit.body["items"].as_array().expect("a list").iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

/// The item for `key` in a customer's `GET /requests`.
async fn listed(h: &Harness, token: &str, key: &str) -> Value {
    let list = h.call("GET", "/requests", Some(token), None).await;
    check(&list, 200, "", "GET /requests");
    let items = list.body["items"].as_array().expect("a list");
    items.iter().find(|r| r["key"] == key).cloned().unwrap_or_else(|| panic!("{key} not in the list: {list:?}"))
}

/// A call with one header given as raw bytes (the harness only sends `&str` values).
async fn call_with_raw_header(
    h: &Harness,
    path: &str,
    token: &str,
    body: Value,
    name: &'static str,
    value: &[u8],
) -> Answer {
    let value = reqwest::header::HeaderValue::from_bytes(value).expect("bytes a header may carry");
    let res = reqwest::Client::new()
        .post(format!("{}{path}", h.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header(name, value)
        .body(body.to_string())
        .send()
        .await
        .expect("gateway answers");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
    Answer { status, body }
}

/// App admin A (also admin of HD) and P, admin of project OT only.
struct Admins {
    a: String,
    a_id: String,
    p: String,
}

async fn admins(h: &Harness) -> Admins {
    let a = h.admin_with_project("HD").await;
    let a_id = user_id(h, &a).await;
    let created = h.call("POST", "/projects", Some(&a), Some(json!({"key": "OT", "name": "Other"}))).await;
    check(&created, 201, "", "A creates OT");
    let p_email = h.email("p");
    add_member(h, &a, "OT", &p_email, "admin").await;
    let p = h.sign_in(&p_email).await;
    Admins { a, a_id, p }
}

/// A signed-in user: token, id and address.
struct Person {
    token: String,
    id: String,
    email: String,
}

async fn person(h: &Harness, name: &str) -> Person {
    let email = h.email(name);
    let token = h.sign_in(&email).await;
    let id = user_id(h, &token).await;
    Person { token, id, email }
}

/// The admins, G (agent of HD), Q (agent of OT), and customers C (raised HD-1, HD only),
/// D (raised OT-1, OT only) and E (raised in both).
struct World {
    admins: Admins,
    g: Person,
    q: Person,
    c: Person,
    c_key: String,
    d: Person,
    e: Person,
}

async fn world(h: &Harness) -> World {
    let admins = admins(h).await;
    let a = &admins.a;
    add_member(h, a, "HD", &h.email("g"), "agent").await;
    let g = person(h, "g").await;
    add_member(h, a, "OT", &h.email("q"), "agent").await;
    let q = person(h, "q").await;
    let c = person(h, "c").await;
    let c_key = raise(h, &c.token, "HD", "C's request").await;
    assert_eq!(c_key, "HD-1");
    let d = person(h, "d").await;
    assert_eq!(raise(h, &d.token, "OT", "D's request").await, "OT-1");
    let e = person(h, "e").await;
    raise(h, &e.token, "HD", "E's request on HD").await;
    raise(h, &e.token, "OT", "E's request on OT").await;
    World { admins, g, q, c, c_key, d, e }
}

#[path = "attacks/issue22.rs"]
mod issue22;
#[path = "attacks/review.rs"]
mod review;
