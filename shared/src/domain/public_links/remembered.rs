//! A browser that proved a link's recipient's address (by a reply that typed it) is not asked
//! again: it keeps a signed proof (a cookie, set by the page) naming the recipient's account,
//! the address typed and an expiry. The proof works on any link made for that account, only
//! while the address is still theirs, and only until it expires. Nothing in it is trusted
//! unsigned: a forged, altered or expired proof is no proof, and the address must be typed.

use super::{sent_to, PublicPage};
use crate::domain::email::EmailAddress;
use crate::domain::signing;
use crate::error::ApiError;
use crate::App;

/// What proofs are signed for: no other signed token (a link, a session) passes for one.
const PURPOSE: &str = "public-link-replier";
/// How long a browser is remembered.
pub const REMEMBER_SECS: i64 = 30 * 24 * 3600;

/// The proof to remember after a reply through `page` that typed `typed`; None when `typed`
/// is not the recipient's address.
pub async fn remember(app: &App, page: &PublicPage, typed: &str) -> Result<Option<String>, ApiError> {
    let Ok(email) = EmailAddress::parse(typed) else { return Ok(None) };
    if !sent_to(&page.recipient, &page.detail.request, &email) {
        return Ok(None);
    }
    let payload = format!("{}\n{}\n{}", page.recipient.id, email, app.now() + REMEMBER_SECS);
    Ok(Some(signing::sign(app, PURPOSE, &payload).await?))
}

/// The address a remembered proof stands for on `page`: signed here, unexpired, made for
/// this link's recipient and still one of their addresses.
pub async fn remembered_address(
    app: &App,
    page: &PublicPage,
    proof: Option<&str>,
) -> Result<Option<EmailAddress>, ApiError> {
    let Some(proof) = proof else { return Ok(None) };
    let Some(payload) = signing::verify(app, PURPOSE, proof).await? else { return Ok(None) };
    let mut parts = payload.split('\n');
    let (Some(user_id), Some(email), Some(expires), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let (Ok(email), Ok(expires)) = (EmailAddress::parse(email), expires.parse::<i64>()) else { return Ok(None) };
    let current = expires > app.now() && user_id == page.recipient.id;
    Ok((current && sent_to(&page.recipient, &page.detail.request, &email)).then_some(email))
}
