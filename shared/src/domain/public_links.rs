//! Public links (seed 003): a signed, expiring link per request and recipient that shows the
//! request without signing in, closes it, and takes a reply once the holder types the address
//! the link was sent to. Agents mint and revoke them; `access::may_use_public_link` decides
//! whether one still works.

use crate::domain::access::{may_use_public_link, require_agent, Viewer};
use crate::domain::attachments::uploads;
pub use crate::domain::authors::PublicAuthor;
use crate::domain::caller::{load_request, Caller};
use crate::domain::email::EmailAddress;
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::link_token::PublicLink;
use crate::domain::requests::{self, history_write, read_thread, update_request, NewComment, RequestDetail, Seen};
use crate::domain::{signing, Input};
use crate::error::ApiError;
use crate::items::{link_lock_key, project_key, project_of, rate_key, user_key};
use crate::model::{Comment, LinkLock, Project, Record, Request, RequestStatus, User};
use crate::store::{Condition, Counter, Write};
use crate::text::sha256_hex;
use crate::App;
use serde::Deserialize;

mod remembered;
pub use remembered::{remember, remembered_address, REMEMBER_SECS};

const PURPOSE: &str = "public-link";
/// Wrong addresses a link takes before it stops working.
pub const MAX_WRONG_EMAILS: u32 = 5;
/// Replies (right address or wrong) one link takes per hour: parallel guesses are bounded too.
pub const MAX_REPLIES_PER_HOUR: u32 = 30;
const DAY: i64 = 24 * 3600;

const RECIPIENT: &str = "public-link-recipient";

fn recipient_message(request: &str, user_id: &str) -> String {
    format!("{request}\n{user_id}")
}

/// A link's recipient is checked by signature, with the signing keys: here, not in
/// `link_token`, which only reads and writes the payload.
impl PublicLink {
    /// Whether this link was made for account `user_id`.
    async fn names(&self, app: &App, user_id: &str) -> Result<bool, ApiError> {
        let Some((kid, tag)) = self.recipient.split_once('.') else { return Ok(false) };
        signing::verify_short(app, RECIPIENT, kid, tag, &recipient_message(&self.request, user_id)).await
    }

    /// The party of `request` this link was made for, if it still is one.
    async fn recipient_in(&self, app: &App, request: &Request) -> Result<Option<String>, ApiError> {
        for (id, _) in recipients(request) {
            if self.names(app, &id).await? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintInput {
    /// Recipients among the reporter and participants; all of them when absent.
    #[serde(default)]
    pub emails: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MintedLink {
    pub email: EmailAddress,
    pub token: String,
    pub expires_at: i64,
}

/// The reporter and the participants, with their account ids.
fn recipients(request: &Request) -> Vec<(String, EmailAddress)> {
    let mut all = vec![(request.reporter_id.clone(), request.reporter_email.clone())];
    all.extend(request.participant_ids.iter().cloned().zip(request.participants.iter().cloned()));
    all
}

/// Signs a link for each recipient (no write: a link is its signature).
pub(crate) async fn mint_for(
    app: &App,
    request: &Request,
    project: &Project,
    to: Vec<(String, EmailAddress)>,
) -> Result<Vec<MintedLink>, ApiError> {
    let expires_at = app.now() + i64::from(project.settings.public_link_days) * DAY;
    let mut links = Vec::with_capacity(to.len());
    for (user_id, email) in to {
        let (kid, tag) = signing::sign_short(app, RECIPIENT, &recipient_message(&request.key, &user_id)).await?;
        let link = PublicLink {
            request: request.key.clone(),
            recipient: format!("{kid}.{tag}"),
            expires_at,
            generation: request.public_link_generation,
        };
        links.push(MintedLink { email, token: signing::sign(app, PURPOSE, &link.payload()).await?, expires_at });
    }
    Ok(links)
}

/// Mints public links of a request (agents), for the recipients asked for or all of them.
pub async fn mint(app: &App, caller: &Caller, key: &str, input: Input<MintInput>) -> Result<Vec<MintedLink>, ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let input = input?;
    if !scope.project.settings.portal_public {
        return Err(ApiError::Conflict {
            code: "public_portal_off",
            message: "this project's public portal is off: turn portal.public on first".into(),
        });
    }
    let all = recipients(&scope.request);
    let chosen = match input.emails {
        None => all,
        Some(emails) => {
            if emails.is_empty() || emails.len() > 100 {
                return Err(ApiError::invalid("invalid_field", "emails must list 1 to 100 addresses"));
            }
            let mut chosen = Vec::new();
            for raw in emails {
                let email = EmailAddress::parse(&raw)?;
                let found = all.iter().find(|(_, e)| *e == email).cloned().ok_or_else(|| {
                    ApiError::invalid("not_a_party", format!("{email} is not the reporter or a participant"))
                })?;
                if !chosen.contains(&found) {
                    chosen.push(found);
                }
            }
            chosen
        }
    };
    mint_for(app, &scope.request, &scope.project, chosen).await
}

/// Revokes every public link of a request minted so far (agents). Safe to retry: a second
/// revocation only moves the generation again.
pub async fn revoke(app: &App, caller: &Caller, key: &str) -> Result<Request, ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let history = history_write(&scope.request, scope.user(), "public_links_revoked", vec![], None, app.now());
    let bump = |r: &mut Request| r.public_link_generation += 1;
    update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        Seen::AgentsOnly,
        bump,
        || vec![history.clone()],
    )
    .await
}

/// A request as a public link shows it: always as a customer sees it.
#[derive(Debug)]
pub struct PublicPage {
    pub link: PublicLink,
    pub project: Project,
    pub detail: RequestDetail,
    recipient: User,
    token_hash: String,
    /// The token of the rating link the page offers (a closed request).
    pub rating_token: Option<String>,
}

impl PublicPage {
    /// Who wrote `comment`, relative to the link's recipient.
    pub fn author(&self, comment: &Comment) -> PublicAuthor {
        PublicAuthor::of(comment, &self.recipient.id, &self.project.name)
    }
}

/// Whether a link's lock is honoured: only a reply that proved the address reads past it,
/// to answer with what it did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock {
    Honoured,
    Passed,
}

/// Opens a public link: its request, project and public thread. Anything that is not a live
/// link of this deployment is the same 404.
pub async fn open(app: &App, token: &str) -> Result<PublicPage, ApiError> {
    load(app, token, Lock::Honoured).await
}

async fn load(app: &App, token: &str, lock: Lock) -> Result<PublicPage, ApiError> {
    let not_found = ApiError::NotFound("page");
    let link = signing::verify(app, PURPOSE, token).await?.as_deref().and_then(PublicLink::parse);
    let Some(link) = link else { return Err(not_found) };
    let project = project_of(&link.request).ok_or(ApiError::NotFound("page"))?.to_string();
    let token_hash = sha256_hex(token);
    let keys = [project_key(&project), link_lock_key(&token_hash)];
    let (records, thread) = tokio::join!(app.store.get_many(&keys), read_thread(app, &link.request));
    let (mut thread, now) = (thread?, app.now());
    let (mut project, mut locked) = (None, false);
    for record in records? {
        match record {
            Record::Project(p) => project = Some(p),
            Record::LinkLock(l) => locked = l.expires_at > now && lock == Lock::Honoured,
            _ => {}
        }
    }
    let (Some(project), Some(request), false) = (project, thread.request.take(), locked) else {
        return Err(not_found);
    };
    // The recipient is named only by signature: found among the request's parties.
    let Some(recipient_id) = link.recipient_in(app, &request).await? else { return Err(not_found) };
    let Some(Record::User(user)) = app.store.get(&user_key(&recipient_id)).await? else { return Err(not_found) };
    if !may_use_public_link(&link, &user, &request, &project, now) {
        return Err(not_found);
    }
    let mut detail = thread.seen_by(Viewer::Customer, request, &project.name);
    crate::domain::authors::settle_roles(app, &project.key, &mut detail.comments, &mut detail.history).await?;
    let rating_token = crate::domain::csat::offer(app, &user, &detail.request, &project).await?;
    Ok(PublicPage { link, project, detail, recipient: user, token_hash, rating_token })
}

/// Closes or reopens the request of a public link, as its recipient.
pub async fn set_status(app: &App, token: &str, status: RequestStatus) -> Result<Request, ApiError> {
    let page = open(app, token).await?;
    let caller = Caller::Sender(Box::new(page.recipient));
    Ok(requests::set_status(app, &caller, &page.link.request, status).await?.1)
}

/// Replies through a public link once the holder typed the address it was sent to, and
/// answers the page as it is after the reply. No address, or not an address: 422, not
/// counted. Every attempt counts toward an hourly cap (`MAX_REPLIES_PER_HOUR`). Each guess is
/// counted before it is compared, atomically, so parallel guesses cannot pass
/// `MAX_WRONG_EMAILS`: a wrong one is refused (403 `wrong_email`) and stays counted, a right
/// one is taken back; the guess after the last allowed locks the link. The reply is the
/// recipient's, under the same rules as theirs (blocklist), and safe to retry with its
/// idempotency key.
/// With no address typed, `remembered` (a browser's proof from an earlier reply, see
/// `remember`) stands for it when it names this link's recipient.
pub async fn reply(
    app: &App,
    token: &str,
    typed_email: &str,
    remembered: Option<&str>,
    body: Input<String>,
    files: &[uploads::FormFile],
    idempotency: Input<Option<IdempotencyKey>>,
) -> Result<(PublicPage, requests::Posted), ApiError> {
    let page = open(app, token).await?;
    let proven = match typed_email.trim() {
        "" => remembered_address(app, &page, remembered).await?,
        _ => None,
    };
    let typed = match proven.clone() {
        Some(email) => email,
        None => EmailAddress::parse(typed_email)
            .map_err(|_| ApiError::invalid("invalid_email", "Type the email address this link was sent to."))?,
    };
    let attempts = Counter::hourly("linkuse", &page.token_hash, MAX_REPLIES_PER_HOUR, app.now());
    if !app.store.bump(&attempts).await? {
        return Err(ApiError::Refused {
            code: "too_many_attempts",
            message: "This link has been used too often in the last hour. Try again later.".into(),
        });
    }
    // Wrong guesses plus those being compared: never more than the limit at once.
    let counter = |scope: &str, limit: u32| Counter {
        key: rate_key(scope, &page.token_hash, 0),
        limit,
        expires_at: page.link.expires_at,
    };
    let guesses = counter("linkguess", MAX_WRONG_EMAILS);
    // A remembered proof is no guess: it was checked against the recipient just now.
    if proven.is_none() {
        if !app.store.bump(&guesses).await? {
            lock(app, &page).await?;
            return Err(ApiError::NotFound("page"));
        }
        if !sent_to(&page.recipient, &page.detail.request, &typed) {
            // The last wrong guess allowed locks the link at once.
            if !app.store.bump(&counter("linkmiss", MAX_WRONG_EMAILS - 1)).await? {
                lock(app, &page).await?;
            }
            return Err(ApiError::Refused {
                code: "wrong_email",
                message: "That is not the address this link was sent to.".into(),
            });
        }
        app.store.unbump(&guesses).await?;
    }
    let caller = Caller::Sender(Box::new(page.recipient));
    // Files only once the address is proven: staged as the recipient's, named by the reply.
    let attachments = uploads::stage(app, &caller, &page.link.request, files).await?;
    let comment = body.map(|body| NewComment { body, internal: false, seen_version: None, attachments });
    let (posted, _) = requests::add_comment(app, &caller, &page.link.request, comment, idempotency).await?;
    Ok((load(app, token, Lock::Passed).await?, posted))
}

async fn lock(app: &App, page: &PublicPage) -> Result<(), ApiError> {
    let lock = LinkLock { token_hash: page.token_hash.clone(), expires_at: page.link.expires_at };
    Ok(app.store.transact(vec![Write::Put { record: Record::LinkLock(lock), condition: Condition::None }]).await?)
}

/// Whether `typed` is an address the link's recipient could have had it at: the one the
/// request names them by, or any address of their account (a link minted by a notification
/// goes to the account's primary address).
fn sent_to(recipient: &User, request: &Request, typed: &EmailAddress) -> bool {
    let on_request = recipients(request).into_iter().any(|(id, email)| id == recipient.id && email == *typed);
    on_request
        || recipient.email == *typed
        || recipient.secondary_emails.iter().any(|s| s.verified && s.email == *typed)
}

#[cfg(test)]
mod tests;
