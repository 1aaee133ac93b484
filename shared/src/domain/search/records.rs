//! The index's commit pointer: which files make the search index now. One item, swapped by a
//! version-checked put (the indexer that loses the race reads it again and redoes its work).

use crate::model::Timestamp;
use crate::search::engine::Commit;
use serde::{Deserialize, Serialize};

/// A file no commit names any more, and since when: deleted from the bucket after a grace
/// period, so searchers still paging through an older commit find it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedFile {
    pub name: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPointer {
    /// The commit's id: `commits/<id>.json` in the bucket describes it too, for cursors.
    pub id: String,
    pub version: u64,
    /// tantivy's `meta.json` without the schema (the code's schema is put back on open).
    pub meta: String,
    pub files: Vec<String>,
    #[serde(default)]
    pub dropped: Vec<DroppedFile>,
    pub committed_at: Timestamp,
}

impl SearchPointer {
    pub fn commit(&self) -> Commit {
        Commit { id: self.id.clone(), version: self.version, meta: self.meta.clone(), files: self.files.clone() }
    }
}
