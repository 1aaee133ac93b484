//! A form move's trace: the history entry of a move keeps the field values the new form had
//! no field for, and an agent can undo the move from there (back to the old form, with those
//! values), while the request is still on the form it was moved to.

use crate::domain::access::{require_agent, Viewer};
use crate::domain::caller::{load_request, Caller};
use crate::domain::forms::{check_fields, forms_of};
use crate::domain::requests::{history_entry, try_update_request, Seen, Viewed};
use crate::error::ApiError;
use crate::items::{history_key, project_forms_key};
use crate::model::{HistoryEntry, ProjectForms, Record, Request, User};
use crate::store::{Condition, Write};
use crate::App;
use std::collections::BTreeMap;

pub const FORM_CHANGED: &str = "form_changed";
pub const FORM_MOVE_UNDONE: &str = "form_move_undone";

/// The form a request is on (its own, else the project's default).
pub(crate) fn form_of(r: &Request, forms: &ProjectForms) -> String {
    r.form.clone().unwrap_or_else(|| forms.default_form.clone())
}

/// The history entry of `before` moving to the form of `after` by `actor`, with the values
/// the move dropped.
pub(crate) fn form_move_history(
    before: &Request,
    actor: &User,
    after: &Request,
    forms: &ProjectForms,
    dropped: BTreeMap<String, String>,
    at: i64,
) -> Write {
    let detail = format!("{} -> {}", form_of(before, forms), form_of(after, forms));
    let entry = HistoryEntry { dropped, ..history_entry(before, actor, FORM_CHANGED, vec![], Some(detail), at) };
    Write::Put { record: Record::HistoryEntry(entry), condition: Condition::NotExists }
}

/// The values of `before` that `after` no longer has, when it is on another form.
pub(crate) fn dropped_values(before: &Request, after: &Request, forms: &ProjectForms) -> BTreeMap<String, String> {
    if form_of(before, forms) == form_of(after, forms) {
        return BTreeMap::new();
    }
    before.fields.iter().filter(|(k, _)| !after.fields.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Undoes the form move of history entry `entry_id` (agents): the request goes back to the
/// old form with the values the move dropped, in one transaction that marks the entry undone.
/// Undoing an undone move again changes nothing.
pub async fn undo_form_move(app: &App, caller: &Caller, key: &str, entry_id: &str) -> Result<Viewed, ApiError> {
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let scope = load_request(app, caller, key, &[project_forms_key(project), history_key(key, entry_id)]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let entry = scope
        .extra
        .iter()
        .find_map(|r| match r {
            Record::HistoryEntry(h) if h.request_key == key && h.id == entry_id => Some(h.clone()),
            _ => None,
        })
        .ok_or(ApiError::NotFound("history entry"))?;
    let moved = entry.detail.as_deref().and_then(|d| d.split_once(" -> "));
    let Some((from, to)) = moved.filter(|_| entry.action == FORM_CHANGED && !entry.dropped.is_empty()) else {
        return Err(ApiError::invalid("nothing_to_undo", "that change dropped no values: there is nothing to undo"));
    };
    if entry.undone_at.is_some() {
        return Ok((Viewer::Agent, scope.request));
    }
    let forms = forms_of(&scope.project.key, &scope.extra);
    let old_form = forms
        .get(from)
        .ok_or_else(|| ApiError::invalid("unknown_form", format!("the form {from:?} no longer exists")))?
        .clone();
    let name = |id: &str| forms.get(id).map(|f| f.name.clone()).unwrap_or_else(|| id.to_string());
    let (from_name, to_name) = (name(from), name(to));
    let now = app.now();
    let change = |r: &mut Request| {
        if form_of(r, &forms) != to {
            return Err(ApiError::Conflict {
                code: "form_moved_since",
                message: format!(
                    "the request is no longer on {to_name}, so that move cannot be undone: move it to {from_name} and fill in its fields"
                ),
            });
        }
        let mut values: BTreeMap<String, String> = r
            .fields
            .iter()
            .filter(|(k, _)| old_form.fields.iter().any(|f| &f.key == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        values.extend(entry.dropped.clone());
        r.fields = check_fields(&old_form, &values)?;
        r.form = Some(old_form.id.clone());
        Ok(())
    };
    let writes = |before: &Request, _: &Request| {
        let undone = HistoryEntry { undone_at: Some(now), ..entry.clone() };
        let detail = format!("{to} -> {from}");
        vec![
            Write::Put { record: Record::HistoryEntry(undone), condition: Condition::Exists },
            Write::Put {
                record: Record::HistoryEntry(history_entry(
                    before,
                    scope.user(),
                    FORM_MOVE_UNDONE,
                    vec![],
                    Some(detail),
                    now,
                )),
                condition: Condition::NotExists,
            },
        ]
    };
    let sla = scope.project.settings.sla.as_ref();
    match try_update_request(app, &scope.actor, sla, scope.request.clone(), Seen::Public, change, writes).await {
        Ok(request) => Ok((Viewer::Agent, request)),
        // A twin undo (a double click, another agent) got there first: answered as done.
        Err(err @ ApiError::Conflict { code: "form_moved_since", .. }) => {
            let keys = [history_key(key, entry_id), crate::items::request_key(key)];
            let read = app.store.get_many(&keys).await?;
            let undone = read.iter().any(|r| matches!(r, Record::HistoryEntry(h) if h.undone_at.is_some()));
            match read.into_iter().find_map(|r| match r {
                Record::Request(request) if undone => Some(request),
                _ => None,
            }) {
                Some(request) => Ok((Viewer::Agent, request)),
                None => Err(err),
            }
        }
        Err(err) => Err(err),
    }
}
