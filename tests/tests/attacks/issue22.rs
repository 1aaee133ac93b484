//! Issue 22's findings: public links, mail held for review, headers, sign-in forms, sharing,
//! repeated mail and customers-only projects.

use super::*;

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
