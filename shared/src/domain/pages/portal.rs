//! The private portal (seed 003): what a signed-in customer's pages show. Only requests of
//! projects whose `portal.private` is on appear; everything else comes from the same use
//! cases as the API.

use crate::domain::access::{is_agent, require_party_or_agent, Viewer};
use crate::domain::caller::{load_project, load_request, resolve, Caller};
use crate::domain::forms::forms_of;
use crate::domain::requests::{get_request_and_project, list_for_customer, ListOptions, RequestDetail, RequestPage};
use crate::error::ApiError;
use crate::items::{customer_of_partition, org_key, project_forms_key, project_key};
use crate::model::{Organization, Project, ProjectForms, Record, User};
use crate::store::Query;
use crate::table::Index;
use crate::App;
use std::collections::BTreeSet;

/// Projects a customer is listed in, at most (the portal offers "new request" in each).
const MAX_PROJECTS: usize = 50;

/// The portal's home page.
#[derive(Debug)]
pub struct PortalHome {
    pub user: User,
    /// This page of the list, without requests of projects whose private portal is off.
    pub page: RequestPage,
    /// Projects with the private portal on where the customer has requests or is a
    /// customer: where they may raise a new one.
    pub projects: Vec<Project>,
    /// The customer's organizations, for the filter.
    pub organizations: Vec<Organization>,
    /// Whether any request of this page was left out because its project's portal is off.
    pub hidden: bool,
}

/// The portal's list: the customer list of `GET /requests`, the projects the customer is a
/// customer of, then one BatchGet of those projects and the customer's organizations.
pub async fn home(app: &App, caller: &Caller, options: &ListOptions) -> Result<PortalHome, ApiError> {
    let user_id = caller.require_claim()?.to_string();
    let customer_of = Query::partition(Index::Gsi1, customer_of_partition(&user_id), MAX_PROJECTS);
    let (auth, page, customer_of) =
        tokio::join!(resolve(app, caller, &[]), list_for_customer(app, caller, options), app.store.query(&customer_of));
    let (actor, _) = auth?;
    let mut page = page?;
    let mut project_keys: BTreeSet<String> = customer_of?
        .keep(|r| match r {
            Record::ProjectCustomer(c) => Some(c.project),
            _ => None,
        })
        .into_iter()
        .collect();
    project_keys.extend(page.items.iter().map(|(_, r)| r.project.clone()));
    let mut keys: Vec<_> = project_keys.iter().map(|p| project_key(p)).collect();
    keys.extend(actor.user.organizations.keys().map(|id| org_key(id)));
    let records = if keys.is_empty() { vec![] } else { app.store.get_many(&keys).await? };
    let (mut projects, mut organizations) = (vec![], vec![]);
    for record in records {
        match record {
            Record::Project(p) => projects.push(p),
            Record::Organization(o) => organizations.push(o),
            _ => {}
        }
    }
    let open: BTreeSet<String> = projects.iter().filter(|p| p.settings.portal_private).map(|p| p.key.clone()).collect();
    let before = page.items.len();
    page.items.retain(|(_, r)| open.contains(&r.project));
    let hidden = page.items.len() < before;
    projects.retain(|p| p.settings.portal_private);
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    organizations.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PortalHome { user: actor.user, page, projects, organizations, hidden })
}

/// A request as the portal shows it.
#[derive(Debug)]
pub struct PortalRequest {
    pub detail: RequestDetail,
    pub project: Project,
    /// Whether the reader may close, reopen and share it (not every reader who sees it may).
    pub may_change: bool,
    /// The form's name and the request's field values as (label, value), in the form's order
    /// and as their types say: a field the form no longer has keeps its value, labelled by key.
    pub form_name: Option<String>,
    pub fields: Vec<(String, String)>,
    /// The token of the rating link the page offers (a closed request, to a customer).
    pub rating_token: Option<String>,
    /// The request's organization (shown by its name, never its id), and whether its members
    /// see the request (the project shares with organizations), which "Shared with" says.
    pub organization: Option<Organization>,
    pub organization_sees: bool,
}

/// A request as the portal shows it: as the API does, and only in projects whose private
/// portal is on (agents see it in any project).
pub async fn request_page(app: &App, caller: &Caller, key: &str) -> Result<PortalRequest, ApiError> {
    let (detail, project, user) = get_request_and_project(app, caller, key).await?;
    if detail.viewer == Viewer::Customer && !project.settings.portal_private {
        return Err(ApiError::NotFound("request"));
    }
    let may_change = require_party_or_agent(&user, &detail.request, "change it").is_ok();
    // Labels come from the project's forms, read only when there is something to label (a
    // request on the default form with no values shows no form line).
    let (mut form_name, mut fields) = (None, vec![]);
    let default_form = detail.request.form.as_deref().is_none_or(|f| f == crate::domain::forms::DEFAULT_FORM);
    if !detail.request.fields.is_empty() || !default_form {
        let records: Vec<Record> = app.store.get(&project_forms_key(&project.key)).await?.into_iter().collect();
        let forms = forms_of(&project.key, &records);
        let form = detail.request.form.as_deref().and_then(|id| forms.get(id));
        form_name = form.map(|f| f.name.clone());
        fields = crate::domain::form_values::shown_fields(form, &detail.request.fields);
    }
    let rating_token = crate::domain::csat::offer(app, &user, &detail.request, &project).await?;
    let organization = match detail.request.organization.as_deref() {
        Some(id) => match app.store.get(&org_key(id)).await? {
            Some(Record::Organization(o)) => Some(o),
            _ => None,
        },
        None => None,
    };
    let organization_sees = project.settings.org_sharing && organization.is_some();
    Ok(PortalRequest { detail, project, may_change, form_name, fields, rating_token, organization, organization_sees })
}

/// The portal's forms act only where its pages show: a customer's change of a request in a
/// project whose private portal is off is a 404, as its page is (agents: any of theirs).
pub async fn require_portal(app: &App, caller: &Caller, key: &str) -> Result<(), ApiError> {
    let scope = load_request(app, caller, key, &[]).await?;
    if scope.viewer() == Viewer::Customer && !scope.project.settings.portal_private {
        return Err(ApiError::NotFound("request"));
    }
    Ok(())
}

/// Where a portal user raises a new request: the project and the forms they may use.
#[derive(Debug)]
pub struct NewRequestPlace {
    pub project: Project,
    pub forms: ProjectForms,
    /// Agents may use every form; others the public ones.
    pub agent: bool,
}

/// The project a customer raises a new request in from the portal, with its forms: signed
/// in, and the project's private portal on (agents may use any of theirs).
pub async fn new_request_project(app: &App, caller: &Caller, key: &str) -> Result<NewRequestPlace, ApiError> {
    let (actor, project, records) = load_project(app, caller, key, &[project_forms_key(key)]).await?;
    let agent = is_agent(&actor.user, &project.key);
    if !project.settings.portal_private && !agent {
        return Err(ApiError::NotFound("project"));
    }
    Ok(NewRequestPlace { forms: forms_of(&project.key, &records), project, agent })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projects::{update_project, PortalPatch, ProjectPatch};
    use crate::testing::Desk;

    #[tokio::test]
    async fn the_portal_lists_only_projects_with_the_private_portal_on() {
        let desk = Desk::new().await;
        desk.project("HD").await;
        desk.project("OPS").await;
        let ann = desk.sign_in("ann@example.com").await;
        let hd = desk.raise(&ann, "HD", "printer").await.key;
        let ops = desk.raise(&ann, "OPS", "vpn").await.key;
        let home1 = home(&desk.app, &ann, &ListOptions::default()).await.unwrap();
        assert_eq!(home1.page.items.len(), 2);
        assert_eq!(home1.projects.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["HD", "OPS"]);
        let off = ProjectPatch {
            portal: Some(PortalPatch { private: Some(false), ..Default::default() }),
            ..Default::default()
        };
        update_project(&desk.app, &desk.admin, "OPS", Ok(off)).await.unwrap();
        let home2 = home(&desk.app, &ann, &ListOptions::default()).await.unwrap();
        assert_eq!(home2.page.items.iter().map(|(_, r)| r.key.as_str()).collect::<Vec<_>>(), [hd.as_str()]);
        assert!(home2.hidden);
        assert_eq!(home2.projects.len(), 1);
        assert_eq!(request_page(&desk.app, &ann, &ops).await.unwrap_err(), ApiError::NotFound("request"));
        assert_eq!(new_request_project(&desk.app, &ann, "OPS").await.unwrap_err(), ApiError::NotFound("project"));
        // Agents still see it in their project.
        assert!(request_page(&desk.app, &desk.admin, &ops).await.is_ok());
        assert_eq!(
            home(&desk.app, &Caller::Anonymous, &ListOptions::default()).await.unwrap_err(),
            ApiError::Unauthorized
        );
    }
}
