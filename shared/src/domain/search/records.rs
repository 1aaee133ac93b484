//! The index's commit pointer: which commit is the search index now (its pack in the bucket
//! describes it). One small item, read with every search's session, swapped by a
//! version-checked put (the indexer that loses the race reads it again and redoes its work).

use crate::model::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPointer {
    /// The commit's id: `search/packs/<id>` in the bucket holds its description.
    pub id: String,
    pub version: u64,
    pub committed_at: Timestamp,
}
