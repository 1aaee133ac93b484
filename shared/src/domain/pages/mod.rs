//! What the web pages read in one go: the agent console (`desk`) and the customer portal.

pub mod desk;
pub mod portal;
