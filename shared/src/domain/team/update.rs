//! An agent's change of who owns a request, how urgent it is and whether it waits on the
//! customer: several at once, one transaction, one history entry per change.

use super::roster::{load_team, team_in, team_key};
use crate::domain::access::{require_agent, Viewer};
use crate::domain::caller::{load_request, Caller};
use crate::domain::email::EmailAddress;
use crate::domain::requests::{history_write, try_update_request, Seen, Viewed, MAX_VERSION};
use crate::domain::Input;
use crate::error::ApiError;
use crate::items::request_key;
use crate::model::{Assignee, Priority, ProjectTeam, Record, Request, RequestStatus, User};
use crate::store::Write;
use crate::App;
use serde::Deserialize;

/// `PATCH /requests/{key}`: each field absent keeps its value; `assignee: null` unassigns.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPatch {
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub assignee: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub status: Option<RequestStatus>,
}

/// Who `raw` names as the assignee: `me`, or the address of an agent on the project's team.
pub(crate) fn choose_assignee(user: &User, team: &ProjectTeam, raw: &str) -> Result<Assignee, ApiError> {
    if raw == "me" {
        return Ok(Assignee::of(user));
    }
    let email = EmailAddress::parse(raw)?;
    if email == user.email {
        return Ok(Assignee::of(user));
    }
    team.agents
        .iter()
        .find(|(_, m)| m.email == email)
        .map(|(id, m)| Assignee { id: id.clone(), email: m.email.clone(), name: m.name.clone() })
        .ok_or_else(|| ApiError::invalid("not_an_agent", format!("{email} is not an agent of this project")))
}

/// The history entries of a change, one per field that moved.
fn history(before: &Request, after: &Request, actor: &User, at: i64) -> Vec<Write> {
    let mut writes = vec![];
    if before.assignee.as_ref().map(|a| &a.id) != after.assignee.as_ref().map(|a| &a.id) {
        let (emails, detail) = match &after.assignee {
            Some(a) => (vec![a.email.clone()], None),
            None => (vec![], Some("unassigned".to_string())),
        };
        writes.push(history_write(after, actor, "assigned", emails, detail, at));
    }
    if before.priority != after.priority {
        writes.push(history_write(after, actor, "priority_changed", vec![], Some(after.priority.as_str().into()), at));
    }
    if before.status != after.status {
        writes.push(history_write(after, actor, "status_changed", vec![], Some(after.status.as_str().into()), at));
    }
    writes
}

/// Applies an agent's patch. With `if_match`, a request that moved past that version is
/// refused with the current one (412); without it, a change made meanwhile is kept and this
/// one applied on top. A patch that changes nothing writes nothing.
pub async fn update_request_fields(
    app: &App,
    caller: &Caller,
    key: &str,
    patch: Input<RequestPatch>,
    if_match: Input<Option<u64>>,
) -> Result<Viewed, ApiError> {
    let project = crate::items::project_of(key).unwrap_or_default();
    let scope = load_request(app, caller, key, &[team_key(project)]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let (patch, if_match) = (patch?, if_match?);
    let user = scope.user().clone();
    let assignee = match &patch.assignee {
        Some(Some(raw)) => {
            let team = match team_in(&scope.extra, &scope.project.key) {
                Some(team) => team,
                None => load_team(app, &scope.project.key).await?,
            };
            Some(Some(choose_assignee(&user, &team, raw)?))
        }
        Some(None) => Some(None),
        None => None,
    };
    // The patch as it applies to the request found (a reread too): a patch that changes
    // nothing is answered with the request as it is (so a retried PATCH is a 200, whatever
    // If-Match says); a change on another version than If-Match names is a 412.
    let patched = |r: &Request| {
        let mut next = r.clone();
        if let Some(a) = assignee.as_ref().filter(|a| a.as_ref().map(|x| &x.id) != r.assignee.as_ref().map(|x| &x.id)) {
            next.assigned_by = a.as_ref().filter(|a| a.id != user.id).map(|_| user.id.clone());
            next.assignee = a.clone();
        }
        next.priority = patch.priority.unwrap_or(r.priority);
        if let Some(status) = patch.status.filter(|s| *s != r.status) {
            next.status = status;
            next.status_by = Some(user.id.clone());
        }
        next
    };
    let unchanged = |r: &Request| history(r, &patched(r), &user, 0).is_empty();
    if unchanged(&scope.request) {
        return Ok((Viewer::Agent, scope.request));
    }
    let apply = |r: &mut Request| -> Result<(), ApiError> {
        if unchanged(r) {
            // A twin of this call (or someone else) made it so meanwhile.
            return Err(ApiError::Conflict { code: NO_CHANGE, message: String::new() });
        }
        if if_match.is_some_and(|v| v != r.version) {
            return Err(ApiError::StaleRequest(if_match.unwrap_or_default(), Box::new(r.clone())));
        }
        *r = Request { version: r.version, ..patched(r) };
        Ok(())
    };
    // Customers see status and priority; an assignment alone is the agents' own business.
    let planned = patched(&scope.request);
    let seen = if planned.status != scope.request.status || planned.priority != scope.request.priority {
        Seen::Public
    } else {
        Seen::AgentsOnly
    };
    let now = app.now();
    let changed = try_update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request.clone(),
        seen,
        apply,
        |before, after| history(before, after, &user, now),
    )
    .await;
    match changed {
        Ok(request) => Ok((Viewer::Agent, request)),
        Err(ApiError::Conflict { code: NO_CHANGE, .. }) => match app.store.get(&request_key(key)).await? {
            Some(Record::Request(current)) => Ok((Viewer::Agent, current)),
            _ => Err(ApiError::NotFound("request")),
        },
        Err(e) => Err(e),
    }
}

/// The refusal a reread raises when the patch no longer changes anything (never answered).
const NO_CHANGE: &str = "no_change";

/// Parses `If-Match`: a version number, quoted as an entity tag or not (`"7"`, `W/"7"`, `7`);
/// `*` matches any version.
pub fn parse_if_match(raw: Option<&[u8]>) -> Result<Option<u64>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = std::str::from_utf8(raw).unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    bare.parse::<u64>()
        .ok()
        .filter(|v| (1..=15).contains(&bare.len()) && bare.chars().all(|c| c.is_ascii_digit()) && *v <= MAX_VERSION)
        .map(Some)
        .ok_or_else(|| ApiError::bad_request("invalid_if_match", "If-Match names a request version, such as \"7\""))
}
