//! Every HTTP route, and the function that serves it. The local gateway routes by this table
//! and a test checks it against the template's events, so the two cannot drift.

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: &'static str,
    /// API Gateway path syntax: `{name}` is one segment.
    pub path: &'static str,
    /// The function (folder under `functions/`) that serves it.
    pub function: &'static str,
    pub kind: Kind,
}

/// What a route answers: the JSON API (in the OpenAPI document) or HTML pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Api,
    Page,
}

const fn route(method: &'static str, path: &'static str, function: &'static str) -> RouteSpec {
    RouteSpec { method, path, function, kind: Kind::Api }
}

const fn page(method: &'static str, path: &'static str) -> RouteSpec {
    RouteSpec { method, path, function: WEB, kind: Kind::Page }
}

pub const AUTH: &str = "auth";
pub const INTAKE: &str = "intake";
pub const SHARING: &str = "sharing";
pub const ORGANIZATIONS: &str = "organizations";
pub const MODERATION: &str = "moderation";
pub const WEB: &str = "web";

/// The function that answers what no route matches (API Gateway's `$default` route): unknown
/// paths, wrong methods and `HEAD` on pages, with the same headers as every other answer.
pub const FALLBACK: &str = WEB;

pub const ROUTES: &[RouteSpec] = &[
    route("POST", "/auth/magic-link", AUTH),
    route("POST", "/auth/session", AUTH),
    route("DELETE", "/auth/session", AUTH),
    route("GET", "/me", AUTH),
    route("GET", "/me/emails", AUTH),
    route("POST", "/me/emails", AUTH),
    route("POST", "/me/emails/verify", AUTH),
    route("DELETE", "/me/emails/{email}", AUTH),
    route("POST", "/projects", INTAKE),
    route("GET", "/projects/{key}", INTAKE),
    route("PATCH", "/projects/{key}", INTAKE),
    route("POST", "/projects/{key}/agents", INTAKE),
    route("GET", "/projects/{key}/agents", INTAKE),
    route("PUT", "/projects/{key}/agents/{id}", INTAKE),
    route("DELETE", "/projects/{key}/agents/{id}", INTAKE),
    route("POST", "/projects/{key}/requests", INTAKE),
    route("GET", "/projects/{key}/requests", INTAKE),
    route("GET", "/requests", INTAKE),
    // Before `/requests/{key}`: the first route that matches answers.
    route("GET", "/requests/search", INTAKE),
    route("GET", "/requests/{key}", INTAKE),
    route("PATCH", "/requests/{key}", INTAKE),
    route("GET", "/requests/{key}/attachments/{id}", INTAKE),
    route("POST", "/requests/{key}/attachments", INTAKE),
    route("POST", "/requests/{key}/comments", INTAKE),
    route("POST", "/requests/{key}/close", INTAKE),
    route("POST", "/requests/{key}/reopen", INTAKE),
    route("GET", "/requests/{key}/participants", SHARING),
    route("POST", "/requests/{key}/participants", SHARING),
    route("DELETE", "/requests/{key}/participants/{email}", SHARING),
    route("POST", "/projects/{key}/customers", SHARING),
    route("GET", "/admin/managed-domains", SHARING),
    route("PUT", "/admin/managed-domains", SHARING),
    route("GET", "/projects/{key}/organizations", ORGANIZATIONS),
    route("POST", "/projects/{key}/organizations", ORGANIZATIONS),
    route("GET", "/organizations/{id}/members", ORGANIZATIONS),
    route("POST", "/organizations/{id}/members", ORGANIZATIONS),
    route("PUT", "/organizations/{id}/members", ORGANIZATIONS),
    route("DELETE", "/organizations/{id}/members/{email}", ORGANIZATIONS),
    route("PUT", "/requests/{key}/organization", ORGANIZATIONS),
    route("DELETE", "/requests/{key}/organization", ORGANIZATIONS),
    route("GET", "/requests/{key}/visibility", ORGANIZATIONS),
    route("POST", "/requests/{key}/release", INTAKE),
    route("POST", "/requests/{key}/merge", INTAKE),
    route("GET", "/projects/{key}/forms", INTAKE),
    route("POST", "/projects/{key}/forms", INTAKE),
    route("PUT", "/projects/{key}/forms/{id}", INTAKE),
    route("DELETE", "/projects/{key}/forms/{id}", INTAKE),
    route("PUT", "/requests/{key}/form", INTAKE),
    route("PUT", "/requests/{key}/tags/{tag}", INTAKE),
    route("DELETE", "/requests/{key}/tags/{tag}", INTAKE),
    route("GET", "/projects/{key}/macros", INTAKE),
    route("POST", "/projects/{key}/macros", INTAKE),
    route("PUT", "/projects/{key}/macros/{id}", INTAKE),
    route("DELETE", "/projects/{key}/macros/{id}", INTAKE),
    route("POST", "/requests/{key}/macros/{id}", INTAKE),
    route("GET", "/requests/{key}/macros/{id}/preview", INTAKE),
    route("POST", "/requests/{key}/history/{id}/undo", INTAKE),
    route("GET", "/projects/{key}/reports", INTAKE),
    route("GET", "/projects/{key}/search", INTAKE),
    route("GET", "/projects/{key}/automations", INTAKE),
    route("POST", "/projects/{key}/automations", INTAKE),
    route("PUT", "/projects/{key}/automations/{id}", INTAKE),
    route("DELETE", "/projects/{key}/automations/{id}", INTAKE),
    route("GET", "/projects/{key}/webhooks", INTAKE),
    route("POST", "/projects/{key}/webhooks", INTAKE),
    route("DELETE", "/projects/{key}/webhooks/{id}", INTAKE),
    route("GET", "/projects/{key}/webhooks/{id}/deliveries", INTAKE),
    route("POST", "/users/{id}/suspend", MODERATION),
    route("POST", "/users/{id}/unsuspend", MODERATION),
    route("POST", "/users/{id}/notes", MODERATION),
    route("GET", "/users/{id}/audit", MODERATION),
    route("GET", "/blocklist", MODERATION),
    route("POST", "/blocklist", MODERATION),
    route("DELETE", "/blocklist", MODERATION),
    route("POST", "/requests/{key}/public-links", WEB),
    route("DELETE", "/requests/{key}/public-links", WEB),
    page("GET", "/"),
    page("GET", "/static/{file}"),
    page("GET", "/login"),
    page("POST", "/login"),
    page("POST", "/login/confirm"),
    page("POST", "/logout"),
    page("GET", "/portal"),
    page("GET", "/portal/new"),
    page("GET", "/portal/search"),
    page("POST", "/portal/requests"),
    page("GET", "/portal/requests/{key}"),
    page("POST", "/portal/requests/{key}/comments"),
    page("POST", "/portal/requests/{key}/close"),
    page("POST", "/portal/requests/{key}/reopen"),
    page("POST", "/portal/requests/{key}/participants"),
    page("POST", "/portal/requests/{key}/participants/remove"),
    page("GET", "/portal/account"),
    page("POST", "/portal/account/emails"),
    page("POST", "/portal/account/emails/remove"),
    page("GET", "/portal/account/confirm"),
    page("POST", "/portal/account/confirm"),
    page("GET", "/desk"),
    // Before `{key}`, which `new` (no project key: lowercase) would match.
    page("GET", "/desk/projects/new"),
    page("POST", "/desk/projects/new"),
    page("GET", "/desk/projects/{key}"),
    page("GET", "/desk/requests/{key}"),
    page("GET", "/desk/requests/{key}/merge"),
    page("GET", "/desk/requests/{key}/macro"),
    page("POST", "/desk/requests/{key}/{action}"),
    page("GET", "/desk/projects/{key}/settings"),
    page("GET", "/desk/projects/{key}/people"),
    page("GET", "/desk/projects/{key}/automations"),
    page("GET", "/desk/projects/{key}/forms/{id}"),
    page("GET", "/desk/projects/{key}/macros/{id}"),
    page("GET", "/desk/projects/{key}/reports"),
    page("GET", "/desk/projects/{key}/search"),
    page("POST", "/desk/projects/{key}/{action}"),
    page("GET", "/desk/organizations/{id}"),
    page("POST", "/desk/organizations/{id}/{action}"),
    page("GET", "/desk/blocklist"),
    page("GET", "/desk/blocklist/remove"),
    page("POST", "/desk/blocklist/{action}"),
    page("GET", "/desk/users"),
    page("GET", "/desk/users/{id}"),
    page("GET", "/desk/users/{id}/suspend"),
    page("POST", "/desk/users/{id}/{action}"),
    page("GET", "/csat/{token}"),
    page("POST", "/csat/{token}"),
    page("GET", "/p/{token}"),
    page("GET", "/p/{token}/attachments/{id}"),
    page("POST", "/p/{token}/close"),
    page("POST", "/p/{token}/reopen"),
    page("POST", "/p/{token}/reply"),
];

/// Path parameters of a matched route, percent-decoded.
#[derive(Debug, Default, PartialEq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

fn decode_segment(segment: &str) -> String {
    // A raw `&` or `+` in a path segment is itself, not a form separator or a space.
    form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B").replace('&', "%26")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn match_path(pattern: &'static str, path: &str) -> Option<Params> {
    let want: Vec<&'static str> = pattern.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    if want.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (w, g) in want.iter().zip(got) {
        if let Some(name) = w.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            let value = decode_segment(g);
            // An {email} segment holds an address, as the document's pattern says: so
            // `/me/emails/verify` is that route's path alone, and its 405 names POST only.
            if value.is_empty() || (name == "email" && !value.contains('@')) {
                return None;
            }
            params.push((name, value));
        } else if *w != g {
            return None;
        }
    }
    Some(Params(params))
}

/// The route for a method and path: 404 when no path matches, 405 when only the method is wrong.
pub fn match_route(method: &str, path: &str) -> Result<(&'static RouteSpec, Params), ApiError> {
    let mut path_matched = false;
    for spec in ROUTES {
        if let Some(params) = match_path(spec.path, path) {
            if spec.method.eq_ignore_ascii_case(method) {
                return Ok((spec, params));
            }
            path_matched = true;
        }
    }
    Err(if path_matched { ApiError::MethodNotAllowed } else { ApiError::RouteNotFound })
}

/// The methods a path answers, for a 405's `Allow` header: `GET, POST`.
pub fn allowed_methods(path: &str) -> String {
    // The most literal routes the path matches name it: `/requests/search` is a search, not a
    // request whose key is `search`.
    let matching: Vec<&RouteSpec> = ROUTES.iter().filter(|r| match_path(r.path, path).is_some()).collect();
    let params = |r: &RouteSpec| r.path.matches('{').count();
    let fewest = matching.iter().map(|r| params(r)).min().unwrap_or(0);
    let mut methods: Vec<&str> = matching.into_iter().filter(|r| params(r) == fewest).map(|r| r.method).collect();
    methods.dedup();
    methods.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_literal_and_param_paths() {
        let (spec, params) = match_route("GET", "/requests/HD-42").unwrap();
        assert_eq!(spec.path, "/requests/{key}");
        assert_eq!(params.get("key"), "HD-42");
        let (spec, _) = match_route("GET", "/requests").unwrap();
        assert_eq!(spec.path, "/requests");
        let (spec, params) = match_route("POST", "/projects/HD/requests").unwrap();
        assert_eq!((spec.path, params.get("key")), ("/projects/{key}/requests", "HD"));
        assert_eq!(match_route("GET", "/requests/a%20b").unwrap().1.get("key"), "a b");
        assert_eq!(match_route("GET", "/p/tok&junk=1").unwrap().1.get("token"), "tok&junk=1");
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(match_route("GET", "/nope").unwrap_err(), ApiError::RouteNotFound);
        assert_eq!(match_route("PUT", "/requests/HD-1").unwrap_err(), ApiError::MethodNotAllowed);
        assert_eq!(allowed_methods("/requests/HD-1"), "GET, PATCH");
        assert_eq!(allowed_methods("/requests/search"), "GET");
        assert_eq!(allowed_methods("/blocklist"), "GET, POST, DELETE");
        assert_eq!(match_route("GET", "/requests//comments").unwrap_err(), ApiError::RouteNotFound);
        // An address parameter needs an @, so a literal path is not taken for one.
        assert_eq!(allowed_methods("/me/emails/verify"), "POST");
        assert_eq!(match_route("DELETE", "/me/emails/verify").unwrap_err(), ApiError::MethodNotAllowed);
        assert_eq!(match_route("DELETE", "/me/emails/a@b.example").unwrap().1.get("email"), "a@b.example");
    }
}
