//! Satisfaction ratings: the close email to a request's requester (its reporter) carries links
//! signed for them and the request; whoever holds one may rate that request, without signing
//! in, for `RATING_DAYS` after the link was made, and change it for `RATING_DAYS` after the
//! first rating. Opening the link records nothing (mail scanners open links); posting does.
//! One rating per request, the requester's: a colleague who also sees it cannot replace it.
//! The rating sits on the request for its agents (`Request.csat`), counted in reports.

use crate::domain::access::{can_view, is_agent};
use crate::domain::caller::{resolve, Caller};
use crate::domain::reports::records::{Csat, Rating};
use crate::domain::requests::{try_update_request, Seen};
use crate::domain::{signing, Input};
use crate::error::ApiError;
use crate::items::{project_key, project_of, request_key, user_key};
use crate::model::{Project, Record, Request, RequestStatus, User};
use crate::App;
use serde::Deserialize;

/// How long a rating link works, and a rating can change.
pub const RATING_DAYS: i64 = 28;
const PURPOSE: &str = "csat";
pub const MAX_COMMENT: usize = 2000;

/// Why a rating is bad, as the page offers it.
pub const REASONS: [(&str, &str); 4] = [
    ("too_slow", "It took too long"),
    ("not_solved", "My problem is not solved"),
    ("unhelpful", "The answers did not help"),
    ("other", "Something else"),
];

/// The token of a recipient's rating link for a request, made at `issued_at`.
pub async fn rating_token(app: &App, request: &str, user_id: &str, issued_at: i64) -> Result<String, ApiError> {
    signing::sign(app, PURPOSE, &format!("{request}\n{user_id}\n{issued_at}")).await
}

const WINDOW: i64 = RATING_DAYS * 86_400;

/// Whether `user` is who rates `request`: its requester, still able to see it, not an agent.
pub fn rates(user: &User, request: &Request, project: &Project) -> bool {
    user.id == request.reporter_id
        && !user.suspended
        && project.settings.csat
        && !is_agent(user, &project.key)
        && can_view(user, request, project.settings.org_sharing)
        // A merged request is rated where its conversation went.
        && request.merged_into.is_none()
}

/// Whether the request's rating can still be given or changed at `now` (its first rating
/// opened a window of its own).
fn still_open(request: &Request, now: i64) -> bool {
    request.csat.as_ref().is_none_or(|c| now <= c.first_at + WINDOW)
}

/// The rating link token the requester's page of a request offers: a closed request, closed
/// (its last public change) within the window.
pub async fn offer(app: &App, viewer: &User, request: &Request, project: &Project) -> Result<Option<String>, ApiError> {
    let now = app.now();
    let offered = request.status == RequestStatus::Closed
        && rates(viewer, request, project)
        && now <= request.updated_at + WINDOW
        && still_open(request, now);
    if !offered {
        return Ok(None);
    }
    rating_token(app, &request.key, &viewer.id, now).await.map(Some)
}

/// The page of a rating link: whose request, what they chose before.
#[derive(Debug, Clone)]
pub struct RatingPage {
    pub request: Request,
    pub project: Project,
    pub rater: User,
    /// The rating given so far.
    pub current: Option<Csat>,
    /// Until when the rating can change.
    pub open_until: i64,
}

/// What a rating link's holder may do: anything that is not a live link of this deployment
/// for a request its recipient may still see is the same 404.
pub async fn open(app: &App, token: &str) -> Result<RatingPage, ApiError> {
    let not_found = ApiError::NotFound("rating link");
    let Some(payload) = signing::verify(app, PURPOSE, token).await? else { return Err(not_found) };
    let mut parts = payload.split('\n');
    let (Some(key), Some(user_id), Some(issued), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_found);
    };
    let (Some(project), Ok(issued)) = (project_of(key), issued.parse::<i64>()) else { return Err(not_found) };
    let expired = || {
        ApiError::Refused {
        code: "rating_link_expired",
        message: format!("a rating can be given for {RATING_DAYS} days after the request was closed, and changed for {RATING_DAYS} days after"),
    }
    };
    if app.now() > issued + WINDOW {
        return Err(expired());
    }
    let records = app.store.get_many(&[request_key(key), user_key(user_id), project_key(project)]).await?;
    let (mut request, mut rater, mut settings) = (None, None, None);
    for record in records {
        match record {
            Record::Request(r) => request = Some(r),
            Record::User(u) => rater = Some(u),
            Record::Project(p) => settings = Some(p),
            _ => {}
        }
    }
    let (Some(request), Some(rater), Some(project)) = (request, rater, settings) else { return Err(not_found) };
    // Not the requester (any more), an agent, or a project that stopped asking.
    if !rates(&rater, &request, &project) {
        return Err(not_found);
    }
    if !still_open(&request, app.now()) {
        return Err(expired());
    }
    let open_until = request.csat.as_ref().map_or(issued, |c| c.first_at) + WINDOW;
    let current = request.csat.clone();
    Ok(RatingPage { request, project, rater, current, open_until })
}

/// A rating as a page's form or a JSON body gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub rating: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

fn checked(input: RatingInput) -> Result<(Rating, Option<String>, Option<String>), ApiError> {
    let rating =
        Rating::parse(&input.rating).ok_or_else(|| ApiError::invalid("invalid_rating", "rating is good or bad"))?;
    let reason = input.reason.filter(|r| !r.is_empty());
    if let Some(reason) = &reason {
        if rating == Rating::Good || !REASONS.iter().any(|(key, _)| key == reason) {
            return Err(ApiError::invalid(
                "invalid_rating",
                "a reason goes with a bad rating: too_slow, not_solved, unhelpful or other",
            ));
        }
    }
    let comment = input.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if let Some(comment) = &comment {
        crate::text::check_text("comment", comment, MAX_COMMENT, true, false)?;
    }
    Ok((rating, reason, comment))
}

/// Records (or changes) the rating of a link's request. Only a closed request is rated.
pub async fn rate(app: &App, token: &str, input: Input<RatingInput>) -> Result<RatingPage, ApiError> {
    let page = open(app, token).await?;
    let (rating, reason, comment) = checked(input?)?;
    let (actor, _) = resolve(app, &Caller::Sender(Box::new(page.rater.clone())), &[]).await?;
    let now = app.now();
    let rater = page.rater.id.clone();
    // Checked on the request as each attempt finds it (it may have been reopened meanwhile).
    let set = |r: &mut Request| {
        if r.status != RequestStatus::Closed {
            return Err(ApiError::Conflict {
                code: "request_not_closed",
                message: "the request was reopened: it can be rated once it is closed again".into(),
            });
        }
        let first_at = r.csat.as_ref().map_or(now, |c| c.first_at);
        r.csat = Some(Csat {
            rating,
            reason: reason.clone(),
            comment: comment.clone(),
            by: rater.clone(),
            at: now,
            first_at,
        });
        Ok(())
    };
    // Agents only see it: customers' `updated_at` does not move.
    let request =
        try_update_request(app, &actor, None, page.request.clone(), Seen::AgentsOnly, set, |_, _| vec![]).await?;
    let current = request.csat.clone();
    Ok(RatingPage { request, current, ..page })
}
