//! Request forms (seed 002): each project has forms whose fields a new request fills in, a
//! default one, and `Support Ops` for triage. Changing a form never touches old requests:
//! they keep the values they had, and a removed field stays readable by its key.

use crate::domain::access::{is_agent, require_agent, require_project_admin};
use crate::domain::caller::{load_project, load_request, Caller};
use crate::domain::form_moves::form_move_history;
pub use crate::domain::form_values::{check_fields, check_fields_may_lack};
use crate::domain::requests::{update_request, Seen, Viewed};
use crate::domain::retry::Budget;
use crate::domain::Input;
use crate::error::ApiError;
use crate::error::FieldProblem;
use crate::items::{project_forms_key, project_macros_key};
use crate::model::{FieldKind, Form, FormField, Macro, MacroAction, ProjectForms, Record, Request};
use crate::store::{Condition, StoreError, Write};
use crate::text::{text_fault, TextFault};
use crate::App;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

pub const DEFAULT_FORM: &str = "default";
pub const SUPPORT_OPS: &str = "support-ops";
pub const MAX_FORMS: usize = 50;
pub const MAX_FORM_FIELDS: usize = 50;
const MAX_OPTIONS: usize = 100;

impl ProjectForms {
    /// The forms every project starts with.
    pub fn initial(project: &str) -> ProjectForms {
        let form = |id: &str, name: &str, description: &str, public: bool| Form {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            public,
            fields: vec![],
        };
        ProjectForms {
            project: project.into(),
            default_form: DEFAULT_FORM.into(),
            forms: vec![
                form(DEFAULT_FORM, "General request", "Anything you need help with.", true),
                form(SUPPORT_OPS, "Support Ops", "Triage: requests raised on the wrong form wait here.", false),
            ],
            retired: vec![],
            version: 0,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.id == id)
    }

    /// The forms a user may raise requests on: all for the project's agents, public ones
    /// for everyone else.
    pub fn usable_by(&self, agent: bool) -> impl Iterator<Item = &Form> {
        self.forms.iter().filter(move |f| agent || f.public)
    }
}

/// The project's forms among `records`, or the initial ones.
pub fn forms_of(project: &str, records: &[Record]) -> ProjectForms {
    records
        .iter()
        .find_map(|r| match r {
            Record::ProjectForms(f) if f.project == project => Some(f.clone()),
            _ => None,
        })
        .unwrap_or_else(|| ProjectForms::initial(project))
}

/// The form a new request uses: the one asked for, else the default. Customers may use only
/// public forms; anything else is `unknown_form`.
pub fn choose_form<'a>(forms: &'a ProjectForms, asked: Option<&str>, agent: bool) -> Result<&'a Form, ApiError> {
    let id = asked.unwrap_or(&forms.default_form);
    forms
        .get(id)
        .filter(|f| agent || f.public)
        .ok_or_else(|| ApiError::invalid("unknown_form", format!("form: this project has no form {id:?}")))
}

/// A form as an admin defines it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub fields: Vec<FormField>,
    /// Make it the project's default form.
    #[serde(default)]
    pub default: bool,
}

/// Every problem of a form's definition at once, in plain words, in the form's order: `name`,
/// `description`, then `fields.<n>.<part>` with `n` counted from 1 as the editor shows it.
fn check_definition(input: &FormInput) -> Result<(), ApiError> {
    let mut problems = vec![];
    let mut say = |field: String, message: String| problems.push(FieldProblem::new(field, "invalid_field", message));
    let words = |fault: TextFault, what: &str, max: usize| match fault {
        TextFault::Empty => format!("Give {what}"),
        TextFault::TooLong => format!("Shorten {what} to {max} characters or fewer"),
        TextFault::Control => format!("Remove the control characters from {what}"),
    };
    if let Some(fault) = text_fault(&input.name, 100, false, true) {
        say("name".into(), words(fault, "the form a name", 100));
    }
    if let Some(fault) = text_fault(&input.description, 1000, true, false) {
        say("description".into(), words(fault, "the description", 1000));
    }
    if input.fields.len() > MAX_FORM_FIELDS {
        say("fields".into(), format!("A form has at most {MAX_FORM_FIELDS} fields"));
    }
    let mut keys = BTreeSet::new();
    for (i, f) in input.fields.iter().enumerate() {
        let n = i + 1;
        let key_ok = (1..=40).contains(&f.key.len())
            && f.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            say(format!("fields.{n}.key"), format!("Field {n}: its key is 1-40 of a-z, 0-9 and _"));
        } else if !keys.insert(f.key.as_str()) {
            say(format!("fields.{n}.key"), format!("Field {n}: another field has the key \"{}\"", f.key));
        }
        if let Some(fault) = text_fault(&f.label, 100, false, true) {
            say(format!("fields.{n}.label"), format!("Field {n}: {}", words(fault, "it a label", 100)));
        }
        if let Some(fault) = f.help.as_deref().and_then(|h| text_fault(h, 300, false, false)) {
            say(format!("fields.{n}.help"), format!("Field {n}: {}", words(fault, "its help", 300)));
        }
        let options = format!("fields.{n}.options");
        match f.kind {
            FieldKind::Select => {
                let unique: BTreeSet<_> = f.options.iter().collect();
                if !(1..=MAX_OPTIONS).contains(&f.options.len()) {
                    say(options, format!("Field {n}: a list has 1 to {MAX_OPTIONS} choices"));
                } else if unique.len() != f.options.len() {
                    say(options, format!("Field {n}: each choice is listed once"));
                } else if !f.options.iter().all(|o| !o.trim().is_empty() && o.len() <= 100 && o.trim() == o) {
                    say(options, format!("Field {n}: each choice is 1 to 100 characters, without spaces around it"));
                }
            }
            _ if !f.options.is_empty() => say(options, format!("Field {n}: only a list has choices")),
            _ => {}
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ApiError::Fields(problems)),
    }
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').chars().take(40).collect::<String>();
    // `new` is the console's address of a form not made yet.
    match out.as_str() {
        "" => "form".into(),
        "new" => "new-form".into(),
        _ => out,
    }
}

/// The ids a new form named `id` may take, in order: `id`, `id-2`, `id-3`... but none a
/// removed form had.
fn fresh_ids<'a>(id: &'a str, retired: &'a [String]) -> impl Iterator<Item = String> + 'a {
    std::iter::once(id.to_string()).chain((2..).map(move |n| format!("{id}-{n}"))).filter(|c| !retired.contains(c))
}

/// The project's forms (its agents).
pub async fn list_forms(app: &App, caller: &Caller, project: &str) -> Result<ProjectForms, ApiError> {
    let (actor, project, records) = load_project(app, caller, project, &[project_forms_key(project)]).await?;
    require_agent(&actor.user, &project.key)?;
    Ok(forms_of(&project.key, &records))
}

/// The forms a user may raise requests on in a project (the portal's form picker).
pub async fn usable_forms(app: &App, caller: &Caller, project: &str) -> Result<(ProjectForms, bool), ApiError> {
    let (actor, project, records) = load_project(app, caller, project, &[project_forms_key(project)]).await?;
    Ok((forms_of(&project.key, &records), is_agent(&actor.user, &project.key)))
}

/// Changes the project's forms (project admins): `change` works out the next forms from the
/// current ones and the project's stored macros (none stored: the initial ones, which move
/// requests only to Support Ops). Written under optimistic locking of the forms item, and
/// with `macros_as_read` of the macros item too (a removal decided on the macros it read);
/// a lost race reads again and works it out anew.
async fn change_forms<T>(
    app: &App,
    caller: &Caller,
    project: &str,
    macros_as_read: bool,
    change: impl Fn(&ProjectForms, &[Macro]) -> Result<(ProjectForms, T), ApiError>,
) -> Result<T, ApiError> {
    let mut budget = Budget::default();
    loop {
        budget.next().await?;
        let keys = [project_forms_key(project), project_macros_key(project)];
        let (actor, p, records) = load_project(app, caller, project, &keys).await?;
        require_project_admin(&actor.user, &p.key)?;
        let current = forms_of(&p.key, &records);
        let macros = records.iter().find_map(|r| match r {
            Record::ProjectMacros(m) if m.project == p.key => Some(m),
            _ => None,
        });
        let (mut next, out) = change(&current, macros.map(|m| m.macros.as_slice()).unwrap_or_default())?;
        if next == current {
            // Nothing changes (a retried save): nothing to write.
            return Ok(out);
        }
        next.version = current.version + 1;
        let condition = if current.version == 0 { Condition::NotExists } else { Condition::VersionIs(current.version) };
        let mut writes = vec![Write::Put { record: Record::ProjectForms(next), condition }];
        if macros_as_read {
            let condition = macros.map_or(Condition::NotExists, |m| Condition::VersionIs(m.version));
            writes.push(Write::Check { key: project_macros_key(&p.key), condition });
        }
        match app.store.transact(writes).await {
            Ok(()) => return Ok(out),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Adds (`id` None) or replaces a form (project admins). A new form's id comes from its name,
/// never one a removed form had; an add the project already has exactly (a retried call, a
/// double-submitted editor) is answered with that form, and writes nothing.
pub async fn save_form(
    app: &App,
    caller: &Caller,
    project: &str,
    id: Option<&str>,
    input: Input<FormInput>,
) -> Result<Form, ApiError> {
    change_forms(app, caller, project, false, |current, _| {
        let input = input.as_ref().map_err(Clone::clone)?;
        check_definition(input)?;
        let made = |id: &str| Form {
            id: id.to_string(),
            name: input.name.trim().to_string(),
            description: input.description.clone(),
            public: input.public,
            fields: input.fields.clone(),
        };
        let mut next = current.clone();
        let form_id = match id {
            Some(id) => {
                current.get(id).ok_or(ApiError::NotFound("form"))?;
                id.to_string()
            }
            None => {
                let base = slug(&input.name);
                let same = |f: &Form| *f == made(&f.id) && (!input.default || current.default_form == f.id);
                // The name's own id, or the first `-2`, `-3`... free of removed and other forms.
                let mut id = String::new();
                for candidate in fresh_ids(&base, &current.retired) {
                    match current.get(&candidate) {
                        Some(existing) if same(existing) => return Ok((current.clone(), existing.clone())),
                        Some(_) if candidate == base => {
                            return Err(ApiError::Conflict {
                                code: "form_exists",
                                message: format!("a form {base:?} exists: change it with PUT"),
                            })
                        }
                        Some(_) => continue,
                        None => {
                            id = candidate;
                            break;
                        }
                    }
                }
                if current.forms.len() >= MAX_FORMS {
                    return Err(ApiError::invalid(
                        "too_many_forms",
                        format!("a project has at most {MAX_FORMS} forms"),
                    ));
                }
                id
            }
        };
        let form = made(&form_id);
        match next.forms.iter_mut().find(|f| f.id == form_id) {
            Some(slot) => *slot = form.clone(),
            None => next.forms.push(form.clone()),
        }
        if input.default {
            next.default_form = form_id;
        }
        Ok((next, form))
    })
    .await
}

/// Removes a form (project admins). Requests on it keep their form id and values, shown by
/// key. The default form, Support Ops (where misfiled requests wait) and a form a macro moves
/// requests to stay: each refusal says what to change first.
pub async fn delete_form(app: &App, caller: &Caller, project: &str, id: &str) -> Result<(), ApiError> {
    change_forms(app, caller, project, true, |current, macros| {
        let form = current.get(id).ok_or(ApiError::NotFound("form"))?;
        let refused = |code, message: String| Err(ApiError::Conflict { code, message });
        if current.default_form == id {
            return refused(
                "default_form",
                format!("{} is the default form: make another form the default first", form.name),
            );
        }
        if id == SUPPORT_OPS {
            return refused("triage_form", "Support Ops holds requests raised on the wrong form: it stays".into());
        }
        let moves_here =
            |m: &&Macro| m.actions.iter().any(|a| matches!(a, MacroAction::SetForm { form } if form == id));
        if let Some(m) = macros.iter().find(moves_here) {
            return refused(
                "form_in_use",
                format!("the macro {:?} moves requests to {}: change it first", m.name, form.name),
            );
        }
        let mut next = current.clone();
        next.forms.retain(|f| f.id != id);
        next.retired.push(id.to_string());
        Ok((next, ()))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    pub form: String,
    /// The new form's values; absent: the values the request has for fields of the new form.
    #[serde(default, deserialize_with = "crate::domain::form_values::maybe_typed_values")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// Moves a request to another form (agents), with the new values checked against it, in one
/// transaction with a history entry.
pub async fn move_to_form(app: &App, caller: &Caller, key: &str, input: Input<MoveInput>) -> Result<Viewed, ApiError> {
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let scope = load_request(app, caller, key, &[project_forms_key(project)]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let input = input?;
    let forms = forms_of(&scope.project.key, &scope.extra);
    let form = choose_form(&forms, Some(&input.form), true)?;
    let values = input.fields.unwrap_or_else(|| {
        let on_form = |k: &String| form.fields.iter().any(|f| &f.key == k);
        scope.request.fields.iter().filter(|(k, _)| on_form(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
    });
    let fields = check_fields(form, &values)?;
    let form_id = form.id.clone();
    let after = Request { form: Some(form_id.clone()), fields: fields.clone(), ..scope.request.clone() };
    let dropped = crate::domain::form_moves::dropped_values(&scope.request, &after, &forms);
    let history = form_move_history(&scope.request, scope.user(), &after, &forms, dropped, app.now());
    let change = |r: &mut Request| {
        r.form = Some(form_id.clone());
        r.fields = fields.clone();
    };
    let request = update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        Seen::Public,
        change,
        || vec![history.clone()],
    )
    .await?;
    Ok((crate::domain::access::Viewer::Agent, request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProjectRole;
    use crate::testing::Desk;

    fn field(key: &str, kind: FieldKind, required: bool, options: &[&str]) -> FormField {
        FormField {
            key: key.into(),
            label: key.to_uppercase(),
            kind,
            required,
            options: options.iter().map(|o| o.to_string()).collect(),
            help: None,
        }
    }

    fn form() -> Form {
        Form {
            id: "f".into(),
            name: "F".into(),
            description: String::new(),
            public: true,
            fields: vec![
                field("title", FieldKind::Text, true, &[]),
                field("notes", FieldKind::Textarea, false, &[]),
                field("severity", FieldKind::Select, false, &["low", "high"]),
                field("urgent", FieldKind::Checkbox, false, &[]),
                field("contact", FieldKind::Email, false, &[]),
                field("since", FieldKind::Date, false, &[]),
            ],
        }
    }

    #[tokio::test]
    async fn admins_define_forms_and_customers_see_only_public_ones() {
        let desk = Desk::new().await;
        desk.project("HD").await;
        let agent = desk.staff("agent@example.com", "HD", ProjectRole::Agent).await;
        let ann = desk.sign_in("ann@example.com").await;
        let initial = list_forms(&desk.app, &agent, "HD").await.unwrap();
        assert_eq!(initial.forms.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [DEFAULT_FORM, SUPPORT_OPS]);
        assert_eq!(list_forms(&desk.app, &ann, "HD").await.unwrap_err().status(), 403);
        let input = || FormInput {
            name: "Hardware fault".into(),
            description: String::new(),
            public: true,
            fields: form().fields,
            default: false,
        };
        assert_eq!(save_form(&desk.app, &agent, "HD", None, Ok(input())).await.unwrap_err().status(), 403);
        let made = save_form(&desk.app, &desk.admin, "HD", None, Ok(input())).await.unwrap();
        assert_eq!(made.id, "hardware-fault");
        // The same add again (a retry) is that form, written once; another form of that name is refused.
        let version = list_forms(&desk.app, &agent, "HD").await.unwrap().version;
        assert_eq!(save_form(&desk.app, &desk.admin, "HD", None, Ok(input())).await.unwrap(), made);
        assert_eq!(list_forms(&desk.app, &agent, "HD").await.unwrap().version, version, "nothing written");
        let other = FormInput { public: false, ..input() };
        assert_eq!(save_form(&desk.app, &desk.admin, "HD", None, Ok(other)).await.unwrap_err().code(), "form_exists");
        let (forms, is_agent) = usable_forms(&desk.app, &ann, "HD").await.unwrap();
        assert!(!is_agent);
        let ids: Vec<_> = forms.usable_by(false).map(|f| f.id.as_str()).collect();
        assert_eq!(ids, [DEFAULT_FORM, "hardware-fault"]);
        assert_eq!(choose_form(&forms, Some(SUPPORT_OPS), false).unwrap_err().code(), "unknown_form");
        assert!(choose_form(&forms, Some(SUPPORT_OPS), true).is_ok());
        // Removed, its id is never given again: a new form of that name is hardware-fault-2.
        delete_form(&desk.app, &desk.admin, "HD", "hardware-fault").await.unwrap();
        let again = save_form(&desk.app, &desk.admin, "HD", None, Ok(input())).await.unwrap();
        assert_eq!(again.id, "hardware-fault-2");
        assert_eq!(save_form(&desk.app, &desk.admin, "HD", None, Ok(input())).await.unwrap(), again, "a retry");
        assert_eq!(fresh_ids("a", &["a".into(), "a-2".into()]).next().unwrap(), "a-3");
        // A live form with the next id ("Hardware fault 3") is passed over too.
        let third = FormInput { name: "Hardware fault 3".into(), ..input() };
        assert_eq!(save_form(&desk.app, &desk.admin, "HD", None, Ok(third)).await.unwrap().id, "hardware-fault-3");
        delete_form(&desk.app, &desk.admin, "HD", "hardware-fault-2").await.unwrap();
        let fourth = save_form(&desk.app, &desk.admin, "HD", None, Ok(input())).await.unwrap();
        assert_eq!(fourth.id, "hardware-fault-4");
    }
}
