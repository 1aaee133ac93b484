//! Longer journeys in a browser: a rating and the reports, a portal reply reopening a closed
//! request, search from the header box, a screenshot attached, downloaded and merged.

use super::*;

/// A rating link of the newest close email to `email`, as the customer clicks it.
async fn rating_link(h: &Harness, email: &str) -> String {
    let parser = mail_parser::MessageParser::default();
    let raw = h.raw_mail_to(email).await.pop().expect("the close email");
    let text = parser.parse(raw.as_bytes()).unwrap().body_text(0).unwrap_or_default().to_string();
    let line = text.lines().find(|l| l.starts_with("Bad: ")).expect("a Bad link");
    line.trim_start_matches("Bad: ").to_string()
}

#[tokio::test]
async fn a_customer_rates_by_the_close_email_and_a_lead_reads_the_reports() {
    use helpdesk::model::{Assignee, Record, RequestStatus};
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let me = h.call("GET", "/me", Some(&token), None).await.body;
    let admin = me["email"].as_str().unwrap().to_string();
    // Two weeks of history before today, counted as the stream counts each change: a few
    // requests a day, answered within minutes to hours, most closed the same day.
    let (now, hour) = (h.app.now(), 3600);
    let lead = Assignee {
        id: me["id"].as_str().unwrap().to_string(),
        email: helpdesk::model::EmailAddress::parse(&admin).unwrap(),
        name: None,
    };
    for day in 0..14_i64 {
        for i in 0..(day % 4 + 1) {
            let created = now - (14 - day) * 86_400 + i * hour;
            let key = format!("HD-{}", 100 + day * 10 + i);
            let mut request = helpdesk::requests::open_request(&key, "someone", created);
            request.assignee = (i % 2 == 0).then(|| lead.clone());
            helpdesk::domain::reports::count_change(&h.app, &key, Some(&request), created).await.unwrap();
            request.version = 2;
            request.first_response_at = Some(created + (i + 1) * (day + 1) * 600);
            if (day + i) % 3 != 0 {
                request.version = 3;
                request.status = RequestStatus::Closed;
            }
            let at = created + (i + 2) * hour;
            helpdesk::domain::reports::count_change(&h.app, &key, Some(&request), at).await.unwrap();
            helpdesk::store::Store::put_all(&h.store, vec![Record::Request(request)]).await.unwrap();
        }
    }

    // Today: a customer's request, answered and closed by the team; she rates it from the mail.
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "Printer jammed again").await;
    h.ok("POST", &format!("/requests/{key}/comments"), Some(&token), Some(json!({"body": "Fixed the tray."}))).await;
    h.ok("POST", &format!("/requests/{key}/close"), Some(&token), None).await;
    h.settle_stream().await;
    let b = Browser::start("reports").await;
    b.goto(&rating_link(&h, &ann_email).await).await;
    let text = b.text().await;
    assert!(text.contains("How did we do?") && text.contains(&key), "{text}");
    b.choose("#reason", "too_slow").await;
    b.fill("#comment", "Took two days to hear back.").await;
    b.shot("rating").await;
    b.click("form[action^='/csat/'] button").await;
    let text = b.text().await;
    assert!(text.contains(&format!("Thank you: your rating of {key} was saved.")), "{text}");
    assert!(text.contains("Your rating: bad"), "{text}");
    let kept = b.client.find(fantoccini::Locator::Css("#comment")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Took two days to hear back."), "the saved rating shows as saved");
    b.shot("rating-saved").await;
    h.settle_stream().await;

    // The lead reads the reports: cards, charts with their numbers, the table.
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/projects/HD", h.base)).await;
    b.click_link("Reports").await;
    let text = b.text().await;
    for expected in [
        "Created and closed",
        "Backlog (open and pending",
        "Time to first reply",
        "Satisfaction",
        "rated good (0 of 1)",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let report = h.ok("GET", "/projects/HD/reports", Some(&token), None).await.body;
    let created = report["total"]["created"].as_i64().unwrap();
    assert_eq!(created, (0..14).map(|d| d % 4 + 1).sum::<i64>() + 1);
    assert!(text.contains(&format!("Created\n{created}\nrequests")), "the card says the total: {text}");
    b.shot("reports").await;
    b.client.execute("document.getElementById('replies-title').scrollIntoView()", vec![]).await.unwrap();
    b.shot("reports-table").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("reports-phone").await;
    b.client.execute("document.querySelector('.cards').scrollIntoView()", vec![]).await.unwrap();
    b.shot("reports-phone-cards").await;
    b.client.execute("document.getElementById('flow-title').scrollIntoView()", vec![]).await.unwrap();
    b.shot("reports-phone-chart").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.choose("#by", "week").await;
    b.click("form.report-range button").await;
    assert!(b.text().await.contains("Week from"));
    b.shot("reports-weekly").await;
    // The agent's view of the request shows the rating.
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    assert!(b.text().await.contains("Bad: It took too long"));
    b.close().await;
}

#[tokio::test]
async fn a_customer_reply_in_the_portal_reopens_a_closed_request() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "Scanner offline").await;
    h.ok("POST", &format!("/requests/{key}/close"), Some(&token), None).await;
    let b = Browser::start("reopen").await;
    sign_in_in(&b, &h, &ann_email).await;
    b.goto(&format!("{}/portal/requests/{key}", h.base)).await;
    let text = b.text().await.to_lowercase();
    assert!(text.contains("closed") && text.contains("reopen request"), "{text}");
    b.shot("closed").await;
    b.fill("#reply", "It went offline again this morning.").await;
    b.click("form[action$='/comments'] button").await;
    let text = b.text().await;
    assert!(text.contains("It went offline again this morning."), "{text}");
    assert!(text.to_lowercase().contains("close request"), "open again: its page offers Close: {text}");
    b.shot("reopened").await;
    let request = h.ok("GET", &format!("/requests/{key}"), Some(&token), None).await.body;
    assert_eq!(request["status"], "open");
    b.close().await;
}

#[tokio::test]
async fn a_customer_and_an_agent_search_from_the_header_box() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&token), None).await.body["email"].as_str().unwrap().to_string();
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let printer = raise(&h, &ann, "Printer jammed on the third floor").await;
    raise(&h, &ann, "Invoice 2291 was billed twice").await;
    h.ok(
        "POST",
        &format!("/requests/{printer}/comments"),
        Some(&token),
        Some(json!({"body": "Try the paper tray; the printers there jam when the tray is loose."})),
    )
    .await;
    let note = json!({"body": "Vendor ticket zebrafish-77 opened.", "internal": true});
    h.ok("POST", &format!("/requests/{printer}/comments"), Some(&token), Some(note)).await;
    h.settle_search().await;

    // The customer searches from the portal's header.
    let b = Browser::start("search").await;
    sign_in_in(&b, &h, &ann_email).await;
    b.fill("header form.search input[name=q]", "printers tray").await;
    b.press_enter().await;
    assert!(b.path().await.starts_with("/portal/search?q=printers+tray"), "{}", b.path().await);
    let text = b.text().await;
    assert!(text.contains("1 request matches.") && text.contains(&format!("{printer}: Printer jammed")), "{text}");
    let marked =
        b.client.find(fantoccini::Locator::Css("ul.results .snippet mark")).await.unwrap().text().await.unwrap();
    assert!(["printers", "tray"].contains(&marked.as_str()), "{marked}");
    b.shot("search-portal").await;
    // An internal note's words find nothing for her.
    b.fill("#q", "zebrafish").await;
    b.click("form.search-page button").await;
    assert!(b.text().await.contains("No requests match."));
    // A bad filter is explained in place.
    b.goto(&format!("{}/portal/search?q=status%3Alost", h.base)).await;
    assert!(b.text().await.contains("status is open, pending, closed or held"));
    b.shot("search-portal-error").await;

    // The agent searches the project from its console pages: notes too, by best match or latest change.
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/projects/HD", h.base)).await;
    b.fill("header form.search input[name=q]", "zebrafish").await;
    b.press_enter().await;
    let text = b.text().await;
    assert!(text.contains("1 request matches.") && text.contains(&printer), "{text}");
    let marked =
        b.client.find(fantoccini::Locator::Css("ul.results .snippet mark")).await.unwrap().text().await.unwrap();
    assert_eq!(marked, "zebrafish");
    b.shot("search-desk").await;
    b.fill("#q", "status:open").await;
    b.choose("#sort", "updated").await;
    b.click("form.search-page button").await;
    assert!(b.text().await.contains("2 requests match."));
    b.shot("search-desk-filter").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("search-desk-phone").await;
    b.click_link(&format!("{printer}: Printer jammed on the third floor")).await;
    assert_eq!(b.path().await, format!("/desk/requests/{printer}"));
    b.close().await;
}

#[tokio::test]
async fn a_customer_attaches_a_screenshot_and_the_agent_downloads_it_then_merges_a_duplicate() {
    let h = Harness::start().await;
    let token = h.admin_with_project("HD").await;
    let admin = h.call("GET", "/me", Some(&token), None).await.body["email"].as_str().unwrap().to_string();
    let ann_email = h.email("ann");
    let ann = h.sign_in(&ann_email).await;
    let key = raise(&h, &ann, "The dashboard shows an error").await;
    let duplicate = raise(&h, &ann, "Dashboard error again").await;
    h.ok("POST", &format!("/requests/{duplicate}/comments"), Some(&ann), Some(json!({"body": "Same red banner."})))
        .await;

    // The customer attaches a real screenshot to a reply in the portal.
    let b = Browser::start("files").await;
    sign_in_in(&b, &h, &ann_email).await;
    b.goto(&format!("{}/portal/requests/{key}", h.base)).await;
    let png = b.client.screenshot().await.unwrap();
    let file = std::env::temp_dir().join(format!("screenshot-{}.png", ulid::Ulid::new()));
    std::fs::write(&file, &png).unwrap();
    b.fill("#reply", "Here is what I see.").await;
    let input = b.client.find(fantoccini::Locator::Css("#files")).await.unwrap();
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    b.shot("portal-choosing").await;
    b.click("form[action$='/comments'] button").await;
    let text = b.text().await;
    assert!(
        text.contains("Here is what I see.") && text.contains(file.file_name().unwrap().to_str().unwrap()),
        "{text}"
    );
    b.shot("portal-attached").await;

    // The agent sees it in the console and downloads it: the bytes she sent.
    sign_in_in(&b, &h, &admin).await;
    b.goto(&format!("{}/desk/requests/{key}", h.base)).await;
    let link = b.client.find(fantoccini::Locator::Css("ul.files a[download]")).await.unwrap();
    let href = link.attr("href").await.unwrap().expect("a download link");
    b.shot("desk-file").await;
    let answer = h.page("GET", &href, &format!("hd_session={token}"), None).await;
    assert_eq!(answer.status, 303);
    let got = reqwest::get(answer.header("location")).await.unwrap();
    assert!(got.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), png.as_slice());
    std::fs::remove_file(file).ok();

    // The duplicate: named from its page, confirmed on a page that shows both, merged.
    b.goto(&format!("{}/desk/requests/{duplicate}", h.base)).await;
    b.fill("#merge-into", &key).await;
    b.click("form[action$='/merge'] button").await;
    let text = b.text().await;
    assert!(text.contains(&format!("Merge {duplicate} into {key}?")), "{text}");
    b.shot("merge-confirm").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.shot("merge-confirm-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.fill("#note", "She wrote twice about the dashboard.").await;
    b.click("form[method=post][action$='/merge'] button").await;
    assert_eq!(b.path().await, format!("/desk/requests/{key}?done=merged"));
    let text = b.text().await;
    assert!(text.contains("Same red banner.") && text.contains(&format!("from {duplicate}")), "{text}");
    b.shot("merged").await;
    b.close().await;
}
