//! The index's fields, and the document a request becomes. One document per request,
//! replaced whole on every change (its `key` term is deleted, the new one added), so
//! indexing a request twice is indexing it once.

use super::tokens::{analyzer, ANALYZER};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STORED, STRING,
};
use tantivy::{Index, TantivyDocument};

/// What a request says and is, as search needs it (built by `domain::search` from the
/// request's partition; this module never reads the table).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestText {
    pub key: String,
    pub project: String,
    /// `open`, `pending` or `closed`, plus `held` while held.
    pub statuses: Vec<String>,
    pub priority: String,
    /// The assignee's account id and address; None: unassigned.
    pub assignee: Option<(String, String)>,
    pub tags: Vec<String>,
    pub organization: Option<String>,
    pub requester_email: String,
    pub requester_name: Option<String>,
    pub form: Option<String>,
    /// Account ids of the reporter and participants: who sees it as a party.
    pub parties: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// What customers may read: summary, description, public replies, field values, the
    /// names of files shown with them.
    pub public: Vec<String>,
    /// Internal notes (and the names of files that came with them): agents only.
    pub internal: Vec<String>,
}

/// The fields, by name, of the one schema.
#[derive(Clone)]
pub struct Fields {
    pub key: Field,
    pub project: Field,
    pub status: Field,
    pub priority: Field,
    pub assignee: Field,
    pub tag: Field,
    pub org: Field,
    pub requester: Field,
    pub form: Field,
    pub party: Field,
    pub created: Field,
    pub updated: Field,
    pub public: Field,
    pub internal: Field,
    pub people: Field,
}

/// Filter values; `key` also stored, to name the hits.
fn keyword(builder: &mut tantivy::schema::SchemaBuilder, name: &str) -> Field {
    builder.add_text_field(name, STRING)
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let date = NumericOptions::default().set_indexed().set_fast();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        project: keyword(&mut b, "project"),
        status: keyword(&mut b, "status"),
        priority: keyword(&mut b, "priority"),
        assignee: keyword(&mut b, "assignee"),
        tag: keyword(&mut b, "tag"),
        org: keyword(&mut b, "org"),
        requester: keyword(&mut b, "requester"),
        form: keyword(&mut b, "form"),
        party: keyword(&mut b, "party"),
        created: b.add_i64_field("created", date.clone()),
        updated: b.add_i64_field("updated", date),
        // Stored: snippets are cut from them.
        public: b.add_text_field("public", text(true)),
        internal: b.add_text_field("internal", text(true)),
        people: b.add_text_field("people", text(false)),
    };
    (b.build(), fields)
}

/// The fields of an index built with `schema()`.
pub fn fields_of(index: &Index) -> tantivy::Result<Fields> {
    let schema = index.schema();
    let get = |name: &str| schema.get_field(name);
    Ok(Fields {
        key: get("key")?,
        project: get("project")?,
        status: get("status")?,
        priority: get("priority")?,
        assignee: get("assignee")?,
        tag: get("tag")?,
        org: get("org")?,
        requester: get("requester")?,
        form: get("form")?,
        party: get("party")?,
        created: get("created")?,
        updated: get("updated")?,
        public: get("public")?,
        internal: get("internal")?,
        people: get("people")?,
    })
}

/// Every index is opened through this: its analyzer registered.
pub fn register(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

pub fn document(fields: &Fields, request: &RequestText) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.key, &request.key);
    doc.add_text(fields.project, &request.project);
    for status in &request.statuses {
        doc.add_text(fields.status, status);
    }
    doc.add_text(fields.priority, &request.priority);
    match &request.assignee {
        Some((id, email)) => {
            doc.add_text(fields.assignee, id);
            doc.add_text(fields.assignee, email.to_lowercase());
        }
        None => doc.add_text(fields.assignee, "none"),
    }
    for tag in &request.tags {
        doc.add_text(fields.tag, tag);
    }
    if let Some(org) = &request.organization {
        doc.add_text(fields.org, org);
    }
    let email = request.requester_email.to_lowercase();
    if let Some((_, domain)) = email.rsplit_once('@') {
        doc.add_text(fields.requester, domain);
    }
    doc.add_text(fields.requester, &email);
    if let Some(form) = &request.form {
        doc.add_text(fields.form, form);
    }
    for party in &request.parties {
        doc.add_text(fields.party, party);
    }
    doc.add_i64(fields.created, request.created_at);
    doc.add_i64(fields.updated, request.updated_at);
    // One value per message: a phrase never spans two of them, and a snippet is cut from one.
    for text in &request.public {
        doc.add_text(fields.public, text);
    }
    for text in &request.internal {
        doc.add_text(fields.internal, text);
    }
    let people = [Some(request.requester_email.as_str()), request.requester_name.as_deref()];
    doc.add_text(fields.people, people.into_iter().flatten().collect::<Vec<_>>().join(" "));
    doc
}
