//! The console's reports page: a project's numbers over a range, as cards, charts drawn on the
//! server and a table; the same report as CSV (`?format=csv`). It reads what
//! `GET /projects/{key}/reports` reads, through the same use case.

use super::charts::{self, Chart, Distribution};
use super::desk_chrome;
use crate::views::{render, Chrome};
use crate::visitor::Visitor;
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::reports::counts::bucket_value;
use helpdesk::domain::reports::report::{Period, PeriodRow, Report, ReportQuery};
use helpdesk::domain::reports::{self};
use helpdesk::http::{self, Reply, ReplyBody};
use helpdesk::web::reports::report_csv;
use helpdesk::{ApiError, App};
use lambda_http::Request;

#[derive(Template)]
#[template(path = "desk/reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    pub section: &'static str,
    pub from: String,
    pub to: String,
    pub weekly: bool,
    pub assignee: String,
    pub time_zone: String,
    pub csv_url: String,
    /// (label, value, detail) number cards.
    pub cards: Vec<(&'static str, String, String)>,
    pub flow: Chart,
    pub backlog: Chart,
    pub replies: Distribution,
    pub rows: Vec<RowView>,
    pub has_sla: bool,
}

pub struct RowView {
    pub start: String,
    pub created: i64,
    pub closed: i64,
    pub reopened: i64,
    pub backlog: i64,
    pub first_reply: String,
    pub resolution: String,
    pub sla: String,
    pub csat: String,
}

/// `45 s`, `12 min`, `3.5 h`, `2.1 days`; a dash for none.
pub fn duration(seconds: Option<i64>) -> String {
    match seconds {
        None => "–".into(),
        Some(s) if s < 60 => format!("{s} s"),
        Some(s) if s < 3600 => format!("{} min", (s + 30) / 60),
        Some(s) if s < 2 * 86_400 => format!("{:.1} h", s as f64 / 3600.0),
        Some(s) => format!("{:.1} days", s as f64 / 86_400.0),
    }
}

fn share(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "–".into()
    } else {
        format!("{}%", (part * 100 + whole / 2) / whole)
    }
}

fn sla_text(row: &PeriodRow) -> String {
    let (met, breached) = row.sla.iter().fold((0, 0), |(m, b), (met, breached)| (m + met, b + breached));
    if met + breached == 0 {
        "–".into()
    } else {
        format!("{} met ({met} of {})", share(met, met + breached), met + breached)
    }
}

fn csat_text(row: &PeriodRow) -> String {
    let (good, bad) = row.csat;
    if good + bad == 0 {
        "–".into()
    } else {
        format!("{} good ({good} of {})", share(good, good + bad), good + bad)
    }
}

/// Under an hour, 1-4 h, 4-24 h, 1-3 days, over 3 days.
fn reply_bins(row: &PeriodRow) -> Vec<(String, i64)> {
    let bins: [(&str, i64); 5] =
        [("< 1 h", 3600), ("1–4 h", 4 * 3600), ("4–24 h", 86_400), ("1–3 days", 3 * 86_400), ("> 3 days", i64::MAX)];
    let mut counts = [0_i64; 5];
    for (bucket, n) in &row.first_reply_buckets {
        let value = bucket_value(*bucket);
        let at = bins.iter().position(|(_, limit)| value < *limit).unwrap_or(4);
        counts[at] += n;
    }
    bins.iter().zip(counts).map(|((label, _), n)| (label.to_string(), n)).collect()
}

/// `12-03`: the period's first day (the legend says whether periods are days or weeks).
fn label(start: &str) -> String {
    start.get(5..).unwrap_or(start).to_string()
}

fn page_of(v: &Visitor, report: &Report, query: &ReportQuery) -> ReportsPage {
    let labels: Vec<String> = report.periods.iter().map(|p| label(&p.start)).collect();
    let created: Vec<i64> = report.periods.iter().map(|p| p.created).collect();
    let closed: Vec<i64> = report.periods.iter().map(|p| p.closed).collect();
    let backlog: Vec<i64> = report.periods.iter().map(|p| p.backlog).collect();
    let t = &report.total;
    let mut cards = vec![
        ("Created", t.created.to_string(), "requests".to_string()),
        ("Closed", t.closed.to_string(), format!("{} reopened", t.reopened)),
        ("Backlog", t.backlog.to_string(), format!("open or pending on {}", report.to)),
        ("First reply", duration(t.first_reply.median), format!("median; 90% within {}", duration(t.first_reply.p90))),
        ("Resolution", duration(t.resolution.median), format!("median; 90% within {}", duration(t.resolution.p90))),
    ];
    if report.has_sla {
        let (met, breached) = t.sla.iter().fold((0, 0), |(m, b), (met, breached)| (m + met, b + breached));
        cards.push((
            "Service levels",
            share(met, met + breached),
            format!("targets met ({met} of {})", met + breached),
        ));
    }
    let (good, bad) = t.csat;
    cards.push(("Satisfaction", share(good, good + bad), format!("rated good ({good} of {})", good + bad)));
    let mut csv = format!("/desk/projects/{}/reports?format=csv&from={}&to={}", report.project, report.from, report.to);
    if report.by == Period::Week {
        csv.push_str("&by=week");
    }
    if let Some(a) = &query.assignee {
        csv.push_str(&format!("&assignee={}", form_urlencoded::byte_serialize(a.as_bytes()).collect::<String>()));
    }
    ReportsPage {
        chrome: desk_chrome(v, format!("{}: reports", report.project_name)),
        project_key: report.project.clone(),
        project_name: report.project_name.clone(),
        section: "reports",
        from: report.from.clone(),
        to: report.to.clone(),
        weekly: report.by == Period::Week,
        assignee: query.assignee.clone().unwrap_or_default(),
        time_zone: report.time_zone.clone(),
        csv_url: csv,
        cards,
        flow: charts::paired_bars(&labels, [("series-a", &created), ("series-b", &closed)]),
        backlog: charts::line(&labels, &backlog),
        replies: charts::distribution(&reply_bins(t)),
        rows: report
            .periods
            .iter()
            .map(|p| RowView {
                start: p.start.clone(),
                created: p.created,
                closed: p.closed,
                reopened: p.reopened,
                backlog: p.backlog,
                first_reply: duration(p.first_reply.median),
                resolution: duration(p.resolution.median),
                sla: sla_text(p),
                csat: csat_text(p),
            })
            .collect(),
        has_sla: report.has_sla,
    }
}

/// `GET /desk/projects/{key}/reports`: the page, or its CSV.
pub async fn page(app: &App, req: &Request, v: &Visitor, caller: &Caller, key: &str) -> Result<Reply, ApiError> {
    let query = ReportQuery {
        from: http::query_param(req, "from"),
        to: http::query_param(req, "to"),
        by: http::query_param(req, "by"),
        assignee: http::query_param(req, "assignee"),
    };
    let report = reports::project_report(app, caller, key, &query).await?;
    if http::query_param(req, "format").as_deref() == Some("csv") {
        let name = format!("attachment; filename=\"{}-report-{}-{}.csv\"", report.project, report.from, report.to);
        return Ok(Reply::new(200, ReplyBody::Text("text/csv; charset=utf-8", report_csv(&report)))
            .with_header("content-disposition", name));
    }
    Ok(Reply::html(200, render(&page_of(v, &report, &query))?))
}
