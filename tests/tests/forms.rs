//! Request forms through HTTP against DynamoDB Local: defining them, raising requests on
//! them (each field type, valid and invalid), public and agent-only forms, moving a request
//! to another form, and old requests keeping a field the form no longer has.

use helpdesk_tests::Harness;
use serde_json::json;

fn hardware_form() -> serde_json::Value {
    json!({
        "name": "Hardware fault",
        "public": true,
        "fields": [
            {"key": "asset", "label": "Asset tag", "type": "text", "required": true},
            {"key": "story", "label": "What happened", "type": "textarea"},
            {"key": "severity", "label": "Severity", "type": "select", "options": ["low", "high"], "required": true},
            {"key": "on_site", "label": "On site", "type": "checkbox"},
            {"key": "contact", "label": "Contact", "type": "email"},
            {"key": "since", "label": "Since", "type": "date", "help": "YYYY-MM-DD"}
        ]
    })
}

#[tokio::test]
async fn requests_are_checked_against_their_form() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;

    // Every project starts with a default form and Support Ops (agents only).
    let forms = h.ok("GET", "/projects/HD/forms", Some(&agent), None).await;
    assert_eq!(forms.body["default_form"], "default");
    let ids: Vec<_> = forms.body["items"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["default", "support-ops"]);
    assert_eq!(h.call("GET", "/projects/HD/forms", Some(&ann), None).await.status, 403);
    assert_eq!(h.call("POST", "/projects/HD/forms", Some(&agent), Some(hardware_form())).await.status, 403);
    let made = h.ok("POST", "/projects/HD/forms", Some(&admin), Some(hardware_form())).await;
    assert_eq!((made.status, made.body["id"].as_str()), (201, Some("hardware-fault")));
    let bad_form = json!({"name": "X", "fields": [{"key": "s", "label": "S", "type": "select", "options": []}]});
    let refused = h.call("POST", "/projects/HD/forms", Some(&admin), Some(bad_form)).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_field"));

    let raise = |fields: serde_json::Value| {
        let body = json!({"summary": "Broken", "form": "hardware-fault", "fields": fields});
        h.call("POST", "/projects/HD/requests", Some(&ann), Some(body))
    };
    let good = raise(json!({"asset": "A-1", "story": "It fell\nover", "severity": "high", "on_site": "true",
                            "contact": "Ops@Example.com", "since": "2026-11-01"}))
    .await;
    assert_eq!(good.status, 201, "{good:?}");
    assert_eq!(good.body["form"], "hardware-fault");
    assert_eq!(good.body["fields"]["contact"], "ops@example.com");
    assert_eq!(good.body["fields"]["on_site"], "true");
    let key = good.body["key"].as_str().unwrap().to_string();
    for (fields, code, field) in [
        (json!({"severity": "low"}), "required_field", "fields.asset"),
        (json!({"asset": "A", "severity": "medium"}), "invalid_field_value", "fields.severity"),
        (json!({"asset": "A", "severity": "low", "on_site": "perhaps"}), "invalid_field_value", "fields.on_site"),
        (json!({"asset": "A", "severity": "low", "contact": "nobody"}), "invalid_field_value", "fields.contact"),
        (json!({"asset": "A", "severity": "low", "since": "01/11/2026"}), "invalid_field_value", "fields.since"),
        (json!({"asset": "A\nB", "severity": "low"}), "invalid_field", "fields.asset"),
        (json!({"asset": "A", "severity": "low", "colour": "red"}), "unknown_field", "fields.colour"),
    ] {
        let answer = raise(fields.clone()).await;
        assert_eq!((answer.status, answer.code()), (422, code), "{fields}: {answer:?}");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{fields}: {message}");
    }
    // Customers cannot use agent-only forms; agents can.
    let ops = json!({"summary": "Triage", "form": "support-ops"});
    let hidden = h.call("POST", "/projects/HD/requests", Some(&ann), Some(ops.clone())).await;
    assert_eq!((hidden.status, hidden.code()), (422, "unknown_form"));
    assert_eq!(h.call("POST", "/projects/HD/requests", Some(&agent), Some(ops)).await.status, 201);
    // No form named: the default one, which asks for nothing.
    let plain = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Hi"}))).await;
    assert_eq!(plain.body["form"], "default");

    // The form changes; the old request keeps the value of the field it lost.
    let mut changed = hardware_form();
    changed["fields"].as_array_mut().unwrap().retain(|f| f["key"] != "since");
    h.ok("PUT", "/projects/HD/forms/hardware-fault", Some(&admin), Some(changed)).await;
    let old = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await;
    assert_eq!(old.body["fields"]["since"], "2026-11-01");
    let gone = raise(json!({"asset": "A", "severity": "low", "since": "2026-11-01"})).await;
    assert_eq!(gone.code(), "unknown_field");

    // Agents move a request to another form, its values checked, with a history entry.
    let moved = h.call("PUT", &format!("/requests/{key}/form"), Some(&ann), Some(json!({"form": "support-ops"}))).await;
    assert_eq!(moved.status, 403);
    let missing = json!({"form": "hardware-fault", "fields": {"asset": "A-1"}});
    let refused = h.call("PUT", &format!("/requests/{key}/form"), Some(&agent), Some(missing)).await;
    assert_eq!((refused.status, refused.code()), (422, "required_field"));
    let unchanged = h.ok("GET", &format!("/requests/{key}"), Some(&agent), None).await;
    assert_eq!(unchanged.body["form"], "hardware-fault", "nothing written by a refused move");
    let moved = h.ok("PUT", &format!("/requests/{key}/form"), Some(&agent), Some(json!({"form": "support-ops"}))).await;
    assert_eq!((moved.body["form"].as_str(), &moved.body["fields"]), (Some("support-ops"), &json!({})));
    let detail = h.ok("GET", &format!("/requests/{key}"), Some(&agent), None).await;
    let history = detail.body["history"].as_array().unwrap();
    assert!(history.iter().any(|e| e["action"] == "form_changed"), "{history:?}");
}

#[tokio::test]
async fn the_wrong_form_macro_applies_whole_once_or_not_at_all() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(hardware_form())).await;
    let raised = json!({"summary": "Need a VPN account", "form": "hardware-fault", "fields": {"asset": "none", "severity": "low"}});
    let key =
        h.ok("POST", "/projects/HD/requests", Some(&ann), Some(raised)).await.body["key"].as_str().unwrap().to_string();

    // SLA stage: waiting for a first response, the customer spoke last.
    let queue = h.ok("GET", "/projects/HD/requests", Some(&agent), None).await;
    assert_eq!(
        (&queue.body["items"][0]["first_response_at"], &queue.body["items"][0]["customer_spoke_last"]),
        (&json!(null), &json!(true))
    );

    // Every project has it.
    let macros = h.ok("GET", "/projects/HD/macros", Some(&agent), None).await;
    assert_eq!(macros.body["items"][0]["name"], "Incorrect form used");
    assert_eq!(h.call("GET", "/projects/HD/macros", Some(&ann), None).await.status, 403);
    let apply = format!("/requests/{key}/macros/incorrect-form-used");
    let refused = h.call_raw("POST", &apply, Some(&ann), None, &[]).await;
    assert_eq!(refused.status, 403);

    // Applied twice with one client token: once.
    for round in 0..2 {
        let answer = h.call_raw("POST", &apply, Some(&agent), None, &[("idempotency-key", "macro-1")]).await;
        assert_eq!(answer.status, 200, "round {round}: {answer:?}");
    }
    let detail = h.ok("GET", &format!("/requests/{key}"), Some(&agent), None).await;
    assert_eq!(detail.body["form"], "support-ops");
    assert_eq!(detail.body["fields"], json!({}));
    assert_eq!(detail.body["tags"], json!(["incorrect-form"]));
    let notes: Vec<_> = detail.body["comments"].as_array().unwrap().iter().filter(|c| c["internal"] == true).collect();
    assert_eq!(notes.len(), 1, "one internal note after a retried apply");
    assert!(notes[0]["body"].as_str().unwrap().contains("wrong form"));
    assert_eq!(detail.body["note_count"], 1);
    let tagged = h.ok("GET", "/projects/HD/requests?tag=incorrect-form", Some(&agent), None).await;
    assert_eq!(tagged.body["items"][0]["key"], key.as_str());
    // The customer never sees the note, its count or the macro in the history.
    let theirs = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await;
    assert_eq!(theirs.body["comments"], json!([]));
    assert!(theirs.body.get("note_count").is_none());
    assert!(!theirs.body.to_string().contains("wrong form") && !theirs.body.to_string().contains("macro"));

    // A macro with an action that cannot apply writes nothing and names the action.
    let broken = json!({"name": "Escalate", "actions": [
        {"type": "add_tag", "tag": "escalated"},
        {"type": "add_public_reply", "body": "We are on it."},
        {"type": "set_field", "key": "no_such_field", "value": "x"}]});
    let made = h.ok("POST", "/projects/HD/macros", Some(&admin), Some(broken)).await;
    let id = made.body["id"].as_str().unwrap().to_string();
    let failed = h.call("POST", &format!("/requests/{key}/macros/{id}"), Some(&agent), None).await;
    assert_eq!((failed.status, failed.code()), (422, "macro_action_failed"));
    assert!(failed.body["error"]["message"].as_str().unwrap().starts_with("action 3 (set_field)"), "{failed:?}");
    let after = h.ok("GET", &format!("/requests/{key}"), Some(&agent), None).await;
    assert_eq!(after.body["tags"], json!(["incorrect-form"]), "no tag from the failed macro");
    assert_eq!(after.body["comment_count"], 0, "no reply from the failed macro");
    assert_eq!(after.body["comments"].as_array().unwrap().len(), 1);

    // Then the agent moves it to the right form, with all its values, and closes it by macro.
    let right = json!({"form": "hardware-fault", "fields": {"asset": "VPN", "severity": "high"}});
    h.ok("PUT", &format!("/requests/{key}/form"), Some(&agent), Some(right)).await;
    let close = json!({"name": "Solved", "actions": [
        {"type": "remove_tag", "tag": "incorrect-form"}, {"type": "set_field", "key": "severity", "value": "low"},
        {"type": "add_public_reply", "body": "Done, closing."}, {"type": "set_status", "status": "closed"}]});
    let id =
        h.ok("POST", "/projects/HD/macros", Some(&admin), Some(close)).await.body["id"].as_str().unwrap().to_string();
    let done = h.ok("POST", &format!("/requests/{key}/macros/{id}"), Some(&agent), None).await;
    assert_eq!((done.body["status"].as_str(), &done.body["tags"]), (Some("closed"), &json!([])));
    assert_eq!(done.body["fields"], json!({"asset": "VPN", "severity": "low", "on_site": "false"}));
    let theirs = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await;
    assert_eq!(theirs.body["comments"][0]["body"], "Done, closing.");
    assert!(done.body["first_response_at"].is_string() && done.body["customer_spoke_last"] == false, "{done:?}");
    assert!(theirs.body.get("first_response_at").is_none(), "the SLA stage is for agents");
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&ann), Some(json!({"body": "Thanks"}))).await;
    let queue = h.ok("GET", "/projects/HD/requests", Some(&agent), None).await;
    let row = queue.body["items"].as_array().unwrap().iter().find(|r| r["key"] == key.as_str()).unwrap().clone();
    assert_eq!(
        (row["first_response_at"].clone(), row["customer_spoke_last"].clone()),
        (done.body["first_response_at"].clone(), json!(true))
    );
    let untagged = h.ok("GET", "/projects/HD/requests?tag=incorrect-form", Some(&agent), None).await;
    assert_eq!(untagged.body["items"], json!([]));
}

fn incident_form() -> serde_json::Value {
    json!({
        "name": "Incident",
        "public": true,
        "fields": [
            {"key": "what", "label": "What happened", "type": "textarea", "required": true},
            {"key": "severity", "label": "How bad is it?", "type": "select", "options": ["low", "high"], "required": true},
            {"key": "on_site", "label": "On site", "type": "checkbox"},
            {"key": "since", "label": "Since", "type": "date"}
        ]
    })
}

/// `(field, code)` of each problem a 422 lists.
fn problems(answer: &helpdesk_tests::Answer) -> Vec<(String, String)> {
    let errors = answer.body["error"]["errors"].as_array().cloned().unwrap_or_default();
    errors.iter().map(|e| (e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into())).collect()
}

#[tokio::test]
async fn every_problem_comes_back_at_once_and_values_may_be_typed() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ann = h.sign_in(&h.email("ann")).await;
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(incident_form())).await;
    let raise = |summary: &str, fields: serde_json::Value| {
        let body = json!({"summary": summary, "form": "incident", "fields": fields});
        h.call("POST", "/projects/HD/requests", Some(&ann), Some(body))
    };

    // Four problems, one answer, in the form's order, each in plain words.
    let bad = raise(" ", json!({"since": "soon", "severity": "medium", "colour": "red", "on_site": true})).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_field"), "{bad:?}");
    let expected = [
        ("summary", "invalid_field"),
        ("fields.what", "required_field"),
        ("fields.severity", "invalid_field_value"),
        ("fields.since", "invalid_field_value"),
        ("fields.colour", "unknown_field"),
    ];
    assert_eq!(problems(&bad), expected.map(|(f, c)| (f.to_string(), c.to_string())));
    let messages: Vec<_> =
        bad.body["error"]["errors"].as_array().unwrap().iter().map(|e| e["message"].clone()).collect();
    assert_eq!(messages[1], "Fill in \"What happened\"");
    assert_eq!(messages[2], "Choose one of the answers for \"How bad is it?\"");
    assert!(bad.body["error"]["message"].as_str().unwrap().starts_with("summary: "), "{bad:?}");
    let missing = raise("Down", json!({"what": "It stopped"})).await;
    assert_eq!(problems(&missing), [("fields.severity".to_string(), "required_field".to_string())]);
    assert_eq!(missing.body["error"]["errors"][0]["message"], "Choose an answer for \"How bad is it?\"");

    // Typed values: a checkbox takes true/false, a number its text; strings still work.
    let typed =
        raise("Down", json!({"what": "It stopped", "severity": "high", "on_site": true, "since": "2026-11-03"})).await;
    assert_eq!(typed.status, 201, "{typed:?}");
    assert_eq!(typed.body["fields"]["on_site"], "true", "answered as before: a string");
    let unticked = raise("Down", json!({"what": "x", "severity": "low", "on_site": false})).await;
    assert_eq!(unticked.body["fields"]["on_site"], "false");
    let numeric = raise("Down", json!({"what": "x", "severity": "low", "on_site": 1})).await;
    assert_eq!(numeric.body["fields"]["on_site"], "true");
    let as_text = raise("Down", json!({"what": "x", "severity": "low", "on_site": "true"})).await;
    assert_eq!(as_text.body["fields"]["on_site"], "true");
    let nested = raise("Down", json!({"what": "x", "severity": "low", "on_site": [true]})).await;
    assert_eq!((nested.status, nested.code()), (400, "invalid_body"));
    let key = typed.body["key"].as_str().unwrap().to_string();
    let fields = json!({"form": "incident", "fields": {"what": "It stopped", "severity": "high", "on_site": false}});
    let moved = h.ok("PUT", &format!("/requests/{key}/form"), Some(&agent), Some(fields)).await;
    assert_eq!(moved.body["fields"]["on_site"], "false");
    let two_wrong = json!({"form": "incident", "fields": {"what": "", "severity": "x", "on_site": true}});
    let refused = h.call("PUT", &format!("/requests/{key}/form"), Some(&agent), Some(two_wrong)).await;
    let fields: Vec<_> = problems(&refused).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["fields.what", "fields.severity"]);

    // Shown in the form's order (not the keys'), a checkbox as Yes/No, a date readable.
    let ticked = typed.body["key"].as_str().unwrap();
    h.ok(
        "PUT",
        &format!("/requests/{key}/form"),
        Some(&agent),
        Some(json!({"form": "incident",
        "fields": {"what": "It stopped", "severity": "high", "on_site": true, "since": "2026-11-03"}})),
    )
    .await;
    let rows = [
        "<dt>What happened</dt><dd>It stopped</dd>",
        "<dt>How bad is it?</dt><dd>high</dd>",
        "<dt>On site</dt><dd>Yes</dd>",
        "<dt>Since</dt><dd>3 November 2026</dd>",
    ];
    let portal = h.page("GET", &format!("/portal/requests/{ticked}"), &format!("hd_session={ann}"), None).await;
    let desk = h.page("GET", &format!("/desk/requests/{ticked}"), &format!("hd_session={agent}"), None).await;
    for (page, text) in [("portal", &portal.text), ("console", &desk.text)] {
        let at: Vec<_> = rows.iter().map(|r| text.find(r).unwrap_or_else(|| panic!("{page}: {r}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{page}: in the form's order: {at:?}");
    }
    let no = unticked.body["key"].as_str().unwrap();
    let portal = h.page("GET", &format!("/portal/requests/{no}"), &format!("hd_session={ann}"), None).await;
    assert!(portal.text.contains("<dt>On site</dt><dd>No</dd>"));
}

#[tokio::test]
async fn the_pages_show_every_problem_at_once_and_keep_what_was_typed_across_tabs() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(incident_form())).await;
    let ann = format!("hd_session={}", h.sign_in(&h.email("ann")).await);
    let page = h.page("GET", "/portal/new?project=HD&form=incident", &ann, None).await;
    let csrf = page.csrf();
    let typed = [
        ("csrf", csrf.as_str()),
        ("project", "HD"),
        ("form", "incident"),
        ("summary", ""),
        ("description", "The screen <flickers>"),
        ("field.since", "2026-11-02"),
        ("field.on_site", "true"),
    ];

    // Two problems: both next to their fields and listed on top, linking to them, in order.
    let bad = h.page("POST", "/portal/requests", &ann, Some(&typed)).await;
    assert_eq!(bad.status, 422);
    let t = &bad.text;
    for part in [
        r#"id="summary-error""#,
        r#"aria-describedby="summary-error""#,
        r#"id="field-what-error""#,
        r#"id="field-severity-error""#,
        r#"aria-describedby="field-severity-error""#,
        "3 things to fix",
        "Choose an answer for &#34;How bad is it?&#34;",
        "The screen &#60;flickers&#62;",
        r#"value="2026-11-02""#,
        r#"value="true" checked"#,
    ] {
        assert!(t.contains(part), "{part}: {t}");
    }
    let links: Vec<_> = ["#summary\"", "#field-what\"", "#field-severity\""].iter().map(|l| t.find(l)).collect();
    assert!(links.iter().all(Option::is_some) && links.windows(2).all(|w| w[0] < w[1]), "{links:?}");

    // A tab is a button of the same form: the other form, with what it shares kept.
    let mut switch = typed.to_vec();
    switch.extend([("summary", "Flicker"), ("switch", "default")]);
    switch.retain(|(k, v)| *k != "summary" || !v.is_empty());
    let other = h.page("POST", "/portal/requests", &ann, Some(&switch)).await;
    assert_eq!(other.status, 200, "{}", other.text);
    assert!(other.text.contains(r#"<span aria-current="true">General request</span>"#), "{}", other.text);
    assert!(other.text.contains(r#"value="Flicker""#) && other.text.contains("The screen &#60;flickers&#62;"));
    assert!(!other.text.contains("field-severity") && !other.text.contains("things to fix"));
    let back = [
        ("csrf", csrf.as_str()),
        ("project", "HD"),
        ("form", "default"),
        ("summary", "Flicker"),
        ("field.since", "2026-11-02"),
        ("switch", "incident"),
    ];
    let again = h.page("POST", "/portal/requests", &ann, Some(&back)).await;
    assert!(again.text.contains(r#"value="2026-11-02""#) && again.text.contains(r#"value="Flicker""#));
    let agent = h.sign_in(&agent_email).await;
    let queue = h.ok("GET", "/projects/HD/requests", Some(&agent), None).await;
    assert_eq!(queue.body["items"], json!([]), "neither a refusal nor a tab made a request");

    // The console's fields: every problem at once, what was typed kept.
    let made = h
        .ok(
            "POST",
            "/projects/HD/requests",
            Some(&agent),
            Some(json!({"summary": "Flicker", "form": "incident",
        "fields": {"what": "x", "severity": "low"}})),
        )
        .await;
    let key = made.body["key"].as_str().unwrap();
    let desk = format!("hd_session={agent}");
    let page = h.page("GET", &format!("/desk/requests/{key}"), &desk, None).await;
    let form = [
        ("csrf", page.csrf()),
        ("form", "incident".into()),
        ("field.what", "".into()),
        ("field.severity", "".into()),
        ("field.since", "2026-11-04".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = h.page("POST", &format!("/desk/requests/{key}/fields"), &desk, Some(&form)).await;
    assert_eq!(saved.status, 422);
    for part in [r#"id="field-what-error""#, r#"id="field-severity-error""#, "2 things to fix", r#"value="2026-11-04""#]
    {
        assert!(saved.text.contains(part), "{part}");
    }
}

/// Forms and macros are changed and removed by their project's admins only; a form's problems
/// come all at once; a removed form leaves its requests' values readable.
#[tokio::test]
async fn admins_change_and_remove_forms_and_macros() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let ot_admin_email = h.email("ot-admin");
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": ot_admin_email, "role": "admin"}))).await;
    let ot_admin = h.sign_in(&ot_admin_email).await;
    let ann = h.sign_in(&h.email("ann")).await;

    let two_wrong = json!({"name": " ", "fields": [
        {"key": "a", "label": "A", "type": "select"}, {"key": "a", "label": "B", "type": "text", "options": ["x"]}]});
    let refused = h.call("POST", "/projects/HD/forms", Some(&admin), Some(two_wrong)).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_field"), "{}", refused.body);
    let fields: Vec<_> =
        refused.body["error"]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "fields.1.options", "fields.2.key", "fields.2.options"], "{}", refused.body);

    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(hardware_form())).await;
    let raised =
        json!({"summary": "Dead laptop", "form": "hardware-fault", "fields": {"asset": "LT-1", "severity": "high"}});
    let key =
        h.ok("POST", "/projects/HD/requests", Some(&ann), Some(raised)).await.body["key"].as_str().unwrap().to_string();
    for (who, status) in [(&ann, 403), (&agent, 403), (&ot_admin, 403)] {
        let tried = h.call("DELETE", "/projects/HD/forms/hardware-fault", Some(who), None).await;
        assert_eq!(tried.status, status, "{}", tried.body);
    }
    let ops = h.call("DELETE", "/projects/HD/forms/support-ops", Some(&admin), None).await;
    assert_eq!((ops.status, ops.code()), (409, "triage_form"));
    assert_eq!(h.call("DELETE", "/projects/HD/forms/nope", Some(&admin), None).await.status, 404);
    assert_eq!(h.call("DELETE", "/projects/HD/forms/hardware-fault", Some(&admin), None).await.status, 204);
    let again = h.call("DELETE", "/projects/HD/forms/hardware-fault", Some(&admin), None).await;
    assert_eq!(again.status, 404, "a second delete finds nothing");
    let request = h.ok("GET", &format!("/requests/{key}"), Some(&ann), None).await.body;
    assert_eq!((request["form"].as_str(), request["fields"]["asset"].as_str()), (Some("hardware-fault"), Some("LT-1")));
    // Its pages still show the values, by key, to the agent and the customer.
    for (token, path) in [(&admin, format!("/desk/requests/{key}")), (&ann, format!("/portal/requests/{key}"))] {
        let page = h.page("GET", &path, &format!("hd_session={token}"), None).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        assert!(page.text.contains("LT-1"), "{path}: {}", page.text);
    }

    // A new form of the removed one's name gets another id: the old request's values stay its own.
    let again = h.ok("POST", "/projects/HD/forms", Some(&admin), Some(hardware_form())).await.body;
    assert_eq!(again["id"], "hardware-fault-2");
    let retried = h.ok("POST", "/projects/HD/forms", Some(&admin), Some(hardware_form())).await.body;
    assert_eq!(retried, again, "a retried add is the form it made");

    let tag = json!({"name": "Tag it", "actions": [{"type": "add_tag", "tag": "first"}]});
    let id = h.ok("POST", "/projects/HD/macros", Some(&admin), Some(tag.clone())).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let retried = h.ok("POST", "/projects/HD/macros", Some(&admin), Some(tag)).await.body;
    assert_eq!(retried["id"].as_str(), Some(id.as_str()), "a retried add makes no second macro");
    let changed = json!({"name": "Tag it twice", "actions": [{"type": "add_tag", "tag": "first"}, {"type": "add_tag", "tag": "second"}]});
    for who in [&ann, &agent, &ot_admin] {
        let tried = h.call("PUT", &format!("/projects/HD/macros/{id}"), Some(who), Some(changed.clone())).await;
        assert_eq!(tried.status, 403, "{}", tried.body);
        assert_eq!(h.call("DELETE", &format!("/projects/HD/macros/{id}"), Some(who), None).await.status, 403);
    }
    let saved = h.ok("PUT", &format!("/projects/HD/macros/{id}"), Some(&admin), Some(changed.clone())).await.body;
    assert_eq!((saved["id"].as_str(), saved["name"].as_str()), (Some(id.as_str()), Some("Tag it twice")));
    let nowhere = json!({"name": "Move", "actions": [{"type": "set_form", "form": "hardware-fault"}]});
    let refused = h.call("PUT", &format!("/projects/HD/macros/{id}"), Some(&admin), Some(nowhere)).await;
    assert_eq!((refused.status, refused.body["error"]["errors"][0]["field"].as_str()), (422, Some("actions.1")));
    assert!(refused.body.to_string().contains("no form"), "a removed form is no macro's target: {}", refused.body);
    // "New" is the console's word for a form not made yet: a form named so gets another id.
    let named_new = h.ok("POST", "/projects/HD/forms", Some(&admin), Some(json!({"name": "New"}))).await;
    assert_eq!(named_new.body["id"], "new-form");
    let blank = json!({"name": "", "actions": [{"type": "add_tag", "tag": ""}]});
    let refused = h.call("PUT", &format!("/projects/HD/macros/{id}"), Some(&admin), Some(blank)).await;
    let fields: Vec<_> =
        refused.body["error"]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((refused.status, fields), (422, vec!["name", "actions.1"]), "{}", refused.body);
    assert_eq!(h.call("PUT", "/projects/HD/macros/nope", Some(&admin), Some(changed)).await.status, 404);
    assert_eq!(h.call("DELETE", &format!("/projects/HD/macros/{id}"), Some(&admin), None).await.status, 204);
    let list = h.ok("GET", "/projects/HD/macros", Some(&agent), None).await.body;
    assert!(!list.to_string().contains("Tag it"), "{list}");
    assert_eq!(h.call("POST", &format!("/requests/{key}/macros/{id}"), Some(&agent), None).await.status, 404);
}
