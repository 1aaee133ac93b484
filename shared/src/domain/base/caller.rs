//! Who is calling, and the loaders that resolve a caller together with what a use case needs,
//! in one round trip (a BatchGet of the session, the user and the route's items).

use crate::domain::access::{can_view, viewer, Viewer};
use crate::domain::email::EmailAddress;
use crate::error::ApiError;
use crate::items::{project_key, project_of, request_key, session_key, user_key, ItemKey};
use crate::model::{Project, Record, Request, User};
use crate::text::sha256_hex;
use crate::App;

/// A caller before it is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    /// A session token, from an `Authorization: Bearer` header or the `hd_session` cookie.
    Session(String),
    /// A user the channel has already identified (the verified sender of an email).
    Sender(Box<User>),
    Anonymous,
}

impl Caller {
    pub fn session(token: Option<&str>) -> Caller {
        match token {
            Some(t) if !t.is_empty() => Caller::Session(t.to_string()),
            _ => Caller::Anonymous,
        }
    }

    /// The user id the caller claims, before any read proves it: session tokens are
    /// `<user id>.<secret>`. Lets a use case read the user's own items in the same round trip.
    pub fn claimed_user_id(&self) -> Option<&str> {
        match self {
            Caller::Session(token) => {
                let (user_id, secret) = token.split_once('.')?;
                (!user_id.is_empty() && user_id.len() <= 64 && secret.len() >= 32).then_some(user_id)
            }
            Caller::Sender(user) => Some(&user.id),
            Caller::Anonymous => None,
        }
    }

    /// Refuses a caller that cannot be anyone, before any read.
    pub fn require_claim(&self) -> Result<&str, ApiError> {
        self.claimed_user_id().ok_or(ApiError::Unauthorized)
    }
}

/// A caller once checked: a signed-in or identified user.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub user: User,
    /// The session's hash, when the caller came with one.
    pub session_hash: Option<String>,
}

impl Actor {
    pub fn email(&self) -> EmailAddress {
        self.user.email.clone()
    }
}

/// Checks the caller and reads `extra` keys in the same round trip. Expiry is checked here:
/// TTL deletes only lazily. A suspended user is nobody.
pub async fn resolve(app: &App, caller: &Caller, extra: &[ItemKey]) -> Result<(Actor, Vec<Record>), ApiError> {
    let user_id = caller.require_claim()?;
    let session_hash = match caller {
        Caller::Session(token) => Some(sha256_hex(token)),
        _ => None,
    };
    let mut keys = Vec::with_capacity(extra.len() + 2);
    if let Some(hash) = &session_hash {
        keys.extend([session_key(hash), user_key(user_id)]);
    }
    keys.extend_from_slice(extra);
    let records = if keys.is_empty() { vec![] } else { app.store.get_many(&keys).await? };
    let now = app.now();
    let (mut session, mut user) = (None, None);
    let mut rest = Vec::with_capacity(extra.len());
    for record in records {
        match record {
            Record::Session(s) if Some(&s.token_hash) == session_hash.as_ref() => session = Some(s),
            Record::User(u) if u.id == user_id && session_hash.is_some() => user = Some(u),
            other => rest.push(other),
        }
    }
    let user = match caller {
        Caller::Sender(sender) => Some((**sender).clone()),
        _ => match (session, user) {
            (Some(s), Some(u)) if s.user_id == u.id && s.expires_at > now => Some(u),
            _ => None,
        },
    };
    match user {
        Some(user) if !user.suspended => Ok((Actor { user, session_hash }, rest)),
        _ => Err(ApiError::Unauthorized),
    }
}

/// A request its caller may see, with its project and the route's extra records.
#[derive(Debug)]
pub struct RequestScope {
    pub actor: Actor,
    pub request: Request,
    pub project: Project,
    pub extra: Vec<Record>,
}

impl RequestScope {
    pub fn user(&self) -> &User {
        &self.actor.user
    }
    pub fn viewer(&self) -> Viewer {
        viewer(&self.actor.user, &self.request)
    }
}

/// The one "may this caller see this request, else 404" for every path: the request, its
/// project and `extra`, read with the session in one BatchGet.
pub async fn load_request(app: &App, caller: &Caller, key: &str, extra: &[ItemKey]) -> Result<RequestScope, ApiError> {
    caller.require_claim()?;
    let project_key_of = project_of(key).ok_or(ApiError::NotFound("request"))?;
    let mut keys = vec![request_key(key), project_key(project_key_of)];
    keys.extend_from_slice(extra);
    let (actor, records) = resolve(app, caller, &keys).await?;
    // BatchGet answers in any order, and `extra` may hold other requests and projects.
    let (mut request, mut project, mut rest) = (None, None, vec![]);
    for record in records {
        match record {
            Record::Request(r) if request.is_none() && r.key == key => request = Some(r),
            Record::Project(p) if project.is_none() && p.key == project_key_of => project = Some(p),
            other => rest.push(other),
        }
    }
    let (request, project) = visible(&actor, request, project)?;
    Ok(RequestScope { actor, request, project, extra: rest })
}

/// The request and its project when the actor may see it; 404 otherwise.
pub fn visible(
    actor: &Actor,
    request: Option<Request>,
    project: Option<Project>,
) -> Result<(Request, Project), ApiError> {
    match (request, project) {
        (Some(r), Some(p)) if can_view(&actor.user, &r, p.settings.org_sharing) => Ok((r, p)),
        _ => Err(ApiError::NotFound("request")),
    }
}

/// The account id of `email` among records read with the caller (an `EMAIL#` item); for an
/// address nobody has, an id no item is filed under.
pub fn account_of(records: &[Record], email: &EmailAddress) -> String {
    records
        .iter()
        .find_map(|r| match r {
            Record::EmailOwner(o) if o.email == *email => Some(o.user_id.clone()),
            _ => None,
        })
        .unwrap_or_else(|| format!("unknown:{email}"))
}

/// A project with its caller and the route's extra records, in one round trip.
pub async fn load_project(
    app: &App,
    caller: &Caller,
    key: &str,
    extra: &[ItemKey],
) -> Result<(Actor, Project, Vec<Record>), ApiError> {
    caller.require_claim()?;
    let mut keys = vec![project_key(key)];
    keys.extend_from_slice(extra);
    let (actor, records) = resolve(app, caller, &keys).await?;
    let mut project = None;
    let mut rest = vec![];
    for record in records {
        match record {
            Record::Project(p) if p.key == key => project = Some(p),
            other => rest.push(other),
        }
    }
    Ok((actor, project.ok_or(ApiError::NotFound("project"))?, rest))
}

/// The user's organizations (or only `only`) whose project shares requests with its
/// organizations (seed 004): the projects read in one BatchGet.
pub async fn sharing_organizations(app: &App, user: &User, only: Option<&str>) -> Result<Vec<String>, ApiError> {
    let orgs: Vec<(&String, &String)> =
        user.organizations.iter().filter(|(id, _)| only.is_none_or(|o| o == id.as_str())).collect();
    if orgs.is_empty() {
        return Ok(vec![]);
    }
    let mut projects: Vec<_> = orgs.iter().map(|(_, p)| project_key(p)).collect();
    projects.sort();
    projects.dedup();
    let sharing: Vec<String> = app
        .store
        .get_many(&projects)
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::Project(p) if p.settings.org_sharing => Some(p.key),
            _ => None,
        })
        .collect();
    Ok(orgs.into_iter().filter(|(_, p)| sharing.contains(p)).map(|(org, _)| org.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::testing::memory_app;

    #[tokio::test]
    async fn a_sender_is_who_the_channel_says_unless_suspended() {
        let (app, _, _) = memory_app();
        let ann = crate::auth::new_user(&EmailAddress::parse("ann@example.com").unwrap(), 0);
        let caller = Caller::Sender(Box::new(ann.clone()));
        assert_eq!(caller.claimed_user_id(), Some(ann.id.as_str()));
        let (actor, records) = resolve(&app, &caller, &[]).await.unwrap();
        assert_eq!((actor.user.id, actor.session_hash, records.len()), (ann.id.clone(), None, 0));
        let suspended = Caller::Sender(Box::new(User { suspended: true, ..ann }));
        assert_eq!(resolve(&app, &suspended, &[]).await.unwrap_err(), ApiError::Unauthorized);
        assert_eq!(resolve(&app, &Caller::Anonymous, &[]).await.unwrap_err(), ApiError::Unauthorized);
    }

    /// Extra keys may hold another request, project or session: the scope still takes the
    /// ones the call is about, and hands the others back untouched.
    #[tokio::test]
    async fn extra_records_never_stand_in_for_the_request_project_or_session() {
        let desk = crate::testing::Desk::new().await;
        desk.project("HD").await;
        desk.project("OT").await;
        let ann = desk.sign_in("ann@example.com").await;
        let bob = desk.sign_in("bob@example.com").await;
        let mine = desk.raise(&ann, "HD", "mine").await;
        let other = desk.raise(&ann, "OT", "other").await;
        let Caller::Session(bob_token) = &bob else { unreachable!() };
        let extra = [request_key(&other.key), project_key("OT"), session_key(&sha256_hex(bob_token))];
        let scope = load_request(&desk.app, &ann, &mine.key, &extra).await.unwrap();
        assert_eq!((scope.request.key.as_str(), scope.project.key.as_str()), (mine.key.as_str(), "HD"));
        let mut kinds: Vec<_> = scope.extra.iter().map(|r| r.index_keys().pk).collect();
        kinds.sort();
        assert_eq!(kinds, ["PROJECT#OT", &format!("REQ#{}", other.key), &format!("SESSION#{}", sha256_hex(bob_token))]);
        assert_eq!(
            scope.actor.session_hash,
            Some(sha256_hex(match &ann {
                Caller::Session(t) => t,
                _ => unreachable!(),
            }))
        );
        let (_, project, rest) = load_project(&desk.app, &ann, "HD", &[project_key("OT")]).await.unwrap();
        assert_eq!((project.key.as_str(), rest.len()), ("HD", 1));
        // Another request of the same project as an extra: the one named is the scope's.
        let second = desk.raise(&ann, "HD", "second").await;
        let scope = load_request(&desk.app, &ann, &mine.key, &[request_key(&second.key)]).await.unwrap();
        assert_eq!((scope.request.key, scope.extra.len()), (mine.key.clone(), 1));
    }

    /// A session is good until the second it expires, not at it.
    #[tokio::test]
    async fn a_session_ends_at_its_expiry() {
        let desk = crate::testing::Desk::new().await;
        let ann = desk.sign_in("ann@example.com").await;
        let Caller::Session(token) = &ann else { unreachable!() };
        let Some(Record::Session(session)) = desk.store.get(&session_key(&sha256_hex(token))).await.unwrap() else {
            panic!("no session");
        };
        desk.app.clock.advance(session.expires_at - desk.app.now() - 1);
        assert!(resolve(&desk.app, &ann, &[]).await.is_ok());
        desk.app.clock.advance(1);
        assert_eq!(resolve(&desk.app, &ann, &[]).await.unwrap_err(), ApiError::Unauthorized);
    }

    #[test]
    fn an_empty_token_is_nobody() {
        assert_eq!(Caller::session(Some("")), Caller::Anonymous);
        assert_eq!(Caller::session(None), Caller::Anonymous);
    }

    #[test]
    fn tokens_claim_a_user_only_in_their_shape() {
        let long = "s".repeat(32);
        assert_eq!(Caller::session(Some(&format!("U1.{long}"))).claimed_user_id(), Some("U1"));
        for bad in ["", "nodot", "U1.short", &format!(".{long}")] {
            assert_eq!(Caller::session(Some(bad)).claimed_user_id(), None, "{bad}");
        }
    }
}
