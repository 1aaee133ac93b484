//! The rating page of a close email's link: `GET /csat/{token}` shows the choice and records
//! nothing; `POST` records it (the page's form, or JSON).

use crate::page_kit::{chrome, field_error};
use crate::views::{render, when, Chrome};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::domain::csat::{self, RatingInput, RatingPage, REASONS};
use helpdesk::http::{self, Reply};
use helpdesk::{ApiError, App};
use lambda_http::Request;
use serde_json::json;

#[derive(Template)]
#[template(path = "csat.html")]
struct CsatView {
    chrome: Chrome,
    token: String,
    key: String,
    summary: String,
    project_name: String,
    current: Option<&'static str>,
    open_until: String,
    chosen: String,
    reason: String,
    comment: String,
    reasons: &'static [(&'static str, &'static str)],
    notice: Option<String>,
    error: Option<String>,
}

/// What the form last held, shown again.
#[derive(Default)]
struct Filled {
    chosen: String,
    reason: String,
    comment: String,
}

fn view(
    v: &Visitor,
    token: &str,
    page: &RatingPage,
    filled: Filled,
    notice: Option<String>,
    error: Option<String>,
) -> CsatView {
    let current = page.current.as_ref().map(|c| c.rating.as_str());
    CsatView {
        chrome: chrome(v, format!("Rate {}", page.request.key), Some(&page.project.name)),
        token: token.to_string(),
        key: page.request.key.clone(),
        summary: page.request.summary.clone(),
        project_name: page.project.name.clone(),
        current,
        open_until: when(page.open_until),
        chosen: if filled.chosen.is_empty() { current.unwrap_or_default().to_string() } else { filled.chosen },
        reason: filled.reason,
        comment: filled.comment,
        reasons: &REASONS,
        notice,
        error,
    }
}

/// The rater's saved rating as the form shows it, `chosen` (when given) instead of its choice.
fn saved(page: &RatingPage, chosen: String) -> Filled {
    // A link to "good" after a bad rating: its reason would not go with the choice.
    let reason = page.current.as_ref().and_then(|c| c.reason.clone()).filter(|_| chosen != "good");
    Filled {
        chosen,
        reason: reason.unwrap_or_default(),
        comment: page.current.as_ref().and_then(|c| c.comment.clone()).unwrap_or_default(),
    }
}

/// `GET /csat/{token}?rating=good|bad`: the link's choice, preselected.
pub async fn page(app: &App, req: &Request, v: &Visitor, token: &str) -> Result<Reply, ApiError> {
    let page = csat::open(app, token).await?;
    let chosen = http::query_param(req, "rating").filter(|r| r == "good" || r == "bad").unwrap_or_default();
    Ok(Reply::html(200, render(&view(v, token, &page, saved(&page, chosen), None, None))?))
}

/// `POST /csat/{token}` from the page: saved, or the page again with what was wrong.
pub async fn post(app: &App, v: &Visitor, token: &str, form: &Form) -> Result<Reply, ApiError> {
    // The reason list stays on the page whatever is chosen: with "good" it is not sent on.
    let good = form.get("rating") == "good";
    let input = RatingInput {
        rating: form.get("rating").to_string(),
        reason: (!good).then(|| form.get("reason").to_string()),
        comment: Some(form.get("comment").to_string()),
    };
    match csat::rate(app, token, Ok(input)).await {
        Ok(page) => {
            let notice = format!("Thank you: your rating of {} was saved.", page.request.key);
            Ok(Reply::html(200, render(&view(v, token, &page, saved(&page, String::new()), Some(notice), None))?))
        }
        Err(err) => match field_error(&err) {
            Some(message) => {
                let page = csat::open(app, token).await?;
                let filled = Filled {
                    chosen: form.get("rating").to_string(),
                    reason: form.get("reason").to_string(),
                    comment: form.get("comment").to_string(),
                };
                Ok(Reply::html(err.status(), render(&view(v, token, &page, filled, None, Some(message)))?))
            }
            None => Err(err),
        },
    }
}

fn rating_json(page: &RatingPage) -> serde_json::Value {
    json!({
        "request": page.request.key,
        "summary": page.request.summary,
        "rating": page.current.as_ref().map(|c| json!({"rating": c.rating.as_str(), "reason": c.reason, "comment": c.comment,
                                                       "at": helpdesk::text::rfc3339(c.at)})),
        "open_until": helpdesk::text::rfc3339(page.open_until),
    })
}

/// The same as JSON: `GET` reads, `POST {rating, reason?, comment?}` records.
pub async fn json(app: &App, req: &Request, method: &str, token: &str) -> Result<Reply, ApiError> {
    let page = match method {
        "POST" => csat::rate(app, token, http::parse_json::<RatingInput>(req)).await?,
        _ => csat::open(app, token).await?,
    };
    Ok(Reply::ok(rating_json(&page)))
}
