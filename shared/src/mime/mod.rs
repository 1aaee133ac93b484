//! MIME in and out: the adapters between raw messages and the domain's plain types.

pub mod incoming;
pub mod outgoing;
