//! Macros (seed 002): data, not code. An agent previews one on a request, then applies it:
//! every action lands in one transaction (request, comments, tags, history), or none does: an
//! action that cannot apply fails the whole macro with a 422 naming it. A client token
//! (Idempotency-Key) makes a retry apply it once, and a macro's note that is already the
//! request's newest is not added twice.

use crate::domain::access::{require_agent, require_project_admin, Viewer};
use crate::domain::caller::{load_project, load_request, Caller};
use crate::domain::form_moves::{form_move_history, form_of};
use crate::domain::forms::forms_of;
use crate::domain::idempotency::{Idempotency, IdempotencyKey};
use crate::domain::requests::{history_write, try_update_request, Seen, Viewed, MAX_COMMENT};
use crate::domain::retry::Budget;
use crate::domain::tags::check_tag;
use crate::domain::Input;
use crate::error::{ApiError, FieldProblem};
use crate::items::{project_forms_key, project_macros_key, request_key};
use crate::model::{Macro, MacroAction, ProjectForms, ProjectMacros, Record, Request};
use crate::store::{Condition, StoreError, Write};
use crate::text::check_text;
use crate::App;
use plan::{failed, plan};
use serde::Deserialize;

mod plan;
pub use plan::{preview_macro, MacroPreview, PreviewStep};

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

impl Macro {
    /// What the macro is now, in short: a preview carries it, so a confirm applies the macro
    /// the agent read, not one an admin changed since.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        crate::text::sha256_hex(&text)[..16].to_string()
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

/// Applies a macro to a request (agents), all in one transaction: the same `plan` the
/// preview shows. With an Idempotency-Key, a retry applies nothing and returns the request.
/// `previewed` (the fingerprint a preview showed) refuses a macro changed since (409
/// `macro_changed`). Returns the request and whether it was replayed.
pub async fn apply_macro(
    app: &App,
    caller: &Caller,
    key: &str,
    macro_id: &str,
    previewed: Option<&str>,
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
    if previewed.is_some_and(|seen| seen != chosen.fingerprint()) {
        return Err(ApiError::Conflict {
            code: "macro_changed",
            message:
                "The macro was changed since you opened it: this is what it does now. Apply it again if it is right."
                    .into(),
        });
    }
    let forms = forms_of(&scope.project.key, &scope.extra);
    let ids: Vec<String> = chosen.actions.iter().map(|_| crate::text::new_ulid()).collect();
    let author = scope.user().clone();
    // Customers see the change (its time) only when it changes what they see: a reply, the
    // status, the form or its values. A macro that only tags and notes moves no customer-side
    // time, even if it names a form the request is already on (its note's time stays agents').
    let first = plan(&scope.request, &chosen, &forms, &author, &ids, now);
    let public = chosen.actions.iter().any(|a| matches!(a, MacroAction::AddPublicReply { .. }))
        || first.next.status != scope.request.status
        || first.next.form != scope.request.form
        || first.next.fields != scope.request.fields;
    let seen = if public { Seen::Public } else { Seen::AgentsOnly };
    let idem_write = idem.as_ref().map(|i| i.write(key, None, now));
    // Worked out again on each attempt from the request as read, so a retry after a lost
    // race writes what the request it lands on needs (a note already there is not added).
    let change = |r: &mut Request| {
        let planned = plan(r, &chosen, &forms, &author, &ids, now);
        if let Some(err) = planned.first_error(&chosen) {
            return Err(err);
        }
        *r = Request { version: r.version, ..planned.next };
        Ok(())
    };
    let extra_writes = |before: &Request, _: &Request| {
        let planned = plan(before, &chosen, &forms, &author, &ids, now);
        let mut all = planned.writes;
        all.push(history_write(before, &author, "macro_applied", vec![], Some(chosen.name.clone()), now));
        if form_of(&planned.next, &forms) != form_of(before, &forms) {
            all.push(form_move_history(before, &author, &planned.next, &forms, planned.dropped, now));
        }
        all.extend(idem_write.clone());
        all
    };
    let request = try_update_request(
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

/// Changes the project's macros (project admins): `change` works out the next ones from the
/// current ones and the project's forms, written under optimistic locking of the macros item
/// (a lost race reads again). When a macro moves requests to a form, the forms item is checked
/// as read too: a form removed meanwhile is not left named by a macro.
async fn change_macros<T>(
    app: &App,
    caller: &Caller,
    project: &str,
    change: impl Fn(&ProjectMacros, &ProjectForms) -> Result<(ProjectMacros, T), ApiError>,
) -> Result<T, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let keys = [project_macros_key(project), project_forms_key(project)];
        let (actor, p, records) = load_project(app, caller, project, &keys).await?;
        require_project_admin(&actor.user, &p.key)?;
        let current = macros_of(&p.key, &records);
        let forms = forms_of(&p.key, &records);
        let (mut next, out) = change(&current, &forms)?;
        if next == current {
            // Nothing changes (a retried save): nothing to write.
            return Ok(out);
        }
        next.version = current.version + 1;
        let moves = next.macros.iter().flat_map(|m| &m.actions).any(|a| matches!(a, MacroAction::SetForm { .. }));
        let condition = if current.version == 0 { Condition::NotExists } else { Condition::VersionIs(current.version) };
        let mut writes = vec![Write::Put { record: Record::ProjectMacros(next), condition }];
        if moves {
            let condition = if forms.version == 0 { Condition::NotExists } else { Condition::VersionIs(forms.version) };
            writes.push(Write::Check { key: project_forms_key(&p.key), condition });
        }
        match app.store.transact(writes).await {
            Ok(()) => return Ok(out),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A macro's name and actions, checked for shape, every problem at once (`name`, then
/// `actions.<n>` counted from 1); whether they apply to a given request is checked when it is
/// applied.
fn check_definition(input: &MacroInput, forms: &ProjectForms) -> Result<(), ApiError> {
    let mut problems = vec![];
    if let Err(e) = check_text("name", &input.name, 100, false, true) {
        let message = match input.name.trim().is_empty() {
            true => "Give the macro a name".to_string(),
            false => e.public_message(),
        };
        problems.push(FieldProblem::new("name", "invalid_field", message));
    }
    if input.actions.is_empty() || input.actions.len() > MAX_ACTIONS {
        let message = format!("A macro has 1 to {MAX_ACTIONS} actions");
        problems.push(FieldProblem::new("actions", "invalid_field", message));
    }
    for (i, action) in input.actions.iter().enumerate() {
        let empty = |what: &str, value: &str| match value.trim().is_empty() {
            true => Err(ApiError::invalid("invalid_field", format!("give {what}"))),
            false => Ok(()),
        };
        let shape = match action {
            MacroAction::AddTag { tag } | MacroAction::RemoveTag { tag } => {
                empty("the tag", tag).and_then(|_| check_tag(tag).map(|_| ()))
            }
            MacroAction::AddInternalNote { body } | MacroAction::AddPublicReply { body } => {
                empty("the text", body).and_then(|_| check_text("body", body, MAX_COMMENT, true, true))
            }
            MacroAction::SetForm { form } => empty("the form", form).and_then(|_| match forms.get(form) {
                Some(_) => Ok(()),
                None => Err(ApiError::invalid("unknown_form", format!("this project has no form {form:?}"))),
            }),
            MacroAction::SetField { key, value } => empty("the field", key)
                .and_then(|_| check_text("key", key, 40, false, true))
                .and_then(|_| check_text("value", value, 1000, true, false)),
            MacroAction::SetStatus { .. } => Ok(()),
        };
        if let Err(e) = shape {
            let why = failed(i, action, &e);
            problems.push(FieldProblem::new(format!("actions.{}", i + 1), why.code(), why.public_message()));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ApiError::Fields(problems)),
    }
}

/// Adds a macro (`id` None) or replaces one, keeping its id (project admins).
pub async fn save_macro(
    app: &App,
    caller: &Caller,
    project: &str,
    id: Option<&str>,
    input: Input<MacroInput>,
) -> Result<Macro, ApiError> {
    change_macros(app, caller, project, |current, forms| {
        let input = input.as_ref().map_err(Clone::clone)?;
        check_definition(input, forms)?;
        let name = input.name.trim();
        // A new macro the project has exactly (a retried call, a double-submitted editor) is
        // that one: no second copy.
        if let (None, Some(same)) = (id, current.macros.iter().find(|m| m.name == name && m.actions == input.actions)) {
            return Ok((current.clone(), same.clone()));
        }
        let id = match id {
            Some(id) => current.macros.iter().find(|m| m.id == id).ok_or(ApiError::NotFound("macro"))?.id.clone(),
            None if current.macros.len() >= MAX_MACROS => {
                return Err(ApiError::invalid("too_many_macros", format!("a project has at most {MAX_MACROS} macros")));
            }
            None => crate::text::new_ulid().to_lowercase(),
        };
        let made = Macro { id, name: name.to_string(), actions: input.actions.clone() };
        let mut next = current.clone();
        match next.macros.iter_mut().find(|m| m.id == made.id) {
            Some(slot) => *slot = made.clone(),
            None => next.macros.push(made.clone()),
        }
        Ok((next, made))
    })
    .await
}

/// Removes a macro (project admins). Requests it was applied to keep what it did.
pub async fn delete_macro(app: &App, caller: &Caller, project: &str, id: &str) -> Result<(), ApiError> {
    change_macros(app, caller, project, |current, _| {
        let mut next = current.clone();
        next.macros.retain(|m| m.id != id);
        match next.macros.len() < current.macros.len() {
            true => Ok((next, ())),
            false => Err(ApiError::NotFound("macro")),
        }
    })
    .await
}
