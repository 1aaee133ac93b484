//! The console's automations page: a project's rules with when each last fired, an editor
//! (rows of selects, no script) that makes the same body `POST /projects/{key}/automations`
//! takes, and buttons to switch a rule on or off and remove it. Every change goes through
//! `automations::manage`, so the page checks nothing the API does not.

use super::{desk_chrome, in_place};
use crate::views::{render, Chrome};
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::automations::manage::{self, Automation, AutomationInput, RuleList};
use helpdesk::domain::automations::rules::{AutomationAction, ConditionField, ConditionOp, Trigger};
use helpdesk::http::{self, Reply};
use helpdesk::model::{Priority, RequestStatus};
use helpdesk::{ApiError, App};
use serde_json::{json, Value};

/// Condition and action rows the editor offers (a rule may have more by the API).
const ROWS: usize = 4;

pub const EVENTS: [(&str, &str); 7] = [
    ("request.created", "A request is created"),
    ("comment.customer", "A customer replies"),
    ("comment.agent", "An agent replies"),
    ("status.changed", "Its status changes"),
    ("sla.warning", "A service-level target is near"),
    ("sla.breach", "A service-level target is missed"),
    ("time", "It has been idle for a while"),
];

pub const FIELDS: [(&str, &str); 9] = [
    ("text", "Text"),
    ("tag", "Tag"),
    ("priority", "Priority"),
    ("status", "Status"),
    ("form", "Form"),
    ("channel", "Channel (email, portal, api)"),
    ("requester_domain", "Requester's domain"),
    ("organization", "Organization id"),
    ("assignee", "Assignee (address or none)"),
];

pub const OPS: [(&str, &str); 3] = [("is", "is"), ("is_not", "is not"), ("contains", "contains")];

pub const ACTIONS: [(&str, &str); 8] = [
    ("assign", "Assign to (an agent's address, or auto)"),
    ("set_priority", "Set priority to"),
    ("add_tag", "Add tag"),
    ("remove_tag", "Remove tag"),
    ("set_status", "Set status to"),
    ("add_internal_note", "Add an internal note"),
    ("send_acknowledgement", "Email the requester"),
    ("send_reminder", "Remind the requester by email"),
];

/// A rule as the list shows it.
pub struct RuleRow {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub when: String,
    pub does: String,
    /// "2026-12-03 10:00 UTC on HD-4", and what it could not do then.
    pub last_fired: Option<String>,
    pub skipped: String,
}

/// The editor's fields: a rule being written, or one being changed.
pub struct Editor {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub on: String,
    pub status: String,
    pub idle: String,
    /// (field, op, value) rows.
    pub conditions: Vec<(String, String, String)>,
    /// (type, value) rows.
    pub actions: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "desk/automations.html")]
pub struct AutomationsPage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    pub section: &'static str,
    pub admin: bool,
    pub rules: Vec<RuleRow>,
    pub editor: Editor,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub events: &'static [(&'static str, &'static str)],
    pub fields: &'static [(&'static str, &'static str)],
    pub ops: &'static [(&'static str, &'static str)],
    pub action_types: &'static [(&'static str, &'static str)],
}

fn label(list: &[(&str, &'static str)], key: &str) -> String {
    list.iter().find(|(k, _)| *k == key).map_or(key.to_string(), |(_, l)| l.to_string())
}

/// An action's value as one text: what the editor's value box holds.
fn action_value(action: &AutomationAction) -> (String, String) {
    let kind = action.name().to_string();
    let value = match action {
        AutomationAction::Assign { agent: Some(a), .. } => a.clone(),
        AutomationAction::Assign { agent: None, .. } => "auto".into(),
        AutomationAction::SetPriority { priority } => priority.as_str().into(),
        AutomationAction::AddTag { tag } | AutomationAction::RemoveTag { tag } => tag.clone(),
        AutomationAction::SetStatus { status } => status.as_str().into(),
        AutomationAction::AddInternalNote { body }
        | AutomationAction::SendAcknowledgement { body }
        | AutomationAction::SendReminder { body } => body.clone(),
        AutomationAction::Webhook { id } => id.clone(),
    };
    (kind, value)
}

fn row(rule: &Automation, list: &RuleList) -> RuleRow {
    let mut when = label(&EVENTS, rule.on.as_str());
    if let (Some(status), Some(idle)) = (rule.status, &rule.idle) {
        when = format!("It has been {} for {idle} since the last public reply", status.as_str());
    }
    let conditions: Vec<String> = rule
        .conditions
        .iter()
        .map(|c| {
            format!("{} {} \u{201c}{}\u{201d}", c.field.as_str().replace('_', " "), label(&OPS, c.op.as_str()), c.value)
        })
        .collect();
    if !conditions.is_empty() {
        when = format!("{when}, if {}", conditions.join(" and "));
    }
    let does: Vec<String> = rule
        .actions
        .iter()
        .map(|a| {
            let (kind, value) = action_value(a);
            let value = shortened(&value, 60);
            format!(
                "{}: {value}",
                label(&ACTIONS, &kind).split(" (").next().unwrap_or_default().trim_end_matches(" to")
            )
        })
        .collect();
    let fired = list.last_fired(&rule.id);
    RuleRow {
        id: rule.id.clone(),
        name: rule.name.clone(),
        enabled: rule.enabled,
        when,
        does: does.join("; "),
        last_fired: fired.map(|f| format!("{} on {}", crate::views::when(f.at), f.request_key)),
        skipped: fired.map(|f| f.skipped.join("; ")).unwrap_or_default(),
    }
}

/// At most `max` characters, cut at a word and marked as cut.
fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let at_word = cut.rsplit_once(char::is_whitespace).map_or(cut.as_str(), |(head, _)| head);
    format!("{}\u{2026}", at_word.trim_end_matches(|c: char| c.is_ascii_punctuation()))
}

fn editor_of(rule: Option<&Automation>) -> Editor {
    let mut editor = Editor {
        id: String::new(),
        name: String::new(),
        enabled: true,
        on: "request.created".into(),
        status: "pending".into(),
        idle: String::new(),
        conditions: vec![],
        actions: vec![],
    };
    if let Some(rule) = rule {
        editor.id = rule.id.clone();
        editor.name = rule.name.clone();
        editor.enabled = rule.enabled;
        editor.on = rule.on.as_str().into();
        editor.status = rule.status.map_or("pending", RequestStatus::as_str).into();
        editor.idle = rule.idle.clone().unwrap_or_default();
        editor.conditions =
            rule.conditions.iter().map(|c| (c.field.as_str().into(), c.op.as_str().into(), c.value.clone())).collect();
        editor.actions = rule.actions.iter().map(action_value).collect();
    }
    editor.conditions.resize(editor.conditions.len().max(ROWS), Default::default());
    editor.actions.resize(editor.actions.len().max(ROWS), Default::default());
    editor
}

/// What the admin typed, shown back after a refusal.
fn typed(form: &Form) -> Editor {
    let rows = |n: usize| 0..n.max(ROWS);
    let count = |prefix: &str| form.with_prefix(prefix).len();
    Editor {
        id: form.get("id").into(),
        name: form.get("name").into(),
        enabled: form.get("enabled") == "true",
        on: form.get("on").into(),
        status: form.get("status").into(),
        idle: form.get("idle").into(),
        conditions: rows(count("condition.field."))
            .map(|i| {
                let get = |part: &str| form.get(&format!("condition.{part}.{i}")).to_string();
                (get("field"), get("op"), get("value"))
            })
            .collect(),
        actions: rows(count("action.type."))
            .map(|i| (form.get(&format!("action.type.{i}")).into(), form.get(&format!("action.value.{i}")).into()))
            .collect(),
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::invalid("invalid_automation", message)
}

/// The body the editor means, as the API route takes it.
fn input(editor: &Editor) -> Result<AutomationInput, ApiError> {
    let on = Trigger::parse(&editor.on).ok_or_else(|| invalid("choose when the rule runs".into()))?;
    let mut conditions = vec![];
    for (i, (field, op, value)) in editor.conditions.iter().enumerate() {
        if field.is_empty() && value.trim().is_empty() {
            continue;
        }
        let known = ConditionField::ALL.iter().any(|f| f.as_str() == field)
            && ConditionOp::ALL.iter().any(|o| o.as_str() == op);
        if !known {
            return Err(invalid(format!("condition {}: choose what it looks at and how", i + 1)));
        }
        conditions.push(json!({"field": field, "op": op, "value": value}));
    }
    let mut actions = vec![];
    for (i, (kind, value)) in editor.actions.iter().enumerate() {
        let value = value.trim();
        if kind.is_empty() {
            if !value.is_empty() {
                return Err(invalid(format!("action {}: choose what it does", i + 1)));
            }
            continue;
        }
        let lower = value.to_lowercase();
        let action = match kind.as_str() {
            "assign" if lower == "auto" => json!({"type": "assign", "auto": true}),
            "assign" => json!({"type": "assign", "agent": value}),
            "set_priority" => match Priority::parse(&lower) {
                Some(p) => json!({"type": kind, "priority": p.as_str()}),
                None => return Err(invalid(format!("action {}: priority is low, normal, high or urgent", i + 1))),
            },
            "set_status" => match RequestStatus::parse(&lower) {
                Some(s) => json!({"type": kind, "status": s.as_str()}),
                None => return Err(invalid(format!("action {}: status is open, pending or closed", i + 1))),
            },
            "add_tag" | "remove_tag" => json!({"type": kind, "tag": value}),
            "add_internal_note" | "send_acknowledgement" | "send_reminder" => json!({"type": kind, "body": value}),
            _ => return Err(invalid(format!("action {}: choose what it does", i + 1))),
        };
        actions.push(action);
    }
    let mut body = json!({"name": editor.name, "enabled": editor.enabled, "on": on.as_str(),
                          "conditions": conditions, "actions": actions});
    if on == Trigger::Time {
        body["status"] = Value::from(editor.status.as_str());
        body["idle"] = Value::from(editor.idle.trim());
    }
    http::parse_json_bytes::<AutomationInput>(body.to_string().as_bytes())
}

pub async fn page(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    editing: Option<&str>,
    status: u16,
    adjust: impl FnOnce(&mut AutomationsPage),
) -> Result<Reply, ApiError> {
    let list = manage::list_automations(app, caller, key).await?;
    let edited = editing.and_then(|id| list.automations.get(id));
    let mut page = AutomationsPage {
        chrome: desk_chrome(v, format!("{}: automations", list.project_name)),
        project_key: list.automations.project.clone(),
        project_name: list.project_name.clone(),
        section: "automations",
        admin: list.admin,
        rules: list.automations.rules.iter().map(|r| row(r, &list)).collect(),
        editor: editor_of(edited),
        notice: None,
        error: None,
        events: &EVENTS,
        fields: &FIELDS,
        ops: &OPS,
        action_types: &ACTIONS,
    };
    adjust(&mut page);
    Ok(Reply::html(status, render(&page)?))
}

/// `automation` (save the editor), `automation-on`, `automation-off`, `automation-delete`.
pub async fn action(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    action: &str,
    form: &Form,
) -> Result<Reply, ApiError> {
    let id = form.get("id");
    let back = |done: &str| Reply::see_other(format!("/desk/projects/{key}/automations?done={done}"));
    let result: Result<std::convert::Infallible, (ApiError, Option<Editor>)> = match action {
        "automation" => {
            let editor = typed(form);
            let body = input(&editor);
            let saved = match id {
                "" => manage::add_automation(app, caller, key, body).await,
                id => manage::update_automation(app, caller, key, id, body).await,
            };
            match saved {
                Ok(_) => return Ok(back("automation-saved")),
                Err(err) => Err((err, Some(editor))),
            }
        }
        "automation-on" | "automation-off" => {
            let list = manage::list_automations(app, caller, key).await?;
            let rule = list.automations.get(id).ok_or(ApiError::NotFound("automation"))?.clone();
            let mut body = serde_json::to_value(&rule).unwrap_or_default();
            body.as_object_mut().map(|o| o.remove("id"));
            body["enabled"] = json!(action == "automation-on");
            let input = http::parse_json_bytes::<AutomationInput>(body.to_string().as_bytes());
            match manage::update_automation(app, caller, key, id, input).await {
                Ok(_) => return Ok(back(action)),
                Err(err) => Err((err, None)),
            }
        }
        "automation-delete" => match manage::delete_automation(app, caller, key, id).await {
            Ok(()) => return Ok(back(action)),
            Err(err) => Err((err, None)),
        },
        _ => return Err(ApiError::RouteNotFound),
    };
    let Err((err, editor)) = result;
    let Some(message) = in_place(&err) else { return Err(err) };
    page(app, v, caller, key, None, err.status(), |p| {
        p.error = Some(message);
        if let Some(editor) = editor {
            p.editor = editor;
        }
    })
    .await
}
