//! The security review's findings 1-8, and what reviews of their fixes found.

use super::*;

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
