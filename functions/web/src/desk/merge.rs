//! The console's merge: a confirmation page that shows both requests, then the API's
//! `POST /requests/{key}/merge` (`requests::merge`), whose refusals show in place.

use super::{desk_chrome, in_place};
use crate::views::{render, when};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::http::Reply;
use helpdesk::model::Request;
use helpdesk::requests::{self, MergeInput};
use helpdesk::{ApiError, App};

/// One side of a merge as its confirmation shows it.
pub struct MergeSide {
    pub key: String,
    pub summary: String,
    pub status: &'static str,
    pub reporter: String,
    pub participants: Vec<String>,
    pub replies: u32,
    pub created: String,
}

impl From<&Request> for MergeSide {
    fn from(r: &Request) -> Self {
        MergeSide {
            key: r.key.clone(),
            summary: r.summary.clone(),
            status: super::views::status_label(r.status),
            reporter: r.reporter_email.to_string(),
            participants: r.participants.iter().map(ToString::to_string).collect(),
            replies: r.comment_count,
            created: when(r.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "desk/merge.html")]
pub struct MergePage {
    pub chrome: crate::views::Chrome,
    pub key: String,
    pub into: String,
    /// Both requests (the source first), once `into` names a request the merge may take.
    pub sides: Vec<MergeSide>,
    pub note: String,
    pub error: Option<String>,
}

/// `GET /desk/requests/{key}/merge?into=`: both requests and the confirmation, or why not.
pub async fn page(app: &App, v: &Visitor, caller: &Caller, key: &str, into: Option<String>) -> Result<Reply, ApiError> {
    let into = into.map(|i| i.trim().to_uppercase()).unwrap_or_default();
    show(app, v, caller, key, into, String::new(), None).await
}

/// `POST /desk/requests/{key}/merge`: merges, then shows the target; a refusal shows on the
/// confirmation page again, with the note as typed.
pub async fn confirm(app: &App, v: &Visitor, caller: &Caller, key: &str, form: &Form) -> Result<Reply, ApiError> {
    let into = form.get("into").trim().to_uppercase();
    let note = form.get("note").to_string();
    let input = MergeInput { into: into.clone(), note: Some(note.clone()).filter(|n| !n.trim().is_empty()) };
    match requests::merge(app, caller, key, Ok(input), None).await {
        Ok(merged) => Ok(Reply::see_other(format!("/desk/requests/{}?done=merged", merged.target.key))),
        Err(err) => {
            let Some(message) = in_place(&err) else { return Err(err) };
            let mut reply = show(app, v, caller, key, into, note, Some(message)).await?;
            reply.status = err.status();
            Ok(reply)
        }
    }
}

async fn show(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    into: String,
    note: String,
    error: Option<String>,
) -> Result<Reply, ApiError> {
    let wanted = Some(into.as_str()).filter(|i| !i.is_empty());
    let (sides, error, status) = match requests::merge_preview(app, caller, key, wanted).await {
        Ok((source, Some(target))) => (vec![MergeSide::from(&source), MergeSide::from(&target)], error, 200),
        Ok((_, None)) => (vec![], error, 200),
        Err(err) => match in_place(&err).filter(|_| wanted.is_some() && !matches!(err, ApiError::Forbidden(_))) {
            Some(message) => (vec![], Some(message), err.status()),
            None => return Err(err),
        },
    };
    let page =
        MergePage { chrome: desk_chrome(v, format!("Merge {key}")), key: key.to_string(), into, sides, note, error };
    Ok(Reply::html(status, render(&page)?))
}
