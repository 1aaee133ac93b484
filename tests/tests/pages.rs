//! The web pages over HTTP, as a browser without script uses them: sign-in by the emailed
//! link, cookies, CSRF, error pages, security headers and public links, against DynamoDB
//! Local and moto through the local gateway.

use helpdesk_tests::{Harness, PageAnswer};
use serde_json::json;

const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "frame-ancestors 'none'"),
];

fn assert_page_headers(p: &PageAnswer, what: &str) {
    for (name, must_contain) in SECURITY_HEADERS {
        assert!(p.header(name).contains(must_contain), "{what}: {name} is {:?}", p.header(name));
    }
    assert!(!p.header("content-security-policy").contains("unsafe-inline"), "{what}");
}

/// The session cookie of a signed-in user, as pages carry it.
fn session(token: &str) -> String {
    format!("hd_session={token}")
}

/// Signs in through the pages: asks for a link, opens it, presses the button.
async fn sign_in_by_pages(h: &Harness, email: &str) -> String {
    let login = h.page("GET", "/login", "", None).await;
    let anon = login.cookie("hd_anon").expect("a visitor cookie for the form");
    let cookies = format!("hd_anon={anon}");
    let asked = h.page("POST", "/login", &cookies, Some(&[("csrf", &login.csrf()), ("email", email)])).await;
    assert_eq!(asked.status, 202, "{}", asked.text);
    assert!(asked.text.contains("a link is on its way"));
    let token = h.magic_token(email).await.expect("a link was emailed");
    let confirm = h.page("GET", &format!("/login?token={token}"), &cookies, None).await;
    let done = h.page("POST", "/login/confirm", &cookies, Some(&[("csrf", &confirm.csrf()), ("token", &token)])).await;
    assert_eq!((done.status, done.header("location")), (303, "/portal"), "{}", done.text);
    done.cookie("hd_session").expect("the session cookie")
}

#[tokio::test]
async fn signing_in_comes_back_to_the_page_that_asked_and_only_to_this_site() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let email = h.email("ann");
    let ann = h.sign_in(&email).await;
    let key = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "vpn"}))).await.body["key"]
        .as_str()
        .unwrap()
        .to_string();
    let wanted = format!("/portal/requests/{key}?done=replied");

    // Asked without a session: the sign-in page remembers the page.
    let asked = h.page("GET", &wanted, "", None).await;
    assert_eq!(asked.status, 401);
    let remembered = format!(r#"name="next" value="/portal/requests/{key}?done=replied""#);
    assert!(asked.text.contains(&remembered), "{}", asked.text);
    let cookies = format!("hd_anon={}", asked.cookie("hd_anon").unwrap());
    let form = [("csrf", asked.csrf()), ("email", email.clone()), ("next", wanted.clone())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(h.page("POST", "/login", &cookies, Some(&form)).await.status, 202);
    // The emailed link carries it, the confirm page keeps it, and the session lands there.
    let token = h.magic_token(&email).await.unwrap();
    let encoded = urlencode(&wanted);
    let link = format!("/login?token={token}&next={encoded}");
    let mail = h.mail_to(&email).await;
    assert!(mail.iter().any(|(_, body)| body.contains(&link)), "the link returns: {link} {mail:?}");
    let confirm = h.page("GET", &link, &cookies, None).await;
    assert!(confirm.text.contains(&remembered), "{}", confirm.text);
    let form = [("csrf", confirm.csrf()), ("token", token), ("next", wanted.clone())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = h.page("POST", "/login/confirm", &cookies, Some(&form)).await;
    assert_eq!((done.status, done.header("location")), (303, wanted.as_str()));

    // Anywhere else is refused: the home page instead.
    for (i, elsewhere) in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/logout"].iter().enumerate()
    {
        // A new address each time: the sign-in links of one are rate-limited.
        let email = h.email(&format!("visitor{i}"));
        let page = h.page("GET", &format!("/login?next={}", urlencode(elsewhere)), &cookies, None).await;
        assert!(!page.text.contains(r#"name="next""#), "{elsewhere}: {}", page.text);
        h.page("POST", "/login", &cookies, Some(&[("csrf", &page.csrf()), ("email", &email), ("next", elsewhere)]))
            .await;
        let token = h.magic_token(&email).await.unwrap();
        let mail = h.mail_to(&email).await;
        assert!(!mail.last().unwrap().1.contains("next="), "{elsewhere}");
        let form = [("csrf", page.csrf()), ("token", token), ("next", elsewhere.to_string())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let done = h.page("POST", "/login/confirm", &cookies, Some(&form)).await;
        assert_eq!((done.status, done.header("location")), (303, "/portal"), "{elsewhere}");
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn the_emailed_link_opens_a_button_that_spends_it_once() {
    let h = Harness::start().await;
    let email = h.email("ann");
    let login = h.page("GET", "/login", "", None).await;
    assert_eq!(login.status, 200);
    assert_page_headers(&login, "login");
    let anon = login.cookie("hd_anon").unwrap();
    let cookies = format!("hd_anon={anon}");
    h.page("POST", "/login", &cookies, Some(&[("csrf", &login.csrf()), ("email", &email)])).await;
    let token = h.magic_token(&email).await.unwrap();
    let mail = h.mail_to(&email).await;
    assert!(mail[0].1.contains(&format!("{}/login?token={token}", h.base)), "the email links to the page");

    // A mail scanner's GETs spend nothing: the link still signs in afterwards.
    for _ in 0..2 {
        let confirm = h.page("GET", &format!("/login?token={token}"), "", None).await;
        assert_eq!(confirm.status, 200);
        assert!(confirm.text.contains(r#"<button type="submit" autofocus>Sign in</button>"#));
    }
    let confirm = h.page("GET", &format!("/login?token={token}"), &cookies, None).await;
    let done = h.page("POST", "/login/confirm", &cookies, Some(&[("csrf", &confirm.csrf()), ("token", &token)])).await;
    assert_eq!((done.status, done.header("location")), (303, "/portal"));
    let set = done.set_cookies().into_iter().find(|c| c.starts_with("hd_session=")).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain http on 127.0.0.1 gets no Secure flag: {set}");
    let bearer = done.cookie("hd_session").unwrap();

    // The same session works for pages (cookie) and the API (bearer or cookie).
    let portal = h.page("GET", "/portal", &session(&bearer), None).await;
    assert_eq!(portal.status, 200);
    assert!(portal.text.contains("My requests"));
    assert_eq!(h.call("GET", "/me", Some(&bearer), None).await.body["email"], email.as_str());

    // Spent: a second press is a 401 page, and signs nobody in.
    let again = h.page("POST", "/login/confirm", &cookies, Some(&[("csrf", &confirm.csrf()), ("token", &token)])).await;
    assert_eq!(again.status, 401);
    assert!(again.cookie("hd_session").is_none());
    assert!(again.header("content-type").starts_with("text/html"));

    // Sign out: the cookie is cleared and the session ends for the API too.
    let portal_csrf = portal.csrf();
    let out = h.page("POST", "/logout", &session(&bearer), Some(&[("csrf", &portal_csrf)])).await;
    assert_eq!((out.status, out.header("location")), (303, "/login"));
    assert!(out.set_cookies().iter().any(|c| c.starts_with("hd_session=;") && c.contains("Max-Age=0")));
    assert_eq!(h.call("GET", "/me", Some(&bearer), None).await.status, 401);
    let after = h.page("GET", "/portal", &session(&bearer), None).await;
    assert_eq!(after.status, 401);
    assert!(after.text.contains("Sign in to continue"), "a signed-out visitor gets the sign-in page");
}

#[tokio::test]
async fn forms_need_this_sessions_csrf_token() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = sign_in_by_pages(&h, &h.email("ann")).await;
    let bob = sign_in_by_pages(&h, &h.email("bob")).await;
    let key = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "printer"}))).await.body["key"]
        .as_str()
        .unwrap()
        .to_string();
    let page = h.page("GET", &format!("/portal/requests/{key}"), &session(&ann), None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let bobs_csrf = h.page("GET", "/portal", &session(&bob), None).await.csrf();
    let reply = format!("/portal/requests/{key}/comments");
    for (what, token) in [("no token", ""), ("another session's token", bobs_csrf.as_str()), ("garbage", "x")] {
        let refused = h.page("POST", &reply, &session(&ann), Some(&[("csrf", token), ("body", "hi")])).await;
        assert_eq!(refused.status, 403, "{what}");
        assert!(refused.text.contains("This form has expired"), "{what}: {}", refused.text);
        assert_page_headers(&refused, what);
    }
    let detail = h.call("GET", &format!("/requests/{key}"), Some(&admin), None).await;
    assert_eq!(detail.body["comment_count"], 0, "nothing was written by a refused form");

    let sent =
        h.page("POST", &reply, &session(&ann), Some(&[("csrf", &page.csrf()), ("body", "hi"), ("nonce", "n1")])).await;
    assert_eq!(sent.status, 303);
    assert_eq!(sent.header("location"), format!("/portal/requests/{key}?done=replied"));
    // The same form submitted twice (same nonce) replies once.
    let twice =
        h.page("POST", &reply, &session(&ann), Some(&[("csrf", &page.csrf()), ("body", "hi"), ("nonce", "n1")])).await;
    assert_eq!(twice.status, 303);
    let detail = h.call("GET", &format!("/requests/{key}"), Some(&admin), None).await;
    assert_eq!(detail.body["comment_count"], 1);

    // The JSON API reads with the cookie but changes nothing with it: no CSRF token there.
    let headers = [("cookie", format!("hd_session={ann}"))];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let read = h.call_raw("GET", &format!("/requests/{key}"), None, None, &headers).await;
    assert_eq!(read.status, 200);
    let write =
        h.call_raw("POST", &format!("/requests/{key}/comments"), None, Some(r#"{"body":"x"}"#.into()), &headers).await;
    assert_eq!(write.status, 401, "{write:?}");
}

#[tokio::test]
async fn another_customers_request_is_a_404_page_and_pages_carry_their_headers() {
    let h = Harness::start().await;
    let _admin = h.admin_with_project("HD").await;
    let ann = sign_in_by_pages(&h, &h.email("ann")).await;
    let eve = sign_in_by_pages(&h, &h.email("eve")).await;
    let key = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "private matter"}))).await.body
        ["key"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = h.page("GET", &format!("/portal/requests/{key}"), &session(&eve), None).await;
    assert_eq!(theirs.status, 404);
    assert!(theirs.header("content-type").starts_with("text/html"));
    assert!(!theirs.text.contains("private matter"));
    let missing = h.page("GET", "/portal/requests/HD-999", &session(&eve), None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(theirs.text, missing.text, "someone else's request looks exactly like no request");
    let csrf = h.page("GET", "/portal", &session(&eve), None).await.csrf();
    let close =
        h.page("POST", &format!("/portal/requests/{key}/close"), &session(&eve), Some(&[("csrf", &csrf)])).await;
    assert_eq!(close.status, 404);
    let share = format!("/portal/requests/{key}/participants");
    let shared = h.page("POST", &share, &session(&eve), Some(&[("csrf", &csrf), ("email", &h.email("eve"))])).await;
    assert_eq!(shared.status, 404);

    for path in [
        "/login",
        "/portal",
        &format!("/portal/requests/{key}"),
        "/portal/new?project=HD",
        "/portal/requests/HD-404",
        "/p/forged",
    ] {
        let p = h.page("GET", path, &session(&ann), None).await;
        assert_page_headers(&p, path);
        assert!(p.header("content-type").starts_with("text/html"), "{path}");
    }
    let stylesheet = helpdesk_web::stylesheet_path();
    let css = h.page("GET", stylesheet, "", None).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.header("cache-control").contains("immutable"));
    assert_eq!(h.page("GET", "/static/style-000000000000.css", "", None).await.status, 404);
}

#[tokio::test]
async fn the_portal_raises_replies_shares_and_explains_unknown_addresses() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = sign_in_by_pages(&h, &h.email("ann")).await;
    let bob_email = h.email("bob");
    sign_in_by_pages(&h, &bob_email).await;
    let form = h.page("GET", "/portal/new?project=HD", &session(&ann), None).await;
    assert_eq!(form.status, 200);
    let cookie = session(&ann);
    let empty = h
        .page("POST", "/portal/requests", &cookie, Some(&[("csrf", &form.csrf()), ("project", "HD"), ("summary", "")]))
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.text.contains(r#"id="summary-error""#), "the error sits next to its field");
    let made = h
        .page(
            "POST",
            "/portal/requests",
            &cookie,
            Some(&[
                ("csrf", &form.csrf()),
                ("project", "HD"),
                ("summary", "Printer <b>on fire</b>"),
                ("description", "smoke"),
            ]),
        )
        .await;
    assert_eq!(made.status, 303);
    let location = made.header("location").to_string();
    let page = h.page("GET", &location, &cookie, None).await;
    // The portal says what it did.
    let path = location.strip_suffix("?done=created").expect("a confirmation").to_string();
    assert!(page.text.contains(&format!("your request {} was received", &path["/portal/requests/".len()..])));
    assert!(
        page.text.contains("Printer &#60;b&#62;on fire&#60;/b&#62;") || page.text.contains("Printer &lt;b&gt;"),
        "escaped"
    );
    assert!(!page.text.contains("<b>on fire"));

    let share = format!("{path}/participants");
    let unknown =
        h.page("POST", &share, &cookie, Some(&[("csrf", &page.csrf()), ("email", &h.email("stranger"))])).await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.text.contains("has no account with this helpdesk yet"), "{}", unknown.text);
    assert!(unknown.text.contains(r#"id="share-error""#));
    let known = h.page("POST", &share, &cookie, Some(&[("csrf", &page.csrf()), ("email", &bob_email)])).await;
    assert_eq!((known.status, known.header("location")), (303, format!("{path}?done=shared").as_str()));
    let shown = h.page("GET", known.header("location"), &cookie, None).await;
    assert!(shown.text.contains("Shared: they can see this request now"), "{}", shown.text);
    let key = path.rsplit('/').next().unwrap();
    let participants = h.call("GET", &format!("/requests/{key}/participants"), Some(&admin), None).await;
    assert_eq!(participants.body["items"][0]["email"], bob_email.as_str(), "{participants:?}");
    let page = h.page("GET", &path, &cookie, None).await;
    assert!(page.text.contains(&format!("Remove {bob_email}")), "the list offers to remove each participant");
    let removed = h
        .page("POST", &format!("{share}/remove"), &cookie, Some(&[("csrf", &page.csrf()), ("email", &bob_email)]))
        .await;
    assert_eq!((removed.status, removed.header("location")), (303, format!("{path}?done=unshared").as_str()));
    let participants = h.call("GET", &format!("/requests/{key}/participants"), Some(&admin), None).await;
    assert_eq!(participants.body["items"], json!([]));
}

#[tokio::test]
async fn public_links_show_the_public_thread_and_take_replies_from_the_right_address() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "vpn"}))).await.body["key"]
        .as_str()
        .unwrap()
        .to_string();
    h.ok(
        "POST",
        &format!("/requests/{key}/comments"),
        Some(&admin),
        Some(json!({"body": "SECRET NOTE", "internal": true})),
    )
    .await;
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&admin), Some(json!({"body": "Public answer"}))).await;
    // Customers cannot mint links; agents can.
    let refused = h.call("POST", &format!("/requests/{key}/public-links"), Some(&ann), None).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    let minted = h.ok("POST", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    let url = minted.body["items"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(minted.body["items"][0]["email"], ann_email.as_str());
    let path = url.strip_prefix(&h.base).unwrap().to_string();

    let page = h.page("GET", &path, "", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Public answer"));
    assert!(!page.text.contains("SECRET NOTE"), "internal notes never show");
    // Whoever holds the link must not learn the address it was sent to (nor anyone's).
    assert!(!page.text.contains(&ann_email) && !page.text.contains("example.com"), "{}", page.text);
    assert!(page.text.contains("Help support"), "the team shows as the team, by the project's name");
    assert_page_headers(&page, "public page");
    let json = h.call_raw("GET", &path, None, None, &[("accept", "application/json")]).await;
    assert_eq!(json.status, 200, "{json:?}");
    assert_eq!(json.body["comments"].as_array().unwrap().len(), 1);
    assert!(json.body.get("note_count").is_none());
    assert!(!json.body.to_string().contains("example.com"), "{}", json.body);

    let anon = format!("hd_anon={}", page.cookie("hd_anon").unwrap());
    let reply = format!("{path}/reply");
    let wrong = h
        .page("POST", &reply, &anon, Some(&[("csrf", &page.csrf()), ("email", &h.email("eve")), ("body", "hi")]))
        .await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.text.contains("That is not the address this link was sent to."));
    let right = h
        .page("POST", &reply, &anon, Some(&[("csrf", &page.csrf()), ("email", &ann_email), ("body", "Thanks!")]))
        .await;
    assert_eq!(right.status, 303, "{}", right.text);
    let detail = h.call("GET", &format!("/requests/{key}"), Some(&ann), None).await;
    assert_eq!(detail.body["comments"].as_array().unwrap().len(), 2, "one public answer and one reply");
    let last = detail.body["comments"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["body"].as_str(), last["author"].as_str()), (Some("Thanks!"), Some(ann_email.as_str())), "{last}");

    // Blocklist rules apply to replies through a link too.
    h.ok("POST", "/blocklist", Some(&admin), Some(json!({"rule": format!("reject:{ann_email}")}))).await;
    let blocked =
        h.page("POST", &reply, &anon, Some(&[("csrf", &page.csrf()), ("email", &ann_email), ("body", "again")])).await;
    assert_eq!(blocked.status, 403, "{}", blocked.text);
    let after = h.call("GET", &format!("/requests/{key}"), Some(&admin), None).await;
    assert_eq!(after.body["comment_count"], detail.body["comment_count"], "nothing was written");
    h.ok("DELETE", "/blocklist", Some(&admin), Some(json!({"rule": format!("reject:{ann_email}")}))).await;

    // Altered, revoked, or the public portal off: the same 404 page.
    let mut altered = path.clone();
    altered.insert(altered.len() - 3, 'A');
    let gone = h.page("GET", &altered, "", None).await;
    assert_eq!(gone.status, 404);
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"public": false}}))).await;
    let off = h.page("GET", &path, "", None).await;
    assert_eq!((off.status, &off.text), (404, &gone.text));
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"portal": {"public": true}}))).await;
    assert_eq!(h.page("GET", &path, "", None).await.status, 200);
    let revoked = h.call("DELETE", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    assert_eq!(revoked.status, 204);
    let dead = h.page("GET", &path, "", None).await;
    assert_eq!((dead.status, &dead.text), (404, &gone.text));
    let close = h.page("POST", &format!("{path}/close"), &anon, Some(&[("csrf", &page.csrf())])).await;
    assert_eq!(close.status, 404);
}

#[tokio::test]
async fn the_portal_raises_requests_on_the_projects_forms() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let form = json!({"name": "Hardware", "public": true, "fields": [
        {"key": "severity", "label": "Severity", "type": "select", "options": ["low", "high"], "required": true},
        {"key": "on_site", "label": "On site", "type": "checkbox"},
        {"key": "since", "label": "Since when", "type": "date", "help": "The day it started"}
    ]});
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(form)).await;
    let ann = sign_in_by_pages(&h, &h.email("ann")).await;
    let cookie = session(&ann);
    let page = h.page("GET", "/portal/new?project=HD&form=hardware", &cookie, None).await;
    assert_eq!(page.status, 200);
    for part in
        [r#"<select id="field-severity" name="field.severity" required>"#, r#"type="date""#, "The day it started"]
    {
        assert!(page.text.contains(part), "{part}");
    }
    assert!(
        page.text.contains("General request") && !page.text.contains("Support Ops"),
        "customers see public forms only"
    );
    let csrf = page.csrf();
    let base = [("csrf", csrf.as_str()), ("project", "HD"), ("form", "hardware"), ("summary", "Fan noise")];
    let post = |fields: &[(&'static str, &'static str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(fields);
        all
    };
    let missing = h.page("POST", "/portal/requests", &cookie, Some(&post(&[("field.on_site", "true")]))).await;
    assert_eq!(missing.status, 422);
    assert!(missing.text.contains(r#"id="field-severity-error""#), "the error sits next to the select");
    assert!(missing.text.contains(r#"value="true" checked"#), "what was typed is kept");
    let filled = post(&[("field.severity", "high"), ("field.since", "2026-11-20")]);
    let made = h.page("POST", "/portal/requests", &cookie, Some(&filled)).await;
    assert_eq!(made.status, 303, "{}", made.text);
    let key = made.header("location").rsplit('/').next().unwrap().to_string();
    let detail = h.call("GET", &format!("/requests/{key}"), Some(&ann), None).await;
    assert_eq!(detail.body["form"], "hardware");
    assert_eq!(detail.body["fields"], json!({"severity": "high", "on_site": "false", "since": "2026-11-20"}));
    // The request page shows the values under their labels; a field the form lost keeps its
    // value, labelled by its key.
    let fewer = json!({"name": "Hardware", "public": true, "fields": [
        {"key": "severity", "label": "Severity", "type": "select", "options": ["low", "high"], "required": true}]});
    h.ok("PUT", "/projects/HD/forms/hardware", Some(&admin), Some(fewer)).await;
    let shown = h.page("GET", &format!("/portal/requests/{key}"), &cookie, None).await;
    for part in [
        "<dt>Form</dt><dd>Hardware</dd>",
        "<dt>Severity</dt><dd>high</dd>",
        "<dt>since (no longer on the form)</dt><dd>2026-11-20</dd>",
    ] {
        assert!(shown.text.contains(part), "{part}");
    }
}
