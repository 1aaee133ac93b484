//! The form and macro editors as an admin meets them, without script: fields and actions are
//! added, moved and removed with buttons, on a laptop and a phone, then saved in that order.

use super::sign_in_in;
use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;

#[tokio::test]
async fn an_admin_builds_a_form_and_a_macro_with_the_editors() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.email("admin");
    let b = Browser::start("editors").await;
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/projects/HD/settings", h.base)).await;
    b.click_link("New form").await;
    b.fill("#name", "Hardware fault").await;
    b.choose("#new-type", "select").await;
    b.click("button[value=add]").await;
    assert!(b.text().await.contains("Not saved yet"));
    b.fill("[id='field-1.label']", "How bad is it?").await;
    b.fill("[id='field-1.options']", "Annoying\nBlocking").await;
    b.choose("#new-type", "text").await;
    b.click("button[value=add]").await;
    b.fill("[id='field-2.label']", "Asset tag").await;
    b.toggle("input[name='field.1.required']").await;
    b.click("button[value='up.1']").await;
    let text = b.text().await;
    let (asset, how_bad) = (text.find("Field 1: Asset tag"), text.find("Field 2: How bad is it?"));
    assert!(asset.is_some() && how_bad.is_some(), "{text}");
    let to_rows = "document.querySelector('fieldset.field-row').scrollIntoView()";
    b.client.execute(to_rows, vec![]).await.unwrap();
    b.shot("form-editor").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.execute(to_rows, vec![]).await.unwrap();
    b.shot("form-editor-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.click(".actions button[value=save]").await;
    assert_eq!(b.path().await, "/desk/projects/HD/forms/hardware-fault?done=form-saved");
    assert!(b.text().await.contains("The form is saved."));
    let forms = h.ok("GET", "/projects/HD/forms", Some(&token), None).await.body;
    let made = forms["items"].as_array().unwrap().iter().find(|f| f["id"] == "hardware-fault").unwrap().clone();
    let keys: Vec<_> = made["fields"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["asset_tag", "how_bad_is_it"], "{made}");
    assert_eq!(made["fields"][0]["required"], true, "{made}");

    b.goto(&format!("{}/desk/projects/HD/settings", h.base)).await;
    b.click_link("New macro").await;
    b.fill("#name", "Solved: hardware replaced").await;
    for (kind, value) in
        [("add_public_reply", Some("We replaced it.")), ("set_status", None), ("add_tag", Some("hardware"))]
    {
        b.choose("#new-type", kind).await;
        b.click("button[value=add]").await;
        if let Some(value) = value {
            let n = b.client.find_all(fantoccini::Locator::Css("fieldset.field-row")).await.unwrap().len();
            b.fill(&format!("[id='action-{n}.value']"), value).await;
        }
    }
    // The tag before the status: a step moved up.
    b.click("button[value='up.2']").await;
    assert!(b.text().await.contains("Step 2: Add a tag"), "{}", b.text().await);
    b.client.execute(to_rows, vec![]).await.unwrap();
    b.shot("macro-editor").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.execute(to_rows, vec![]).await.unwrap();
    b.shot("macro-editor-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.click(".actions button[value=save]").await;
    assert!(b.text().await.contains("The macro is saved."), "{}", b.text().await);
    let macros = h.ok("GET", "/projects/HD/macros", Some(&token), None).await.body;
    let ours = macros["items"].as_array().unwrap().iter().find(|m| m["name"] == "Solved: hardware replaced").unwrap();
    let kinds: Vec<_> = ours["actions"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["add_public_reply", "add_tag", "set_status"], "{ours}");
    assert_eq!(ours["actions"][2]["status"], "closed");
    b.close().await;
}
