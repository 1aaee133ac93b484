//! The account page in a browser: the sign-in address, a confirmed and a waiting address,
//! adding one, and the emailed link's confirm page, at a desktop width and a phone's.

use super::sign_in_in;
use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;
use serde_json::json;

/// Fails when the page scrolls sideways (something wider than the window).
async fn assert_fits(b: &Browser, what: &str) {
    let wide = b.client.execute("return document.documentElement.scrollWidth > window.innerWidth", vec![]).await;
    assert_eq!(wide.unwrap(), json!(false), "{what}: the page scrolls sideways");
}

const WIDTHS: [(u32, u32, &str); 2] = [(1280, 900, "desktop"), (390, 844, "phone")];

#[tokio::test]
async fn the_account_page_lists_adds_and_confirms_addresses() {
    let h = Harness::start().await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    // A confirmed address, by the API.
    let work = h.email("ann.work-with-a-long-department-name");
    h.ok("POST", "/me/emails", Some(&ann), Some(json!({"email": work}))).await;
    let token = h.magic_token(&work).await.unwrap();
    h.ok("POST", "/me/emails/verify", Some(&ann), Some(json!({"token": token}))).await;

    let b = Browser::start("account").await;
    b.client.set_window_size(1280, 900).await.unwrap();
    sign_in_in(&b, &h, &ann_email).await;
    b.click_link("Account").await;
    assert_eq!(b.path().await, "/portal/account");
    let home = h.email("ann-home");
    b.fill("#add-email", &home).await;
    b.click("form[action='/portal/account/emails'] button[type=submit]:not(.link)").await;
    let text = b.text().await;
    assert!(text.contains(&format!("We emailed a confirmation link to {home}")), "{text}");
    assert!(text.contains("Waiting for confirmation") && text.contains("Confirmed"), "{text}");
    // With its notice (the page the form led to), then again on a phone.
    b.shot("list-desktop").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.refresh().await.unwrap();
    b.shot("list-phone").await;
    assert_fits(&b, "list-phone").await;

    // The emailed link: a question and a button.
    let link = format!("{}/portal/account/confirm?token={}", h.base, h.magic_token(&home).await.unwrap());
    for (width, height, what) in WIDTHS {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&link).await;
        b.shot(&format!("confirm-{what}")).await;
        assert_fits(&b, what).await;
    }
    assert!(b.text().await.contains(&format!("Add {home} to your account?")));
    b.click("form[action='/portal/account/confirm'] button").await;
    assert!(b.path().await.starts_with("/portal/account?done=confirmed"), "{}", b.path().await);
    let text = b.text().await;
    assert!(text.contains(&format!("{home} is now one of your addresses")), "{text}");
    assert!(!text.contains("Waiting for confirmation"), "{text}");
    b.shot("confirmed-phone").await;
    assert_fits(&b, "confirmed-phone").await;

    // A wrong address comes back with its error under the field.
    b.client.set_window_size(1280, 900).await.unwrap();
    b.fill("#add-email", "ann at home").await;
    b.click("form[action='/portal/account/emails'] button[type=submit]:not(.link)").await;
    assert!(b.text().await.contains("Type a whole email address"));
    b.shot("add-error").await;
    b.close().await;
}

/// After a reply that typed the address, the public page's form says who replies and asks
/// for nothing more.
#[tokio::test]
async fn a_public_page_remembers_who_replied() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let made = h.ok("POST", "/projects/HD/requests", Some(&ann), Some(json!({"summary": "Printer jam"}))).await;
    let key = made.body["key"].as_str().unwrap().to_string();
    let minted = h.ok("POST", &format!("/requests/{key}/public-links"), Some(&admin), None).await.body;
    let url = minted["items"][0]["url"].as_str().unwrap().to_string();

    let b = Browser::start("public-remembered").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&url).await;
    b.fill("#email", &ann_email).await;
    b.fill("#reply", "It jams on every second page.").await;
    b.click("form[action$='/reply'] button[type=submit]").await;
    let text = b.text().await;
    assert!(text.contains("Your reply was sent.") && text.contains(&format!("Replying as {ann_email}")), "{text}");
    b.fill("#reply", "And now it smells of toner.").await;
    b.client.execute("document.querySelector('#reply').scrollIntoView()", vec![]).await.unwrap();
    b.shot("remembered-phone").await;
    assert_fits(&b, "remembered-phone").await;
    b.click("form[action$='/reply'] button[type=submit]").await;
    assert!(b.text().await.contains("And now it smells of toner."));
    b.close().await;
}
