//! The agent console in a browser: working a request and stopping an abuser, setting up a
//! project and its blocklist, two agents on one request, automations.

use super::*;

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
