//! The account page and the public page's remembered replier, over HTTP as a browser without
//! script uses them, against DynamoDB Local and moto through the local gateway.

use helpdesk_tests::{Harness, PageAnswer};
use serde_json::json;

fn form<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Ann's addresses as the API lists them: (address, verified).
async fn addresses(h: &Harness, token: &str) -> Vec<(String, bool)> {
    let listed = h.ok("GET", "/me/emails", Some(token), None).await.body;
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["email"].as_str().unwrap().to_string(), e["verified"] == true))
        .collect()
}

/// Posts a form of the account page and follows its 303 to the page it names.
async fn post_and_follow(
    h: &Harness,
    path: &str,
    cookies: &str,
    fields: &[(&str, String)],
) -> (PageAnswer, PageAnswer) {
    let posted = h.page("POST", path, cookies, Some(&form(fields))).await;
    assert_eq!(posted.status, 303, "{path}: {}", posted.text);
    let next = h.page("GET", posted.header("location"), cookies, None).await;
    (posted, next)
}

#[tokio::test]
async fn the_account_page_adds_confirms_by_the_emailed_link_and_removes_addresses() {
    let h = Harness::start().await;
    let (ann_email, bob_email) = (h.email("ann"), h.email("bob"));
    let (ann, bob) = (h.sign_in(&ann_email).await, h.sign_in(&bob_email).await);
    let cookies = format!("hd_session={ann}");
    let page = h.page("GET", "/portal/account", &cookies, None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"<a href="/portal/account">Account</a>"#), "linked from the header");
    assert!(page.text.contains(&ann_email) && page.text.contains("Sign-in address"));
    let csrf = page.csrf();

    // Not an address: the form comes back with it, the error under the field.
    let bad =
        h.page("POST", "/portal/account/emails", &cookies, Some(&[("csrf", &csrf), ("email", "ann at home")])).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(r#"value="ann at home""#) && bad.text.contains(r#"aria-invalid="true""#));
    assert!(bad.text.contains("Type a whole email address"), "{}", bad.text);

    // Added: the page says a link is on its way and lists the address as waiting.
    let home = h.email("ann-home");
    let (added, shown) =
        post_and_follow(&h, "/portal/account/emails", &cookies, &[("csrf", csrf.clone()), ("email", home.clone())])
            .await;
    assert!(added.header("location").starts_with("/portal/account?done=added&email="), "{}", added.header("location"));
    assert!(shown.text.contains(&format!("We emailed a confirmation link to {home}")), "{}", shown.text);
    assert!(shown.text.contains("Waiting for confirmation"));
    assert!(shown.text.contains(&format!(r#"aria-label="Remove {home}""#)));
    let mail = h.mail_to(&home).await;
    let token = h.magic_token(&home).await.expect("a confirmation link");
    let confirm = format!("/portal/account/confirm?token={token}");
    assert!(mail.last().unwrap().1.contains(&format!("{}{confirm}", h.base)), "{mail:?}");
    assert!(!mail.last().unwrap().1.contains("/me/emails"), "no API instructions in the mail");

    // Opening the link (twice, as a mail scanner would) asks and spends nothing.
    for _ in 0..2 {
        let asked = h.page("GET", &confirm, &cookies, None).await;
        assert_eq!(asked.status, 200, "{}", asked.text);
        assert!(asked.text.contains(&format!("Add <span class=\"address\">{home}</span> to your account?")));
    }
    assert_eq!(addresses(&h, &ann).await, vec![(ann_email.clone(), true), (home.clone(), false)]);
    // Signed out: sign in first, and the sign-in comes back to the link.
    let signed_out = h.page("GET", &confirm, "", None).await;
    assert_eq!(signed_out.status, 401);
    assert!(signed_out.text.contains(&format!(r#"name="next" value="{confirm}""#)), "{}", signed_out.text);
    // Bob holding Ann's link, or a forged one: a page that says so, and nothing changes.
    let bobs = format!("hd_session={bob}");
    let bob_page = h.page("GET", &confirm, &bobs, None).await;
    assert_eq!(bob_page.status, 410);
    assert!(bob_page.text.contains("This link cannot be used") && !bob_page.text.contains(&home));
    let bob_post =
        h.page("POST", "/portal/account/confirm", &bobs, Some(&[("csrf", &bob_page.csrf()), ("token", &token)])).await;
    assert_eq!(bob_post.status, 410);
    let forged = h.page("GET", "/portal/account/confirm?token=forged", &cookies, None).await;
    assert_eq!(forged.status, 410);
    let forged_post = h
        .page("POST", "/portal/account/confirm", &cookies, Some(&[("csrf", &csrf), ("token", "x".repeat(43).as_str())]))
        .await;
    assert_eq!(forged_post.status, 410);
    // A form without this session's CSRF token is refused.
    let no_csrf = h.page("POST", "/portal/account/confirm", &cookies, Some(&[("token", &token)])).await;
    assert_eq!(no_csrf.status, 403);
    assert_eq!(addresses(&h, &ann).await, vec![(ann_email.clone(), true), (home.clone(), false)]);

    // Ann presses the button: confirmed.
    let fields = [("csrf", csrf.clone()), ("token", token.clone()), ("email", home.clone())];
    let (_, shown) = post_and_follow(&h, "/portal/account/confirm", &cookies, &fields).await;
    assert!(shown.text.contains(&format!("{home} is now one of your addresses")), "{}", shown.text);
    assert!(shown.text.contains("Confirmed"));
    assert_eq!(addresses(&h, &ann).await, vec![(ann_email.clone(), true), (home.clone(), true)]);
    // The same form again (a double submit): the link is spent, nothing changes, and the page
    // says what is true: the address is hers.
    let again = h.page("POST", "/portal/account/confirm", &cookies, Some(&form(&fields))).await;
    assert_eq!(again.status, 303, "{}", again.text);
    assert!(again.header("location").starts_with("/portal/account?done=confirmed"), "{}", again.header("location"));
    assert_eq!(addresses(&h, &ann).await, vec![(ann_email.clone(), true), (home.clone(), true)]);
    // A crafted link cannot make the page claim what did not happen.
    for (done, email) in [("confirmed", "mallory@evil.example"), ("removed", home.as_str()), ("added", home.as_str())] {
        let q = format!("/portal/account?done={done}&email={email}");
        let page = h.page("GET", &q, &cookies, None).await;
        assert_eq!(page.status, 200);
        assert!(!page.text.contains(r#"role="status""#), "{q}: {}", page.text);
    }

    // Bob's address: the same answer as any address (no account discovery), and no link is
    // mailed to it, so it can never be confirmed into Ann's account.
    let before = h.mail_to(&bob_email).await.len();
    let (_, shown) = post_and_follow(
        &h,
        "/portal/account/emails",
        &cookies,
        &[("csrf", csrf.clone()), ("email", bob_email.clone())],
    )
    .await;
    assert!(shown.text.contains(&format!("We emailed a confirmation link to {bob_email}")));
    assert_eq!(h.mail_to(&bob_email).await.len(), before);
    // Sent again on request for a pending address; her own address is already hers.
    let resend = [("csrf", csrf.clone()), ("email", bob_email.clone()), ("resend", "1".into())];
    let (_, shown) = post_and_follow(&h, "/portal/account/emails", &cookies, &resend).await;
    assert!(shown.text.contains(&format!("We emailed a new confirmation link to {bob_email}")));
    let mine = [("csrf", csrf.clone()), ("email", ann_email.to_uppercase())];
    let (_, shown) = post_and_follow(&h, "/portal/account/emails", &cookies, &mine).await;
    assert!(shown.text.contains(&format!("{ann_email} is already one of your addresses")), "{}", shown.text);

    // Removed: gone from the page and the account.
    let remove = [("csrf", csrf.clone()), ("email", home.clone())];
    let (_, shown) = post_and_follow(&h, "/portal/account/emails/remove", &cookies, &remove).await;
    assert!(shown.text.contains(&format!("{home} was removed")));
    assert!(!shown.text.contains(&format!(r#"aria-label="Remove {home}""#)));
    assert_eq!(addresses(&h, &ann).await, vec![(ann_email.clone(), true), (bob_email.clone(), false)]);
    let told = h.mail_to(&ann_email).await;
    assert!(told.iter().any(|(_, body)| body.contains(&format!("{}/portal/account", h.base))), "{told:?}");
}

#[tokio::test]
async fn the_account_page_says_when_the_limits_are_reached() {
    let h = Harness::start().await;
    let ann = h.sign_in(&h.email("ann")).await;
    let cookies = format!("hd_session={ann}");
    let csrf = h.page("GET", "/portal/account", &cookies, None).await.csrf();
    for i in 0..5 {
        let fields = [("csrf", csrf.clone()), ("email", h.email(&format!("extra{i}")))];
        post_and_follow(&h, "/portal/account/emails", &cookies, &fields).await;
    }
    let fields = [("csrf", csrf.clone()), ("email", h.email("one-more"))];
    let over = h.page("POST", "/portal/account/emails", &cookies, Some(&form(&fields))).await;
    assert_eq!(over.status, 422);
    assert!(over.text.contains("the most it can have. Remove one first."), "{}", over.text);
    let fields = [("csrf", csrf.clone()), ("email", h.email("extra0")), ("resend", "1".into())];
    let limited = h.page("POST", "/portal/account/emails", &cookies, Some(&form(&fields))).await;
    assert_eq!(limited.status, 403);
    assert!(limited.text.contains("Try again later"), "{}", limited.text);
}

/// The `Set-Cookie` header that sets `name`.
fn set_cookie(p: &PageAnswer, name: &str) -> Option<String> {
    p.set_cookies().into_iter().find(|c| c.starts_with(&format!("{name}=")))
}

#[tokio::test]
async fn a_public_page_remembers_the_proven_address_and_ignores_a_forged_cookie() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let (ann_email, bob_email) = (h.email("ann"), h.email("bob"));
    let ann = h.sign_in(&ann_email).await;
    h.sign_in(&bob_email).await;
    let mut links = vec![];
    for summary in ["vpn", "printer"] {
        let created = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": summary}))).await;
        let key = created.body["key"].as_str().unwrap().to_string();
        links.push(key);
    }
    let share = json!({"emails": [bob_email]});
    h.ok("POST", &format!("/requests/{}/participants", links[0]), Some(&admin), Some(share)).await;
    let minted = h.ok("POST", &format!("/requests/{}/public-links", links[0]), Some(&admin), None).await.body;
    let path_of = |v: &serde_json::Value| v["url"].as_str().unwrap().strip_prefix(&h.base).unwrap().to_string();
    let (ann_path, bob_path) = (path_of(&minted["items"][0]), path_of(&minted["items"][1]));
    assert_eq!(minted["items"][1]["email"], bob_email.as_str());
    let other = h.ok("POST", &format!("/requests/{}/public-links", links[1]), Some(&admin), None).await.body;
    let other_path = path_of(&other["items"][0]);

    let page = h.page("GET", &ann_path, "", None).await;
    let anon = format!("hd_anon={}", page.cookie("hd_anon").unwrap());
    let reply = |path: &str| format!("{path}/reply");
    let typed = [("csrf", page.csrf()), ("email", ann_email.clone()), ("body", "First".into())];
    let first = h.page("POST", &reply(&ann_path), &anon, Some(&form(&typed))).await;
    assert_eq!(first.status, 303, "{}", first.text);
    let cookie = set_cookie(&first, "hd_replier").expect("the proven address is remembered");
    for part in ["Path=/p;", "HttpOnly", "SameSite=Lax", "Max-Age=2592000"] {
        assert!(cookie.contains(part), "{part}: {cookie}");
    }
    assert!(!cookie.contains(&ann_email), "signed, not a plain address: {cookie}");
    let proof = first.cookie("hd_replier").unwrap();
    let remembered = format!("{anon}; hd_replier={proof}");

    // The next reply, here and on her other request's link, does not ask again.
    for path in [&ann_path, &other_path] {
        let shown = h.page("GET", path, &remembered, None).await;
        assert!(
            shown.text.contains(&format!(r#"Replying as <strong class="address">{ann_email}</strong>"#)),
            "{}",
            shown.text
        );
        assert!(!shown.text.contains(r#"name="email""#), "no address field");
        let untyped = [("csrf", shown.csrf()), ("body", format!("Again on {path}"))];
        let again = h.page("POST", &reply(path), &remembered, Some(&form(&untyped))).await;
        assert_eq!(again.status, 303, "{}", again.text);
    }
    let detail = h.ok("GET", &format!("/requests/{}", links[0]), Some(&ann), None).await.body;
    let bodies: Vec<_> = detail["comments"].as_array().unwrap().iter().map(|c| c["body"].clone()).collect();
    assert_eq!(bodies, vec![json!("First"), json!(format!("Again on {ann_path}"))]);
    assert_eq!(detail["comments"][1]["author"], ann_email.as_str());

    // Without the cookie, with Ann's on Bob's link, with a forged or unsigned one: asked, and
    // a reply without an address is refused.
    let mut altered = proof.clone();
    altered.insert(altered.len() - 3, 'A');
    let cases = [
        (ann_path.clone(), anon.clone()),
        (bob_path.clone(), remembered.clone()),
        (ann_path.clone(), format!("{anon}; hd_replier={altered}")),
        (ann_path.clone(), format!("{anon}; hd_replier={ann_email}")),
    ];
    for (path, cookies) in cases {
        let shown = h.page("GET", &path, &cookies, None).await;
        assert_eq!(shown.status, 200);
        assert!(shown.text.contains(r#"name="email""#) && !shown.text.contains(&ann_email), "{cookies}");
        let untyped = [("csrf", shown.csrf()), ("body", "Sneaky".into())];
        let refused = h.page("POST", &reply(&path), &cookies, Some(&form(&untyped))).await;
        assert_eq!(refused.status, 422, "{cookies}: {}", refused.text);
        assert!(refused.text.contains("Type the email address this link was sent to."));
    }
    let after = h.ok("GET", &format!("/requests/{}", links[0]), Some(&ann), None).await.body;
    assert_eq!(after["comments"].as_array().unwrap().len(), 2, "nothing more was written");
}
