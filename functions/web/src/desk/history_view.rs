//! A request's history as the console reads it: one sentence per change, a form move's
//! dropped values with its Undo.

use crate::views::when;
use helpdesk::model::{HistoryEntry, ProjectForms};

/// One line of the request's history, as a sentence's parts.
pub struct HistoryView {
    pub who: String,
    pub what: String,
    pub when: String,
    /// (label, value) of the field values a form move dropped.
    pub dropped: Vec<(String, String)>,
    /// The entry to name when undoing its form move (None: nothing to undo, or undone).
    pub undo: Option<String>,
}

impl HistoryView {
    pub fn new(h: &HistoryEntry, org_name: impl Fn(&str) -> String, names: &ProjectForms) -> Self {
        let emails = h.emails.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
        let detail = h.detail.clone().unwrap_or_default();
        let what = match h.action.as_str() {
            "participants_added" => format!("shared it with {emails}"),
            "participants_removed" => format!("stopped sharing it with {emails}"),
            "organization_set" => format!("set the organization to {}", org_name(&detail)),
            "organization_removed" => format!("removed the organization {}", org_name(&detail)),
            "macro_applied" => format!("applied the macro {detail}"),
            "assigned" if detail == "unassigned" => "unassigned it".to_string(),
            "assigned" => format!("assigned it to {emails}"),
            "priority_changed" => format!("set the priority to {detail}"),
            "status_changed" => format!("set the status to {detail}"),
            "form_changed" => match detail.split_once(" -> ") {
                Some((from, to)) if from == to => "changed the fields".to_string(),
                Some((from, to)) => {
                    format!("moved it from the form {} to {}", form_name(names, from), form_name(names, to))
                }
                None => format!("moved it to another form ({detail})"),
            },
            "form_move_undone" => match detail.split_once(" -> ") {
                Some((from, to)) => format!(
                    "undid a form move: back from {} to {}, with its values",
                    form_name(names, from),
                    form_name(names, to)
                ),
                None => "undid a form move".to_string(),
            },
            other => match detail.is_empty() {
                true => other.replace('_', " "),
                false => format!("{}: {detail}", other.replace('_', " ")),
            },
        };
        let label = |key: &str| {
            names
                .forms
                .iter()
                .flat_map(|f| &f.fields)
                .find(|f| f.key == key)
                .map(|f| f.label.clone())
                .unwrap_or(key.into())
        };
        HistoryView {
            who: h.actor_email.to_string(),
            what,
            when: when(h.at),
            dropped: h.dropped.iter().map(|(k, v)| (label(k), v.clone())).collect(),
            undo: (!h.dropped.is_empty() && h.undone_at.is_none()).then(|| h.id.clone()),
        }
    }
}

fn form_name(forms: &ProjectForms, id: &str) -> String {
    forms.get(id).map(|f| f.name.clone()).unwrap_or_else(|| id.to_string())
}
