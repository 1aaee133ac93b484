//! MIME in and out: the adapters between raw messages and the domain's plain types.

mod charset;
pub mod incoming;
pub mod machine;
pub mod outgoing;
mod parts;
mod sender;
