//! The form editor (`/desk/projects/{key}/forms/{id}`, `new` for a new form): rows of fields
//! an admin adds, moves and removes with buttons (no script), saved through `save_form`, the
//! use case of `PUT /projects/{key}/forms/{id}`, which reports every problem at once.

use super::rows::{problems_of, row_numbers, RowOp};
use super::{desk_chrome, in_place};
use crate::views::{problem_links, render, Chrome, ProblemLink};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::desk;
use helpdesk::domain::forms::{self, FormInput, SUPPORT_OPS};
use helpdesk::error::FieldProblem;
use helpdesk::http::Reply;
use helpdesk::model::{FieldKind, FormField};
use helpdesk::{ApiError, App};

/// The kinds of field, as the editor names them.
pub const FIELD_TYPES: [(&str, &str); 6] = [
    ("text", "Short text"),
    ("textarea", "Long text"),
    ("select", "A choice from a list"),
    ("checkbox", "A tick box"),
    ("email", "An email address"),
    ("date", "A date"),
];

/// One field row as the editor shows it; `options` one per line.
#[derive(Debug, Clone, Default)]
pub struct FieldRow {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub help: String,
    pub options: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "desk/form_editor.html")]
pub struct FormEditorPage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    /// Empty for a new form.
    pub id: String,
    pub name: String,
    pub description: String,
    pub public: bool,
    pub default: bool,
    /// Whether it is the default form now (it cannot be removed then, nor un-defaulted here).
    pub is_default: bool,
    pub removable: bool,
    pub rows: Vec<FieldRow>,
    pub types: &'static [(&'static str, &'static str)],
    pub new_type: String,
    pub name_error: Option<String>,
    pub description_error: Option<String>,
    pub problems: Vec<ProblemLink>,
    pub notice: Option<String>,
    /// The row (from 1; 0: none) whose label takes the focus after a row button.
    pub focus: usize,
}

impl FormEditorPage {
    /// What the editor edits: its action's name and its Save button's word.
    pub fn kind(&self) -> &'static str {
        "form"
    }

    pub fn type_label(&self, kind: &str) -> &'static str {
        FIELD_TYPES.iter().find(|(k, _)| *k == kind).map_or("Short text", |(_, l)| l)
    }
}

fn kind_name(kind: FieldKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn row_of(f: &FormField) -> FieldRow {
    FieldRow {
        key: f.key.clone(),
        label: f.label.clone(),
        kind: kind_name(f.kind),
        required: f.required,
        help: f.help.clone().unwrap_or_default(),
        options: f.options.join("\n"),
        errors: vec![],
    }
}

/// The rows as posted, in their order on the page.
fn posted_rows(form: &Form) -> Vec<FieldRow> {
    let fields = form.with_prefix("field.");
    let get = |n: usize, part: &str| fields.get(&format!("{n}.{part}")).cloned().unwrap_or_default();
    row_numbers(fields.keys().cloned(), "")
        .into_iter()
        .map(|n| FieldRow {
            key: get(n, "key").trim().to_string(),
            label: get(n, "label"),
            kind: get(n, "type"),
            required: get(n, "required") == "true",
            help: get(n, "help"),
            options: get(n, "options"),
            errors: vec![],
        })
        .collect()
}

/// A key made from a label: `How bad is it?` -> `how_bad_is_it`, unique among `taken`.
fn key_from(label: &str, taken: &[String]) -> String {
    let mut key = String::new();
    for c in label.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    let base: String = key.trim_end_matches('_').chars().take(36).collect();
    let base = if base.is_empty() { "field".to_string() } else { base };
    let mut key = base.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

/// The body the editor means, as `PUT /projects/{key}/forms/{id}` takes it. A row without a
/// key gets one from its label; choices count only for a list.
fn input(form: &Form, rows: &[FieldRow]) -> FormInput {
    let mut keys: Vec<String> = rows.iter().map(|r| r.key.clone()).filter(|k| !k.is_empty()).collect();
    let fields = rows
        .iter()
        .map(|r| {
            let key = match r.key.as_str() {
                "" => key_from(&r.label, &keys),
                key => key.to_string(),
            };
            keys.push(key.clone());
            let kind = serde_json::from_value(serde_json::Value::from(r.kind.as_str())).unwrap_or(FieldKind::Text);
            let options = match kind {
                FieldKind::Select => {
                    r.options.lines().map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect()
                }
                _ => vec![],
            };
            let help = Some(r.help.trim().to_string()).filter(|h| !h.is_empty());
            FormField { key, label: r.label.trim().to_string(), kind, required: r.required, options, help }
        })
        .collect();
    FormInput {
        name: form.get("name").to_string(),
        description: form.get("description").trim().to_string(),
        public: form.get("public") == "true",
        fields,
        default: form.get("default") == "true",
    }
}

pub async fn page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    id: &str,
    status: u16,
    adjust: impl FnOnce(&mut FormEditorPage),
) -> Result<Reply, ApiError> {
    let shown = desk::settings(app, caller, key).await?;
    if !shown.admin {
        return Err(ApiError::Forbidden("only the project's admins change its forms".into()));
    }
    let new = id == "new";
    let form = match new {
        true => None,
        false => Some(shown.forms.get(id).ok_or(ApiError::NotFound("form"))?),
    };
    let is_default = form.is_some_and(|f| f.id == shown.forms.default_form);
    let mut page = FormEditorPage {
        chrome: desk_chrome(v, form.map_or("A new form".to_string(), |f| format!("Form: {}", f.name))),
        project_key: shown.project.key.clone(),
        project_name: shown.project.name.clone(),
        id: form.map(|f| f.id.clone()).unwrap_or_default(),
        name: form.map(|f| f.name.clone()).unwrap_or_default(),
        description: form.map(|f| f.description.clone()).unwrap_or_default(),
        public: form.is_none_or(|f| f.public),
        default: is_default,
        is_default,
        removable: form.is_some_and(|f| f.id != SUPPORT_OPS && !is_default),
        rows: form.map(|f| f.fields.iter().map(row_of).collect()).unwrap_or_default(),
        types: &FIELD_TYPES,
        new_type: "text".into(),
        name_error: None,
        description_error: None,
        problems: vec![],
        notice: None,
        focus: 0,
    };
    adjust(&mut page);
    Ok(Reply::html(status, render(&page)?))
}

/// Places each problem by its row (`fields.<n>.<part>`, from 1) or input; all are listed at the top.
fn place(page: &mut FormEditorPage, problems: &[FieldProblem]) {
    for p in problems {
        match p.field.as_str() {
            "name" => page.name_error = Some(p.message.clone()),
            "description" => page.description_error = Some(p.message.clone()),
            field => {
                let row = field.strip_prefix("fields.").and_then(|r| r.split('.').next()?.parse::<usize>().ok());
                if let Some(row) = row.and_then(|n| page.rows.get_mut(n.wrapping_sub(1))) {
                    row.errors.push(p.message.clone());
                }
            }
        }
    }
    // Linked to its input when the page has one: the name, the description, a field's part.
    let href = |field: &str| match field.strip_prefix("fields.") {
        Some(part) if part.contains('.') => Some(format!("#field-{part}")),
        _ if matches!(field, "name" | "description") => Some(format!("#{field}")),
        _ => None,
    };
    page.problems = problem_links(problems, |_| true);
    for (link, p) in page.problems.iter_mut().zip(problems) {
        link.href = href(&p.field);
    }
}

/// `form` (save, or a row button) and `form-delete`.
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
    if action == "form-delete" {
        return match forms::delete_form(app, caller, key, id).await {
            Ok(()) => Ok(Reply::see_other(format!("/desk/projects/{key}/settings?done=form-deleted#forms"))),
            Err(err) => {
                let Some(message) = in_place(&err) else { return Err(err) };
                let problems = vec![FieldProblem::new("remove", err.code(), message)];
                page(app, v, caller, key, shown_id, err.status(), |p| p.problems = problem_links(&problems, |_| false))
                    .await
            }
        };
    }
    let mut rows = posted_rows(form);
    let op = RowOp::parse(form.get("op"));
    let new_type = form.get("new_type").to_string();
    let kept = |p: &mut FormEditorPage, rows: Vec<FieldRow>| {
        p.name = form.get("name").to_string();
        p.description = form.get("description").to_string();
        p.public = form.get("public") == "true";
        p.default = form.get("default") == "true";
        p.rows = rows;
        p.new_type = new_type.clone();
    };
    if op != RowOp::Save {
        let kind = Some(new_type.clone()).filter(|t| FIELD_TYPES.iter().any(|(k, _)| k == t)).unwrap_or("text".into());
        let focus = op.apply(&mut rows, || FieldRow { kind, ..FieldRow::default() });
        return page(app, v, caller, key, shown_id, 200, |p| {
            kept(p, rows);
            p.notice = Some("Not saved yet: press Save form when the fields are right.".into());
            p.focus = focus.map_or(0, |n| n + 1);
        })
        .await;
    }
    let body = input(form, &rows);
    let saved = forms::save_form(app, caller, key, Some(id).filter(|i| !i.is_empty()), Ok(body)).await;
    let err = match saved {
        Ok(f) => return Ok(Reply::see_other(format!("/desk/projects/{key}/forms/{}?done=form-saved", f.id))),
        Err(err) => err,
    };
    let Some(problems) = problems_of(&err, "form") else { return Err(err) };
    page(app, v, caller, key, shown_id, err.status(), |p| {
        kept(p, rows);
        place(p, &problems);
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_labels_and_stay_unique() {
        assert_eq!(key_from("How bad is it?", &[]), "how_bad_is_it");
        assert_eq!(key_from("  Order #  ", &["order".into()]), "order_2");
        assert_eq!(key_from("???", &[]), "field");
    }
}
