//! A team working the queue: who owns a request, how urgent it is and whether it waits on the
//! customer (`update`); the project's agents, their availability and load (`roster`); the
//! automatic assignment of new requests (`assign`).

mod assign;
mod removal;
mod roles;
mod roster;
mod update;

pub use assign::pick;
pub(crate) use assign::{claim_agent, release_agent};
pub use removal::{remove_agent, Removed};
pub(crate) use roles::{set_role, Grantee};
pub use roster::{get_team, team_key, update_agent, AgentPatch};
pub(crate) use roster::{load_team, load_write, moves_load, read_team, release_writes, team_in};
pub use update::{parse_if_match, update_request_fields, RequestPatch};
