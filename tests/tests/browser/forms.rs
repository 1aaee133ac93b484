//! The new-request form as a customer meets it: two mistakes, both said at once (next to
//! their fields and listed on top, the list focused), on a laptop and a phone; then another
//! form's tab, which keeps what was typed; Enter in the summary sends the request.

use super::sign_in_in;
use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;
use serde_json::json;

async fn value(b: &Browser, css: &str) -> String {
    let field = b.client.find(fantoccini::Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    field.prop("value").await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn a_form_with_two_mistakes_says_both_and_its_tabs_keep_the_text() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let form = json!({"name": "Incident", "public": true, "fields": [
        {"key": "what", "label": "What happened", "type": "textarea", "required": true},
        {"key": "severity", "label": "How bad is it?", "type": "select", "options": ["low", "high"], "required": true},
        {"key": "on_site", "label": "On site", "type": "checkbox"}]});
    h.ok("POST", "/projects/HD/forms", Some(&admin), Some(form)).await;
    let ann = h.email("ann");
    h.sign_in(&ann).await;

    let b = Browser::start("forms").await;
    sign_in_in(&b, &h, &ann).await;
    b.goto(&format!("{}/portal/new?project=HD&form=incident", h.base)).await;
    b.fill("#summary", "Screen flickers").await;
    b.fill("#description", "Since this morning's update.").await;
    b.client.find(fantoccini::Locator::Css("#field-on_site")).await.unwrap().click().await.unwrap();
    b.click("form[action='/portal/requests'] .actions button").await;

    let text = b.text().await;
    assert!(text.contains("2 things to fix"), "{text}");
    for (id, message) in
        [("field-what", "Fill in \"What happened\""), ("field-severity", "Choose an answer for \"How bad is it?\"")]
    {
        let error = b.client.find(fantoccini::Locator::Css(&format!("#{id}-error"))).await.unwrap();
        assert_eq!(error.text().await.unwrap(), message);
        let field = b.client.find(fantoccini::Locator::Css(&format!("#{id}"))).await.unwrap();
        assert_eq!(field.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    }
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(focused.attr("class").await.unwrap().as_deref(), Some("alert problems"), "the list has the focus");
    assert_eq!(value(&b, "#summary").await, "Screen flickers");
    assert_eq!(value(&b, "#description").await, "Since this morning's update.");
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.shot("two-errors").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("two-errors-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();

    // Another form's tab: what was typed comes along.
    b.click("nav.tabs button[value='default']").await;
    assert_eq!(value(&b, "#summary").await, "Screen flickers");
    assert_eq!(value(&b, "#description").await, "Since this morning's update.");
    assert!(!b.text().await.contains("things to fix"));
    b.shot("other-tab").await;

    // Enter in the summary sends the request (not a tab).
    b.toggle("#summary").await;
    b.press_enter().await;
    assert!(b.path().await.starts_with("/portal/requests/HD-"), "{}", b.path().await);
    assert!(b.text().await.contains("was received"));
    let key = b.path().await.trim_start_matches("/portal/requests/").split('?').next().unwrap().to_string();
    b.close().await;

    // The console's fields of the same form: both problems at once there too.
    let admin_email = h.call("GET", "/me", Some(&admin), None).await.body["email"].as_str().unwrap().to_string();
    let moved = json!({"form": "incident", "fields": {"what": "Flicker", "severity": "low"}});
    h.ok("PUT", &format!("/requests/{key}/form"), Some(&admin), Some(moved)).await;
    let b = Browser::start("forms-console").await;
    sign_in_in(&b, &h, &admin_email).await;
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    b.fill("#field-what", " ").await;
    b.choose("#field-severity", "").await;
    b.click("form[action$='/fields'] .actions button").await;
    assert!(b.text().await.contains("2 things to fix"));
    b.client.execute("document.getElementById('form').scrollIntoView()", vec![]).await.unwrap();
    b.shot("console-fields").await;
    b.close().await;
}
