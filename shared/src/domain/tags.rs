//! Tags (seed 002): agents' lowercase words on a request, at most `MAX_TAGS`, each also an
//! item in the project's by-tag index so the queue filters by tag with one Query.

use crate::domain::access::{require_agent, Viewer};
use crate::domain::caller::{load_request, Caller};
use crate::domain::requests::{history_write, update_request, Seen, Viewed};
use crate::error::ApiError;
use crate::items::request_tag_key;
use crate::model::{Record, Request, RequestTag};
use crate::store::{Condition, Write};
use crate::App;

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_LEN: usize = 50;

/// A tag as stored: lowercased; then a-z, 0-9 and `-` only.
pub fn check_tag(raw: &str) -> Result<String, ApiError> {
    let tag = raw.trim().to_lowercase();
    let ok = (1..=MAX_TAG_LEN).contains(&tag.len())
        && tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(tag)
    } else {
        Err(ApiError::invalid("invalid_tag", format!("a tag is 1-{MAX_TAG_LEN} of a-z, 0-9 and -")))
    }
}

/// The writes and change that tag (or untag) a request, for use in a larger transaction too
/// (macros). None: nothing to change.
pub(crate) fn tag_change(request: &Request, tag: &str, add: bool) -> Result<Option<Write>, ApiError> {
    let has = request.tags.iter().any(|t| t == tag);
    match (add, has) {
        (true, true) | (false, false) => Ok(None),
        (true, false) if request.tags.len() >= MAX_TAGS => {
            Err(ApiError::invalid("too_many_tags", format!("a request has at most {MAX_TAGS} tags")))
        }
        (true, false) => Ok(Some(Write::Put {
            record: Record::RequestTag(RequestTag {
                request_key: request.key.clone(),
                request_id: request.id.clone(),
                project: request.project.clone(),
                tag: tag.to_string(),
            }),
            condition: Condition::None,
        })),
        (false, true) => {
            Ok(Some(Write::Delete { key: request_tag_key(&request.key, tag), condition: Condition::None }))
        }
    }
}

pub(crate) fn apply_tag(request: &mut Request, tag: &str, add: bool) {
    request.tags.retain(|t| t != tag);
    if add {
        request.tags.push(tag.to_string());
        request.tags.sort();
    }
}

/// Adds or removes a tag (agents). Safe to retry: a tag already there (or already gone)
/// changes nothing.
pub async fn set_tag(app: &App, caller: &Caller, key: &str, raw_tag: &str, add: bool) -> Result<Viewed, ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    require_agent(scope.user(), &scope.project.key)?;
    let tag = check_tag(raw_tag)?;
    let Some(write) = tag_change(&scope.request, &tag, add)? else { return Ok((Viewer::Agent, scope.request)) };
    let action = if add { "tag_added" } else { "tag_removed" };
    let history = history_write(&scope.request, scope.user(), action, vec![], Some(tag.clone()), app.now());
    let change = |r: &mut Request| apply_tag(r, &tag, add);
    let extra = || vec![write.clone(), history.clone()];
    let request = update_request(
        app,
        &scope.actor,
        scope.project.settings.sla.as_ref(),
        scope.request,
        Seen::AgentsOnly,
        change,
        extra,
    )
    .await?;
    Ok((Viewer::Agent, request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lowercase_words() {
        assert_eq!(check_tag(" Incorrect-Form ").unwrap(), "incorrect-form");
        for bad in ["", "two words", "ü", "a_b", &"x".repeat(MAX_TAG_LEN + 1)] {
            assert_eq!(check_tag(bad).unwrap_err().code(), "invalid_tag", "{bad:?}");
        }
    }
}
