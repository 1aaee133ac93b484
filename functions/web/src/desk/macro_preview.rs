//! The console's macros: a preview page that says in plain words what a macro will do to the
//! request (`macros::preview_macro`, changing nothing), then the API's apply
//! (`macros::apply_macro`) with the page's token as its Idempotency-Key, so a second press
//! replays instead of applying twice.

use super::{desk_chrome, in_place};
use crate::page_kit::nonce;
use crate::views::render;
use crate::visitor::{Form, Visitor};
use askama::Template;
use helpdesk::caller::Caller;
use helpdesk::domain::macros::{self, MacroPreview};
use helpdesk::http::Reply;
use helpdesk::model::{MacroAction, ProjectForms};
use helpdesk::{ApiError, App};

/// One action of the macro as the preview says it.
pub struct StepView {
    /// What it does, in the agent's words.
    pub what: String,
    /// The text it writes (a reply or a note), shown as it will read.
    pub body: Option<String>,
    /// `reply`, `note` or `other`: how the text is boxed.
    pub kind: &'static str,
    /// Why it cannot apply.
    pub error: Option<String>,
    /// Said when it would add nothing.
    pub skipped: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/macro.html")]
pub struct MacroPage {
    pub chrome: crate::views::Chrome,
    pub key: String,
    pub summary: String,
    pub macro_id: String,
    /// The macro as the preview shows it (`Macro::fingerprint`): a confirm applies only that.
    pub previewed: String,
    pub name: String,
    pub steps: Vec<StepView>,
    /// (label, value) of the values a form move would drop.
    pub dropped: Vec<(String, String)>,
    pub applies: bool,
    /// The confirmation's Idempotency-Key.
    pub nonce: String,
    pub error: Option<String>,
}

/// A field's label on any of the project's forms, else its key.
fn field_label(forms: &ProjectForms, key: &str) -> String {
    forms.forms.iter().flat_map(|f| &f.fields).find(|f| f.key == key).map(|f| f.label.clone()).unwrap_or(key.into())
}

fn form_name(forms: &ProjectForms, id: &str) -> String {
    forms.get(id).map(|f| f.name.clone()).unwrap_or_else(|| id.to_string())
}

impl MacroPage {
    fn new(chrome: crate::views::Chrome, p: &MacroPreview, error: Option<String>) -> Self {
        let r = &p.request;
        let to = p.recipients.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let steps = p
            .steps
            .iter()
            .map(|s| {
                let (what, body, kind) = match &s.action {
                    MacroAction::AddPublicReply { body } => {
                        (format!("Sends this reply, emailed to {to} and shown in their portal:"), Some(body), "reply")
                    }
                    MacroAction::AddInternalNote { body } => {
                        ("Adds this internal note (agents only, never emailed):".to_string(), Some(body), "note")
                    }
                    MacroAction::SetStatus { status } => (
                        format!(
                            "Sets the status to {} (it is {} now).",
                            super::views::status_label(*status),
                            super::views::status_label(r.status)
                        ),
                        None,
                        "other",
                    ),
                    MacroAction::SetForm { form } => {
                        let now = r.form.clone().unwrap_or_else(|| p.forms.default_form.clone());
                        let (from, to) = (form_name(&p.forms, &now), form_name(&p.forms, form));
                        (format!("Moves it from the form {from} to the form {to}."), None, "other")
                    }
                    MacroAction::AddTag { tag } => (format!("Adds the tag {tag}."), None, "other"),
                    MacroAction::RemoveTag { tag } => (format!("Removes the tag {tag}."), None, "other"),
                    MacroAction::SetField { key, value } => {
                        (format!("Sets {} to “{value}”.", field_label(&p.forms, key)), None, "other")
                    }
                };
                StepView {
                    what,
                    body: body.cloned(),
                    kind,
                    error: s.error.clone(),
                    skipped: s.already_there.then(|| {
                        "This note is already the newest note on the request, so it is not added again.".to_string()
                    }),
                }
            })
            .collect();
        MacroPage {
            chrome,
            key: r.key.clone(),
            summary: r.summary.clone(),
            macro_id: p.chosen.id.clone(),
            previewed: p.chosen.fingerprint(),
            name: p.chosen.name.clone(),
            steps,
            dropped: p.dropped.iter().map(|(k, v)| (field_label(&p.forms, k), v.clone())).collect(),
            applies: p.applies,
            nonce: helpdesk::text::new_secret(),
            error,
        }
    }
}

/// `GET /desk/requests/{key}/macro?macro=`: what the macro will do, and the confirmation.
pub async fn page(app: &App, v: &Visitor, caller: &Caller, key: &str, macro_id: &str) -> Result<Reply, ApiError> {
    show(app, v, caller, key, macro_id, None, 200).await
}

/// `POST /desk/requests/{key}/macro`: applies it once, then back to the request; a refusal
/// shows on the preview again.
pub async fn confirm(app: &App, v: &Visitor, caller: &Caller, key: &str, form: &Form) -> Result<Reply, ApiError> {
    let macro_id = form.get("macro");
    let previewed = Some(form.get("previewed")).filter(|p| !p.is_empty());
    let applied = macros::apply_macro(app, caller, key, macro_id, previewed, nonce(form)).await;
    match applied {
        Ok(_) => Ok(Reply::see_other(format!("/desk/requests/{key}?done=macro"))),
        Err(err) => {
            let Some(message) = in_place(&err) else { return Err(err) };
            show(app, v, caller, key, macro_id, Some(message), err.status()).await
        }
    }
}

async fn show(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    key: &str,
    macro_id: &str,
    error: Option<String>,
    status: u16,
) -> Result<Reply, ApiError> {
    let preview = macros::preview_macro(app, caller, key, macro_id).await?;
    let chrome = desk_chrome(v, format!("Apply {}? ({key})", preview.chosen.name));
    let page = MacroPage::new(chrome, &preview, error);
    Ok(Reply::html(status, render(&page)?))
}
