//! Automations as data: what a project's rules look like, how a rule is checked when an admin
//! saves it, and the three rules every project starts with (switched off).

use crate::domain::tags::check_tag;
use crate::error::ApiError;
use crate::model::{Priority, RequestStatus};
use crate::text::check_text;
use serde::{Deserialize, Serialize};

pub const MAX_RULES: usize = 50;
pub const MAX_CONDITIONS: usize = 10;
pub const MAX_ACTIONS: usize = 10;
pub const MAX_MAIL_BODY: usize = 4_000;
/// The longest idle time a time rule waits: a year.
const MAX_IDLE_SECS: i64 = 366 * 24 * 3600;

/// What a rule listens for: the events webhooks name too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Trigger {
    #[serde(rename = "request.created")]
    RequestCreated,
    #[serde(rename = "comment.customer")]
    CommentCustomer,
    #[serde(rename = "comment.agent")]
    CommentAgent,
    #[serde(rename = "status.changed")]
    StatusChanged,
    #[serde(rename = "sla.warning")]
    SlaWarning,
    #[serde(rename = "sla.breach")]
    SlaBreach,
    /// A request idle in a status for a while, found by the scheduler.
    #[serde(rename = "time")]
    Time,
}

impl Trigger {
    pub const ALL: [Trigger; 7] = [
        Trigger::RequestCreated,
        Trigger::CommentCustomer,
        Trigger::CommentAgent,
        Trigger::StatusChanged,
        Trigger::SlaWarning,
        Trigger::SlaBreach,
        Trigger::Time,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::RequestCreated => "request.created",
            Trigger::CommentCustomer => "comment.customer",
            Trigger::CommentAgent => "comment.agent",
            Trigger::StatusChanged => "status.changed",
            Trigger::SlaWarning => "sla.warning",
            Trigger::SlaBreach => "sla.breach",
            Trigger::Time => "time",
        }
    }
    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionField {
    Form,
    Priority,
    Status,
    Tag,
    Organization,
    /// How the request came in: `email`, `portal`, `api`.
    Channel,
    RequesterDomain,
    /// The summary, description and (for a comment event) the comment's text.
    Text,
    /// An agent's address, or `none`.
    Assignee,
}

impl ConditionField {
    pub const ALL: [ConditionField; 9] = [
        ConditionField::Form,
        ConditionField::Priority,
        ConditionField::Status,
        ConditionField::Tag,
        ConditionField::Organization,
        ConditionField::Channel,
        ConditionField::RequesterDomain,
        ConditionField::Text,
        ConditionField::Assignee,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionField::Form => "form",
            ConditionField::Priority => "priority",
            ConditionField::Status => "status",
            ConditionField::Tag => "tag",
            ConditionField::Organization => "organization",
            ConditionField::Channel => "channel",
            ConditionField::RequesterDomain => "requester_domain",
            ConditionField::Text => "text",
            ConditionField::Assignee => "assignee",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    Is,
    IsNot,
    Contains,
}

impl ConditionOp {
    pub const ALL: [ConditionOp; 3] = [ConditionOp::Is, ConditionOp::IsNot, ConditionOp::Contains];
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOp::Is => "is",
            ConditionOp::IsNot => "is_not",
            ConditionOp::Contains => "contains",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCondition {
    pub field: ConditionField,
    pub op: ConditionOp,
    pub value: String,
}

/// One step of a rule, written like a macro's actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AutomationAction {
    /// To the agent with this address, or (`auto: true`) by the project's assignment mode.
    Assign {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        auto: bool,
    },
    SetPriority {
        priority: Priority,
    },
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    SetStatus {
        status: RequestStatus,
    },
    AddInternalNote {
        body: String,
    },
    /// A text emailed to the requester (with their reply address and link).
    SendAcknowledgement {
        body: String,
    },
    /// The same, worded as a reminder of a question waiting for them.
    SendReminder {
        body: String,
    },
    /// Tells one of the project's webhook targets of the event.
    Webhook {
        id: String,
    },
}

impl AutomationAction {
    pub fn name(&self) -> &'static str {
        match self {
            AutomationAction::Assign { .. } => "assign",
            AutomationAction::SetPriority { .. } => "set_priority",
            AutomationAction::AddTag { .. } => "add_tag",
            AutomationAction::RemoveTag { .. } => "remove_tag",
            AutomationAction::SetStatus { .. } => "set_status",
            AutomationAction::AddInternalNote { .. } => "add_internal_note",
            AutomationAction::SendAcknowledgement { .. } => "send_acknowledgement",
            AutomationAction::SendReminder { .. } => "send_reminder",
            AutomationAction::Webhook { .. } => "webhook",
        }
    }
}

/// One rule: when `on` happens to a request that meets every condition, the actions run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Automation {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub on: Trigger,
    /// Time rules: the status the request must be in ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RequestStatus>,
    /// ... and for how long since its last public activity (`3d`, `12h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<String>,
    #[serde(default)]
    pub conditions: Vec<RuleCondition>,
    pub actions: Vec<AutomationAction>,
}

/// A project's rules, in one item. A project that never changed them has the initial ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectAutomations {
    pub project: String,
    pub rules: Vec<Automation>,
    pub version: u64,
}

pub const ACKNOWLEDGE: &str = "acknowledge-new-requests";
pub const REMIND_PENDING: &str = "remind-after-3-days-pending";
pub const CLOSE_PENDING: &str = "close-after-7-days-pending";

impl ProjectAutomations {
    /// Every project starts with these, switched off (PRODUCT.md, Automations).
    pub fn initial(project: &str) -> ProjectAutomations {
        let rule = |id: &str, name: &str, on, status, idle: Option<&str>, actions| Automation {
            id: id.into(),
            name: name.into(),
            enabled: false,
            on,
            status,
            idle: idle.map(str::to_string),
            conditions: vec![],
            actions,
        };
        ProjectAutomations {
            project: project.into(),
            rules: vec![
                rule(
                    ACKNOWLEDGE,
                    "Acknowledge new requests",
                    Trigger::RequestCreated,
                    None,
                    None,
                    vec![AutomationAction::SendAcknowledgement {
                        body: "Thank you for writing to us. We have your request and will answer as soon as we can. \
                               You can add anything by replying to this email."
                            .into(),
                    }],
                ),
                rule(
                    REMIND_PENDING,
                    "Remind the customer after 3 days pending",
                    Trigger::Time,
                    Some(RequestStatus::Pending),
                    Some("3d"),
                    vec![AutomationAction::SendReminder {
                        body: "We are still waiting for your answer to our last message. Reply to this email and we \
                               will pick it up from there."
                            .into(),
                    }],
                ),
                rule(
                    CLOSE_PENDING,
                    "Close after 7 days pending",
                    Trigger::Time,
                    Some(RequestStatus::Pending),
                    Some("7d"),
                    vec![AutomationAction::SetStatus { status: RequestStatus::Closed }],
                ),
            ],
            version: 0,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Automation> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The enabled time rules: what the scheduler looks for.
    pub fn time_rules(&self) -> impl Iterator<Item = &Automation> {
        self.rules.iter().filter(|r| r.enabled && r.on == Trigger::Time)
    }
}

/// `3d`, `12h`: calendar days and hours (1 hour to a year), as seconds.
pub fn idle_seconds(text: &str) -> Option<i64> {
    let unit = match text.chars().last()? {
        'h' => 3600,
        'd' => 24 * 3600,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = digits.parse::<i64>().ok()? * unit;
    (3600..=MAX_IDLE_SECS).contains(&seconds).then_some(seconds)
}

fn invalid(message: String) -> ApiError {
    ApiError::invalid("invalid_automation", message)
}

/// Checks a rule's shape and cleans it (trimmed name, normalised tags). Whether an action
/// applies to a given request (an agent who left, a webhook removed) is decided when it runs.
pub fn check_rule(mut rule: Automation) -> Result<Automation, ApiError> {
    check_text("name", &rule.name, 100, false, true)?;
    rule.name = rule.name.trim().to_string();
    match (rule.on, rule.status, rule.idle.as_deref()) {
        (Trigger::Time, Some(RequestStatus::Open | RequestStatus::Pending), Some(idle)) => {
            if idle_seconds(idle).is_none() {
                return Err(invalid(format!("idle: {idle:?} is not a time such as 3d or 12h (1h to 366d)")));
            }
        }
        (Trigger::Time, _, _) => {
            return Err(invalid("a time rule names a status (open or pending) and an idle time such as 3d".into()))
        }
        (_, None, None) => {}
        _ => return Err(invalid("status and idle belong to time rules (on: \"time\") only".into())),
    }
    if rule.conditions.len() > MAX_CONDITIONS {
        return Err(invalid(format!("at most {MAX_CONDITIONS} conditions")));
    }
    for (i, condition) in rule.conditions.iter_mut().enumerate() {
        let at = |why: String| invalid(format!("condition {} ({}): {why}", i + 1, condition.field.as_str()));
        let value = condition.value.trim().to_lowercase();
        if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
            return Err(at("give a value of 1 to 200 characters".into()));
        }
        let known = match condition.field {
            ConditionField::Priority => Priority::parse(&value).is_some(),
            ConditionField::Status => RequestStatus::parse(&value).is_some(),
            ConditionField::Channel => ["email", "portal", "api"].contains(&value.as_str()),
            _ => true,
        };
        if !known && condition.op != ConditionOp::Contains {
            return Err(at(format!("{value:?} is not one of its values")));
        }
        condition.value = value;
    }
    if rule.actions.is_empty() || rule.actions.len() > MAX_ACTIONS {
        return Err(invalid(format!("actions: 1 to {MAX_ACTIONS}")));
    }
    for (i, action) in rule.actions.iter_mut().enumerate() {
        let name = action.name();
        let at = |why: ApiError| invalid(format!("action {} ({name}): {}", i + 1, why.public_message()));
        match action {
            AutomationAction::Assign { agent, auto } => {
                if agent.is_some() == *auto {
                    return Err(at(ApiError::invalid("invalid_field", "give an agent's address or auto: true")));
                }
                if let Some(agent) = agent {
                    *agent = crate::domain::email::EmailAddress::parse(agent).map_err(at)?.to_string();
                }
            }
            AutomationAction::AddTag { tag } | AutomationAction::RemoveTag { tag } => {
                *tag = check_tag(tag).map_err(at)?;
            }
            AutomationAction::AddInternalNote { body } => {
                check_text("body", body, crate::domain::requests::MAX_COMMENT, true, true).map_err(at)?
            }
            AutomationAction::SendAcknowledgement { body } | AutomationAction::SendReminder { body } => {
                check_text("body", body, MAX_MAIL_BODY, true, true).map_err(at)?
            }
            AutomationAction::Webhook { id } => check_text("id", id, 64, false, true).map_err(at)?,
            AutomationAction::SetPriority { .. } | AutomationAction::SetStatus { .. } => {}
        }
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> Result<Automation, String> {
        let parsed: Automation = serde_json::from_value(json).map_err(|e| e.to_string())?;
        check_rule(parsed).map_err(|e| e.public_message())
    }

    #[test]
    fn idle_times_are_days_or_hours() {
        assert_eq!(idle_seconds("3d"), Some(3 * 86_400));
        assert_eq!(idle_seconds("12h"), Some(12 * 3600));
        for bad in ["", "d", "0h", "3", "3m", "1.5d", "-1d", "367d", "99999h"] {
            assert_eq!(idle_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_initial_rules_are_off_and_valid() {
        let initial = ProjectAutomations::initial("HD");
        let ids: Vec<_> = initial.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [ACKNOWLEDGE, REMIND_PENDING, CLOSE_PENDING]);
        assert!(initial.rules.iter().all(|r| !r.enabled));
        for r in initial.rules {
            assert_eq!(check_rule(r.clone()).unwrap(), r);
        }
    }

    #[test]
    fn rules_are_checked_with_reasons() {
        let base = |extra: serde_json::Value| {
            let mut v = serde_json::json!({"id": "x", "name": " Urgent ", "enabled": true, "on": "request.created",
                "actions": [{"type": "set_priority", "priority": "urgent"}]});
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        assert_eq!(rule(base(serde_json::json!({}))).unwrap().name, "Urgent");
        let cleaned =
            rule(base(serde_json::json!({"conditions": [{"field": "priority", "op": "is", "value": " HIGH "}],
            "actions": [{"type": "add_tag", "tag": " VIP "}, {"type": "assign", "agent": "Ann@Example.com"}]})))
            .unwrap();
        assert_eq!(cleaned.conditions[0].value, "high");
        assert_eq!(cleaned.actions[0], AutomationAction::AddTag { tag: "vip".into() });
        assert_eq!(cleaned.actions[1], AutomationAction::Assign { agent: Some("ann@example.com".into()), auto: false });
        let wrong = |extra| rule(base(extra)).unwrap_err();
        assert!(wrong(serde_json::json!({"actions": []})).contains("actions: 1 to"));
        assert!(wrong(serde_json::json!({"actions": [{"type": "assign"}]})).contains("auto: true"));
        assert!(wrong(serde_json::json!({"actions": [{"type": "add_tag", "tag": "no spaces"}]}))
            .contains("action 1 (add_tag)"));
        assert!(wrong(serde_json::json!({"conditions": [{"field": "status", "op": "is", "value": "solved"}]}))
            .contains("condition 1 (status)"));
        assert!(wrong(serde_json::json!({"conditions": [{"field": "text", "op": "contains", "value": " "}]}))
            .contains("1 to 200"));
        assert!(wrong(serde_json::json!({"on": "time"})).contains("names a status"));
        assert!(wrong(serde_json::json!({"on": "time", "status": "pending", "idle": "3w"})).contains("3d or 12h"));
        assert!(wrong(serde_json::json!({"status": "pending"})).contains("time rules"));
        assert!(wrong(serde_json::json!({"on": "time", "status": "closed", "idle": "3d"})).contains("open or pending"));
        assert!(rule(base(serde_json::json!({"on": "ticket.created"}))).unwrap_err().contains("unknown variant"));
    }
}
