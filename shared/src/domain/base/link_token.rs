//! What a public link's token says (seed 003), and how it is written before `signing` signs
//! it. A leaf: `public_links` mints, opens and locks links, `access::may_use_public_link`
//! decides whether one still works, and both read the link from here.

/// What a public link says, once its signature is checked. It names neither its recipient's
/// account nor their address: the recipient is a short signature of the request and the
/// account id, which only the server can check against the request's parties, and the
/// address the holder types is compared on the server, under the guess limit. (Before,
/// a hash of the address rode in the token, so a forwarded link could test guesses offline.)
#[derive(Debug, Clone, PartialEq)]
pub struct PublicLink {
    pub request: String,
    /// `<key id>.<short signature of "<request>\n<user id>">`.
    pub recipient: String,
    pub expires_at: i64,
    pub generation: u32,
}

impl PublicLink {
    /// The payload `signing` signs: request, recipient, expiry and generation, a line each.
    pub(crate) fn payload(&self) -> String {
        format!("{}\n{}\n{}\n{}", self.request, self.recipient, self.expires_at, self.generation)
    }

    /// A payload as `payload` wrote it; anything else is None.
    pub(crate) fn parse(payload: &str) -> Option<PublicLink> {
        let mut parts = payload.split('\n');
        let link = PublicLink {
            request: parts.next()?.to_string(),
            recipient: parts.next()?.to_string(),
            expires_at: parts.next()?.parse().ok()?,
            generation: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(link)
    }
}
