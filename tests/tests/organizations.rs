//! Organizations and who sees what (seeds 002 and 004), through HTTP on DynamoDB Local.

use helpdesk_tests::{Answer, Harness};
use serde_json::json;

fn keys(answer: &Answer) -> Vec<String> {
    answer.body["items"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

async fn raise(h: &Harness, token: &str, summary: &str) -> Answer {
    let r = h.call("POST", "/projects/HD/requests", Some(token), Some(json!({"summary": summary}))).await;
    assert_eq!(r.status, 201, "{r:?}");
    r
}

async fn new_org(h: &Harness, token: &str, name: &str) -> String {
    let org = h.call("POST", "/projects/HD/organizations", Some(token), Some(json!({"name": name}))).await;
    assert_eq!(org.status, 201, "{org:?}");
    org.body["id"].as_str().unwrap().to_string()
}

async fn set_sharing(h: &Harness, admin: &str, on: bool) {
    let patched = h.call("PATCH", "/projects/HD", Some(admin), Some(json!({"org_sharing": on}))).await;
    assert_eq!(patched.status, 200);
}

async fn set_member(h: &Harness, agent: &str, org: &str, email: &str, member: bool) {
    let answer = if member {
        h.call("POST", &format!("/organizations/{org}/members"), Some(agent), Some(json!({"email": email}))).await
    } else {
        h.call("DELETE", &format!("/organizations/{org}/members/{email}"), Some(agent), None).await
    };
    assert!(answer.status == 200 || answer.status == 204, "{answer:?}");
}

/// What the customer can do with a request: (GET status, in their "all" list, reply status).
async fn what_cy_sees(h: &Harness, cy: &str, key: &str) -> (u16, bool, u16) {
    let get = h.call("GET", &format!("/requests/{key}"), Some(cy), None).await.status;
    let mut listed = false;
    let mut path = "/requests?view=all&limit=100".to_string();
    for page in 0.. {
        assert!(page < 100, "paging never ends");
        let page = h.call("GET", &path, Some(cy), None).await;
        listed |= keys(&page).contains(&key.to_string());
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/requests?view=all&limit=100&cursor={c}"),
            None => break,
        }
    }
    let reply =
        h.call("POST", &format!("/requests/{key}/comments"), Some(cy), Some(json!({"body": "hello"}))).await.status;
    (get, listed, reply)
}

#[tokio::test]
async fn every_combination_of_the_four_conditions_agrees_with_the_rule() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let cy_email = h.email("cy");
    let cy = h.sign_in(&cy_email).await;
    let org = new_org(&h, &admin, "Acme").await;
    for combo in 0..16u8 {
        let (sharing, org_set, member, participant) = (combo & 1 != 0, combo & 2 != 0, combo & 4 != 0, combo & 8 != 0);
        set_sharing(&h, &admin, sharing).await;
        set_member(&h, &admin, &org, &cy_email, member).await;
        let key = raise(&h, &ann, &format!("combo {combo}")).await.body["key"].as_str().unwrap().to_string();
        if org_set {
            let set = h
                .call(
                    "PUT",
                    &format!("/requests/{key}/organization"),
                    Some(&admin),
                    Some(json!({"organization_id": org})),
                )
                .await;
            assert_eq!(set.status, 200, "{set:?}");
        }
        if participant {
            let shared = h
                .call("POST", &format!("/requests/{key}/participants"), Some(&ann), Some(json!({"emails": [cy_email]})))
                .await;
            assert_eq!(shared.status, 200);
        }
        let visible = participant || (sharing && org_set && member);
        let expected = if visible { (200, true, 201) } else { (404, false, 404) };
        assert_eq!(
            what_cy_sees(&h, &cy, &key).await,
            expected,
            "sharing={sharing} org_set={org_set} member={member} participant={participant}"
        );
        let checklist =
            h.call("GET", &format!("/requests/{key}/visibility?email={cy_email}"), Some(&admin), None).await;
        assert_eq!(checklist.body["verdict"], if visible { "visible" } else { "hidden" }, "{checklist:?}");
    }
}

#[tokio::test]
async fn hiding_takes_effect_at_once_and_undoing_shows_again() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let cy_email = h.email("cy");
    let cy = h.sign_in(&cy_email).await;
    let org = new_org(&h, &admin, "Acme").await;
    set_sharing(&h, &admin, true).await;
    set_member(&h, &admin, &org, &ann_email, true).await;
    set_member(&h, &admin, &org, &cy_email, true).await;
    // Ann is a member of exactly one organization: her request gets it automatically.
    let raised = raise(&h, &ann, "auto").await;
    assert_eq!(raised.body["organization"], org.as_str());
    let key = raised.body["key"].as_str().unwrap().to_string();
    let org_view = format!("/requests?view=organization&organization={org}");
    assert_eq!(keys(&h.call("GET", &org_view, Some(&cy), None).await), vec![key.clone()]);
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&cy), None).await.status, 200);

    let removed = h.call("DELETE", &format!("/requests/{key}/organization"), Some(&admin), None).await;
    assert_eq!((removed.status, &removed.body["organization"]), (200, &serde_json::Value::Null));
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&cy), None).await.status, 404);
    assert!(keys(&h.call("GET", &org_view, Some(&cy), None).await).is_empty());
    h.ok("PUT", &format!("/requests/{key}/organization"), Some(&admin), Some(json!({"organization_id": org}))).await;
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&cy), None).await.status, 200);

    set_sharing(&h, &admin, false).await;
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&cy), None).await.status, 404);
    assert!(keys(&h.call("GET", "/requests?view=all", Some(&cy), None).await).is_empty());
    set_sharing(&h, &admin, true).await;
    set_member(&h, &admin, &org, &cy_email, false).await;
    assert_eq!(h.call("GET", &format!("/requests/{key}"), Some(&cy), None).await.status, 404);
    set_member(&h, &admin, &org, &cy_email, true).await;
    assert_eq!(keys(&h.call("GET", "/requests?view=all", Some(&cy), None).await), vec![key.clone()]);
    // Org members who merely see it may reply, but not close or share.
    assert_eq!(h.call("POST", &format!("/requests/{key}/close"), Some(&cy), None).await.status, 403);
    let history: Vec<_> = h.call("GET", &format!("/requests/{key}"), Some(&admin), None).await.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(history, ["organization_removed", "organization_set"]);

    // In two organizations: no automatic choice; agents only may set it, and only to this project's.
    let other = new_org(&h, &admin, "Other").await;
    set_member(&h, &admin, &other, &ann_email, true).await;
    assert_eq!(raise(&h, &ann, "ambiguous").await.body["organization"], serde_json::Value::Null);
    let by_customer = h
        .call("PUT", &format!("/requests/{key}/organization"), Some(&ann), Some(json!({"organization_id": other})))
        .await;
    assert_eq!(by_customer.status, 403);
    let bogus = h
        .call("PUT", &format!("/requests/{key}/organization"), Some(&admin), Some(json!({"organization_id": "nope"})))
        .await;
    assert_eq!((bogus.status, bogus.code()), (422, "invalid_organization"));
}

#[tokio::test]
async fn the_visibility_checklist_answers_item_by_item() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann = h.sign_in(&h.email("ann")).await;
    let cy_email = h.email("cy");
    let cy = h.sign_in(&cy_email).await;
    let org = new_org(&h, &admin, "Acme").await;
    let key = raise(&h, &ann, "check me").await.body["key"].as_str().unwrap().to_string();
    h.ok("PUT", &format!("/requests/{key}/organization"), Some(&admin), Some(json!({"organization_id": org}))).await;
    let path = format!("/requests/{key}/visibility?email={cy_email}");
    let hidden = h.call("GET", &path, Some(&admin), None).await;
    assert_eq!(hidden.status, 200, "{hidden:?}");
    let oks: Vec<_> =
        hidden.body["checks"].as_array().unwrap().iter().map(|c| (c["check"].clone(), c["ok"].clone())).collect();
    assert_eq!(
        oks,
        [
            (json!("organization_set"), json!(true)),
            (json!("sharing_on"), json!(false)),
            (json!("customer_in_organization"), json!(false)),
            (json!("right_filter"), json!(true)),
        ]
    );
    assert_eq!(hidden.body["verdict"], "hidden");
    set_sharing(&h, &admin, true).await;
    set_member(&h, &admin, &org, &cy_email, true).await;
    let visible = h.call("GET", &path, Some(&admin), None).await;
    assert_eq!(visible.body["verdict"], "visible");
    assert_eq!(visible.body["reason"], "shared through the customer's organization");
    assert_eq!(visible.body["checks"][3]["filter"], format!("/requests?view=organization&organization={org}"));
    assert_eq!(h.call("GET", &path, Some(&cy), None).await.status, 403);
    assert_eq!(h.call("GET", &format!("/requests/{key}/visibility"), Some(&admin), None).await.code(), "missing_email");
    let nobody =
        h.call("GET", &format!("/requests/{key}/visibility?email={}", h.email("ghost")), Some(&admin), None).await;
    assert_eq!(
        (nobody.body["verdict"].as_str(), nobody.body["reason"].as_str()),
        (Some("hidden"), Some("no account has this address"))
    );
}

#[tokio::test]
async fn externally_managed_organizations_refuse_manual_changes_and_take_the_sync() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let agent_email = h.email("agent");
    h.ok("POST", "/projects/HD/agents", Some(&admin), Some(json!({"email": agent_email, "role": "agent"}))).await;
    let agent = h.sign_in(&agent_email).await;
    let external = json!({"name": "US Gov", "external": {"source": "Salesforce", "contact": "am@example.com"}});
    assert_eq!(h.call("POST", "/projects/HD/organizations", Some(&agent), Some(external.clone())).await.status, 403);
    let org = h.call("POST", "/projects/HD/organizations", Some(&admin), Some(external)).await;
    assert_eq!(org.status, 201);
    let id = org.body["id"].as_str().unwrap().to_string();
    let (a, b) = (h.email("a"), h.email("b"));
    let refused =
        h.call("POST", &format!("/organizations/{id}/members"), Some(&agent), Some(json!({"email": a}))).await;
    assert_eq!((refused.status, refused.code()), (409, "externally_managed"));
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Salesforce") && message.contains("am@example.com"), "{message}");
    let refused = h.call("DELETE", &format!("/organizations/{id}/members/{a}"), Some(&admin), None).await;
    assert_eq!(refused.code(), "externally_managed");

    let sync = |emails: serde_json::Value, token: String| {
        let path = format!("/organizations/{id}/members");
        let h = &h;
        async move { h.call("PUT", &path, Some(&token), Some(json!({"emails": emails}))).await }
    };
    assert_eq!(sync(json!([a]), agent.clone()).await.status, 403);
    let first = sync(json!([a, b.to_uppercase()]), admin.clone()).await;
    assert_eq!((first.status, &first.body["members"]), (200, &json!([a, b])));
    let items = h.item_count().await;
    let again = sync(json!([b, a]), admin.clone()).await;
    assert_eq!(again.body["members"], json!([a, b]));
    assert_eq!(h.item_count().await, items, "the same sync twice changes nothing");
    let replaced = sync(json!([b]), admin.clone()).await;
    assert_eq!(replaced.body["members"], json!([b]));
    let a_token = h.sign_in(&a).await;
    let me = h.call("GET", "/me", Some(&a_token), None).await;
    assert_eq!(me.body["organizations"], json!([]));
}

#[tokio::test]
async fn paging_120_requests_across_own_participating_and_organization_views() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    set_sharing(&h, &admin, true).await;
    let org = new_org(&h, &admin, "Acme").await;
    let dee_email = h.email("dee");
    let dee = h.sign_in(&dee_email).await;
    let eve = h.sign_in(&h.email("eve")).await;
    let fay = h.sign_in(&h.email("fay")).await;
    set_member(&h, &admin, &org, &dee_email, true).await;
    let mut expected = vec![];
    for i in 0..120 {
        let key = match i % 3 {
            // Dee's own; she is in one organization, so they carry it too.
            0 => raise(&h, &dee, &format!("own {i}")).await,
            // Fay's, shared with Dee as a participant.
            1 => {
                let r = raise(&h, &fay, &format!("participating {i}")).await;
                let k = r.body["key"].as_str().unwrap().to_string();
                let shared = h
                    .call(
                        "POST",
                        &format!("/requests/{k}/participants"),
                        Some(&fay),
                        Some(json!({"emails": [dee_email]})),
                    )
                    .await;
                assert_eq!(shared.status, 200);
                r
            }
            // Eve's, set to Dee's organization by an agent.
            _ => {
                let r = raise(&h, &eve, &format!("organization {i}")).await;
                let k = r.body["key"].as_str().unwrap().to_string();
                h.call(
                    "PUT",
                    &format!("/requests/{k}/organization"),
                    Some(&admin),
                    Some(json!({"organization_id": org})),
                )
                .await;
                r
            }
        };
        expected.push(key.body["key"].as_str().unwrap().to_string());
    }
    expected.reverse();
    let mut seen = vec![];
    let mut path = "/requests?view=all&limit=25".to_string();
    let mut pages = 0;
    for page in 0.. {
        assert!(page < 100, "paging never ends");
        let page = h.call("GET", &path, Some(&dee), None).await;
        assert_eq!(page.status, 200, "{page:?}");
        pages += 1;
        seen.extend(keys(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/requests?view=all&limit=25&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected, "every request once, newest first");
    assert!(pages >= 5);
    let org_only =
        h.call("GET", &format!("/requests?view=organization&organization={org}&limit=100"), Some(&dee), None).await;
    // Dee's own requests carry the organization too (she is in exactly one).
    assert_eq!(keys(&org_only).len(), 80);
}

#[tokio::test]
async fn a_projects_organizations_are_listed_by_name_to_its_agents_only() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let zeta = new_org(&h, &admin, "zeta Labs").await;
    let acme = new_org(&h, &admin, "Acme").await;
    let listed = h.call("GET", "/projects/HD/organizations", Some(&admin), None).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let ids: Vec<_> = listed.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [acme.as_str(), zeta.as_str()], "by name, case aside");
    assert_eq!(listed.body["items"][0]["name"], "Acme");
    // Another project's admin and a customer learn nothing of them.
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    h.ok("POST", "/projects/OT/agents", Some(&admin), Some(json!({"email": h.email("other"), "role": "admin"}))).await;
    let other = h.sign_in(&h.email("other")).await;
    assert_eq!(h.call("GET", "/projects/HD/organizations", Some(&other), None).await.status, 403);
    let customer = h.sign_in(&h.email("cy")).await;
    assert_eq!(h.call("GET", "/projects/HD/organizations", Some(&customer), None).await.status, 403);
    let none = h.ok("GET", "/projects/OT/organizations", Some(&other), None).await;
    assert_eq!(none.body["items"], json!([]));
    // Members, by address, to the project's agents only.
    for who in ["zoe", "abe"] {
        set_member(&h, &admin, &acme, &h.email(who), true).await;
    }
    let members = h.ok("GET", &format!("/organizations/{acme}/members"), Some(&admin), None).await;
    let emails: Vec<_> = members.body["items"].as_array().unwrap().iter().map(|m| m["email"].clone()).collect();
    assert_eq!(emails, [json!(h.email("abe")), json!(h.email("zoe"))]);
    assert_eq!(members.body["organization"]["name"], "Acme");
    assert_eq!(h.call("GET", &format!("/organizations/{acme}/members"), Some(&other), None).await.status, 403);
    assert_eq!(h.call("GET", "/organizations/NOPE/members", Some(&customer), None).await.status, 404);
}

#[tokio::test]
async fn the_queue_filters_by_organization_alone_or_with_status_and_tag() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let cy = h.sign_in(&h.email("cy")).await;
    let (acme, beta) = (new_org(&h, &admin, "Acme").await, new_org(&h, &admin, "Beta").await);
    for (i, org) in [&acme, &beta, &acme].into_iter().enumerate() {
        let key = raise(&h, &cy, &format!("r{i}")).await.body["key"].as_str().unwrap().to_string();
        h.ok("PUT", &format!("/requests/{key}/organization"), Some(&admin), Some(json!({"organization_id": org})))
            .await;
    }
    h.ok("POST", "/requests/HD-3/close", Some(&admin), None).await;
    h.ok("PUT", "/requests/HD-1/tags/vip", Some(&admin), None).await;
    let queue = |q: String| {
        let admin = admin.clone();
        let h = &h;
        async move { h.call("GET", &format!("/projects/HD/requests?{q}"), Some(&admin), None).await }
    };
    assert_eq!(keys(&queue(format!("organization={acme}")).await), ["HD-3", "HD-1"]);
    assert_eq!(keys(&queue(format!("organization={acme}&status=open")).await), ["HD-1"]);
    assert_eq!(keys(&queue(format!("organization={beta}&tag=vip")).await), Vec::<String>::new());
    assert_eq!(keys(&queue(format!("organization={acme}&tag=vip")).await), ["HD-1"]);
    // A held request of the organization stays out of its queue, and shows under `held`.
    let dee = h.email("dee");
    set_member(&h, &admin, &acme, &dee, true).await;
    let rule = json!({"rule": format!("suspend:{dee}")});
    h.ok("POST", "/blocklist?project=HD", Some(&admin), Some(rule)).await;
    let dee = h.sign_in(&dee).await;
    let held = raise(&h, &dee, "held one").await.body["key"].as_str().unwrap().to_string();
    assert_eq!(keys(&queue(format!("organization={acme}")).await), ["HD-3", "HD-1"]);
    assert_eq!(keys(&queue(format!("organization={acme}&status=held")).await), [held]);
    // An organization this project does not have is not found; customers learn nothing.
    assert_eq!(queue("organization=NOPE".into()).await.status, 404);
    h.ok("POST", "/projects", Some(&admin), Some(json!({"key": "OT", "name": "Other"}))).await;
    let other = h.ok("POST", "/projects/OT/organizations", Some(&admin), Some(json!({"name": "X"}))).await;
    let other = other.body["id"].as_str().unwrap();
    assert_eq!(queue(format!("organization={other}")).await.status, 404);
    let as_customer = h.call("GET", &format!("/projects/HD/requests?organization={acme}"), Some(&cy), None).await;
    assert_eq!(as_customer.status, 403);
}

async fn portal_text(h: &Harness, token: &str, key: &str) -> String {
    let p = h.page("GET", &format!("/portal/requests/{key}"), &format!("hd_session={token}"), None).await;
    assert_eq!(p.status, 200, "{}", p.text);
    p.text
}

/// The portal page names the organization (never its id) and says who else sees the request:
/// "Shared with: nobody" would be wrong while the whole organization sees it.
#[tokio::test]
async fn the_portal_says_the_organization_sees_a_request_only_while_it_does() {
    let h = Harness::start().await;
    let admin = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let org = new_org(&h, &admin, "Acme Works").await;
    set_member(&h, &admin, &org, &ann_email, true).await;
    let key = raise(&h, &ann, "printer jam").await.body["key"].as_str().unwrap().to_string();
    // A member's request takes their organization; while the project does not share with
    // organizations, nobody else sees it.
    let plain = portal_text(&h, &ann, &key).await;
    assert!(plain.contains("<dt>Organization</dt><dd>Acme Works</dd>"), "{plain}");
    assert!(plain.contains("Nobody else yet."), "{plain}");
    assert!(!plain.contains("can see it."), "{plain}");

    set_sharing(&h, &admin, true).await;
    let shared = portal_text(&h, &ann, &key).await;
    assert!(shared.contains("<dt>Organization</dt><dd>Acme Works</dd>"), "{shared}");
    assert!(shared.contains("Everyone in Acme Works can see it."), "{shared}");
    assert!(!shared.contains("Nobody else yet."), "{shared}");
    assert!(!shared.contains(&org), "the organization's id is never shown");

    set_sharing(&h, &admin, false).await;
    let unshared = portal_text(&h, &ann, &key).await;
    assert!(unshared.contains("<dt>Organization</dt><dd>Acme Works</dd>"), "{unshared}");
    assert!(!unshared.contains("can see it."), "sharing with organizations is off: {unshared}");
    assert!(unshared.contains("Nobody else yet."), "{unshared}");
}
