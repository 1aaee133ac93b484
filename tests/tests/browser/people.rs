//! The console's people list and new-project form in a browser, at a laptop's width and a
//! phone's (390 px): the list pages both ways, an agent's role changes in their row and a
//! removal asks first, the form says what went wrong where.

use super::sign_in_in;
use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;
use serde_json::json;

#[tokio::test]
async fn an_admin_lists_people_and_creates_a_project_in_the_console() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.email("admin");
    let agent = h.email("agent-with-a-rather-long-address");
    h.ok("POST", "/projects/HD/agents", Some(&token), Some(json!({"email": agent, "role": "agent"}))).await;
    let mut suspended = String::new();
    for n in 0..27 {
        let body = json!({"email": h.email(&format!("customer-{n:02}")), "name": format!("Customer Number {n:02}")});
        let added = h.ok("POST", "/projects/HD/customers", Some(&token), Some(body)).await;
        if n == 3 {
            suspended = added.body["user_id"].as_str().unwrap().to_string();
        }
    }
    h.ok("POST", &format!("/users/{suspended}/suspend"), Some(&token), Some(json!({"reason": "abuse"}))).await;

    let b = Browser::start("people").await;
    sign_in_in(&b, &h, &admin).await;
    b.click_link("People").await;
    assert_eq!(b.path().await, "/desk/users");
    for (width, height, what) in [(1366, 900, "laptop"), (390, 844, "phone")] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&format!("{}/desk/users", h.base)).await;
        b.shot(&format!("users-{what}")).await;
        b.client.execute("document.querySelector('.pager').scrollIntoView()", vec![]).await.unwrap();
        b.shot(&format!("users-{what}-pager")).await;
    }
    let first = b.text().await;
    assert!(first.contains(&agent), "{first}");
    b.click_link("More customers →").await;
    let more = b.text().await;
    assert!(!more.contains(&agent) && more.contains("← Previous customers"), "{more}");
    // The suspended customer is on one of the two pages (customers come in id order).
    let suspended_shown = |t: &str| t.to_lowercase().contains("suspended");
    assert!(suspended_shown(&first) || suspended_shown(&more));
    b.shot("users-phone-more").await;
    b.click_link("← Previous customers").await;
    assert!(b.text().await.contains(&agent));

    // Roles: the agent made a project admin in their row, then removed after a confirmation.
    let agent_id = h.ok("GET", "/projects/HD/agents", Some(&token), None).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == agent.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    b.client.set_window_size(1366, 900).await.unwrap();
    b.goto(&format!("{}/desk/users", h.base)).await;
    b.choose(&format!("#role-{agent_id}"), "admin").await;
    b.click(&format!("#agent-{agent_id} button[type=submit]")).await;
    assert!(b.text().await.contains("The role is changed."));
    b.shot("users-role-changed").await;
    b.click(&format!("#agent-{agent_id} a.danger-link")).await;
    for (width, height, what) in [(1366, 900, "laptop"), (390, 844, "phone")] {
        b.client.set_window_size(width, height).await.unwrap();
        b.shot(&format!("users-remove-{what}")).await;
    }
    b.click("#confirm-removal button[type=submit]").await;
    let after = b.text().await;
    assert!(after.contains("The agent is removed from the project") && !after.contains(&agent), "{after}");

    // A new project: a taken key comes back at its field, then the project is made.
    for (width, height, what) in [(1366, 900, "laptop"), (390, 844, "phone")] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&format!("{}/desk", h.base)).await;
        b.click_link("New project").await;
        b.fill("#key", "HD").await;
        b.fill("#name", "Second help desk").await;
        b.click("form[action='/desk/projects/new'] button[type=submit]").await;
        assert!(b.text().await.contains("Another project already has the key HD: choose another."));
        b.shot(&format!("new-project-{what}-taken")).await;
    }
    b.fill("#key", "NW").await;
    b.click("form[action='/desk/projects/new'] button[type=submit]").await;
    assert_eq!(b.path().await, "/desk/projects/NW/settings?done=project-created");
    assert!(b.text().await.contains("The project is created."));
    b.shot("new-project-created").await;

    // An address that is no page: the console's 404, with a way back.
    b.goto(&format!("{}/desk/no-such-page", h.base)).await;
    assert!(b.text().await.contains("Back to the console"));
    b.shot("not-found").await;
    b.close().await;
}
