//! What every page handler uses: the page chrome, a form's one-time token, errors shown in
//! place, the query string, and where a reply's page goes.

use crate::views::{self, Chrome};
use crate::visitor::{Form, Visitor};
use helpdesk::domain::idempotency::IdempotencyKey;
use helpdesk::error::FieldProblem;
use helpdesk::http;
use helpdesk::requests::Posted;
use helpdesk::ApiError;
use lambda_http::Request;

const SITE: &str = "Helpdesk";

pub(crate) fn chrome(v: &Visitor, title: impl Into<String>, site: Option<&str>) -> Chrome {
    Chrome {
        site: site.unwrap_or(SITE).to_string(),
        title: title.into(),
        stylesheet: views::stylesheet_path(),
        signed_in: v.session.is_some(),
        csrf: v.csrf(),
        desk: false,
        search: v.search_action.clone(),
        search_q: String::new(),
    }
}

/// A form's one-time token as an idempotency key: a double-submitted form acts once.
pub(crate) fn nonce(form: &Form) -> Result<Option<IdempotencyKey>, ApiError> {
    match form.get("nonce") {
        "" => Ok(None),
        n => IdempotencyKey::from_header(Some(n.as_bytes())),
    }
}

/// Errors a form can show next to its field instead of on a page of their own.
pub(crate) fn field_error(err: &ApiError) -> Option<String> {
    matches!(err, ApiError::Invalid { .. } | ApiError::BadRequest { .. } | ApiError::Fields(_))
        .then(|| err.public_message())
}

/// A form's errors, each with the field it names (`summary`, `fields.<key>`: what precedes
/// the message's colon when it has no space; none: ""), to show next to their inputs.
pub(crate) fn field_problems(err: &ApiError) -> Option<Vec<FieldProblem>> {
    if let ApiError::Fields(problems) = err {
        return Some(problems.clone());
    }
    let message = field_error(err)?;
    let problem = match message.split_once(": ") {
        Some((field, rest)) if !field.contains(' ') => FieldProblem::new(field, err.code(), rest),
        _ => FieldProblem::new("", err.code(), message),
    };
    Some(vec![problem])
}

/// Where a reply's page goes: to the reply on its request, or with `done` (a `?done=`
/// notice) to the page's confirmation, which then has the focus (a fragment would stop the
/// browser's autofocus); or to the follow-up it opened, which says why.
pub(crate) fn reply_anchor(base: &str, posted: &Posted, done: &str) -> String {
    match posted {
        Posted::Comment(c) if !done.is_empty() => format!("{base}/{}{done}", c.request_key),
        Posted::Comment(c) => format!("{base}/{}#c-{}", c.request_key, c.id),
        Posted::FollowUp(r) => format!("{base}/{}?done=follow-up", r.key),
    }
}

pub(crate) fn query(req: &Request, name: &str) -> Option<String> {
    http::query_param(req, name)
}
