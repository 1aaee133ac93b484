//! Signed tokens (public links, reply addresses): HMAC-SHA256 with a key that lives in
//! one table item, never in the template, the environment or the code.
//!
//! The key is made on first use (a conditional put, so concurrent cold starts agree on one)
//! and kept per process. Every token names its key id, so a rotation (`rotate`, run by
//! `helpdesk-admin rotate-signing-key`) makes new tokens with a new key while tokens signed
//! with older keys keep verifying until those keys are retired. A token with an unknown key
//! id makes the process read the keys again once, so a rotation reaches warm functions too;
//! a process reads them again after `KEYS_CACHE` anyway, so a retirement reaches them too.

use crate::error::ApiError;
use crate::items::signing_keys_key;
use crate::model::{Record, SigningKeys};
use crate::store::{Condition, StoreError, Write};
use crate::App;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// How long a process keeps the keys before reading them again: a retired key stops
/// verifying everywhere within this.
pub const KEYS_CACHE: std::time::Duration = std::time::Duration::from_secs(300);

/// Unknown key ids make a process read the keys again at most this often, so made-up tokens
/// cannot turn into a table read each.
pub const RELOAD_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest token accepted for verification; anything longer is not ours.
pub const MAX_TOKEN_LEN: usize = 1024;

fn key_number(id: &str) -> Option<u64> {
    id.strip_prefix('k')?.parse().ok()
}

/// One past the highest id ever used: the current key is always the highest and can never be
/// retired, so an id is never handed out twice.
fn new_key_id(existing: &BTreeMap<String, String>) -> String {
    format!("k{}", existing.keys().filter_map(|id| key_number(id)).max().unwrap_or(0) + 1)
}

fn fresh_keys() -> SigningKeys {
    let id = new_key_id(&BTreeMap::new());
    SigningKeys { current: id.clone(), keys: BTreeMap::from([(id, crate::text::new_secret())]), version: 1 }
}

async fn read_keys(app: &App) -> Result<Option<SigningKeys>, ApiError> {
    Ok(match app.store.get(&signing_keys_key()).await? {
        Some(Record::SigningKeys(keys)) => Some(keys),
        _ => None,
    })
}

/// The keys from the table, creating them on the deployment's first use.
async fn load_or_create(app: &App) -> Result<SigningKeys, ApiError> {
    if let Some(keys) = read_keys(app).await? {
        return Ok(keys);
    }
    let keys = fresh_keys();
    let put = Write::Put { record: Record::SigningKeys(keys.clone()), condition: Condition::NotExists };
    match app.store.transact(vec![put]).await {
        Ok(()) => Ok(keys),
        // Another process made them first: theirs are the keys.
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            read_keys(app).await?.ok_or_else(|| ApiError::Internal("signing keys vanished".into()))
        }
        Err(e) => Err(e.into()),
    }
}

async fn keys(app: &App, reload: bool) -> Result<SigningKeys, ApiError> {
    if !reload {
        if let Some((keys, at)) = app.signing_keys.read().expect("signing keys lock").clone() {
            if at.elapsed() < KEYS_CACHE {
                return Ok(keys);
            }
        }
    }
    let keys = load_or_create(app).await?;
    remember(app, keys.clone());
    Ok(keys)
}

fn remember(app: &App, keys: SigningKeys) {
    *app.signing_keys.write().expect("signing keys lock") = Some((keys, std::time::Instant::now()));
}

fn mac(secret: &str, purpose: &str, payload: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    // The purpose is signed too: a token made for one use never verifies for another.
    mac.update(purpose.as_bytes());
    mac.update(b"\n");
    mac.update(payload.as_bytes());
    mac
}

/// `<key id>.<payload, base64url>.<HMAC, base64url>`: URL-safe, no padding.
pub async fn sign(app: &App, purpose: &str, payload: &str) -> Result<String, ApiError> {
    let keys = keys(app, false).await?;
    let secret = &keys.keys[&keys.current];
    let tag = mac(secret, purpose, payload).finalize().into_bytes();
    Ok(format!("{}.{}.{}", keys.current, URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag)))
}

/// The payload of a token this deployment signed for `purpose`; None for anything else
/// (malformed, altered, another purpose, a retired or unknown key). Comparison is constant
/// time.
pub async fn verify(app: &App, purpose: &str, token: &str) -> Result<Option<String>, ApiError> {
    if token.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    let mut parts = token.split('.');
    let (Some(kid), Some(payload), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(payload), Ok(tag)) = (URL_SAFE_NO_PAD.decode(payload), URL_SAFE_NO_PAD.decode(tag)) else {
        return Ok(None);
    };
    let Ok(payload) = String::from_utf8(payload) else { return Ok(None) };
    let Some(secret) = secret_for(app, kid).await? else { return Ok(None) };
    Ok(mac(&secret, purpose, &payload).verify_slice(&tag).is_ok().then_some(payload))
}

/// The secret of key `kid`, reading the keys again when it may be a newer one.
async fn secret_for(app: &App, kid: &str) -> Result<Option<String>, ApiError> {
    let mut known = keys(app, false).await?;
    if !known.keys.contains_key(kid) && may_be_newer(app, &known, kid) {
        known = keys(app, true).await?;
    }
    Ok(known.keys.get(kid).cloned())
}

/// Bytes of the HMAC a short signature keeps: 80 bits, 16 base32 characters. Forging one
/// takes about 2^79 tries, each a sent email.
const SHORT_TAG_BYTES: usize = 10;

/// A signature short enough for an address's local part (at most 64 characters): the key id
/// and 16 lowercase base32 characters (mail systems may change case, never digits and
/// letters). The message is not included: the verifier rebuilds it from what it knows.
pub async fn sign_short(app: &App, purpose: &str, message: &str) -> Result<(String, String), ApiError> {
    let keys = keys(app, false).await?;
    let tag = mac(&keys.keys[&keys.current], purpose, message).finalize().into_bytes();
    Ok((keys.current.clone(), base32(&tag[..SHORT_TAG_BYTES])))
}

/// Whether `tag` is the short signature of `message` under key `kid`, in constant time.
pub async fn verify_short(app: &App, purpose: &str, kid: &str, tag: &str, message: &str) -> Result<bool, ApiError> {
    if tag.len() != 16 || kid.len() > 16 {
        return Ok(false);
    }
    let Some(secret) = secret_for(app, kid).await? else { return Ok(false) };
    let expected = mac(&secret, purpose, message).finalize().into_bytes();
    let expected = base32(&expected[..SHORT_TAG_BYTES]);
    let tag = tag.to_ascii_lowercase();
    // Constant time: fold every byte's difference.
    Ok(expected.bytes().zip(tag.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
}

/// RFC 4648 base32, lowercase, no padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Whether an unknown key id could be a key made since this process read the keys: shaped
/// like ours, higher than every known one, and the last read is not too recent.
fn may_be_newer(app: &App, known: &SigningKeys, kid: &str) -> bool {
    let newest = known.keys.keys().filter_map(|id| key_number(id)).max().unwrap_or(0);
    let read_at = app.signing_keys.read().expect("signing keys lock").as_ref().map(|(_, at)| *at);
    key_number(kid).is_some_and(|n| n > newest) && read_at.is_none_or(|at| at.elapsed() >= RELOAD_AT_MOST_EVERY)
}

/// Changes the keys under optimistic locking, rereading them when another change won.
async fn change_keys(
    app: &App,
    edit: impl Fn(&SigningKeys) -> Result<SigningKeys, ApiError>,
) -> Result<SigningKeys, ApiError> {
    let mut budget = crate::domain::retry::Budget::default();
    loop {
        budget.next().await?;
        let current = load_or_create(app).await?;
        let next = SigningKeys { version: current.version + 1, ..edit(&current)? };
        let put =
            Write::Put { record: Record::SigningKeys(next.clone()), condition: Condition::VersionIs(current.version) };
        match app.store.transact(vec![put]).await {
            Ok(()) => {
                remember(app, next.clone());
                return Ok(next);
            }
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Adds a new key and makes it current; older keys still verify. Returns the new key id.
pub async fn rotate(app: &App) -> Result<String, ApiError> {
    let next = change_keys(app, |current| {
        let id = new_key_id(&current.keys);
        let mut next = current.clone();
        next.keys.insert(id.clone(), crate::text::new_secret());
        next.current = id;
        Ok(next)
    })
    .await?;
    Ok(next.current)
}

/// Removes a key that is not current: every token it signed stops verifying.
pub async fn retire(app: &App, key_id: &str) -> Result<(), ApiError> {
    change_keys(app, |current| {
        if current.current == key_id {
            return Err(ApiError::invalid("key_in_use", "rotate first: the current key cannot be retired"));
        }
        if !current.keys.contains_key(key_id) {
            return Err(ApiError::NotFound("signing key"));
        }
        let mut next = current.clone();
        next.keys.remove(key_id);
        Ok(next)
    })
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::memory_app;

    #[test]
    fn base32_is_rfc_4648() {
        for (raw, coded) in [("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foobar", "mzxw6ytboi")] {
            assert_eq!(base32(raw.as_bytes()), coded);
        }
    }

    #[tokio::test]
    async fn short_signatures_verify_only_their_message_and_purpose() {
        let (app, _, _) = memory_app();
        let (kid, tag) = sign_short(&app, "reply", "HD-1\nU1").await.unwrap();
        assert_eq!(tag.len(), 16);
        assert!(verify_short(&app, "reply", &kid, &tag, "HD-1\nU1").await.unwrap());
        assert!(verify_short(&app, "reply", &kid, &tag.to_uppercase(), "HD-1\nU1").await.unwrap());
        assert!(!verify_short(&app, "reply", &kid, &tag, "HD-1\nU2").await.unwrap());
        assert!(!verify_short(&app, "link", &kid, &tag, "HD-1\nU1").await.unwrap());
        assert!(!verify_short(&app, "reply", "k9", &tag, "HD-1\nU1").await.unwrap());
        let mut altered = tag.clone().into_bytes();
        altered[15] = if altered[15] == b'a' { b'b' } else { b'a' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(!verify_short(&app, "reply", &kid, &altered, "HD-1\nU1").await.unwrap());
        assert!(!verify_short(&app, "reply", &kid, &tag[..15], "HD-1\nU1").await.unwrap());
        // Two characters swapped: differences that cancel out in an XOR still refuse.
        let mut swapped = tag.clone().into_bytes();
        let other = (1..16).find(|&i| swapped[i] != swapped[0]).expect("a tag of one repeated character");
        swapped.swap(0, other);
        let swapped = String::from_utf8(swapped).unwrap();
        assert!(!verify_short(&app, "reply", &kid, &swapped, "HD-1\nU1").await.unwrap());
    }

    /// Each change of the keys moves their version: a change made from keys read before a
    /// rotation (another process's) cannot overwrite it.
    #[tokio::test]
    async fn a_change_from_keys_read_before_a_rotation_cannot_overwrite_it() {
        let (app, _, _) = memory_app();
        let before = load_or_create(&app).await.unwrap();
        rotate(&app).await.unwrap();
        let stale = SigningKeys { version: before.version + 1, ..before.clone() };
        let put = Write::Put { record: Record::SigningKeys(stale), condition: Condition::VersionIs(before.version) };
        assert!(app.store.transact(vec![put]).await.is_err());
        assert_eq!(read_keys(&app).await.unwrap().unwrap().current, "k2");
    }

    /// A key id that cannot name a newer key (longer than any of ours, or a second spelling
    /// of the newest) is refused without reading the keys: a made-up one cannot spend the
    /// reread that a real new key needs.
    #[tokio::test]
    async fn a_key_id_that_names_no_newer_key_spends_no_reread() {
        for made_up in ["k1234567890123456", "k01"] {
            let (app, _, _) = memory_app();
            sign_short(&app, "reply", "m").await.unwrap();
            let warm = App { signing_keys: Default::default(), ..app.clone() };
            verify_short(&warm, "reply", "k1", &"a".repeat(16), "m").await.unwrap();
            let mut cache = warm.signing_keys.read().unwrap().clone().unwrap();
            cache.1 = std::time::Instant::now().checked_sub(RELOAD_AT_MOST_EVERY).unwrap();
            *warm.signing_keys.write().unwrap() = Some(cache);
            assert!(!verify_short(&warm, "reply", made_up, &"a".repeat(16), "m").await.unwrap());
            rotate(&app).await.unwrap();
            let (kid, tag) = sign_short(&app, "reply", "m").await.unwrap();
            assert_eq!(kid, "k2");
            assert!(verify_short(&warm, "reply", &kid, &tag, "m").await.unwrap(), "{made_up} spent the reread");
        }
    }

    #[tokio::test]
    async fn tokens_verify_only_unaltered_and_for_their_purpose() {
        let (app, _, _) = memory_app();
        let token = sign(&app, "public-link", "HD-1\nann").await.unwrap();
        assert_eq!(verify(&app, "public-link", &token).await.unwrap().as_deref(), Some("HD-1\nann"));
        assert_eq!(verify(&app, "reply", &token).await.unwrap(), None);
        let (head, tag) = token.rsplit_once('.').unwrap();
        let forged_payload = format!("k1.{}.{tag}", URL_SAFE_NO_PAD.encode("HD-2\nann"));
        for bad in [
            forged_payload,
            format!("{head}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("k9.{}", token.split_once('.').unwrap().1),
            "".into(),
            "a.b".into(),
            format!("{token}.x"),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert_eq!(verify(&app, "public-link", &bad).await.unwrap(), None, "{bad}");
        }
    }

    /// The length bound holds for tokens this deployment signed too: `MAX_TOKEN_LEN` verifies,
    /// longer does not.
    #[tokio::test]
    async fn a_token_of_the_longest_length_verifies_and_a_longer_one_does_not() {
        let (app, _, _) = memory_app();
        // Under key k10 a token can be exactly 1024 long: `k10.`, 976 of payload, `.`, 43.
        for _ in 0..9 {
            rotate(&app).await.unwrap();
        }
        let longest = sign(&app, "p", &"x".repeat(732)).await.unwrap();
        assert_eq!(longest.len(), MAX_TOKEN_LEN);
        assert!(verify(&app, "p", &longest).await.unwrap().is_some());
        let longer = sign(&app, "p", &"x".repeat(733)).await.unwrap();
        assert!(longer.len() > MAX_TOKEN_LEN);
        assert_eq!(verify(&app, "p", &longer).await.unwrap(), None);
    }

    #[tokio::test]
    async fn keys_are_made_once_and_shared_by_every_process() {
        let (app, _, _) = memory_app();
        let token = sign(&app, "p", "x").await.unwrap();
        // Another cold start on the same table: same keys, so it verifies.
        let other = App { signing_keys: Default::default(), ..app.clone() };
        assert_eq!(verify(&other, "p", &token).await.unwrap().as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn rotation_keeps_old_tokens_until_their_key_is_retired() {
        let (app, _, _) = memory_app();
        let old = sign(&app, "p", "x").await.unwrap();
        let warm = App { signing_keys: Default::default(), ..app.clone() };
        assert!(verify(&warm, "p", &old).await.unwrap().is_some());
        let new_id = rotate(&app).await.unwrap();
        assert_eq!(new_id, "k2");
        let new = sign(&app, "p", "x").await.unwrap();
        assert!(new.starts_with("k2."));
        // A warm process that still holds only k1 learns k2 from the token's key id (once its
        // last read is older than the reload throttle).
        assert_eq!(verify(&warm, "p", &new).await.unwrap(), None, "read too recently to read again");
        let aged = |app: &App| {
            let mut cache = app.signing_keys.write().unwrap();
            let (keys, _) = cache.clone().unwrap();
            *cache = Some((keys, std::time::Instant::now().checked_sub(RELOAD_AT_MOST_EVERY).unwrap()));
        };
        aged(&warm);
        assert!(verify(&warm, "p", &new).await.unwrap().is_some());
        assert!(verify(&app, "p", &old).await.unwrap().is_some());
        assert_eq!(retire(&app, "k2").await.unwrap_err().code(), "key_in_use");
        retire(&app, "k1").await.unwrap();
        assert_eq!(verify(&app, "p", &old).await.unwrap(), None);
        // Ids are never handed out again, so a cached retired key cannot pass for a new one.
        assert_eq!(rotate(&app).await.unwrap(), "k3");
        let made_up = format!("k99.{}", old.split_once('.').unwrap().1);
        aged(&warm);
        assert_eq!(verify(&warm, "p", &made_up).await.unwrap(), None);
    }
}
