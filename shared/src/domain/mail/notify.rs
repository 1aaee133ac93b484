//! Mail out: what a change of the table means for the people on a request.
//!
//! The notifier reads the table's stream. A request opened (or released from hold), a public
//! comment and a status change each send one email per recipient: the reporter and the
//! participants, at their primary address, never the author of the change, never a suspended
//! account, never for an internal note or a held request. Each email carries that recipient's
//! signed reply address and public link. A `Notified` item is written before each send, so a
//! replayed stream record sends nothing twice; a per-address, per-project hourly limit stops
//! two auto-responders from answering each other forever.

use crate::domain::access::is_agent;
use crate::domain::inbound::message_ref;
use crate::domain::public_links::mint_for;
use crate::domain::reply_address::reply_address;
use crate::error::ApiError;
use crate::items::{notified_key, project_key, request_key, user_key};
use crate::mime::outgoing::OutgoingMail;
use crate::model::{
    AutoMail, Comment, Notified, NotifyLevel, Project, ProjectTeam, Record, Request, RequestStatus, User,
};
use crate::store::{Condition, Counter, StoreError, Write};
use crate::text::rfc3339;
use crate::App;

/// How long a sent notification is remembered (stream records live 24 hours).
const NOTIFIED_TTL_SECS: i64 = 7 * 24 * 3600;

/// What a change of the table means for mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Opened, or released from hold into the queue.
    Opened(Request),
    Commented(Comment),
    StatusChanged(Request),
    /// Given to an agent by someone else (or by automatic assignment): that agent hears.
    Assigned(Request),
    /// A service-level clock is three quarters run (the scheduler marked it): the team hears.
    SlaWarning(Request, &'static str),
    /// A service-level clock ran out unmet (the scheduler marked it): the team hears.
    SlaBreach(Request, &'static str),
    /// An automation's acknowledgement or reminder: the requester hears.
    Mailed(AutoMail),
}

/// The clocks whose warning or breach this change marked, as (warning?, target, due time):
/// a breach recorded because a late reply met the clock is news to nobody.
pub(crate) fn clock_marks(before: &Request, after: &Request) -> Vec<(bool, &'static str, i64)> {
    let (Some(old), Some(new)) = (before.sla.as_ref(), after.sla.as_ref()) else { return vec![] };
    let pairs = [
        ("first_reply", &old.first_reply, &new.first_reply),
        ("next_reply", &old.next_reply, &new.next_reply),
        ("resolution", &old.resolution, &new.resolution),
    ];
    let mut marks = vec![];
    for (name, old, new) in pairs {
        let (Some(old), Some(new)) = (old, new) else { continue };
        if old.breached_at.is_none() && new.breached_at.is_some() && new.met_at.is_none() {
            marks.push((false, name, clock_of(after, name).0));
        } else if old.warned_at.is_none() && new.warned_at.is_some() && new.breached_at.is_none() {
            marks.push((true, name, clock_of(after, name).0));
        }
    }
    marks
}

fn clock_events(before: &Request, after: &Request) -> Vec<Event> {
    let event = |(warning, name, _)| match warning {
        true => Event::SlaWarning(after.clone(), name),
        false => Event::SlaBreach(after.clone(), name),
    };
    clock_marks(before, after).into_iter().map(event).collect()
}

/// A customer's reply that reopened the request in the same change.
fn reopened_by_reply(before: &Request, after: &Request) -> bool {
    !before.status.is_active()
        && after.status.is_active()
        && after.comment_count > before.comment_count
        && after.customer_spoke_last
}

impl Event {
    /// The change between two images of one item, when it is worth an email.
    pub fn of(old: Option<&Record>, new: Option<&Record>) -> Option<Event> {
        match (old, new) {
            (None, Some(Record::Request(r))) if !r.held => Some(Event::Opened(r.clone())),
            (Some(Record::Request(before)), Some(Record::Request(r))) if !r.held => {
                if before.held {
                    Some(Event::Opened(r.clone()))
                } else if reopened_by_reply(before, r) {
                    // The reply's own email says it: one email, not two.
                    None
                } else if before.status.is_active() != r.status.is_active() {
                    // Closed or reopened. Open and pending are both still live: a customer
                    // reads "waiting for your reply" on the request, and the reply that moves
                    // it back to open sends its own email.
                    Some(Event::StatusChanged(r.clone()))
                } else {
                    None
                }
            }
            // A merge's copies were told of where they were written.
            (None, Some(Record::Comment(c))) if !c.internal && c.merged_from.is_none() => {
                Some(Event::Commented(c.clone()))
            }
            (None, Some(Record::AutoMail(m))) => Some(Event::Mailed(m.clone())),
            _ => None,
        }
    }

    /// Every event a change of one item means: a request's change may be a status change
    /// and an assignment at once.
    pub fn all(old: Option<&Record>, new: Option<&Record>) -> Vec<Event> {
        let mut events: Vec<Event> = Event::of(old, new).into_iter().collect();
        if let (Some(Record::Request(before)), Some(Record::Request(r))) = (old, new) {
            let owner = r.assignee.as_ref().map(|a| &a.id);
            let moved = owner.is_some() && owner != before.assignee.as_ref().map(|a| &a.id);
            // By someone else only: an agent who takes a request knows.
            if moved && !r.held && r.assigned_by.is_some() {
                events.push(Event::Assigned(r.clone()));
            }
            if !r.held {
                events.extend(clock_events(before, r));
            }
        }
        events
    }

    /// Names the event, for the dedupe items and Message-IDs.
    fn id(&self) -> String {
        match self {
            Event::Opened(r) => format!("new.{}", r.key),
            Event::Commented(c) => format!("comment.{}", c.id),
            Event::StatusChanged(r) => format!("status.{}.{}", r.key, r.version),
            Event::Assigned(r) => format!("assigned.{}.{}", r.key, r.version),
            Event::SlaWarning(r, target) => format!("slawarn.{}.{target}.{}", r.key, clock_of(r, target).0),
            Event::SlaBreach(r, target) => format!("slabreach.{}.{target}.{}", r.key, clock_of(r, target).0),
            Event::Mailed(m) => format!("automail.{}.{}", m.request_key, m.id),
        }
    }

    fn request_key(&self) -> &str {
        match self {
            Event::Opened(r) | Event::StatusChanged(r) | Event::Assigned(r) => &r.key,
            Event::SlaWarning(r, _) | Event::SlaBreach(r, _) => &r.key,
            Event::Commented(c) => &c.request_key,
            Event::Mailed(m) => &m.request_key,
        }
    }

    fn author(&self) -> Option<&str> {
        match self {
            Event::Opened(r) => Some(&r.reporter_id),
            Event::Commented(c) => Some(&c.author_id),
            Event::StatusChanged(r) => r.status_by.as_deref(),
            Event::Assigned(r) => r.assigned_by.as_deref(),
            Event::SlaWarning(..) | Event::SlaBreach(..) | Event::Mailed(_) => None,
        }
    }
}

/// A clock's due time (the run it belongs to: a next-reply clock runs again) and its
/// target's name for people.
fn clock_of(request: &Request, target: &str) -> (i64, &'static str) {
    let sla = request.sla.as_ref();
    let (clock, label) = match target {
        "first_reply" => (sla.and_then(|s| s.first_reply.as_ref()), "First reply"),
        "next_reply" => (sla.and_then(|s| s.next_reply.as_ref()), "Next reply"),
        _ => (sla.and_then(|s| s.resolution.as_ref()), "Resolution"),
    };
    (clock.and_then(|c| c.due_at.or(c.breached_at)).unwrap_or_default(), label)
}

/// What happened for one recipient.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Sent { to: String },
    AlreadySent { to: String },
    RateLimited { to: String },
}

/// Sends the event's emails. An error means some were not sent and a retry should come: what
/// was sent is remembered, so the retry sends only the rest.
pub async fn notify(app: &App, event: &Event) -> Result<Vec<Notice>, ApiError> {
    let key = event.request_key();
    let project = crate::items::project_of(key).ok_or(ApiError::NotFound("request"))?;
    let keys = [request_key(key), project_key(project), crate::items::project_team_key(project)];
    let records = app.store.get_many(&keys).await?;
    let (mut request, mut project, mut team) = (None, None, None);
    for record in records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::Project(p) => project = Some(p),
            Record::ProjectTeam(t) => team = Some(t),
            _ => {}
        }
    }
    let (Some(request), Some(project)) = (request, project) else { return Ok(vec![]) };
    if request.held {
        return Ok(vec![]);
    }
    let event_id = event.id();
    let author = match event.author() {
        Some(id) => app.store.get(&user_key(id)).await?,
        None => None,
    };
    let by_agent = matches!(&author, Some(Record::User(u)) if is_agent(u, &project.key));
    let mut ids: Vec<(String, Audience)> =
        customers(event, &request).into_iter().map(|id| (id, Audience::Customer)).collect();
    for id in agents(event, &request, team.as_ref(), by_agent) {
        if !ids.iter().any(|(known, _)| *known == id) {
            ids.push((id, Audience::Agent));
        }
    }
    // The author knows what they did; a follow-up's reporter is told where their message went.
    let follow_up = matches!(event, Event::Opened(r) if r.follow_up_of.is_some());
    ids.retain(|(id, _)| Some(id.as_str()) != event.author() || follow_up);
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut keys: Vec<_> = ids.iter().map(|(id, _)| user_key(id)).collect();
    keys.extend(ids.iter().map(|(id, _)| notified_key(&event_id, id)));
    let known = app.store.get_many(&keys).await?;
    let mut notices = vec![];
    for (id, audience) in &ids {
        let user = known.iter().find_map(|r| match r {
            Record::User(u) if &u.id == id => Some(u),
            _ => None,
        });
        let Some(user) = user.filter(|u| !u.suspended) else { continue };
        let to = user.email.to_string();
        let now = app.now();
        let done = known.iter().any(|r| matches!(r, Record::Notified(n) if &n.user_id == id && n.expires_at > now));
        if done {
            notices.push(Notice::AlreadySent { to });
            continue;
        }
        // Everything that can fail before the claim does: once claimed, a failure releases it.
        let label = match audience {
            Audience::Customer => author_label(author.as_ref(), &project),
            Audience::Agent => staff_label(author.as_ref()),
        };
        let mail = compose(app, event, &request, &project, user, &label, *audience).await?;
        if !claim(app, &event_id, id).await? {
            notices.push(Notice::AlreadySent { to });
            continue;
        }
        match send_claimed(app, &project, &request, &mail).await {
            Ok(true) => notices.push(Notice::Sent { to }),
            Ok(false) => {
                tracing::warn!(to = %to, request = %request.key, "notification rate limit reached");
                notices.push(Notice::RateLimited { to });
            }
            Err(e) => {
                // Not sent: give the claim up (expired at once) so the retry sends it.
                let released = Notified { event: event_id.clone(), user_id: id.clone(), expires_at: app.now() - 1 };
                let write = Write::Put { record: Record::Notified(released), condition: Condition::None };
                app.store.transact(vec![write]).await?;
                return Err(e);
            }
        }
    }
    Ok(notices)
}

/// Who reads an email: the people on a request, or the team working it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Customer,
    Agent,
}

/// The people on the request an event tells: its reporter and participants (a new request,
/// those it was opened with: those added since hear of the sharing itself). An assignment is
/// the team's business.
fn customers(event: &Event, request: &Request) -> Vec<String> {
    let parties = match event {
        Event::Opened(opened) => opened,
        Event::Assigned(_) | Event::SlaWarning(..) | Event::SlaBreach(..) => return vec![],
        // Written to the requester alone, as a reply to what they sent.
        Event::Mailed(_) => return vec![request.reporter_id.clone()],
        _ => request,
    };
    let mut ids = vec![parties.reporter_id.clone()];
    ids.extend(parties.participant_ids.iter().cloned());
    ids.dedup();
    ids
}

/// The agents an event tells, by their `notify` choice: the assignee of an assignment made by
/// someone else; of a new request or a customer's reply, its assignee, or when it has none,
/// the agents who asked for all activity. An agent's own reply tells no agent.
fn agents(event: &Event, request: &Request, team: Option<&ProjectTeam>, by_agent: bool) -> Vec<String> {
    let owner = match event {
        // As it was opened (an agent who took it since is not told it is new).
        Event::Assigned(r) | Event::Opened(r) => r.assignee.as_ref(),
        Event::SlaWarning(r, _) | Event::SlaBreach(r, _) => r.assignee.as_ref(),
        Event::Commented(_) if !by_agent => request.assignee.as_ref(),
        _ => return vec![],
    };
    let Some(team) = team else { return vec![] };
    let wants = |id: &str, levels: &[NotifyLevel]| team.agents.get(id).is_some_and(|m| levels.contains(&m.notify));
    match (event, owner) {
        (_, Some(a)) => {
            wants(&a.id, &[NotifyLevel::Assigned, NotifyLevel::All]).then(|| a.id.clone()).into_iter().collect()
        }
        (Event::Assigned(_), None) => vec![],
        (_, None) => {
            team.agents.iter().filter(|(_, m)| m.notify == NotifyLevel::All).map(|(id, _)| id.clone()).collect()
        }
    }
}

/// Agents see who did it: the address (or the helpdesk's own automation).
fn staff_label(author: Option<&Record>) -> String {
    match author {
        Some(Record::User(u)) => u.name.clone().unwrap_or_else(|| u.email.to_string()),
        _ => "Automatic assignment".to_string(),
    }
}

/// Sends a claimed notification within the address's hourly limit (false: over it, not sent)
/// and remembers its Message-IDs for threading. Once SES took it, it counts as sent.
async fn send_claimed(app: &App, project: &Project, request: &Request, mail: &OutgoingMail) -> Result<bool, ApiError> {
    let subject = format!("{}#{}", project.key, mail.to);
    let limit = Counter::hourly("notify", &subject, project.settings.notify_per_hour, app.now());
    if !app.store.bump(&limit).await? {
        return Ok(false);
    }
    let ses_id = app.mailer.send_raw(&mail.to, mail.to_bytes()).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = app.now();
    // Each reference helps on its own, so they need no transaction (which costs twice).
    let mut refs =
        vec![message_ref(&mail.message_id, &request.key, now), message_ref(&mail.thread_root, &request.key, now)];
    refs.extend((!ses_id.is_empty()).then(|| message_ref(&ses_id, &request.key, now)));
    if let Err(e) = app.store.put_all(refs).await {
        // Sent all the same: replies still thread by their reply address.
        tracing::error!(error = %e, request = %request.key, "remembering a notification's Message-ID failed");
    }
    Ok(true)
}

/// Takes the event for this recipient; false when a twin delivery took it first.
async fn claim(app: &App, event_id: &str, user_id: &str) -> Result<bool, ApiError> {
    let record = Notified {
        event: event_id.to_string(),
        user_id: user_id.to_string(),
        expires_at: app.now() + NOTIFIED_TTL_SECS,
    };
    let claim = Write::Put { record: Record::Notified(record), condition: Condition::NotExistsOrExpired(app.now()) };
    match app.store.transact(vec![claim]).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Customers see agents as the support team (`authors::team_label`), never their addresses,
/// and other customers as `authors::customer_label` names them.
fn author_label(author: Option<&Record>, project: &Project) -> String {
    match author {
        Some(Record::User(u)) if !is_agent(u, &project.key) => {
            crate::domain::authors::customer_label(u.name.as_deref(), u.email.as_str())
        }
        Some(Record::User(u)) => crate::domain::authors::team_label(u.name.as_deref(), &project.name),
        _ => crate::domain::authors::team_label(None, &project.name),
    }
}

async fn compose(
    app: &App,
    event: &Event,
    request: &Request,
    project: &Project,
    user: &User,
    author: &str,
    audience: Audience,
) -> Result<OutgoingMail, ApiError> {
    let link = if audience == Audience::Agent {
        format!("{}/desk/requests/{}", app.config.public_base_url, request.key)
    } else if project.settings.portal_public && request.merged_into.is_none() {
        let links = mint_for(app, request, project, vec![(user.id.clone(), user.email.clone())]).await?;
        let token = links.into_iter().next().map(|l| l.token).unwrap_or_default();
        format!("{}/p/{token}", app.config.public_base_url)
    } else {
        format!("{}/portal/requests/{}", app.config.public_base_url, request.key)
    };
    let expires_at = app.now() + i64::from(project.settings.public_link_days) * 24 * 3600;
    let reply_to = reply_address(app, request, &user.id, expires_at).await?;
    let what = match event {
        Event::Opened(r) => match &r.follow_up_of {
            Some(old) if user.id == r.reporter_id => format!(
                "{old} was closed a while ago, so your message opened a new request, {}. We will answer there:\n\n{}",
                request.key, request.description
            ),
            _ => format!("{author} opened {} and shared it with you:\n\n{}", request.key, request.description),
        },
        Event::Commented(c) => format!("{author} wrote on {}:\n\n{}", request.key, c.body),
        Event::StatusChanged(r) => match (r.status, &r.merged_into) {
            (RequestStatus::Closed, Some(into)) => format!(
                "{author} merged {} into {into}, about the same thing: the conversation goes on there.",
                request.key
            ),
            (RequestStatus::Closed, None) => format!("{author} closed {}.", request.key),
            (RequestStatus::Open | RequestStatus::Pending, _) => format!("{author} reopened {}.", request.key),
        },
        Event::Assigned(_) => format!("{author} assigned {} to you.\n\n{}", request.key, request.description),
        Event::SlaWarning(r, target) => {
            let (due, label) = clock_of(r, target);
            format!("{label} on {} is due at {} (three quarters of its target have passed).", request.key, rfc3339(due))
        }
        Event::SlaBreach(r, target) => {
            let (due, label) = clock_of(r, target);
            format!("{label} on {} was due at {} and is overdue.", request.key, rfc3339(due))
        }
        Event::Mailed(m) => m.body.clone(),
    };
    let what = match (audience, event) {
        (Audience::Agent, Event::Opened(r)) => {
            let follows =
                r.follow_up_of.as_ref().map(|old| format!(" (a follow-up to {old}, closed)")).unwrap_or_default();
            format!("{author} opened {}{follows}:\n\n{}", request.key, request.description)
        }
        (Audience::Customer, Event::StatusChanged(r))
            if r.status == RequestStatus::Closed && crate::domain::csat::rates(user, r, project) =>
        {
            let token = crate::domain::csat::rating_token(app, &request.key, &user.id, app.now()).await?;
            let rate = format!("{}/csat/{token}", app.config.public_base_url);
            format!("{what}\n\nHow did we do? One click rates it:\nGood: {rate}?rating=good\nBad: {rate}?rating=bad")
        }
        _ => what,
    };
    let how = match audience {
        Audience::Customer => "Reply to this email to answer, or open the request:",
        Audience::Agent => "Reply to this email to answer the customer (start with a line \"#note\" for an internal note), or open it in the console:",
    };
    let domain = &app.config.support_domain;
    Ok(OutgoingMail {
        from: app.config.mail_from.clone(),
        to: user.email.to_string(),
        reply_to,
        subject: format!("[{}] {}", request.key, request.summary),
        text: format!("{what}\n\n-- \n{how}\n{link}\n\n{} · {}\n", project.name, request.key),
        // Opaque: a Message-ID (kept as written where SES does not rewrite it) tells nothing,
        // such as how many changes a request had.
        message_id: format!("{}@{domain}", &crate::text::sha256_hex(&format!("{}\n{}", event.id(), user.id))[..32]),
        thread_root: format!("{}.{}@{domain}", request.key.to_lowercase(), request.id.to_lowercase()),
    })
}

mod admins;
pub use admins::notify_admins;

#[cfg(test)]
mod tests;
