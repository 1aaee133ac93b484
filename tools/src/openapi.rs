//! The OpenAPI 3.1 document of every HTTP route, served by the local gateway at
//! `/openapi.json`. A test keeps its operations equal to the route table (and so to the
//! template); schemathesis checks the API against it.

use helpdesk::domain::attachments::uploads::{MAX_PER_COMMENT, MAX_TYPE, MAX_UPLOAD};
use helpdesk::domain::blocklist::{rule_pattern, MAX_RULE_LEN};
use helpdesk::domain::email::{email_core, email_pattern, MAX_EMAIL_LEN};
use helpdesk::domain::participants::{managed_domain_pattern, MAX_DOMAIN_TEXT};
use helpdesk::domain::projects::PROJECT_KEY_PATTERN;
use helpdesk::domain::requests::{MAX_COMMENT, MAX_DESCRIPTION, MAX_MERGE_NOTE, MAX_SUMMARY, MAX_VERSION};
use helpdesk::text::text_pattern;
use serde_json::{json, Map, Value};

fn string(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// A form field's value: text, or typed (a checkbox's true/false, a number), as
/// `form_values::typed_values` takes it.
fn field_value(max: usize) -> Value {
    json!({"type": ["string", "boolean", "number"], "maxLength": max})
}

/// An address as `EmailAddress::parse` takes it.
fn email_string() -> Value {
    json!({"type": "string", "maxLength": MAX_EMAIL_LEN, "pattern": email_pattern()})
}

/// Free text as `check_text(field, value, max, multiline, required)` takes it.
fn text(max: usize, multiline: bool, required: bool) -> Value {
    json!({"type": "string", "minLength": usize::from(required), "maxLength": max, "pattern": text_pattern(multiline, required)})
}

fn nullable_email() -> Value {
    let mut schema = email_string();
    schema["type"] = json!(["string", "null"]);
    schema
}

fn nullable_text(max: usize, multiline: bool) -> Value {
    let mut schema = text(max, multiline, true);
    schema["type"] = json!(["string", "null"]);
    schema
}

fn nullable_string(max: usize) -> Value {
    json!({"type": ["string", "null"], "maxLength": max})
}

/// A JSON object body: these properties, these required, nothing else.
/// `sla` of `PATCH /projects/{key}`: a calendar and targets per priority (null: none).
fn sla_settings() -> Value {
    let hours = json!({"type": "array", "items": {"type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9]$", "maxLength": 5}, "minItems": 2, "maxItems": 2});
    let duration = json!({"type": ["string", "null"], "pattern": "^[0-9]{1,7}[mh]$", "maxLength": 8});
    let targets = json!({"type": "object", "additionalProperties": false,
        "properties": {"first_reply": duration, "next_reply": duration, "resolution": duration}});
    let days: serde_json::Map<String, Value> =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| (d.to_string(), hours.clone())).collect();
    let priorities: serde_json::Map<String, Value> =
        ["low", "normal", "high", "urgent"].iter().map(|p| (p.to_string(), targets.clone())).collect();
    json!({"type": ["object", "null"], "additionalProperties": false, "required": ["timezone", "hours"],
           "properties": {"timezone": {"type": "string", "minLength": 1, "maxLength": 64},
                          "hours": {"type": "object", "additionalProperties": false, "properties": days},
                          "holidays": {"type": "array", "maxItems": 400, "items": {"type": "string", "format": "date", "maxLength": 10}},
                          "targets": {"type": "object", "additionalProperties": false, "properties": priorities}}})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn open_object(required: &[&str]) -> Value {
    json!({"type": "object", "required": required})
}

fn page() -> Value {
    json!({"type": "object", "required": ["items", "next_cursor"],
           "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Request"}},
                          "next_cursor": {"type": ["string", "null"]}}})
}

fn schemas() -> Value {
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           // A body's every problem at once (422), in the form's order; `code` is the first's.
                           "errors": {"type": "array", "items": {"type": "object", "required": ["field", "code", "message"],
                               "properties": {"field": {"type": "string", "description": "summary, description or fields.<key>"},
                                              "code": {"type": "string"},
                                              "message": {"type": "string", "description": "in plain words"}}}}}}}},
        "Request": {"type": "object", "required": ["key", "project", "summary", "status", "reporter", "participants"],
            "properties": {"key": {"type": "string"}, "status": {"enum": ["open", "pending", "closed"]},
                           "priority": {"enum": ["low", "normal", "high", "urgent"]}, "version": {"type": "integer"},
                           "participants": {"type": "array", "items": {"type": "string"}},
                           "organization": {"type": ["string", "null"]}}},
        "Project": {"type": "object", "required": ["key", "name", "support_address", "org_sharing", "portal", "participant_cap", "notify_per_hour"]},
        "User": {"type": "object", "required": ["id", "email", "roles", "organizations", "emails"]},
    })
}

fn path_param(name: &str) -> Value {
    let schema = match name {
        // An address in a path is matched as it is, without space around it.
        "email" => json!({"type": "string", "maxLength": MAX_EMAIL_LEN, "pattern": format!("^{}$", email_core())}),
        _ => json!({"type": "string", "minLength": 1}),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

fn query_param(name: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}

/// `?project=KEY`: a project's own blocklist rules; without it, the app-wide ones.
fn rule_scope() -> Value {
    query_param("project", json!({"type": "string", "pattern": PROJECT_KEY_PATTERN}), false)
}

fn idempotency_header() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
           "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}})
}

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

/// A macro of `POST /projects/{key}/macros` and `PUT .../macros/{id}`.
fn macro_body() -> Value {
    object(
        json!({"name": text(100, false, true),
               "actions": {"type": "array", "minItems": 1, "maxItems": 20, "items": macro_action()}}),
        &["name", "actions"],
    )
}

fn form_body() -> Value {
    let field = object(
        json!({"key": {"type": "string", "pattern": "^[a-z0-9_]{1,40}$"}, "label": text(100, false, true),
               "type": {"enum": ["text", "textarea", "select", "checkbox", "email", "date"]},
               "required": {"type": "boolean"}, "options": {"type": "array", "items": string(100), "maxItems": 100},
               "help": {"type": ["string", "null"], "maxLength": 300, "pattern": text_pattern(false, false)}}),
        &["key", "label", "type"],
    );
    object(
        json!({"name": text(100, false, true), "description": text(1000, true, false), "public": {"type": "boolean"},
               "default": {"type": "boolean"}, "fields": {"type": "array", "items": field, "maxItems": 50}}),
        &["name"],
    )
}

/// One macro action: its `type` says which other field it carries (`MacroAction`).
fn macro_action() -> Value {
    let action = |kind: &str, fields: Value| {
        let mut properties = fields.as_object().cloned().unwrap_or_default();
        let required: Vec<String> = std::iter::once("type".to_string()).chain(properties.keys().cloned()).collect();
        properties.insert("type".into(), json!({"const": kind}));
        json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
    };
    json!({"oneOf": [
        action("set_form", json!({"form": text(64, false, true)})),
        action("add_tag", json!({"tag": string(50)})),
        action("remove_tag", json!({"tag": string(50)})),
        action("add_internal_note", json!({"body": text(MAX_COMMENT, true, true)})),
        action("add_public_reply", json!({"body": text(MAX_COMMENT, true, true)})),
        action("set_status", json!({"status": {"enum": ["open", "pending", "closed"]}})),
        action("set_field", json!({"key": text(40, false, true), "value": text(1000, true, false)})),
    ]})
}

/// A rule of `POST /projects/{key}/automations` and `PUT .../automations/{id}`.
fn automation_body() -> Value {
    let action = |kind: &str, fields: Value, required: &[&str]| {
        let mut properties = fields.as_object().cloned().unwrap_or_default();
        let mut all = vec!["type".to_string()];
        all.extend(required.iter().map(|r| r.to_string()));
        properties.insert("type".into(), json!({"const": kind}));
        json!({"type": "object", "properties": properties, "required": all, "additionalProperties": false})
    };
    let mail = || text(4000, true, true);
    let actions = json!({"oneOf": [
        action("assign", json!({"agent": nullable_email(), "auto": {"type": "boolean"}}), &[]),
        action("set_priority", json!({"priority": {"enum": ["low", "normal", "high", "urgent"]}}), &["priority"]),
        action("add_tag", json!({"tag": string(50)}), &["tag"]),
        action("remove_tag", json!({"tag": string(50)}), &["tag"]),
        action("set_status", json!({"status": {"enum": ["open", "pending", "closed"]}}), &["status"]),
        action("add_internal_note", json!({"body": text(MAX_COMMENT, true, true)}), &["body"]),
        action("send_acknowledgement", json!({"body": mail()}), &["body"]),
        action("send_reminder", json!({"body": mail()}), &["body"]),
        action("webhook", json!({"id": text(64, false, true)}), &["id"]),
    ]});
    let condition = object(
        json!({"field": {"enum": ["form", "priority", "status", "tag", "organization", "channel", "requester_domain", "text", "assignee"]},
               "op": {"enum": ["is", "is_not", "contains"]},
               "value": text(200, false, true)}),
        &["field", "op", "value"],
    );
    object(
        json!({"name": text(100, false, true),
               "enabled": {"type": "boolean"},
               "on": {"enum": ["request.created", "comment.customer", "comment.agent", "status.changed", "sla.warning", "sla.breach", "time"]},
               "status": {"enum": ["open", "pending", null]},
               "idle": {"type": ["string", "null"], "pattern": "^[0-9]{1,4}[dh]$", "maxLength": 5},
               "conditions": {"type": "array", "maxItems": 10, "items": condition},
               "actions": {"type": "array", "minItems": 1, "maxItems": 10, "items": actions}}),
        &["name", "on", "actions"],
    )
}

fn request_ref() -> Value {
    json!({"$ref": "#/components/schemas/Request"})
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
mod tests {
    use super::*;
    use helpdesk::routes::ROUTES;
    use std::collections::BTreeSet;

    #[test]
    fn the_document_has_exactly_the_routes() {
        let doc = document();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let routes: BTreeSet<_> = ROUTES
            .iter()
            .filter(|r| r.kind == helpdesk::routes::Kind::Api)
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        assert_eq!(documented, routes);
        assert_eq!(doc["openapi"], "3.1.0");
    }

    /// The document's bodies against the types that parse them: every value the document
    /// builds from a body schema is taken by the type or refused by it, as the schema says
    /// (required fields, closed objects, enums, each macro action's own fields, JSON types).
    #[test]
    fn bodies_agree_with_the_types_that_parse_them() {
        use helpdesk::domain::*;
        type Parses = fn(&Value) -> Result<(), String>;
        fn parses<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
            serde_json::from_value::<T>(v.clone()).map(drop).map_err(|e| e.to_string())
        }
        let types: Vec<(&str, &str, Parses)> = vec![
            ("POST", "/auth/magic-link", parses::<auth::MagicLinkInput>),
            ("POST", "/auth/session", parses::<auth::SessionInput>),
            ("POST", "/me/emails", parses::<emails::NewEmail>),
            ("POST", "/me/emails/verify", parses::<emails::VerifyEmail>),
            ("POST", "/projects", parses::<projects::NewProject>),
            ("PATCH", "/projects/{key}", parses::<projects::ProjectPatch>),
            ("POST", "/projects/{key}/agents", parses::<projects::NewAgent>),
            ("PUT", "/projects/{key}/agents/{id}", parses::<team::AgentPatch>),
            ("PATCH", "/requests/{key}", parses::<team::RequestPatch>),
            ("POST", "/projects/{key}/requests", parses::<requests::NewRequest>),
            ("POST", "/requests/{key}/comments", parses::<requests::NewComment>),
            ("POST", "/requests/{key}/attachments", parses::<attachments::uploads::NewUpload>),
            ("POST", "/requests/{key}/merge", parses::<requests::MergeInput>),
            ("POST", "/requests/{key}/participants", parses::<participants::ShareInput>),
            ("POST", "/projects/{key}/customers", parses::<participants::NewCustomer>),
            ("PUT", "/admin/managed-domains", parses::<participants::DomainsInput>),
            ("POST", "/projects/{key}/organizations", parses::<organizations::NewOrganization>),
            ("POST", "/organizations/{id}/members", parses::<organizations::MemberInput>),
            ("PUT", "/organizations/{id}/members", parses::<organizations::SyncInput>),
            ("PUT", "/requests/{key}/organization", parses::<organizations::RequestOrgInput>),
            ("POST", "/users/{id}/suspend", parses::<moderation::SuspendInput>),
            ("POST", "/users/{id}/notes", parses::<moderation::NoteInput>),
            ("POST", "/blocklist", parses::<rules::RuleInput>),
            ("DELETE", "/blocklist", parses::<rules::RuleInput>),
            ("POST", "/requests/{key}/public-links", parses::<public_links::MintInput>),
            ("POST", "/projects/{key}/forms", parses::<forms::FormInput>),
            ("PUT", "/projects/{key}/forms/{id}", parses::<forms::FormInput>),
            ("PUT", "/requests/{key}/form", parses::<forms::MoveInput>),
            ("POST", "/projects/{key}/macros", parses::<macros::MacroInput>),
            ("PUT", "/projects/{key}/macros/{id}", parses::<macros::MacroInput>),
            ("POST", "/projects/{key}/automations", parses::<automations::manage::AutomationInput>),
            ("PUT", "/projects/{key}/automations/{id}", parses::<automations::manage::AutomationInput>),
            ("POST", "/projects/{key}/webhooks", parses::<webhooks::targets::TargetInput>),
        ];
        let doc = document();
        let mut with_body = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
                if schema.is_null() {
                    continue;
                }
                with_body += 1;
                let at = format!("{} {path}", method.to_uppercase());
                let parse = types
                    .iter()
                    .find(|(m, p, _)| format!("{m} {p}") == at)
                    .unwrap_or_else(|| panic!("{at}: which type?"))
                    .2;
                let (valid, invalid) = values(schema);
                for v in &valid {
                    assert_eq!(parse(v), Ok(()), "{at}: the document allows {v}");
                }
                for v in &invalid {
                    assert!(parse(v).is_err(), "{at}: the document refuses {v}, the type takes it");
                }
            }
        }
        assert_eq!(with_body, types.len());
    }

    /// Values a schema allows and values it refuses, by JSON shape (not by lengths or
    /// patterns, which `patterns.rs` and the parsers decide).
    fn values(schema: &Value) -> (Vec<Value>, Vec<Value>) {
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let nullable = types.contains(&"null");
        let (mut valid, mut invalid) = (vec![], vec![]);
        if nullable {
            valid.push(Value::Null);
        } else if !types.is_empty() {
            invalid.push(Value::Null);
        }
        if let Some(value) = schema.get("const") {
            return (vec![value.clone()], vec![json!("not-this")]);
        }
        if let Some(Value::Array(choices)) = schema.get("enum") {
            return (choices.clone(), vec![json!("not-one-of-them")]);
        }
        if let Some(Value::Array(branches)) = schema.get("oneOf") {
            for branch in branches {
                let (v, i) = values(branch);
                valid.extend(v);
                invalid.extend(i);
            }
            return (valid, invalid);
        }
        let scalars: Vec<Value> = types
            .iter()
            .filter_map(|t| match *t {
                "string" => Some(json!("x")),
                "boolean" => Some(json!(true)),
                "number" => Some(json!(1.5)),
                _ => None,
            })
            .collect();
        if scalars.len() > 1 {
            // One of several JSON types (a field's value): each taken, a list refused.
            valid.extend(scalars);
            invalid.push(json!([]));
            return (valid, invalid);
        }
        if types.contains(&"string") {
            valid.push(json!("x"));
            invalid.push(json!(5));
        } else if types.contains(&"integer") {
            valid.push(json!(schema["minimum"].as_i64().unwrap_or(1)));
            invalid.push(json!("1"));
        } else if types.contains(&"boolean") {
            valid.push(json!(true));
            invalid.push(json!("true"));
        } else if types.contains(&"array") {
            let (items, bad_items) = values(&schema["items"]);
            if schema["minItems"].as_u64().unwrap_or(0) == 0 {
                valid.push(json!([]));
            }
            valid.extend(items.into_iter().map(|v| json!([v])));
            invalid.extend(bad_items.into_iter().map(|v| json!([v])));
            invalid.push(json!({}));
        } else if types.contains(&"object") && schema["additionalProperties"] == json!(false) {
            let properties = schema["properties"].as_object().unwrap();
            let required: Vec<&str> =
                schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let sample = |name: &str| values(&properties[name]).0.into_iter().next().unwrap();
            let minimal: Map<String, Value> = required.iter().map(|r| (r.to_string(), sample(r))).collect();
            valid.push(Value::Object(minimal.clone()));
            let full: Map<String, Value> = properties.keys().map(|p| (p.clone(), sample(p))).collect();
            valid.push(Value::Object(full));
            for r in &required {
                let mut without = minimal.clone();
                without.remove(*r);
                invalid.push(Value::Object(without));
            }
            let mut unknown = minimal.clone();
            unknown.insert("surprise".into(), json!(1));
            invalid.push(Value::Object(unknown));
            for (name, property) in properties {
                let (good, bad) = values(property);
                let with = |v: Value| {
                    let mut o = minimal.clone();
                    o.insert(name.clone(), v);
                    Value::Object(o)
                };
                valid.extend(good.into_iter().map(with));
                invalid.extend(bad.into_iter().map(with));
            }
        } else if types.contains(&"object") {
            // A map (form field values): each value as `additionalProperties` says.
            let (good, bad) = values(&schema["additionalProperties"]);
            valid.push(json!({}));
            valid.extend(good.into_iter().map(|v| json!({"k": v})));
            invalid.extend(bad.into_iter().map(|v| json!({"k": v})));
        }
        (valid, invalid)
    }

    /// Every string a client sends has a bound, so nothing the document allows is refused
    /// for a length it never stated (free text, addresses, rules, keys: their own patterns).
    #[test]
    fn every_sent_string_is_bounded() {
        fn walk(schema: &Value, at: &str) {
            let types = match &schema["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if types.contains(&"string") {
                let bounded = schema.get("maxLength").is_some() || schema.get("pattern").is_some();
                assert!(bounded, "{at} is an unbounded string");
            }
            for (key, child) in schema.as_object().into_iter().flatten() {
                match key.as_str() {
                    "properties" => child.as_object().unwrap().iter().for_each(|(k, v)| walk(v, &format!("{at}.{k}"))),
                    "items" | "additionalProperties" if child.is_object() => walk(child, &format!("{at}[]")),
                    _ => {}
                }
            }
        }
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                walk(&operation["requestBody"]["content"]["application/json"]["schema"], &at);
                for parameter in operation["parameters"].as_array().unwrap() {
                    if parameter["in"] != "path" {
                        walk(&parameter["schema"], &format!("{at} {}", parameter["name"]));
                    }
                }
            }
        }
    }
}
