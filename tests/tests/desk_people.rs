//! The console's people list, roles, customers, organizations and blocklist, and the
//! new-project form over HTTP, as a browser without script uses them, through the local
//! gateway on DynamoDB Local; and that every `/desk` URL is a page.

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
    // A double submit is the project it made (not "the key is taken"); nothing changes.
    let again = submit(&h, &admin, "/desk/projects/new", &[("key", "NW"), ("name", "New desk")]).await;
    assert_eq!((again.status, again.header("location")), (303, made.header("location")));
    assert_eq!(h.ok("GET", "/projects/NW", Some(&admin), None).await.body, project);
    let other = submit(&h, &admin, "/desk/projects/new", &[("key", "NW"), ("name", "Another desk")]).await;
    assert_eq!(other.status, 409, "another project of that key is refused");
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

/// Roles: a project admin makes an agent an admin and back, by the API and on the people
/// list; an agent changes no role, their own included; a project is never left without an
/// admin, by any way out (409 `last_admin`); removing an agent asks first, then takes their
/// access away; another project's admin changes nobody here.
#[tokio::test]
async fn admins_change_roles_and_remove_agents_but_a_project_keeps_an_admin() {
    let h = Harness::start().await;
    // The app admin sets the project up, then leaves Lea its only project admin.
    let app_admin = h.admin_with_project("HD").await;
    let add = |key: &str, name: &str, role: &str| {
        let (h, path, body, app_admin) =
            (&h, format!("/projects/{key}/agents"), json!({"email": h.email(name), "role": role}), &app_admin);
        async move { h.ok("POST", &path, Some(app_admin), Some(body)).await.body["user_id"].as_str().unwrap().to_string() }
    };
    let (lea_id, kim_id) = (add("HD", "lea", "admin").await, add("HD", "kim", "agent").await);
    let (lea, kim) = (h.sign_in(&h.email("lea")).await, h.sign_in(&h.email("kim")).await);
    let team = h.ok("GET", "/projects/HD/agents", Some(&lea), None).await.body;
    let app_admin_id =
        team["items"].as_array().unwrap().iter().find(|a| a["email"] == h.email("admin").as_str()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
    h.ok("DELETE", &format!("/projects/HD/agents/{app_admin_id}"), Some(&lea), None).await;
    let put = |who: &str, id: &str, body: serde_json::Value| {
        let (h, path, who) = (&h, format!("/projects/HD/agents/{id}"), who.to_string());
        async move { h.call("PUT", &path, Some(&who), Some(body)).await }
    };
    // An agent sets their own availability, not their role.
    assert_eq!(put(&kim, &kim_id, json!({"available": false})).await.status, 200);
    assert_eq!(put(&kim, &kim_id, json!({"role": "admin"})).await.status, 403);
    // The only admin can neither step down nor leave, by any route.
    for (n, refused) in [
        put(&lea, &lea_id, json!({"role": "agent"})).await,
        h.call("DELETE", &format!("/projects/HD/agents/{lea_id}"), Some(&lea), None).await,
        h.call("POST", "/projects/HD/agents", Some(&lea), Some(json!({"email": h.email("lea"), "role": "agent"})))
            .await,
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!((refused.status, refused.code()), (409, "last_admin"), "way out {n}: {:?}", refused.body);
    }
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&lea), None).await.status, 200, "still the admin");
    // Kim made an admin: she now reads the people list; Lea steps down.
    let promoted = put(&lea, &kim_id, json!({"role": "admin"})).await;
    assert_eq!((promoted.status, promoted.body["role"].as_str()), (200, Some("admin")), "{:?}", promoted.body);
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&kim), None).await.status, 200);
    assert_eq!(put(&lea, &lea_id, json!({"role": "agent"})).await.status, 200);
    assert_eq!(put(&lea, &kim_id, json!({"role": "agent"})).await.status, 403, "an agent now");
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&lea), None).await.status, 403);

    // On the people list: each agent's role in their row; the last admin's way out refused there.
    let list = h.page("GET", "/desk/users?project=HD", &session(&kim), None).await;
    assert!(list.text.contains(&format!(r#"<select id="role-{kim_id}" name="role">"#)), "{}", list.text);
    let step_down = [("id", kim_id.as_str()), ("role", "agent")];
    let refused = submit(&h, &kim, "/desk/projects/HD/agent-role", &step_down).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(refused.text.contains("only admin") && refused.text.contains(r#"role="alert""#), "{}", refused.text);
    let back_up = [("id", lea_id.as_str()), ("role", "admin")];
    let changed = submit(&h, &kim, "/desk/projects/HD/agent-role", &back_up).await;
    assert_eq!((changed.status, changed.header("location")), (303, "/desk/users?project=HD&done=agent-role"));
    let shown = h.page("GET", changed.header("location"), &session(&kim), None).await;
    assert!(shown.text.contains("The role is changed."), "{}", shown.text);
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&lea), None).await.status, 200, "admin again");
    // Kim steps down herself: to the queue, the list being no longer hers.
    let down = submit(&h, &kim, "/desk/projects/HD/agent-role", &step_down).await;
    assert_eq!((down.status, down.header("location")), (303, "/desk/projects/HD"));
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&kim), None).await.status, 403);

    // Removing asks first (nothing changes on the way), then takes Kim's access away.
    let ask = h.page("GET", &format!("/desk/users?project=HD&remove={kim_id}"), &session(&lea), None).await;
    assert!(ask.text.contains("id=\"confirm-removal\"") && ask.text.contains("Remove from HD"), "{}", ask.text);
    assert_eq!(h.call("GET", "/projects/HD/requests", Some(&kim), None).await.status, 200);
    let removed = submit(&h, &lea, "/desk/projects/HD/agent-remove", &[("id", kim_id.as_str())]).await;
    assert_eq!((removed.status, removed.header("location")), (303, "/desk/users?project=HD&done=agent-removed"));
    assert_eq!(h.call("GET", "/projects/HD/requests", Some(&kim), None).await.status, 403);
    // Another project's admin changes nobody here, by the API or the page.
    let created = h.call("POST", "/projects", Some(&app_admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    assert_eq!(created.status, 201);
    add("OT", "otto", "admin").await;
    let otto = h.sign_in(&h.email("otto")).await;
    assert_eq!(put(&otto, &lea_id, json!({"role": "agent"})).await.status, 403);
    let page = submit(&h, &otto, "/desk/projects/HD/agent-role", &[("id", lea_id.as_str()), ("role", "agent")]).await;
    assert_eq!(page.status, 403, "{}", page.text);
    assert_eq!(h.page("GET", "/desk/users?project=HD", &session(&lea), None).await.status, 200, "still an admin");
}

#[tokio::test]
async fn customers_organizations_and_the_blocklist_in_the_console() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("agent"), "role": "agent"}))).await;
    let agent = h.sign_in(&h.email("agent")).await;
    // A project admin who is not an app admin meets the managed-domain rule, explained.
    h.ok("PUT", "/admin/managed-domains", Some(&admin), Some(json!({"domains": ["uni.example"]}))).await;
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": h.email("lead"), "role": "admin"}))).await;
    let lead = h.sign_in(&h.email("lead")).await;
    let people = h.page("GET", "/desk/projects/HD/people", &session(&lead), None).await;
    assert!(people.text.contains("Some email domains are managed"), "{}", people.text);
    assert!(!people.text.contains("uni.example"), "only app admins read the list");
    let as_app_admin = h.page("GET", "/desk/projects/HD/people", &session(&admin), None).await;
    assert!(as_app_admin.text.contains("Addresses at uni.example are managed"));
    let managed = submit(&h, &lead, "/desk/projects/HD/customer", &[("email", "prof@uni.example")]).await;
    assert!(managed.status >= 400 && managed.text.contains(r#"id="customer-error""#), "{}", managed.text);
    let added = submit(&h, &lead, "/desk/projects/HD/customer", &[("email", &h.email("new"))]).await;
    assert_eq!(added.status, 303, "{}", added.text);
    // An organization and its members.
    let made = submit(&h, &agent, "/desk/projects/HD/organization", &[("name", "Acme")]).await;
    let org_page = made.header("location").split('?').next().unwrap().to_string();
    assert!(org_page.starts_with("/desk/organizations/"), "{}", made.text);
    let org_id = org_page.rsplit('/').next().unwrap();
    let member = h.email("member");
    let path = format!("{org_page}/add-member");
    assert_eq!(submit(&h, &agent, &path, &[("email", &member)]).await.status, 303);
    assert!(h.page("GET", &org_page, &session(&agent), None).await.text.contains(&member));
    let listed = h.ok("GET", &format!("/organizations/{org_id}/members"), Some(&agent), None).await;
    assert_eq!(listed.body["items"][0]["email"], member);
    // An externally managed one is read-only and names who to ask.
    let external = json!({"name": "CRM Co", "external": {"source": "Salesforce", "contact": "crm@corp.example"}});
    let crm = h.ok("POST", "/projects/HD/organizations", Some(&admin), Some(external)).await;
    let crm_page = format!("/desk/organizations/{}", crm.body["id"].as_str().unwrap());
    let shown = h.page("GET", &crm_page, &session(&agent), None).await;
    assert!(shown.text.contains("Ask crm@corp.example") && !shown.text.contains("add-member"), "{}", shown.text);
    let refused = submit(&h, &agent, &format!("{crm_page}/add-member"), &[("email", &member)]).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    // The blocklist: a project admin manages their project's rules, after a confirmation.
    assert_eq!(h.page("GET", "/desk/blocklist?project=HD", &session(&agent), None).await.status, 403);
    assert_eq!(h.page("GET", "/desk/blocklist", &session(&lead), None).await.status, 403, "app-wide is not theirs");
    let rule = "reject:*@spam.example";
    let add = submit(&h, &lead, "/desk/blocklist/add", &[("project", "HD"), ("rule", rule)]).await;
    assert_eq!((add.status, add.header("location")), (303, "/desk/blocklist?project=HD&done=rule-add"));
    let list = h.page("GET", "/desk/blocklist?project=HD", &session(&lead), None).await;
    assert!(list.text.contains(rule), "{}", list.text);
    let bad = submit(&h, &lead, "/desk/blocklist/add", &[("project", "HD"), ("rule", "block everyone")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains(r#"id="rule-error""#) && bad.text.contains("block everyone"));
    let confirm =
        h.page("GET", "/desk/blocklist/remove?project=HD&rule=reject%3A*%40spam.example", &session(&lead), None).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    assert!(confirm.text.contains("addresses at spam.example can sign in"), "{}", confirm.text);
    let lead_cookie = session(&lead);
    let unknown = h.page("GET", "/desk/blocklist/remove?project=HD&rule=reject%3Ax%40y.example", &lead_cookie, None);
    assert_eq!(unknown.await.status, 404);
    let removed = submit(&h, &lead, "/desk/blocklist/remove", &[("project", "HD"), ("rule", rule)]).await;
    assert_eq!(removed.status, 303);
    let rules = h.ok("GET", "/blocklist?project=HD", Some(&lead), None).await;
    assert_eq!(rules.body["items"], json!([]));
}
