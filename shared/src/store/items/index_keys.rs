//! Everything an item is found by, and what DynamoDB writes to the indexes when it changes.

use super::ItemKey;
use crate::table::Index;

/// Everything an item is found by: its primary key and its secondary-index keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexKeys {
    pub pk: String,
    pub sk: String,
    pub gsi1: Option<(String, String)>,
    pub gsi2: Option<(String, String)>,
    pub gsi3: Option<(String, String)>,
    pub gsi4: Option<(String, String)>,
    pub gsi5: Option<(String, String)>,
    pub gsi6: Option<(String, String)>,
    /// Epoch seconds after which DynamoDB may delete the item (lazily: code checks expiry).
    pub ttl: Option<i64>,
}

impl IndexKeys {
    pub fn primary(&self) -> ItemKey {
        ItemKey { pk: self.pk.clone(), sk: self.sk.clone() }
    }
    pub fn for_index(&self, index: Index) -> Option<(&str, &str)> {
        let pair = match index {
            Index::Table => return Some((&self.pk, &self.sk)),
            Index::Gsi1 => &self.gsi1,
            Index::Gsi2 => &self.gsi2,
            Index::Gsi3 => &self.gsi3,
            Index::Gsi4 => &self.gsi4,
            Index::Gsi5 => &self.gsi5,
            Index::Gsi6 => &self.gsi6,
        };
        pair.as_ref().map(|(p, s)| (p.as_str(), s.as_str()))
    }
    pub fn gsi_count(&self) -> usize {
        self.gsis().iter().filter(|(_, g)| g.is_some()).count()
    }
    /// Each index with this item's keys in it, if any, in `table::GSIS` order.
    pub fn gsis(&self) -> [(crate::table::Gsi, &Option<(String, String)>); 6] {
        use crate::table::{GSI1, GSI2, GSI3, GSI4, GSI5, GSI6};
        [
            (GSI1, &self.gsi1),
            (GSI2, &self.gsi2),
            (GSI3, &self.gsi3),
            (GSI4, &self.gsi4),
            (GSI5, &self.gsi5),
            (GSI6, &self.gsi6),
        ]
    }
    /// Index writes (per KB of the item) DynamoDB makes when an item with these keys replaces
    /// one with `before` (None: a new item): a key that appears or goes is one write, a key
    /// that moves is two (delete and put); an unmoved key is one write to an ALL index (its
    /// copy changed) and none to a KEYS_ONLY one.
    pub fn index_writes(&self, before: Option<&IndexKeys>) -> usize {
        self.writes_by_index(before).map(|(_, n)| n).sum()
    }

    /// The write units those index writes cost for an item of `item_kb` KB: a whole copy
    /// (ALL) costs a unit per KB, a KEYS_ONLY entry (keys only: well under 1 KB) one unit.
    pub fn index_units(&self, before: Option<&IndexKeys>, item_kb: usize) -> usize {
        self.writes_by_index(before).map(|(gsi, n)| n * if gsi.keys_only { 1 } else { item_kb }).sum()
    }

    fn writes_by_index<'a>(
        &'a self,
        before: Option<&'a IndexKeys>,
    ) -> impl Iterator<Item = (crate::table::Gsi, usize)> + 'a {
        let old = before.map(IndexKeys::gsis);
        self.gsis().into_iter().enumerate().map(move |(i, (gsi, new))| {
            let writes = match (old.as_ref().and_then(|o| o[i].1.as_ref()), new) {
                (None, None) => 0,
                (None, Some(_)) | (Some(_), None) => 1,
                (Some(a), Some(b)) if a != b => 2,
                (Some(_), Some(_)) => usize::from(!gsi.keys_only),
            };
            (gsi, writes)
        })
    }
}
