//! Key formats and item mapping: the one place that knows how records sit in the table.
//! See docs/access-patterns.md for the patterns these keys serve.

use crate::model::*;

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

impl ItemKey {
    fn new(pk: String, sk: &str) -> Self {
        ItemKey { pk, sk: sk.to_string() }
    }
}

pub fn user_key(user_id: &str) -> ItemKey {
    ItemKey::new(format!("USER#{user_id}"), "PROFILE")
}
pub fn email_key(email: impl AsRef<str>) -> ItemKey {
    ItemKey::new(format!("EMAIL#{}", email.as_ref()), "EMAIL")
}
pub fn magic_link_key(token_hash: &str) -> ItemKey {
    ItemKey::new(format!("MAGIC#{token_hash}"), "MAGIC")
}
pub fn session_key(token_hash: &str) -> ItemKey {
    ItemKey::new(format!("SESSION#{token_hash}"), "SESSION")
}
pub fn project_key(project: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), "META")
}
pub fn project_member_key(project: &str, user_id: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), &format!("MEMBER#{user_id}"))
}
pub fn request_key(request: &str) -> ItemKey {
    ItemKey::new(format!("REQ#{request}"), "META")
}
pub fn request_partition(request: &str) -> String {
    format!("{REQUEST_PARTITION_PREFIX}{request}")
}
/// What every request partition's key starts with (the stream consumers' filter).
pub const REQUEST_PARTITION_PREFIX: &str = "REQ#";
pub fn comment_key(request: &str, comment_id: &str) -> ItemKey {
    ItemKey::new(request_partition(request), &format!("{COMMENT_PREFIX}{comment_id}"))
}
pub const COMMENT_PREFIX: &str = "C#";
pub fn idempotency_key(user_id: &str, key_hash: &str) -> ItemKey {
    ItemKey::new(format!("IDEM#{user_id}#{key_hash}"), "IDEM")
}
pub fn participant_key(request: &str, user_id: &str) -> ItemKey {
    ItemKey::new(request_partition(request), &format!("PART#{user_id}"))
}
pub fn history_key(request: &str, entry_id: &str) -> ItemKey {
    ItemKey::new(request_partition(request), &format!("H#{entry_id}"))
}
pub fn request_tag_key(request: &str, tag: &str) -> ItemKey {
    ItemKey::new(request_partition(request), &format!("TAG#{tag}"))
}

pub fn tagged_partition(project: &str, tag: &str) -> String {
    format!("TAGGED#{project}#{tag}")
}

pub fn project_macros_key(project: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), "MACROS")
}

pub fn project_automations_key(project: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), "AUTOMATIONS")
}
/// When a rule last fired: one item per rule, beside the project's.
pub fn automation_fired_key(project: &str, rule: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), &format!("AUTOFIRED#{rule}"))
}
/// A rule fired on one event of one request.
pub fn automation_run_key(request: &str, rule: &str, event: &str) -> ItemKey {
    ItemKey::new(format!("AUTORUN#{request}"), &format!("{rule}#{event}"))
}
/// An automation's email, in the request's partition so the notifier's stream filter sees it.
pub fn auto_mail_key(request: &str, id: &str) -> ItemKey {
    ItemKey::new(request_partition(request), &format!("MAIL#{id}"))
}
pub fn time_rule_projects_key() -> ItemKey {
    ItemKey::new("APP#automations".to_string(), "TIMERULES")
}

/// A project's report counts: `<scope>#<day>` (scope `ALL` or `A#<agent>`).
pub fn stats_partition(project: &str) -> String {
    format!("STATS#{project}")
}
pub fn stats_counts_key(project: &str, scope: &str, day: &str) -> ItemKey {
    ItemKey::new(stats_partition(project), &format!("{scope}#{day}"))
}
/// What reports counted of each request of a project (outside the request partitions: the
/// stream consumers never see their own bookkeeping).
pub fn stats_ledger_partition(project: &str) -> String {
    format!("STATSREQ#{project}")
}
pub fn stats_ledger_key(project: &str, request: &str) -> ItemKey {
    ItemKey::new(stats_ledger_partition(project), request)
}

pub fn project_team_key(project: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), "TEAM")
}

pub fn project_forms_key(project: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), "FORMS")
}

pub fn project_customer_key(project: &str, user_id: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), &format!("CUSTOMER#{user_id}"))
}

/// Where a page of a project's customers starts: its `CUSTOMER#` items sort together in the
/// project's partition (after `AUTOMATIONS`, before `FORMS`), so a Query after this key reads
/// them in user id order, from the first (no user) or after `after_user`.
pub fn project_customers_after(project: &str, after_user: Option<&str>) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), &format!("CUSTOMER#{}", after_user.unwrap_or_default()))
}
pub fn managed_domains_key() -> ItemKey {
    ItemKey::new("APP#settings".to_string(), "MANAGED_DOMAINS")
}
pub fn org_key(org_id: &str) -> ItemKey {
    ItemKey::new(org_partition(org_id), "META")
}
pub fn org_partition(org_id: &str) -> String {
    format!("ORG#{org_id}")
}
pub fn org_member_key(org_id: &str, user_id: &str) -> ItemKey {
    ItemKey::new(org_partition(org_id), &format!("MEMBER#{user_id}"))
}
/// A project's organizations, listed for its agents (gsi1).
pub fn project_orgs_partition(project: &str) -> String {
    format!("ORGS#{project}")
}
pub fn org_requests_partition(org_id: &str) -> String {
    format!("ORGREQ#{org_id}")
}
pub fn audit_partition(user_id: &str) -> String {
    format!("AUDIT#{user_id}")
}
pub fn audit_key(user_id: &str, entry_id: &str) -> ItemKey {
    ItemKey::new(audit_partition(user_id), entry_id)
}
/// Every rule of one pattern, across scopes: what checks and reads find.
pub fn block_pattern_key(pattern: &str) -> ItemKey {
    ItemKey::new(format!("BLOCK#{pattern}"), "RULES")
}
/// One scope's list of rules: app-wide (`all`) or a project's.
pub fn blocklist_partition(project: Option<&str>) -> String {
    format!("BLOCKLIST#{}", project.unwrap_or("all"))
}
pub fn block_rule_key(project: Option<&str>, pattern: &str) -> ItemKey {
    ItemKey::new(blocklist_partition(project), pattern)
}
pub fn support_address_key(address: impl AsRef<str>) -> ItemKey {
    ItemKey::new(format!("SUPPORT#{}", address.as_ref()), "SUPPORT")
}
/// Whether `key` is a project key: 2-10 characters, A-Z first, then A-Z or 0-9 (what request
/// keys start with: `HD` gives `HD-42`).
pub fn is_project_key(key: &str) -> bool {
    (2..=10).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_uppercase())
        && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The project a request key belongs to: `HD-42` -> `HD`.
pub fn project_of(request: &str) -> Option<&str> {
    let (project, number) = request.rsplit_once('-')?;
    (!project.is_empty() && !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())).then_some(project)
}

/// A fixed-window counter: `scope` names what is limited, `window` the window's number.
/// The one item holding the signing keys. Other functions' policies deny reading it.
pub const SIGNING_KEYS_PK: &str = "SIGNKEYS";

pub fn signing_keys_key() -> ItemKey {
    ItemKey::new(SIGNING_KEYS_PK.to_string(), "SIGNKEYS")
}

/// A project's requests with a running clock, by their nearest due time.
pub fn due_partition(project: &str) -> String {
    format!("DUE#{project}")
}

/// Scheduler alarms by the hour they fall in (UTC), sorted by time.
pub fn alarm_partition(hour: i64) -> String {
    format!("ALARM#{hour}")
}

pub fn alarm_key(at: i64, request_key: &str) -> ItemKey {
    ItemKey { pk: alarm_partition(at.div_euclid(3600)), sk: format!("{at:012}#{request_key}") }
}

/// A webhook delivery's next try, among the scheduler's alarms of its hour.
pub fn webhook_retry_key(at: i64, target: &str, delivery: &str) -> ItemKey {
    ItemKey { pk: alarm_partition(at.div_euclid(3600)), sk: format!("{at:012}#WH#{target}#{delivery}") }
}
pub fn project_webhooks_key(project: &str) -> ItemKey {
    ItemKey::new(format!("PROJECT#{project}"), "WEBHOOKS")
}
/// What every webhook secret's partition key starts with: only the sender may read these.
pub const WEBHOOK_SECRET_PREFIX: &str = "WHSECRET#";
pub fn webhook_secret_key(target: &str) -> ItemKey {
    ItemKey::new(format!("{WEBHOOK_SECRET_PREFIX}{target}"), "SECRET")
}
pub fn webhook_deliveries_partition(target: &str) -> String {
    format!("WEBHOOK#{target}")
}
pub fn webhook_delivery_key(target: &str, id: &str) -> ItemKey {
    ItemKey::new(webhook_deliveries_partition(target), &format!("D#{id}"))
}
/// What the project's admins are told by email: the notifier's stream filter lets it through.
pub const ADMIN_NOTICE_PREFIX: &str = "NOTICE#";
pub fn admin_notice_key(project: &str, id: &str) -> ItemKey {
    ItemKey::new(format!("{ADMIN_NOTICE_PREFIX}{project}"), id)
}

pub fn search_pointer_key() -> ItemKey {
    ItemKey::new("SEARCH#index".to_string(), "POINTER")
}

pub fn scheduler_cursor_key() -> ItemKey {
    ItemKey::new("SCHEDULER#sla".to_string(), "SCHEDULER")
}

pub fn link_lock_key(token_hash: &str) -> ItemKey {
    ItemKey::new(format!("LINKLOCK#{token_hash}"), "LINKLOCK")
}

pub fn message_ref_key(message_id: &str) -> ItemKey {
    ItemKey::new(format!("MSGID#{message_id}"), "MSGID")
}
pub fn notified_key(event: &str, user_id: &str) -> ItemKey {
    ItemKey { pk: format!("NOTIFIED#{event}"), sk: format!("USER#{user_id}") }
}
pub fn attachment_key(request: &str, attachment_id: &str) -> ItemKey {
    ItemKey { pk: request_partition(request), sk: format!("ATT#{attachment_id}") }
}
pub fn upload_key(upload_id: &str) -> ItemKey {
    ItemKey::new(format!("UPLOAD#{upload_id}"), "UPLOAD")
}
/// Where an upload's bytes wait for a comment to name them (a lifecycle rule deletes them a
/// day later).
pub fn upload_file_key(request: &str, upload_id: &str) -> String {
    format!("uploads/{request}/{upload_id}")
}
/// Where an attachment's bytes are kept in the files bucket.
pub fn attachment_file_key(request: &str, attachment_id: &str) -> String {
    format!("attachments/{request}/{attachment_id}")
}
/// Who has a request open in the console (short-lived).
pub fn viewing_partition(request: &str) -> String {
    format!("VIEWING#{request}")
}
pub fn viewing_key(request: &str, user_id: &str) -> ItemKey {
    ItemKey { pk: viewing_partition(request), sk: format!("USER#{user_id}") }
}
pub fn email_verification_key(token_hash: &str) -> ItemKey {
    ItemKey::new(format!("EMAILVERIFY#{token_hash}"), "EMAILVERIFY")
}
pub fn rate_key(scope: &str, subject: &str, window: i64) -> ItemKey {
    ItemKey::new(format!("RATE#{scope}#{subject}#{window}"), "RATE")
}

/// Partition values of the secondary indexes, by access pattern.
pub fn reporter_partition(user_id: &str) -> String {
    format!("REPORTER#{user_id}")
}
pub fn user_sessions_partition(user_id: &str) -> String {
    format!("SESSIONS#{user_id}")
}
/// The unused sign-in links of an address (a suspension voids them).
pub fn magic_links_partition(email: impl AsRef<str>) -> String {
    format!("MAGICLINKS#{}", email.as_ref())
}
/// The projects a user is a customer of (who may moderate them).
pub fn customer_of_partition(user_id: &str) -> String {
    format!("CUSTOMEROF#{user_id}")
}
pub fn participant_partition(user_id: &str) -> String {
    format!("PARTICIPANT#{user_id}")
}
pub fn held_partition(project: &str) -> String {
    format!("QUEUE#{project}#held")
}
pub fn queue_status_partition(project: &str, status: RequestStatus) -> String {
    format!("QUEUE#{project}#{}", status.as_str())
}
/// A project's requests in one status by latest activity (gsi6).
pub fn activity_partition(project: &str, status: RequestStatus) -> String {
    format!("ACTIVE#{project}#{}", status.as_str())
}
/// A sort key that orders by a time, then by request (ULID): the due and activity indexes'.
pub fn timed_sort_key(at: Timestamp, request_id: &str) -> String {
    format!("{:012}#{request_id}", at.max(0))
}
/// A project's requests in one status owned by one agent (`None`: unassigned).
pub fn owner_partition(project: &str, assignee: Option<&str>, status: RequestStatus) -> String {
    format!("OWNER#{project}#{}#{}", assignee.unwrap_or(UNASSIGNED), status.as_str())
}
/// The owner slot of unassigned requests (user ids are ULIDs: never this).
pub const UNASSIGNED: &str = "none";

mod index_keys;
pub use index_keys::IndexKeys;

impl Record {
    pub fn index_keys(&self) -> IndexKeys {
        let with = |key: ItemKey| IndexKeys { pk: key.pk, sk: key.sk, ..Default::default() };
        match self {
            Record::User(u) => with(user_key(&u.id)),
            Record::EmailOwner(e) => with(email_key(&e.email)),
            Record::MagicLink(m) => IndexKeys {
                gsi1: Some((magic_links_partition(&m.email), m.token_hash.clone())),
                ttl: Some(m.expires_at),
                ..with(magic_link_key(&m.token_hash))
            },
            Record::Session(s) => IndexKeys {
                gsi1: Some((user_sessions_partition(&s.user_id), s.token_hash.clone())),
                ttl: Some(s.expires_at),
                ..with(session_key(&s.token_hash))
            },
            Record::Project(p) => with(project_key(&p.key)),
            Record::ProjectMember(m) => with(project_member_key(&m.project, &m.user_id)),
            Record::Request(r) => IndexKeys {
                gsi1: Some((reporter_partition(&r.reporter_id), r.id.clone())),
                // Held requests stay out of the queue; agents find them under `status=held`.
                gsi3: Some(if r.held {
                    (held_partition(&r.project), r.id.clone())
                } else {
                    (queue_status_partition(&r.project, r.status), r.id.clone())
                }),
                gsi4: r.organization.as_ref().map(|o| (org_requests_partition(o), r.id.clone())),
                gsi2: r
                    .nearest_due()
                    .filter(|_| !r.held && r.status.is_active())
                    .map(|due| (due_partition(&r.project), timed_sort_key(due, &r.id))),
                gsi5: (!r.held).then(|| {
                    let owner = r.assignee.as_ref().map(|a| a.id.as_str());
                    (owner_partition(&r.project, owner, r.status), r.id.clone())
                }),
                gsi6: (!r.held)
                    .then(|| (activity_partition(&r.project, r.status), timed_sort_key(r.activity_at(), &r.id))),
                ..with(request_key(&r.key))
            },
            Record::Comment(c) => with(comment_key(&c.request_key, &c.id)),
            Record::Idempotency(i) => {
                IndexKeys { ttl: Some(i.expires_at), ..with(idempotency_key(&i.user_id, &i.key_hash)) }
            }
            Record::Participant(p) => IndexKeys {
                gsi1: Some((participant_partition(&p.user_id), p.request_id.clone())),
                ..with(participant_key(&p.request_key, &p.user_id))
            },
            Record::HistoryEntry(h) => with(history_key(&h.request_key, &h.id)),
            Record::ProjectCustomer(c) => IndexKeys {
                gsi1: Some((customer_of_partition(&c.user_id), c.project.clone())),
                ..with(project_customer_key(&c.project, &c.user_id))
            },
            Record::ManagedDomains(_) => with(managed_domains_key()),
            Record::Organization(o) => {
                IndexKeys { gsi1: Some((project_orgs_partition(&o.project), o.id.clone())), ..with(org_key(&o.id)) }
            }
            Record::AuditEntry(a) => with(audit_key(&a.user_id, &a.id)),
            Record::BlockRule(b) => with(block_rule_key(b.project.as_deref(), &b.pattern)),
            Record::BlockPattern(b) => with(block_pattern_key(&b.pattern)),
            Record::SupportAddress(a) => with(support_address_key(&a.address)),
            Record::OrgMember(m) => with(org_member_key(&m.org_id, &m.user_id)),
            Record::SigningKeys(_) => with(signing_keys_key()),
            Record::LinkLock(l) => IndexKeys { ttl: Some(l.expires_at), ..with(link_lock_key(&l.token_hash)) },
            // A week after its time: the request's next change removes it anyway.
            Record::SlaAlarm(a) => {
                IndexKeys { ttl: Some(a.at + 7 * 24 * 3600), ..with(alarm_key(a.at, &a.request_key)) }
            }
            Record::SchedulerCursor(_) => with(scheduler_cursor_key()),
            Record::SearchPointer(_) => with(search_pointer_key()),
            Record::ProjectForms(f) => with(project_forms_key(&f.project)),
            Record::ProjectMacros(m) => with(project_macros_key(&m.project)),
            Record::ProjectAutomations(a) => with(project_automations_key(&a.project)),
            Record::AutomationRun(r) => {
                IndexKeys { ttl: Some(r.expires_at), ..with(automation_run_key(&r.request_key, &r.rule, &r.event)) }
            }
            Record::AutomationFired(f) => with(automation_fired_key(&f.project, &f.rule)),
            Record::AutoMail(m) => with(auto_mail_key(&m.request_key, &m.id)),
            Record::TimeRuleProjects(_) => with(time_rule_projects_key()),
            Record::ProjectWebhooks(w) => with(project_webhooks_key(&w.project)),
            Record::WebhookSecret(w) => with(webhook_secret_key(&w.target)),
            Record::WebhookDelivery(d) => with(webhook_delivery_key(&d.target, &d.id)),
            // A week after its time, as a service-level alarm.
            Record::WebhookRetry(r) => {
                IndexKeys { ttl: Some(r.at + 7 * 24 * 3600), ..with(webhook_retry_key(r.at, &r.target, &r.delivery)) }
            }
            Record::AdminNotice(n) => {
                IndexKeys { ttl: Some(n.created_at + 30 * 24 * 3600), ..with(admin_notice_key(&n.project, &n.id)) }
            }
            Record::ProjectTeam(t) => with(project_team_key(&t.project)),
            Record::StatsLedger(l) => with(stats_ledger_key(&l.project, &l.request_key)),
            Record::StatsCounts(c) => with(stats_counts_key(&c.project, &c.scope, &c.day)),
            Record::Viewing(v) => {
                IndexKeys { ttl: Some(v.expires_at), ..with(viewing_key(&v.request_key, &v.user_id)) }
            }
            Record::MessageRef(m) => IndexKeys { ttl: Some(m.expires_at), ..with(message_ref_key(&m.message_id)) },
            Record::Notified(n) => IndexKeys { ttl: Some(n.expires_at), ..with(notified_key(&n.event, &n.user_id)) },
            Record::Attachment(a) => with(attachment_key(&a.request_key, &a.id)),
            Record::Upload(u) => IndexKeys { ttl: Some(u.expires_at), ..with(upload_key(&u.id)) },
            Record::EmailVerification(v) => {
                IndexKeys { ttl: Some(v.expires_at), ..with(email_verification_key(&v.token_hash)) }
            }
            Record::RequestTag(t) => IndexKeys {
                gsi1: Some((tagged_partition(&t.project, &t.tag), t.request_id.clone())),
                ..with(request_tag_key(&t.request_key, &t.tag))
            },
        }
    }

    pub fn key(&self) -> ItemKey {
        self.index_keys().primary()
    }

    /// The optimistic-locking version, for records that carry one.
    pub fn version(&self) -> Option<u64> {
        match self {
            Record::User(u) => Some(u.version),
            Record::Project(p) => Some(p.version),
            Record::Request(r) => Some(r.version),
            Record::BlockPattern(b) => Some(b.version),
            Record::SigningKeys(k) => Some(k.version),
            Record::ProjectForms(f) => Some(f.version),
            Record::ProjectMacros(m) => Some(m.version),
            Record::ProjectAutomations(a) => Some(a.version),
            Record::TimeRuleProjects(t) => Some(t.version),
            Record::ProjectWebhooks(w) => Some(w.version),
            Record::WebhookDelivery(d) => Some(d.version),
            Record::ProjectTeam(t) => Some(t.version),
            Record::StatsLedger(l) => Some(l.version),
            Record::SchedulerCursor(c) => Some(c.version),
            Record::SearchPointer(p) => Some(p.version),
            _ => None,
        }
    }

    /// When the record stops being valid, for records that expire.
    pub fn expires_at(&self) -> Option<Timestamp> {
        match self {
            Record::MagicLink(m) => Some(m.expires_at),
            Record::Session(s) => Some(s.expires_at),
            Record::Idempotency(i) => Some(i.expires_at),
            Record::LinkLock(l) => Some(l.expires_at),
            Record::MessageRef(m) => Some(m.expires_at),
            Record::Notified(n) => Some(n.expires_at),
            Record::AutomationRun(r) => Some(r.expires_at),
            Record::Viewing(v) => Some(v.expires_at),
            Record::EmailVerification(v) => Some(v.expires_at),
            Record::Upload(u) => Some(u.expires_at),
            _ => None,
        }
    }
}

/// DynamoDB item mapping (serde_dynamo).
pub mod dynamo;

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
