//! The request page's form fields after a refused save: each problem next to its field.

use super::views::{RequestPage, SectionError};
use crate::views::{field_inputs, problem_links};
use helpdesk::error::FieldProblem;

impl RequestPage {
    /// After a refused move or save: form `form_id`'s fields filled with what was typed, each
    /// problem next to its field and all of them listed above the fields.
    pub fn show_fields_of(
        &mut self,
        form_id: &str,
        typed: &std::collections::BTreeMap<String, String>,
        problems: &[FieldProblem],
    ) {
        let Some(form) = self.all_forms.iter().find(|f| f.id == form_id) else {
            let message = problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ");
            self.error = Some(SectionError { section: "form", message });
            return;
        };
        // A move sends no values: it carries the request's own, as the use case did.
        let typed = if typed.is_empty() { &self.values } else { typed };
        let (inputs, _) = field_inputs(form, typed, problems);
        let has_input = |field: &str| inputs.iter().any(|f| field == format!("fields.{}", f.key));
        self.field_problems = problem_links(problems, has_input);
        (self.field_inputs, self.fields_form_id, self.fields_form_name) = (inputs, form.id.clone(), form.name.clone());
    }
}
