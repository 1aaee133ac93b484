//! A real browser for page tests: Debian's headless Chromium driven over WebDriver by
//! chromedriver (both installed by `scripts/setup.sh`), one driver per test on a free port.
//! Every step can save a screenshot under `target/browser-screenshots/`.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    name: String,
    step: std::sync::atomic::AtomicUsize,
    /// What the accessibility audit found on each page state shot so far.
    violations: std::sync::Mutex<Vec<String>>,
    _driver: tokio::process::Child,
}

/// axe-core's script (the npm package, installed by `scripts/setup.sh` into `.tools/axe`).
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = std::env::var("HELPDESK_AXE").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/axe/node_modules/axe-core/axe.min.js").to_string()
        });
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core at {path} ({e}): run scripts/setup.sh, which installs it"))
    })
}

/// Runs axe on the page and calls back with `[rule: targets]` per violation (WCAG 2.1 A and AA,
/// and best practices).
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
  .catch(e => done(['axe failed: ' + e]));"#;

/// Where screenshots go: `target/browser-screenshots/<test>-<step>.png`.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/browser-screenshots"))
}

fn chromium_binary() -> Option<&'static str> {
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].into_iter().find(|p| std::path::Path::new(p).exists())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session (no sandbox: tests run as root).
    pub async fn start(name: &str) -> Browser {
        // This test's shots from earlier runs go first: step numbers shift as tests change.
        let prefix = format!("{name}-");
        for old in std::fs::read_dir(screenshot_dir()).into_iter().flatten().flatten() {
            if old.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(old.path());
            }
        }
        let driver_bin = std::env::var("HELPDESK_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = tokio::process::Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{driver_bin} did not start ({e}): run scripts/setup.sh, which installs chromium-driver")
            });
        let url = format!("http://127.0.0.1:{port}");
        let mut options = json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                          "--window-size=1280,1000", "--lang=en-US"]});
        if let Some(binary) = chromium_binary() {
            options["binary"] = json!(binary);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut last_error = None;
        for _ in 0..50 {
            match ClientBuilder::new(connector.clone()).capabilities(caps.clone()).connect(&url).await {
                Ok(client) => {
                    std::fs::create_dir_all(screenshot_dir()).unwrap();
                    return Browser {
                        client,
                        name: name.to_string(),
                        step: Default::default(),
                        violations: Default::default(),
                        _driver: driver,
                    };
                }
                Err(e) => {
                    last_error = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("no WebDriver session: {last_error:?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
        self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("main")).await.unwrap();
    }

    /// Saves a screenshot of the page as it is now, and audits it with axe-core: every page
    /// state a test shows is checked (`close` fails the test on any violation).
    pub async fn shot(&self, what: &str) -> PathBuf {
        let n = self.step.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_dir().join(format!("{}-{n:02}-{what}.png", self.name));
        std::fs::write(&path, png).unwrap();
        let found = self.audit().await;
        let at = format!("{}-{n:02}-{what} ({})", self.name, self.path().await);
        self.violations.lock().unwrap().extend(found.into_iter().map(|v| format!("{at}: {v}")));
        path
    }

    /// axe-core's violations on the page as it is now.
    pub async fn audit(&self) -> Vec<String> {
        self.client.execute(axe_source(), vec![]).await.expect("axe-core loads");
        let found = self.client.execute_async(RUN_AXE, vec![]).await.expect("axe-core runs");
        found.as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Chooses the option with `value` in a `<select>`.
    pub async fn choose(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.select_by_value(value).await.unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    /// Clicks something that loads a new page, and waits until it has.
    pub async fn click(&self, css: &str) {
        self.navigate_by(Locator::Css(css)).await;
    }

    /// Clicks something that changes the page in place (a `<details>` summary).
    pub async fn toggle(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        element.click().await.unwrap();
    }

    pub async fn click_link(&self, text: &str) {
        self.navigate_by(Locator::LinkText(text)).await;
    }

    /// Presses Enter where the focus is (a keyboard user's click), and waits for the new page.
    /// Returns the text of what had the focus.
    pub async fn press_enter(&self) -> String {
        let focused = self.client.active_element().await.unwrap();
        let label = focused.text().await.unwrap_or_default();
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        focused.send_keys("\u{E007}").await.unwrap();
        self.wait_for_new_page(old).await;
        label
    }

    async fn navigate_by(&self, target: Locator<'_>) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        let element = self.client.find(target).await.unwrap_or_else(|e| panic!("{target:?}: {e}"));
        element.click().await.unwrap();
        self.wait_for_new_page(old).await;
    }

    async fn wait_for_new_page(&self, old: fantoccini::elements::Element) {
        // The old document goes stale once the new one replaces it.
        for _ in 0..200 {
            if old.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("main")).await.unwrap();
    }

    /// The visible text of the page's main content.
    pub async fn text(&self) -> String {
        self.client.find(Locator::Css("main")).await.unwrap().text().await.unwrap()
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Ends the session; fails when the accessibility audit found anything on a page shot.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let found = std::mem::take(&mut *self.violations.lock().unwrap());
        assert!(found.is_empty(), "accessibility violations (axe-core):\n{}", found.join("\n"));
    }
}
