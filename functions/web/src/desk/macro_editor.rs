//! The macro editor (`/desk/projects/{key}/macros/{id}`, `new` for a new macro): rows of
//! actions an admin adds, moves and removes with buttons (no script), each with the inputs its
//! kind needs, saved through `save_macro`, the use case of `PUT /projects/{key}/macros/{id}`.

use super::desk_chrome;
use super::rows::{problems_of, row_numbers, RowOp};
use crate::views::{problem_links, render, Chrome, ProblemLink};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::desk;
use helpdesk::domain::macros::{self, MacroInput};
use helpdesk::error::FieldProblem;
use helpdesk::http::{self, Reply};
use helpdesk::model::MacroAction;
use helpdesk::{ApiError, App};
use serde_json::json;

/// The kinds of action, as the editor names them.
pub const ACTION_TYPES: [(&str, &str); 7] = [
    ("add_public_reply", "Reply to the customer"),
    ("add_internal_note", "Add an internal note"),
    ("set_status", "Set the status"),
    ("set_form", "Move to a form"),
    ("set_field", "Set a field"),
    ("add_tag", "Add a tag"),
    ("remove_tag", "Remove a tag"),
];

pub const STATUSES: [(&str, &str); 3] =
    [("open", "Open"), ("pending", "Pending (waiting for the customer)"), ("closed", "Closed")];

/// One action row: its kind, its text (reply, note, tag, status or form) and, for a field, the
/// field's key.
#[derive(Debug, Clone, Default)]
pub struct ActionRow {
    pub kind: String,
    pub value: String,
    pub key: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "desk/macro_editor.html")]
pub struct MacroEditorPage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    /// Empty for a new macro.
    pub id: String,
    pub name: String,
    pub rows: Vec<ActionRow>,
    pub types: &'static [(&'static str, &'static str)],
    pub statuses: &'static [(&'static str, &'static str)],
    /// (id, name) of the project's forms.
    pub forms: Vec<(String, String)>,
    /// (key, "Label (form)") of every field of the project's forms.
    pub fields: Vec<(String, String)>,
    pub new_type: String,
    pub name_error: Option<String>,
    pub problems: Vec<ProblemLink>,
    pub notice: Option<String>,
    /// The row (from 1; 0: none) that takes the focus after a row button.
    pub focus: usize,
}

impl MacroEditorPage {
    /// What the editor edits: its action's name and its Save button's word.
    pub fn kind(&self) -> &'static str {
        "macro"
    }

    pub fn type_label(&self, kind: &str) -> &'static str {
        ACTION_TYPES.iter().find(|(k, _)| *k == kind).map_or("Action", |(_, l)| l)
    }
}

fn row_of(action: &MacroAction) -> ActionRow {
    let (kind, value, key) = match action {
        MacroAction::SetForm { form } => ("set_form", form.clone(), String::new()),
        MacroAction::AddTag { tag } => ("add_tag", tag.clone(), String::new()),
        MacroAction::RemoveTag { tag } => ("remove_tag", tag.clone(), String::new()),
        MacroAction::AddInternalNote { body } => ("add_internal_note", body.clone(), String::new()),
        MacroAction::AddPublicReply { body } => ("add_public_reply", body.clone(), String::new()),
        MacroAction::SetStatus { status } => ("set_status", status.as_str().to_string(), String::new()),
        MacroAction::SetField { key, value } => ("set_field", value.clone(), key.clone()),
    };
    ActionRow { kind: kind.into(), value, key, errors: vec![] }
}

fn posted_rows(form: &Form) -> Vec<ActionRow> {
    let actions = form.with_prefix("action.");
    let get = |n: usize, part: &str| actions.get(&format!("{n}.{part}")).cloned().unwrap_or_default();
    row_numbers(actions.keys().cloned(), "")
        .into_iter()
        .map(|n| ActionRow { kind: get(n, "type"), value: get(n, "value"), key: get(n, "key"), errors: vec![] })
        .collect()
}

/// The body the editor means, as `PUT /projects/{key}/macros/{id}` takes it.
fn input(name: &str, rows: &[ActionRow]) -> Result<MacroInput, ApiError> {
    let actions: Vec<_> = rows
        .iter()
        .map(|r| {
            let value = r.value.trim();
            match r.kind.as_str() {
                "add_public_reply" | "add_internal_note" => json!({"type": r.kind, "body": value}),
                "set_status" => json!({"type": r.kind, "status": value}),
                "set_form" => json!({"type": r.kind, "form": value}),
                "set_field" => json!({"type": r.kind, "key": r.key.trim(), "value": value}),
                kind => json!({"type": kind, "tag": value}),
            }
        })
        .collect();
    http::parse_json_bytes::<MacroInput>(json!({"name": name, "actions": actions}).to_string().as_bytes())
}

pub async fn page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    id: &str,
    status: u16,
    adjust: impl FnOnce(&mut MacroEditorPage),
) -> Result<Reply, ApiError> {
    let shown = desk::settings(app, caller, key).await?;
    if !shown.admin {
        return Err(ApiError::Forbidden("only the project's admins change its macros".into()));
    }
    let chosen = match id {
        "new" => None,
        id => Some(shown.macros.macros.iter().find(|m| m.id == id).ok_or(ApiError::NotFound("macro"))?),
    };
    // Each key once: a key on several forms is one field to a macro.
    let mut fields: Vec<(String, String)> = vec![];
    for form in &shown.forms.forms {
        for field in &form.fields {
            match fields.iter_mut().find(|(key, _)| *key == field.key) {
                Some((_, label)) => label.insert_str(label.len() - 1, &format!(", {}", form.name)),
                None => fields.push((field.key.clone(), format!("{} ({})", field.label, form.name))),
            }
        }
    }
    let mut page = MacroEditorPage {
        chrome: desk_chrome(v, chosen.map_or("A new macro".to_string(), |m| format!("Macro: {}", m.name))),
        project_key: shown.project.key.clone(),
        project_name: shown.project.name.clone(),
        id: chosen.map(|m| m.id.clone()).unwrap_or_default(),
        name: chosen.map(|m| m.name.clone()).unwrap_or_default(),
        rows: chosen.map(|m| m.actions.iter().map(row_of).collect()).unwrap_or_default(),
        types: &ACTION_TYPES,
        statuses: &STATUSES,
        forms: shown.forms.forms.iter().map(|f| (f.id.clone(), f.name.clone())).collect(),
        fields,
        new_type: "add_public_reply".into(),
        name_error: None,
        problems: vec![],
        notice: None,
        focus: 0,
    };
    adjust(&mut page);
    Ok(Reply::html(status, render(&page)?))
}

fn place(page: &mut MacroEditorPage, problems: &[FieldProblem]) {
    for p in problems {
        if p.field == "name" {
            page.name_error = Some(p.message.clone());
        }
        let row = p.field.strip_prefix("actions.").and_then(|n| n.parse::<usize>().ok());
        if let Some(row) = row.and_then(|n| page.rows.get_mut(n.wrapping_sub(1))) {
            row.errors.push(p.message.clone());
        }
    }
    page.problems = problem_links(problems, |_| true);
    for (link, p) in page.problems.iter_mut().zip(problems) {
        link.href = match p.field.strip_prefix("actions.") {
            Some(n) => Some(format!("#action-{n}")),
            None => (p.field == "name").then(|| "#name".to_string()),
        };
    }
}

/// `macro` (save, or a row button) and `macro-delete`.
pub async fn action(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    action: &str,
    form: &Form,
) -> Result<Reply, ApiError> {
    let id = form.get("id");
    let shown_id = if id.is_empty() { "new" } else { id };
    if action == "macro-delete" {
        return match macros::delete_macro(app, caller, key, id).await {
            Ok(()) => Ok(Reply::see_other(format!("/desk/projects/{key}/settings?done=macro-deleted#macros"))),
            Err(err) => Err(err),
        };
    }
    let mut rows = posted_rows(form);
    let op = RowOp::parse(form.get("op"));
    let new_type = form.get("new_type").to_string();
    let name = form.get("name").to_string();
    if op != RowOp::Save {
        let kind = Some(new_type.clone())
            .filter(|t| ACTION_TYPES.iter().any(|(k, _)| k == t))
            .unwrap_or("add_public_reply".into());
        let value = if kind == "set_status" { "closed".to_string() } else { String::new() };
        let focus = op.apply(&mut rows, || ActionRow { kind, value, ..ActionRow::default() });
        return page(app, v, caller, key, shown_id, 200, |p| {
            (p.name, p.rows, p.new_type) = (name, rows, new_type);
            p.notice = Some("Not saved yet: press Save macro when the actions are right.".into());
            p.focus = focus.map_or(0, |n| n + 1);
        })
        .await;
    }
    let saved = macros::save_macro(app, caller, key, Some(id).filter(|i| !i.is_empty()), input(&name, &rows)).await;
    let err = match saved {
        Ok(m) => return Ok(Reply::see_other(format!("/desk/projects/{key}/macros/{}?done=macro-saved", m.id))),
        Err(err) => err,
    };
    // A kind or status no page offers (a hand-made post) is said on the page too, edits kept.
    let Some(problems) = problems_of(&err, "macro") else { return Err(err) };
    page(app, v, caller, key, shown_id, err.status(), |p| {
        (p.name, p.rows, p.new_type) = (name, rows, new_type);
        place(p, &problems);
    })
    .await
}
