//! A headless Chromium session through chromedriver, with the few steps the tests take, each
//! bounded in time, and `check`, which writes a page's screenshot and runs axe-core over it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(15);

/// A chromedriver process on a free loopback port, stopped when dropped.
pub struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    pub async fn start(binary: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + STEP;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver did not listen within {STEP:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Driver { process, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One browser, in one language, on one keyward instance.
pub struct Browser {
    client: Client,
    base: String,
    axe: String,
    shots: PathBuf,
}

/// The screenshots taken so far in each folder. A test's first browser in a language clears
/// its folder; any further browser of the test (another person's) writes beside it, numbered
/// in the same sequence, so the folder reads as the story in order.
static TAKEN: Mutex<BTreeMap<PathBuf, usize>> = Mutex::new(BTreeMap::new());

/// Where screenshots go: `target/browser-screenshots/<language>/<test>/`, one folder per test
/// (the test thread's name), so tests running side by side never clear each other's; cleared
/// once per run.
fn screenshot_dir(lang: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let thread = std::thread::current();
    let test = thread
        .name()
        .and_then(|name| name.rsplit("::").next())
        .unwrap_or("browser");
    let dir = target.join("browser-screenshots").join(lang).join(test);
    let mut taken = TAKEN.lock().expect("screenshot counts");
    if !taken.contains_key(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        taken.insert(dir.clone(), 0);
    }
    dir
}

async fn within<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP, step)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {STEP:?}"))
}

impl Browser {
    pub async fn open(driver: &Driver, base: &str, lang: &str, axe: &str) -> Browser {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": crate::CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900", format!("--lang={lang}"),
                ],
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = within(
            "starting Chromium",
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&driver.url),
        )
        .await
        .expect("a Chromium session");
        Browser {
            client,
            base: base.trim_end_matches('/').to_owned(),
            axe: axe.to_owned(),
            shots: screenshot_dir(lang),
        }
    }

    pub async fn visit(&self, path: &str) {
        within(path, self.client.goto(&format!("{}{path}", self.base)))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Waits for `css` to appear; when it does not, fails with the page the browser is on.
    pub async fn wait_for(&self, css: &str) {
        let found = tokio::time::timeout(STEP, self.client.wait().at_most(STEP).for_element(Locator::Css(css))).await;
        if !matches!(found, Ok(Ok(_))) {
            let url = self
                .client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let source = self.client.source().await.unwrap_or_default();
            let png = self.client.screenshot().await.unwrap_or_default();
            let _ = std::fs::write(self.shots.join("failed.png"), png);
            panic!("no {css} on {url} within {STEP:?}; the page:\n{source}");
        }
    }

    pub async fn click(&self, css: &str) {
        let element = within(css, self.client.find(Locator::Css(css)))
            .await
            .unwrap_or_else(|e| panic!("no {css} to click: {e}"));
        within(css, element.click())
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks `css`, a button that sends a form, and waits until the browser has left the page it
    /// was on, so that what is looked for next is read from the answer, not from the old page.
    pub async fn submit(&self, css: &str) {
        let old = within("html", self.client.find(Locator::Css("html")))
            .await
            .expect("the page's root");
        self.click(css).await;
        let deadline = tokio::time::Instant::now() + STEP;
        while old.tag_name().await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} did not lead to a new page within {STEP:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the `css` element whose text is `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        let elements = within(css, self.client.find_all(Locator::Css(css)))
            .await
            .expect("elements");
        for element in elements {
            if element.text().await.is_ok_and(|t| t.trim() == text) {
                within(css, element.click())
                    .await
                    .unwrap_or_else(|e| panic!("click {css}: {e}"));
                return;
            }
        }
        panic!("no {css} reads {text:?}");
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = within(css, self.client.find(Locator::Css(css)))
            .await
            .unwrap_or_else(|e| panic!("no {css} to type into: {e}"));
        element.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        let element = within(css, self.client.find(Locator::Css(css)))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        element.text().await.expect("text").trim().to_owned()
    }

    /// The `name` attribute of the `css` element (empty when it has none).
    pub async fn attribute(&self, css: &str, name: &str) -> String {
        let element = within(css, self.client.find(Locator::Css(css)))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        element.attr(name).await.expect("attribute").unwrap_or_default()
    }

    /// The text of every `css` element, in the page's order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let elements = within(css, self.client.find_all(Locator::Css(css)))
            .await
            .unwrap_or_default();
        let mut texts = Vec::new();
        for element in elements {
            texts.push(element.text().await.expect("text").trim().to_owned());
        }
        texts
    }

    pub async fn count(&self, css: &str) -> usize {
        within(css, self.client.find_all(Locator::Css(css)))
            .await
            .map_or(0, |found| found.len())
    }

    /// Resizes the window (CSS pixels of the viewport, near enough) and says whether the page
    /// then fits it: no sideways scrolling of the whole page.
    pub async fn fits_width(&self, width: u32, height: u32) -> bool {
        within("resize", self.client.set_window_size(width, height))
            .await
            .expect("window resized");
        let script = "return document.documentElement.scrollWidth <= window.innerWidth";
        within("width", self.client.execute(script, vec![]))
            .await
            .expect("page width")
            .as_bool()
            .unwrap_or(false)
    }

    /// Scrolls the `css` element into the middle of the window, for a screenshot of it.
    pub async fn scroll_to(&self, css: &str) {
        let script = "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })";
        within(css, self.client.execute(script, vec![Value::from(css)]))
            .await
            .unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        within("url", self.client.current_url())
            .await
            .expect("current url")
            .to_string()
    }

    pub async fn html_lang(&self) -> String {
        let lang = within(
            "lang",
            self.client.execute("return document.documentElement.lang", vec![]),
        )
        .await
        .expect("document language");
        lang.as_str().unwrap_or_default().to_owned()
    }

    /// The form that holds the `css` button, as the browser would send it: its markup with the
    /// action made absolute.
    pub async fn form_of(&self, css: &str) -> String {
        let script = "const f = document.querySelector(arguments[0]).form; \
                      const copy = f.cloneNode(true); copy.setAttribute('action', f.action); \
                      return copy.outerHTML;";
        let html = within("form", self.client.execute(script, vec![Value::from(css)]))
            .await
            .unwrap_or_else(|e| panic!("no form around {css}: {e}"));
        html.as_str().expect("form markup").to_owned()
    }

    /// Sends a form captured by `form_of` again from the current page: what a back-and-submit
    /// does when the browser still holds the earlier page.
    pub async fn resubmit(&self, form: &str) {
        let script = "const holder = document.createElement('div'); holder.innerHTML = arguments[0]; \
                      document.body.appendChild(holder); holder.querySelector('form').submit();";
        within("resubmit", self.client.execute(script, vec![Value::from(form)]))
            .await
            .expect("form sent again");
    }

    /// Posts a form of these fields to `action` from the current page, as a hand-made form
    /// would (for a step the page does not offer), and waits for the answer to replace the page.
    pub async fn post(&self, action: &str, fields: &[(&str, &str)]) {
        let script = "window.keywardSent = true; \
                      const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0]; \
                      for (const [name, value] of arguments[1]) { const i = document.createElement('input'); \
                      i.type = 'hidden'; i.name = name; i.value = value; f.appendChild(i); } \
                      document.body.appendChild(f); f.submit();";
        let fields = fields
            .iter()
            .map(|(name, value)| json!([name, value]))
            .collect::<Vec<_>>();
        within(
            "post",
            self.client
                .execute(script, vec![Value::from(action), Value::from(fields)]),
        )
        .await
        .expect("form sent");
        let answered = async {
            loop {
                let still = self.client.execute("return window.keywardSent === true", vec![]).await;
                if matches!(still, Ok(Value::Bool(false))) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        within(&format!("the answer to POST {action}"), answered).await;
    }

    /// Writes the page's screenshot and fails on any serious or critical axe-core violation.
    pub async fn check(&mut self, page: &str) {
        let number = {
            let mut taken = TAKEN.lock().expect("screenshot counts");
            let count = taken.entry(self.shots.clone()).or_default();
            *count += 1;
            *count
        };
        let png = within("screenshot", self.client.screenshot())
            .await
            .expect("screenshot");
        std::fs::write(self.shots.join(format!("{number:02}-{page}.png")), png).expect("write screenshot");
        within("axe-core", self.client.execute(&self.axe, vec![]))
            .await
            .expect("axe-core loads");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] })
              .then(r => done(r.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.map(n => n.target.join(" ")) }))))
              .catch(e => done([{ id: "axe-error", help: String(e) }]));
        "#;
        let violations: Value = within("axe-core run", self.client.execute_async(script, vec![]))
            .await
            .expect("axe-core runs");
        let violations = violations.as_array().cloned().unwrap_or_default();
        assert!(
            violations.is_empty(),
            "{page}: accessibility violations: {violations:#?}"
        );
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
