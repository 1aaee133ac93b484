//! The search pages: `/desk/projects/{key}/search` (a project's agents) and `/portal/search`
//! (a customer), each a form and a page of results with their snippets. They read what the
//! search routes read, through the same use cases.

use crate::desk::desk_chrome;
use crate::page_kit::{chrome, field_error};
use crate::views::{render, when, Chrome, CustomerStatus};
use crate::visitor::Visitor;
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::access::Viewer;
use helpdesk::domain::search::{self, SearchOptions, SearchPage};
use helpdesk::http::{self, Reply};
use helpdesk::{ApiError, App};
use lambda_http::Request;

#[derive(Template)]
#[template(path = "search.html")]
pub struct ResultsPage {
    pub chrome: Chrome,
    pub action: String,
    pub q: String,
    /// Agents may order by latest change.
    pub desk: bool,
    pub by_updated: bool,
    /// (key, name) of the project searched, for the console's tabs.
    pub project: Option<(String, String)>,
    pub section: &'static str,
    pub searched: bool,
    pub total: usize,
    pub hits: Vec<HitView>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub error: Option<String>,
}

pub struct HitView {
    pub href: String,
    pub key: String,
    pub summary: String,
    pub status: String,
    pub status_class: &'static str,
    pub updated: String,
    /// HTML-escaped text with the matched words in `<mark>` (made by the search engine).
    pub snippet: String,
}

fn options(req: &Request) -> SearchOptions {
    SearchOptions {
        q: http::query_param(req, "q"),
        sort: http::query_param(req, "sort"),
        cursor: http::query_param(req, "cursor"),
        limit: None,
    }
}

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn hits_of(page: &SearchPage, desk: bool) -> Vec<HitView> {
    page.items
        .iter()
        .map(|(viewer, r, snippet)| {
            let (status, class) = match (viewer, r.held) {
                (Viewer::Agent, true) => ("held".to_string(), "held"),
                (Viewer::Agent, false) => (r.status.as_str().to_string(), r.status.as_str()),
                (Viewer::Customer, _) => (CustomerStatus(r.status).to_string(), r.status.as_str()),
            };
            let href = if desk { format!("/desk/requests/{}", r.key) } else { format!("/portal/requests/{}", r.key) };
            HitView {
                href,
                key: r.key.clone(),
                summary: r.summary.clone(),
                status,
                status_class: class,
                updated: when(r.updated_at),
                snippet: snippet.clone(),
            }
        })
        .collect()
}

/// The page of results (or of the refusal of the words, in place, with 400).
fn results(mut base: ResultsPage, found: Result<SearchPage, ApiError>) -> Result<Reply, ApiError> {
    let status = match found {
        Ok(page) => {
            base.total = page.total;
            base.hits = hits_of(&page, base.desk);
            let sort = if base.by_updated { "&sort=updated" } else { "" };
            base.next_href = page
                .next_cursor
                .as_ref()
                .map(|c| format!("{}?q={}{sort}&cursor={}", base.action, encoded(&base.q), encoded(c)));
            if page.project.is_some() {
                base.project = page.project;
            }
            200
        }
        Err(err) => match field_error(&err) {
            Some(message) => {
                base.error = Some(message);
                400
            }
            None => return Err(err),
        },
    };
    Ok(Reply::html(status, render(&base)?))
}

fn blank(chrome: Chrome, action: String, req: &Request, desk: bool) -> ResultsPage {
    let q = http::query_param(req, "q").unwrap_or_default();
    let later_page = http::query_param(req, "cursor").is_some();
    let by_updated = http::query_param(req, "sort").as_deref() == Some("updated");
    let sort = if by_updated { "&sort=updated" } else { "" };
    ResultsPage {
        chrome: Chrome { search_q: q.clone(), ..chrome },
        first_href: later_page.then(|| format!("{action}?q={}{sort}", encoded(&q))),
        searched: !q.trim().is_empty(),
        action,
        q,
        desk,
        by_updated,
        project: None,
        section: "search",
        total: 0,
        hits: vec![],
        next_href: None,
        error: None,
    }
}

/// `GET /desk/projects/{key}/search`.
pub async fn desk_page(app: &App, req: &Request, v: &Visitor, caller: &Caller, key: &str) -> Result<Reply, ApiError> {
    let base = blank(desk_chrome(v, format!("Search {key}")), format!("/desk/projects/{key}/search"), req, true);
    if !base.searched {
        // The form alone, once the caller is known to be one of the project's agents.
        let project = helpdesk::projects::get_project(app, caller, key).await?;
        let page = ResultsPage { project: Some((project.key, project.name)), ..base };
        return Ok(Reply::html(200, render(&page)?));
    }
    let found = search::search_project(app, caller, key, &options(req)).await;
    results(base, found)
}

/// `GET /portal/search`.
pub async fn portal_page(app: &App, req: &Request, v: &Visitor, caller: &Caller) -> Result<Reply, ApiError> {
    let base = blank(chrome(v, "Search my requests", None), "/portal/search".to_string(), req, false);
    if !base.searched {
        if v.session.is_none() {
            return Err(ApiError::Unauthorized);
        }
        return Ok(Reply::html(200, render(&base)?));
    }
    let found = search::search_customer(app, caller, &options(req)).await;
    results(base, found)
}
