//! What a macro does to a request, worked out without writing: the preview shows it and the
//! apply path writes it, from the same `plan`, so the two cannot disagree.

use crate::domain::access::require_agent;
use crate::domain::caller::{load_request, Caller};
use crate::domain::forms::{check_fields, forms_of};
use crate::domain::requests::MAX_COMMENT;
use crate::domain::tags::{apply_tag, check_tag, tag_change};
use crate::error::ApiError;
use crate::items::{project_forms_key, project_macros_key};
use crate::model::{AuthorRole, Comment, EmailAddress, Macro, MacroAction, ProjectForms, Record, Request, User};
use crate::store::{Condition, Write};
use crate::text::check_text;
use crate::App;
use std::collections::BTreeMap;

pub(super) fn action_name(action: &MacroAction) -> &'static str {
    match action {
        MacroAction::SetForm { .. } => "set_form",
        MacroAction::AddTag { .. } => "add_tag",
        MacroAction::RemoveTag { .. } => "remove_tag",
        MacroAction::AddInternalNote { .. } => "add_internal_note",
        MacroAction::AddPublicReply { .. } => "add_public_reply",
        MacroAction::SetStatus { .. } => "set_status",
        MacroAction::SetField { .. } => "set_field",
    }
}

/// The error of action `index`, named so the agent knows which step failed.
pub(super) fn failed(index: usize, action: &MacroAction, why: &ApiError) -> ApiError {
    ApiError::invalid(
        "macro_action_failed",
        format!("action {} ({}): {}", index + 1, action_name(action), why.public_message()),
    )
}

/// What marks the newest internal note as macro `macro_id`'s `body`: it holds while no other
/// note came after it (the note count it made is still the request's).
fn note_mark(macro_id: &str, body: &str, note_count: u32) -> String {
    format!("{macro_id} {} {note_count}", &crate::text::sha256_hex(body)[..16])
}

/// A macro worked out on a request: the request as it ends up, the comments and tag items to
/// write, and per action why it cannot apply (None: it can).
pub(super) struct Planned {
    pub next: Request,
    pub writes: Vec<Write>,
    pub errors: Vec<Option<ApiError>>,
    /// Internal notes left out because the request's newest note is already this one.
    pub already_there: Vec<bool>,
    /// Field values the request had that the form it ends on has no field for.
    pub dropped: BTreeMap<String, String>,
}

impl Planned {
    /// The first action that cannot apply, named: a macro applies whole or not at all.
    pub fn first_error(&self, chosen: &Macro) -> Option<ApiError> {
        self.errors.iter().enumerate().find_map(|(i, e)| e.as_ref().map(|e| failed(i, &chosen.actions[i], e)))
    }
}

/// Applies `chosen` to `request` as `author`. Pure, so a retry after a lost race recomputes
/// it; an action that cannot apply is skipped and its error kept.
pub(super) fn plan(
    request: &Request,
    chosen: &Macro,
    forms: &ProjectForms,
    author: &User,
    comment_ids: &[String],
    now: i64,
) -> Planned {
    let mut next = request.clone();
    let mut writes = vec![];
    let mut errors: Vec<Option<ApiError>> = vec![None; chosen.actions.len()];
    let mut already_there = vec![false; chosen.actions.len()];
    let mut last_form_action = None;
    for (i, action) in chosen.actions.iter().enumerate() {
        let outcome = match action {
            MacroAction::SetForm { form } => match forms.get(form) {
                Some(f) => {
                    next.form = Some(f.id.clone());
                    next.fields.retain(|k, _| f.fields.iter().any(|x| &x.key == k));
                    last_form_action = Some(i);
                    Ok(())
                }
                None => Err(ApiError::invalid("unknown_form", format!("no form {form:?}"))),
            },
            MacroAction::AddTag { tag } | MacroAction::RemoveTag { tag } => {
                let add = matches!(action, MacroAction::AddTag { .. });
                check_tag(tag).and_then(|tag| {
                    if let Some(write) = tag_change(&next, &tag, add)? {
                        writes.retain(|w: &Write| w.key() != write.key());
                        writes.push(write);
                    }
                    apply_tag(&mut next, &tag, add);
                    Ok(())
                })
            }
            MacroAction::AddInternalNote { body } | MacroAction::AddPublicReply { body } => {
                let internal = matches!(action, MacroAction::AddInternalNote { .. });
                check_text("body", body, MAX_COMMENT, true, true).map(|_| {
                    if internal && next.macro_note.as_deref() == Some(&note_mark(&chosen.id, body, next.note_count)) {
                        already_there[i] = true;
                        return;
                    }
                    let comment = Comment {
                        request_key: request.key.clone(),
                        id: comment_ids[i].clone(),
                        author_id: author.id.clone(),
                        author_email: author.email.clone(),
                        body: body.clone(),
                        internal,
                        created_at: now,
                        author_role: Some(AuthorRole::Team),
                        author_name: author.name.clone(),
                        merged_from: None,
                    };
                    if internal {
                        next.note_count += 1;
                        next.noted_at = Some(now);
                        next.macro_note = Some(note_mark(&chosen.id, body, next.note_count));
                    } else {
                        next.comment_count += 1;
                        next.record_public_reply(true, now, "", 0);
                    }
                    writes.push(Write::Put { record: Record::Comment(comment), condition: Condition::NotExists });
                })
            }
            MacroAction::SetStatus { status } => {
                next.status = *status;
                next.status_by = Some(author.id.clone());
                Ok(())
            }
            MacroAction::SetField { key, value } => {
                next.fields.insert(key.clone(), value.clone());
                last_form_action = Some(i);
                Ok(())
            }
        };
        errors[i] = outcome.err();
    }
    // The values must fit the form the request ends on; the last action that touched them
    // takes the blame.
    if let Some(i) = last_form_action.filter(|i| errors[*i].is_none()) {
        let form_id = next.form.clone().unwrap_or_else(|| forms.default_form.clone());
        let checked = forms
            .get(&form_id)
            .ok_or_else(|| ApiError::invalid("unknown_form", format!("no form {form_id:?}")))
            .and_then(|form| check_fields(form, &next.fields));
        match checked {
            Ok(fields) => next.fields = fields,
            Err(e) => errors[i] = Some(e),
        }
    }
    let dropped = crate::domain::form_moves::dropped_values(request, &next, forms);
    Planned { next, writes, errors, already_there, dropped }
}

/// One action of a previewed macro: what it is, and why it cannot apply or that it would
/// add nothing (its note is already the request's newest).
#[derive(Debug, Clone)]
pub struct PreviewStep {
    pub action: MacroAction,
    pub error: Option<String>,
    pub already_there: bool,
}

/// What applying a macro would do to a request now, written nowhere.
#[derive(Debug, Clone)]
pub struct MacroPreview {
    pub chosen: Macro,
    pub request: Request,
    pub steps: Vec<PreviewStep>,
    /// Who a public reply is emailed to: the reporter and everyone it is shared with.
    pub recipients: Vec<EmailAddress>,
    /// Values the form move would drop (the new form has no field for them).
    pub dropped: BTreeMap<String, String>,
    /// The project's forms, to name forms and fields.
    pub forms: ProjectForms,
    /// Whether the whole macro would apply (no step failed).
    pub applies: bool,
}

/// What macro `macro_id` would do to request `key` (agents), changing nothing.
pub async fn preview_macro(app: &App, caller: &Caller, key: &str, macro_id: &str) -> Result<MacroPreview, ApiError> {
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let extra = [project_forms_key(project), project_macros_key(project)];
    let scope = load_request(app, caller, key, &extra).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let macros = super::macros_of(&scope.project.key, &scope.extra);
    let chosen = macros.macros.iter().find(|m| m.id == macro_id).ok_or(ApiError::NotFound("macro"))?.clone();
    let forms = forms_of(&scope.project.key, &scope.extra);
    let ids: Vec<String> = chosen.actions.iter().map(|_| String::new()).collect();
    let planned = plan(&scope.request, &chosen, &forms, scope.user(), &ids, app.now());
    let steps = chosen
        .actions
        .iter()
        .zip(planned.errors.iter().zip(&planned.already_there))
        .map(|(action, (error, there))| PreviewStep {
            action: action.clone(),
            error: error.as_ref().map(ApiError::public_message),
            already_there: *there,
        })
        .collect();
    let request = scope.request;
    let mut recipients = vec![request.reporter_email.clone()];
    recipients.extend(request.participants.iter().filter(|p| **p != request.reporter_email).cloned());
    Ok(MacroPreview {
        applies: planned.errors.iter().all(Option::is_none),
        chosen,
        steps,
        recipients,
        dropped: planned.dropped,
        forms,
        request,
    })
}
