//! The code's view of the single table. `infra/template.yaml` is the source of truth; a test
//! reads the template and fails when this drifts from it.

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL_ATTRIBUTE: &str = "ttl";

/// A global secondary index: its name and its key attributes (both strings), and whether it
/// holds only keys (KEYS_ONLY) or whole items (ALL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gsi {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    pub keys_only: bool,
}

/// Per user: requests they reported (`REPORTER#<user>`) and their sessions (`SESSIONS#<user>`).
pub const GSI1: Gsi = Gsi { name: "gsi1", pk: "gsi1pk", sk: "gsi1sk", keys_only: false };
/// Per project: its active requests with a running service-level clock, by the nearest due
/// time (the queue's `sort=due`). Keys only: read through. (The name was free: the whole queue
/// once had its own copy of every request there, which every reply rewrote.)
pub const GSI2: Gsi = Gsi { name: "gsi2", pk: "gsi2pk", sk: "gsi2sk", keys_only: true };

/// Per project and status: the queue by status (every status: the partitions merged), and
/// the held requests.
pub const GSI3: Gsi = Gsi { name: "gsi3", pk: "gsi3pk", sk: "gsi3sk", keys_only: false };

/// Per organization: the requests shared with it (sparse: only requests with one set).
pub const GSI4: Gsi = Gsi { name: "gsi4", pk: "gsi4pk", sk: "gsi4sk", keys_only: false };

/// Per project, assignee (or `none`) and status: the Mine / Unassigned / an agent's queues.
/// Keys only: a reply moves neither its keys nor anything projected, so it writes nothing
/// here (only an assignment or a status change does); reads fetch the requests by key.
pub const GSI5: Gsi = Gsi { name: "gsi5", pk: "gsi5pk", sk: "gsi5sk", keys_only: true };

/// Per project and status: the requests by latest activity (the queue's `sort=activity`, the
/// console's default), not while held. Keys only: every change moves the key (a delete and a
/// put of a key-sized entry); reads fetch the requests by key.
pub const GSI6: Gsi = Gsi { name: "gsi6", pk: "gsi6pk", sk: "gsi6sk", keys_only: true };

pub const GSIS: [Gsi; 6] = [GSI1, GSI2, GSI3, GSI4, GSI5, GSI6];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
    Gsi3,
    Gsi4,
    Gsi5,
    Gsi6,
}

impl Index {
    pub fn gsi(self) -> Option<Gsi> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some(GSI1),
            Index::Gsi2 => Some(GSI2),
            Index::Gsi3 => Some(GSI3),
            Index::Gsi4 => Some(GSI4),
            Index::Gsi5 => Some(GSI5),
            Index::Gsi6 => Some(GSI6),
        }
    }
    pub fn key_names(self) -> (&'static str, &'static str) {
        match self.gsi() {
            None => (PK, SK),
            Some(g) => (g.pk, g.sk),
        }
    }
}
