//! Macros (seed 002): data, not code. An agent applies one to a request and every action
//! lands in one transaction (request, comments, tags, history), or none does: an action that
//! cannot apply fails the whole macro with a 422 naming it. A client token (Idempotency-Key)
//! makes a retry apply it once.

use crate::domain::access::{require_agent, require_project_admin, Viewer};
use crate::domain::caller::{load_project, load_request, Caller};
use crate::domain::forms::{check_fields, forms_of};
use crate::domain::idempotency::{Idempotency, IdempotencyKey};
use crate::domain::requests::{history_write, update_request, Seen, Viewed, MAX_COMMENT};
use crate::domain::retry::Budget;
use crate::domain::tags::{apply_tag, check_tag, tag_change};
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::{project_forms_key, project_macros_key, request_key};
use crate::model::{AuthorRole, Comment, Macro, MacroAction, ProjectForms, ProjectMacros, Record, Request, User};
use crate::store::{Condition, StoreError, Write};
use crate::text::check_text;
use crate::App;
use serde::Deserialize;

pub const INCORRECT_FORM: &str = "incorrect-form-used";
pub const MAX_MACROS: usize = 50;
pub const MAX_ACTIONS: usize = 20;

impl ProjectMacros {
    /// Every project starts with `Incorrect form used` (seed 002).
    pub fn initial(project: &str) -> ProjectMacros {
        ProjectMacros {
            project: project.into(),
            macros: vec![Macro {
                id: INCORRECT_FORM.into(),
                name: "Incorrect form used".into(),
                actions: vec![
                    MacroAction::SetForm { form: crate::domain::forms::SUPPORT_OPS.into() },
                    MacroAction::AddTag { tag: "incorrect-form".into() },
                    MacroAction::AddInternalNote {
                        body: "The customer used the wrong form. Move this request to the correct form and fill in all its fields."
                            .into(),
                    },
                ],
            }],
            version: 0,
        }
    }
}

pub(crate) fn macros_of(project: &str, records: &[Record]) -> ProjectMacros {
    records
        .iter()
        .find_map(|r| match r {
            Record::ProjectMacros(m) if m.project == project => Some(m.clone()),
            _ => None,
        })
        .unwrap_or_else(|| ProjectMacros::initial(project))
}

fn action_name(action: &MacroAction) -> &'static str {
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
fn failed(index: usize, action: &MacroAction, why: &ApiError) -> ApiError {
    ApiError::invalid(
        "macro_action_failed",
        format!("action {} ({}): {}", index + 1, action_name(action), why.public_message()),
    )
}

/// Applies `actions` to `request` as `author`: the request as it ends up, and the comments
/// and tag items to write. Pure, so a retry after a lost race recomputes it.
fn plan(
    request: &Request,
    actions: &[MacroAction],
    forms: &ProjectForms,
    author: &User,
    comment_ids: &[String],
    now: i64,
) -> Result<(Request, Vec<Write>), ApiError> {
    let mut next = request.clone();
    let mut writes = vec![];
    let mut last_form_action = None;
    for (i, action) in actions.iter().enumerate() {
        let fail = |why: ApiError| failed(i, action, &why);
        match action {
            MacroAction::SetForm { form } => {
                let chosen = forms
                    .get(form)
                    .ok_or_else(|| fail(ApiError::invalid("unknown_form", format!("no form {form:?}"))))?;
                next.form = Some(chosen.id.clone());
                next.fields.retain(|k, _| chosen.fields.iter().any(|f| &f.key == k));
                last_form_action = Some(i);
            }
            MacroAction::AddTag { tag } | MacroAction::RemoveTag { tag } => {
                let add = matches!(action, MacroAction::AddTag { .. });
                let tag = check_tag(tag).map_err(fail)?;
                if let Some(write) = tag_change(&next, &tag, add).map_err(fail)? {
                    writes.retain(|w: &Write| w.key() != write.key());
                    writes.push(write);
                }
                apply_tag(&mut next, &tag, add);
            }
            MacroAction::AddInternalNote { body } | MacroAction::AddPublicReply { body } => {
                check_text("body", body, MAX_COMMENT, true, true).map_err(fail)?;
                let internal = matches!(action, MacroAction::AddInternalNote { .. });
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
                } else {
                    next.comment_count += 1;
                    next.record_public_reply(true, now, "", 0);
                }
                writes.push(Write::Put { record: Record::Comment(comment), condition: Condition::NotExists });
            }
            MacroAction::SetStatus { status } => {
                next.status = *status;
                next.status_by = Some(author.id.clone());
            }
            MacroAction::SetField { key, value } => {
                next.fields.insert(key.clone(), value.clone());
                last_form_action = Some(i);
            }
        }
    }
    // The values must fit the form the request ends on; the last action that touched them
    // takes the blame.
    if let Some(i) = last_form_action {
        let form_id = next.form.clone().unwrap_or_else(|| forms.default_form.clone());
        let form = forms.get(&form_id).ok_or_else(|| {
            failed(i, &actions[i], &ApiError::invalid("unknown_form", format!("no form {form_id:?}")))
        })?;
        next.fields = check_fields(form, &next.fields).map_err(|e| failed(i, &actions[i], &e))?;
    }
    Ok((next, writes))
}

/// Applies a macro to a request (agents), all in one transaction. With an Idempotency-Key,
/// a retry applies nothing and returns the request. Returns it and whether it was replayed.
pub async fn apply_macro(
    app: &App,
    caller: &Caller,
    key: &str,
    macro_id: &str,
    idempotency: Input<Option<IdempotencyKey>>,
) -> Result<(Viewed, bool), ApiError> {
    let user_id = caller.require_claim()?;
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let idem = match &idempotency {
        Ok(k) => Idempotency::new(k.as_ref(), user_id, &format!("macro\n{key}\n{macro_id}")),
        Err(_) => None,
    };
    let mut extra = vec![project_forms_key(project), project_macros_key(project)];
    extra.extend(idem.as_ref().map(Idempotency::record_key));
    let scope = load_request(app, caller, key, &extra).await?;
    require_agent(scope.user(), &scope.project.key)?;
    idempotency?;
    let now = app.now();
    if idem.as_ref().map(|i| i.earlier(&scope.extra, now)).transpose()?.flatten().is_some() {
        let current = match app.store.get(&request_key(key)).await? {
            Some(Record::Request(r)) => r,
            _ => return Err(ApiError::NotFound("request")),
        };
        return Ok(((Viewer::Agent, current), true));
    }
    let macros = macros_of(&scope.project.key, &scope.extra);
    let chosen = macros.macros.iter().find(|m| m.id == macro_id).ok_or(ApiError::NotFound("macro"))?.clone();
    let forms = forms_of(&scope.project.key, &scope.extra);
    let ids: Vec<String> = chosen.actions.iter().map(|_| crate::text::new_ulid()).collect();
    let author = scope.user().clone();
    // Checked once up front, so a failing action writes nothing and says which it was.
    let (_, writes) = plan(&scope.request, &chosen.actions, &forms, &author, &ids, now)?;
    let public = chosen.actions.iter().any(|a| {
        matches!(a, MacroAction::AddPublicReply { .. } | MacroAction::SetStatus { .. } | MacroAction::SetForm { .. })
    });
    let seen = if public { Seen::Public } else { Seen::AgentsOnly };
    let history = history_write(&scope.request, &author, "macro_applied", vec![], Some(chosen.name.clone()), now);
    let idem_write = idem.as_ref().map(|i| i.write(key, None, now));
    let change = |r: &mut Request| {
        if let Ok((next, _)) = plan(r, &chosen.actions, &forms, &author, &ids, now) {
            let version = r.version;
            *r = Request { version, ..next };
        }
    };
    let extra_writes = || {
        let mut all = writes.clone();
        all.push(history.clone());
        all.extend(idem_write.clone());
        all
    };
    let request = update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        seen,
        change,
        extra_writes,
    )
    .await?;
    Ok(((Viewer::Agent, request), false))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MacroInput {
    pub name: String,
    pub actions: Vec<MacroAction>,
}

/// The project's macros (its agents).
pub async fn list_macros(app: &App, caller: &Caller, project: &str) -> Result<ProjectMacros, ApiError> {
    let (actor, p, records) = load_project(app, caller, project, &[project_macros_key(project)]).await?;
    require_agent(&actor.user, &p.key)?;
    Ok(macros_of(&p.key, &records))
}

/// Adds a macro (project admins). Its actions are checked for shape here; whether they
/// apply to a given request is checked when it is applied.
pub async fn add_macro(app: &App, caller: &Caller, project: &str, input: Input<MacroInput>) -> Result<Macro, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let (actor, p, records) = load_project(app, caller, project, &[project_macros_key(project)]).await?;
        require_project_admin(&actor.user, &p.key)?;
        let input = input.as_ref().map_err(Clone::clone)?;
        check_text("name", &input.name, 100, false, true)?;
        if input.actions.is_empty() || input.actions.len() > MAX_ACTIONS {
            return Err(ApiError::invalid("invalid_field", format!("actions: 1-{MAX_ACTIONS}")));
        }
        for (i, action) in input.actions.iter().enumerate() {
            let shape = match action {
                MacroAction::AddTag { tag } | MacroAction::RemoveTag { tag } => check_tag(tag).map(|_| ()),
                MacroAction::AddInternalNote { body } | MacroAction::AddPublicReply { body } => {
                    check_text("body", body, MAX_COMMENT, true, true)
                }
                MacroAction::SetForm { form } => check_text("form", form, 64, false, true),
                MacroAction::SetField { key, value } => {
                    check_text("key", key, 40, false, true).and_then(|_| check_text("value", value, 1000, true, false))
                }
                MacroAction::SetStatus { .. } => Ok(()),
            };
            shape.map_err(|e| failed(i, action, &e))?;
        }
        let current = macros_of(&p.key, &records);
        let id = crate::text::new_ulid().to_lowercase();
        if current.macros.len() >= MAX_MACROS {
            return Err(ApiError::invalid("too_many_macros", format!("a project has at most {MAX_MACROS} macros")));
        }
        let made = Macro { id, name: input.name.trim().to_string(), actions: input.actions.clone() };
        let mut next = current.clone();
        next.macros.push(made.clone());
        next.version += 1;
        let condition = if current.version == 0 { Condition::NotExists } else { Condition::VersionIs(current.version) };
        match app.store.transact(vec![Write::Put { record: Record::ProjectMacros(next), condition }]).await {
            Ok(()) => return Ok(made),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
