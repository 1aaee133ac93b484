//! A request's field values: checked against its form (every problem at once, in the form's
//! order, in plain words), taken typed from JSON (a checkbox as `true`), and shown as their
//! field's type says (a checkbox as "Yes", a date as "23 November 2026").

use crate::domain::email::EmailAddress;
use crate::error::{ApiError, FieldProblem};
use crate::model::{FieldKind, Form, FormField};
use crate::text::{text_fault, TextFault};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

const MAX_TEXT: usize = 1000;
const MAX_TEXTAREA: usize = 32_000;

/// Checks `values` against `form`: no unknown field, each value of its field's type, every
/// required field present. Returns the values as stored (trimmed, checkboxes as
/// `true`/`false`, addresses normalised, empty optional fields dropped), or every problem.
pub fn check_fields(form: &Form, values: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ApiError> {
    into_result(field_problems(form, values, true))
}

/// Values checked as `check_fields` does, but required fields may be left empty: a channel
/// that cannot ask for them (an email) still opens the request, and an agent fills them in.
pub fn check_fields_may_lack(
    form: &Form,
    values: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    into_result(field_problems(form, values, false))
}

fn into_result(
    (stored, problems): (BTreeMap<String, String>, Vec<FieldProblem>),
) -> Result<BTreeMap<String, String>, ApiError> {
    match problems.is_empty() {
        true => Ok(stored),
        false => Err(ApiError::Fields(problems)),
    }
}

/// The stored values and the problems of `values`: the form's fields in its order, then
/// values for fields it does not have.
pub fn field_problems(
    form: &Form,
    values: &BTreeMap<String, String>,
    enforce_required: bool,
) -> (BTreeMap<String, String>, Vec<FieldProblem>) {
    let mut stored = BTreeMap::new();
    let mut problems = vec![];
    for field in &form.fields {
        let raw = values.get(&field.key).map(|v| v.trim()).unwrap_or("");
        match check_value(field, raw) {
            Ok(value) => {
                let empty = value.is_empty() || (field.kind == FieldKind::Checkbox && value == "false");
                if enforce_required && field.required && empty {
                    problems.push(problem(field, "required_field", required_message(field)));
                } else if !value.is_empty() {
                    stored.insert(field.key.clone(), value);
                }
            }
            Err((code, message)) => problems.push(problem(field, code, message)),
        }
    }
    for key in values.keys().filter(|k| !form.fields.iter().any(|f| &f.key == *k)) {
        let message = format!("The form \"{}\" has no field \"{key}\"", form.name);
        problems.push(FieldProblem::new(format!("fields.{key}"), "unknown_field", message));
    }
    (stored, problems)
}

fn problem(field: &FormField, code: &'static str, message: String) -> FieldProblem {
    FieldProblem::new(format!("fields.{}", field.key), code, message)
}

fn required_message(field: &FormField) -> String {
    let label = &field.label;
    match field.kind {
        FieldKind::Select => format!("Choose an answer for \"{label}\""),
        FieldKind::Checkbox => format!("Tick \"{label}\" to send this form"),
        _ => format!("Fill in \"{label}\""),
    }
}

/// A value as stored, or why it is not one of its field's type.
fn check_value(field: &FormField, raw: &str) -> Result<String, (&'static str, String)> {
    let label = &field.label;
    let invalid = |message: String| Err(("invalid_field_value", message));
    match field.kind {
        FieldKind::Checkbox => match raw {
            "true" | "on" | "1" => Ok("true".into()),
            "false" | "0" | "" => Ok("false".into()),
            _ => invalid(format!("\"{label}\" is ticked or not: true or false")),
        },
        _ if raw.is_empty() => Ok(String::new()),
        FieldKind::Text | FieldKind::Textarea => {
            let multiline = field.kind == FieldKind::Textarea;
            let max = if multiline { MAX_TEXTAREA } else { MAX_TEXT };
            match text_fault(raw, max, multiline, false) {
                None => Ok(raw.to_string()),
                Some(fault) => Err(("invalid_field", text_message(&format!("\"{label}\""), fault, max, multiline))),
            }
        }
        FieldKind::Select if field.options.iter().any(|o| o == raw) => Ok(raw.to_string()),
        FieldKind::Select => invalid(format!("Choose one of the answers for \"{label}\"")),
        FieldKind::Email => EmailAddress::parse(raw)
            .map(|a| a.to_string())
            .or_else(|_| invalid(format!("Enter an email address for \"{label}\", like name@example.com"))),
        FieldKind::Date if parse_date(raw).is_some() => Ok(raw.to_string()),
        FieldKind::Date => invalid(format!("Enter \"{label}\" as a date, like 2026-11-23")),
    }
}

/// A text's problem in plain words; `what` names it ("the summary", "\"Asset tag\"").
pub fn text_message(what: &str, fault: TextFault, max: usize, multiline: bool) -> String {
    match fault {
        TextFault::Empty => format!("Fill in {what}"),
        TextFault::TooLong => format!("Shorten {what} to {max} characters or fewer"),
        TextFault::Control if multiline => format!("Remove the special characters from {what}"),
        TextFault::Control => format!("Write {what} on one line, without special characters"),
    }
}

fn parse_date(value: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (value.len() == 10).then(|| time::Date::parse(value, format).ok()).flatten()
}

/// A JSON value for a field: a string as before, or typed (a checkbox's `true`, a number).
#[derive(Deserialize)]
#[serde(untagged)]
enum Typed {
    Text(String),
    Flag(bool),
    Number(serde_json::Number),
}

impl Typed {
    fn into_text(self) -> String {
        match self {
            Typed::Text(s) => s,
            Typed::Flag(b) => b.to_string(),
            Typed::Number(n) => n.to_string(),
        }
    }
}

/// Field values from JSON, each a string, a boolean or a number, taken as their text
/// (`true` as "true"): the form's check then decides whether it fits its field.
pub fn typed_values<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let typed = BTreeMap::<String, Typed>::deserialize(d)?;
    Ok(typed.into_iter().map(|(k, v)| (k, v.into_text())).collect())
}

/// `typed_values` for a body where the values may be absent or null.
pub fn maybe_typed_values<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let typed = Option::<BTreeMap<String, Typed>>::deserialize(d)?;
    Ok(typed.map(|t| t.into_iter().map(|(k, v)| (k, v.into_text())).collect()))
}

/// A request's values as people read them, (label, value): the form's fields in its order,
/// each as its type says, then values of fields the form no longer has, labelled by key.
pub fn shown_fields(form: Option<&Form>, values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let on_form = form.map(|f| f.fields.as_slice()).unwrap_or_default();
    let mut shown: Vec<(String, String)> =
        on_form.iter().filter_map(|f| values.get(&f.key).map(|v| (f.label.clone(), shown_value(f, v)))).collect();
    for (key, value) in values.iter().filter(|(k, _)| !on_form.iter().any(|f| &f.key == *k)) {
        shown.push((format!("{key} (no longer on the form)"), value.clone()));
    }
    shown
}

fn shown_value(field: &FormField, value: &str) -> String {
    let readable = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    match field.kind {
        FieldKind::Checkbox if value == "true" => "Yes".into(),
        FieldKind::Checkbox if value == "false" => "No".into(),
        FieldKind::Date => parse_date(value).and_then(|d| d.format(readable).ok()).unwrap_or_else(|| value.into()),
        _ => value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, kind: FieldKind, required: bool, options: &[&str]) -> FormField {
        FormField {
            key: key.into(),
            label: key.to_uppercase(),
            kind,
            required,
            options: options.iter().map(|o| o.to_string()).collect(),
            help: None,
        }
    }

    fn form() -> Form {
        Form {
            id: "f".into(),
            name: "F".into(),
            description: String::new(),
            public: true,
            fields: vec![
                field("title", FieldKind::Text, true, &[]),
                field("notes", FieldKind::Textarea, false, &[]),
                field("severity", FieldKind::Select, false, &["low", "high"]),
                field("urgent", FieldKind::Checkbox, false, &[]),
                field("contact", FieldKind::Email, false, &[]),
                field("since", FieldKind::Date, false, &[]),
            ],
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_field_type_takes_its_values_and_names_the_field_otherwise() {
        let ok = check_fields(
            &form(),
            &values(&[
                ("title", " Printer "),
                ("notes", "line 1\nline 2"),
                ("severity", "high"),
                ("urgent", "on"),
                ("contact", "Ann@Example.com"),
                ("since", "2026-11-23"),
            ]),
        )
        .unwrap();
        assert_eq!(ok["title"], "Printer");
        assert_eq!(ok["urgent"], "true");
        assert_eq!(ok["contact"], "ann@example.com");
        let bad = |pairs: &[(&str, &str)]| check_fields(&form(), &values(pairs)).unwrap_err();
        for (pairs, code, key) in [
            (&[("title", "x"), ("color", "red")][..], "unknown_field", "fields.color"),
            (&[("notes", "x")][..], "required_field", "fields.title"),
            (&[("title", "x"), ("severity", "medium")][..], "invalid_field_value", "fields.severity"),
            (&[("title", "x"), ("urgent", "maybe")][..], "invalid_field_value", "fields.urgent"),
            (&[("title", "x"), ("contact", "nobody")][..], "invalid_field_value", "fields.contact"),
            (&[("title", "x"), ("since", "2026-02-30")][..], "invalid_field_value", "fields.since"),
            (&[("title", "a\nb")][..], "invalid_field", "fields.title"),
        ] {
            let err = bad(pairs);
            assert_eq!(err.code(), code, "{pairs:?}");
            assert!(err.public_message().starts_with(key), "{pairs:?}: {}", err.public_message());
        }
    }

    #[test]
    fn every_problem_comes_at_once_in_the_forms_order() {
        let err = check_fields(&form(), &values(&[("zzz", "1"), ("since", "soon"), ("severity", "medium")]));
        let Err(ApiError::Fields(problems)) = err else { panic!("{err:?}") };
        let fields: Vec<_> = problems.iter().map(|p| (p.field.as_str(), p.code)).collect();
        assert_eq!(
            fields,
            [
                ("fields.title", "required_field"),
                ("fields.severity", "invalid_field_value"),
                ("fields.since", "invalid_field_value"),
                ("fields.zzz", "unknown_field"),
            ]
        );
        assert_eq!(problems[0].message, "Fill in \"TITLE\"");
        assert_eq!(problems[1].message, "Choose one of the answers for \"SEVERITY\"");
    }

    #[test]
    fn values_show_in_the_forms_order_as_their_type_says() {
        let stored = values(&[("urgent", "true"), ("since", "2026-11-03"), ("gone", "x"), ("title", "T")]);
        let shown = shown_fields(Some(&form()), &stored);
        let pairs: Vec<_> = shown.iter().map(|(l, v)| (l.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [("TITLE", "T"), ("URGENT", "Yes"), ("SINCE", "3 November 2026"), ("gone (no longer on the form)", "x")]
        );
        assert_eq!(shown_fields(Some(&form()), &values(&[("urgent", "false")]))[0].1, "No");
    }

    #[test]
    fn json_values_may_be_typed() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(deserialize_with = "typed_values")]
            fields: BTreeMap<String, String>,
        }
        let body: Body = serde_json::from_str(r#"{"fields": {"a": true, "b": "x", "c": 3, "d": false}}"#).unwrap();
        assert_eq!(body.fields, values(&[("a", "true"), ("b", "x"), ("c", "3"), ("d", "false")]));
        assert!(serde_json::from_str::<Body>(r#"{"fields": {"a": [1]}}"#).is_err());
    }
}
