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
    _driver: tokio::process::Child,
}

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
                    return Browser { client, name: name.to_string(), step: Default::default(), _driver: driver };
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

    /// Saves a screenshot of the page as it is now.
    pub async fn shot(&self, what: &str) -> PathBuf {
        let n = self.step.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_dir().join(format!("{}-{n:02}-{what}.png", self.name));
        std::fs::write(&path, png).unwrap();
        path
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

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
