//! Helpers for domain unit tests: an app on the in-memory store with a fixed clock.

use crate::app::{App, Clock, Config};
use crate::mailer::Outbox;
use crate::store::MemoryStore;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

pub fn test_config() -> Config {
    Config {
        table_name: "test".into(),
        mail_from: "helpdesk@desk.example".into(),
        public_base_url: "http://127.0.0.1:3000".into(),
        support_domain: "desk.example".into(),
    }
}

pub fn memory_app() -> (App, Arc<Outbox>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let outbox = Arc::new(Outbox::default());
    let mut app = App::new(store.clone(), outbox.clone(), test_config());
    app.clock = Clock::Fixed(Arc::new(AtomicI64::new(1_800_000_000)));
    (app, outbox, store)
}
