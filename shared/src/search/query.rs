//! What a search box's `q` says: words (all must match), quoted phrases, prefixes (`print*`)
//! and field filters (`status:open`, `created>2026-01-31`, ...). Pure: no index, no caller.

/// The longest `q` accepted.
pub const MAX_QUERY_CHARS: usize = 500;
/// More words than this is not a search.
const MAX_TERMS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Word(String),
    /// The start of a word: `print*`.
    Prefix(String),
    /// Words in this order: `"paper jam"`.
    Phrase(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    Created,
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// A keyword field equals this (already lower case where the field is).
    Is(Keyword, String),
    /// `assignee:me`: the asking agent.
    AssigneeMe,
    /// A day bound, in Unix seconds: `after` is the end of the day named (`created>D`: later
    /// than all of day D), `before` its start (`created<D`: earlier than all of it), UTC.
    After(DateField, i64),
    Before(DateField, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Status,
    Priority,
    Assignee,
    Tag,
    Org,
    Requester,
    Form,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub texts: Vec<Text>,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

fn keyword(name: &str) -> Option<Keyword> {
    Some(match name {
        "status" => Keyword::Status,
        "priority" => Keyword::Priority,
        "assignee" => Keyword::Assignee,
        "tag" => Keyword::Tag,
        "org" => Keyword::Org,
        "requester" => Keyword::Requester,
        "form" => Keyword::Form,
        _ => return None,
    })
}

/// Splits `q` into pieces at spaces outside quotes; a quoted piece keeps its quotes.
fn pieces(q: &str) -> Result<Vec<String>, QueryError> {
    let (mut out, mut current, mut quoted) = (Vec::new(), String::new(), false);
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(QueryError("a quote is not closed".into()));
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s)
}

/// `YYYY-MM-DD` as the Unix second its day starts at (UTC).
fn day_start(value: &str) -> Result<i64, QueryError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, format)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| QueryError(format!("{value:?} is not a date (YYYY-MM-DD)")))
}

fn checked_value(field: Keyword, value: &str) -> Result<Filter, QueryError> {
    let value = unquote(value).trim();
    if value.is_empty() {
        return Err(QueryError("a filter needs a value after the colon".into()));
    }
    let lower = value.to_lowercase();
    match field {
        Keyword::Status if !["open", "pending", "closed", "held"].contains(&lower.as_str()) => {
            Err(QueryError("status is open, pending, closed or held".into()))
        }
        Keyword::Priority if !["low", "normal", "high", "urgent"].contains(&lower.as_str()) => {
            Err(QueryError("priority is low, normal, high or urgent".into()))
        }
        Keyword::Assignee if lower == "me" => Ok(Filter::AssigneeMe),
        // Tags are lower case; addresses compare without case; organization ids and form
        // names are kept as written.
        Keyword::Org | Keyword::Form => Ok(Filter::Is(field, value.to_string())),
        _ => Ok(Filter::Is(field, lower)),
    }
}

pub fn parse(q: &str) -> Result<Parsed, QueryError> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError(format!("a search is at most {MAX_QUERY_CHARS} characters")));
    }
    let mut parsed = Parsed::default();
    for piece in pieces(q)? {
        if let Some((name, value)) = piece.split_once(':').filter(|(n, _)| !n.starts_with('"')) {
            if let Some(field) = keyword(&name.to_lowercase()) {
                parsed.filters.push(checked_value(field, value)?);
                continue;
            }
        }
        let date = [("created", DateField::Created), ("updated", DateField::Updated)].into_iter().find_map(|(n, f)| {
            let rest = piece.strip_prefix(n)?;
            rest.strip_prefix('>').map(|d| (f, true, d)).or_else(|| rest.strip_prefix('<').map(|d| (f, false, d)))
        });
        if let Some((field, after, day)) = date {
            let start = day_start(day)?;
            parsed.filters.push(if after {
                Filter::After(field, start + 86_400)
            } else {
                Filter::Before(field, start)
            });
            continue;
        }
        if piece.starts_with('"') {
            let inner = unquote(&piece).trim();
            if !inner.is_empty() {
                parsed.texts.push(Text::Phrase(inner.to_string()));
            }
        } else if let Some(stem) = piece.strip_suffix('*') {
            let stem = stem.trim_end_matches('*');
            if stem.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
                return Err(QueryError("a prefix needs at least two letters before the *".into()));
            }
            parsed.texts.push(Text::Prefix(stem.to_string()));
        } else {
            parsed.texts.push(Text::Word(piece));
        }
    }
    if parsed.texts.len() + parsed.filters.len() > MAX_TERMS {
        return Err(QueryError(format!("a search has at most {MAX_TERMS} words and filters")));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_prefixes_and_filters() {
        let parsed =
            parse(r#"invoice "paper jam" print* status:open tag:Billing assignee:me created>2026-01-31"#).unwrap();
        assert_eq!(
            parsed.texts,
            [Text::Word("invoice".into()), Text::Phrase("paper jam".into()), Text::Prefix("print".into())]
        );
        assert_eq!(
            parsed.filters,
            [
                Filter::Is(Keyword::Status, "open".into()),
                Filter::Is(Keyword::Tag, "billing".into()),
                Filter::AssigneeMe,
                Filter::After(DateField::Created, 1_769_904_000),
            ]
        );
    }

    #[test]
    fn a_colon_that_names_no_field_is_text() {
        let parsed = parse("error: disk").unwrap();
        assert_eq!(parsed.texts, [Text::Word("error:".into()), Text::Word("disk".into())]);
        assert!(parsed.filters.is_empty());
    }

    #[test]
    fn dates_bound_whole_days() {
        let parsed = parse("updated<2026-02-01 created>2026-01-01").unwrap();
        assert_eq!(
            parsed.filters,
            [Filter::Before(DateField::Updated, 1_769_904_000), Filter::After(DateField::Created, 1_767_312_000)]
        );
    }

    #[test]
    fn bad_searches_say_what_is_wrong() {
        for bad in ["status:lost", "priority:meh", "created>yesterday", "\"open", "a*", "tag:", &"x".repeat(501)] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&"w ".repeat(33)).is_err());
        assert_eq!(parse("").unwrap(), Parsed::default());
    }
}
