//! People: accounts (`User`), their addresses, sign-in links, sessions and address
//! verifications, and the organizations they belong to.

use super::{EmailAddress, Suspension, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectRole {
    Agent,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: EmailAddress,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub app_admin: bool,
    /// Project key -> role. Kept on the user so one read after the session gives every role.
    #[serde(default)]
    pub project_roles: BTreeMap<String, ProjectRole>,
    #[serde(default)]
    pub suspended: bool,
    /// Why and by whom the user was suspended, while they are.
    #[serde(default)]
    pub suspension: Option<Suspension>,
    /// Organization id -> its project. Kept on the user so visibility needs no extra read.
    #[serde(default)]
    pub organizations: BTreeMap<String, String>,
    /// Secondary addresses, pending or verified (a verified one also has its `EmailOwner`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_emails: Vec<SecondaryEmail>,
    pub created_at: Timestamp,
    pub version: u64,
}

impl User {
    pub fn is_member_of(&self, organization: &str) -> bool {
        self.organizations.contains_key(organization)
    }
    /// The user's organizations in one project.
    pub fn organizations_in<'a>(&'a self, project: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.organizations.iter().filter(move |(_, p)| p.as_str() == project).map(|(id, _)| id)
    }
}

/// An address a user added to their account: mail from it counts as theirs once verified;
/// notifications still go to the primary address only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondaryEmail {
    pub email: EmailAddress,
    pub verified: bool,
    pub added_at: Timestamp,
}

/// Maps an email address (normalised) to its account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailOwner {
    pub email: EmailAddress,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MagicLink {
    pub token_hash: String,
    pub email: EmailAddress,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A pending secondary address's single-use token (stored hashed, 24 hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailVerification {
    pub token_hash: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub expires_at: Timestamp,
}

/// Email domains an institution manages: only app admins create accounts in them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManagedDomains {
    pub domains: Vec<String>,
    pub updated_at: Timestamp,
}

impl ManagedDomains {
    /// Whether an address falls in a managed domain (or one of its subdomains).
    pub fn covers(&self, email: &crate::domain::email::EmailAddress) -> bool {
        self.domains.iter().any(|d| email.is_in(d))
    }
}

/// Who owns an organization's membership when a CRM sync does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSource {
    pub source: String,
    /// Whom to ask for membership changes.
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub project: String,
    pub name: String,
    #[serde(default)]
    pub external: Option<ExternalSource>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgMember {
    pub org_id: String,
    pub user_id: String,
    pub email: EmailAddress,
    pub added_at: Timestamp,
}
