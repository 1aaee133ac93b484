//! What every use case stands on: who is asking (`caller`), whether they may (`access`), and
//! writing once (`idempotency`, `retry`), plus the signed tokens links carry (`signing`,
//! `link_token`).

pub mod access;
pub mod caller;
pub mod idempotency;
pub mod link_token;
pub mod retry;
pub mod signing;
