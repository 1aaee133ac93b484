//! The agent console over HTTP, as a browser without script uses it, through the local
//! gateway on DynamoDB Local: who may open it, and that each form acts through the same use
//! case (and so the same rules) as its API route.

use helpdesk_tests::{Harness, PageAnswer};
use serde_json::json;

fn session(token: &str) -> String {
    format!("hd_session={token}")
}

/// Posts a console form as the signed-in `token`, with the CSRF token of `page`.
/// Borrowed pairs of owned form values, as `submit` takes them.
fn as_refs<'a>(rows: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    rows.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn submit(h: &Harness, token: &str, path: &str, fields: &[(&str, &str)]) -> PageAnswer {
    let csrf = h.page("GET", "/desk", &session(token), None).await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    h.page("POST", path, &session(token), Some(&all)).await
}

/// A project HD with an admin, an agent and a customer with one request (HD-1).
async fn desk(h: &Harness) -> (String, String, String) {
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("agent"), "role": "agent"}))).await;
    let agent = h.sign_in(&h.email("agent")).await;
    let cy = h.sign_in(&h.email("cy")).await;
    h.ok("POST", "/projects/HD/requests", Some(&cy), Some(json!({"summary": "Printer on fire"}))).await;
    (admin, agent, cy)
}

#[tokio::test]
async fn customers_and_other_projects_agents_are_kept_out() {
    let h = Harness::start().await;
    let (admin, agent, cy) = desk(&h).await;
    // A customer: 403 pages, even on their own request, and their forms change nothing.
    for path in ["/desk", "/desk/projects/HD", "/desk/requests/HD-1"] {
        let page = h.page("GET", path, &session(&cy), None).await;
        assert_eq!(page.status, 403, "{path}: {}", page.text);
        assert!(page.text.contains("Not allowed"), "{path}");
    }
    let csrf = h.page("GET", "/portal", &session(&cy), None).await.csrf();
    let closed = h.page("POST", "/desk/requests/HD-1/close", &session(&cy), Some(&[("csrf", &csrf)])).await;
    assert_eq!(closed.status, 403, "{}", closed.text);
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&cy), None).await.body["status"], "open");
    // Signed out: the sign-in page.
    assert_eq!(h.page("GET", "/desk/requests/HD-1", "", None).await.status, 401);
    // An agent may not moderate: no suspend link, and a missing request leads back to the console.
    let agent_page = h.page("GET", "/desk/requests/HD-1", &session(&agent), None).await.text;
    assert!(!agent_page.contains("Suspend the reporter") && agent_page.contains("Close request"));
    assert!(!agent_page.contains("/desk/users/"), "no links to pages an agent may not open");
    let missing = h.page("GET", "/desk/requests/HD-99", &session(&agent), None).await;
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains(r#"href="/desk">Back to the console"#), "{}", missing.text);
    // An admin of another project: the request does not exist for them.
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": h.email("ot"), "role": "admin"}))).await;
    let ot = h.sign_in(&h.email("ot")).await;
    assert_eq!(h.page("GET", "/desk/requests/HD-1", &session(&ot), None).await.status, 404);
    assert_eq!(h.page("GET", "/desk/projects/HD", &session(&ot), None).await.status, 403);
    let note = submit(&h, &ot, "/desk/requests/HD-1/reply", &[("body", "x"), ("internal", "true")]).await;
    assert_eq!(note.status, 404, "{}", note.text);
    // Their own console lists only their project.
    let home = h.page("GET", "/desk", &session(&ot), None).await;
    assert!(home.text.contains("/desk/projects/OT") && !home.text.contains("/desk/projects/HD"), "{}", home.text);
    // A form without the session's CSRF token: 403, nothing done.
    let forged = h.page("POST", "/desk/requests/HD-1/close", &session(&admin), Some(&[("csrf", "x")])).await;
    assert_eq!(forged.status, 403);
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&admin), None).await.body["status"], "open");
    // Agents sign in to the console; customers to the portal.
    let login = h.page("GET", "/login", "", None).await;
    let anon = format!("hd_anon={}", login.cookie("hd_anon").unwrap());
    h.page("POST", "/login", &anon, Some(&[("csrf", &login.csrf()), ("email", &h.email("agent"))])).await;
    let token = h.magic_token(&h.email("agent")).await.unwrap();
    let done = h.page("POST", "/login/confirm", &anon, Some(&[("csrf", &login.csrf()), ("token", &token)])).await;
    assert_eq!((done.status, done.header("location")), (303, "/desk"));
}

#[tokio::test]
async fn notes_stay_internal_and_replies_reach_the_customer() {
    let h = Harness::start().await;
    let (_, agent, cy) = desk(&h).await;
    let note =
        submit(&h, &agent, "/desk/requests/HD-1/reply", &[("body", "Looks like a scam"), ("internal", "true")]).await;
    assert_eq!(note.status, 303, "{}", note.text);
    let reply = submit(&h, &agent, "/desk/requests/HD-1/reply", &[("body", "We are on it")]).await;
    assert_eq!(reply.status, 303);
    let page = h.page("GET", "/desk/requests/HD-1", &session(&agent), None).await;
    assert!(page.text.contains("Looks like a scam") && page.text.contains("Internal note"), "{}", page.text);
    let portal = h.page("GET", "/portal/requests/HD-1", &session(&cy), None).await;
    assert!(portal.text.contains("We are on it"));
    assert!(!portal.text.contains("scam") && !portal.text.contains("Internal"), "{}", portal.text);
    let json = h.ok("GET", "/requests/HD-1", Some(&cy), None).await;
    assert_eq!(json.body["comment_count"], 1, "the note is not counted");
    // An empty note is refused in the note's own box, not the reply's.
    let empty = submit(&h, &agent, "/desk/requests/HD-1/reply", &[("body", " "), ("internal", "true")]).await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    assert!(empty.text.contains(r#"id="note-error""#) && !empty.text.contains(r#"id="reply-error""#), "{}", empty.text);
    // The two are different actions: a reply form and a note form with its own button.
    assert!(page.text.contains(r#"id="reply-form""#) && page.text.contains(r#"id="note-form""#));
    assert!(page.text.contains(">Send reply</button>") && page.text.contains(">Add internal note</button>"));
}

#[tokio::test]
async fn queue_tabs_filters_and_the_request_tools() {
    let h = Harness::start().await;
    let (admin, agent, cy) = desk(&h).await;
    h.ok("POST", "/requests/HD-1/comments", Some(&cy), Some(json!({"body": "any news?"}))).await;
    h.ok("POST", "/projects/HD/requests", Some(&cy), Some(json!({"summary": "Second"}))).await;
    h.ok("POST", "/requests/HD-2/close", Some(&cy), None).await;
    let open = h.page("GET", "/desk/projects/HD", &session(&agent), None).await;
    assert!(open.text.contains("HD-1: Printer on fire") && !open.text.contains("HD-2"), "{}", open.text);
    assert!(open.text.contains("Customer replied"), "the customer spoke last");
    // The bounded tabs say how many they hold (closed, which only grows, is not counted).
    for (tab, count) in [("Open", 1), ("Pending", 0), ("Held for review", 0)] {
        let shown = format!(r#">{tab} <span class="count">{count}</span></a>"#);
        assert!(open.text.contains(&shown), "{shown} in {}", open.text);
    }
    assert!(open.text.contains(">Closed</a>"), "{}", open.text);
    // A customer who gave a name: the queue and their comments show it with the address.
    let fay_email = h.email("fay");
    h.ok("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": fay_email, "name": "Fay Fox"}))).await;
    let fay = h.sign_in(&fay_email).await;
    let third = h.ok("POST", "/projects/HD/requests", Some(&fay), Some(json!({"summary": "Third"}))).await;
    let third = third.body["key"].as_str().unwrap().to_string();
    h.ok("POST", &format!("/requests/{third}/comments"), Some(&fay), Some(json!({"body": "Hello"}))).await;
    let named = format!("Fay Fox ({fay_email})");
    let queue = h.page("GET", "/desk/projects/HD", &session(&agent), None).await.text;
    assert!(queue.contains(&format!(r#"data-label="Reporter">{named}</td>"#)), "{queue}");
    let page = h.page("GET", &format!("/desk/requests/{third}"), &session(&agent), None).await.text;
    assert!(page.contains(&named), "{page}");
    let more = h.page("GET", "/desk/projects/HD?status=closed", &session(&agent), None).await;
    assert!(more.text.contains(r#">Open <span class="count">2</span></a>"#), "{}", more.text);
    h.ok("POST", &format!("/requests/{third}/close"), Some(&fay), None).await;
    // A request with activity the agent has not opened is marked, until they open it; the
    // customer's next reply marks it again.
    let unseen = r#"<span class="unseen">New activity</span> <a href="/desk/requests/HD-1">"#;
    assert!(open.text.contains(unseen), "never opened, and new: {}", open.text);
    assert_eq!(h.page("GET", "/desk/requests/HD-1", &session(&agent), None).await.status, 200);
    let opened = h.page("GET", "/desk/projects/HD", &session(&agent), None).await;
    assert!(opened.text.contains(r#"<td class="request"><a href="/desk/requests/HD-1">"#), "{}", opened.text);
    let other = h.page("GET", "/desk/projects/HD", &session(&admin), None).await;
    assert!(other.text.contains(unseen), "seen is each agent's own: {}", other.text);
    // A colleague's internal note is activity too (customers see no change; agents do).
    let note = json!({"body": "checked the fuse", "internal": true});
    h.ok("POST", "/requests/HD-1/comments", Some(&admin), Some(note)).await;
    let noted = h.page("GET", "/desk/projects/HD", &session(&agent), None).await;
    assert!(noted.text.contains(unseen), "a colleague's note: {}", noted.text);
    assert_eq!(h.page("GET", "/desk/requests/HD-1", &session(&agent), None).await.status, 200);
    h.ok("POST", "/requests/HD-1/comments", Some(&cy), Some(json!({"body": "still burning"}))).await;
    let again = h.page("GET", "/desk/projects/HD", &session(&agent), None).await;
    assert!(again.text.contains(unseen), "the customer wrote since: {}", again.text);
    let closed = h.page("GET", "/desk/projects/HD?status=closed", &session(&agent), None).await;
    assert!(closed.text.contains("HD-2: Second") && !closed.text.contains("HD-1:"));
    // Tag, then filter by it; a bad tag is refused in place.
    assert_eq!(submit(&h, &agent, "/desk/requests/HD-1/tag", &[("tag", "printer")]).await.status, 303);
    let tagged = h.page("GET", "/desk/projects/HD?status=all&tag=printer", &session(&agent), None).await;
    assert!(tagged.text.contains("HD-1:") && !tagged.text.contains("HD-2:"), "{}", tagged.text);
    let bad = submit(&h, &agent, "/desk/requests/HD-1/tag", &[("tag", "no spaces allowed")]).await;
    assert!(bad.status >= 400 && bad.text.contains(r#"id="tag-error""#), "{}: {}", bad.status, bad.text);
    // Organization and the checklist for a customer outside it.
    let org = h.ok("POST", "/projects/HD/organizations", Some(&admin), Some(json!({"name": "Acme"}))).await;
    let org_id = org.body["id"].as_str().unwrap();
    let set = submit(&h, &agent, "/desk/requests/HD-1/organization", &[("organization", org_id)]).await;
    assert_eq!((set.status, set.header("location")), (303, "/desk/requests/HD-1?done=organization"));
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body["organization"], *org_id);
    let dee = h.email("dee");
    let path = format!("/desk/projects/HD?status=all&organization={org_id}");
    let by_org = h.page("GET", &path, &session(&agent), None).await.text;
    assert!(by_org.contains("HD-1:") && !by_org.contains("HD-2:") && by_org.contains("selected>Acme"), "{by_org}");
    let check = h.page("GET", &format!("/desk/requests/HD-1?email={dee}"), &session(&agent), None).await;
    assert!(
        check.text.contains("cannot see this request") && check.text.contains("no account has this address"),
        "{}",
        check.text
    );
    // The initial macro: previewed, then applied once however often its confirmation is sent.
    let preview = h.page("GET", "/desk/requests/HD-1/macro?macro=incorrect-form-used", &session(&agent), None).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let nonce = preview.text.split(r#"name="nonce" value=""#).nth(1).unwrap().split('"').next().unwrap().to_string();
    for _ in 0..2 {
        let fields = [("macro", "incorrect-form-used"), ("nonce", nonce.as_str())];
        let applied = submit(&h, &agent, "/desk/requests/HD-1/macro", &fields).await;
        assert_eq!(
            (applied.status, applied.header("location")),
            (303, "/desk/requests/HD-1?done=macro"),
            "{}",
            applied.text
        );
    }
    // Share creates a customer where the rules allow; remove stops it.
    let eve = h.email("eve");
    assert_eq!(submit(&h, &agent, "/desk/requests/HD-1/share", &[("email", &eve)]).await.status, 303);
    assert_eq!(h.ok("GET", "/requests/HD-1/participants", Some(&agent), None).await.body["items"][0]["email"], eve);
    assert_eq!(submit(&h, &agent, "/desk/requests/HD-1/unshare", &[("email", &eve)]).await.status, 303);
    let bad_share = submit(&h, &agent, "/desk/requests/HD-1/share", &[("email", "not an address")]).await;
    assert!(bad_share.text.contains(r#"id="share-error""#), "{}", bad_share.text);
    // Unknown actions are 404 pages.
    assert_eq!(submit(&h, &agent, "/desk/requests/HD-1/explode", &[]).await.status, 404);
}

#[tokio::test]
async fn suspending_from_a_request_ends_the_customers_session() {
    let h = Harness::start().await;
    let (admin, agent, cy) = desk(&h).await;
    let cy_id = h.ok("GET", "/me", Some(&cy), None).await.body["id"].as_str().unwrap().to_string();
    let confirm = h.page("GET", &format!("/desk/users/{cy_id}/suspend?request=HD-1"), &session(&admin), None).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    assert!(confirm.text.contains(r#"name="request" value="HD-1""#));
    // A plain agent may not moderate: the confirmation is already refused.
    let refused = h.page("GET", &format!("/desk/users/{cy_id}/suspend"), &session(&agent), None).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let path = format!("/desk/users/{cy_id}/suspend");
    let no_reason = submit(&h, &admin, &path, &[("request", "HD-1"), ("reason", "")]).await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.text);
    assert!(no_reason.text.contains(r#"id="reason-error""#));
    let done = submit(&h, &admin, &path, &[("request", "HD-1"), ("reason", "Phishing links")]).await;
    assert_eq!((done.status, done.header("location")), (303, format!("/desk/users/{cy_id}?done=suspend").as_str()));
    // The customer's next page load is the sign-in page; their request is closed.
    assert_eq!(h.page("GET", "/portal/requests/HD-1", &session(&cy), None).await.status, 401);
    assert_eq!(h.ok("GET", "/requests/HD-1", Some(&admin), None).await.body["status"], "closed");
    let profile = h.page("GET", &format!("/desk/users/{cy_id}?done=suspend"), &session(&admin), None).await;
    for shown in [
        "Phishing links",
        "Request closed",
        "Sessions ended",
        "Blocklist rule added",
        "suspended",
        "HD-1: Printer on fire",
    ] {
        assert!(profile.text.contains(shown), "{shown}: {}", profile.text);
    }
    let lifted = submit(&h, &admin, &format!("/desk/users/{cy_id}/unsuspend"), &[]).await;
    assert_eq!(lifted.status, 303);
    assert!(h.sign_in(&h.email("cy")).await.len() > 10, "signs in again");
    let noted = submit(&h, &admin, &format!("/desk/users/{cy_id}/note"), &[("body", "Watch this one")]).await;
    assert_eq!(noted.status, 303);
    let trail = h.ok("GET", &format!("/users/{cy_id}/audit"), Some(&admin), None).await;
    let actions: Vec<_> =
        trail.body["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"unsuspended") && actions.contains(&"note"), "{actions:?}");
}

#[tokio::test]
async fn project_settings_forms_and_macros_are_changed_by_its_admins_only() {
    let h = Harness::start().await;
    let (admin, agent, _) = desk(&h).await;
    let page = h.page("GET", "/desk/projects/HD/settings", &session(&agent), None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Only the project's admins") && page.text.contains("<fieldset disabled>"));
    let settings = |cap: &'static str| {
        vec![
            ("name", "Help desk"),
            ("support_address", "help-hd@desk.test"),
            ("support_address_was", "help-hd@desk.test"),
            ("org_sharing", "true"),
            ("portal_private", "true"),
            ("link_days", "14"),
            ("participant_cap", cap),
            ("notify_per_hour", "10"),
        ]
    };
    let refused = submit(&h, &agent, "/desk/projects/HD/settings", &settings("5")).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let junk = submit(&h, &agent, "/desk/projects/HD/settings", &settings("lots")).await;
    assert_eq!(junk.status, 403, "an agent learns nothing about the input");
    let bad = submit(&h, &admin, "/desk/projects/HD/settings", &settings("lots")).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("participant cap must be a whole number"));
    let saved = submit(&h, &admin, "/desk/projects/HD/settings", &settings("5")).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let project = h.ok("GET", "/projects/HD", Some(&admin), None).await.body;
    assert_eq!(project["name"], "Help desk");
    assert_eq!(project["org_sharing"], true, "{project}");
    assert_eq!(project["portal"]["public"], false, "an unticked box turns it off: {project}");
    assert_eq!(project["notify_per_hour"], 10);
    // The form editor: every problem at once, next to its row, with what was typed kept.
    let form_rows = |second_label: &'static str, choices: &'static str, op: &'static str| {
        vec![
            ("id", ""),
            ("name", "Billing"),
            ("public", "true"),
            ("field.0.label", "Invoice number"),
            ("field.0.type", "text"),
            ("field.0.key", ""),
            ("field.0.required", "true"),
            ("field.1.label", second_label),
            ("field.1.type", "select"),
            ("field.1.key", ""),
            ("field.1.options", choices),
            ("op", op),
        ]
    };
    let wrong = submit(&h, &admin, "/desk/projects/HD/form", &form_rows("", "", "save")).await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    for said in
        ["2 things to fix", "Field 2: Give it a label", "Field 2: a list has 1 to 100 choices", "Invoice number"]
    {
        assert!(wrong.text.contains(said), "{said}: {}", wrong.text);
    }
    // A row button moves rows on the page and saves nothing.
    let moved = submit(&h, &admin, "/desk/projects/HD/form", &form_rows("Plan", "Basic\nPro", "up.1")).await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert!(moved.text.contains("Not saved yet"));
    let (plan_at, invoice_at) =
        (moved.text.find("value=\"Plan\"").unwrap(), moved.text.find("value=\"Invoice number\"").unwrap());
    assert!(plan_at < invoice_at, "Plan is first now");
    let forms = h.ok("GET", "/projects/HD/forms", Some(&agent), None).await.body;
    assert!(!forms.to_string().contains("Invoice"), "{forms}");
    let made = submit(&h, &admin, "/desk/projects/HD/form", &form_rows("Plan", "Basic\nPro", "save")).await;
    assert_eq!(
        (made.status, made.header("location")),
        (303, "/desk/projects/HD/forms/billing?done=form-saved"),
        "{}",
        made.text
    );
    let forms = h.ok("GET", "/projects/HD/forms", Some(&agent), None).await.body;
    let billing = forms["items"].as_array().unwrap().iter().find(|f| f["id"] == "billing").unwrap().clone();
    assert_eq!(billing["fields"][0]["key"], "invoice_number", "keys come from labels: {billing}");
    assert_eq!(billing["fields"][1]["options"], json!(["Basic", "Pro"]), "{billing}");
    let editor = h.page("GET", "/desk/projects/HD/forms/billing?done=form-saved", &session(&admin), None).await;
    assert!(editor.text.contains("The form is saved.") && editor.text.contains("Remove form"), "{}", editor.text);
    assert_eq!(h.page("GET", "/desk/projects/HD/forms/billing", &session(&agent), None).await.status, 403);
    assert_eq!(h.page("GET", "/desk/projects/HD/forms/nope", &session(&admin), None).await.status, 404);
    // A macro that moves requests to it keeps it, and says so; so does the default form.
    let to_billing = json!({"name": "To billing", "actions": [{"type": "set_form", "form": "billing"}]});
    let mover = h.ok("POST", "/projects/HD/macros", Some(&admin), Some(to_billing)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let kept = submit(&h, &admin, "/desk/projects/HD/form-delete", &[("id", "billing")]).await;
    assert_eq!(kept.status, 409, "{}", kept.text);
    assert!(kept.text.contains("To billing"), "{}", kept.text);
    let default = h.call("DELETE", "/projects/HD/forms/default", Some(&admin), None).await;
    assert_eq!((default.status, default.code()), (409, "default_form"));

    // The macro editor: a step's problem next to it, then saved, changed, removed.
    let macro_rows = |id: &str, reply: &'static str| {
        vec![
            ("id", id.to_string()),
            ("name", "Billing".into()),
            ("action.0.type", "add_tag".into()),
            ("action.0.value", "billing".into()),
            ("action.1.type", "add_public_reply".into()),
            ("action.1.value", reply.into()),
            ("op", "save".into()),
        ]
    };
    let wrong = submit(&h, &admin, "/desk/projects/HD/macro", &as_refs(&macro_rows("", ""))).await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert!(wrong.text.contains("give the text") && wrong.text.contains(r#"value="billing""#), "{}", wrong.text);
    let good = macro_rows("", "We are on it.");
    let added = submit(&h, &admin, "/desk/projects/HD/macro", &as_refs(&good)).await;
    assert_eq!(added.status, 303, "{}", added.text);
    let id = added.header("location").split('/').next_back().unwrap().split('?').next().unwrap().to_string();
    // Save pressed twice: the same macro, made once.
    let twice = submit(&h, &admin, "/desk/projects/HD/macro", &as_refs(&good)).await;
    assert_eq!((twice.status, twice.header("location")), (303, added.header("location")));
    let request = h.page("GET", "/desk/requests/HD-1", &session(&agent), None).await;
    let macros = request.text.split(r#"id="macro-choice""#).nth(1).unwrap().split("</select>").next().unwrap();
    assert_eq!(macros.matches(">Billing</option>").count(), 1, "{macros}");
    assert!(request.text.contains(">Billing</option>"), "{}", request.text);
    let by_agent = submit(&h, &agent, "/desk/projects/HD/macro", &as_refs(&good)).await;
    assert_eq!(by_agent.status, 403);
    let changed = submit(&h, &admin, "/desk/projects/HD/macro", &as_refs(&macro_rows(&id, "Fixed now."))).await;
    assert_eq!(changed.status, 303, "{}", changed.text);
    let macros = h.ok("GET", "/projects/HD/macros", Some(&agent), None).await.body;
    let ours: Vec<_> = macros["items"].as_array().unwrap().iter().filter(|m| m["name"] == "Billing").collect();
    assert_eq!(ours.len(), 1, "changed in place: {macros}");
    assert_eq!(ours[0]["actions"][1]["body"], "Fixed now.");
    let removed = submit(&h, &admin, "/desk/projects/HD/macro-delete", &[("id", &id)]).await;
    assert_eq!(removed.status, 303);
    h.ok("DELETE", &format!("/projects/HD/macros/{mover}"), Some(&admin), None).await;
    let gone = submit(&h, &admin, "/desk/projects/HD/form-delete", &[("id", "billing")]).await;
    assert_eq!(gone.status, 303, "{}", gone.text);
    let macros = h.ok("GET", "/projects/HD/macros", Some(&agent), None).await.body;
    assert!(!macros.to_string().contains("Billing"), "{macros}");
    let forms = h.ok("GET", "/projects/HD/forms", Some(&agent), None).await.body;
    assert!(!forms.to_string().contains("billing"), "{forms}");
}

/// The `module::function`s `source` calls for the signed-in caller (`(app, caller` or
/// `(app, &caller`), whitespace aside.
fn use_cases(source: &str) -> std::collections::BTreeSet<String> {
    let flat: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let mut found = std::collections::BTreeSet::new();
    for marker in ["(app,caller", "(app,&caller"] {
        for (at, _) in flat.match_indices(marker) {
            let before = &flat[..at];
            let start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(0, |i| i + 1);
            let name = &before[start..];
            if name.contains("::") {
                found.insert(name.trim_start_matches("helpdesk::").to_string());
            }
        }
    }
    found
}

/// Every use case a console form or page calls is one an API route calls too, so the console
/// has no rule of its own; its reads are `desk::` page loads, built on the routes' loaders.
#[test]
fn the_console_calls_the_same_use_cases_as_the_api_routes() {
    let read = |path: &str| std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let console = use_cases(
        &["mod", "admin", "queue", "users", "macro_preview"]
            .map(|f| read(&format!("functions/web/src/desk/{f}.rs")))
            .concat(),
    );
    let api_sources = ["auth", "intake", "sharing", "organizations", "moderation"]
        .map(|f| read(&format!("functions/{f}/src/lib.rs")))
        .concat()
        + &["pages", "portal", "public"].map(|f| read(&format!("functions/web/src/{f}.rs"))).concat();
    let api = use_cases(&api_sources);
    assert!(console.len() > 20, "the scan finds the console's calls: {console:?}");
    let own: Vec<_> = console.iter().filter(|c| !c.starts_with("desk::") && !api.contains(*c)).collect();
    assert!(own.is_empty(), "console calls with no API route behind them: {own:?}");
}

#[tokio::test]
async fn an_agent_moves_a_request_to_a_form_and_fills_its_fields() {
    let h = Harness::start().await;
    let (admin, agent, _) = desk(&h).await;
    let form = json!({"name": "Hardware", "public": true, "fields": [
        {"key": "severity", "label": "Severity", "type": "select", "options": ["low", "high"], "required": true},
        {"key": "since", "label": "Since when", "type": "date"}]});
    let made = h.ok("POST", "/projects/HD/forms", Some(&admin), Some(form)).await;
    let form_id = made.body["id"].as_str().unwrap().to_string();
    // Moving to a form whose required field is empty is refused, and that form's fields are
    // offered to fill in.
    let moved = submit(&h, &agent, "/desk/requests/HD-1/form", &[("form", &form_id)]).await;
    assert_eq!(moved.status, 422, "{}", moved.text);
    assert!(moved.text.contains("Fields of Hardware") && moved.text.contains(r#"id="field-severity-error""#));
    let fields = [("form", form_id.as_str()), ("field.severity", "extreme"), ("field.since", "")];
    let bad = submit(&h, &agent, "/desk/requests/HD-1/fields", &fields).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(r#"id="field-severity-error""#), "next to its field: {}", bad.text);
    // A field the form does not have is refused, and said so (not silently dropped).
    let extra = [("form", form_id.as_str()), ("field.severity", "high"), ("field.colour", "red")];
    let unknown = submit(&h, &agent, "/desk/requests/HD-1/fields", &extra).await;
    assert!(unknown.status >= 400 && unknown.text.contains("colour"), "{}: {}", unknown.status, unknown.text);
    let fields = [("form", form_id.as_str()), ("field.severity", "high"), ("field.since", "2026-11-01")];
    let saved = submit(&h, &agent, "/desk/requests/HD-1/fields", &fields).await;
    assert_eq!((saved.status, saved.header("location")), (303, "/desk/requests/HD-1?done=fields"));
    let request = h.ok("GET", "/requests/HD-1", Some(&agent), None).await.body;
    assert_eq!(
        (request["form"].as_str(), request["fields"]["severity"].as_str()),
        (Some(form_id.as_str()), Some("high"))
    );
    let page = h.page("GET", "/desk/requests/HD-1", &session(&agent), None).await.text;
    assert!(page.contains("<dt>Severity</dt><dd>high</dd>") && page.contains("moved it from the form "), "{page}");
}
