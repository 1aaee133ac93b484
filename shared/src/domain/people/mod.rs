//! People: signing in and addresses (`auth`), how people and the team are named (`authors`),
//! who a request is shared with (`participants`, customers) and organizations.

pub mod auth;
pub mod authors;
pub mod organizations;
pub mod participants;
