//! The service-level section of a project's settings page: its form, read into the same
//! `PATCH /projects/{key}` settings the API takes (checked there), and shown back.

use super::admin_views::SlaForm;
use crate::visitor::Form;
use helpdesk::model::{Priority, SlaSettings, SlaTargets};
use helpdesk::projects::ProjectPatch;
use std::collections::BTreeMap;

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// The form as shown: from the stored settings (or a weekday 9 to 5 in UTC to start from).
pub fn shown(settings: Option<&SlaSettings>) -> SlaForm {
    let hours = |day: &str| match settings {
        Some(s) => s.hours.get(day).cloned().unwrap_or_default(),
        None if day != "sat" && day != "sun" => vec!["09:00".into(), "17:00".into()],
        None => vec![],
    };
    let target = |p: Priority, pick: fn(&SlaTargets) -> &Option<String>| {
        settings.and_then(|s| s.targets.get(&p)).and_then(|t| pick(t).clone()).unwrap_or_default()
    };
    SlaForm {
        on: settings.is_some(),
        timezone: settings.map_or("UTC".into(), |s| s.timezone.clone()),
        days: DAYS
            .iter()
            .map(|(day, label)| {
                let h = hours(day);
                (
                    day.to_string(),
                    label.to_string(),
                    h.first().cloned().unwrap_or_default(),
                    h.get(1).cloned().unwrap_or_default(),
                )
            })
            .collect(),
        holidays: settings.map(|s| s.holidays.join("\n")).unwrap_or_default(),
        targets: Priority::ALL
            .iter()
            .rev()
            .map(|p| {
                let label = crate::desk::views::priority_label(*p).to_string();
                let [first, next, resolution] =
                    [target(*p, |t| &t.first_reply), target(*p, |t| &t.next_reply), target(*p, |t| &t.resolution)];
                (p.as_str().to_string(), label, first, next, resolution)
            })
            .collect(),
    }
}

/// What the admin typed, shown back after a refusal.
pub fn typed(form: &Form) -> SlaForm {
    let mut shown = shown(None);
    shown.on = form.get("sla_on") == "true";
    shown.timezone = form.get("timezone").to_string();
    for (day, _, open, close) in &mut shown.days {
        *open = form.get(&format!("{day}.open")).to_string();
        *close = form.get(&format!("{day}.close")).to_string();
    }
    shown.holidays = form.get("holidays").to_string();
    for (priority, _, first, next, resolution) in &mut shown.targets {
        *first = form.get(&format!("{priority}.first_reply")).to_string();
        *next = form.get(&format!("{priority}.next_reply")).to_string();
        *resolution = form.get(&format!("{priority}.resolution")).to_string();
    }
    shown
}

/// The patch the form means: service levels off, or these settings (empty fields: a closed
/// day, no target).
pub fn patch(form: &Form) -> ProjectPatch {
    if form.get("sla_on") != "true" {
        return ProjectPatch { sla: Some(None), ..Default::default() };
    }
    let some = |name: String| Some(form.get(&name).trim().to_string()).filter(|v| !v.is_empty());
    let mut hours = BTreeMap::new();
    for (day, _) in DAYS {
        let (open, close) = (some(format!("{day}.open")), some(format!("{day}.close")));
        if open.is_some() || close.is_some() {
            hours.insert(day.to_string(), [open, close].into_iter().flatten().collect());
        }
    }
    let mut targets = BTreeMap::new();
    for p in Priority::ALL {
        let name = |target: &str| some(format!("{}.{target}", p.as_str()));
        let t = SlaTargets {
            first_reply: name("first_reply"),
            next_reply: name("next_reply"),
            resolution: name("resolution"),
        };
        if t != SlaTargets::default() {
            targets.insert(p, t);
        }
    }
    let holidays = form.get("holidays").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    let sla = SlaSettings { timezone: form.get("timezone").trim().to_string(), hours, holidays, targets };
    ProjectPatch { sla: Some(Some(sla)), ..Default::default() }
}
