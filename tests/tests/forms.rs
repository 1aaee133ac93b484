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
        {"type": "set_form", "form": "no-such-form"}]});
    let made = h.ok("POST", "/projects/HD/macros", Some(&admin), Some(broken)).await;
    let id = made.body["id"].as_str().unwrap().to_string();
    let failed = h.call("POST", &format!("/requests/{key}/macros/{id}"), Some(&agent), None).await;
    assert_eq!((failed.status, failed.code()), (422, "macro_action_failed"));
    assert!(failed.body["error"]["message"].as_str().unwrap().starts_with("action 3 (set_form)"), "{failed:?}");
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
