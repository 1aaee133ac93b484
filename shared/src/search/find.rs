//! Running a parsed search on a snapshot: who is asking narrows the documents (a project's
//! agents: that project; a customer: requests they are a party to or that name one of their
//! organizations) and which text fields their words may match (customers: public text only).

use super::engine::{EngineError, Snapshot};
use super::query::{DateField, Filter, Keyword, Parsed, Text};
use super::schema::Fields;
use super::tokens::terms;
use std::ops::Bound;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Term, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, TantivyDocument};

/// Whose search this is.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// An agent of `project` (account id `me`): all of its requests, every text field.
    Agent { project: String, me: String },
    /// A customer: requests they are a party to, or of these organizations; public text only.
    /// These only narrow the candidates: the caller checks each hit with the access policy.
    Customer { me: String, organizations: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Updated,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub key: String,
    /// A piece of matching text, HTML-escaped, the matched words in `<mark>`.
    pub snippet: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// How many documents match in all.
    pub total: usize,
}

const SNIPPET_CHARS: usize = 160;

fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(queries.into_iter().map(|q| (Occur::Should, q)).collect()))
}

/// One word, phrase or prefix in one text field; None when it has no terms there.
fn text_in(field: Field, text: &Text) -> Option<Box<dyn Query>> {
    let (words, prefix) = match text {
        Text::Word(w) | Text::Phrase(w) => (terms(w), false),
        Text::Prefix(p) => (terms(p), true),
    };
    let mut terms: Vec<Term> = words.iter().map(|t| Term::from_field_text(field, t)).collect();
    match (terms.len(), prefix) {
        (0, _) => None,
        (_, true) => Some(Box::new(PhrasePrefixQuery::new(terms))),
        (1, false) => Some(Box::new(TermQuery::new(terms.remove(0), IndexRecordOption::WithFreqs))),
        (_, false) => Some(Box::new(PhraseQuery::new(terms))),
    }
}

fn text_fields(fields: &Fields, scope: &Scope) -> Vec<Field> {
    match scope {
        Scope::Agent { .. } => vec![fields.public, fields.internal, fields.people],
        Scope::Customer { .. } => vec![fields.public],
    }
}

fn filter_query(fields: &Fields, scope: &Scope, filter: &Filter) -> Box<dyn Query> {
    let keyword = |k: Keyword| match k {
        Keyword::Status => fields.status,
        Keyword::Priority => fields.priority,
        Keyword::Assignee => fields.assignee,
        Keyword::Tag => fields.tag,
        Keyword::Org => fields.org,
        Keyword::Requester => fields.requester,
        Keyword::Form => fields.form,
    };
    let date = |d: DateField| match d {
        DateField::Created => fields.created,
        DateField::Updated => fields.updated,
    };
    match filter {
        Filter::Is(k, value) => term_query(keyword(*k), value),
        Filter::AssigneeMe => match scope {
            Scope::Agent { me, .. } | Scope::Customer { me, .. } => term_query(fields.assignee, me),
        },
        Filter::After(d, at) => {
            Box::new(RangeQuery::new(Bound::Excluded(Term::from_field_i64(date(*d), *at - 1)), Bound::Unbounded))
        }
        Filter::Before(d, at) => {
            Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(Term::from_field_i64(date(*d), *at))))
        }
    }
}

/// The whole query: the scope, every filter, and every word in some allowed text field.
pub fn build(fields: &Fields, scope: &Scope, parsed: &Parsed) -> Box<dyn Query> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = vec![];
    match scope {
        Scope::Agent { project, .. } => must.push((Occur::Must, term_query(fields.project, project))),
        Scope::Customer { me, organizations } => {
            let mut seen = vec![term_query(fields.party, me)];
            seen.extend(organizations.iter().map(|o| term_query(fields.org, o)));
            must.push((Occur::Must, any_of(seen)));
        }
    }
    for filter in &parsed.filters {
        must.push((Occur::Must, filter_query(fields, scope, filter)));
    }
    for text in &parsed.texts {
        let each: Vec<Box<dyn Query>> =
            text_fields(fields, scope).into_iter().filter_map(|f| text_in(f, text)).collect();
        if !each.is_empty() {
            must.push((Occur::Must, any_of(each)));
        }
    }
    if must.is_empty() {
        return Box::new(AllQuery);
    }
    Box::new(BooleanQuery::new(must))
}

impl Snapshot {
    /// Hits `offset..offset + limit` in the order asked, with the total.
    pub fn find(
        &self,
        scope: &Scope,
        parsed: &Parsed,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> Result<Found, EngineError> {
        let searcher = self.reader.searcher();
        let query = build(&self.fields, scope, parsed);
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let (addresses, total): (Vec<DocAddress>, usize) = match sort {
            Sort::Relevance => {
                let (docs, total) = searcher.search(&query, &(top.order_by_score(), Count))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total)
            }
            Sort::Updated => {
                let (docs, total) =
                    searcher.search(&query, &(top.order_by_fast_field::<i64>("updated", Order::Desc), Count))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total)
            }
        };
        let generators: Vec<(Field, SnippetGenerator)> = text_fields(&self.fields, scope)
            .into_iter()
            .filter(|f| *f != self.fields.people)
            .map(|f| {
                let mut generator = SnippetGenerator::create(&searcher, &*query, f)?;
                generator.set_max_num_chars(SNIPPET_CHARS);
                Ok((f, generator))
            })
            .collect::<Result<_, tantivy::TantivyError>>()?;
        let hits =
            addresses.into_iter().map(|address| self.hit(&searcher, address, &generators)).collect::<Result<_, _>>()?;
        Ok(Found { hits, total })
    }

    /// The hit's key, and the best snippet among the texts the asker may read: the one with
    /// the most marked words, else the start of the summary.
    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        generators: &[(Field, SnippetGenerator)],
    ) -> Result<Hit, EngineError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let key = doc.get_first(self.fields.key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let mut best: Option<(usize, String)> = None;
        for (field, generator) in generators {
            for text in doc.get_all(*field).filter_map(|v| v.as_str()) {
                let mut snippet = generator.snippet(text);
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                let marks = snippet.highlighted().len();
                if marks > 0 && best.as_ref().is_none_or(|(m, _)| marks > *m) {
                    best = Some((marks, snippet.to_html()));
                }
            }
        }
        let snippet = match best {
            Some((_, html)) => html,
            None => {
                let first = doc.get_first(self.fields.public).and_then(|v| v.as_str()).unwrap_or_default();
                let cut: String = first.chars().take(SNIPPET_CHARS).collect();
                html_escape(&cut)
            }
        };
        Ok(Hit { key, snippet })
    }
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Snapshot {
    /// The keys of every document of `project` (what a rebuild compares with the table).
    pub fn keys_in_project(&self, project: &str) -> Result<Vec<String>, EngineError> {
        let searcher = self.reader.searcher();
        let query = term_query(self.fields.project, project);
        let addresses = searcher.search(&*query, &tantivy::collector::DocSetCollector)?;
        let mut keys = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(key) = doc.get_first(self.fields.key).and_then(|v| v.as_str()) {
                keys.push(key.to_string());
            }
        }
        Ok(keys)
    }
}
