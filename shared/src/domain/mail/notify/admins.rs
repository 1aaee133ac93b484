//! Mail to a project's admins about the helpdesk itself (a webhook switched off): plain
//! emails, once per notice and admin (a `Notified` claim, as for every notification).

use crate::error::ApiError;
use crate::items::{notified_key, project_team_key};
use crate::mailer::Email;
use crate::model::{AdminNotice, Notified, ProjectRole, Record};
use crate::store::{Condition, StoreError, Write};
use crate::App;

/// Sends a notice to each admin of its project; returns the addresses sent to now.
pub async fn notify_admins(app: &App, notice: &AdminNotice) -> Result<Vec<String>, ApiError> {
    let Some(Record::ProjectTeam(team)) = app.store.get(&project_team_key(&notice.project)).await? else {
        return Ok(vec![]);
    };
    let event = format!("notice.{}.{}.{}", notice.project, notice.id, notice.created_at);
    let mut sent = vec![];
    for (id, member) in team.agents.iter().filter(|(_, m)| m.role == ProjectRole::Admin) {
        if app.store.get(&notified_key(&event, id)).await?.is_some() {
            continue;
        }
        let claim = Notified { event: event.clone(), user_id: id.clone(), expires_at: app.now() + 7 * 24 * 3600 };
        let write = Write::Put { record: Record::Notified(claim), condition: Condition::NotExistsOrExpired(app.now()) };
        match app.store.transact(vec![write]).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
        let email = Email {
            to: member.email.to_string(),
            subject: format!("[{}] {}", notice.project, notice.subject),
            text: format!("{}\n\n-- \n{}/desk/projects/{}\n", notice.body, app.config.public_base_url, notice.project),
        };
        if let Err(e) = app.mailer.send(email).await {
            // Not sent: give the claim up (expired at once) so the retry sends it.
            let released = Notified { event: event.clone(), user_id: id.clone(), expires_at: app.now() - 1 };
            let write = Write::Put { record: Record::Notified(released), condition: Condition::None };
            app.store.transact(vec![write]).await?;
            return Err(ApiError::Internal(e.to_string()));
        }
        sent.push(member.email.to_string());
    }
    Ok(sent)
}
