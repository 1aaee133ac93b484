//! The console's people list and new-project form over HTTP, as a browser without script
//! uses them, through the local gateway on DynamoDB Local; and that every `/desk` URL is a
//! page.

use helpdesk_tests::{Harness, PageAnswer};
use serde_json::json;

fn session(token: &str) -> String {
    format!("hd_session={token}")
}

async fn submit(h: &Harness, token: &str, path: &str, fields: &[(&str, &str)]) -> PageAnswer {
    let csrf = h.page("GET", "/desk", &session(token), None).await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    h.page("POST", path, &session(token), Some(&all)).await
}

/// The value of `href`s in `html` that start with `prefix`, in order.
fn links(html: &str, prefix: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&").replace("&#38;", "&"))
        .filter(|h| h.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn a_project_admin_pages_through_its_agents_and_customers() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("agent"), "role": "agent"}))).await;
    // 30 customers: more than a page (25).
    let mut ids = vec![];
    for n in 0..30 {
        let body = json!({"email": h.email(&format!("c{n:02}")), "name": format!("Customer {n:02}")});
        ids.push(h.ok("POST", "/projects/HD/customers", Some(&admin), Some(body)).await.body["user_id"].clone());
    }
    let suspended = ids[0].as_str().unwrap().to_string();
    let reason = json!({"reason": "abuse"});
    h.ok("POST", &format!("/users/{suspended}/suspend"), Some(&admin), Some(reason)).await;
    // The console's home leads there.
    let home = h.page("GET", "/desk", &session(&admin), None).await;
    assert!(home.text.contains(r#"href="/desk/users">People"#), "{}", home.text);
    // Without a project: the first one the reader administers.
    let first = h.page("GET", "/desk/users", &session(&admin), None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("content-type"), "text/html; charset=utf-8");
    let text = &first.text;
    assert!(text.contains("<h2>Agents</h2>") && text.contains(&h.email("agent")) && text.contains("Project admin"));
    let rows = |page: &str| page.matches("<td data-label=\"Role\">Customer</td>").count();
    assert_eq!(rows(text), 25, "{text}");
    assert!(text.contains(&format!(r#"<a href="/desk/users/{suspended}">c00-"#)), "rows link to the person");
    assert!(text.contains(">suspended</span>") && text.contains(">active</span>"));
    let older = links(text, "/desk/users?project=HD&cursor=");
    assert_eq!(older.len(), 1, "one way on: {older:?}");
    assert!(links(text, "/desk/users?project=HD&back").is_empty(), "no way back from the first page");
    // The second page: the last 5, no agents, a way back to the first and none further.
    let second = h.page("GET", &older[0], &session(&admin), None).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(rows(&second.text), 5, "{}", second.text);
    assert!(!second.text.contains("<h2>Agents</h2>"));
    assert!(links(&second.text, "/desk/users?project=HD&cursor=").is_empty(), "no page after the last");
    let back = links(&second.text, "/desk/users?project=HD");
    assert_eq!(back, vec!["/desk/users?project=HD".to_string()], "back to the first page");
    // Every customer exactly once over the two pages.
    let mut seen: Vec<String> = [text.as_str(), &second.text].iter().flat_map(|p| links(p, "/desk/users/")).collect();
    let (all, before) = (seen.len(), {
        seen.sort();
        seen.dedup();
        seen.len()
    });
    assert_eq!(all, before, "nobody twice");
    for id in &ids {
        assert!(seen.contains(&format!("/desk/users/{}", id.as_str().unwrap())), "{id} listed");
    }
    // The reader is an app admin: the agents' pages are theirs to open too (30 + 2).
    assert_eq!(seen.len(), 32);
    // A cursor that is no user id lists nothing past the customers (no FORMS, no META).
    let junk = h.page("GET", "/desk/users?project=HD&cursor=zzzz", &session(&admin), None).await;
    assert_eq!((junk.status, rows(&junk.text)), (200, 0), "{}", junk.text);
}

#[tokio::test]
async fn people_lists_stay_with_their_admins() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("agent"), "role": "agent"}))).await;
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": h.email("ot"), "role": "admin"}))).await;
    let secret = h.email("hd-customer");
    h.ok("POST", "/projects/HD/customers", Some(&admin), Some(json!({"email": secret}))).await;
    let (agent, ot, cy) =
        (h.sign_in(&h.email("agent")).await, h.sign_in(&h.email("ot")).await, h.sign_in(&h.email("cy")).await);
    // A customer: the 403 page, with or without a project.
    for path in ["/desk/users", "/desk/users?project=HD"] {
        let page = h.page("GET", path, &session(&cy), None).await;
        assert_eq!(page.status, 403, "{path}: {}", page.text);
        assert!(page.text.contains("Not allowed") && !page.text.contains(&secret), "{path}");
    }
    // An agent who administers nothing: 403, and no People link at home.
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&agent), None).await.status, 403);
    assert_eq!(h.page("GET", "/desk/users", &session(&agent), None).await.status, 403);
    assert!(!h.page("GET", "/desk", &session(&agent), None).await.text.contains("/desk/users"));
    // Another project's admin: their own list, never HD's.
    let own = h.page("GET", "/desk/users", &session(&ot), None).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert!(own.text.contains(&h.email("ot")) && !own.text.contains(&secret), "{}", own.text);
    let other = h.page("GET", "/desk/users?project=HD", &session(&ot), None).await;
    assert_eq!(other.status, 403, "{}", other.text);
    assert!(!other.text.contains(&secret));
    // An unknown project: 404.
    assert_eq!(h.page("GET", "/desk/users?project=NOPE", &session(&admin), None).await.status, 404);
    // Signed out: the sign-in page, which comes back here.
    let signed_out = h.page("GET", "/desk/users", "", None).await;
    assert_eq!(signed_out.status, 401);
}

#[tokio::test]
async fn an_app_admin_creates_a_project_from_the_console() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("pa"), "role": "admin"}))).await;
    let pa = h.sign_in(&h.email("pa")).await;
    let cy = h.sign_in(&h.email("cy")).await;
    let home = h.page("GET", "/desk", &session(&admin), None).await;
    assert!(home.text.contains(r#"href="/desk/projects/new">New project"#), "{}", home.text);
    let form = h.page("GET", "/desk/projects/new", &session(&admin), None).await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains(r#"action="/desk/projects/new""#));
    assert!(!form.text.contains("/desk/projects/new/search"), "no search of a project called new");
    // A bad key and a taken key: the form again, with what was typed and the error at the key.
    let bad = submit(&h, &admin, "/desk/projects/new", &[("key", "h"), ("name", "Lowercase")]).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(r#"id="key-error""#) && bad.text.contains(r#"value="Lowercase""#), "{}", bad.text);
    let taken = submit(&h, &admin, "/desk/projects/new", &[("key", "HD"), ("name", "Again")]).await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    assert!(
        taken.text.contains("Another project already has the key HD") && taken.text.contains(r#"aria-invalid="true""#)
    );
    let unnamed = submit(&h, &admin, "/desk/projects/new", &[("key", "NW"), ("name", " ")]).await;
    assert_eq!(unnamed.status, 422);
    assert!(unnamed.text.contains(r#"id="name-error""#), "{}", unnamed.text);
    // Created: its settings page with a notice; the API sees the same project.
    let made = submit(&h, &admin, "/desk/projects/new", &[("key", "NW"), ("name", "New desk")]).await;
    assert_eq!((made.status, made.header("location")), (303, "/desk/projects/NW/settings?done=project-created"));
    let settings = h.page("GET", made.header("location"), &session(&admin), None).await;
    assert!(settings.text.contains("The project is created."), "{}", settings.text);
    let project = h.ok("GET", "/projects/NW", Some(&admin), None).await.body;
    assert_eq!((project["name"].as_str(), project["key"].as_str()), (Some("New desk"), Some("NW")));
    // A double submit: the same key is taken now, nothing else changes.
    let again = submit(&h, &admin, "/desk/projects/new", &[("key", "NW"), ("name", "New desk")]).await;
    assert_eq!(again.status, 409);
    // A project admin and a customer: no link, and 403 on the form and its post.
    assert!(!h.page("GET", "/desk", &session(&pa), None).await.text.contains("/desk/projects/new"));
    for token in [&pa, &cy] {
        assert_eq!(h.page("GET", "/desk/projects/new", &session(token), None).await.status, 403);
        let csrf = h.page("GET", "/portal", &session(token), None).await.csrf();
        let fields = [("csrf", csrf.as_str()), ("key", "PX"), ("name", "Mine")];
        let posted = h.page("POST", "/desk/projects/new", &session(token), Some(&fields)).await;
        assert_eq!(posted.status, 403, "{}", posted.text);
    }
    assert_eq!(h.call("GET", "/projects/PX", Some(&admin), None).await.status, 404);
}

#[tokio::test]
async fn every_console_url_is_a_page() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Asked for without `Accept: text/html` (curl, a link checker): still the console's page.
    for (path, status) in
        [("/desk/nothing-here", 404), ("/desk/users/x/y/z", 404), ("/desk/requests/HD-1/close", 405), ("/desk/", 200)]
    {
        let res = client.get(format!("{}{path}", h.base)).header("cookie", session(&admin)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        let text = res.text().await.unwrap();
        if status != 200 {
            assert!(text.contains(r#"href="/desk">Back to the console"#), "{path}: {text}");
        }
    }
    // An API path stays JSON.
    let api = client.get(format!("{}/nothing-here", h.base)).send().await.unwrap();
    assert!(api.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
}
