//! A project's queue page: status tabs, filters, sorting and paging.

use super::desk_chrome;
use super::views::{self, QueueRow};
use crate::views::{render, Tab};
use crate::visitor::Visitor;
use helpdesk::caller::Caller;
use helpdesk::domain::desk;
use helpdesk::http::{self, Reply};
use helpdesk::model::{Priority, RequestStatus};
use helpdesk::requests::ListOptions;
use helpdesk::{ApiError, App};
use lambda_http::Request;

/// A queue page's filters, as its links carry them.
#[derive(Clone, Default)]
struct QueueFilters {
    status: String,
    assignee: String,
    priority: String,
    tag: String,
    organization: String,
    /// Empty: latest activity first (`activity` says the same); `created`: newest first;
    /// `due`: nearest due first.
    sort: String,
}

impl QueueFilters {
    /// The order the page is in, as the API names it. Latest activity unless another is asked
    /// for; held requests, and a tag or an organization filter, come newest first (no index
    /// holds those by activity).
    fn order(&self) -> &'static str {
        let by_creation = self.status == "held" || !self.tag.is_empty() || !self.organization.is_empty();
        match self.sort.as_str() {
            "created" => "created",
            // Nearest due orders running clocks: none on a closed or held request.
            "due" if !by_creation && self.status != "closed" => "due",
            _ if by_creation => "created",
            // The default, and whatever else a hand-made address asks for.
            _ => "activity",
        }
    }
}

/// The first page's place in a pager's trail (a list cursor is never this).
const FIRST_PAGE: &str = "0";
/// Pages a pager remembers to go back through.
const MAX_TRAIL: usize = 40;

/// The pager's two ways: newer (the page before this one, from the trail of cursors that led
/// here) and older (the list's next cursor, with this page added to the trail). `href` is
/// the list's address at a cursor (None: its first page). Other lists page with it too.
pub(super) fn pager(
    here: Option<&str>,
    trail: &[&str],
    next: Option<&str>,
    href: impl Fn(Option<&str>) -> String,
) -> Pager {
    let with_trail = |href: String, trail: &[&str]| match trail {
        [] => href,
        t => format!("{href}&back={}", t.join(".")),
    };
    let older = next.map(|n| {
        let mut longer: Vec<&str> = trail.iter().rev().take(MAX_TRAIL - 1).rev().copied().collect();
        longer.push(here.unwrap_or(FIRST_PAGE));
        with_trail(href(Some(n)), &longer)
    });
    let newer = trail.split_last().map(|(previous, rest)| {
        let cursor = Some(*previous).filter(|c| *c != FIRST_PAGE);
        with_trail(href(cursor), rest)
    });
    Pager { newer, older }
}

/// The cursors a pager's `back` parameter carries. Only cursor-shaped parts (base64url, or
/// the first page's mark): nothing else rides along.
pub(super) fn trail_of(back: &str) -> Vec<&str> {
    let cursor_like =
        |c: &&str| c.len() <= 200 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    back.split('.').filter(|c| !c.is_empty()).filter(cursor_like).collect()
}

pub(super) struct Pager {
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// A queue page's address: its tab, filters and page.
fn queue_href(key: &str, f: &QueueFilters, cursor: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("status", &f.status);
    let pairs = [
        ("assignee", f.assignee.as_str()),
        ("priority", f.priority.as_str()),
        ("tag", f.tag.as_str()),
        ("organization", f.organization.as_str()),
        ("sort", f.sort.as_str()),
        ("cursor", cursor.unwrap_or("")),
    ];
    for (name, value) in pairs {
        if !value.is_empty() {
            q.append_pair(name, value);
        }
    }
    format!("/desk/projects/{key}?{}", q.finish())
}

pub(super) async fn queue(
    app: &App,
    req: &Request,
    v: &Visitor,
    caller: &Caller,
    key: &str,
) -> Result<Reply, ApiError> {
    let param = |name: &str| http::query_param(req, name).map(|t| t.trim().to_string()).unwrap_or_default();
    // The open queue unless another tab is asked for; `all` is the API's "no status".
    let mut f = QueueFilters {
        status: Some(param("status")).filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into()),
        assignee: param("assignee"),
        priority: param("priority"),
        tag: param("tag"),
        organization: param("organization"),
        sort: Some(param("sort")).filter(|s| s != "activity").unwrap_or_default(),
    };
    if f.status == "held" {
        // Held requests wait outside every owner's queue, untagged.
        f.assignee.clear();
        f.tag.clear();
    }
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    let options = ListOptions {
        status: (f.status != "all").then(|| f.status.clone()),
        tag: some(&f.tag),
        organization: some(&f.organization),
        assignee: some(&f.assignee),
        priority: some(&f.priority),
        sort: Some(f.order().to_string()),
        cursor: http::query_param(req, "cursor"),
        ..ListOptions::default()
    };
    let shown = desk::queue(app, caller, key, &options).await?;
    let now = app.now();
    let org_name = |id: &str| shown.organizations.iter().find(|o| o.id == id).map(|o| o.name.clone());
    let rows = shown
        .page
        .items
        .iter()
        .map(|(_, r)| QueueRow {
            key: r.key.clone(),
            summary: r.summary.clone(),
            reporter: helpdesk::domain::authors::agent_label(
                shown.reporter_names.get(&r.reporter_id).map(String::as_str),
                r.reporter_email.as_str(),
            ),
            organization: r.organization.as_deref().map(|o| org_name(o).unwrap_or_else(|| o.to_string())),
            status: if r.held { "held" } else { r.status.as_str() },
            priority: r.priority.as_str(),
            assignee: r.assignee.as_ref().map(views::assignee_label),
            updated: crate::views::Moment::of(r.activity_at(), now),
            waiting_on_us: r.customer_spoke_last && r.status == RequestStatus::Open,
            unseen: shown.unseen.contains(&r.key),
            tags: r.tags.clone(),
            due: r.nearest_due().filter(|_| r.status.is_active() && !r.held).map(|due| {
                let (label, overdue) = crate::views::due_label(due, now);
                (label, overdue, crate::views::when(due))
            }),
        })
        .collect();
    let statuses =
        [("Open", "open"), ("Pending", "pending"), ("Closed", "closed"), ("Held for review", "held"), ("All", "all")];
    let tabs = statuses
        .into_iter()
        .map(|(label, value)| {
            let held = value == "held";
            let to = QueueFilters {
                status: value.into(),
                assignee: if held { String::new() } else { f.assignee.clone() },
                tag: if held { String::new() } else { f.tag.clone() },
                // Held and closed requests have no running clock to order by.
                sort: if f.sort == "due" && (held || value == "closed") { String::new() } else { f.sort.clone() },
                ..f.clone()
            };
            let count = shown.counts.iter().find(|(tab, _)| *tab == value).map(|(_, n)| match *n {
                n if n >= desk::QUEUE_COUNT_CAP => format!("{n}+"),
                n => n.to_string(),
            });
            (Tab { label: label.into(), href: queue_href(key, &to, None), current: f.status == value }, count)
        })
        .collect();
    let owner_tabs = [("Mine", "me"), ("Unassigned", "none"), ("Everyone", "")]
        .into_iter()
        .map(|(label, value)| {
            let status = if f.status == "held" { "open".to_string() } else { f.status.clone() };
            let to = QueueFilters { assignee: value.into(), status, ..f.clone() };
            Tab { label: label.into(), href: queue_href(key, &to, None), current: f.assignee == value }
        })
        .collect();
    // Latest activity and nearest due order the queue's own requests: no tag or organization
    // filter; a closed request has no clock running.
    let sorts = [("Latest activity", "", "activity"), ("Newest", "created", "created"), ("Nearest due", "due", "due")]
        .into_iter()
        .filter(|(_, value, _)| !(*value == "due" && f.status == "closed"))
        .map(|(label, value, order)| {
            let to = if value == "created" {
                QueueFilters { sort: value.into(), ..f.clone() }
            } else {
                QueueFilters { sort: value.into(), tag: String::new(), organization: String::new(), ..f.clone() }
            };
            Tab { label: label.into(), href: queue_href(key, &to, None), current: f.order() == order }
        })
        .collect();
    let (here, back) = (http::query_param(req, "cursor"), param("back"));
    let href = |cursor: Option<&str>| queue_href(key, &f, cursor);
    let pages = pager(here.as_deref(), &trail_of(&back), shown.page.next_cursor.as_deref(), href);
    let page = views::QueuePage {
        chrome: desk_chrome(v, format!("{} queue", shown.project.name)),
        sorts,
        sort: f.sort.clone(),
        order: f.order(),
        project_key: shown.project.key.clone(),
        project_name: shown.project.name.clone(),
        section: "queue",
        tabs,
        owner_tabs,
        next_href: pages.older,
        newer_href: pages.newer,
        organizations: shown
            .organizations
            .iter()
            .map(|o| (o.id.clone(), o.name.clone(), o.id == f.organization))
            .collect(),
        filtered: !f.tag.is_empty() || !f.organization.is_empty() || !f.priority.is_empty(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str(), views::priority_label(*p), p.as_str() == f.priority))
            .collect(),
        status: f.status,
        assignee: f.assignee,
        tag: f.tag,
        rows,
    };
    Ok(Reply::html(200, render(&page)?))
}
