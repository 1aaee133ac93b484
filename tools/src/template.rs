//! Reads `infra/template.yaml`: the table definition (the one source of truth, used to create
//! local tables) and the HTTP routes of each function.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub fn template_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml")
}

pub fn load() -> Value {
    let text = std::fs::read_to_string(template_path()).expect("infra/template.yaml is readable");
    serde_yaml::from_str(&text).expect("infra/template.yaml is valid YAML")
}

fn resources(template: &Value) -> &serde_yaml::Mapping {
    template["Resources"].as_mapping().expect("Resources")
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    pub name: String,
    pub pk: String,
    pub sk: String,
    pub projection: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub attributes: Vec<(String, String)>,
    pub pk: String,
    pub sk: String,
    pub indexes: Vec<IndexDef>,
    pub ttl_attribute: String,
    pub stream_view: String,
}

fn key_schema(schema: &Value) -> (String, String) {
    let mut pk = String::new();
    let mut sk = String::new();
    for element in schema.as_sequence().into_iter().flatten() {
        match element["KeyType"].as_str() {
            Some("HASH") => pk = str_of(&element["AttributeName"]),
            Some("RANGE") => sk = str_of(&element["AttributeName"]),
            _ => {}
        }
    }
    (pk, sk)
}

pub fn table(template: &Value) -> TableDef {
    let table = resources(template)
        .values()
        .find(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .expect("the template has a table");
    let props = &table["Properties"];
    let attributes = props["AttributeDefinitions"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|a| (str_of(&a["AttributeName"]), str_of(&a["AttributeType"])))
        .collect();
    let (pk, sk) = key_schema(&props["KeySchema"]);
    let indexes = props["GlobalSecondaryIndexes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|g| {
            let (pk, sk) = key_schema(&g["KeySchema"]);
            IndexDef { name: str_of(&g["IndexName"]), pk, sk, projection: str_of(&g["Projection"]["ProjectionType"]) }
        })
        .collect();
    TableDef {
        attributes,
        pk,
        sk,
        indexes,
        ttl_attribute: str_of(&props["TimeToLiveSpecification"]["AttributeName"]),
        stream_view: str_of(&props["StreamSpecification"]["StreamViewType"]),
    }
}

/// Every (method, path, binary) served by the template's functions.
pub fn routes(template: &Value) -> BTreeSet<(String, String, String)> {
    let mut routes = BTreeSet::new();
    for resource in resources(template).values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = str_of(&resource["Metadata"]["BuildProperties"]["Binary"]);
        for event in resource["Properties"]["Events"].as_mapping().into_iter().flat_map(|m| m.values()) {
            if event["Type"].as_str() == Some("HttpApi") {
                let p = &event["Properties"];
                routes.insert((str_of(&p["Method"]).to_uppercase(), str_of(&p["Path"]), binary.clone()));
            }
        }
    }
    routes
}

/// What each function's policy allows: binary -> (actions, whether index ARNs are included).
pub fn policies(template: &Value) -> std::collections::BTreeMap<String, (BTreeSet<String>, bool)> {
    let mut out = std::collections::BTreeMap::new();
    for resource in resources(template).values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = str_of(&resource["Metadata"]["BuildProperties"]["Binary"]);
        let (mut actions, mut indexes) = (BTreeSet::new(), false);
        for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                if statement["Effect"].as_str() != Some("Allow") {
                    continue;
                }
                for action in statement["Action"].as_sequence().into_iter().flatten() {
                    actions.insert(str_of(action));
                }
                indexes |= serde_yaml::to_string(&statement["Resource"]).unwrap_or_default().contains("/index/");
            }
        }
        out.insert(binary, (actions, indexes));
    }
    out
}

/// Functions whose policy denies every read and write of the items under partition key `pk`.
pub fn denied_partition(template: &Value, pk: &str) -> BTreeSet<String> {
    let every = ["GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"];
    denying(template, &every, "ForAnyValue:StringEquals", pk)
}

/// Functions whose policy denies reading (GetItem, BatchGetItem, Query) the items whose
/// partition key matches `pattern` (an IAM `StringLike` pattern such as `WHSECRET#*`).
pub fn denied_reads(template: &Value, pattern: &str) -> BTreeSet<String> {
    denying(template, &["GetItem", "BatchGetItem", "Query"], "ForAnyValue:StringLike", pattern)
}

/// Functions with a Deny statement of at least `actions` (DynamoDB's) on the partition keys
/// that `operator` matches with `key`.
fn denying(template: &Value, actions: &[&str], operator: &str, key: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for resource in resources(template).values() {
        let statements = resource["Properties"]["Policies"].as_sequence().into_iter().flatten();
        let denies = statements.flat_map(|p| p["Statement"].as_sequence().into_iter().flatten()).any(|s| {
            let listed: BTreeSet<String> = s["Action"].as_sequence().into_iter().flatten().map(str_of).collect();
            s["Effect"].as_str() == Some("Deny")
                && actions.iter().all(|a| listed.contains(&format!("dynamodb:{a}")))
                && s["Condition"][operator]["dynamodb:LeadingKeys"]
                    .as_sequence()
                    .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(key)))
        });
        if denies {
            out.insert(str_of(&resource["Metadata"]["BuildProperties"]["Binary"]));
        }
    }
    out
}

/// Binaries (functions) the template builds.
pub fn binaries(template: &Value) -> Vec<String> {
    resources(template)
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| str_of(&r["Metadata"]["BuildProperties"]["Binary"]))
        .collect()
}

/// The memory (MB) the template configures for function `binary`: its own or the global one.
pub fn memory_mb(template: &Value, binary: &str) -> u64 {
    let function = resources(template)
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .unwrap_or_else(|| panic!("no function builds {binary}"));
    function["Properties"]["MemorySize"]
        .as_u64()
        .or_else(|| template["Globals"]["Function"]["MemorySize"].as_u64())
        .unwrap_or(128)
}

/// The environment the template gives a function (`Globals` merged with its own), with each
/// `!Ref` resolved by `resolve` (parameters and resources have no local value of their own).
/// Panics on a reference `resolve` does not know, so a new one cannot go untested.
pub fn environment(
    template: &Value,
    binary: &str,
    resolve: impl Fn(&str) -> Option<String>,
) -> std::collections::BTreeMap<String, String> {
    let function = resources(template)
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .unwrap_or_else(|| panic!("no function builds {binary}"));
    let global = &template["Globals"]["Function"]["Environment"]["Variables"];
    let own = &function["Properties"]["Environment"]["Variables"];
    let mut env = std::collections::BTreeMap::new();
    for variables in [global, own] {
        for (name, value) in variables.as_mapping().into_iter().flatten() {
            let value = match value {
                Value::Tagged(tagged) if tagged.tag == "Ref" => {
                    let name = str_of(&tagged.value);
                    resolve(&name).unwrap_or_else(|| panic!("no local value for !Ref {name}"))
                }
                Value::Tagged(tagged) => panic!("unsupported {} in an environment variable", tagged.tag),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => str_of(other),
            };
            env.insert(str_of(name), value);
        }
    }
    env
}

fn key_elements(pk: &str, sk: &str) -> Vec<KeySchemaElement> {
    [(pk, KeyType::Hash), (sk, KeyType::Range)]
        .into_iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("key element")
        })
        .collect()
}

/// Creates a table exactly as the template defines it, with its stream, and turns on TTL.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), aws_sdk_dynamodb::Error> {
    let def = table(&load());
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_elements(&def.pk, &def.sk)))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(def.stream_view.as_str()))
                .build()
                .expect("stream spec"),
        );
    for (name, kind) in &def.attributes {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .expect("attribute definition"),
        );
    }
    for index in &def.indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_elements(&index.pk, &index.sk)))
                .projection(
                    Projection::builder().projection_type(ProjectionType::from(index.projection.as_str())).build(),
                )
                .build()
                .expect("index"),
        );
    }
    create.send().await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .attribute_name(&def.ttl_attribute)
                .enabled(true)
                .build()
                .expect("ttl spec"),
        )
        .send()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::routes::ROUTES;
    use helpdesk::table::{GSIS, PK, SK, TTL_ATTRIBUTE};

    #[test]
    fn the_code_sees_the_table_the_template_defines() {
        let def = table(&load());
        assert_eq!((def.pk.as_str(), def.sk.as_str()), (PK, SK));
        assert_eq!(def.ttl_attribute, TTL_ATTRIBUTE);
        assert_eq!(def.stream_view, "NEW_AND_OLD_IMAGES");
        let from_template: Vec<_> =
            def.indexes.iter().map(|i| (i.name.as_str(), i.pk.as_str(), i.sk.as_str())).collect();
        let from_code: Vec<_> = GSIS.iter().map(|g| (g.name, g.pk, g.sk)).collect();
        assert_eq!(from_template, from_code);
        let projections: Vec<_> = def.indexes.iter().map(|i| i.projection.as_str()).collect();
        let expected: Vec<_> = GSIS.iter().map(|g| if g.keys_only { "KEYS_ONLY" } else { "ALL" }).collect();
        assert_eq!(projections, expected);
        // Every key attribute is declared, as a string, and nothing else is.
        let mut declared: Vec<_> = def.attributes.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let mut keys: Vec<_> =
            [PK, SK].into_iter().chain(GSIS.iter().flat_map(|g| [g.pk, g.sk])).map(|n| (n, "S")).collect();
        declared.sort();
        keys.sort();
        assert_eq!(declared, keys);
    }

    #[test]
    fn only_the_functions_that_sign_may_touch_the_signing_keys() {
        let template = load();
        let mut others: BTreeSet<String> = binaries(&template).into_iter().collect();
        // Public links and reply addresses are signed or checked by these alone.
        for signer in [helpdesk::routes::WEB, "inbound", "notifier"] {
            assert!(others.remove(signer), "{signer} is a function of the template");
        }
        assert_eq!(denied_partition(&template, helpdesk::items::SIGNING_KEYS_PK), others);
    }

    #[test]
    fn only_the_webhook_sender_reads_webhook_secrets() {
        let template = load();
        let mut others: BTreeSet<String> = binaries(&template).into_iter().collect();
        assert!(others.remove("webhooks"), "the sender is a function of the template");
        let pattern = format!("{}*", helpdesk::items::WEBHOOK_SECRET_PREFIX);
        assert_eq!(denied_reads(&template, &pattern), others);
    }

    #[test]
    fn the_gateway_serves_exactly_the_template_routes() {
        let from_code: BTreeSet<_> =
            ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string())).collect();
        let mut from_template = routes(&load());
        let fallback = ("ANY".to_string(), "$default".to_string(), helpdesk::routes::FALLBACK.to_string());
        assert!(from_template.remove(&fallback), "what no route matches goes to the fallback function");
        assert_eq!(from_template, from_code);
    }
}
