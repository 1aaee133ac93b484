//! What of a request search indexes, read from its partition: public text apart from
//! internal notes, so a customer's search can never match a note's words.

use crate::domain::requests::Thread;
use crate::search::schema::RequestText;

/// The request's document, or None when it is gone (deleted, or merged into another, whose
/// document holds its public thread).
pub(crate) fn request_text(thread: &Thread) -> Option<RequestText> {
    let request = thread.request.as_ref().filter(|r| r.merged_into.is_none())?;
    let mut public = vec![request.summary.clone(), request.description.clone()];
    public.extend(request.fields.values().filter(|v| !v.is_empty()).cloned());
    let mut internal = vec![];
    for comment in &thread.comments {
        if comment.internal { &mut internal } else { &mut public }.push(comment.body.clone());
    }
    // A file's name is as public as the message it came with.
    for attachment in &thread.attachments {
        let on_note =
            attachment.comment_id.as_ref().is_some_and(|id| thread.comments.iter().any(|c| &c.id == id && c.internal));
        if on_note { &mut internal } else { &mut public }.push(attachment.name.clone());
    }
    let mut statuses = vec![request.status.as_str().to_string()];
    if request.held {
        statuses.push("held".to_string());
    }
    let mut parties = vec![request.reporter_id.clone()];
    parties.extend(request.participant_ids.iter().cloned());
    let requester_name =
        thread.comments.iter().find(|c| c.author_id == request.reporter_id).and_then(|c| c.author_name.clone());
    Some(RequestText {
        key: request.key.clone(),
        project: request.project.clone(),
        statuses,
        priority: request.priority.as_str().to_string(),
        assignee: request.assignee.as_ref().map(|a| (a.id.clone(), a.email.as_str().to_string())),
        tags: request.tags.clone(),
        organization: request.organization.clone(),
        requester_email: request.reporter_email.as_str().to_string(),
        requester_name,
        form: request.form.clone(),
        parties,
        created_at: request.created_at,
        updated_at: request.updated_at,
        public,
        internal,
    })
}
