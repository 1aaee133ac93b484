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
