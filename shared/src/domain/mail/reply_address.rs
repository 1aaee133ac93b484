//! Signed reply addresses: every notification's Reply-To names the request and, through its
//! signature, the recipient it was sent to. A reply to it attaches to that request when its
//! sender is that recipient; a forged, altered, expired, revoked or someone else's address
//! grants nothing.
//!
//! Shape: `reply.<key id>.<request key, lowercase>.<expiry day, base 36>.<signature>@<support
//! domain>`, under 64 characters before the `@`. The recipient's account and the request's
//! link generation are signed but not written: the verifier knows them (the sender's account,
//! the stored request), which keeps the address short and revocable with the public links.

use crate::domain::signing;
use crate::error::ApiError;
use crate::model::Request;
use crate::App;

const PURPOSE: &str = "reply-address";
const PREFIX: &str = "reply.";
const DAY: i64 = 24 * 3600;

/// What a reply address says before its signature is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyToken {
    pub request_key: String,
    key_id: String,
    expiry_day: i64,
    tag: String,
}

fn message(request_key: &str, user_id: &str, expiry_day: i64, generation: u32) -> String {
    format!("{request_key}\n{user_id}\n{expiry_day}\n{generation}")
}

/// The reply address of `request` for the recipient `user_id`, valid until `expires_at`.
pub async fn reply_address(app: &App, request: &Request, user_id: &str, expires_at: i64) -> Result<String, ApiError> {
    let expiry_day = expires_at.div_euclid(DAY);
    let signed = message(&request.key, user_id, expiry_day, request.public_link_generation);
    let (key_id, tag) = signing::sign_short(app, PURPOSE, &signed).await?;
    Ok(format!(
        "{PREFIX}{key_id}.{}.{}.{tag}@{}",
        request.key.to_lowercase(),
        to_base36(expiry_day),
        app.config.support_domain
    ))
}

/// Reads a recipient address as a reply address of this deployment's support domain.
pub fn parse(address: &str, support_domain: &str) -> Option<ReplyToken> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(support_domain) || local.len() > 64 {
        return None;
    }
    let rest = local.to_ascii_lowercase().strip_prefix(PREFIX)?.to_string();
    let mut parts = rest.split('.');
    let (Some(key_id), Some(request), Some(day), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(ReplyToken {
        request_key: request.to_ascii_uppercase(),
        key_id: key_id.to_string(),
        // Days since 1970 fit in 4 base-36 digits for millennia; more is not ours.
        expiry_day: (day.len() <= 4).then(|| i64::from_str_radix(day, 36).ok()).flatten()?,
        tag: tag.to_string(),
    })
}

impl ReplyToken {
    /// Whether this address was signed for `user_id` on `request` as it is now (same link
    /// generation: revoking the public links revokes reply addresses too) and is unexpired.
    pub async fn grants(&self, app: &App, user_id: &str, request: &Request) -> Result<bool, ApiError> {
        if request.key != self.request_key || (self.expiry_day + 1) * DAY <= app.now() {
            return Ok(false);
        }
        let signed = message(&request.key, user_id, self.expiry_day, request.public_link_generation);
        signing::verify_short(app, PURPOSE, &self.key_id, &self.tag, &signed).await
    }
}

fn to_base36(mut n: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n <= 0 {
        return "0".into();
    }
    let mut out = vec![];
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Desk;

    #[tokio::test]
    async fn a_reply_address_grants_its_recipient_on_its_request_until_it_expires_or_is_revoked() {
        let desk = Desk::new().await;
        desk.project("HD").await;
        let ann = desk.sign_in("ann@example.com").await;
        let request = desk.raise(&ann, "HD", "Printer").await;
        let ann_id = request.reporter_id.clone();
        let now = desk.app.now();
        let address = reply_address(&desk.app, &request, &ann_id, now + 30 * DAY).await.unwrap();
        let local = address.split('@').next().unwrap();
        assert!(local.len() <= 64 && local.starts_with("reply.k1.hd-"), "{address}");
        let token = parse(&address.to_uppercase(), "desk.example").expect("case does not matter");
        assert!(token.grants(&desk.app, &ann_id, &request).await.unwrap());
        // Someone else's address, another request, another domain, an altered signature.
        assert!(!token.grants(&desk.app, "SOMEONE-ELSE", &request).await.unwrap());
        let other = desk.raise(&ann, "HD", "Scanner").await;
        assert!(!token.grants(&desk.app, &ann_id, &other).await.unwrap());
        assert_eq!(parse(&address.replace("desk.example", "evil.test"), "desk.example"), None);
        let altered = address.replacen(".hd-1.", ".hd-2.", 1);
        let forged = parse(&altered, "desk.example").unwrap();
        assert!(!forged.grants(&desk.app, &ann_id, &other).await.unwrap());
        // Revoked with the public links.
        let revoked = Request { public_link_generation: 1, ..request.clone() };
        assert!(!token.grants(&desk.app, &ann_id, &revoked).await.unwrap());
        // Expired.
        desk.app.clock.advance(31 * DAY);
        assert!(!token.grants(&desk.app, &ann_id, &request).await.unwrap());
        for junk in ["reply.k1@desk.example", "HD@desk.example", "reply.k1.hd-1.zz!.abc.def@desk.example", "nobody"] {
            assert!(parse(junk, "desk.example").is_none_or(|t| t.tag.len() != 16), "{junk}");
        }
    }

    /// An address lasts to the last second of the (UTC) day its expiry falls in. The day is
    /// written out here, not taken from `DAY`, so a wrong `DAY` cannot agree with itself.
    #[tokio::test]
    async fn a_reply_address_lasts_to_the_end_of_its_expiry_day_and_no_longer() {
        const A_DAY: i64 = 86_400;
        let desk = Desk::new().await;
        desk.project("HD").await;
        let ann = desk.sign_in("ann@example.com").await;
        let request = desk.raise(&ann, "HD", "Printer").await;
        let expires_at = (desk.app.now() / A_DAY + 3) * A_DAY + A_DAY / 2;
        let address = reply_address(&desk.app, &request, &request.reporter_id, expires_at).await.unwrap();
        let token = parse(&address, "desk.example").unwrap();
        let end_of_day = (expires_at / A_DAY + 1) * A_DAY;
        desk.app.clock.advance(end_of_day - 1 - desk.app.now());
        assert!(token.grants(&desk.app, &request.reporter_id, &request).await.unwrap(), "its day's last second");
        desk.app.clock.advance(1);
        assert!(!token.grants(&desk.app, &request.reporter_id, &request).await.unwrap(), "the next day");
    }

    #[test]
    fn a_local_part_of_64_characters_is_read_and_a_longer_one_is_not() {
        // `reply.k1.` + request key + `.g3z.` + 16 signature characters: 30 + the key.
        let address =
            |key_len: usize| format!("reply.k1.hd-{}.g3z.{}@desk.example", "1".repeat(key_len - 3), "a".repeat(16));
        assert_eq!(address(34).split('@').next().unwrap().len(), 64);
        assert!(parse(&address(34), "desk.example").is_some());
        assert_eq!(parse(&address(35), "desk.example"), None);
    }

    #[test]
    fn base36_days() {
        assert_eq!(to_base36(0), "0");
        assert_eq!(to_base36(35), "z");
        assert_eq!(to_base36(20_000), "ffk");
        assert_eq!(i64::from_str_radix("ffk", 36).unwrap(), 20_000);
    }
}
