//! The row buttons of the console's editors (form fields, macro actions). Without script,
//! each button posts the whole editor: the page comes back with the rows changed and nothing
//! saved until Save. Also how a refused save comes back on an editor.

use helpdesk::error::FieldProblem;
use helpdesk::ApiError;

/// A refused save as the editor's problems: each field's, or the one message of a rule's
/// refusal or of a post no page makes (under `section`); None: an error for an error page.
pub fn problems_of(err: &ApiError, section: &str) -> Option<Vec<FieldProblem>> {
    match err {
        ApiError::Fields(problems) => Some(problems.clone()),
        other => super::in_place(other).map(|message| vec![FieldProblem::new(section, other.code(), message)]),
    }
}

/// What the pressed button asked (`op`): `save`, `add`, `up.<n>`, `down.<n>`, `remove.<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOp {
    Save,
    Add,
    Up(usize),
    Down(usize),
    Remove(usize),
}

impl RowOp {
    /// Anything else (Enter in a text box sends no `op`) saves.
    pub fn parse(op: &str) -> RowOp {
        let (verb, n) = op.split_once('.').unwrap_or((op, ""));
        match (verb, n.parse::<usize>()) {
            ("add", _) => RowOp::Add,
            ("up", Ok(n)) => RowOp::Up(n),
            ("down", Ok(n)) => RowOp::Down(n),
            ("remove", Ok(n)) => RowOp::Remove(n),
            _ => RowOp::Save,
        }
    }

    /// Changes `rows` as asked (a row number out of range changes nothing); `new` makes an
    /// added row. Returns the row to show the admin next (the moved or added one).
    pub fn apply<T>(self, rows: &mut Vec<T>, new: impl FnOnce() -> T) -> Option<usize> {
        match self {
            RowOp::Save => None,
            RowOp::Add => {
                rows.push(new());
                Some(rows.len() - 1)
            }
            RowOp::Up(n) if n > 0 && n < rows.len() => {
                rows.swap(n - 1, n);
                Some(n - 1)
            }
            RowOp::Down(n) if n + 1 < rows.len() => {
                rows.swap(n, n + 1);
                Some(n + 1)
            }
            RowOp::Remove(n) if n < rows.len() => {
                rows.remove(n);
                None
            }
            _ => None,
        }
    }
}

/// The row numbers (from 0) a posted editor has, from the names `<prefix><n>.<part>`.
pub fn row_numbers(names: impl Iterator<Item = String>, prefix: &str) -> Vec<usize> {
    let mut numbers: Vec<usize> = names
        .filter_map(|name| name.strip_prefix(prefix)?.split_once('.')?.0.parse().ok())
        .filter(|n| *n < 100)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_move_add_and_remove_rows() {
        let mut rows = vec!["a", "b", "c"];
        assert_eq!(RowOp::parse("up.2").apply(&mut rows, || "x"), Some(1));
        assert_eq!(rows, ["a", "c", "b"]);
        assert_eq!(RowOp::parse("down.0").apply(&mut rows, || "x"), Some(1));
        assert_eq!(rows, ["c", "a", "b"]);
        assert_eq!(RowOp::parse("up.0").apply(&mut rows, || "x"), None);
        assert_eq!(RowOp::parse("down.2").apply(&mut rows, || "x"), None);
        assert_eq!(RowOp::parse("remove.9").apply(&mut rows, || "x"), None);
        assert_eq!(rows, ["c", "a", "b"]);
        assert_eq!(RowOp::parse("remove.1").apply(&mut rows, || "x"), None);
        assert_eq!(RowOp::parse("add").apply(&mut rows, || "x"), Some(2));
        assert_eq!(rows, ["c", "b", "x"]);
        assert_eq!(RowOp::parse(""), RowOp::Save);
        assert_eq!(RowOp::parse("up.x"), RowOp::Save);
    }

    #[test]
    fn row_numbers_come_from_the_posted_names() {
        let names = ["field.2.label", "field.0.label", "field.0.type", "name", "field.x.label", "field.500.key"];
        assert_eq!(row_numbers(names.iter().map(|n| n.to_string()), "field."), [0, 2]);
    }
}
