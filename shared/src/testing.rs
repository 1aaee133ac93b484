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
        files_bucket: None,
    }
}

pub fn memory_app() -> (App, Arc<Outbox>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let outbox = Arc::new(Outbox::default());
    let mut app = App::new(store.clone(), outbox.clone(), test_config());
    app.files = Arc::new(crate::files::MemoryFiles::default());
    app.clock = Clock::Fixed(Arc::new(AtomicI64::new(1_800_000_000)));
    (app, outbox, store)
}

use crate::domain::caller::Caller;
use crate::domain::email::EmailAddress;
use crate::model::{ProjectRole, Request};

/// A helpdesk on the in-memory store with an app admin, for use-case tests.
pub struct Desk {
    pub app: App,
    pub outbox: Arc<Outbox>,
    pub store: Arc<MemoryStore>,
    pub admin: Caller,
}

impl Desk {
    pub async fn new() -> Desk {
        let (app, outbox, store) = memory_app();
        crate::projects::bootstrap_app_admin(&app, "admin@example.com").await.unwrap();
        let mut desk = Desk { app, outbox, store, admin: Caller::Anonymous };
        desk.admin = desk.sign_in("admin@example.com").await;
        desk
    }

    /// Signs in by the emailed link, as a person would.
    pub async fn sign_in(&self, email: &str) -> Caller {
        crate::auth::request_magic_link(&self.app, email).await.unwrap();
        let text = self.outbox.sent().last().unwrap().text.clone();
        let token = text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        Caller::session(Some(&crate::auth::create_session(&self.app, &token).await.unwrap().0))
    }

    pub async fn project(&self, key: &str) {
        let input = crate::projects::NewProject { key: key.into(), name: key.into(), support_address: None };
        crate::projects::create_project(&self.app, &self.admin, Ok(input)).await.unwrap();
    }

    pub async fn staff(&self, email: &str, project: &str, role: ProjectRole) -> Caller {
        let address = EmailAddress::parse(email).unwrap();
        crate::projects::grant_role(&self.app, &address, project, role, None).await.unwrap();
        self.sign_in(email).await
    }

    pub async fn raise(&self, caller: &Caller, project: &str, summary: &str) -> Request {
        let input = crate::requests::NewRequest {
            summary: summary.into(),
            description: String::new(),
            form: None,
            fields: Default::default(),
            channel: Default::default(),
            follow_up_of: None,
        };
        crate::requests::create_request(&self.app, caller, project, Ok(input), Ok(None)).await.unwrap().0 .1
    }
}

pub use crate::domain::requests::open_request;
