//! Running rules: for an event on a request, every enabled rule whose conditions hold does its
//! actions in one transaction with its run claim (`AutomationRun`, on condition that it is
//! new), so a redelivered event fires nothing twice and a half-done rule never shows. What
//! automations write carries their mark and triggers no further automation.

use super::events::{matches, AutoEvent, AUTOMATION_AUTHOR};
use super::rules::{Automation, AutomationAction, ProjectAutomations};
use crate::domain::caller::Actor;
use crate::domain::requests::{history_write, try_update_request, Seen};
use crate::domain::tags::{apply_tag, tag_change};
use crate::error::ApiError;
use crate::items::{automation_run_key, project_automations_key, project_key, request_key};
use crate::model::{
    Assignee, AssignmentMode, AuthorRole, AutoMail, AutoMailKind, AutomationFired, AutomationRun, Comment, Project,
    ProjectTeam, Record, Request, User,
};
use crate::store::{Condition, StoreError, Write};
use crate::App;
use serde::Serialize;

/// How long a run claim is kept: longer than any idle time a time rule waits.
const RUN_TTL_SECS: i64 = 400 * 24 * 3600;

/// A rule that fired, and the actions it could not take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    pub rule: String,
    pub request: String,
    pub event: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

pub(crate) fn automations_of(project: &str, records: &[Record]) -> ProjectAutomations {
    records
        .iter()
        .find_map(|r| match r {
            Record::ProjectAutomations(a) if a.project == project => Some(a.clone()),
            _ => None,
        })
        .unwrap_or_else(|| ProjectAutomations::initial(project))
}

/// Automations as the author of what they write: the helpdesk's address, their own id.
pub(crate) fn automation_user(app: &App) -> User {
    let helpdesk = crate::domain::requests::helpdesk_user(app);
    User { id: AUTOMATION_AUTHOR.to_string(), name: Some("Automation".into()), ..helpdesk }
}

/// Runs the rules an event from the table's stream triggers. One BatchGet reads the rules and
/// the request as it is now; nothing more when no rule matches.
pub async fn on_event(app: &App, event: &AutoEvent) -> Result<Vec<Fired>, ApiError> {
    let project = crate::items::project_of(&event.request_key).ok_or(ApiError::NotFound("request"))?;
    let records = app.store.get_many(&[project_automations_key(project), request_key(&event.request_key)]).await?;
    let rules = automations_of(project, &records);
    let request = records.into_iter().find_map(|r| match r {
        Record::Request(r) => Some(r),
        _ => None,
    });
    match request {
        Some(request) if !request.held => fire_matching(app, &rules, request, event).await,
        _ => Ok(vec![]),
    }
}

/// Fires each matching rule not yet fired for this event, in the rules' order: each sees what
/// the ones before it did.
pub(crate) async fn fire_matching(
    app: &App,
    rules: &ProjectAutomations,
    mut request: Request,
    event: &AutoEvent,
) -> Result<Vec<Fired>, ApiError> {
    let matching: Vec<&Automation> = rules.rules.iter().filter(|r| matches(r, &request, event)).collect();
    if matching.is_empty() {
        return Ok(vec![]);
    }
    let claims: Vec<_> = matching.iter().map(|r| automation_run_key(&request.key, &r.id, &event.id)).collect();
    let done = app.store.get_many(&claims).await?;
    let mut context = Context { app, team: None, project: None, actor: automation_user(app) };
    let mut fired = vec![];
    for rule in matching {
        if done.iter().any(|r| matches!(r, Record::AutomationRun(run) if run.rule == rule.id)) {
            continue;
        }
        if let Some((after, skipped)) = context.fire(rule, &request, event).await? {
            fired.push(Fired { rule: rule.id.clone(), request: request.key.clone(), event: event.id.clone(), skipped });
            request = after;
        }
    }
    Ok(fired)
}

/// What firing needs, read once per event when an action asks for it.
struct Context<'a> {
    app: &'a App,
    team: Option<Option<ProjectTeam>>,
    project: Option<Option<Project>>,
    actor: User,
}

/// A rule's actions applied to a request: the request as it ends up, the other writes, and
/// what could not be done.
struct Planned {
    request: Request,
    writes: Vec<Write>,
    skipped: Vec<String>,
}

impl Context<'_> {
    /// Fires one rule; None when a twin delivery fired it first.
    async fn fire(
        &mut self,
        rule: &Automation,
        request: &Request,
        event: &AutoEvent,
    ) -> Result<Option<(Request, Vec<String>)>, ApiError> {
        let needs = |f: fn(&AutomationAction) -> bool| rule.actions.iter().any(f);
        if self.team.is_none() && needs(|a| matches!(a, AutomationAction::Assign { .. })) {
            self.team = Some(crate::domain::team::read_team(self.app, &request.project).await?);
        }
        if self.project.is_none() && needs(|a| matches!(a, AutomationAction::Assign { auto: true, .. })) {
            self.project = Some(match self.app.store.get(&project_key(&request.project)).await? {
                Some(Record::Project(p)) => Some(p),
                _ => None,
            });
        }
        let now = self.app.now();
        // Stable across the retries of this call: a retry writes the same comments.
        let seed = crate::text::sha256_hex(&format!("{}\n{}\n{}", request.key, rule.id, event.id));
        let ids: Vec<String> = (0..rule.actions.len()).map(|_| crate::text::new_ulid()).collect();
        let team = self.team.clone().flatten();
        let project = self.project.clone().flatten();
        let plan = |r: &Request| plan(r, rule, &ids, &seed, team.as_ref(), project.as_ref(), &self.actor, now);
        let first = plan(request);
        let claim = AutomationRun {
            request_key: request.key.clone(),
            rule: rule.id.clone(),
            event: event.id.clone(),
            at: now,
            expires_at: now + RUN_TTL_SECS,
        };
        let bookkeeping = |r: &Request, skipped: &[String]| {
            let fired = AutomationFired {
                project: r.project.clone(),
                rule: rule.id.clone(),
                at: now,
                request_key: r.key.clone(),
                skipped: skipped.to_vec(),
            };
            vec![
                Write::Put { record: Record::AutomationRun(claim.clone()), condition: Condition::NotExists },
                Write::Put { record: Record::AutomationFired(fired), condition: Condition::None },
                history_write(r, &self.actor, "automation", vec![], Some(rule.name.clone()), now),
            ]
        };
        if first.request == *request {
            // Nothing on the request moves (an email, a note-free rule): no request write.
            let mut writes = bookkeeping(request, &first.skipped);
            writes.extend(first.writes);
            return match self.app.store.transact(writes).await {
                Ok(()) => Ok(Some((request.clone(), first.skipped))),
                Err(StoreError::ConditionFailed { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        let public = first.request.status != request.status || first.request.priority != request.priority;
        let seen = if public { Seen::Public } else { Seen::AgentsOnly };
        let actor = Actor { user: self.actor.clone(), session_hash: None };
        let change = |r: &mut Request| {
            let planned = plan(r);
            *r = Request { version: r.version, automated_version: Some(r.version + 1), ..planned.request };
            Ok(())
        };
        let extra = |before: &Request, _: &Request| {
            let planned = plan(before);
            let mut writes = bookkeeping(before, &planned.skipped);
            writes.extend(planned.writes);
            writes
        };
        match try_update_request(self.app, &actor, None, request.clone(), seen, change, extra).await {
            Ok(after) => Ok(Some((after, first.skipped))),
            // The claim was there: a twin delivery fired it.
            Err(ApiError::Conflict { code: "idempotency_in_progress", .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Applies a rule's actions to a request. Pure, so each retry recomputes it from the request
/// it finds. `ids` gives each action its comment id; `seed` names the event's emails.
#[allow(clippy::too_many_arguments)]
fn plan(
    request: &Request,
    rule: &Automation,
    ids: &[String],
    seed: &str,
    team: Option<&ProjectTeam>,
    project: Option<&Project>,
    actor: &User,
    now: i64,
) -> Planned {
    let mut next = request.clone();
    let mut writes: Vec<Write> = vec![];
    let mut skipped = vec![];
    for (i, action) in rule.actions.iter().enumerate() {
        let mut skip = |why: String| skipped.push(format!("{}: {why}", action.name()));
        match action {
            AutomationAction::Assign { agent, .. } => match assignee(team, project, agent.as_deref()) {
                Ok(a) if next.assignee.as_ref().map(|x| &x.id) != Some(&a.id) => {
                    next.assignee = Some(a);
                    next.assigned_by = Some(AUTOMATION_AUTHOR.into());
                }
                Ok(_) => {}
                Err(why) => skip(why),
            },
            AutomationAction::SetPriority { priority } => next.priority = *priority,
            AutomationAction::AddTag { tag } | AutomationAction::RemoveTag { tag } => {
                let add = matches!(action, AutomationAction::AddTag { .. });
                match tag_change(&next, tag, add) {
                    Ok(Some(write)) => {
                        writes.retain(|w| w.key() != write.key());
                        writes.push(write);
                        apply_tag(&mut next, tag, add);
                    }
                    Ok(None) => {}
                    Err(e) => skip(e.public_message()),
                }
            }
            AutomationAction::SetStatus { status } => {
                if next.status != *status {
                    next.status = *status;
                    next.status_by = Some(AUTOMATION_AUTHOR.into());
                }
            }
            AutomationAction::AddInternalNote { body } => {
                let note = Comment {
                    request_key: request.key.clone(),
                    id: ids[i].clone(),
                    author_id: actor.id.clone(),
                    author_email: actor.email.clone(),
                    body: body.clone(),
                    internal: true,
                    created_at: now,
                    author_role: Some(AuthorRole::Team),
                    author_name: Some(format!("Automation: {}", rule.name)),
                };
                next.note_count += 1;
                next.noted_at = Some(now);
                writes.push(Write::Put { record: Record::Comment(note), condition: Condition::NotExists });
            }
            AutomationAction::SendAcknowledgement { body } | AutomationAction::SendReminder { body } => {
                let kind = match action {
                    AutomationAction::SendReminder { .. } => AutoMailKind::Reminder,
                    _ => AutoMailKind::Acknowledgement,
                };
                let mail = AutoMail {
                    request_key: request.key.clone(),
                    id: format!("{}{i}", &seed[..24]),
                    kind,
                    body: body.clone(),
                    rule: rule.id.clone(),
                    created_at: now,
                };
                writes.push(Write::Put { record: Record::AutoMail(mail), condition: Condition::NotExists });
            }
            AutomationAction::Webhook { id } => skip(format!("no webhook {id:?} on this project")),
        }
    }
    Planned { request: next, writes, skipped }
}

/// The agent an `assign` action names: by address, or (`auto`) the least loaded available
/// agent under the project's cap (ties in round-robin order).
fn assignee(team: Option<&ProjectTeam>, project: Option<&Project>, agent: Option<&str>) -> Result<Assignee, String> {
    let team = team.ok_or("the project has no agents")?;
    let id = match agent {
        Some(address) => team
            .agents
            .iter()
            .find(|(_, m)| m.email.as_str() == address)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| format!("{address} is not an agent of this project"))?,
        None => {
            let cap = project.and_then(|p| p.settings.assignment.cap);
            crate::domain::team::pick(team, AssignmentMode::LeastOpen, cap).ok_or("no agent is available")?
        }
    };
    let member = &team.agents[&id];
    Ok(Assignee { id, email: member.email.clone(), name: member.name.clone() })
}
