//! Email both ways: mail coming in (`inbound`, threaded by `reply_address`), mail going out
//! (`notify`, and the messages themselves in `emails`), and addresses (`email`).

pub mod email;
pub mod emails;
pub mod inbound;
pub mod notify;
pub mod reply_address;
