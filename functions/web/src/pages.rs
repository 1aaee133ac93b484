//! Each page: read the query or form, call one use case, render or redirect. This module
//! routes them (the portal, public links, the console each have their own) and signs in.

use crate::page_kit::{chrome, field_error, query};
use crate::views::{self, render};
use crate::visitor::{Form, Visitor};
use helpdesk::caller::Caller;
use helpdesk::http::{self, Reply, ReplyBody};
use helpdesk::routes::{Params, RouteSpec};
use helpdesk::{auth, ApiError, App};
use lambda_http::Request;

pub use crate::public::{api, public_json};

pub async fn page(app: &App, req: &Request, v: &Visitor, spec: &RouteSpec, params: &Params) -> Result<Reply, ApiError> {
    // Pages take the session cookie on every method: their forms carry the CSRF token.
    let caller = http::page_caller(req, &app.config);
    let path = spec.path;
    if spec.method == "POST" {
        let form = Form::parse(req).await?;
        v.check_csrf(&form)?;
        return match path {
            p if p.starts_with("/desk/") => crate::desk::post(app, v, &caller, p, params, &form).await,
            p if p.starts_with("/portal/account") => crate::account::post(app, v, &caller, p, &form).await,
            p if p.starts_with("/portal/") => crate::portal::post(app, v, &caller, p, params, &form).await,
            p if p.starts_with("/p/") => crate::public::post(app, v, p, params, &form).await,
            _ => post(app, v, &caller, path, params, &form).await,
        };
    }
    match path {
        p if p == "/desk" || p.starts_with("/desk/") => crate::desk::get(app, req, v, p, params).await,
        "/portal/search" => crate::search::portal_page(app, req, v, &caller).await,
        p if p.starts_with("/portal/account") => crate::account::get(app, req, v, p).await,
        p if p == "/portal" || p.starts_with("/portal/") => crate::portal::get(app, req, v, p, params).await,
        p if p.starts_with("/p/") => crate::public::get(app, req, v, p, params).await,
        "/" => Ok(Reply::see_other("/portal")),
        "/static/{file}" => {
            let css = views::stylesheet(params.get("file")).ok_or(ApiError::NotFound("file"))?;
            Ok(Reply::new(200, ReplyBody::Text("text/css; charset=utf-8", css.to_string()))
                .with_header("cache-control", "public, max-age=31536000, immutable"))
        }
        "/login" => {
            let next = query(req, "next");
            let next = next.as_deref().and_then(auth::return_path);
            match query(req, "token") {
                Some(token) => match auth::magic_link_address(app, &token).await? {
                    Some(email) => {
                        let page = views::ConfirmPage {
                            chrome: chrome(v, "Sign in", None),
                            token,
                            email: email.to_string(),
                            next: next.unwrap_or_default().to_string(),
                        };
                        Ok(Reply::html(200, render(&page)?))
                    }
                    None => {
                        let expired = "This sign-in link has expired or was already used. Ask for a new one below.";
                        login_page(v, 410, SignInForm { notice: Some(expired.into()), next, ..SignInForm::default() })
                    }
                },
                None => login_page(v, 200, SignInForm { next, ..SignInForm::default() }),
            }
        }
        "/csat/{token}" => crate::csat::page(app, req, v, params.get("token")).await,
        _ => Err(ApiError::RouteNotFound),
    }
}

async fn post(
    app: &App,
    v: &Visitor,
    caller: &Caller,
    path: &str,
    params: &Params,
    form: &Form,
) -> Result<Reply, ApiError> {
    // Where the page that asked for a sign-in was: only this site's own paths.
    let next = auth::return_path(form.get("next"));
    match path {
        "/csat/{token}" => crate::csat::post(app, v, params.get("token"), form).await,
        "/login" => match auth::request_magic_link_to(app, form.get("email"), next).await {
            Ok(outcome) => {
                let sent =
                    "If this address can sign in, a link is on its way. Open it on this device within 15 minutes.";
                let filled = SignInForm {
                    email: form.get("email").into(),
                    notice: Some(sent.into()),
                    next,
                    ..SignInForm::default()
                };
                Ok(login_page(v, 202, filled)?.with_outcome(outcome.as_str()))
            }
            Err(err) => match field_error(&err) {
                Some(message) => {
                    let filled = SignInForm {
                        email: form.get("email").into(),
                        error: Some(message),
                        next,
                        ..SignInForm::default()
                    };
                    login_page(v, err.status(), filled)
                }
                None => Err(err),
            },
        },
        "/login/confirm" => {
            let (token, _, user) = auth::create_session(app, form.get("token")).await?;
            // Back to the page that asked; else agents land in their console, customers in the portal.
            let home = if helpdesk::access::is_staff(&user) { "/desk" } else { "/portal" };
            Ok(Reply::see_other(next.unwrap_or(home)).with_header("set-cookie", v.session_cookie(&token)))
        }
        "/logout" => {
            // Signing out always clears the cookie, even when the session had already ended.
            match auth::logout(app, caller).await {
                Ok(()) | Err(ApiError::Unauthorized) => {}
                Err(err) => return Err(err),
            }
            Ok(Reply::see_other("/login").with_header("set-cookie", v.clear_session_cookie()))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

/// What the sign-in form shows: the address typed, an error or a notice, and the page to come
/// back to.
#[derive(Default)]
struct SignInForm<'a> {
    email: String,
    error: Option<String>,
    notice: Option<String>,
    next: Option<&'a str>,
}

fn login_page(v: &Visitor, status: u16, form: SignInForm) -> Result<Reply, ApiError> {
    let page = views::LoginPage {
        chrome: chrome(v, "Sign in", None),
        email: form.email,
        error: form.error,
        notice: form.notice,
        next: form.next.unwrap_or_default().to_string(),
    };
    Ok(Reply::html(status, render(&page)?))
}

/// The page for an error: sign-in for a missing session, otherwise what happened.
/// `asked` is the page that was asked for (GET only): signing in comes back to it.
pub fn error_page(v: &Visitor, err: &ApiError, desk: bool, asked: Option<&str>) -> Reply {
    let (heading, message) = match err {
        ApiError::Unauthorized => {
            let form = SignInForm { notice: Some("Sign in to continue.".into()), next: asked, ..SignInForm::default() };
            return login_page(v, 401, form).unwrap_or_else(|_| Reply::html(401, "Sign in at /login".into()));
        }
        ApiError::NotFound(_) | ApiError::RouteNotFound => {
            ("Not found", "This page does not exist, or you may not see it. If someone sent you a link, it may have expired or been revoked.".to_string())
        }
        ApiError::Refused { code: "csrf_failed", .. } => ("This form has expired", err.public_message()),
        ApiError::Forbidden(_) | ApiError::Refused { .. } => ("Not allowed", err.public_message()),
        ApiError::MethodNotAllowed => ("Not allowed", "This page cannot be used that way.".to_string()),
        ApiError::StorageUnavailable => ("Please try again", "The helpdesk is busy right now. Try again in a moment.".to_string()),
        ApiError::Internal(_) => ("Something went wrong", "Something went wrong on our side. Try again in a moment.".to_string()),
        _ => ("That did not work", err.public_message()),
    };
    // A console page's error leads back to the console (a customer there gets the 403 page,
    // which leads to their own requests).
    let in_desk = desk && !matches!(err, ApiError::Forbidden(_));
    let (back, back_label) = match (v.session.is_some(), in_desk) {
        (false, _) => ("/login", "Sign in"),
        (true, true) => ("/desk", "Back to the console"),
        (true, false) => ("/portal", "Back to my requests"),
    };
    let page = views::ErrorPage {
        chrome: views::Chrome { desk: in_desk, ..chrome(v, heading, None) },
        heading: heading.to_string(),
        message,
        back,
        back_label,
    };
    match render(&page) {
        Ok(html) => Reply::html(err.status(), html),
        Err(_) => Reply::html(err.status(), heading.to_string()),
    }
}
