//! Raising a request: one transaction that numbers it, writes it, remembers the caller's
//! Idempotency-Key and checks the blocklist.

use super::{Channel, NewRequest, Viewed, MAX_DESCRIPTION, MAX_FIELDS, MAX_SUMMARY};
use crate::domain::access::{is_agent, may_raise, viewer};
use crate::domain::blocklist::{Commit, Guard};
use crate::domain::caller::{resolve, Caller};
use crate::domain::form_values::text_message;
use crate::domain::forms::{check_fields, check_fields_may_lack, choose_form, forms_of};
use crate::domain::idempotency::{Idempotency, IdempotencyKey};
use crate::domain::retry::Budget;
use crate::domain::team;
use crate::domain::Input;
use crate::error::{ApiError, FieldProblem};
use crate::items::{project_customer_key, project_forms_key, project_key, request_key};
use crate::model::{IdempotencyRecord, Priority, Project, ProjectCustomer, Record, Request, RequestStatus, User};
use crate::store::{Condition, Write};
use crate::text::{check_text, text_fault, TextFault};
use crate::App;
use std::collections::BTreeMap;

/// The summary's and description's problems, in plain words.
fn text_problems(input: &NewRequest) -> Vec<FieldProblem> {
    let mut problems = vec![];
    let summary = match text_fault(&input.summary, MAX_SUMMARY, false, true) {
        Some(TextFault::Empty) => Some("Tell us in a few words what is wrong or what you need".to_string()),
        Some(fault) => Some(text_message("the summary", fault, MAX_SUMMARY, false)),
        None => None,
    };
    problems.extend(summary.map(|m| FieldProblem::new("summary", "invalid_field", m)));
    let description = text_fault(&input.description, MAX_DESCRIPTION, true, false)
        .map(|fault| text_message("the details", fault, MAX_DESCRIPTION, true));
    problems.extend(description.map(|m| FieldProblem::new("description", "invalid_field", m)));
    problems
}

fn validate(input: &NewRequest) -> Result<(), ApiError> {
    if let Some(form) = &input.form {
        check_text("form", form, 64, false, true)?;
    }
    if input.fields.len() > MAX_FIELDS {
        return Err(ApiError::invalid("invalid_field", format!("at most {MAX_FIELDS} fields")));
    }
    Ok(())
}

/// `checked`'s problems after `earlier` ones: every problem of a body comes back at once.
fn all_problems<T>(earlier: Vec<FieldProblem>, checked: Result<T, ApiError>) -> Result<T, ApiError> {
    match (earlier.is_empty(), checked) {
        (true, checked) => checked,
        (false, Ok(_)) => Err(ApiError::Fields(earlier)),
        (false, Err(ApiError::Fields(more))) => Err(ApiError::Fields([earlier, more].concat())),
        (false, Err(other)) => Err(other),
    }
}

/// Raises a request. The key (`HD-42`) comes from the project's counter, bumped in the same
/// transaction that writes the request, so two creates never share a key. With an
/// `Idempotency-Key`, a retry returns the first request and writes nothing. A `suspend:`
/// rule matching the reporter takes the request but holds it for review.
/// Returns the request and whether it was replayed.
pub async fn create_request(
    app: &App,
    caller: &Caller,
    project: &str,
    input: Input<NewRequest>,
    idempotency: Input<Option<IdempotencyKey>>,
) -> Result<(Viewed, bool), ApiError> {
    let user_id = caller.require_claim()?;
    let idem = match (&input, &idempotency) {
        (Ok(body), Ok(key)) => {
            let call = format!("create\n{project}\n{}", serde_json::to_string(body).unwrap_or_default());
            Idempotency::new(key.as_ref(), user_id, &call)
        }
        _ => None,
    };
    // A bad body is the first thing said; then a bad key.
    let input = input.and_then(|i| idempotency.map(|_| i));
    create_with(app, caller, project, input, idem).await
}

/// `create_request` with its idempotency already named: a follow-up answers a reply's
/// Idempotency-Key as the reply would, so a retried reply finds the request it opened.
pub(super) async fn create_with(
    app: &App,
    caller: &Caller,
    project: &str,
    input: Input<NewRequest>,
    idem: Option<Idempotency>,
) -> Result<(Viewed, bool), ApiError> {
    let user_id = caller.require_claim()?;
    // The project, the caller's customer record and any earlier result come with the session.
    let mut keys = vec![
        project_key(project),
        project_customer_key(project, user_id),
        project_forms_key(project),
        team::team_key(project),
    ];
    keys.extend(idem.as_ref().map(Idempotency::record_key));
    let (actor, records) = resolve(app, caller, &keys).await?;
    let project = records
        .iter()
        .find_map(|r| match r {
            Record::Project(p) if p.key == project => Some(p.clone()),
            _ => None,
        })
        .ok_or(ApiError::NotFound("project"))?;
    let known_customer = records.iter().any(|r| matches!(r, Record::ProjectCustomer(_)));
    // A project that takes requests from its customers only: refused on the pages and the
    // API; by email, held for an agent (the sender may be a customer-to-be).
    let outsider = !may_raise(&actor.user, &project, known_customer);
    if outsider && input.as_ref().map_or(true, |i| i.channel.is_typed()) {
        return Err(ApiError::Refused {
            code: "customers_only",
            message: format!(
                "{} takes requests from its customers only. Ask its support team to add you, or write to {}.",
                project.name, project.support_address
            ),
        });
    }
    let input = input?;
    validate(&input)?;
    let text_problems = text_problems(&input);
    // The request's form and its values, checked against the project's forms.
    let forms = forms_of(&project.key, &records);
    // Email names no form: it takes the project's default, public or not.
    let follow_up = input.follow_up_of.is_some();
    let lenient = !input.channel.is_typed() || follow_up;
    let any_form = lenient || is_agent(&actor.user, &project.key);
    let form = match choose_form(&forms, input.form.as_deref(), any_form) {
        // A follow-up keeps the closed request's form, or the default once that is gone.
        Err(_) if follow_up => choose_form(&forms, None, any_form)?,
        chosen => chosen?,
    };
    let fields = match (lenient, follow_up) {
        (false, _) => all_problems(text_problems, check_fields(form, &input.fields))?,
        (true, false) => all_problems(text_problems, check_fields_may_lack(form, &input.fields))?,
        // And the values that still fit it: a field removed since, or an option, is left out.
        (true, true) => {
            let fits = |(k, v): (&String, &String)| {
                check_fields_may_lack(form, &BTreeMap::from([(k.clone(), v.clone())])).is_ok()
            };
            let fitting = input.fields.iter().filter(|f| fits(*f)).map(|(k, v)| (k.clone(), v.clone())).collect();
            all_problems(text_problems, check_fields_may_lack(form, &fitting))?
        }
    };
    let now = app.now();
    if let Some(first) = idem.as_ref().map(|i| i.earlier(&records, now)).transpose()?.flatten() {
        return replay(app, &actor.user, first).await;
    }
    let user = &actor.user;
    // Seed 004: raised by a member of exactly one of the project's organizations, the request
    // is set to that organization.
    let organization = {
        let mut orgs = user.organizations_in(&project.key);
        match (orgs.next(), orgs.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => None,
        }
    };
    // Shown in every list: without invisible formatting (a right-to-left override).
    let summary = match crate::text::strip_format_chars(&input.summary).trim() {
        "" => "(no summary)".to_string(),
        visible => visible.to_string(),
    };
    let mut held = input.channel == Channel::EmailHeldForReview || outsider;
    // Its id is its own across retries: the agent's claim names it.
    let request_id = crate::text::new_ulid();
    // The agent this request goes to, claimed now; given back when no request comes of it.
    let mut assignee = match held {
        true => None,
        false => team::claim_agent(app, &project, team::team_in(&records, &project.key), &request_id).await?,
    };
    let outcome: Result<(Viewed, bool), ApiError> = async {
        let mut guard = Guard::for_actor(&actor, &project.key);
        // The number comes from the counter on the project item, bumped in the request's own
        // transaction (one round trip). When creates race for it, the loser takes its number with
        // an atomic increment instead of racing again, so contention costs one extra round trip.
        let mut allocated: Option<u64> = None;
        let mut budget = Budget::default();
        loop {
            budget.next().await?;
            let seq = allocated.unwrap_or(project.last_seq + 1);
            let mut request = Request {
                key: format!("{}-{seq}", project.key),
                project: project.key.clone(),
                id: request_id.clone(),
                summary: summary.clone(),
                description: input.description.clone(),
                form: Some(form.id.clone()),
                fields: fields.clone(),
                status: RequestStatus::Open,
                priority: Priority::default(),
                assignee: assignee.clone(),
                reporter_id: user.id.clone(),
                reporter_email: user.email.clone(),
                organization: organization.clone(),
                participants: vec![],
                participant_ids: vec![],
                comment_count: 0,
                note_count: 0,
                noted_at: None,
                macro_note: None,
                held,
                public_link_generation: 0,
                first_response_at: None,
                customer_spoke_last: !is_agent(user, &project.key),
                tags: vec![],
                recent_public: vec![],
                assigned_by: None,
                status_by: None,
                created_at: now,
                updated_at: now,
                version: 1,
                sla: None,
                channel: Some(input.channel.as_str().to_string()),
                automated_version: None,
                csat: None,
                closed_at: None,
                merged_into: None,
                follow_up_of: input.follow_up_of.clone(),
            };
            crate::domain::sla::advance(None, &mut request, project.settings.sla.as_ref(), now);
            let mut writes = vec![];
            if allocated.is_none() {
                let counter = Project { last_seq: seq, version: project.version + 1, ..project.clone() };
                writes.push(Write::Put {
                    record: Record::Project(counter),
                    condition: Condition::VersionIs(project.version),
                });
            }
            writes.push(Write::Put { record: Record::Request(request.clone()), condition: Condition::NotExists });
            writes.extend(crate::domain::sla::alarm_writes(None, &request));
            let idem_at = idem.as_ref().map(|i| {
                writes.push(i.write(&request.key, None, now));
                writes.len() - 1
            });
            if !known_customer && input.channel != Channel::EmailHeldForReview {
                // Who may moderate the reporter depends on the projects they are a customer of.
                let record = ProjectCustomer {
                    project: project.key.clone(),
                    user_id: user.id.clone(),
                    email: user.email.clone(),
                    added_by: user.id.clone(),
                    added_at: now,
                };
                writes.push(Write::Put { record: Record::ProjectCustomer(record), condition: Condition::None });
            }
            let err = match guard.commit(app, writes).await? {
                Commit::Done => return Ok(((viewer(user, &request), request), false)),
                Commit::Conflict => {
                    // A number taken from the counter is this create's alone: a conflict on
                    // another item (the reporter's customer record, a blocklist check) retries
                    // with it, so concurrent creates leave no gaps.
                    if allocated.is_none() {
                        allocated = Some(app.store.next_request_number(&project.key).await?);
                    }
                    continue;
                }
                Commit::Retry { held: h } => {
                    held |= h;
                    // A held request waits for review outside every queue: nobody owns it yet.
                    if held {
                        if let Some(claimed) = assignee.take() {
                            team::release_agent(app, &project.key, &claimed.id, &request_id).await?;
                        }
                    }
                    continue;
                }
                Commit::Failed(err) => err,
            };
            if let (Some(i), Some(old)) = (&idem, idem_at.and_then(|at| err.failed_old(at))) {
                if let Some(first) = i.earlier(std::slice::from_ref(old), now)? {
                    return replay(app, user, first).await;
                }
            }
            if idem_at.is_some_and(|i| err.failed_at(i)) {
                // Its twin with the same key is committing right now: wait, then replay.
                continue;
            }
            // Lost the race for the number, or the key is somehow taken: take the next number
            // atomically.
            allocated = Some(app.store.next_request_number(&project.key).await?);
        }
    }
    .await;
    // Given back when no request came of it for sure: a replay (the first call made its own),
    // or a refusal. After an error that may hide a commit (storage unavailable) the claim is
    // kept: an agent who looks one request busier never passes the cap.
    let made_nothing = match &outcome {
        Ok((_, replayed)) => *replayed,
        Err(e) => !e.is_transient(),
    };
    if let (Some(claimed), true) = (&assignee, made_nothing) {
        team::release_agent(app, &project.key, &claimed.id, &request_id).await?;
    }
    outcome
}

async fn replay(app: &App, user: &User, first: &IdempotencyRecord) -> Result<(Viewed, bool), ApiError> {
    match app.store.get(&request_key(&first.request_key)).await? {
        Some(Record::Request(r)) => Ok(((viewer(user, &r), r), true)),
        _ => Err(ApiError::NotFound("request")),
    }
}
