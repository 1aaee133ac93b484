//! Running rules: for an event on a request, every enabled rule whose conditions hold does its
//! actions in one transaction with its run claim (`AutomationRun`, on condition that it is
//! new), so a redelivered event fires nothing twice and a half-done rule never shows. What
//! automations write carries their mark and triggers no further automation.

use super::events::{matches, AutoEvent, AUTOMATION_AUTHOR};
use super::rules::{Automation, AutomationAction, ProjectAutomations};
use crate::domain::caller::Actor;
use crate::domain::requests::{history_write, try_update_request, Seen};
use crate::domain::tags::{apply_tag, tag_change};
use crate::domain::webhooks::deliveries::{body, hand_on, new_delivery, Handed};
use crate::domain::webhooks::targets::webhooks_of;
use crate::error::ApiError;
use crate::items::{automation_run_key, project_automations_key, project_key, project_webhooks_key, request_key};
use crate::model::{
    Assignee, AssignmentMode, AuthorRole, AutoMail, AutoMailKind, AutomationFired, AutomationRun, Comment, Project,
    ProjectTeam, ProjectWebhooks, Record, Request, User,
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

/// Runs the rules an event from the table's stream triggers, and makes the deliveries of the
/// webhook targets that asked for it. One BatchGet reads the rules, the targets and the request
/// as it is now; nothing more when no rule matches and no target asked.
pub async fn on_event(app: &App, event: &AutoEvent) -> Result<Vec<Fired>, ApiError> {
    let project = crate::items::project_of(&event.request_key).ok_or(ApiError::NotFound("request"))?;
    let keys = [project_automations_key(project), project_webhooks_key(project), request_key(&event.request_key)];
    let records = app.store.get_many(&keys).await?;
    let rules = automations_of(project, &records);
    let webhooks = webhooks_of(project, &records);
    let request = records.into_iter().find_map(|r| match r {
        Record::Request(r) => Some(r),
        _ => None,
    });
    match request {
        Some(request) if !request.held => fire_matching(app, &rules, &webhooks, request, event).await,
        _ => Ok(vec![]),
    }
}

/// The claim id of a target's delivery of an event (beside the rules' ids in `AUTORUN#`).
fn webhook_claim(target: &str) -> String {
    format!("webhook.{target}")
}

/// Fires each matching rule not yet fired for this event, in the rules' order (each sees what
/// the ones before it did), then makes the subscribed targets' deliveries.
pub(crate) async fn fire_matching(
    app: &App,
    rules: &ProjectAutomations,
    webhooks: &ProjectWebhooks,
    mut request: Request,
    event: &AutoEvent,
) -> Result<Vec<Fired>, ApiError> {
    let matching: Vec<&Automation> = rules.rules.iter().filter(|r| matches(r, &request, event)).collect();
    let subscribed: Vec<_> =
        webhooks.targets.iter().filter(|t| t.enabled && t.events.contains(&event.trigger)).collect();
    if matching.is_empty() && subscribed.is_empty() {
        return Ok(vec![]);
    }
    let mut claims: Vec<_> = matching.iter().map(|r| automation_run_key(&request.key, &r.id, &event.id)).collect();
    claims.extend(subscribed.iter().map(|t| automation_run_key(&request.key, &webhook_claim(&t.id), &event.id)));
    let done = app.store.get_many(&claims).await?;
    let claimed = |id: &str| done.iter().any(|r| matches!(r, Record::AutomationRun(run) if run.rule == id));
    let mut context = Context { app, team: None, project: None, actor: automation_user(app), webhooks, handed: vec![] };
    let mut fired = vec![];
    for rule in matching {
        if claimed(&rule.id) {
            continue;
        }
        if let Some((after, skipped)) = context.fire(rule, &request, event).await? {
            fired.push(Fired { rule: rule.id.clone(), request: request.key.clone(), event: event.id.clone(), skipped });
            request = after;
        }
    }
    for target in subscribed {
        let claim_id = webhook_claim(&target.id);
        if claimed(&claim_id) {
            continue;
        }
        let now = app.now();
        let id = crate::text::new_ulid();
        let text =
            body(target.format, event.trigger, &request, event.comment.as_ref(), &id, &app.config.public_base_url, now);
        let claim = AutomationRun {
            request_key: request.key.clone(),
            rule: claim_id,
            event: event.id.clone(),
            at: now,
            expires_at: now + RUN_TTL_SECS,
        };
        let mut writes = vec![Write::Put { record: Record::AutomationRun(claim), condition: Condition::NotExists }];
        let (made, handed) = new_delivery(&request.project, &target.id, &request.key, event.trigger, text, &id, now);
        writes.extend(made);
        match app.store.transact(writes).await {
            Ok(()) => context.handed.push(handed),
            // A twin delivery of the record made it first.
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    hand_on(app, &context.handed).await;
    Ok(fired)
}

/// What firing needs, read once per event when an action asks for it.
struct Context<'a> {
    app: &'a App,
    team: Option<Option<ProjectTeam>>,
    project: Option<Option<Project>>,
    actor: User,
    webhooks: &'a ProjectWebhooks,
    /// Deliveries made, for the sender.
    handed: Vec<Handed>,
}

/// A rule's actions applied to a request: the request as it ends up, the other writes, and
/// what could not be done.
struct Planned {
    request: Request,
    writes: Vec<Write>,
    skipped: Vec<String>,
    /// Deliveries its `webhook` actions made.
    deliveries: Vec<Handed>,
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
        let base_url = self.app.config.public_base_url.as_str();
        let setting = Setting { team: team.as_ref(), project: project.as_ref(), webhooks: self.webhooks, base_url };
        let plan = |r: &Request| plan(r, rule, event, &ids, &seed, &setting, &self.actor, now);
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
                Ok(()) => {
                    self.handed.extend(first.deliveries);
                    Ok(Some((request.clone(), first.skipped)))
                }
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
            Ok(after) => {
                // The deliveries of the attempt that committed (their ids do not change).
                self.handed.extend(first.deliveries);
                Ok(Some((after, first.skipped)))
            }
            // The claim was there: a twin delivery fired it.
            Err(ApiError::Conflict { code: "idempotency_in_progress", .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a rule's actions may need besides the request.
struct Setting<'a> {
    team: Option<&'a ProjectTeam>,
    project: Option<&'a Project>,
    webhooks: &'a ProjectWebhooks,
    base_url: &'a str,
}

/// Applies a rule's actions to a request. Pure, so each retry recomputes it from the request
/// it finds. `ids` gives each action its comment or delivery id; `seed` names the emails.
#[allow(clippy::too_many_arguments)]
fn plan(
    request: &Request,
    rule: &Automation,
    event: &AutoEvent,
    ids: &[String],
    seed: &str,
    setting: &Setting,
    actor: &User,
    now: i64,
) -> Planned {
    let (team, project) = (setting.team, setting.project);
    let mut next = request.clone();
    let mut writes: Vec<Write> = vec![];
    let mut skipped = vec![];
    let mut deliveries = vec![];
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
                    merged_from: None,
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
            AutomationAction::Webhook { id } => {
                match setting.webhooks.targets.iter().find(|t| &t.id == id && t.enabled) {
                    Some(target) => {
                        let delivery = &ids[i];
                        let text = body(
                            target.format,
                            event.trigger,
                            &next,
                            event.comment.as_ref(),
                            delivery,
                            setting.base_url,
                            now,
                        );
                        let (made, handed) =
                            new_delivery(&request.project, id, &request.key, event.trigger, text, delivery, now);
                        writes.extend(made);
                        deliveries.push(handed);
                    }
                    None => skip(format!("no webhook {id:?} is on")),
                }
            }
        }
    }
    Planned { request: next, writes, skipped, deliveries }
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
