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

#[tokio::test]
async fn an_agent_works_a_request_and_stops_an_abuser_in_the_console() {
    let h = Harness::start().await;
    let admin_token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&admin_token), None).await.body["email"].as_str().unwrap().to_string();
    h.ok("PATCH", "/projects/HD", Some(&admin_token), Some(json!({"org_sharing": true, "portal": {"private": true}})))
        .await;
    let org = h.ok("POST", "/projects/HD/organizations", Some(&admin_token), Some(json!({"name": "Acme"}))).await;
    let org_id = org.body["id"].as_str().unwrap().to_string();
    let (cy_email, dee_email, eve_email) = (h.email("cy"), h.email("dee"), h.email("eve"));
    h.ok("POST", &format!("/organizations/{org_id}/members"), Some(&admin_token), Some(json!({"email": dee_email})))
        .await;
    let cy = h.sign_in(&cy_email).await;
    let key = raise(&h, &cy, "Invoice question").await;
    h.ok(
        "POST",
        &format!("/requests/{key}/comments"),
        Some(&cy),
        Some(json!({"body": "Pay here: http://evil.example/pay"})),
    )
    .await;

    // The customer has the request open in their own browser.
    let customer = Browser::start("abuser").await;
    sign_in_in(&customer, &h, &cy_email).await;
    assert_eq!(customer.path().await, "/portal");

    let b = Browser::start("agent").await;
    sign_in_in(&b, &h, &admin).await;
    assert_eq!(b.path().await, "/desk");
    b.shot("projects").await;
    b.click_link("Help").await;
    let queue = b.text().await;
    assert!(queue.contains(&format!("{key}: Invoice question")) && queue.contains("Customer replied"), "{queue}");
    b.shot("queue").await;
    b.click_link(&format!("{key}: Invoice question")).await;
    assert_eq!(b.path().await, format!("/desk/requests/{key}"));

    // An internal note, then a public reply.
    b.fill("#note", "This looks like phishing; do not pay.").await;
    b.shot("desk-note-typing").await;
    b.click("#note-form button").await;
    b.fill("#reply", "We are checking this invoice for you.").await;
    b.click("#reply-form button").await;
    let thread = b.client.find(fantoccini::Locator::Css("ol.thread")).await.unwrap().text().await.unwrap();
    assert!(thread.contains("Internal note") && thread.contains("We are checking"), "{thread}");
    b.shot("note-and-reply").await;
    customer.goto(&format!("{}/portal/requests/{key}", h.base)).await;
    let seen = customer.text().await;
    assert!(seen.contains("We are checking this invoice for you."), "{seen}");
    assert!(!seen.contains("phishing") && !seen.contains("Internal"), "{seen}");
    customer.shot("reply-only").await;

    // The organization, then why Dee (a member) can see it and Eve cannot.
    let select = b.client.find(fantoccini::Locator::Css("#org")).await.unwrap();
    select.select_by_value(&org_id).await.unwrap();
    b.click("form[action$='/organization'] button").await;
    assert!(b.text().await.contains("The organization is updated."));
    b.fill("#check-email", &dee_email).await;
    b.click("#organization form[method='get'] button").await;
    let checklist = b.client.find(fantoccini::Locator::Css("#checklist")).await.unwrap().text().await.unwrap();
    assert!(checklist.contains("can see this request") && checklist.contains("organization"), "{checklist}");
    b.fill("#check-email", &eve_email).await;
    b.click("#organization form[method='get'] button").await;
    let checklist = b.client.find(fantoccini::Locator::Css("#checklist")).await.unwrap().text().await.unwrap();
    assert!(checklist.contains("cannot see this request"), "{checklist}");
    b.shot("visibility-checklist").await;

    // The wrong-form macro: previewed, then confirmed; it moves it, tags it and notes why.
    b.click("#macros form button").await;
    assert!(b.text().await.contains("Nothing has changed yet."));
    b.click("form[action$='/macro'] button").await;
    let text = b.text().await;
    assert!(
        text.contains("The macro was applied.") && text.contains("Support Ops") && text.contains("incorrect-form"),
        "{text}"
    );
    b.shot("macro-applied").await;

    // Share with a new address (an agent may create the customer).
    b.fill("#share", &eve_email).await;
    b.click("form[action$='/share'] button").await;
    let people = b.client.find(fantoccini::Locator::Css("ul.people")).await.unwrap().text().await.unwrap();
    assert!(people.contains(&eve_email), "{people}");

    // Suspend the reporter from the request, confirming by keyboard.
    b.click_link("Suspend the reporter…").await;
    assert!(b.text().await.contains(&format!("Suspend {cy_email}?")));
    let reason = b.client.active_element().await.unwrap();
    reason.send_keys("Phishing links sent to our customers").await.unwrap();
    b.shot("suspend-confirm").await;
    // Tab from the reason to the button, then Enter.
    reason.send_keys("\u{E004}").await.unwrap();
    assert_eq!(b.press_enter().await, format!("Suspend {cy_email}"));
    let profile = b.text().await;
    for shown in ["Suspended. Each step", "Phishing links sent", "Request closed", "Sessions ended"] {
        assert!(profile.contains(shown), "{shown}: {profile}");
    }
    b.shot("suspended").await;
    customer.goto(&format!("{}/portal/requests/{key}", h.base)).await;
    assert!(customer.text().await.contains("Sign in to continue"), "the customer's session ended");
    customer.shot("signed-out-by-suspension").await;

    b.click("form[action$='/unsuspend'] button").await;
    assert!(b.text().await.contains("The suspension is lifted"));
    b.shot("unsuspended").await;
    assert!(h.sign_in(&cy_email).await.len() > 10, "the customer can sign in again");

    // The request page on a phone.
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("request-phone").await;
    b.goto(&format!("{}/desk/projects/HD?status=all", h.base)).await;
    b.shot("queue-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    customer.close().await;
    b.close().await;
}

#[tokio::test]
async fn an_admin_sets_up_a_project_and_its_blocklist_in_the_console() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&token), None).await.body["email"].as_str().unwrap().to_string();
    let external = json!({"name": "CRM Co", "external": {"source": "Salesforce", "contact": "crm@corp.example"}});
    h.ok("POST", "/projects/HD/organizations", Some(&token), Some(external)).await;
    let b = Browser::start("admin").await;
    sign_in_in(&b, &h, &admin).await;
    b.click_link("Help").await;
    b.click_link("Settings").await;
    b.client.find(fantoccini::Locator::Css("input[name=org_sharing]")).await.unwrap().click().await.unwrap();
    b.fill("#notify_per_hour", "12").await;
    b.click("form[action$='/settings'] button").await;
    assert!(b.text().await.contains("Settings saved."));
    b.shot("settings").await;
    let project = h.ok("GET", "/projects/HD", Some(&token), None).await.body;
    assert_eq!((project["org_sharing"].clone(), project["notify_per_hour"].clone()), (json!(true), json!(12)));

    // Service levels: a round-the-clock week so the clocks read the same whenever this runs.
    b.toggle("input[name=sla_on]").await;
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        b.fill(&format!("input[name='{day}.open']"), "00:00").await;
        b.fill(&format!("input[name='{day}.close']"), "24:00").await;
    }
    b.fill("input[name='normal.first_reply']", "4h").await;
    b.fill("input[name='normal.resolution']", "40h").await;
    b.click("form[action$='/sla'] button").await;
    assert!(b.text().await.contains("Service levels saved."), "{}", b.text().await);
    b.shot("sla-settings").await;
    let key = raise(&h, &token, "Printer smokes").await;
    b.goto(&format!("{}/desk/projects/HD?status=open&sort=due", h.base)).await;
    assert!(b.text().await.contains("due in"), "{}", b.text().await);
    b.shot("queue-nearest-due").await;
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    assert!(b.text().await.contains("First reply"));
    b.shot("request-clocks").await;

    b.goto(&format!("{}/desk/projects/HD/settings", h.base)).await;
    b.click_link("Customers and organizations").await;
    b.fill("#org-name", "Acme").await;
    b.click("form[action$='/organization'] button").await;
    b.fill("#member", &h.email("dee")).await;
    b.click("form[action$='/add-member'] button").await;
    assert!(b.text().await.contains(&h.email("dee")));
    b.shot("organization").await;
    b.click_link("← Customers and organizations").await;
    b.click_link("CRM Co").await;
    assert!(b.text().await.contains("Ask crm@corp.example to change them."));
    b.shot("external-organization").await;

    // A rule, then its removal through the confirmation, by keyboard.
    b.goto(&format!("{}/desk/blocklist?project=HD", h.base)).await;
    b.fill("#rule", "reject:*@spam.example").await;
    b.click("form[action='/desk/blocklist/add'] button").await;
    assert!(b.text().await.contains("reject:*@spam.example"));
    b.shot("blocklist").await;
    b.click_link("Remove…").await;
    assert!(b.text().await.contains("Remove the rule reject:*@spam.example?"));
    b.shot("blocklist-confirm").await;
    assert_eq!(b.press_enter().await, "Remove the rule", "the confirmation's button has the focus");
    let text = b.text().await;
    assert!(text.contains("The rule is removed.") && text.contains("No rules in this scope."), "{text}");
    b.close().await;
}

/// Two agents open the same request. Each sees the other is there; one replies; the other's
/// reply, written on the page as it was, is held with the new reply shown and "Send anyway",
/// and goes through on the second press. Then the owner card assigns it and sets pending.
#[tokio::test]
async fn two_agents_on_one_request_see_each_other_and_the_reply_that_came_between() {
    let h = Harness::start().await;
    let admin_token = h.admin_with_project("HD").await;
    let admin = h.email("admin");
    let kim = h.email("kim");
    h.ok("POST", "/projects/HD/agents", Some(&admin_token), Some(json!({"email": kim, "role": "agent"}))).await;
    let cy = h.sign_in(&h.email("cy")).await;
    let key = raise(&h, &cy, "Refund for order 42").await;

    let first = Browser::start("agent-admin").await;
    sign_in_in(&first, &h, &admin).await;
    let second = Browser::start("agent-kim").await;
    sign_in_in(&second, &h, &kim).await;
    let page = format!("{}/desk/requests/{key}", h.base);
    first.goto(&page).await;
    second.goto(&page).await;
    let kims_view = second.text().await;
    assert!(kims_view.contains("Also here in the last 2 minutes") && kims_view.contains(&admin), "{kims_view}");
    second.shot("collision-viewers").await;

    // Both write; the admin sends first.
    first.fill("#reply", "Refunded today.").await;
    second.fill("#reply", "We will look into it.").await;
    first.click("#reply-form button").await;
    second.click("#reply-form button").await;
    let held = second.text().await;
    assert!(held.contains("While you were writing, someone else wrote") && held.contains("Refunded today."), "{held}");
    let typed = second.client.find(fantoccini::Locator::Css("#reply")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(typed.as_deref(), Some("We will look into it."), "what Kim wrote is kept");
    second.shot("collision-send-anyway").await;
    let public = || async {
        let detail = h.ok("GET", &format!("/requests/{key}"), Some(&admin_token), None).await.body;
        detail["comments"].as_array().unwrap().iter().filter(|c| c["internal"] == false).count()
    };
    assert_eq!(public().await, 1, "Kim's reply waits");
    second.click("#reply-form button").await;
    assert_eq!(public().await, 2, "the second press sends it");
    assert!(!second.text().await.contains("While you were writing"));
    second.shot("collision-sent").await;

    // The owner card: Kim takes it and sets it pending; the facts say so.
    second.client.find(fantoccini::Locator::Css("#assignee")).await.unwrap().select_by_value(&kim).await.unwrap();
    second.client.find(fantoccini::Locator::Css("#priority")).await.unwrap().select_by_value("high").await.unwrap();
    second
        .client
        .find(fantoccini::Locator::Css("#status-choice"))
        .await
        .unwrap()
        .select_by_value("pending")
        .await
        .unwrap();
    second.click("form[action$='/triage'] button").await;
    let facts = second.client.find(fantoccini::Locator::Css("dl.facts")).await.unwrap().text().await.unwrap();
    assert!(
        facts.contains(&kim) && facts.to_lowercase().contains("pending") && facts.to_lowercase().contains("high"),
        "{facts}"
    );
    second.shot("owner-card").await;
    // The admin's page still shows the old version: its change is refused with what is there now.
    first.client.find(fantoccini::Locator::Css("#priority")).await.unwrap().select_by_value("low").await.unwrap();
    first.click("form[action$='/triage'] button").await;
    assert!(first.text().await.contains("Someone changed this request since you opened it"));
    first.shot("owner-card-stale").await;

    // Kim's queue: Mine shows it.
    second.goto(&format!("{}/desk/projects/HD?status=pending&assignee=me", h.base)).await;
    let mine = second.text().await;
    assert!(mine.contains(&format!("{key}: Refund for order 42")), "{mine}");
    second.shot("queue-mine-pending").await;
    first.close().await;
    second.close().await;
}

/// An admin writes an automation with the console's editor (no script), sees it fire on the
/// next request, switches one of the initial rules on, and removes a rule.
#[tokio::test]
async fn an_admin_automates_routing_in_the_console() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&token), None).await.body["email"].as_str().unwrap().to_string();
    let b = Browser::start("automations").await;
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/projects/HD", h.base)).await;
    b.click_link("Automations").await;
    let text = b.text().await;
    assert!(text.contains("Acknowledge new requests") && text.contains("Never"), "{text}");
    b.fill("#rule-name", "Invoices to billing").await;
    b.choose("select[name='condition.field.0']", "text").await;
    b.choose("select[name='condition.op.0']", "contains").await;
    b.fill("input[name='condition.value.0']", "invoice").await;
    b.choose("select[name='action.type.0']", "add_tag").await;
    b.fill("textarea[name='action.value.0']", "billing").await;
    b.choose("select[name='action.type.1']", "set_priority").await;
    b.fill("textarea[name='action.value.1']", "asap").await;
    b.click("form[action$='/automation'] button").await;
    // A wrong value is named, and what was typed stays.
    let text = b.text().await;
    assert!(text.contains("action 2: priority is low, normal, high or urgent"), "{text}");
    b.shot("automation-refused").await;
    b.client.execute("document.getElementById('editor').scrollIntoView()", vec![]).await.unwrap();
    b.shot("automation-editor").await;
    b.fill("textarea[name='action.value.1']", "high").await;
    b.click("form[action$='/automation'] button").await;
    let text = b.text().await;
    assert!(text.contains("The automation is saved.") && text.contains("Invoices to billing"), "{text}");
    assert!(text.contains("text contains \u{201c}invoice\u{201d}"), "{text}");

    let key = raise(&h, &token, "Wrong invoice total").await;
    h.settle_stream().await;
    let request = h.ok("GET", &format!("/requests/{key}"), Some(&token), None).await.body;
    assert_eq!((request["tags"].clone(), request["priority"].clone()), (json!(["billing"]), json!("high")));
    b.goto(&format!("{}/desk/projects/HD/automations", h.base)).await;
    assert!(b.text().await.contains(&format!("on {key}")), "the list says when it fired");
    b.click("form[action$='/automation-on'] button").await;
    assert!(b.text().await.contains("The automation is on."));
    b.shot("automations").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("automations-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    let rules = h.ok("GET", "/projects/HD/automations", Some(&token), None).await.body;
    assert_eq!(rules["items"][0]["enabled"], true, "the acknowledgement is on");

    // Editing keeps the rule's id; removing takes it off the list.
    let id = rules["items"][3]["id"].as_str().unwrap().to_string();
    b.click(&format!("a[href$='edit={id}#editor']")).await;
    assert_eq!(
        b.client.find(fantoccini::Locator::Css("#rule-name")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Invoices to billing")
    );
    b.fill("#rule-name", "Invoices").await;
    b.click("form[action$='/automation'] button").await;
    assert!(b.text().await.contains("Invoices"));
    let rules = h.ok("GET", "/projects/HD/automations", Some(&token), None).await.body;
    assert_eq!(rules["items"].as_array().unwrap().len(), 4);
    assert_eq!(rules["items"][3]["id"], id.as_str());
    b.click(&format!("form[action$='/automation-delete']:has(input[value='{id}']) button")).await;
    assert!(b.text().await.contains("The automation is removed."));
    assert_eq!(
        h.ok("GET", "/projects/HD/automations", Some(&token), None).await.body["items"].as_array().unwrap().len(),
        3
    );
    b.close().await;
}

/// A rating link of the newest close email to `email`, as the customer clicks it.
async fn rating_link(h: &Harness, email: &str) -> String {
    let parser = mail_parser::MessageParser::default();
    let raw = h.raw_mail_to(email).await.pop().expect("the close email");
    let text = parser.parse(raw.as_bytes()).unwrap().body_text(0).unwrap_or_default().to_string();
    let line = text.lines().find(|l| l.starts_with("Bad: ")).expect("a Bad link");
    line.trim_start_matches("Bad: ").to_string()
}

#[tokio::test]
async fn a_customer_rates_by_the_close_email_and_a_lead_reads_the_reports() {
    use helpdesk::model::{Assignee, Record, RequestStatus};
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let me = h.call("GET", "/me", Some(&token), None).await.body;
    let admin = me["email"].as_str().unwrap().to_string();
    // Two weeks of history before today, counted as the stream counts each change: a few
    // requests a day, answered within minutes to hours, most closed the same day.
    let (now, hour) = (h.app.now(), 3600);
    let lead = Assignee {
        id: me["id"].as_str().unwrap().to_string(),
        email: helpdesk::model::EmailAddress::parse(&admin).unwrap(),
        name: None,
    };
    for day in 0..14_i64 {
        for i in 0..(day % 4 + 1) {
            let created = now - (14 - day) * 86_400 + i * hour;
            let key = format!("HD-{}", 100 + day * 10 + i);
            let mut request = helpdesk::requests::open_request(&key, "someone", created);
            request.assignee = (i % 2 == 0).then(|| lead.clone());
            helpdesk::domain::reports::count_change(&h.app, &key, Some(&request), created).await.unwrap();
            request.version = 2;
            request.first_response_at = Some(created + (i + 1) * (day + 1) * 600);
            if (day + i) % 3 != 0 {
                request.version = 3;
                request.status = RequestStatus::Closed;
            }
            let at = created + (i + 2) * hour;
            helpdesk::domain::reports::count_change(&h.app, &key, Some(&request), at).await.unwrap();
            helpdesk::store::Store::put_all(&h.store, vec![Record::Request(request)]).await.unwrap();
        }
    }

    // Today: a customer's request, answered and closed by the team; she rates it from the mail.
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "Printer jammed again").await;
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&token), Some(json!({"body": "Fixed the tray."}))).await;
    h.ok("POST", &format!("/requests/{key}/close"), Some(&token), None).await;
    h.settle_stream().await;
    let b = Browser::start("reports").await;
    b.goto(&rating_link(&h, &ann_email).await).await;
    let text = b.text().await;
    assert!(text.contains("How did we do?") && text.contains(&key), "{text}");
    b.choose("#reason", "too_slow").await;
    b.fill("#comment", "Took two days to hear back.").await;
    b.shot("rating").await;
    b.click("form[action^='/csat/'] button").await;
    let text = b.text().await;
    assert!(text.contains(&format!("Thank you: your rating of {key} was saved.")), "{text}");
    assert!(text.contains("Your rating: bad"), "{text}");
    let kept = b.client.find(fantoccini::Locator::Css("#comment")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Took two days to hear back."), "the saved rating shows as saved");
    b.shot("rating-saved").await;
    h.settle_stream().await;

    // The lead reads the reports: cards, charts with their numbers, the table.
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/projects/HD", h.base)).await;
    b.click_link("Reports").await;
    let text = b.text().await;
    for expected in [
        "Created and closed",
        "Backlog (open and pending",
        "Time to first reply",
        "Satisfaction",
        "rated good (0 of 1)",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let report = h.ok("GET", "/projects/HD/reports", Some(&token), None).await.body;
    let created = report["total"]["created"].as_i64().unwrap();
    assert_eq!(created, (0..14).map(|d| d % 4 + 1).sum::<i64>() + 1);
    assert!(text.contains(&format!("Created\n{created}\nrequests")), "the card says the total: {text}");
    b.shot("reports").await;
    b.client.execute("document.getElementById('replies-title').scrollIntoView()", vec![]).await.unwrap();
    b.shot("reports-table").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("reports-phone").await;
    b.client.execute("document.querySelector('.cards').scrollIntoView()", vec![]).await.unwrap();
    b.shot("reports-phone-cards").await;
    b.client.execute("document.getElementById('flow-title').scrollIntoView()", vec![]).await.unwrap();
    b.shot("reports-phone-chart").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.choose("#by", "week").await;
    b.click("form.report-range button").await;
    assert!(b.text().await.contains("Week from"));
    b.shot("reports-weekly").await;
    // The agent's view of the request shows the rating.
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    assert!(b.text().await.contains("Bad: It took too long"));
    b.close().await;
}

#[tokio::test]
async fn a_customer_reply_in_the_portal_reopens_a_closed_request() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "Scanner offline").await;
    h.ok("POST", &format!("/requests/{key}/close"), Some(&token), None).await;
    let b = Browser::start("reopen").await;
    sign_in_in(&b, &h, &ann_email).await;
    b.goto(&format!("{}/portal/requests/{key}", h.base)).await;
    let text = b.text().await.to_lowercase();
    assert!(text.contains("closed") && text.contains("reopen request"), "{text}");
    b.shot("closed").await;
    b.fill("#reply", "It went offline again this morning.").await;
    b.click("form[action$='/comments'] button").await;
    let text = b.text().await;
    assert!(text.contains("It went offline again this morning."), "{text}");
    assert!(text.to_lowercase().contains("close request"), "open again: its page offers Close: {text}");
    b.shot("reopened").await;
    let request = h.ok("GET", &format!("/requests/{key}"), Some(&token), None).await.body;
    assert_eq!(request["status"], "open");
    b.close().await;
}

#[tokio::test]
async fn a_customer_and_an_agent_search_from_the_header_box() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&token), None).await.body["email"].as_str().unwrap().to_string();
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let printer = raise(&h, &ann, "Printer jammed on the third floor").await;
    raise(&h, &ann, "Invoice 2291 was billed twice").await;
    h.ok(
        "POST",
        &format!("/requests/{printer}/comments"),
        Some(&token),
        Some(json!({"body": "Try the paper tray; the printers there jam when the tray is loose."})),
    )
    .await;
    let note = json!({"body": "Vendor ticket zebrafish-77 opened.", "internal": true});
    h.ok("POST", &format!("/requests/{printer}/comments"), Some(&token), Some(note)).await;
    h.settle_search().await;

    // The customer searches from the portal's header.
    let b = Browser::start("search").await;
    sign_in_in(&b, &h, &ann_email).await;
    b.fill("header form.search input[name=q]", "printers tray").await;
    b.press_enter().await;
    assert!(b.path().await.starts_with("/portal/search?q=printers+tray"), "{}", b.path().await);
    let text = b.text().await;
    assert!(text.contains("1 request matches.") && text.contains(&format!("{printer}: Printer jammed")), "{text}");
    let marked =
        b.client.find(fantoccini::Locator::Css("ul.results .snippet mark")).await.unwrap().text().await.unwrap();
    assert!(["printers", "tray"].contains(&marked.as_str()), "{marked}");
    b.shot("search-portal").await;
    // An internal note's words find nothing for her.
    b.fill("#q", "zebrafish").await;
    b.click("form.search-page button").await;
    assert!(b.text().await.contains("No requests match."));
    // A bad filter is explained in place.
    b.goto(&format!("{}/portal/search?q=status%3Alost", h.base)).await;
    assert!(b.text().await.contains("status is open, pending, closed or held"));
    b.shot("search-portal-error").await;

    // The agent searches the project from its console pages: notes too, by best match or latest change.
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/projects/HD", h.base)).await;
    b.fill("header form.search input[name=q]", "zebrafish").await;
    b.press_enter().await;
    let text = b.text().await;
    assert!(text.contains("1 request matches.") && text.contains(&printer), "{text}");
    let marked =
        b.client.find(fantoccini::Locator::Css("ul.results .snippet mark")).await.unwrap().text().await.unwrap();
    assert_eq!(marked, "zebrafish");
    b.shot("search-desk").await;
    b.fill("#q", "status:open").await;
    b.choose("#sort", "updated").await;
    b.click("form.search-page button").await;
    assert!(b.text().await.contains("2 requests match."));
    b.shot("search-desk-filter").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("search-desk-phone").await;
    b.click_link(&format!("{printer}: Printer jammed on the third floor")).await;
    assert_eq!(b.path().await, format!("/desk/requests/{printer}"));
    b.close().await;
}

#[tokio::test]
async fn a_customer_attaches_a_screenshot_and_the_agent_downloads_it_then_merges_a_duplicate() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&token), None).await.body["email"].as_str().unwrap().to_string();
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "The dashboard shows an error").await;
    let duplicate = raise(&h, &ann, "Dashboard error again").await;
    h.ok("POST", &format!("/requests/{duplicate}/comments"), Some(&ann), Some(json!({"body": "Same red banner."})))
        .await;

    // The customer attaches a real screenshot to a reply in the portal.
    let b = Browser::start("files").await;
    sign_in_in(&b, &h, &ann_email).await;
    b.goto(&format!("{}/portal/requests/{key}", h.base)).await;
    let png = b.client.screenshot().await.unwrap();
    let file = std::env::temp_dir().join(format!("screenshot-{}.png", ulid::Ulid::new()));
    std::fs::write(&file, &png).unwrap();
    b.fill("#reply", "Here is what I see.").await;
    let input = b.client.find(fantoccini::Locator::Css("#files")).await.unwrap();
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    b.shot("portal-choosing").await;
    b.click("form[action$='/comments'] button").await;
    let text = b.text().await;
    assert!(
        text.contains("Here is what I see.") && text.contains(file.file_name().unwrap().to_str().unwrap()),
        "{text}"
    );
    b.shot("portal-attached").await;

    // The agent sees it in the console and downloads it: the bytes she sent.
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    let link = b.client.find(fantoccini::Locator::Css("ul.files a[download]")).await.unwrap();
    let href = link.attr("href").await.unwrap().expect("a download link");
    b.shot("desk-file").await;
    let answer = h.page("GET", &href, &format!("hd_session={token}"), None).await;
    assert_eq!(answer.status, 303);
    let got = reqwest::get(answer.header("location")).await.unwrap();
    assert!(got.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), png.as_slice());
    std::fs::remove_file(file).ok();

    // The duplicate: named from its page, confirmed on a page that shows both, merged.
    b.goto(&format!("{}/desk/requests/{duplicate}", h.base)).await;
    b.fill("#merge-into", &key).await;
    b.click("form[action$='/merge'] button").await;
    let text = b.text().await;
    assert!(text.contains(&format!("Merge {duplicate} into {key}?")), "{text}");
    b.shot("merge-confirm").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("merge-confirm-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.fill("#note", "She wrote twice about the dashboard.").await;
    b.click("form[method=post][action$='/merge'] button").await;
    assert_eq!(b.path().await, format!("/desk/requests/{key}?done=merged"));
    let text = b.text().await;
    assert!(text.contains("Same red banner.") && text.contains(&format!("from {duplicate}")), "{text}");
    b.shot("merged").await;
    b.close().await;
}

#[path = "browser/account.rs"]
mod account;
#[path = "browser/editors.rs"]
mod editors;
#[path = "browser/forms.rs"]
mod forms;
#[path = "browser/macros.rs"]
mod macros;
#[path = "browser/people.rs"]
mod people;
#[path = "browser/queue.rs"]
mod queue;
