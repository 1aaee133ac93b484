//! End-to-end harness: a fresh table in DynamoDB Local, moto for SES, and the local gateway on
//! a free port, all per test. `scripts/test.sh` starts the servers and sets
//! HELPDESK_TEST_DYNAMODB and HELPDESK_TEST_MOTO to their URLs.

pub mod browser;
pub mod cost;
pub mod events;
pub mod fault;
pub mod forms;
mod pipelines;
pub mod receiver;
pub mod recording;
pub mod runtime;

use aws_sdk_dynamodb::config::{Credentials, Region};
use helpdesk::store::DynamoStore;
use helpdesk::{App, Config};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub struct Harness {
    pub base: String,
    pub app: App,
    pub store: DynamoStore,
    pub table: String,
    pub suffix: String,
    moto: String,
    pub local_mail: helpdesk_tools::local_mail::LocalMail,
    stream: tokio::sync::Mutex<Option<helpdesk_tools::stream::StreamPoller>>,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Webhook deliveries handed to the sender, waiting for `run_webhooks`.
    webhooks: Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Value>>>,
    /// Changed requests handed to the search indexer, waiting for `run_indexer`.
    index_queue: Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Value>>>,
    /// Stands in for Lambda's Invoke API for the functions' binaries (202 to every call):
    /// what the automations binary hands the indexer lands here.
    pub lambda: receiver::Receiver,
}

impl Drop for Harness {
    /// Stops the gateway and deletes the test's table, so hundreds of runs never pile up
    /// tables in one DynamoDB Local. The test's own runtime may be ending: the delete gets a
    /// thread, a runtime and a client of its own.
    fn drop(&mut self) {
        self.server.abort();
        let table = self.table.clone();
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let client = aws_sdk_dynamodb::Client::new(&sdk_config(&required_env("HELPDESK_TEST_DYNAMODB")).await);
                client.delete_table().table_name(&table).send().await.ok()
            })
        })
        .join();
        if !matches!(deleted, Ok(Some(_))) {
            eprintln!("test table {} was not deleted", self.table);
        }
        // The search index's local files, and those of any other environment the test made.
        let _ = std::fs::remove_dir_all(self.search_root(""));
        for other in ["cold", "race", "bench"] {
            let _ = std::fs::remove_dir_all(self.search_root(other));
        }
    }
}

impl Harness {
    /// The local directory of the test's search index (`other` empty), or of another Lambda
    /// environment's copy of it.
    pub fn search_root(&self, other: &str) -> std::path::PathBuf {
        let root = helpdesk::search::SearchIndex::root_for(&self.table);
        if other.is_empty() {
            root
        } else {
            root.with_file_name(format!("{}-{other}", self.table))
        }
    }

    /// This harness's app as another Lambda environment has it: the same table and bucket,
    /// its own local copy of the search index.
    pub fn other_environment(&self, name: &str) -> App {
        let mut app = self.app.clone();
        let files = self.app.search.as_ref().expect("the harness searches").files.clone();
        app.search = Some(Arc::new(helpdesk::search::SearchIndex::new(files, self.search_root(name))));
        app
    }
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test.sh, which starts DynamoDB Local and moto")
    })
}

pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// A page as a browser without script gets it: redirects are not followed.
#[derive(Debug)]
pub struct PageAnswer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl PageAnswer {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// Every Set-Cookie header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    }
    /// The value of a cookie this answer sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            let (k, rest) = c.split_once('=')?;
            (k == name).then(|| rest.split(';').next().unwrap_or("").to_string())
        })
    }
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        self.text.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a form").to_string()
    }
}

/// An HTTP answer: status and JSON body (Null when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Harness {
    pub async fn start() -> Harness {
        let endpoint = required_env("HELPDESK_TEST_DYNAMODB");
        Self::start_with_dynamodb(&endpoint, Duration::from_secs(3), Duration::from_secs(8)).await
    }

    /// Like `start`, with every DynamoDB and SES action recorded per function.
    pub async fn start_recording() -> (Harness, recording::Observed) {
        let mut h = Self::start().await;
        let observed = recording::Observed::default();
        h.app.store = Arc::new(recording::RecordingStore { inner: h.app.store.clone(), observed: observed.clone() });
        h.app.mailer = Arc::new(recording::RecordingMailer { inner: h.app.mailer.clone(), observed: observed.clone() });
        h.app.files = Arc::new(recording::RecordingFiles { inner: h.app.files.clone(), observed: observed.clone() });
        if let Some(inner) = h.app.webhook_sender.clone() {
            h.app.webhook_sender = Some(Arc::new(recording::RecordingInvoke { inner, observed: observed.clone() }));
        }
        if let Some(inner) = h.app.indexer.clone() {
            h.app.indexer = Some(Arc::new(recording::RecordingInvoke { inner, observed: observed.clone() }));
        }
        if let Some(search) = h.app.search.clone() {
            let files =
                Arc::new(recording::RecordingIndexFiles { inner: search.files.clone(), observed: observed.clone() });
            let root = helpdesk::search::SearchIndex::root_for(&h.table);
            h.app.search = Some(Arc::new(helpdesk::search::SearchIndex::new(files, root)));
        }
        h.server.abort();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        h.base = format!("http://{}", listener.local_addr().unwrap());
        h.app.config.public_base_url = h.base.clone();
        h.server = tokio::spawn(helpdesk_tools::gateway::serve(h.app.clone(), Some(h.local_mail.clone()), listener));
        (h, observed)
    }

    /// Like `start`, with the functions' DynamoDB traffic through a fault-injecting proxy and
    /// short timeouts (1 s a try, 3 s a call), so faults show quickly.
    pub async fn start_with_faults() -> (Harness, fault::FaultProxy) {
        let proxy = fault::FaultProxy::start(&required_env("HELPDESK_TEST_DYNAMODB")).await;
        let harness = Self::start_with_dynamodb(&proxy.url, Duration::from_secs(1), Duration::from_secs(3)).await;
        (harness, proxy)
    }

    /// Like `start`, with the functions' DynamoDB traffic sent to `endpoint`.
    pub async fn start_with_dynamodb(endpoint: &str, attempt_timeout: Duration, call_timeout: Duration) -> Harness {
        let ddb_url = required_env("HELPDESK_TEST_DYNAMODB");
        let moto = required_env("HELPDESK_TEST_MOTO");
        let suffix = ulid::Ulid::new().to_string().to_lowercase();
        let table = format!("t_{suffix}");
        let admin_client = aws_sdk_dynamodb::Client::new(&sdk_config(&ddb_url).await);
        helpdesk_tools::local::ensure_table(&admin_client, &table).await.expect("table created");
        // Bound first, so links in emails point at this test's gateway.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let config = Config {
            table_name: table.clone(),
            mail_from: "helpdesk@desk.test".into(),
            public_base_url: base.clone(),
            support_domain: "desk.test".into(),
            files_bucket: Some(format!("inbound-{suffix}")),
        };
        let ses = aws_sdk_sesv2::Client::new(&sdk_config(&moto).await);
        helpdesk_tools::local::verify_sender(&ses, &config.mail_from).await.expect("sender verified");
        let mut ddb_conf = aws_sdk_dynamodb::config::Builder::from(&sdk_config(endpoint).await);
        ddb_conf.set_timeout_config(Some(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(attempt_timeout)
                .operation_attempt_timeout(attempt_timeout)
                .operation_timeout(call_timeout)
                .build(),
        ));
        ddb_conf.set_retry_config(Some(App::retry_config()));
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(ddb_conf.build()), table.clone());
        let mailer = helpdesk::mailer::SesMailer::new(ses, config.mail_from.clone());
        let (sender, deliveries) = helpdesk_tools::invoke::queued_sender();
        let (indexer, index_queue) = helpdesk_tools::invoke::queued_sender();
        let moto_sdk = sdk_config(&moto).await;
        let files_bucket = config.files_bucket.clone().unwrap_or_default();
        let mut app = App::new(Arc::new(store.clone()), Arc::new(mailer), config)
            .with_webhook_sender(sender)
            .with_indexer(indexer)
            .with_search_in(helpdesk_tools::local::path_style_s3(&moto_sdk), &files_bucket);
        app.files = Arc::new(helpdesk::files::S3Files::new(
            helpdesk_tools::local::path_style_s3(&moto_sdk),
            files_bucket.clone(),
            moto_sdk.credentials_provider(),
        ));
        let local_mail = helpdesk_tools::local_mail::LocalMail {
            s3: helpdesk_tools::local::path_style_s3(&moto_sdk),
            mail: helpdesk_inbound::MailBucket { bucket: format!("inbound-{suffix}"), prefix: "inbound/".into() },
        };
        local_mail.ensure_bucket().await.expect("inbound bucket in moto");
        let server = tokio::spawn(helpdesk_tools::gateway::serve(app.clone(), Some(local_mail.clone()), listener));
        let stream = Default::default();
        let webhooks = Arc::new(tokio::sync::Mutex::new(deliveries));
        let index_queue = Arc::new(tokio::sync::Mutex::new(index_queue));
        let lambda = receiver::Receiver::start(&[202]).await;
        Harness {
            base,
            app,
            store,
            table,
            suffix,
            moto,
            local_mail,
            stream,
            http: reqwest::Client::new(),
            server,
            webhooks,
            index_queue,
            lambda,
        }
    }

    /// An address unique to this test, so parallel tests never read each other's mail.
    pub fn email(&self, name: &str) -> String {
        format!("{name}-{}@example.com", self.suffix)
    }

    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call_raw(method, path, token, body.map(|b| b.to_string()), &[]).await
    }

    /// A setup call: it must succeed (2xx), or the test stops here, not at a later 403/404
    /// that would pass for the wrong reason.
    #[track_caller]
    pub fn ok<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        token: Option<&'a str>,
        body: Option<Value>,
    ) -> impl std::future::Future<Output = Answer> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let answer = self.call(method, path, token, body).await;
            assert!((200..300).contains(&answer.status), "setup {method} {path} at {caller}: {answer:?}");
            answer
        }
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.expect("gateway answers");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Answer { status, body }
    }

    /// A page request with cookies (`name=value; ...`) and a form body, as a browser sends it.
    pub async fn page(&self, method: &str, path: &str, cookies: &str, form: Option<&[(&str, &str)]>) -> PageAnswer {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client.request(method, format!("{}{path}", self.base)).header("accept", "text/html");
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        if let Some(fields) = form {
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            req = req.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let res = req.send().await.expect("gateway answers");
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        PageAnswer { status, headers, text: res.text().await.unwrap() }
    }

    /// Moto's whole state, as `/moto-api/data.json` reports it. That route checks each model
    /// attribute is JSON and then dumps them all; an S3 write landing in between (another test's
    /// mail) makes it fail with a 500 now and then, so a failed read is tried again.
    async fn moto_data(&self) -> Value {
        let url = format!("{}/moto-api/data.json", self.moto);
        let mut last = String::new();
        for _ in 0..40 {
            let res = self.http.get(&url).send().await.expect("moto answers");
            let ok = res.status().is_success();
            last = res.text().await.unwrap_or_default();
            if let (true, Ok(data)) = (ok, serde_json::from_str(&last)) {
                return data;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("moto's data.json never read whole; last answer: {}", &last[..last.len().min(500)]);
    }

    /// How many emails moto's SES has sent so far, to anyone (simple and raw).
    pub async fn sent_count(&self) -> usize {
        let data = self.moto_data().await;
        ["Message", "RawMessage"].iter().map(|kind| data["ses"][kind].as_array().map_or(0, Vec::len)).sum()
    }

    /// Every email moto's SES has sent to `to`, oldest first, as (subject, body).
    pub async fn mail_to(&self, to: &str) -> Vec<(String, String)> {
        let data = self.moto_data().await;
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|a| a.iter().any(|x| x == to)))
            .map(|m| (m["subject"].as_str().unwrap_or("").to_string(), m["body"].as_str().unwrap_or("").to_string()))
            .collect()
    }

    /// The environment the template gives function `binary`, pointed at this test's table,
    /// buckets, gateway address and local servers: what `runtime::Function::start` takes.
    pub fn function_env(&self, binary: &str) -> Vec<(String, String)> {
        let config = &self.app.config;
        let mut env: Vec<(String, String)> =
            helpdesk_tools::template::environment(&helpdesk_tools::template::load(), binary, |name| match name {
                "Table" => Some(self.table.clone()),
                "MailFrom" => Some(config.mail_from.clone()),
                "PublicBaseUrl" => Some(config.public_base_url.clone()),
                "SupportDomain" => Some(config.support_domain.clone()),
                "MailBucket" => Some(self.local_mail.mail.bucket.clone()),
                // Locally there is no Lambda to invoke: a name that reaches nothing (tests never
                // make deliveries through the binaries).
                "WebhooksFunction" => Some("webhooks".into()),
                "IndexerFunction" => Some("indexer".into()),
                _ => None,
            })
            .into_iter()
            .collect();
        let ddb = required_env("HELPDESK_TEST_DYNAMODB");
        for (name, value) in [
            ("AWS_ENDPOINT_URL_DYNAMODB", ddb.as_str()),
            ("AWS_ENDPOINT_URL_S3", self.moto.as_str()),
            ("AWS_ENDPOINT_URL_SESV2", self.moto.as_str()),
            ("AWS_ENDPOINT_URL_LAMBDA", self.lambda.url.trim_end_matches("/hook")),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
        ] {
            env.push((name.into(), value.into()));
        }
        env
    }

    /// The token of the newest magic link sent to `email`.
    pub async fn magic_token(&self, email: &str) -> Option<String> {
        let mail = self.mail_to(email).await;
        let (_, body) = mail.last()?;
        let token = body.split("token=").nth(1)?.split(|c: char| c == '&' || c.is_whitespace()).next()?;
        Some(token.to_string())
    }

    /// Signs in by the emailed link, as a person would: returns the bearer token.
    pub async fn sign_in(&self, email: &str) -> String {
        let asked = self.call("POST", "/auth/magic-link", None, Some(json!({"email": email}))).await;
        assert_eq!(asked.status, 202, "{asked:?}");
        let token = self.magic_token(&email.to_lowercase()).await.expect("a magic link was emailed");
        let session = self.call("POST", "/auth/session", None, Some(json!({"token": token}))).await;
        assert_eq!(session.status, 201, "{session:?}");
        session.body["token"].as_str().unwrap().to_string()
    }

    /// An app admin (bootstrapped as the CLI does) with a project `key` they administer.
    pub async fn admin_with_project(&self, key: &str) -> String {
        let admin = self.email("admin");
        helpdesk::projects::bootstrap_app_admin(&self.app, &admin).await.unwrap();
        let token = self.sign_in(&admin).await;
        let created = self.call("POST", "/projects", Some(&token), Some(json!({"key": key, "name": "Help"}))).await;
        assert_eq!(created.status, 201, "{created:?}");
        let made_admin = self
            .call(
                "POST",
                &format!("/projects/{key}/agents"),
                Some(&token),
                Some(json!({"email": admin, "role": "admin"})),
            )
            .await;
        assert_eq!(made_admin.status, 201, "{made_admin:?}");
        token
    }
}
