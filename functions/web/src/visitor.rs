//! What every page shares: who the visitor is (session or anonymous cookie), the CSRF token
//! bound to it, form bodies, cookies and security headers.

use helpdesk::domain::attachments::uploads::FormFile;
use helpdesk::domain::signing;
use helpdesk::http::{self, Reply, MAX_BODY_BYTES};
use helpdesk::text::new_secret;
use helpdesk::{ApiError, App};
use lambda_http::Request;

const SESSION_MAX_AGE: i64 = helpdesk::auth::SESSION_TTL_SECS;

/// Every page's security headers (PRODUCT.md "Web pages").
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'";

/// A urlencoded form body.
#[derive(Debug)]
pub struct Form(Vec<(String, String)>, Vec<FormFile>);

/// The most a page's form may bring with its files: what API Gateway hands a Lambda function
/// (6 MB a request, base64-encoded) leaves about this much (the pages say so).
pub const MAX_FORM_FILES_BYTES: usize = 4 * 1024 * 1024;

impl Form {
    /// A form's fields, as `application/x-www-form-urlencoded` or (for forms with files)
    /// `multipart/form-data`.
    pub async fn parse(req: &Request) -> Result<Form, ApiError> {
        let bytes = http::body_bytes(req);
        let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if let Ok(boundary) = multer::parse_boundary(content_type) {
            if bytes.len() > MAX_FORM_FILES_BYTES + MAX_BODY_BYTES {
                return Err(ApiError::PayloadTooLarge(MAX_FORM_FILES_BYTES));
            }
            return Self::multipart(bytes.to_vec(), boundary).await;
        }
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        Ok(Form(form_urlencoded::parse(bytes).into_owned().collect(), vec![]))
    }

    async fn multipart(body: Vec<u8>, boundary: String) -> Result<Form, ApiError> {
        let bad = |e: multer::Error| ApiError::bad_request("invalid_form", format!("the form could not be read: {e}"));
        let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes::Bytes::from(body)) });
        let mut parts = multer::Multipart::new(stream, boundary);
        let (mut fields, mut files) = (vec![], vec![]);
        while let Some(field) = parts.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                // A file input left empty still sends a part, nameless and empty.
                Some(file_name) => {
                    let content_type = field.content_type().map(|m| m.essence_str().to_string()).unwrap_or_default();
                    let bytes = field.bytes().await.map_err(bad)?;
                    if !file_name.is_empty() || !bytes.is_empty() {
                        files.push(FormFile { name: file_name, content_type, bytes: bytes.to_vec() });
                    }
                }
                None => fields.push((name, field.text().await.map_err(bad)?)),
            }
        }
        Ok(Form(fields, files))
    }

    /// The files the form brought.
    pub fn files(&self) -> &[FormFile] {
        &self.1
    }

    /// The fields named `<prefix><key>`, by key.
    pub fn with_prefix(&self, prefix: &str) -> std::collections::BTreeMap<String, String> {
        self.0.iter().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone()))).collect()
    }

    /// A field's value; absent is empty.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// Who the browser is, as far as pages care: the session (if any) and the CSRF token bound
/// to it (or to the anonymous cookie).
pub struct Visitor {
    /// The session token from the cookie (or a bearer header).
    pub session: Option<String>,
    /// The token every form that changes something carries.
    csrf: String,
    /// A new anonymous cookie to set with this response.
    new_anon: Option<String>,
    session_cookie: &'static str,
    anon_cookie: &'static str,
    secure: bool,
    /// Where the page sits: the header's search box searches this page's project, or the
    /// customer's requests.
    pub search_action: Option<String>,
    /// The public links' remembered replier (`public_links::remember`), as the cookie says:
    /// only the domain, which checks its signature, makes anything of it.
    pub replier_proof: Option<String>,
}

/// The cookie remembering a public link's replier: sent to public links' pages only. Over
/// HTTPS the `__Secure-` prefix (`__Host-` would need the whole site as its path).
fn replier_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Secure-hd_replier"
    } else {
        "hd_replier"
    }
}

/// The search a page's header offers: a console page of a project (or of one of its
/// requests) searches that project; every portal page searches the customer's requests.
fn search_action(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["desk", "projects", key, ..] => Some(format!("/desk/projects/{key}/search")),
        ["desk", "requests", key, ..] => helpdesk::items::project_of(key).map(|p| format!("/desk/projects/{p}/search")),
        ["portal", ..] => Some("/portal/search".to_string()),
        _ => None,
    }
}

/// What CSRF tokens are signed for.
const CSRF: &str = "csrf";

impl Visitor {
    pub async fn of(app: &App, req: &Request) -> Result<Visitor, ApiError> {
        let config = &app.config;
        let (session_cookie, anon_cookie) = (config.session_cookie(), config.anon_cookie());
        let session = http::bearer(req).or_else(|| http::cookie(req, session_cookie)).map(str::to_string);
        let anon = http::cookie(req, anon_cookie).map(str::to_string);
        let (secret, new_anon) = match (&session, anon) {
            (Some(s), _) => (s.clone(), None),
            (None, Some(a)) => (a, None),
            (None, None) => {
                let fresh = new_secret();
                (fresh.clone(), Some(fresh))
            }
        };
        // Keyed by the server's signing key: whoever picks their own anonymous cookie still
        // cannot compute the token that goes with it.
        let (key_id, tag) = signing::sign_short(app, CSRF, &secret).await?;
        let csrf = format!("{key_id}.{tag}");
        let search_action = session.as_ref().and_then(|_| search_action(req.uri().path()));
        let secure = config.https();
        let replier_proof = http::cookie(req, replier_cookie_name(secure)).map(str::to_string);
        Ok(Visitor { session, csrf, new_anon, session_cookie, anon_cookie, secure, search_action, replier_proof })
    }

    /// The token every form that changes something carries: bound to this session (or
    /// anonymous cookie), useless with any other.
    pub fn csrf(&self) -> String {
        self.csrf.clone()
    }

    /// Refuses a form without this visitor's token: 403 before anything else happens.
    pub fn check_csrf(&self, form: &Form) -> Result<(), ApiError> {
        let sent = form.get("csrf");
        if self.new_anon.is_none() && !sent.is_empty() && constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::Refused {
                code: "csrf_failed",
                message:
                    "This form has expired or did not come from this site. Go back, reload the page and try again."
                        .into(),
            })
        }
    }

    fn cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }

    pub fn session_cookie(&self, token: &str) -> String {
        self.cookie(self.session_cookie, token, Some(SESSION_MAX_AGE))
    }

    /// Remembers a public link's replier (a signed proof) for the public pages only.
    pub fn replier_cookie(&self, proof: &str) -> String {
        let name = replier_cookie_name(self.secure);
        let age = helpdesk::domain::public_links::REMEMBER_SECS;
        let mut c = format!("{name}={proof}; Path=/p; HttpOnly; SameSite=Lax; Max-Age={age}");
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }

    pub fn clear_session_cookie(&self) -> String {
        self.cookie(self.session_cookie, "", Some(0))
    }

    /// Adds the security headers, and the anonymous cookie when this visit made one and the
    /// answer is a page (never on the cacheable stylesheet or JSON).
    pub fn finish(&self, mut reply: Reply) -> Reply {
        let page = matches!(reply.body, helpdesk::http::ReplyBody::Html(_));
        if let (Some(anon), true) = (&self.new_anon, page) {
            reply = reply.with_header("set-cookie", self.cookie(self.anon_cookie, anon, None));
        }
        reply
            .with_header("content-security-policy", CSP)
            .with_header("x-content-type-options", "nosniff")
            .with_header("referrer-policy", "no-referrer")
            .with_header("x-frame-options", "DENY")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn app() -> App {
        let config = helpdesk::Config {
            table_name: "t".into(),
            mail_from: "help@desk.example".into(),
            public_base_url: "https://desk.example".into(),
            support_domain: "desk.example".into(),
            files_bucket: None,
        };
        App::new(
            std::sync::Arc::new(helpdesk::store::MemoryStore::new()),
            std::sync::Arc::new(helpdesk::mailer::NoMail),
            config,
        )
    }

    fn post(cookie: &str, body: &str) -> Request {
        ::http::Request::builder().header("cookie", cookie).body(Body::Text(body.into())).unwrap()
    }

    #[tokio::test]
    async fn forms_come_urlencoded_or_as_multipart_with_their_files() {
        let plain = Form::parse(&post("", "csrf=t&body=a+b%21")).await.unwrap();
        assert_eq!((plain.get("csrf"), plain.get("body"), plain.files().len()), ("t", "a b!", 0));
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nSee the shot\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"shot.png\"\r\nContent-Type: image/png\r\n\r\n\x01PNG\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n\
                    --XyZ--\r\n";
        let req = ::http::Request::builder()
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::Binary(body.as_bytes().to_vec()))
            .unwrap();
        let form = Form::parse(&req).await.unwrap();
        assert_eq!(form.get("body"), "See the shot");
        // The empty file input sends an empty, nameless part: no file.
        assert_eq!(form.files().len(), 1);
        let file = &form.files()[0];
        assert_eq!(
            (file.name.as_str(), file.content_type.as_str(), file.bytes.as_slice()),
            ("shot.png", "image/png", &b"\x01PNG"[..])
        );
        let broken = ::http::Request::builder()
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::Binary(b"--XyZ\r\nnonsense".to_vec()))
            .unwrap();
        assert_eq!(Form::parse(&broken).await.unwrap_err().code(), "invalid_form");
    }

    #[tokio::test]
    async fn csrf_tokens_bind_to_the_session_and_nothing_else() {
        let app = app();
        let mine = Visitor::of(&app, &post("__Host-hd_session=U1.aaaa", "")).await.unwrap();
        let theirs = Visitor::of(&app, &post("__Host-hd_session=U2.bbbb", "")).await.unwrap();
        assert_ne!(mine.csrf(), theirs.csrf());
        let form = |token: &str| Form(vec![("csrf".into(), token.into()), ("x".into(), "1".into())], vec![]);
        assert!(mine.check_csrf(&form(&mine.csrf())).is_ok());
        assert_eq!(mine.check_csrf(&form(&theirs.csrf())).unwrap_err().code(), "csrf_failed");
        assert_eq!(mine.check_csrf(&form("")).unwrap_err().code(), "csrf_failed");
        // A visitor with no cookie at all cannot have a valid form.
        let fresh = Visitor::of(&app, &post("", "")).await.unwrap();
        assert_eq!(fresh.check_csrf(&form(&fresh.csrf())).unwrap_err().code(), "csrf_failed");
        // The anonymous token is keyed by the server: not the hash of the cookie, and not
        // the same on another deployment (another key) for the same cookie.
        let anon = Visitor::of(&app, &post("__Host-hd_anon=chosen", "")).await.unwrap();
        assert!(anon.check_csrf(&form(&anon.csrf())).is_ok());
        let digest = helpdesk::text::sha256_hex("csrf\nchosen");
        assert!(!anon.csrf().contains(&digest[..16]), "{}", anon.csrf());
        let other = Visitor::of(&self::app(), &post("__Host-hd_anon=chosen", "")).await.unwrap();
        assert_ne!(anon.csrf(), other.csrf());
        // Over HTTPS, a plain-named cookie (a subdomain could plant one) is no session.
        let planted = Visitor::of(&app, &post("hd_session=U1.aaaa", "")).await.unwrap();
        assert_eq!(planted.session, None);
    }

    #[tokio::test]
    async fn cookies_are_host_only_http_only_lax_and_secure_over_https() {
        let app = app();
        let v = Visitor::of(&app, &post("", "")).await.unwrap();
        let c = v.session_cookie("tok");
        assert!(c.starts_with("__Host-hd_session=tok; Path=/;"), "{c}");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"), "{c}");
        assert!(!c.contains("Domain"), "{c}");
        let reply = v.finish(Reply::html(200, String::new()));
        let names: Vec<_> = reply.headers.iter().map(|(n, _)| *n).collect();
        for h in ["set-cookie", "content-security-policy", "x-content-type-options", "referrer-policy"] {
            assert!(names.contains(&h), "{h}");
        }
        let r = v.replier_cookie("proof");
        assert!(r.starts_with("__Secure-hd_replier=proof; Path=/p;"), "{r}");
        assert!(r.contains("HttpOnly") && r.contains("SameSite=Lax") && r.ends_with("Secure"), "{r}");
        let css = v.finish(Reply::new(200, helpdesk::http::ReplyBody::Text("text/css", String::new())));
        assert!(css.headers.iter().all(|(n, _)| *n != "set-cookie"), "no cookie on the cacheable stylesheet");
    }
}
