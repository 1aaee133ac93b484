//! The naming rule, one place for every channel (pages, API, email): who wrote a comment, as
//! each reader is shown it. Agents see the author's address; customers see the team as the
//! team (the agent's display name with the team's, else the team's), never an agent's
//! address, and another customer by the name they gave, else their address; a public link
//! shows no address at all, and labels by role, so no customer can write under the team's name.

use crate::domain::access::{is_agent, Viewer};
use crate::domain::automations::AUTOMATION_AUTHOR;
use crate::domain::requests::HELPDESK_AUTHOR;
use crate::error::ApiError;
use crate::items::user_key;
use crate::model::{AuthorRole, Comment, HistoryEntry, Record, User};
use crate::App;
use std::collections::BTreeSet;

/// The team's name: the project's name, with "support" after it unless the name already
/// names a team ("Acme Support", not "Acme Support support"; "Help" becomes "Help support").
pub fn team_name(project_name: &str) -> String {
    const TEAM_WORDS: [&str; 6] = ["support", "team", "helpdesk", "desk", "care", "service"];
    let last = project_name.rsplit(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).unwrap_or("");
    if TEAM_WORDS.iter().any(|w| last.eq_ignore_ascii_case(w)) {
        project_name.to_string()
    } else {
        format!("{project_name} support")
    }
}

/// The team as customers see it: the agent's display name when they gave one.
pub fn team_label(agent_name: Option<&str>, project_name: &str) -> String {
    match agent_name {
        Some(name) => format!("{name} ({})", team_name(project_name)),
        None => team_name(project_name),
    }
}

/// Anyone as agents see them on a page: the name they gave with their address, else the
/// address (the API's fields keep the bare address).
pub fn agent_label(name: Option<&str>, email: &str) -> String {
    match name.filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{name} ({email})"),
        None => email.to_string(),
    }
}

/// A customer as other customers see them: the name they gave, else their address.
pub fn customer_label(name: Option<&str>, email: &str) -> String {
    name.filter(|n| !n.trim().is_empty()).map_or_else(|| email.to_string(), str::to_string)
}

/// The author of `comment` as `viewer` reads it in the portal, the console and the API.
pub fn shown(comment: &Comment, viewer: Viewer, project_name: &str) -> String {
    match (viewer, comment.author_role) {
        (Viewer::Agent, _) => comment.author_email.to_string(),
        (Viewer::Customer, Some(AuthorRole::Customer)) => {
            customer_label(comment.author_name.as_deref(), comment.author_email.as_str())
        }
        (Viewer::Customer, Some(AuthorRole::Team)) => team_label(comment.author_name.as_deref(), project_name),
        // Unsettled (never after `settle_roles`): neither the team's name nor an address.
        (Viewer::Customer, None) => OTHER.to_string(),
    }
}

/// The author of `comment` as a page shows it to `viewer`: agents read the name with the
/// address; customers as `shown` says.
pub fn shown_on_page(comment: &Comment, viewer: Viewer, project_name: &str) -> String {
    match viewer {
        Viewer::Agent => agent_label(comment.author_name.as_deref(), comment.author_email.as_str()),
        Viewer::Customer => shown(comment, viewer, project_name),
    }
}

const OTHER: &str = "Someone else on this request";

/// Who wrote a comment, as a public link shows it to its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicAuthor {
    You,
    /// The team, as `team_label` names it.
    Team(String),
    /// Another customer, by the name they gave, if any.
    Other(Option<String>),
}

impl PublicAuthor {
    pub fn of(comment: &Comment, recipient_id: &str, project_name: &str) -> PublicAuthor {
        match comment.author_role {
            _ if comment.author_id == recipient_id => PublicAuthor::You,
            Some(AuthorRole::Team) => PublicAuthor::Team(team_label(comment.author_name.as_deref(), project_name)),
            Some(AuthorRole::Customer) | None => PublicAuthor::Other(comment.author_name.clone()),
        }
    }

    pub fn label(&self) -> String {
        match self {
            PublicAuthor::You => "You".into(),
            PublicAuthor::Team(name) | PublicAuthor::Other(Some(name)) => name.clone(),
            PublicAuthor::Other(None) => OTHER.into(),
        }
    }
}

/// What `user` is on a request of `project` when they write or act there.
pub fn role_of(user: &User, project: &str) -> AuthorRole {
    if user.id == HELPDESK_AUTHOR || user.id == AUTOMATION_AUTHOR || is_agent(user, project) {
        AuthorRole::Team
    } else {
        AuthorRole::Customer
    }
}

/// The actor of a history entry as `viewer` reads it: like a comment's author.
pub fn shown_actor(entry: &HistoryEntry, viewer: Viewer, project_name: &str) -> String {
    match (viewer, entry.actor_role) {
        (Viewer::Agent, _) | (Viewer::Customer, Some(AuthorRole::Customer)) => entry.actor_email.to_string(),
        (Viewer::Customer, Some(AuthorRole::Team)) => team_label(None, project_name),
        (Viewer::Customer, None) => OTHER.to_string(),
    }
}

/// Gives comments and history written before roles were kept the role their author has now
/// in `project` (one BatchGet of those authors; nothing when every one has its role).
pub(crate) async fn settle_roles(
    app: &App,
    project: &str,
    comments: &mut [Comment],
    history: &mut [HistoryEntry],
) -> Result<(), ApiError> {
    let unknown: BTreeSet<String> = comments
        .iter()
        .filter(|c| c.author_role.is_none())
        .map(|c| c.author_id.clone())
        .chain(history.iter().filter(|h| h.actor_role.is_none()).map(|h| h.actor_id.clone()))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let keys: Vec<_> = unknown.iter().filter(|id| id.as_str() != HELPDESK_AUTHOR).map(|id| user_key(id)).collect();
    let users = if keys.is_empty() { vec![] } else { app.store.get_many(&keys).await? };
    let author = |id: &str| {
        users.iter().find_map(|r| match r {
            Record::User(u) if u.id == id => Some(u),
            _ => None,
        })
    };
    let role = |id: &str| match author(id) {
        _ if id == HELPDESK_AUTHOR => AuthorRole::Team,
        Some(user) => role_of(user, project),
        None => AuthorRole::Customer,
    };
    for comment in comments.iter_mut().filter(|c| c.author_role.is_none()) {
        comment.author_role = Some(role(&comment.author_id));
        comment.author_name = author(&comment.author_id).and_then(|u| u.name.clone());
    }
    for entry in history.iter_mut().filter(|h| h.actor_role.is_none()) {
        entry.actor_role = Some(role(&entry.actor_id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProjectRole;
    use crate::testing::Desk;

    fn legacy(author_id: &str, email: &str) -> Comment {
        Comment {
            request_key: "HD-1".into(),
            id: crate::text::new_ulid(),
            author_id: author_id.into(),
            author_email: crate::domain::email::EmailAddress::stored(email),
            body: "old".into(),
            internal: false,
            created_at: 0,
            author_role: None,
            author_name: None,
            merged_from: None,
        }
    }

    /// Comments written before roles were kept take their author's role now; a customer is
    /// never shown as the team, an agent never by address.
    #[tokio::test]
    async fn legacy_comments_take_their_authors_role() {
        let desk = Desk::new().await;
        desk.project("HD").await;
        let agent = desk.staff("agent@example.com", "HD", ProjectRole::Agent).await;
        let ann = desk.sign_in("ann@example.com").await;
        let agent_id = crate::auth::me(&desk.app, &agent).await.unwrap().id;
        let ann_id = crate::auth::me(&desk.app, &ann).await.unwrap().id;
        let mut comments = vec![
            legacy(&agent_id, "agent@example.com"),
            legacy(&ann_id, "ann@example.com"),
            legacy(HELPDESK_AUTHOR, "helpdesk@desk.example"),
            legacy("gone", "gone@example.com"),
        ];
        settle_roles(&desk.app, "HD", &mut comments, &mut []).await.unwrap();
        let roles: Vec<_> = comments.iter().map(|c| c.author_role).collect();
        use AuthorRole::*;
        assert_eq!(roles, [Some(Team), Some(Customer), Some(Team), Some(Customer)]);
        let shown: Vec<_> = comments.iter().map(|c| shown(c, Viewer::Customer, "Help")).collect();
        assert_eq!(shown, ["Help support", "ann@example.com", "Help support", "gone@example.com"]);
        assert_eq!(shown_for_agent(&comments[0]), "agent@example.com");
        assert_eq!(PublicAuthor::of(&comments[1], &ann_id, "Help"), PublicAuthor::You);
        assert_eq!(PublicAuthor::of(&comments[3], &ann_id, "Help").label(), "Someone else on this request");
        assert_eq!(PublicAuthor::of(&comments[0], &ann_id, "Help").label(), "Help support");
    }

    #[test]
    fn a_history_actor_is_shown_like_a_comments_author() {
        let entry = |role| HistoryEntry {
            request_key: "HD-1".into(),
            id: "h1".into(),
            actor_id: "u1".into(),
            actor_email: crate::domain::email::EmailAddress::stored("gil@example.com"),
            action: "closed".into(),
            emails: vec![],
            detail: None,
            at: 0,
            actor_role: role,
            dropped: Default::default(),
            undone_at: None,
        };
        use AuthorRole::*;
        assert_eq!(shown_actor(&entry(Some(Team)), Viewer::Agent, "Help"), "gil@example.com");
        assert_eq!(shown_actor(&entry(Some(Team)), Viewer::Customer, "Help"), "Help support");
        assert_eq!(shown_actor(&entry(Some(Customer)), Viewer::Customer, "Help"), "gil@example.com");
        assert_eq!(shown_actor(&entry(None), Viewer::Customer, "Help"), OTHER);
    }

    fn shown_for_agent(c: &Comment) -> String {
        shown(c, Viewer::Agent, "Help")
    }

    #[test]
    fn the_team_says_support_once_and_customers_show_by_name() {
        assert_eq!(team_name("Acme Support"), "Acme Support");
        assert_eq!(team_name("Acme support"), "Acme support");
        assert_eq!(team_name("Globex IT Service"), "Globex IT Service");
        assert_eq!(team_name("HD"), "HD support");
        assert_eq!(team_name("Supportive Co"), "Supportive Co support");
        assert_eq!(team_label(Some("Gil"), "Acme Support"), "Gil (Acme Support)");
        let mut c = legacy("x", "x@example.com");
        c.author_role = Some(AuthorRole::Customer);
        assert_eq!(shown(&c, Viewer::Customer, "Help"), "x@example.com");
        c.author_name = Some("Xavier Diaz".into());
        assert_eq!(shown(&c, Viewer::Customer, "Help"), "Xavier Diaz");
        assert_eq!(shown(&c, Viewer::Agent, "Help"), "x@example.com", "agents see who wrote, by address");
        assert_eq!(shown_on_page(&c, Viewer::Agent, "Help"), "Xavier Diaz (x@example.com)", "and by name on a page");
        assert_eq!(shown_on_page(&c, Viewer::Customer, "Help"), "Xavier Diaz");
        c.author_name = Some("  ".into());
        assert_eq!(shown(&c, Viewer::Customer, "Help"), "x@example.com");
    }

    #[test]
    fn the_team_is_named_by_the_agent_or_the_project() {
        assert_eq!(team_label(Some("Gil"), "Help"), "Gil (Help support)");
        assert_eq!(team_label(None, "Help"), "Help support");
        let mut c = legacy("x", "x@example.com");
        assert_eq!(shown(&c, Viewer::Customer, "Help"), OTHER, "unsettled: neither the team nor an address");
        c.author_name = Some("Xavier".into());
        assert_eq!(PublicAuthor::of(&c, "y", "Help").label(), "Xavier");
    }
}
