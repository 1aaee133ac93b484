//! Web function: server-rendered pages (sign-in, the customer portal, public links) and the
//! JSON routes that mint and revoke public links. Pages only translate: a form or query in,
//! one domain call, a template out. Errors are HTML pages with the API's status codes.

mod account;
mod csat;
mod desk;
mod page_kit;
mod pages;
mod portal;
mod public;
mod search;
mod views;
mod visitor;

use helpdesk::http;
use helpdesk::routes::{self, Kind};
use helpdesk::App;
use lambda_http::{Body, Request, Response};
use std::time::Instant;
use visitor::Visitor;

pub use views::stylesheet_path;

/// Whether the caller asked for JSON (the public portal answers both).
fn wants_json(req: &Request) -> bool {
    req.headers()
        .get(::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"))
}

/// Whether the caller reads HTML (a browser): what no route matches answers a page then.
fn accepts_html(req: &Request) -> bool {
    req.headers().get(::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// `HEAD` on a page is its `GET` without the body (API Gateway sends it to the fallback).
fn page_head(req: &Request) -> bool {
    req.method() == ::http::Method::HEAD
        && routes::match_route("GET", req.uri().path()).is_ok_and(|(spec, _)| spec.kind == Kind::Page)
}

pub async fn handle(app: &App, mut req: Request) -> Response<Body> {
    let head = page_head(&req);
    if head {
        *req.method_mut() = ::http::Method::GET;
    }
    let mut response = answer(app, req).await;
    if head {
        *response.body_mut() = Body::Empty;
    }
    response
}

async fn answer(app: &App, req: Request) -> Response<Body> {
    let started = Instant::now();
    let visitor = match Visitor::of(app, &req).await {
        Ok(visitor) => visitor,
        Err(err) => return http::finish(routes::WEB, &req, started, Err(err)),
    };
    let matched = routes::match_route(req.method().as_str(), req.uri().path());
    // Unmatched (the `$default` route): a page for browsers, JSON for everyone else; under
    // `/desk` always a page (the console's 404 or 405, with its way back).
    let console = req.uri().path() == "/desk" || req.uri().path().starts_with("/desk/");
    let unmatched_json = matched.is_err() && !accepts_html(&req) && !console;
    let api = matched.as_ref().is_ok_and(|(spec, _)| spec.kind == Kind::Api);
    let path = req.uri().path();
    let json = api || unmatched_json || (wants_json(&req) && (path.starts_with("/p/") || path.starts_with("/csat/")));
    let result = match matched {
        Ok((spec, params)) if api => pages::api(app, &req, spec, &params).await,
        Ok((spec, params)) if json => pages::public_json(app, &req, spec, &params).await,
        Ok((spec, params)) => pages::page(app, &req, &visitor, spec, &params).await,
        Err(err) => Err(err),
    };
    let result = result.map(|reply| visitor.finish(reply));
    if json {
        http::finish(routes::WEB, &req, started, result)
    } else {
        let desk = req.uri().path().starts_with("/desk");
        // A page asked for without a session comes back after signing in.
        let asked = (req.method() == ::http::Method::GET).then(|| req.uri().path_and_query().map(|p| p.as_str()));
        let asked = asked.flatten().and_then(helpdesk::auth::return_path).map(str::to_string);
        http::finish_with(routes::WEB, &req, started, result, |err| {
            visitor.finish(pages::error_page(&visitor, err, desk, asked.as_deref()))
        })
    }
}
