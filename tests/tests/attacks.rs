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

#[tokio::test]
async fn finding_1_project_admins_moderate_only_their_own_customers() {
    let h = Harness::start().await;
    let w = world(&h).await;
    let (a, p) = (&w.admins.a, &w.admins.p);

    // P administers OT only: everyone but OT's pure customers is out of P's reach.
    for (who, id) in [
        ("C, a customer of HD only", &w.c.id),
        ("E, a customer of HD and OT", &w.e.id),
        ("G, an agent of HD", &w.g.id),
        ("Q, an agent of OT", &w.q.id),
        ("A, an app admin", &w.admins.a_id),
    ] {
        let suspend = h.call("POST", &format!("/users/{id}/suspend"), Some(p), Some(json!({"reason": "x"}))).await;
        check(&suspend, 403, "forbidden", &format!("P suspends {who}"));
        let note = h.call("POST", &format!("/users/{id}/notes"), Some(p), Some(json!({"body": "x"}))).await;
        check(&note, 403, "forbidden", &format!("P notes on {who}"));
        let audit = h.call("GET", &format!("/users/{id}/audit"), Some(p), None).await;
        check(&audit, 403, "forbidden", &format!("P reads the audit of {who}"));
    }
    let d = &w.d.id;
    let suspended = h.call("POST", &format!("/users/{d}/suspend"), Some(p), Some(json!({"reason": "x"}))).await;
    check(&suspended, 200, "", "P suspends D, a customer of OT only");
    let note = h.call("POST", &format!("/users/{d}/notes"), Some(p), Some(json!({"body": "x"}))).await;
    check(&note, 201, "", "P notes on D");
    let audit = h.call("GET", &format!("/users/{d}/audit"), Some(p), None).await;
    check(&audit, 200, "", "P reads D's audit");
    assert!(actions(&audit).contains(&"suspended".to_string()), "{audit:?}");

    // P cannot lift a suspension of someone outside their reach.
    let c = &w.c.id;
    check(
        &h.call("POST", &format!("/users/{c}/suspend"), Some(a), Some(json!({"reason": "x"}))).await,
        200,
        "",
        "A suspends C",
    );
    check(&h.call("POST", &format!("/users/{c}/unsuspend"), Some(p), None).await, 403, "forbidden", "P unsuspends C");
    let trail = h.call("GET", &format!("/users/{c}/audit"), Some(a), None).await;
    check(&trail, 200, "", "A reads C's audit");
    assert!(!actions(&trail).contains(&"unsuspended".to_string()), "C was unsuspended: {trail:?}");
    let mails = h.mail_to(&w.c.email).await.len();
    check(
        &h.call("POST", "/auth/magic-link", None, Some(json!({"email": w.c.email}))).await,
        202,
        "",
        "C asks for a link",
    );
    assert_eq!(h.mail_to(&w.c.email).await.len(), mails, "C, still suspended, gets no sign-in link");

    // The app-wide blocklist is the app admins' alone.
    let app_rule = json!({"rule": "reject:x@y.example"});
    check(&h.call("POST", "/blocklist", Some(a), Some(app_rule.clone())).await, 201, "", "A adds an app-wide rule");
    check(&h.call("GET", "/blocklist", Some(p), None).await, 403, "forbidden", "P lists the app-wide rules");
    let p_rule = json!({"rule": "reject:p@y.example"});
    check(&h.call("POST", "/blocklist", Some(p), Some(p_rule)).await, 403, "forbidden", "P adds an app-wide rule");
    check(&h.call("DELETE", "/blocklist", Some(p), Some(app_rule)).await, 403, "forbidden", "P deletes A's rule");
    let app_list = h.call("GET", "/blocklist", Some(a), None).await;
    check(&app_list, 200, "", "A lists the app-wide rules");
    assert!(rules(&app_list).contains(&"reject:x@y.example".to_string()), "A's rule is gone: {app_list:?}");
    assert!(!rules(&app_list).contains(&"reject:p@y.example".to_string()), "P's rule is app-wide: {app_list:?}");

    // OT's own list is P's; HD's is not, and an agent has none.
    let ot_rule = json!({"rule": "reject:z@y.example"});
    check(&h.call("POST", "/blocklist?project=OT", Some(p), Some(ot_rule.clone())).await, 201, "", "P adds an OT rule");
    let ot_list = h.call("GET", "/blocklist?project=OT", Some(p), None).await;
    check(&ot_list, 200, "", "P lists OT's rules");
    assert!(rules(&ot_list).contains(&"reject:z@y.example".to_string()), "{ot_list:?}");
    check(&h.call("DELETE", "/blocklist?project=OT", Some(p), Some(ot_rule)).await, 204, "", "P deletes an OT rule");
    let ot_list = h.call("GET", "/blocklist?project=OT", Some(p), None).await;
    check(&ot_list, 200, "", "P lists OT's rules again");
    assert!(!rules(&ot_list).contains(&"reject:z@y.example".to_string()), "{ot_list:?}");
    let hd_rule = json!({"rule": "reject:w@y.example"});
    check(&h.call("GET", "/blocklist?project=HD", Some(p), None).await, 403, "forbidden", "P lists HD's rules");
    check(
        &h.call("POST", "/blocklist?project=HD", Some(p), Some(hd_rule.clone())).await,
        403,
        "forbidden",
        "P adds an HD rule",
    );
    check(
        &h.call("DELETE", "/blocklist?project=HD", Some(p), Some(hd_rule.clone())).await,
        403,
        "forbidden",
        "P deletes an HD rule",
    );
    check(
        &h.call("POST", "/blocklist?project=HD", Some(&w.g.token), Some(hd_rule)).await,
        403,
        "forbidden",
        "agent G adds an HD rule",
    );

    // A project's rule holds on that project's channels only; app-wide rules hold everywhere.
    let x = person(&h, "x").await;
    let y = person(&h, "y").await;
    let x_rule = json!({"rule": format!("reject:{}", x.email)});
    check(&h.call("POST", "/blocklist?project=OT", Some(p), Some(x_rule)).await, 201, "", "P blocks X on OT");
    let on_ot = h.call("POST", "/projects/OT/requests", Some(&x.token), Some(json!({"summary": "x on OT"}))).await;
    check(&on_ot, 403, "blocked", "X raises on OT");
    let on_hd = h.call("POST", "/projects/HD/requests", Some(&x.token), Some(json!({"summary": "x on HD"}))).await;
    check(&on_hd, 201, "", "X raises on HD, where OT's rule does not apply");
    let y_rule = json!({"rule": format!("reject:{}", y.email)});
    check(&h.call("POST", "/blocklist", Some(a), Some(y_rule)).await, 201, "", "A blocks Y app-wide");
    for project in ["OT", "HD"] {
        let raised = h
            .call("POST", &format!("/projects/{project}/requests"), Some(&y.token), Some(json!({"summary": "y"})))
            .await;
        check(&raised, 403, "blocked", &format!("Y raises on {project}"));
    }
}

#[tokio::test]
async fn finding_2_project_admins_cannot_create_accounts_in_managed_domains() {
    let h = Harness::start().await;
    let ad = admins(&h).await;
    let domain = format!("managed-{}.example", h.suffix);
    let set = h.call("PUT", "/admin/managed-domains", Some(&ad.a), Some(json!({"domains": [domain]}))).await;
    check(&set, 200, "", "A sets the managed domains");
    let newcomer = format!("new@{domain}");
    let before = h.item_count().await;
    let refused =
        h.call("POST", "/projects/OT/agents", Some(&ad.p), Some(json!({"email": newcomer, "role": "agent"}))).await;
    check(&refused, 403, "managed_domain", "P adds a new agent in a managed domain");
    assert_eq!(h.item_count().await, before, "no account was made");
    let allowed =
        h.call("POST", "/projects/HD/agents", Some(&ad.a), Some(json!({"email": newcomer, "role": "agent"}))).await;
    check(&allowed, 201, "", "A adds the same agent to HD");
}

#[tokio::test]
async fn finding_3_internal_notes_change_nothing_a_customer_sees() {
    let h = Harness::start().await;
    let a = h.admin_with_project("HD").await;
    let c = person(&h, "c").await;
    let key = raise(&h, &c.token, "HD", "printer").await;
    let path = format!("/requests/{key}");
    let first = h.call("GET", &path, Some(&c.token), None).await;
    check(&first, 200, "", "C reads the request");
    let (count, updated) = (first.body["comment_count"].clone(), first.body["updated_at"].clone());
    assert!(count.is_u64() && updated.is_string(), "{first:?}");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let note =
        h.call("POST", &format!("{path}/comments"), Some(&a), Some(json!({"body": "secret", "internal": true}))).await;
    check(&note, 201, "", "A writes an internal note");
    let after = h.call("GET", &path, Some(&c.token), None).await;
    check(&after, 200, "", "C reads the request again");
    assert_eq!(after.body["comment_count"], count, "comment_count counts the internal note: {after:?}");
    assert_eq!(after.body["updated_at"], updated, "updated_at tells when the internal note was written: {after:?}");
    let comments = after.body["comments"].as_array().expect("comments");
    assert!(!comments.iter().any(|c| c["body"] == "secret"), "{after:?}");
    let item = listed(&h, &c.token, &key).await;
    assert_eq!(item["comment_count"], count, "the list counts the internal note: {item}");
    assert_eq!(item["updated_at"], updated, "the list dates the internal note: {item}");

    let reply = h.call("POST", &format!("{path}/comments"), Some(&a), Some(json!({"body": "public"}))).await;
    check(&reply, 201, "", "A replies publicly");
    let seen = h.call("GET", &path, Some(&c.token), None).await;
    check(&seen, 200, "", "C reads the reply");
    assert_eq!(seen.body["comment_count"], 1, "{seen:?}");
    let later = seen.body["updated_at"].as_str().expect("updated_at");
    assert!(later > updated.as_str().unwrap(), "a public reply moves updated_at: {seen:?}");
    let by_agent = h.call("GET", &path, Some(&a), None).await;
    check(&by_agent, 200, "", "A reads the request");
    let bodies: Vec<&str> =
        by_agent.body["comments"].as_array().unwrap().iter().filter_map(|c| c["body"].as_str()).collect();
    assert!(bodies.contains(&"secret"), "agents still see internal notes: {by_agent:?}");
}

#[tokio::test]
async fn finding_4_blocked_users_stop_writing_and_suspension_voids_links() {
    let h = Harness::start().await;
    let a = h.admin_with_project("HD").await;
    let c = person(&h, "c").await;
    let key = raise(&h, &c.token, "HD", "mine").await;
    let z = person(&h, "z").await;
    raise(&h, &z.token, "HD", "makes Z a customer").await;
    let mails = h.mail_to(&c.email).await.len();
    check(&h.call("POST", "/auth/magic-link", None, Some(json!({"email": c.email}))).await, 202, "", "C asks a link");
    assert_eq!(h.mail_to(&c.email).await.len(), mails + 1, "a second link was emailed");
    let unused = h.magic_token(&c.email).await.expect("a sign-in link");

    let rule = json!({"rule": format!("reject:{}", c.email)});
    check(&h.call("POST", "/blocklist", Some(&a), Some(rule)).await, 201, "", "A blocks C app-wide");
    let before = h.item_count().await;
    let comment =
        h.call("POST", &format!("/requests/{key}/comments"), Some(&c.token), Some(json!({"body": "x"}))).await;
    check(&comment, 403, "blocked", "blocked C comments");
    let close = h.call("POST", &format!("/requests/{key}/close"), Some(&c.token), None).await;
    check(&close, 403, "blocked", "blocked C closes");
    let share = h
        .call("POST", &format!("/requests/{key}/participants"), Some(&c.token), Some(json!({"emails": [z.email]})))
        .await;
    check(&share, 403, "blocked", "blocked C shares");
    let session = h.call("POST", "/auth/session", None, Some(json!({"token": unused}))).await;
    check(&session, 401, "unauthorized", "blocked C spends an unused sign-in link");
    assert_eq!(h.item_count().await, before, "refused calls wrote nothing");
    check(&h.call("GET", &format!("/requests/{key}"), Some(&c.token), None).await, 200, "", "blocked C reads");

    // A suspension voids unused links, even once lifted.
    let f = person(&h, "f").await;
    check(&h.call("POST", "/auth/magic-link", None, Some(json!({"email": f.email}))).await, 202, "", "F asks a link");
    let old = h.magic_token(&f.email).await.expect("a sign-in link");
    let suspend = h.call("POST", &format!("/users/{}/suspend", f.id), Some(&a), Some(json!({"reason": "x"}))).await;
    check(&suspend, 200, "", "A suspends F");
    check(&h.call("POST", &format!("/users/{}/unsuspend", f.id), Some(&a), None).await, 200, "", "A unsuspends F");
    let stale = h.call("POST", "/auth/session", None, Some(json!({"token": old}))).await;
    check(&stale, 401, "unauthorized", "F spends a link asked before the suspension");
    let mails = h.mail_to(&f.email).await.len();
    check(&h.call("POST", "/auth/magic-link", None, Some(json!({"email": f.email}))).await, 202, "", "F asks again");
    assert_eq!(h.mail_to(&f.email).await.len(), mails + 1, "a fresh link was emailed");
    let fresh = h.magic_token(&f.email).await.expect("a sign-in link");
    check(
        &h.call("POST", "/auth/session", None, Some(json!({"token": fresh}))).await,
        201,
        "",
        "F spends a fresh link",
    );
}

#[tokio::test]
async fn finding_5_unvalidated_fields_and_support_addresses_are_refused() {
    let h = Harness::start().await;
    let ad = admins(&h).await;
    let d = person(&h, "d").await;
    raise(&h, &d.token, "OT", "D's request").await;
    let long = "x".repeat(60_000);
    let before = h.item_count().await;
    let notes = format!("/users/{}/notes", d.id);
    let huge_note = h.call("POST", &notes, Some(&ad.a), Some(json!({"body": "x", "request": long}))).await;
    check(&huge_note, 422, "invalid_field", "a note naming a 60,000-character request");
    let nul_note = h.call("POST", &notes, Some(&ad.a), Some(json!({"body": "x", "request": "HD-1\u{0000}"}))).await;
    check(&nul_note, 422, "invalid_field", "a note naming a request with a NUL");
    let huge_suspend = h
        .call("POST", &format!("/users/{}/suspend", d.id), Some(&ad.a), Some(json!({"reason": "x", "request": long})))
        .await;
    check(&huge_suspend, 422, "invalid_field", "a suspension naming a 60,000-character request");
    assert_eq!(h.item_count().await, before, "refused calls wrote nothing");

    // Support addresses: one project each, inside the support domain unless an app admin says so.
    let taken = h
        .call(
            "POST",
            "/projects",
            Some(&ad.a),
            Some(json!({"key": "ZZ", "name": "z", "support_address": "hd@desk.test"})),
        )
        .await;
    check(&taken, 422, "reserved_address", "A creates ZZ on HD's (default) address");
    let patch = |address: &str| json!({"support_address": address});
    let outside = h.call("PATCH", "/projects/OT", Some(&ad.p), Some(patch("someone@gmail.com"))).await;
    check(&outside, 422, "invalid_support_address", "P moves OT outside the support domain");
    let stolen = h.call("PATCH", "/projects/OT", Some(&ad.p), Some(patch("hd@desk.test"))).await;
    check(&stolen, 422, "reserved_address", "P moves OT onto HD's address");
    let moved = h.call("PATCH", "/projects/OT", Some(&ad.p), Some(patch("ot-help@desk.test"))).await;
    check(&moved, 200, "", "P moves OT to a free address");
    assert_eq!(moved.body["support_address"], "ot-help@desk.test");
    let freed = h.call("PATCH", "/projects/HD", Some(&ad.a), Some(patch("ot@desk.test"))).await;
    check(&freed, 422, "reserved_address", "A takes OT's default address for HD (kept for OT)");
    let taken = h.call("PATCH", "/projects/HD", Some(&ad.a), Some(patch("ot-help@desk.test"))).await;
    check(&taken, 409, "support_address_taken", "A moves HD onto OT's address");
    // Issue 22, finding 1: the helpdesk's own From address (any case), reply-address shapes,
    // role addresses and a future project's default address are nobody's support address.
    for address in [
        "HelpDesk@Desk.Test",
        "reply.k1.hd-1.abc.def@desk.test",
        "postmaster@desk.test",
        "Mailer-Daemon@desk.test",
        "noreply@desk.test",
        "abuse@desk.test",
        "future@desk.test",
    ] {
        let claimed = h.call("PATCH", "/projects/OT", Some(&ad.p), Some(patch(address))).await;
        check(&claimed, 422, "reserved_address", address);
        // Not even an app admin, who may otherwise set any address.
        let by_admin = h.call("PATCH", "/projects/HD", Some(&ad.a), Some(patch(address))).await;
        check(&by_admin, 422, "reserved_address", address);
    }
    let own = h.call("PATCH", "/projects/OT", Some(&ad.p), Some(patch("OT@desk.test"))).await;
    check(&own, 200, "", "OT takes back its own default address");
    let external = h.call("PATCH", "/projects/HD", Some(&ad.a), Some(patch("help@company.example"))).await;
    check(&external, 200, "", "A sets an outside address on HD");
}

#[tokio::test]
async fn finding_6_callers_are_authenticated_before_their_input_is_validated() {
    let h = Harness::start().await;
    let w = world(&h).await;
    let before = h.item_count().await;
    for body in ["{}", "not json"] {
        let anonymous = h.call_raw("POST", "/projects/HD/requests", None, Some(body.into()), &[]).await;
        check(&anonymous, 401, "unauthorized", &format!("anonymous raise with {body}"));
    }
    let anonymous = h.call_raw("POST", &format!("/users/{}/suspend", w.d.id), None, Some("{}".into()), &[]).await;
    check(&anonymous, 401, "unauthorized", "anonymous suspend");
    for (method, path, body) in [
        ("POST", "/projects/HD/agents", json!({})),
        ("POST", "/projects", json!({"key": 1})),
        ("PATCH", "/projects/HD", json!({"nope": 1})),
        ("POST", "/blocklist", json!({"rule": "garbage"})),
        ("POST", "/projects/HD/organizations", json!({})),
    ] {
        let answer = h.call(method, path, Some(&w.c.token), Some(body.clone())).await;
        check(&answer, 403, "forbidden", &format!("customer C: {method} {path} {body}"));
    }
    let stranger = &w.d.token;
    let path = format!("/requests/{}", w.c_key);
    check(&h.call("GET", &path, Some(stranger), None).await, 404, "not_found", "D cannot see HD-1");
    let answer = h.call("POST", &format!("{path}/comments"), Some(stranger), Some(json!({}))).await;
    check(&answer, 404, "not_found", "stranger D comments {} on HD-1");
    assert_eq!(h.item_count().await, before, "refused calls wrote nothing");
}

#[tokio::test]
async fn finding_7_idempotency_keys_must_be_short_visible_ascii() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let c = person(&h, "c").await;
    let key = raise(&h, &c.token, "HD", "for comments").await;
    let create = "/projects/HD/requests".to_string();
    let comment = format!("/requests/{key}/comments");
    let bodies = [(&create, json!({"summary": "once"})), (&comment, json!({"body": "once"}))];
    let before = h.item_count().await;
    for (path, body) in &bodies {
        let accented = call_with_raw_header(&h, path, &c.token, body.clone(), "idempotency-key", b"key-\xC3\xA9").await;
        check(&accented, 400, "invalid_idempotency_key", &format!("{path} with a non-ASCII key"));
        let long = "k".repeat(256);
        let too_long = h
            .call_raw("POST", path, Some(&c.token), Some(body.to_string()), &[("idempotency-key", long.as_str())])
            .await;
        check(&too_long, 400, "invalid_idempotency_key", &format!("{path} with a 256-character key"));
    }
    assert_eq!(h.item_count().await, before, "refused calls wrote nothing");

    // 255 characters is the longest key; each endpoint gets its own (keys are per user).
    for ((path, body), letter) in bodies.iter().zip(["a", "b"]) {
        let longest = letter.repeat(255);
        let headers = [("idempotency-key", longest.as_str())];
        let first = h.call_raw("POST", path, Some(&c.token), Some(body.to_string()), &headers).await;
        check(&first, 201, "", &format!("{path} with a 255-character key"));
        let again = h.call_raw("POST", path, Some(&c.token), Some(body.to_string()), &headers).await;
        check(&again, 200, "", &format!("{path} replayed with a 255-character key"));
        let id = if path.as_str() == create { "key" } else { "id" };
        assert!(first.body[id].is_string(), "{first:?}");
        assert_eq!(again.body[id], first.body[id], "the replay answers the first result");
    }
}

#[tokio::test]
async fn finding_8_held_is_not_shown_to_the_customer() {
    let h = Harness::start().await;
    let a = h.admin_with_project("HD").await;
    let held = person(&h, "held").await;
    let rule = json!({"rule": format!("suspend:{}", held.email)});
    check(&h.call("POST", "/blocklist", Some(&a), Some(rule)).await, 201, "", "A adds a suspend: rule");
    let raised =
        h.call("POST", "/projects/HD/requests", Some(&held.token), Some(json!({"summary": "please review"}))).await;
    check(&raised, 201, "", "H raises");
    assert!(raised.body.get("held").is_none(), "the create answer tells H it was held: {raised:?}");
    let key = raised.body["key"].as_str().expect("a key").to_string();
    let detail = h.call("GET", &format!("/requests/{key}"), Some(&held.token), None).await;
    check(&detail, 200, "", "H reads the request");
    assert!(detail.body.get("held").is_none(), "H's detail shows held: {detail:?}");
    let item = listed(&h, &held.token, &key).await;
    assert!(item.get("held").is_none(), "H's list shows held: {item}");
    let by_agent = h.call("GET", &format!("/requests/{key}"), Some(&a), None).await;
    check(&by_agent, 200, "", "A reads the request");
    assert_eq!(by_agent.body["held"], true, "{by_agent:?}");
}

/// Review of the fix: a project admin who may moderate a customer still cannot lift what an
/// app admin decided, since lifting a suspension lifts its app-wide rule.
#[tokio::test]
async fn a_project_admin_cannot_lift_an_app_admins_suspension_or_its_rule() {
    let h = Harness::start().await;
    let w = world(&h).await;
    let (a, p) = (&w.admins.a, &w.admins.p);
    let suspended = h.call("POST", &format!("/users/{}/suspend", w.d.id), Some(a), Some(json!({"reason": "x"}))).await;
    check(&suspended, 200, "", "A suspends D");
    let lifted = h.call("POST", &format!("/users/{}/unsuspend", w.d.id), Some(p), None).await;
    check(&lifted, 403, "forbidden", "P lifts A's suspension of D");
    let listed = h.call("GET", "/blocklist", Some(a), None).await;
    check(&listed, 200, "", "A lists the app-wide rules");
    assert_eq!(rules(&listed), [format!("reject:{}", w.d.email)]);
    let trail = h.call("GET", &format!("/users/{}/audit", w.d.id), Some(a), None).await;
    assert!(!actions(&trail).contains(&"unsuspended".to_string()), "{trail:?}");
    // A project admin's own suspension is theirs to lift, with its project rule.
    let e_on_ot = person(&h, "f").await;
    raise(&h, &e_on_ot.token, "OT", "F's request").await;
    let by_p = h.call("POST", &format!("/users/{}/suspend", e_on_ot.id), Some(p), Some(json!({"reason": "y"}))).await;
    check(&by_p, 200, "", "P suspends F, a customer of OT only");
    assert_eq!(by_p.body["rules"], json!([format!("reject:{} (project OT)", e_on_ot.email)]));
    let ot_rules = h.call("GET", "/blocklist?project=OT", Some(p), None).await;
    assert_eq!(rules(&ot_rules), [format!("reject:{}", e_on_ot.email)]);
    check(&h.call("POST", &format!("/users/{}/unsuspend", e_on_ot.id), Some(p), None).await, 200, "", "P lifts it");
    assert!(rules(&h.call("GET", "/blocklist?project=OT", Some(p), None).await).is_empty());
}

/// Review of the fix: a project rule binds the project's customers, not its staff: a project
/// admin cannot silence the app admin or a fellow agent with one.
#[tokio::test]
async fn project_rules_do_not_bind_staff_and_bad_list_options_wait_for_authorization() {
    let h = Harness::start().await;
    let w = world(&h).await;
    let (a, g) = (&w.admins.a, &w.g);
    let admin_email = h.email("admin");
    for target in [&admin_email, &g.email] {
        let added =
            h.call("POST", "/blocklist?project=HD", Some(a), Some(json!({"rule": format!("reject:{target}")}))).await;
        check(&added, 201, "", "a project rule naming staff");
    }
    let note = json!({"body": "still working", "internal": true});
    check(&h.call("POST", &format!("/requests/{}/comments", w.c_key), Some(a), Some(note.clone())).await, 201, "", "A");
    check(&h.call("POST", &format!("/requests/{}/comments", w.c_key), Some(&g.token), Some(note)).await, 201, "", "G");
    // The same rule shape binds a customer of HD.
    let rule = json!({"rule": format!("reject:{}", w.c.email)});
    check(&h.call("POST", "/blocklist?project=HD", Some(a), Some(rule)).await, 201, "", "reject C on HD");
    let path = format!("/requests/{}/comments", w.c_key);
    let refused = h.call("POST", &path, Some(&w.c.token), Some(json!({"body": "x"}))).await;
    check(&refused, 403, "blocked", "C replies on HD");
    // Query options are checked only for callers who may list at all.
    let customer_on_queue = h.call("GET", "/projects/HD/requests?status=bogus", Some(&w.d.token), None).await;
    check(&customer_on_queue, 403, "forbidden", "a customer on the queue with a bad status");
    let forged = format!("{}.{}", w.d.id, "x".repeat(40));
    check(&h.call("GET", "/requests?status=bogus", Some(&forged), None).await, 401, "unauthorized", "forged token");
    check(&h.call("GET", "/requests?status=bogus", Some(&w.d.token), None).await, 400, "invalid_status", "D");
}

/// Review of the fix: staff whose address an app-wide rule rejects stop writing everywhere,
/// account and organization changes included.
#[tokio::test]
async fn rejected_staff_stop_changing_accounts_and_organizations() {
    let h = Harness::start().await;
    let w = world(&h).await;
    let a = &w.admins.a;
    let org = h.call("POST", "/projects/HD/organizations", Some(&w.g.token), Some(json!({"name": "Acme"}))).await;
    check(&org, 201, "", "G creates an organization");
    let org_id = org.body["id"].as_str().unwrap().to_string();
    check(
        &h.call("POST", "/blocklist", Some(a), Some(json!({"rule": format!("reject:{}", w.g.email)}))).await,
        201,
        "",
        "rule",
    );
    let before = h.item_count().await;
    let g = Some(w.g.token.as_str());
    let attempts = [
        h.call("POST", "/projects/HD/customers", g, Some(json!({"email": h.email("new")}))).await,
        h.call("POST", "/projects/HD/organizations", g, Some(json!({"name": "Other"}))).await,
        h.call("POST", &format!("/organizations/{org_id}/members"), g, Some(json!({"email": w.c.email}))).await,
        h.call("POST", &format!("/requests/{}/close", w.c_key), g, None).await,
    ];
    for (i, answer) in attempts.iter().enumerate() {
        check(answer, 403, "blocked", &format!("rejected agent, attempt {i}"));
    }
    assert_eq!(h.item_count().await, before, "refused calls wrote nothing");
}

/// PRODUCT.md: an app admin moderates anyone, but other app admins' rules stay theirs.
#[tokio::test]
async fn app_wide_rules_stay_their_makers() {
    let h = Harness::start().await;
    let a = h.admin_with_project("HD").await;
    let other_admin = h.email("other-admin");
    helpdesk::projects::bootstrap_app_admin(&h.app, &other_admin).await.expect("a second app admin");
    let b = h.sign_in(&other_admin).await;
    let rule = json!({"rule": format!("reject:{}", h.email("spammer"))});
    check(&h.call("POST", "/blocklist", Some(&a), Some(rule.clone())).await, 201, "", "A adds a rule");
    check(&h.call("DELETE", "/blocklist", Some(&b), Some(rule.clone())).await, 403, "rule_not_yours", "B removes it");
    let softer = json!({"rule": format!("suspend:{}", h.email("spammer"))});
    check(&h.call("POST", "/blocklist", Some(&b), Some(softer)).await, 403, "rule_not_yours", "B replaces it");
    let listed = h.call("GET", "/blocklist", Some(&b), None).await;
    check(&listed, 200, "", "B lists the app-wide rules");
    assert_eq!(rules(&listed), [format!("reject:{}", h.email("spammer"))]);
    check(&h.call("DELETE", "/blocklist", Some(&a), Some(rule)).await, 204, "", "A removes their own");
    assert!(rules(&h.call("GET", "/blocklist", Some(&b), None).await).is_empty());
}

/// Issue 22, finding 3: signing in never makes an account in a managed domain (seed 001:
/// only app admins do). The answer stays 202; no link is sent; a link asked for before the
/// domain became managed no longer makes the account. An account an app admin made signs in.
#[tokio::test]
async fn sign_in_never_creates_an_account_in_a_managed_domain() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("PUT", "/admin/managed-domains", Some(&admin), Some(json!({"domains": ["inst.example"]}))).await;
    let stranger = format!("x-{}@inst.example", h.suffix.to_lowercase());
    let asked = h.call("POST", "/auth/magic-link", None, Some(json!({"email": stranger}))).await;
    assert_eq!(asked.status, 202, "the same answer as for anyone");
    assert!(h.mail_to(&stranger).await.is_empty(), "no link for an account nobody may make");
    let before = h.item_count().await;

    // Asked for while the domain was free, redeemed after it became managed: no account.
    let early = format!("y-{}@later.example", h.suffix.to_lowercase());
    assert_eq!(h.call("POST", "/auth/magic-link", None, Some(json!({"email": early}))).await.status, 202);
    let token = h.magic_token(&early).await.expect("a link while the domain was free");
    let domains = json!({"domains": ["inst.example", "later.example"]});
    h.ok("PUT", "/admin/managed-domains", Some(&admin), Some(domains)).await;
    let redeemed = h.call("POST", "/auth/session", None, Some(json!({"token": token}))).await;
    assert_eq!(redeemed.status, 401, "{redeemed:?}");
    // The link item and the rate counter of the early request, nothing else.
    assert_eq!(h.item_count().await, before + 2);

    // An app admin makes the account: then it signs in as usual.
    let member = format!("m-{}@inst.example", h.suffix.to_lowercase());
    h.ok("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": member}))).await;
    let session = h.sign_in(&member).await;
    assert_eq!(h.ok("GET", "/me", Some(&session), None).await.body["email"], member.as_str());
}

/// Issue 22, finding 12: a right-to-left override (and other invisible formatting) never
/// reaches a summary or a file name, by the API or by email.
#[tokio::test]
async fn invisible_formatting_is_stripped_from_summaries_and_file_names() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let made = h
        .ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Invoice \u{202E}fdp.exe\u{200B}"})))
        .await;
    assert_eq!(made.body["summary"], "Invoice fdp.exe");
    let only = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "\u{202E}\u{2066}"}))).await;
    assert_eq!(only.body["summary"], "(no summary)");
    let ann_email = h.email("ann");
    let raw = format!(
        "From: {ann_email}\r\nTo: hd@desk.test\r\nSubject: =?utf-8?q?Bill_=E2=80=AEgnp.exe?=\r\nMessage-ID: <rlo@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''report%E2%80%AEfdp.exe\r\n\r\nMZ\r\n--b--\r\n"
    );
    let answer = h.inbound_email(raw, "").await;
    let key = answer.body["request"].as_str().expect("a request").to_string();
    let read = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    assert_eq!(read["summary"], "Bill gnp.exe");
    assert_eq!(read["attachments"][0]["name"], "reportfdp.exe", "{read}");
}

/// Issue 22, finding 9: the portal's forms do nothing in a project whose private portal is
/// off (its pages are 404 there): no reply, close, reopen, share or new request.
#[tokio::test]
async fn portal_forms_act_only_where_the_portal_is_on() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    h.sign_in(&h.email("bob")).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer"}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"private": false}}))).await;
    let cookie = format!("hd_session={ann}");
    let csrf = h.page("GET", "/portal", &cookie, None).await.csrf();
    let before = h.item_count().await;
    let bob = h.email("bob");
    for (path, fields) in [
        (format!("/portal/requests/{key}/comments"), vec![("body", "hello")]),
        (format!("/portal/requests/{key}/close"), vec![]),
        (format!("/portal/requests/{key}/participants"), vec![("email", bob.as_str())]),
        ("/portal/requests".to_string(), vec![("project", "HD"), ("summary", "Another")]),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let answer = h.page("POST", &path, &cookie, Some(&form)).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.text);
    }
    assert_eq!(h.item_count().await, before, "nothing was written");
    let read = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await.body;
    assert_eq!((read["status"].as_str(), read["comment_count"].as_u64()), (Some("open"), Some(0)));
}

/// A public link minted for `email` on `key` by `agent`: its path (`/p/<token>`).
async fn public_link(h: &Harness, agent: &str, key: &str, email: &str) -> String {
    let path = format!("/requests/{key}/public-links");
    let minted = h.call("POST", &path, Some(agent), Some(json!({"emails": [email]}))).await;
    check(&minted, 201, "", "mint a public link");
    let url = minted.body["items"][0]["url"].as_str().expect("a link").to_string();
    url.strip_prefix(&h.base).expect("a link of this deployment").to_string()
}

/// Issue 22, finding 2: whoever holds a forwarded public link learns nothing from the token
/// that lets them test address guesses offline or name the recipient's account: no address,
/// no hash of it, no user id. The server compares the typed address, under the guess limit.
#[tokio::test]
async fn a_public_link_token_carries_nothing_to_test_guesses_against() {
    use base64::Engine;
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"public": true}}))).await;
    let ann = person(&h, "ann").await;
    let key = raise(&h, &ann.token, "HD", "Printer").await;
    let path = public_link(&h, &admin, &key, &ann.email).await;
    let token = path.strip_prefix("/p/").unwrap();
    let payload = token.split('.').nth(1).expect("<key id>.<payload>.<signature>");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    let payload = String::from_utf8(payload).expect("text");
    let old_hash = &helpdesk::text::sha256_hex(&format!("public-link-address\n{}", ann.email))[..32];
    for secret in [ann.email.as_str(), ann.id.as_str(), old_hash] {
        assert!(!payload.contains(secret), "the token carries {secret}: {payload}");
    }
    assert!(payload.contains(&key), "it names its request: {payload}");
    // The check happens on the server: a wrong address is refused, the right one is taken.
    let reply = |email: String| {
        let body = json!({"email": email, "body": "From the link"}).to_string();
        let path = format!("{path}/reply");
        let h = &h;
        async move { h.call_raw("POST", &path, None, Some(body), &[("accept", "application/json")]).await }
    };
    check(&reply(h.email("eve")).await, 403, "wrong_email", "a wrong guess");
    let right = reply(ann.email.to_uppercase()).await;
    check(&right, 201, "", "the right address, in any case");
    assert_eq!(right.body["comments"][0]["author"], "You");
}

/// Issue 22, findings 4 and 11: customers see the team as the team and never an agent's
/// address (portal, API, public link); on a public link, other customers are labelled as
/// other people (by the name they gave), never as the team.
#[tokio::test]
async fn customers_never_pass_as_the_team_and_agents_addresses_stay_hidden() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let admin_email = h.email("admin");
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"public": true}}))).await;
    let ann = person(&h, "ann").await;
    let bob_email = h.email("bob");
    h.ok("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": bob_email, "name": "Bob Mallory"})))
        .await;
    let bob = h.sign_in(&bob_email).await;
    let carl = person(&h, "carl").await;
    let key = raise(&h, &ann.token, "HD", "Printer").await;
    for who in [&bob_email, &carl.email] {
        let path = format!("/requests/{key}/participants");
        let shared = h.call("POST", &path, Some(&ann.token), Some(json!({"emails": [who]}))).await;
        check(&shared, 200, "", "Ann shares");
    }
    let comment = |token: String, body: &'static str| {
        let h = &h;
        let path = format!("/requests/{key}/comments");
        async move { check(&h.call("POST", &path, Some(&token), Some(json!({"body": body}))).await, 201, "", body) }
    };
    comment(admin.clone(), "We are on it").await;
    comment(bob.clone(), "Support here: send your password to me").await;
    comment(carl.token.clone(), "Me too").await;
    // Carl is removed: his words stay, still not the team's.
    let removed = h.call("DELETE", &format!("/requests/{key}/participants/{}", carl.email), Some(&admin), None).await;
    check(&removed, 200, "", "Carl removed");

    let path = public_link(&h, &admin, &key, &ann.email).await;
    let json = h.call_raw("GET", &path, None, None, &[("accept", "application/json")]).await;
    check(&json, 200, "", "the public page as JSON");
    let authors: Vec<(&str, &str)> = json.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["author"].as_str().unwrap(), c["body"].as_str().unwrap()))
        .collect();
    assert_eq!(
        authors,
        [
            ("Help support", "We are on it"),
            ("Bob Mallory", "Support here: send your password to me"),
            ("Someone else on this request", "Me too"),
        ]
    );
    let page = h.page("GET", &path, "", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Bob Mallory") && !page.text.contains("example"), "{}", page.text);

    // Signed in, through the API and the portal: the team's name, not the admin's address.
    let read = h.ok("GET", &format!("/requests/{key}"), Some(&ann.token), None).await.body;
    assert_eq!(read["comments"][0]["author"], "Help support", "{read}");
    // Customers see each other by the name the team gave (one naming rule, as on the link).
    assert_eq!(read["comments"][1]["author"], "Bob Mallory", "customers on a request see each other");
    assert!(!read.to_string().contains(&admin_email), "{read}");
    let portal = h.page("GET", &format!("/portal/requests/{key}"), &format!("hd_session={}", ann.token), None).await;
    assert_eq!(portal.status, 200);
    assert!(portal.text.contains("Help support") && !portal.text.contains(&admin_email), "{}", portal.text);
    // Agents still see who wrote what.
    let desk = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    assert_eq!(desk["comments"][0]["author"], admin_email.as_str());
}

/// Issue 22, finding 5: parallel wrong guesses cannot pass the limit (each is counted before
/// it is compared), and a right guess among them answers as what it did.
#[tokio::test]
async fn parallel_guesses_stop_at_the_limit() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"public": true}}))).await;
    let ann = person(&h, "ann").await;
    let key = raise(&h, &ann.token, "HD", "Printer").await;
    let path = public_link(&h, &admin, &key, &ann.email).await;
    let limit = helpdesk::domain::public_links::MAX_WRONG_EMAILS as usize;
    let guesses: Vec<_> = (0..12)
        .map(|i| {
            let email = if i == 6 { ann.email.clone() } else { h.email(&format!("eve{i}")) };
            let body = json!({"email": email, "body": format!("guess {i}")}).to_string();
            let (h, path) = (&h, format!("{path}/reply"));
            async move { h.call_raw("POST", &path, None, Some(body), &[("accept", "application/json")]).await }
        })
        .collect();
    let answers = futures::future::join_all(guesses).await;
    let wrong = answers.iter().filter(|a| a.code() == "wrong_email").count();
    assert!(wrong <= limit, "{wrong} wrong guesses were compared: {answers:?}");
    for (i, answer) in answers.iter().enumerate().filter(|(i, _)| *i != 6) {
        assert!(matches!(answer.code(), "wrong_email" | "not_found"), "guess {i}: {answer:?}");
    }
    let stored = h.ok("GET", &format!("/requests/{key}"), Some(&ann.token), None).await.body["comments"].clone();
    let stored = stored.as_array().unwrap().iter().any(|c| c["body"] == "guess 6");
    let right = &answers[6];
    if stored {
        assert_eq!(right.status, 201, "its comment was stored, so it says so: {right:?}");
    } else {
        assert_eq!(right.code(), "not_found", "{right:?}");
    }
    assert_eq!(h.call_raw("GET", &path, None, None, &[("accept", "application/json")]).await.status, 404, "locked");
}

/// Issue 22, finding 7: mail that says it is from a customer but that SES could not
/// authenticate is held, and stays out of that customer's account (API list, read, portal)
/// until an agent releases it; released, it is theirs.
#[tokio::test]
async fn forged_mail_stays_out_of_the_account_it_names_until_released() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = person(&h, "ann").await;
    let mine = raise(&h, &ann.token, "HD", "My own request").await;
    let raw = format!(
        "From: {}\r\nTo: hd@desk.test\r\nSubject: Please pay invoice 77\r\nMessage-ID: <forged@x>\r\n\r\nPay to IBAN XX00 ATTACKER\r\n",
        ann.email
    );
    let held = h.inbound_email(raw, "dmarc=GRAY").await;
    assert_eq!(held.status, 200, "{held:?}");
    let key = held.body["request"].as_str().expect("a held request").to_string();
    let queue = h.ok("GET", "/projects/HD/requests?status=held", Some(&admin), None).await.body;
    assert_eq!(queue["items"][0]["key"], key.as_str(), "agents see it held: {queue}");

    let list = h.ok("GET", "/requests", Some(&ann.token), None).await.body;
    let keys: Vec<&str> = list["items"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [mine.as_str()], "not in Ann's list");
    check(&h.call("GET", &format!("/requests/{key}"), Some(&ann.token), None).await, 404, "not_found", "Ann reads it");
    let cookie = format!("hd_session={}", ann.token);
    let portal = h.page("GET", "/portal", &cookie, None).await;
    assert!(!portal.text.contains("invoice 77") && portal.text.contains("My own request"), "{}", portal.text);

    // Released by an agent: then it is Ann's.
    check(&h.call("POST", &format!("/requests/{key}/release"), Some(&admin), None).await, 200, "", "release");
    let read = h.ok("GET", &format!("/requests/{key}"), Some(&ann.token), None).await.body;
    assert_eq!(read["summary"], "Please pay invoice 77");
    let list = h.ok("GET", "/requests", Some(&ann.token), None).await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
}

/// Issue 22, finding 10: every answer carries the security headers (unknown and undecodable
/// paths, wrong methods, JSON as well as pages), and pages answer `HEAD`.
#[tokio::test]
async fn every_answer_carries_the_security_headers_and_pages_answer_head() {
    let h = Harness::start().await;
    let ann = h.sign_in(&h.email("ann")).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let html = "text/html,application/xhtml+xml";
    let cases: [(&str, &str, &str, u16, &str); 9] = [
        ("GET", "/nowhere", "application/json", 404, "application/json"),
        ("GET", "/nowhere", html, 404, "text/html"),
        ("GET", "/portal/requests/HD-1/%FF%FE/x", html, 404, "text/html"),
        ("DELETE", "/portal", html, 405, "text/html"),
        ("PUT", "/requests/HD-1", "*/*", 405, "application/json"),
        ("GET", "/me", "application/json", 200, "application/json"),
        ("GET", "/requests/HD-404", "application/json", 404, "application/json"),
        ("HEAD", "/login", html, 200, "text/html"),
        ("HEAD", "/", html, 303, ""),
    ];
    for (method, path, accept, status, content_type) in cases {
        let what = format!("{method} {path} ({accept})");
        let res = client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", h.base))
            .header("accept", accept)
            .bearer_auth(&ann)
            .send()
            .await
            .expect("gateway answers");
        assert_eq!(res.status().as_u16(), status, "{what}");
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(header("content-type").starts_with(content_type), "{what}: {}", header("content-type"));
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"), "{what}");
        if status == 405 {
            assert!(!header("allow").is_empty(), "{what}: a 405 names what is allowed");
        }
        let body = res.bytes().await.unwrap();
        assert_eq!(body.is_empty(), method == "HEAD" || status == 303, "{what}: HEAD has no body, the others do");
    }
}

/// Issue 22, finding 8: a login CSRF. The token of an anonymous form is keyed by the server,
/// so an attacker who plants or picks the visitor cookie still cannot compute it; and the
/// confirm page says which address is signing in, so nobody is signed in to an attacker's
/// account unawares.
#[tokio::test]
async fn sign_in_forms_cannot_be_forged_and_say_who_signs_in() {
    let h = Harness::start().await;
    let attacker = h.email("mallory");
    let chosen = "attacker-chosen-cookie";
    let cookies = format!("hd_anon={chosen}");
    let computed = &helpdesk::text::sha256_hex(&format!("csrf\n{chosen}"))[..32];
    let forged = h.page("POST", "/login", &cookies, Some(&[("csrf", computed), ("email", &attacker)])).await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert!(h.mail_to(&attacker).await.is_empty(), "the forged form sent nothing");

    // The confirm page names the account the link signs in to.
    let login = h.page("GET", "/login", &cookies, None).await;
    let asked = h.page("POST", "/login", &cookies, Some(&[("csrf", &login.csrf()), ("email", &attacker)])).await;
    assert_eq!(asked.status, 202, "{}", asked.text);
    let token = h.magic_token(&attacker).await.expect("a link");
    let confirm = h.page("GET", &format!("/login?token={token}"), "", None).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.text.contains(&format!("signing in as <strong>{attacker}</strong>")), "{}", confirm.text);
    let stale = h.page("GET", "/login?token=made-up", "", None).await;
    assert_eq!(stale.status, 410, "{}", stale.text);
    assert!(stale.text.contains("expired or was already used") && !stale.text.contains("signing in as"));
}

/// Issue 22, "Also": a customer who shares with a suspended user learns nothing of that
/// user's moderation: the answer is the one for an address that cannot be shared with.
#[tokio::test]
async fn sharing_with_a_suspended_user_tells_a_customer_nothing_of_it() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = person(&h, "ann").await;
    let mal = person(&h, "mal").await;
    let key = raise(&h, &ann.token, "HD", "Printer").await;
    let suspend = format!("/users/{}/suspend", mal.id);
    let suspended = h.call("POST", &suspend, Some(&admin), Some(json!({"reason": "spam"}))).await;
    check(&suspended, 200, "", "the admin suspends Mal");
    let path = format!("/requests/{key}/participants");
    let nobody = h.email("nobody");
    for (email, what) in [(&mal.email, "a suspended user"), (&nobody, "an address with no account")] {
        let shared = h.call("POST", &path, Some(&ann.token), Some(json!({"emails": [email]}))).await;
        check(&shared, 422, "participant_unknown", &format!("Ann shares with {what}"));
        let message = shared.body["error"]["message"].as_str().unwrap().replace(email.as_str(), "<address>");
        assert!(message.starts_with("<address> has no account"), "{message}");
    }
    let by_agent = h.call("POST", &path, Some(&admin), Some(json!({"emails": [mal.email]}))).await;
    check(&by_agent, 403, "blocked", "the team is told why");
}

/// Issue 22, "Also": the same email delivered again under a new SES id (sent to two support
/// addresses, resent by a relay) opens no second request.
#[tokio::test]
async fn the_same_email_under_a_new_ses_id_opens_one_request() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.email("ann");
    let raw = format!(
        "From: {ann}\r\nTo: hd@desk.test\r\nSubject: Printer\r\nMessage-ID: <twice-{}@client.example>\r\n\r\nIt smokes\r\n",
        h.suffix
    );
    let first = h.inbound_email(raw.clone(), "message_id=ses-first").await;
    assert_eq!(first.body["outcome"], "created", "{first:?}");
    let key = first.body["request"].as_str().unwrap().to_string();
    let copy = h.inbound_email(raw, "message_id=ses-relayed").await;
    assert_eq!(copy.body, json!({"outcome": "duplicate", "request": key}));
    let queue = h.ok("GET", "/projects/HD/requests", Some(&admin), None).await.body;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
}

/// Issue 22, "Also": a project can take requests from its customers only. Then a stranger's
/// account raises nothing there (pages and API), and their mail is held for an agent instead
/// of making the helpdesk mail their words; a customer an agent added raises as before.
#[tokio::test]
async fn a_customers_only_project_takes_no_request_from_strangers() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let patched = h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"intake": "customers"}))).await;
    assert_eq!(patched.body["intake"], "customers");
    let eve = person(&h, "eve").await;
    let cookie = format!("hd_session={}", eve.token);
    let csrf = h.page("GET", "/portal", &cookie, None).await.csrf();
    let before = h.item_count().await;
    let refused = h.call("POST", "/projects/HD/requests", Some(&eve.token), Some(json!({"summary": "Hi"}))).await;
    check(&refused, 403, "customers_only", "a stranger raises through the API");
    let form = [("csrf", csrf.as_str()), ("project", "HD"), ("summary", "Hi")];
    let page = h.page("POST", "/portal/requests", &cookie, Some(&form)).await;
    assert_eq!(page.status, 403, "a stranger raises through the portal: {}", page.text);
    assert_eq!(h.item_count().await, before, "nothing written");

    let raw = format!(
        "From: {}\r\nTo: hd@desk.test\r\nSubject: Hello\r\nMessage-ID: <eve-{}@x>\r\n\r\nHi\r\n",
        eve.email, h.suffix
    );
    let mailed = h.inbound_email(raw, "").await;
    let key = mailed.body["request"].as_str().expect("a held request").to_string();
    let read = h.ok("GET", &format!("/requests/{key}"), Some(&admin), None).await.body;
    assert_eq!(read["held"], true, "{read}");
    assert!(read["comments"][0]["body"].as_str().unwrap().contains("not a customer of this project"), "{read}");

    let ann = h.email("ann");
    h.ok("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": ann}))).await;
    let ann = h.sign_in(&ann).await;
    raise(&h, &ann, "HD", "From a customer").await;
    raise(&h, &admin, "HD", "From an agent").await;
}
