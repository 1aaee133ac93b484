//! What a change of the table means for automations, and whether a rule's conditions hold.
//! Pure: the stream function and the scheduler read and write; this only decides.

use super::rules::{Automation, ConditionField, ConditionOp, RuleCondition, Trigger};
use crate::model::{AuthorRole, Comment, Record, Request};

/// The author id of what automations write: their notes, and the marker of their changes.
pub const AUTOMATION_AUTHOR: &str = "automation";

/// One event on one request.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoEvent {
    pub trigger: Trigger,
    pub request_key: String,
    /// Names the event on its request: a rule fires once per (rule, request, id).
    pub id: String,
    /// The public comment that made a comment event.
    pub comment: Option<Comment>,
}

impl AutoEvent {
    fn on(trigger: Trigger, request: &Request, id: String) -> AutoEvent {
        AutoEvent { trigger, request_key: request.key.clone(), id, comment: None }
    }
}

/// Whether automations made this version of the request: what they write never triggers
/// automations again.
pub fn made_by_automation(request: &Request) -> bool {
    request.automated_version == Some(request.version)
}

/// The events a change of one item means. Held requests mean nothing until released (then
/// they are new); a request's change may mean a status change and clock events at once.
pub fn events_of(old: Option<&Record>, new: Option<&Record>) -> Vec<AutoEvent> {
    match (old, new) {
        (None, Some(Record::Request(r))) if !r.held => {
            vec![AutoEvent::on(Trigger::RequestCreated, r, "created".into())]
        }
        (Some(Record::Request(before)), Some(Record::Request(r))) if !r.held => {
            if before.held {
                return vec![AutoEvent::on(Trigger::RequestCreated, r, "created".into())];
            }
            let mut events = vec![];
            if before.status != r.status && !made_by_automation(r) {
                events.push(AutoEvent::on(Trigger::StatusChanged, r, format!("status.{}", r.version)));
            }
            for (warning, target, due) in crate::domain::notify::clock_marks(before, r) {
                let (trigger, name) =
                    if warning { (Trigger::SlaWarning, "slawarn") } else { (Trigger::SlaBreach, "slabreach") };
                events.push(AutoEvent::on(trigger, r, format!("{name}.{target}.{due}")));
            }
            events
        }
        (None, Some(Record::Comment(c)))
            if !c.internal && c.author_id != AUTOMATION_AUTHOR && c.merged_from.is_none() =>
        {
            let trigger = match c.author_role {
                Some(AuthorRole::Team) => Trigger::CommentAgent,
                Some(AuthorRole::Customer) | None => Trigger::CommentCustomer,
            };
            vec![AutoEvent {
                trigger,
                request_key: c.request_key.clone(),
                id: format!("comment.{}", c.id),
                comment: Some(c.clone()),
            }]
        }
        _ => vec![],
    }
}

/// Whether every condition of `rule` holds for `request` (as it is now) and the event.
pub fn matches(rule: &Automation, request: &Request, event: &AutoEvent) -> bool {
    rule.enabled && rule.on == event.trigger && rule.conditions.iter().all(|c| holds(c, request, event))
}

fn holds(condition: &RuleCondition, request: &Request, event: &AutoEvent) -> bool {
    let value = condition.value.as_str();
    // Every value the field has (a request has several tags; the others one, or none).
    let values: Vec<String> = match condition.field {
        ConditionField::Form => request.form.iter().cloned().collect(),
        ConditionField::Priority => vec![request.priority.as_str().into()],
        ConditionField::Status => vec![request.status.as_str().into()],
        ConditionField::Tag => request.tags.clone(),
        ConditionField::Organization => request.organization.iter().map(|o| o.to_lowercase()).collect(),
        ConditionField::Channel => request.channel.iter().cloned().collect(),
        ConditionField::RequesterDomain => {
            request.reporter_email.as_str().rsplit_once('@').map(|(_, d)| d.to_string()).into_iter().collect()
        }
        ConditionField::Text => {
            let mut text = format!("{}\n{}", request.summary, request.description);
            if let Some(c) = &event.comment {
                text.push('\n');
                text.push_str(&c.body);
            }
            vec![text.to_lowercase()]
        }
        ConditionField::Assignee => {
            vec![request.assignee.as_ref().map_or_else(|| "none".to_string(), |a| a.email.to_string())]
        }
    };
    let values: Vec<String> = values.into_iter().map(|v| v.to_lowercase()).collect();
    match condition.op {
        ConditionOp::Is => values.iter().any(|v| v == value),
        ConditionOp::IsNot => !values.iter().any(|v| v == value),
        ConditionOp::Contains => values.iter().any(|v| v.contains(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RequestStatus;

    fn request() -> Request {
        let mut r = crate::testing::open_request("HD-1", "u1", 1_000);
        r.summary = "Printer on fire".into();
        r.description = "The office printer smokes".into();
        r.tags = vec!["hardware".into(), "vip".into()];
        r.channel = Some("email".into());
        r
    }

    fn rule(on: Trigger, conditions: &[(ConditionField, ConditionOp, &str)]) -> Automation {
        Automation {
            id: "r".into(),
            name: "r".into(),
            enabled: true,
            on,
            status: None,
            idle: None,
            conditions: conditions
                .iter()
                .map(|(field, op, value)| RuleCondition { field: *field, op: *op, value: value.to_string() })
                .collect(),
            actions: vec![],
        }
    }

    #[test]
    fn each_field_and_operator() {
        use ConditionField::*;
        use ConditionOp::*;
        let r = request();
        let created = events_of(None, Some(&Record::Request(r.clone()))).remove(0);
        let yes = |field, op, value| matches(&rule(Trigger::RequestCreated, &[(field, op, value)]), &r, &created);
        assert!(yes(Tag, Is, "vip") && !yes(Tag, IsNot, "vip") && yes(Tag, IsNot, "billing"));
        assert!(yes(Tag, Contains, "hard"));
        assert!(yes(Priority, Is, "normal") && !yes(Priority, Is, "urgent"));
        assert!(yes(Status, Is, "open"));
        assert!(yes(Channel, Is, "email") && !yes(Channel, Is, "portal"));
        assert!(yes(RequesterDomain, Is, "example.com"), "{}", r.reporter_email);
        assert!(yes(Text, Contains, "smokes") && !yes(Text, Contains, "invoice"));
        assert!(yes(Assignee, Is, "none"));
        assert!(yes(Form, IsNot, "billing"));
        assert!(!yes(Organization, Is, "acme") && yes(Organization, IsNot, "acme"));
        // Every condition must hold; a rule for another event or switched off never matches.
        let both = rule(Trigger::RequestCreated, &[(Tag, Is, "vip"), (Priority, Is, "urgent")]);
        assert!(!matches(&both, &r, &created));
        assert!(!matches(&rule(Trigger::StatusChanged, &[]), &r, &created));
        let off = Automation { enabled: false, ..rule(Trigger::RequestCreated, &[]) };
        assert!(!matches(&off, &r, &created));
        let mut urgent = r.clone();
        urgent.priority = crate::model::Priority::Urgent;
        assert!(matches(&both, &urgent, &created));
    }

    #[test]
    fn events_of_changes() {
        let r = request();
        let new = |r: &Request| Record::Request(r.clone());
        assert_eq!(events_of(None, Some(&new(&r)))[0].trigger, Trigger::RequestCreated);
        let mut held = r.clone();
        held.held = true;
        assert!(events_of(None, Some(&new(&held))).is_empty(), "held: nothing yet");
        assert_eq!(events_of(Some(&new(&held)), Some(&new(&r)))[0].trigger, Trigger::RequestCreated, "released");
        // A status change, unless automations made it.
        let mut pending = r.clone();
        pending.status = RequestStatus::Pending;
        pending.version = 2;
        let changed = events_of(Some(&new(&r)), Some(&new(&pending)));
        assert_eq!((changed[0].trigger, changed[0].id.as_str()), (Trigger::StatusChanged, "status.2"));
        pending.automated_version = Some(2);
        assert!(events_of(Some(&new(&r)), Some(&new(&pending))).is_empty());
        // The next change by someone else is theirs again.
        let mut reopened = pending.clone();
        reopened.status = RequestStatus::Open;
        reopened.version = 3;
        assert_eq!(events_of(Some(&new(&pending)), Some(&new(&reopened))).len(), 1);
        // Comments: public ones by role; internal notes and automations' own never.
        let comment = |role, internal, author: &str| Comment {
            request_key: "HD-1".into(),
            id: "C1".into(),
            author_id: author.into(),
            author_email: r.reporter_email.clone(),
            body: "Still smoking".into(),
            internal,
            created_at: 2_000,
            author_role: Some(role),
            author_name: None,
            merged_from: None,
        };
        let of = |c: Comment| events_of(None, Some(&Record::Comment(c)));
        assert_eq!(of(comment(AuthorRole::Customer, false, "u1"))[0].trigger, Trigger::CommentCustomer);
        assert_eq!(of(comment(AuthorRole::Team, false, "u2"))[0].trigger, Trigger::CommentAgent);
        assert!(of(comment(AuthorRole::Team, true, "u2")).is_empty());
        assert!(of(comment(AuthorRole::Team, false, AUTOMATION_AUTHOR)).is_empty());
        let event = of(comment(AuthorRole::Customer, false, "u1")).remove(0);
        let text = rule(Trigger::CommentCustomer, &[(ConditionField::Text, ConditionOp::Contains, "still")]);
        assert!(matches(&text, &r, &event), "a comment event's text includes the comment");
    }
}
