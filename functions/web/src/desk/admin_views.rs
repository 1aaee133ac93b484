//! Templates of the console's project pages (settings, customers and organizations) and the
//! blocklist.

use crate::views::{Chrome, Tab};
use askama::Template;

/// An error shown in the section of the form that caused it.
pub use super::views::SectionError;

pub struct FormRow {
    pub id: String,
    pub name: String,
    pub public: bool,
    pub default: bool,
    pub fields: usize,
}

#[derive(Template)]
#[template(path = "desk/settings.html")]
pub struct SettingsPage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    pub section: &'static str,
    pub admin: bool,
    pub name: String,
    pub support_address: String,
    pub org_sharing: bool,
    /// Only the project's customers may raise requests.
    pub customers_only: bool,
    pub portal_private: bool,
    pub portal_public: bool,
    pub link_days: u32,
    pub participant_cap: u32,
    pub notify_per_hour: u32,
    pub csat: bool,
    pub reopen_days: u32,
    pub forms: Vec<FormRow>,
    /// (id, name, its actions in short)
    pub macros: Vec<(String, String, String)>,
    pub notice: Option<String>,
    pub error: Option<SectionError>,
    pub sla: SlaForm,
}

/// The service-level form: on or off, time zone, hours per day (day, label, open, close),
/// holidays one per line, targets per priority (priority, label, first, next, resolution).
pub struct SlaForm {
    pub on: bool,
    pub timezone: String,
    pub days: Vec<(String, String, String, String)>,
    pub holidays: String,
    pub targets: Vec<(String, String, String, String, String)>,
}

impl SettingsPage {
    pub fn error_in(&self, section: &str) -> Option<&str> {
        self.error.as_ref().filter(|e| e.section == section).map(|e| e.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "desk/people.html")]
pub struct PeoplePage {
    pub chrome: Chrome,
    pub project_key: String,
    pub project_name: String,
    pub section: &'static str,
    /// (id, name, who manages it)
    pub organizations: Vec<(String, String, Option<String>)>,
    pub managed_domains: String,
    pub has_managed_domains: bool,
    pub app_admin: bool,
    pub customer_email: String,
    pub notice: Option<String>,
    pub error: Option<SectionError>,
}

impl PeoplePage {
    pub fn error_in(&self, section: &str) -> Option<&str> {
        self.error.as_ref().filter(|e| e.section == section).map(|e| e.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "desk/organization.html")]
pub struct OrganizationPage {
    pub chrome: Chrome,
    pub id: String,
    pub project_key: String,
    pub name: String,
    /// Externally managed: who to ask, and the page changes nothing.
    pub managed_by: Option<String>,
    /// (user id, email)
    pub members: Vec<(String, String)>,
    pub member_value: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

pub struct RuleRow {
    pub text: String,
    pub by: String,
    pub when: String,
    pub suspension: bool,
    pub remove_href: String,
}

#[derive(Template)]
#[template(path = "desk/blocklist.html")]
pub struct BlocklistPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    /// The scope: a project key, or empty for app-wide.
    pub project: String,
    pub scope_hint: String,
    pub rules: Vec<RuleRow>,
    pub rule_value: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/unblock.html")]
pub struct UnblockPage {
    pub chrome: Chrome,
    pub project: String,
    pub rule: String,
    pub effect: String,
    pub back: String,
}
