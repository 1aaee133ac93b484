//! The OpenAPI 3.1 document of every HTTP route, served by the local gateway at
//! `/openapi.json`. A test keeps its operations equal to the route table (and so to the
//! template); schemathesis checks the API against it.

use helpdesk::domain::attachments::uploads::{MAX_PER_COMMENT, MAX_TYPE, MAX_UPLOAD};
use helpdesk::domain::blocklist::{rule_pattern, MAX_RULE_LEN};
use helpdesk::domain::email::MAX_EMAIL_LEN;
use helpdesk::domain::participants::{managed_domain_pattern, MAX_DOMAIN_TEXT};
use helpdesk::domain::projects::PROJECT_KEY_PATTERN;
use helpdesk::domain::requests::{MAX_COMMENT, MAX_DESCRIPTION, MAX_MERGE_NOTE, MAX_SUMMARY, MAX_VERSION};
use serde_json::{json, Map, Value};

mod schema;
use schema::*;

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<Value>,
    query: Vec<Value>,
    ok: Vec<(u16, Value)>,
    public: bool,
}

fn op(method: &'static str, path: &'static str, summary: &'static str) -> Op {
    Op { method, path, summary, body: None, query: vec![], ok: vec![], public: false }
}

impl Op {
    fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self
    }
    fn query(mut self, param: Value) -> Self {
        self.query.push(param);
        self
    }
    fn ok(mut self, status: u16, schema: Value) -> Self {
        self.ok.push((status, schema));
        self
    }
    fn public(mut self) -> Self {
        self.public = true;
        self
    }
}

fn operations() -> Vec<Op> {
    let email = || object(json!({"email": email_string()}), &["email"]);
    let status_filter = |values: &[&str]| query_param("status", json!({"enum": values}), false);
    let list_params = |o: Op| {
        o.query(query_param("cursor", json!({"type": "string", "maxLength": 200}), false)).query(query_param(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
            false,
        ))
    };
    let search_params = |o: Op| {
        o.query(query_param("q", json!({"type": "string", "maxLength": 500}), false))
            .query(query_param("cursor", json!({"type": "string", "maxLength": 200}), false))
            .query(query_param("limit", json!({"type": "integer", "minimum": 1, "maximum": 50}), false))
    };
    let participants = json!({"type": "object", "required": ["request", "items"]});
    vec![
        op("POST", "/auth/magic-link", "Email a single-use sign-in link (always 202)").public().body(email()).ok(202, open_object(&["status"])),
        op("POST", "/auth/session", "Trade a magic-link token for a bearer session")
            .public()
            .body(object(json!({"token": string(200)}), &["token"]))
            .ok(201, open_object(&["token", "expires_at", "user"])),
        op("DELETE", "/auth/session", "Log out").ok(204, Value::Null),
        op("GET", "/me", "The signed-in user").ok(200, json!({"$ref": "#/components/schemas/User"})),
        op("GET", "/me/emails", "The caller's addresses: primary, and secondary ones with their state").ok(200, open_object(&["items"])),
        op("POST", "/me/emails", "Add a secondary address: a token is mailed to it (202)").body(email()).ok(202, open_object(&["items"])),
        op("POST", "/me/emails/verify", "Confirm a secondary address with its mailed token")
            .body(object(json!({"token": string(200)}), &["token"]))
            .ok(200, open_object(&["items"])),
        op("DELETE", "/me/emails/{email}", "Remove a secondary address").ok(200, open_object(&["items"])),
        op("POST", "/projects", "Create a project (app admin)")
            .body(object(json!({"key": {"type": "string", "pattern": PROJECT_KEY_PATTERN}, "name": text(200, false, true),
                   "support_address": nullable_email()}), &["key", "name"]))
            .ok(201, json!({"$ref": "#/components/schemas/Project"})),
        op("GET", "/projects/{key}", "Read a project (agents)").ok(200, json!({"$ref": "#/components/schemas/Project"})),
        op("PATCH", "/projects/{key}", "Change a project's settings (project admin)")
            .body(object(
                json!({"name": nullable_text(200, false), "support_address": nullable_email(),
                       "org_sharing": {"type": ["boolean", "null"]},
                       "portal": {"type": ["object", "null"], "additionalProperties": false,
                                  "properties": {"private": {"type": ["boolean", "null"]}, "public": {"type": ["boolean", "null"]},
                                                 "link_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 365}}},
                       "participant_cap": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
                       "notify_per_hour": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
                       "intake": {"enum": ["anyone", "customers", null]},
                       "csat": {"type": ["boolean", "null"]},
                       "reopen_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 365},
                       "sla": sla_settings(),
                       "assignment": {"type": ["object", "null"], "additionalProperties": false,
                                      "properties": {"mode": {"enum": ["manual", "round_robin", "least_open"]},
                                                     "cap": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000}}}}),
                &[],
            ))
            .ok(200, json!({"$ref": "#/components/schemas/Project"})),
        op("POST", "/projects/{key}/agents", "Add an agent or admin (project admin)")
            .body(object(json!({"email": email_string(), "role": {"enum": ["agent", "admin"]}}), &["email", "role"]))
            .ok(201, open_object(&["project", "user_id", "email", "role"])),
        op("GET", "/projects/{key}/agents", "The project's agents: availability, emails they get, open load (agents)")
            .ok(200, open_object(&["project", "items"])),
        op("PUT", "/projects/{key}/agents/{id}", "An agent's availability and emails (the agent, or a project admin) and role (a project admin; 409 last_admin for the only admin)")
            .body(object(
                json!({"available": {"type": ["boolean", "null"]}, "notify": {"enum": ["all", "assigned", "none", null]},
                       "role": {"enum": ["agent", "admin", null]}}),
                &[],
            ))
            .ok(200, open_object(&["id", "email", "role", "available", "notify", "open"])),
        op("DELETE", "/projects/{key}/agents/{id}", "Remove an agent: their open requests there become unassigned (project admin; 409 last_admin for the only admin)")
            .ok(200, open_object(&["unassigned"])),
        op("POST", "/projects/{key}/requests", "Raise a request (Idempotency-Key honoured)")
            .body(object(
                json!({"summary": text(MAX_SUMMARY, false, true), "description": text(MAX_DESCRIPTION, true, false),
                       "form": nullable_text(64, false),
                       "fields": {"type": "object", "maxProperties": 50, "additionalProperties": field_value(1000)}}),
                &["summary"],
            ))
            .ok(201, request_ref())
            .ok(200, request_ref()),
        list_params(op("GET", "/projects/{key}/requests", "The project's queue (agents), by status, owner, priority, tag or organization"))
            .query(status_filter(&["open", "pending", "closed", "held"]))
            .query(query_param("assignee", json!({"anyOf": [{"enum": ["me", "none"]}, email_string()]}), false))
            .query(query_param("priority", json!({"enum": ["low", "normal", "high", "urgent"]}), false))
            .query(query_param("sort", json!({"enum": ["created", "activity", "due"]}), false))
            .query(query_param("organization", json!({"type": "string", "minLength": 1, "maxLength": 64}), false))
            .query(query_param("tag", json!({"type": "string", "pattern": "^[A-Za-z0-9-]{1,50}$"}), false))
            .ok(200, page()),
        list_params(op("GET", "/requests", "The customer's requests"))
            .query(query_param("view", json!({"enum": ["all", "mine", "participating", "organization"]}), false))
            .query(query_param("organization", json!({"type": "string", "maxLength": 64}), false))
            .query(status_filter(&["open", "pending", "closed"]))
            .ok(200, page()),
        search_params(op("GET", "/requests/search", "Search what the customer may see, by its public text (never internal notes)"))
            .ok(200, open_object(&["items", "next_cursor", "total"])),
        op("GET", "/requests/{key}", "A request with its comments and history").ok(200, request_ref()),
        op("PATCH", "/requests/{key}", "Assign, prioritise, set pending: several at once (agents; If-Match: 412 stale_request)")
            .query(json!({"name": "If-Match", "in": "header", "required": false,
                          "schema": {"type": "string", "maxLength": 30, "pattern": "^(\\*|(W/)?\"?[0-9]{1,15}\"?)$"}}))
            .body(object(
                json!({"assignee": {"type": ["string", "null"], "maxLength": MAX_EMAIL_LEN},
                       "priority": {"enum": ["low", "normal", "high", "urgent", null]},
                       "status": {"enum": ["open", "pending", "closed", null]}}),
                &[],
            ))
            .ok(200, request_ref()),
        op("GET", "/requests/{key}/attachments/{id}", "Download a file that came by email (303 to a URL valid 5 minutes)")
            .ok(303, Value::Null),
        op("POST", "/requests/{key}/attachments", "Upload a file: a presigned POST to the bucket (one key, type and size, 15 minutes); a comment then names its id")
            .body(object(
                json!({"name": text(255, false, true), "type": {"type": "string", "maxLength": MAX_TYPE, "pattern": "^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$"},
                       "size": {"type": "integer", "minimum": 1, "maximum": MAX_UPLOAD}}),
                &["name", "type", "size"],
            ))
            .ok(201, open_object(&["id", "url", "fields", "max_size", "expires_at"])),
        op("POST", "/requests/{key}/comments", "Reply (internal notes: agents only); attachments names uploads (then the body may be empty, though this document asks for one). A customer's reply to a request closed more than the project's reopen_days ago opens a follow-up request (answered with it, follow_up_of naming this one)")
            .body(object(
                json!({"body": text(MAX_COMMENT, true, true), "internal": {"type": "boolean"},
                       "seen_version": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_VERSION},
                       "attachments": {"type": "array", "maxItems": MAX_PER_COMMENT, "uniqueItems": true,
                                       "items": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"}}}),
                &["body"],
            ))
            // A customer's reply past the project's reopen window opens a follow-up request.
            .ok(201, json!({"anyOf": [open_object(&["id", "author", "body", "internal"]), request_ref()]}))
            .ok(200, json!({"anyOf": [open_object(&["id", "author", "body", "internal"]), request_ref()]})),
        op("POST", "/requests/{key}/close", "Close (seen_version: 409 stale_view when someone else wrote since)")
            .query(query_param("seen_version", json!({"type": "integer", "minimum": 0, "maximum": MAX_VERSION}), false))
            .ok(200, request_ref()),
        op("POST", "/requests/{key}/reopen", "Reopen (seen_version as for close)")
            .query(query_param("seen_version", json!({"type": "integer", "minimum": 0, "maximum": MAX_VERSION}), false))
            .ok(200, request_ref()),
        op("GET", "/requests/{key}/participants", "Who the request is shared with").ok(200, participants.clone()),
        op("POST", "/requests/{key}/participants", "Share with people who have accounts")
            .body(object(json!({"emails": {"type": "array", "minItems": 1, "maxItems": 20, "items": email_string()}}), &["emails"]))
            .ok(200, participants.clone()),
        op("DELETE", "/requests/{key}/participants/{email}", "Stop sharing with someone").ok(200, participants),
        op("POST", "/projects/{key}/customers", "Add a customer (agents; managed domains: app admins)")
            .body(object(json!({"email": email_string(), "name": nullable_text(200, false)}), &["email"]))
            .ok(201, open_object(&["user_id", "email", "created"]))
            .ok(200, open_object(&["user_id", "email", "created"])),
        op("GET", "/admin/managed-domains", "Managed email domains (app admin)").ok(200, open_object(&["domains"])),
        op("PUT", "/admin/managed-domains", "Replace the managed email domains (app admin)")
            .body(object(json!({"domains": {"type": "array", "maxItems": 500, "items": {"type": "string", "maxLength": MAX_DOMAIN_TEXT, "pattern": managed_domain_pattern()}}}), &["domains"]))
            .ok(200, open_object(&["domains"])),
        op("GET", "/projects/{key}/organizations", "The project's organizations, by name (agents)")
            .ok(200, open_object(&["project", "items"])),
        op("POST", "/projects/{key}/organizations", "Create an organization")
            .body(object(
                json!({"name": text(200, false, true), "external": {"type": ["object", "null"], "additionalProperties": false,
                        "required": ["source", "contact"],
                        "properties": {"source": text(100, false, true), "contact": text(254, false, true)}}}),
                &["name"],
            ))
            .ok(201, open_object(&["id", "project", "name"])),
        op("GET", "/organizations/{id}/members", "An organization and its members (agents)")
            .ok(200, open_object(&["organization", "items"])),
        op("POST", "/organizations/{id}/members", "Add a member").body(email()).ok(200, open_object(&["organization", "email"])),
        op("PUT", "/organizations/{id}/members", "Replace the members (CRM sync, app admin)")
            .body(object(json!({"emails": {"type": "array", "maxItems": 1000, "items": email_string()}}), &["emails"]))
            .ok(200, open_object(&["organization", "members"])),
        op("DELETE", "/organizations/{id}/members/{email}", "Remove a member").ok(204, Value::Null),
        op("PUT", "/requests/{key}/organization", "Set the request's organization (agents)")
            .body(object(json!({"organization_id": string(64)}), &["organization_id"]))
            .ok(200, request_ref()),
        op("DELETE", "/requests/{key}/organization", "Remove the request's organization (agents)").ok(200, request_ref()),
        op("GET", "/requests/{key}/visibility", "Why a customer can or cannot see a request (agents)")
            .query(query_param("email", email_string(), true))
            .ok(200, open_object(&["checks", "verdict", "reason"])),
        op("POST", "/requests/{key}/release", "Release a held request into the queue (agents)").ok(200, request_ref()),
        op("POST", "/requests/{key}/merge", "Merge a duplicate into another request of the project (agents; safe to retry)")
            .body(object(
                json!({"into": {"type": "string", "minLength": 3, "maxLength": 32, "pattern": "^[A-Z][A-Z0-9]{1,9}-[0-9]{1,15}$"},
                       "note": nullable_text(MAX_MERGE_NOTE, true)}),
                &["into"],
            ))
            .ok(200, open_object(&["source", "target", "comments", "attachments", "skipped"])),
        op("POST", "/users/{id}/suspend", "Suspend, note, block, close requests, end sessions (admins)")
            .body(object(json!({"reason": text(2000, true, true), "request": nullable_string(64)}), &["reason"]))
            .ok(200, open_object(&["user_id", "suspended", "requests_closed", "sessions_ended"])),
        op("POST", "/users/{id}/unsuspend", "Lift a suspension and its rule (admins)").ok(200, open_object(&["id", "suspended"])),
        op("POST", "/users/{id}/notes", "Add a user note (admins)")
            .body(object(json!({"body": text(5000, true, true), "request": nullable_string(64)}), &["body"]))
            .ok(201, open_object(&["id", "action"])),
        op("GET", "/users/{id}/audit", "A user's audit trail (admins)").ok(200, open_object(&["items"])),
        op("GET", "/blocklist", "Blocklist rules of a scope: app-wide (app admins) or ?project= (its admins)")
            .query(rule_scope())
            .ok(200, open_object(&["items"])),
        op("POST", "/blocklist", "Add a rule: reject:addr, reject:*@domain, suspend:addr (admins, in their scope)")
            .query(rule_scope())
            .body(object(json!({"rule": {"type": "string", "maxLength": MAX_RULE_LEN, "pattern": rule_pattern()}}), &["rule"]))
            .ok(201, open_object(&["rule"])),
        op("POST", "/requests/{key}/public-links", "Mint public links for the reporter and participants (agents)")
            .body(object(
                json!({"emails": {"type": ["array", "null"], "items": email_string(), "minItems": 1, "maxItems": 100}}),
                &[],
            ))
            .ok(201, open_object(&["items"])),
        op("DELETE", "/requests/{key}/public-links", "Revoke every public link of a request (agents)").ok(204, Value::Null),
        op("GET", "/projects/{key}/forms", "A project's forms (agents)").ok(200, open_object(&["items", "default_form"])),
        op("POST", "/projects/{key}/forms", "Add a form (project admin)").body(form_body()).ok(201, open_object(&["id", "fields"])),
        op("PUT", "/projects/{key}/forms/{id}", "Replace a form (project admin); old requests keep their values")
            .body(form_body())
            .ok(200, open_object(&["id", "fields"])),
        op("DELETE", "/projects/{key}/forms/{id}", "Remove a form (project admin): not the default form, Support Ops or a form a macro moves requests to (409); requests on it keep their values")
            .ok(204, Value::Null),
        op("PUT", "/requests/{key}/form", "Move a request to another form, its fields checked (agents)")
            .body(object(
                json!({"form": string(64),
                       "fields": {"type": ["object", "null"], "maxProperties": 50, "additionalProperties": field_value(32000)}}),
                &["form"],
            ))
            .ok(200, request_ref()),
        op("PUT", "/requests/{key}/tags/{tag}", "Tag a request: a-z, 0-9, - (agents)").ok(200, request_ref()),
        op("DELETE", "/requests/{key}/tags/{tag}", "Remove a tag (agents)").ok(200, request_ref()),
        op("GET", "/projects/{key}/macros", "A project's macros (agents)").ok(200, open_object(&["items"])),
        op("POST", "/projects/{key}/macros", "Add a macro: an ordered list of actions (project admin)")
            .body(macro_body())
            .ok(201, open_object(&["id", "actions"])),
        op("PUT", "/projects/{key}/macros/{id}", "Replace a macro whole, keeping its id (project admin)")
            .body(macro_body())
            .ok(200, open_object(&["id", "actions"])),
        op("DELETE", "/projects/{key}/macros/{id}", "Remove a macro (project admin); requests keep what it did")
            .ok(204, Value::Null),
        op("POST", "/requests/{key}/macros/{id}", "Apply a macro in one transaction (agents; Idempotency-Key honoured)")
            .ok(200, request_ref()),
        op("GET", "/requests/{key}/macros/{id}/preview", "What applying a macro would do now, changing nothing: each step (and why it cannot apply), who a reply is emailed to, the values a form move drops (agents)")
            .ok(200, open_object(&["macro", "applies", "steps", "recipients", "dropped"])),
        op("POST", "/requests/{key}/history/{id}/undo", "Undo a form move from its history entry: back to the old form with the values it dropped, while the request is still on the form it was moved to (agents)")
            .ok(200, request_ref()),
        op("GET", "/projects/{key}/reports", "A project's counts per day or week: created, closed, reopened, backlog, reply and resolution times, service levels, ratings (agents; Accept: text/csv for CSV)")
            .query(query_param("from", json!({"type": "string", "format": "date", "maxLength": 10}), false))
            .query(query_param("to", json!({"type": "string", "format": "date", "maxLength": 10}), false))
            .query(query_param("by", json!({"enum": ["day", "week"]}), false))
            .query(query_param("assignee", json!({"anyOf": [{"enum": ["me", "none"]}, email_string()]}), false))
            .ok(200, open_object(&["periods", "total"])),
        search_params(op("GET", "/projects/{key}/search", "Search a project's requests: words, \"phrases\", prefix*, status: priority: assignee: tag: org: requester: form: created>/< updated>/< (agents)"))
            .query(query_param("sort", json!({"enum": ["relevance", "updated"]}), false))
            .ok(200, open_object(&["items", "next_cursor", "total"])),
        op("GET", "/projects/{key}/automations", "A project's automations, each with when it last fired (agents)")
            .ok(200, open_object(&["items"])),
        op("POST", "/projects/{key}/automations", "Add an automation (project admin)")
            .body(automation_body())
            .ok(201, open_object(&["id", "on", "actions"])),
        op("PUT", "/projects/{key}/automations/{id}", "Replace an automation whole, keeping its id (project admin)")
            .body(automation_body())
            .ok(200, open_object(&["id", "on", "actions"])),
        op("DELETE", "/projects/{key}/automations/{id}", "Remove an automation (project admin)").ok(204, Value::Null),
        op("GET", "/projects/{key}/webhooks", "A project's webhook targets, without their secrets (project admin)")
            .ok(200, open_object(&["items"])),
        op("POST", "/projects/{key}/webhooks", "Add a webhook target; its signing secret is answered this once (project admin)")
            .body(object(
                json!({"url": {"type": "string", "minLength": 9, "maxLength": 2000, "pattern": "^https://[^\\s@/?#]+([/?#]\\S*)?$"},
                       "events": {"type": "array", "minItems": 1, "maxItems": 6, "items": {"enum": ["request.created", "comment.customer", "comment.agent", "status.changed", "sla.warning", "sla.breach"]}},
                       "format": {"enum": ["json", "slack"]}}),
                &["url", "events"],
            ))
            .ok(201, open_object(&["id", "url", "events", "secret"])),
        op("DELETE", "/projects/{key}/webhooks/{id}", "Remove a webhook target and its secret (project admin)").ok(204, Value::Null),
        op("GET", "/projects/{key}/webhooks/{id}/deliveries", "A target's newest deliveries and their attempts (project admin)")
            .ok(200, open_object(&["items"])),
        op("DELETE", "/blocklist", "Remove a rule (admins, in their scope)")
            .query(rule_scope())
            .body(object(json!({"rule": {"type": "string", "maxLength": MAX_RULE_LEN, "pattern": rule_pattern()}}), &["rule"]))
            .ok(204, Value::Null),
    ]
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in operations() {
        let mut parameters: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(path_param)
            .collect();
        parameters.extend(o.query);
        if o.method == "POST"
            && (o.path.ends_with("/requests") || o.path.ends_with("/comments") || o.path.ends_with("/macros/{id}"))
        {
            parameters.push(idempotency_header());
        }
        let mut responses = Map::new();
        for (status, schema) in o.ok {
            let response = if schema.is_null() {
                json!({"description": "done"})
            } else {
                json!({"description": "done", "content": {"application/json": {"schema": schema}}})
            };
            responses.insert(status.to_string(), response);
        }
        responses.insert(
            "default".into(),
            json!({"description": "an error, with a stable code",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
        let mut operation = json!({"summary": o.summary, "parameters": parameters, "responses": responses});
        if let Some(body) = o.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        if o.public {
            operation["security"] = json!([]);
        }
        paths.entry(o.path.to_string()).or_insert_with(|| json!({}))[o.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Helpdesk", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Serverless helpdesk. Every error is {\"error\":{\"code\",\"message\"}}."},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    })
}

#[cfg(test)]
mod tests;
