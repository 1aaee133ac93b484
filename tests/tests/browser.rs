//! The pages in a real browser (headless Chromium over WebDriver), as a customer and as the
//! holder of a public link uses them. Each step saves a screenshot under
//! `target/browser-screenshots/`.

use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;
use serde_json::json;

/// The sign-in URL of the newest email to `email`, as moto's SES recorded it.
async fn emailed_link(h: &Harness, email: &str) -> String {
    let mail = h.mail_to(email).await;
    let (_, body) = mail.last().expect("an email");
    body.split_whitespace().find(|w| w.starts_with("http") && w.contains("/login?token=")).expect("a link").to_string()
}

async fn raise(h: &Harness, token: &str, summary: &str) -> String {
    let made = h.ok("POST", "/projects/HD/requests", Some(token), Some(json!({"summary": summary}))).await;
    made.body["key"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_customer_signs_in_works_their_requests_and_signs_out() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("PATCH", "/projects/HD", Some(&admin), Some(json!({"org_sharing": true}))).await;
    let (ann_email, bob_email, carol_email) = (h.email("ann"), h.email("bob"), h.email("carol"));
    let ann = h.sign_in(&ann_email).await;
    let carol = h.sign_in(&carol_email).await;
    h.sign_in(&bob_email).await;
    let mut orgs = vec![];
    for name in ["Acme", "Beta"] {
        let org = h.ok("POST", "/projects/HD/organizations", Some(&admin), Some(json!({"name": name}))).await;
        orgs.push(org.body["id"].as_str().unwrap().to_string());
    }
    for org in &orgs {
        h.ok("POST", &format!("/organizations/{org}/members"), Some(&admin), Some(json!({"email": ann_email}))).await;
    }
    h.ok("POST", &format!("/organizations/{}/members", orgs[0]), Some(&admin), Some(json!({"email": carol_email})))
        .await;
    let mine = raise(&h, &ann, "Printer jam").await;
    let carols = raise(&h, &carol, "Office VPN down").await;
    h.ok("PUT", &format!("/requests/{carols}/organization"), Some(&admin), Some(json!({"organization_id": orgs[0]})))
        .await;

    let b = Browser::start("customer").await;
    b.goto(&format!("{}/login", h.base)).await;
    b.fill("#email", &ann_email).await;
    b.shot("login").await;
    b.click("form[action='/login'] button").await;
    assert!(b.text().await.contains("a link is on its way"));
    b.goto(&emailed_link(&h, &ann_email).await).await;
    b.shot("confirm").await;
    b.click("form[action='/login/confirm'] button").await;
    assert_eq!(b.path().await, "/portal");
    let all = b.text().await;
    assert!(all.contains("Printer jam") && all.contains("Office VPN down"), "{all}");
    b.shot("portal-all").await;

    // Raise one on a form of the project.
    let form = json!({"name": "Hardware", "public": true, "fields": [
        {"key": "severity", "label": "Severity", "type": "select", "options": ["low", "high"], "required": true},
        {"key": "on_site", "label": "On site", "type": "checkbox"},
        {"key": "since", "label": "Since when", "type": "date", "help": "The day it started"}]});
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(form)).await;
    b.click_link("New request in Help").await;
    b.click("nav.tabs button[value='hardware']").await;
    b.fill("#summary", "Fan noise").await;
    b.click("form[action='/portal/requests'] .actions button").await;
    let error = b.client.find(fantoccini::Locator::Css("#field-severity-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("Choose an answer for \"Severity\""), "{error}");
    b.client.find(fantoccini::Locator::Css("#field-severity")).await.unwrap().select_by_value("high").await.unwrap();
    b.client.find(fantoccini::Locator::Css("#field-on_site")).await.unwrap().click().await.unwrap();
    b.shot("new-request-form").await;
    b.click("form[action='/portal/requests'] .actions button").await;
    assert!(b.path().await.starts_with("/portal/requests/HD-"), "{}", b.path().await);
    b.click("a.brand").await;

    b.click_link("Mine").await;
    let text = b.text().await;
    assert!(text.contains("Printer jam") && !text.contains("Office VPN down"), "{text}");
    b.click_link("Organization").await;
    let text = b.text().await;
    assert!(!text.contains("Printer jam") && text.contains("Office VPN down"), "{text}");
    let select = b.client.find(fantoccini::Locator::Css("#organization")).await.unwrap();
    select.select_by_value(&orgs[1]).await.unwrap();
    b.click("form.filters button").await;
    let text = b.text().await;
    assert!(text.contains("No requests in this view") && !text.contains("Office VPN down"), "{text}");
    b.shot("portal-organization-beta").await;

    // Tabs keep the filters; the brand link starts over.
    b.click("a.brand").await;
    b.click_link(&format!("{mine}: Printer jam")).await;
    assert_eq!(b.path().await, format!("/portal/requests/{mine}"));
    b.fill("#reply", "Still jammed after a restart.").await;
    b.click("form[action$='/comments'] button").await;
    assert!(b.text().await.contains("Still jammed after a restart."));
    // The confirmation has the focus (a screen reader says it) and is a status message.
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("notice"));
    assert_eq!(focused.text().await.unwrap(), "Your reply was sent.");
    b.shot("portal-replied").await;
    b.fill("#share", &bob_email).await;
    b.click("form[action$='/participants'] button").await;
    let shared = b.client.find(fantoccini::Locator::Css("ul.people")).await.unwrap().text().await.unwrap();
    assert!(shared.contains(&bob_email), "{shared}");
    let stranger = h.email("stranger");
    b.fill("#share", &stranger).await;
    b.click("form[action$='/participants'] button").await;
    let error = b.client.find(fantoccini::Locator::Css("#share-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("has no account with this helpdesk yet"), "{error}");
    b.shot("request-shared").await;

    b.click("form[action$='/close'] button").await;
    assert!(b.text().await.to_lowercase().contains("closed"));
    b.shot("request-closed").await;
    b.click("form[action$='/reopen'] button").await;
    assert!(b.client.find(fantoccini::Locator::Css("form[action$='/close']")).await.is_ok(), "open again");
    let api = h.call("GET", &format!("/requests/{mine}"), Some(&ann), None).await;
    assert_eq!(api.body["status"], "open");
    assert_eq!(api.body["participants"][0], bob_email.as_str(), "{api:?}");

    // The same page on a phone.
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("request-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();

    b.click("header form[action='/logout'] button").await;
    assert_eq!(b.path().await, "/login");
    b.goto(&format!("{}/portal", h.base)).await;
    assert!(b.text().await.contains("Sign in to continue"));
    b.shot("signed-out").await;
    b.close().await;
}

#[tokio::test]
async fn a_public_link_is_read_replied_to_closed_and_revoked() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "Invoice missing").await;
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&admin), Some(json!({"body": "Looking into it."}))).await;
    h.ok(
        "POST",
        &format!("/requests/{key}/comments"),
        Some(&admin),
        Some(json!({"body": "AGENT ONLY", "internal": true})),
    )
    .await;
    let minted = h.ok("POST", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    let url = minted.body["items"][0]["url"].as_str().unwrap().to_string();

    let b = Browser::start("public-link").await;
    b.goto(&url).await;
    let text = b.text().await;
    assert!(text.contains("Invoice missing") && text.contains("Looking into it."), "{text}");
    assert!(!text.contains("AGENT ONLY"));
    b.shot("opened").await;

    b.fill("#email", &h.email("someone-else")).await;
    b.fill("#reply", "Let me in").await;
    b.click("form[action$='/reply'] button").await;
    let error = b.client.find(fantoccini::Locator::Css("#email-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("That is not the address this link was sent to."), "{error}");
    b.shot("wrong-email").await;

    b.fill("#email", &ann_email).await;
    b.fill("#reply", "Found it, thanks!").await;
    b.click("form[action$='/reply'] button").await;
    let text = b.text().await;
    assert!(text.contains("Your reply was sent.") && text.contains("Found it, thanks!"), "{text}");
    assert!(!text.contains("Let me in"));
    b.click("form[action$='/close'] button").await;
    assert!(b.text().await.contains("The request is closed."));
    b.shot("closed").await;
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&ann), None).await.body["status"], "closed");

    h.ok("DELETE", &format!("/requests/{key}/public-links"), Some(&admin), None).await;
    b.goto(&url).await;
    let text = b.text().await;
    assert!(text.contains("Not found") && !text.contains("Invoice missing"), "{text}");
    b.shot("revoked").await;
    b.close().await;
}

#[tokio::test]
async fn an_emailed_conversation_reads_well_in_the_portal() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.email("ann");
    let pdf = "JVBERi0xLjQKJSBmYWtlCg==";
    let first = format!(
        "From: Ann <{ann}>\r\nTo: hd@desk.test\r\nSubject: Printer on fire\r\nMessage-ID: <first@mail.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe printer on floor 2 is smoking.\r\n--b\r\nContent-Type: application/pdf; name=photo-of-the-printer.pdf\r\nContent-Disposition: attachment; filename=photo-of-the-printer.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--b--\r\n"
    );
    assert_eq!(h.inbound_email(first, "").await.body["request"], "HD-1");
    h.ok("POST", "/requests/HD-1/comments", Some(&admin), Some(json!({"body": "Turn it off and on again."}))).await;
    let reply = format!(
        "From: {ann}\r\nTo: hd@desk.test\r\nSubject: Re: Printer on fire\r\nMessage-ID: <second@mail.example>\r\nIn-Reply-To: <first@mail.example>\r\n\r\nIt is still smoking.\r\n\r\nOn Mon, 23 Nov 2026, Help wrote:\r\n> Turn it off and on again.\r\n> Thanks\r\n"
    );
    assert_eq!(h.inbound_email(reply, "").await.body["outcome"], "appended");

    let b = Browser::start("emailed").await;
    b.goto(&format!("{}/login", h.base)).await;
    b.fill("#email", &ann).await;
    b.click("form[action='/login'] button").await;
    b.goto(&emailed_link(&h, &ann).await).await;
    b.click("form[action='/login/confirm'] button").await;
    b.goto(&format!("{}/portal/requests/HD-1", h.base)).await;
    let text = b.text().await;
    assert!(text.contains("photo-of-the-printer.pdf") && text.contains("It is still smoking."), "{text}");
    assert!(text.contains("Show quoted text") && !text.contains("> Thanks"), "the quote starts folded: {text}");
    b.shot("request-folded").await;
    b.toggle("details.quoted summary").await;
    assert!(b.text().await.contains("> Thanks"));
    b.shot("request-quote-open").await;
    b.close().await;
}

/// Signs `email` in through the pages in browser `b`, as a person does with the emailed link.
async fn sign_in_in(b: &Browser, h: &Harness, email: &str) {
    b.goto(&format!("{}/login", h.base)).await;
    b.fill("#email", email).await;
    b.click("form[action='/login'] button").await;
    b.goto(&emailed_link(h, email).await).await;
    b.click("form[action='/login/confirm'] button").await;
}

#[path = "browser/account.rs"]
mod account;
#[path = "browser/console.rs"]
mod console;
#[path = "browser/editors.rs"]
mod editors;
#[path = "browser/flows.rs"]
mod flows;
#[path = "browser/forms.rs"]
mod forms;
#[path = "browser/macros.rs"]
mod macros;
#[path = "browser/people.rs"]
mod people;
#[path = "browser/queue.rs"]
mod queue;
