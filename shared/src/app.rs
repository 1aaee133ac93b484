//! What every function sets up once per cold start: config from env, SDK clients, tracing.

use crate::files::{FileStore, NoFiles, S3Files};
use crate::mailer::{Mailer, NoMail, SesMailer};
use crate::model::Timestamp;
use crate::store::{DynamoStore, Store};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The From address of every email the helpdesk sends.
    pub mail_from: String,
    /// Where people reach the helpdesk; magic links and public links point here.
    pub public_base_url: String,
    /// Domain of the default support addresses (`<project key>@<domain>`).
    pub support_domain: String,
    /// The bucket that keeps email attachments (`FILES_BUCKET`), for the functions that store
    /// or hand them out.
    pub files_bucket: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError(message.into())
    }
}

impl Config {
    /// Whether the helpdesk is served over HTTPS (every deployment; the local run is not).
    pub fn https(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }

    /// The session cookie's name. Over HTTPS it takes the `__Host-` prefix: browsers then
    /// accept it only from this host, secure and for the whole site, so no sibling subdomain
    /// can plant one (a login CSRF by cookie).
    pub fn session_cookie(&self) -> &'static str {
        if self.https() {
            "__Host-hd_session"
        } else {
            "hd_session"
        }
    }

    /// The anonymous visitor's cookie (what sign-in forms' CSRF tokens bind to), named as the
    /// session cookie is.
    pub fn anon_cookie(&self) -> &'static str {
        if self.https() {
            "__Host-hd_anon"
        } else {
            "hd_anon"
        }
    }

    /// Reads and validates the environment once, at cold start.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| {
            get(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| ConfigError(format!("{name} must be set")))
        };
        let table_name = required("TABLE_NAME")?;
        let mail_from = required("MAIL_FROM")?;
        let mail_domain = mail_from
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>').to_string())
            .filter(|d| !d.is_empty())
            .ok_or_else(|| ConfigError("MAIL_FROM must be an email address".into()))?;
        let public_base_url = required("PUBLIC_BASE_URL")?.trim_end_matches('/').to_string();
        if !(public_base_url.starts_with("https://") || public_base_url.starts_with("http://")) {
            return Err(ConfigError("PUBLIC_BASE_URL must be an http(s) URL".into()));
        }
        let support_domain = get("SUPPORT_DOMAIN").filter(|d| !d.is_empty()).unwrap_or(mail_domain);
        let files_bucket = get("FILES_BUCKET").filter(|b| !b.trim().is_empty());
        Ok(Config { table_name, mail_from, public_base_url, support_domain, files_bucket })
    }
}

/// The time the domain sees: the system clock, or a fixed one that tests move.
#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default(),
            Clock::Fixed(t) => t.load(Ordering::SeqCst),
        }
    }
    pub fn advance(&self, seconds: i64) {
        if let Clock::Fixed(t) = self {
            t.fetch_add(seconds, Ordering::SeqCst);
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub files: Arc<dyn FileStore>,
    pub config: Config,
    pub clock: Clock,
    /// The signing keys, read from the table on first use and kept a few minutes.
    pub signing_keys: Arc<std::sync::RwLock<Option<(crate::model::SigningKeys, std::time::Instant)>>>,
    /// Starts the webhook sender on a delivery without waiting for it (the functions that
    /// create or retry deliveries have one; None elsewhere).
    pub webhook_sender: Option<Arc<dyn Invoke>>,
    /// Hands changed requests to the search indexer without waiting (the automations
    /// function has one; None elsewhere).
    pub indexer: Option<Arc<dyn Invoke>>,
    /// The search index, for the functions that search or write it.
    pub search: Option<Arc<crate::search::SearchIndex>>,
}

/// Hands work to another function without waiting for it: Lambda's asynchronous invoke in
/// AWS, the handler spawned in the local run.
#[async_trait::async_trait]
pub trait Invoke: Send + Sync {
    async fn invoke(&self, payload: serde_json::Value) -> Result<(), String>;
}

impl App {
    pub fn new(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, config: Config) -> Self {
        App {
            store,
            mailer,
            files: Arc::new(NoFiles),
            config,
            clock: Clock::System,
            signing_keys: Default::default(),
            webhook_sender: None,
            indexer: None,
            search: None,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// This app, handing changed requests to the search indexer.
    pub fn with_indexer(self, indexer: Arc<dyn Invoke>) -> Self {
        App { indexer: Some(indexer), ..self }
    }

    /// This app, searching (and able to write) the index whose files are in `bucket`.
    pub fn with_search_in(self, s3: aws_sdk_s3::Client, bucket: &str) -> Self {
        let files = Arc::new(crate::search::S3IndexFiles::new(s3, bucket.to_string()));
        let root = crate::search::SearchIndex::root_for(&self.config.table_name);
        App { search: Some(Arc::new(crate::search::SearchIndex::new(files, root))), ..self }
    }

    /// The search index in the configured bucket (`FILES_BUCKET`, under `search/`).
    pub fn with_search(self, sdk: &aws_config::SdkConfig) -> Self {
        match self.config.files_bucket.clone() {
            Some(bucket) => self.with_search_in(Self::s3_client(sdk), &bucket),
            None => self,
        }
    }

    /// This app, handing webhook deliveries to `sender`.
    pub fn with_webhook_sender(self, sender: Arc<dyn Invoke>) -> Self {
        App { webhook_sender: Some(sender), ..self }
    }

    /// The AWS SDK config: region and credentials from the usual chain, endpoints from
    /// `AWS_ENDPOINT_URL(_<SERVICE>)` when set (local runs), short timeouts so a stalled
    /// store surfaces as 503 instead of a Lambda timeout.
    pub async fn aws_config() -> aws_config::SdkConfig {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2))
            .operation_attempt_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(8))
            .build();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Ok(region) = std::env::var("AWS_REGION") {
            loader = loader.region(aws_config::Region::new(region));
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
            loader =
                loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
        }
        loader.timeout_config(timeouts).retry_config(Self::retry_config()).load().await
    }

    /// Throttling, conflicts and dropped connections are retried with jittered backoff, then
    /// surface as 503 `storage_unavailable`.
    pub fn retry_config() -> aws_config::retry::RetryConfig {
        aws_config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(50))
            .with_max_backoff(Duration::from_secs(1))
    }

    /// DynamoDB store and (when the function sends mail) the SES mailer, with their
    /// connections warmed during init.
    pub async fn connect(config: Config, sends_mail: bool) -> Self {
        Self::connect_with(&Self::aws_config().await, config, sends_mail).await
    }

    /// `connect` with an SDK config already loaded (loading it walks the credential and
    /// region chains, so a function does it once).
    pub async fn connect_with(sdk: &aws_config::SdkConfig, config: Config, sends_mail: bool) -> Self {
        let (app, warm_up) = Self::from_sdk(sdk, config, sends_mail);
        warm_up.await;
        app
    }

    /// The clients, and a call through each that opens its connection (TLS, signing) so the
    /// first request does not pay for it: init runs at full CPU, often before any request.
    pub fn from_sdk(
        sdk: &aws_config::SdkConfig,
        config: Config,
        sends_mail: bool,
    ) -> (Self, impl std::future::Future<Output = ()>) {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let store = DynamoStore::new(dynamodb.clone(), config.table_name.clone());
        let warm_store = DynamoStore::new(dynamodb, config.table_name.clone());
        let ses = sends_mail.then(|| aws_sdk_sesv2::Client::new(sdk));
        let warm_ses = ses.clone().map(|client| SesMailer::new(client, config.mail_from.clone()));
        let mailer: Arc<dyn Mailer> = match ses {
            Some(client) => Arc::new(SesMailer::new(client, config.mail_from.clone())),
            None => Arc::new(NoMail),
        };
        let warm_up = async move {
            match warm_ses {
                Some(ses) => drop(tokio::join!(warm_store.warm_up(), ses.warm_up())),
                None => warm_store.warm_up().await,
            }
        };
        (App::new(Arc::new(store), mailer, config), warm_up)
    }

    /// Keeps files in the configured bucket (`FILES_BUCKET`). Only the functions that store or
    /// hand out attachments call this, so the others do not carry the S3 client at all.
    pub fn with_s3_files(mut self, sdk: &aws_config::SdkConfig) -> Self {
        if let Some(bucket) = self.config.files_bucket.clone() {
            self.files = Arc::new(S3Files::new(Self::s3_client(sdk), bucket, sdk.credentials_provider()));
        }
        self
    }

    /// An S3 client; with a local endpoint (moto) it names buckets in the path, since
    /// 127.0.0.1 has no per-bucket host names.
    pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let local = std::env::var("AWS_ENDPOINT_URL_S3").or_else(|_| std::env::var("AWS_ENDPOINT_URL")).is_ok();
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(local).build())
    }
}

/// Everything an HTTP function's `main` does: JSON logs, the config read and validated once
/// (a bad one fails the init, before any request), SDK clients made and warmed once, then
/// the runtime loop. The app lives as long as the process, so it is leaked to `'static`.
pub async fn run_http<F, Fut>(sends_mail: bool, handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    serve_http(init_http(sends_mail, false).await?, handle).await
}

/// `run_http` for the functions that hand out attachments (presigned S3 URLs) and search
/// (the index lives in the same bucket).
pub async fn run_http_with_files<F, Fut>(sends_mail: bool, handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    serve_http(init_http(sends_mail, true).await?, handle).await
}

async fn init_http(sends_mail: bool, files: bool) -> Result<App, lambda_http::Error> {
    let mut steps = InitSteps::start();
    let config = or_init_error(Config::from_env()).await?;
    steps.mark("config");
    let sdk = App::aws_config().await;
    steps.mark("sdk_config");
    let (mut app, warm_up) = App::from_sdk(&sdk, config, sends_mail);
    if files {
        app = app.with_s3_files(&sdk).with_search(&sdk);
    }
    steps.mark("clients");
    warm_up.await;
    steps.mark("warm_up");
    steps.log();
    Ok(app)
}

/// The set-up of a function fed by events rather than HTTP (the stream, a schedule, an
/// asynchronous invoke), once per cold start: config read and validated, SDK clients made and
/// warmed (SES when it `sends_mail`; the webhook sender's invoker when it `hands_on_webhooks`,
/// named by `WEBHOOK_SENDER`), each step timed and logged. A bad environment is reported to
/// the Runtime API as an init error.
pub async fn init_event_function(
    sends_mail: bool,
    hands_on_webhooks: bool,
) -> Result<&'static App, lambda_http::Error> {
    init_event_function_with(sends_mail, hands_on_webhooks, false).await
}

/// The search indexer's set-up: an event function that writes the index in `FILES_BUCKET`.
pub async fn init_indexer() -> Result<&'static App, lambda_http::Error> {
    init_event_function_with(false, false, true).await
}

async fn init_event_function_with(
    sends_mail: bool,
    hands_on_webhooks: bool,
    writes_search: bool,
) -> Result<&'static App, lambda_http::Error> {
    let mut steps = InitSteps::start();
    let config = or_init_error(Config::from_env()).await?;
    if writes_search && config.files_bucket.is_none() {
        or_init_error(Err(ConfigError::new("FILES_BUCKET must be set: the search index lives there"))).await?;
    }
    steps.mark("config");
    let sdk = App::aws_config().await;
    steps.mark("sdk_config");
    let sender = match hands_on_webhooks {
        true => Some(or_init_error(crate::invoke::LambdaInvoker::from_env(&sdk, "WEBHOOK_SENDER")).await?),
        false => None,
    };
    // A function given `SEARCH_INDEXER` hands the requests it sees change to the indexer.
    let indexer = std::env::var("SEARCH_INDEXER").ok().filter(|v| !v.trim().is_empty());
    let (mut app, warm_up) = App::from_sdk(&sdk, config, sends_mail);
    if let Some(sender) = sender {
        app = app.with_webhook_sender(Arc::new(sender));
    }
    if indexer.is_some() {
        let invoker = or_init_error(crate::invoke::LambdaInvoker::from_env(&sdk, "SEARCH_INDEXER")).await?;
        app = app.with_indexer(Arc::new(invoker));
    }
    if writes_search {
        app = app.with_search(&sdk);
    }
    let app: &'static App = Box::leak(Box::new(app));
    steps.mark("clients");
    warm_up.await;
    steps.mark("warm_up");
    steps.log();
    Ok(app)
}

/// How long each init step took, logged once as an `init` line: where a cold start's time
/// goes after `main` starts (tracing set up first, so it can log).
pub struct InitSteps {
    started: std::time::Instant,
    last: std::time::Instant,
    steps: Vec<String>,
}

impl InitSteps {
    pub fn start() -> Self {
        init_tracing();
        let now = std::time::Instant::now();
        InitSteps { started: now, last: now, steps: vec![] }
    }

    pub fn mark(&mut self, step: &str) {
        let now = std::time::Instant::now();
        self.steps.push(format!("{step}={:.2}", (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }

    pub fn log(self) {
        let total_ms = (self.last - self.started).as_secs_f64() * 1000.0;
        tracing::info!(steps_ms = %self.steps.join(" "), total_ms, "init");
    }
}

async fn serve_http<F, Fut>(app: App, handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    let app: &'static App = Box::leak(Box::new(app));
    lambda_http::run(lambda_http::service_fn(move |req| {
        let answer = handle(app, req);
        async move { Ok::<_, std::convert::Infallible>(answer.await) }
    }))
    .await
}

/// An init step's result; a failure is posted to the Runtime API's `/init/error` first, so
/// Lambda reports `Runtime.InitError` with the reason (instead of an unexplained exit) and
/// does not send the function any event. `main` then returns the error and the process exits.
/// Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) the error is only returned.
pub async fn or_init_error<T, E: Into<lambda_http::Error>>(result: Result<T, E>) -> Result<T, lambda_http::Error> {
    let error = match result {
        Ok(value) => return Ok(value),
        Err(e) => e.into(),
    };
    tracing::error!(error = %error, "init failed");
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        if let Err(e) = report_init_error(&error.to_string()).await {
            tracing::error!(error = %e, "could not report the init error to the Runtime API");
        }
    }
    Err(error)
}

async fn report_init_error(message: &str) -> Result<(), lambda_http::Error> {
    let body = serde_json::json!({ "errorType": "InitError", "errorMessage": message }).to_string();
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .body(lambda_runtime_api_client::body::Body::from(body))?;
    let answer = lambda_runtime_api_client::PooledClient::builder().build().call(request).await?;
    if !answer.status().is_success() {
        return Err(format!("/init/error answered {}", answer.status()).into());
    }
    Ok(())
}

/// JSON logs, one object per line; `RUST_LOG` filters (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .with_target(false)
        .flatten_event(true)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn config_reads_and_derives() {
        let c = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("MAIL_FROM", "Help <help@desk.example>"),
            ("PUBLIC_BASE_URL", "https://desk.example/"),
        ]))
        .unwrap();
        assert_eq!(c.support_domain, "desk.example");
        assert_eq!(c.public_base_url, "https://desk.example");
    }

    #[test]
    fn config_rejects_missing_or_bad_values() {
        assert!(Config::from_lookup(env(&[("MAIL_FROM", "a@b.c"), ("PUBLIC_BASE_URL", "http://x")])).is_err());
        assert!(Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("MAIL_FROM", "nobody"),
            ("PUBLIC_BASE_URL", "http://x")
        ]))
        .is_err());
        assert!(Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("MAIL_FROM", "a@b.c"),
            ("PUBLIC_BASE_URL", "ftp://x")
        ]))
        .is_err());
    }
}
