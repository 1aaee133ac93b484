//! The schemas the OpenAPI document's operations are built from: strings, texts and
//! addresses as the domain checks them, and the bodies of the larger operations.

use helpdesk::domain::email::{email_core, email_pattern, MAX_EMAIL_LEN};
use helpdesk::domain::projects::PROJECT_KEY_PATTERN;
use helpdesk::domain::requests::MAX_COMMENT;
use helpdesk::text::text_pattern;
use serde_json::{json, Value};

pub(super) fn string(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// A form field's value: text, or typed (a checkbox's true/false, a number), as
/// `form_values::typed_values` takes it.
pub(super) fn field_value(max: usize) -> Value {
    json!({"type": ["string", "boolean", "number"], "maxLength": max})
}

/// An address as `EmailAddress::parse` takes it.
pub(super) fn email_string() -> Value {
    json!({"type": "string", "maxLength": MAX_EMAIL_LEN, "pattern": email_pattern()})
}

/// Free text as `check_text(field, value, max, multiline, required)` takes it.
pub(super) fn text(max: usize, multiline: bool, required: bool) -> Value {
    json!({"type": "string", "minLength": usize::from(required), "maxLength": max, "pattern": text_pattern(multiline, required)})
}

pub(super) fn nullable_email() -> Value {
    let mut schema = email_string();
    schema["type"] = json!(["string", "null"]);
    schema
}

pub(super) fn nullable_text(max: usize, multiline: bool) -> Value {
    let mut schema = text(max, multiline, true);
    schema["type"] = json!(["string", "null"]);
    schema
}

pub(super) fn nullable_string(max: usize) -> Value {
    json!({"type": ["string", "null"], "maxLength": max})
}

/// A JSON object body: these properties, these required, nothing else.
/// `sla` of `PATCH /projects/{key}`: a calendar and targets per priority (null: none).
pub(super) fn sla_settings() -> Value {
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

pub(super) fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

pub(super) fn open_object(required: &[&str]) -> Value {
    json!({"type": "object", "required": required})
}

pub(super) fn page() -> Value {
    json!({"type": "object", "required": ["items", "next_cursor"],
           "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Request"}},
                          "next_cursor": {"type": ["string", "null"]}}})
}

pub(super) fn schemas() -> Value {
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

pub(super) fn path_param(name: &str) -> Value {
    let schema = match name {
        // An address in a path is matched as it is, without space around it.
        "email" => json!({"type": "string", "maxLength": MAX_EMAIL_LEN, "pattern": format!("^{}$", email_core())}),
        _ => json!({"type": "string", "minLength": 1}),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

pub(super) fn query_param(name: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}

/// `?project=KEY`: a project's own blocklist rules; without it, the app-wide ones.
pub(super) fn rule_scope() -> Value {
    query_param("project", json!({"type": "string", "pattern": PROJECT_KEY_PATTERN}), false)
}

pub(super) fn idempotency_header() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
           "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}})
}

/// A macro of `POST /projects/{key}/macros` and `PUT .../macros/{id}`.
pub(super) fn macro_body() -> Value {
    object(
        json!({"name": text(100, false, true),
               "actions": {"type": "array", "minItems": 1, "maxItems": 20, "items": macro_action()}}),
        &["name", "actions"],
    )
}

pub(super) fn form_body() -> Value {
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
pub(super) fn macro_action() -> Value {
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
pub(super) fn automation_body() -> Value {
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

pub(super) fn request_ref() -> Value {
    json!({"$ref": "#/components/schemas/Request"})
}
