//! The status page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against `benglema run` on the embedded demo with its default status page.
//!
//! It checks that 微信 turns from 正常 to an outage during the incident and back without a
//! reload (live updates), that the service page draws its chart with the event shaded, that
//! a post text with `<script>` stays text, and that the pages fit a 320-pixel phone; and it
//! saves screenshots of each page under the test's output directory
//! (`$CARGO_TARGET_TMPDIR/status-page/`).
//!
//! Chromium and chromedriver come from the distribution's packages (`chromium`,
//! `chromium-driver`; `.ci/run` installs them); without them the test says SKIPPED, unless
//! `BENGLEMA_REQUIRE_BROWSER` is set (CI), where it fails.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::blocking::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

impl Driver {
    /// chromedriver on a free port, or `None` (SKIPPED) when Chromium or chromedriver is
    /// missing and the browser is not required.
    fn start() -> Option<(Driver, PathBuf)> {
        let chromium = find(
            "BENGLEMA_CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let driver = find("BENGLEMA_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let why = "Chromium or chromedriver not found (apt-get install chromium \
                       chromium-driver, or set BENGLEMA_CHROMIUM and BENGLEMA_CHROMEDRIVER)";
            if std::env::var_os("BENGLEMA_REQUIRE_BROWSER").is_some() {
                panic!("{why}; BENGLEMA_REQUIRE_BROWSER is set");
            }
            eprintln!("SKIPPED: {why}");
            return None;
        };
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while d.http.get(format!("{}/status", d.base)).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some((d, chromium))
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let r = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        }
        .send()
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let v: Value = r.json().unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    /// A headless browser window of `width` x `height` CSS pixels.
    fn session(&self, chromium: &Path, width: u32, height: u32) -> Session<'_> {
        self.open(chromium, width, height, false)
    }

    /// A phone's screen of `width` x `height` CSS pixels (Chromium's device emulation: a
    /// headless window is never narrower than 500 pixels).
    fn phone(&self, chromium: &Path, width: u32, height: u32) -> Session<'_> {
        self.open(chromium, width, height, true)
    }

    fn open(&self, chromium: &Path, width: u32, height: u32, mobile: bool) -> Session<'_> {
        let mut options = json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--hide-scrollbars",
                     format!("--window-size={},{}", width.max(500), height)],
        });
        if mobile {
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 2.0, "touch": true}});
        }
        let v = self.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
            }}}),
        );
        Session {
            driver: self,
            id: v["sessionId"].as_str().unwrap().to_owned(),
        }
    }
}

/// One browser window.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .http
            .delete(format!("{}/session/{}", self.driver.base, self.id))
            .send();
    }
}

impl Session<'_> {
    fn go(&self, url: &str) {
        self.driver.call(
            "POST",
            &format!("/session/{}/url", self.id),
            json!({"url": url}),
        );
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    fn js(&self, script: &str) -> Value {
        self.driver.call(
            "POST",
            &format!("/session/{}/execute/sync", self.id),
            json!({"script": script, "args": []}),
        )
    }

    /// Waits up to `secs` for `script` to return something truthy.
    fn wait_for(&self, what: &str, secs: u64, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.js(script);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!([])) {
                return v;
            }
            assert!(Instant::now() < deadline, "waited {secs} s for {what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Saves a PNG of the window.
    fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let v = self.driver.call(
            "GET",
            &format!("/session/{}/screenshot", self.id),
            json!({}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }
}

/// A post whose text is markup: it must show as text.
const XSS: &str =
    "微信又崩了 <script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">";

/// A simulated afternoon and night around the 2022-07-22 WeChat outage (22:00 Beijing,
/// resolved after midnight), with one complaint whose text is markup, in time order, and a
/// quiet day after.
fn history(dir: &Path) -> PathBuf {
    let sim = dir.join("sim.jsonl");
    let o = benglema()
        .args(["simulate", "--from", "2022-07-22T12:00:00+08:00"])
        .args(["--days", "0.625", "--rate", "20", "--out"])
        .arg(&sim)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let at = "2022-07-23T02:40:00+08:00";
    let xss = json!({"id": "-xss", "created_at": at, "text": XSS}).to_string();
    let posts = dir.join("posts.jsonl");
    let mut out = std::fs::File::create(&posts).unwrap();
    let mut placed = false;
    for line in std::fs::read_to_string(&sim).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if !placed && v["created_at"].as_str().unwrap() > at {
            writeln!(out, "{xss}").unwrap();
            placed = true;
        }
        writeln!(out, "{line}").unwrap();
    }
    assert!(placed);
    // Then 16 quiet hours (a chatter post every 2 minutes): the demo ends when its input is
    // used up, and these keep it, and its page, up for the checks after the recovery.
    let end = chrono::DateTime::parse_from_rfc3339("2022-07-23T03:00:00+08:00").unwrap();
    for k in 1..=480 {
        let at = end + chrono::Duration::minutes(2 * k);
        let post = json!({"id": format!("quiet-{k}"), "created_at": at.to_rfc3339(),
                          "text": "今天天气不错，出去走走"});
        writeln!(out, "{post}").unwrap();
    }
    posts
}

/// `benglema run` on the embedded demo, killed on drop.
struct Demo {
    child: Child,
    base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo and reads the status page's address from what it prints at start.
fn demo(posts: &Path, speed: &str) -> Demo {
    let mut child = benglema()
        .args(["run", "--pretty", "--speed", speed, "--input"])
        .arg(posts)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    let base = loop {
        let mut l = String::new();
        if err.read_line(&mut l).unwrap() == 0 {
            panic!("run ended before printing the status page's address:\n{said}");
        }
        said.push_str(&l);
        if let Some(rest) = l.split("status page on ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_owned();
        }
    };
    // Keep draining stderr so the process never blocks on it.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while err.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    Demo { child, base }
}

/// Records every status 微信's card shows, with its label (`absent` while it has none), as
/// it changes.
const WATCH_INDEX: &str = r#"
window.__seen = [];
const record = () => {
  const c = document.querySelector('[data-service="微信"] .status');
  const s = c ? c.dataset.status + '|' + c.textContent : 'absent';
  if (window.__seen[window.__seen.length - 1] !== s) window.__seen.push(s);
};
new MutationObserver(record).observe(document.getElementById('services'), {childList: true, subtree: true});
record();
return true;
"#;

/// Records the service page's status and, with it, whether its chart shades an event.
const WATCH_SERVICE: &str = r#"
window.__seen = [];
const record = () => {
  const s = document.getElementById('status').dataset.status || 'absent';
  const shaded = document.querySelectorAll('#chart rect.shade').length > 0;
  const v = s + '|' + (shaded ? 'shaded' : 'plain');
  if (window.__seen[window.__seen.length - 1] !== v) window.__seen.push(v);
};
new MutationObserver(record).observe(document.body, {childList: true, subtree: true, attributes: true, characterData: true});
record();
return true;
"#;

fn seen(s: &Session) -> Vec<String> {
    serde_json::from_value(s.js("return window.__seen || [];")).unwrap()
}

fn outage(seen: &str) -> bool {
    ["weak|", "moderate|", "strong|"]
        .iter()
        .any(|p| seen.starts_with(p))
}

#[test]
fn the_status_page_goes_from_normal_to_outage_and_back_live_in_chromium() {
    let Some((driver, chromium)) = Driver::start() else {
        return;
    };
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("status-page");
    std::fs::create_dir_all(&out).unwrap();
    let dir = scratch("status-page");
    let posts = history(&dir);
    // The browsers first (they can be slow to start on a busy machine), then the demo.
    let index = driver.session(&chromium, 1200, 900);
    let service = driver.session(&chromium, 1200, 1400);
    let demo = demo(&posts, "1500");
    let wechat = format!("{}/service/%E5%BE%AE%E4%BF%A1", demo.base);
    for (s, url, watch) in [
        (&index, format!("{}/", demo.base), WATCH_INDEX),
        (&service, wechat.clone(), WATCH_SERVICE),
    ] {
        s.go(&url);
        s.wait_for(
            "the page's script",
            20,
            "return !!document.body.dataset.page;",
        );
        s.js(watch);
    }

    // 正常 first, while the afternoon's background complaints come in.
    index.wait_for(
        "微信 listed as 正常",
        120,
        r#"const c = document.querySelector('[data-service="微信"] .status');
           return c && c.dataset.status === 'normal' && c.textContent === '正常';"#,
    );
    // Then an outage, shown without a reload.
    let deadline = Instant::now() + Duration::from_secs(180);
    while !seen(&index).iter().any(|s| outage(s)) {
        assert!(
            Instant::now() < deadline,
            "微信 never showed an outage: {:?}",
            seen(&index)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    index.screenshot(&out.join("index-outage.png"));
    // The service page, live too: an outage with the event shaded on its chart.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen(&service)
        .iter()
        .any(|s| outage(s) && s.ends_with("|shaded"))
    {
        assert!(
            Instant::now() < deadline,
            "the service page never showed the outage: {:?}",
            seen(&service)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    service.screenshot(&out.join("service-outage.png"));

    // Back to 正常 once the event resolves.
    let deadline = Instant::now() + Duration::from_secs(180);
    let s = loop {
        let s = seen(&index);
        let first_outage = s.iter().position(|x| outage(x)).unwrap();
        if s[first_outage..].iter().any(|x| x == "normal|正常") {
            let before = s[..first_outage].iter().any(|x| x == "normal|正常");
            assert!(before, "正常 before the outage: {s:?}");
            break s;
        }
        assert!(Instant::now() < deadline, "微信 never recovered: {s:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    // Each status the card showed carried its Chinese label.
    for x in &s {
        assert!(
            [
                "absent",
                "normal|正常",
                "weak|轻微异常",
                "moderate|故障",
                "strong|严重故障"
            ]
            .contains(&x.as_str()),
            "{x} in {s:?}"
        );
    }
    // The page was never reloaded: the watcher installed at the start saw it all.
    assert_eq!(index.js("return typeof window.__seen;"), json!("object"));

    // The service page after the incident: chart with complaints, baseline, the shaded
    // event with its onset, detection and resolution markers; top problems; the event.
    let chart = service.wait_for(
        "the chart with a resolved event",
        60,
        r#"const c = document.getElementById('chart');
           const series = c.querySelector('path.series'), expected = c.querySelector('path.expected');
           if (!series || !expected || !c.querySelector('line.marker.resolve')) return null;
           return {series: series.getAttribute('d').length, expected: expected.getAttribute('d').length,
                   shades: c.querySelectorAll('rect.shade').length,
                   markers: [...c.querySelectorAll('line.marker')].map(m => m.getAttribute('class')),
                   width: c.querySelector('svg').getBoundingClientRect().width};"#,
    );
    assert!(chart["series"].as_u64().unwrap() > 1000, "{chart}");
    assert!(chart["expected"].as_u64().unwrap() > 1000, "{chart}");
    assert!(chart["shades"].as_u64().unwrap() >= 1, "{chart}");
    let markers = chart["markers"].to_string();
    for m in ["onset", "detect", "resolve"] {
        assert!(markers.contains(m), "{m} marker missing: {chart}");
    }
    assert!(chart["width"].as_f64().unwrap() > 800.0, "{chart}");
    let table = service.js(
        r#"return {events: document.querySelectorAll('#events tbody tr[data-event]').length,
                   symptoms: document.querySelectorAll('#symptoms li .bar').length,
                   terms: document.querySelectorAll('#terms li').length};"#,
    );
    assert!(table["events"].as_u64().unwrap() >= 1, "{table}");
    assert!(table["symptoms"].as_u64().unwrap() >= 1, "{table}");

    // The post whose text is markup: shown as text, nothing of it ran or became an element.
    let xss = service.wait_for(
        "the markup post among the samples",
        60,
        r#"const li = document.querySelector('#samples li[data-id="-xss"]');
           return li ? {text: li.querySelector('.text').textContent,
                        elements: li.querySelectorAll('script, img').length,
                        pwned: window.__pwned === undefined ? null : window.__pwned,
                        scripts: document.scripts.length} : null;"#,
    );
    assert_eq!(xss["text"], XSS, "{xss}");
    assert_eq!(xss["elements"], 0, "{xss}");
    assert_eq!(xss["pwned"], Value::Null, "{xss}");
    assert_eq!(xss["scripts"], 1, "only the page's own script: {xss}");
    service
        .js("document.querySelector('#samples li[data-id=\"-xss\"]').scrollIntoView(); return 1;");
    service.screenshot(&out.join("service-samples.png"));
    service.js("window.scrollTo(0, 0); return 1;");
    service.screenshot(&out.join("service.png"));
    index.screenshot(&out.join("index.png"));

    // A small phone: nothing wider than the screen, both pages.
    let phone = driver.phone(&chromium, 320, 640);
    for (url, name) in [
        (format!("{}/", demo.base), "index-phone.png"),
        (wechat.clone(), "service-phone.png"),
    ] {
        phone.go(&url);
        phone.wait_for(
            "the page filled",
            30,
            "return Number(document.body.dataset.version) > 0;",
        );
        let fit = phone.js("return [document.documentElement.scrollWidth, window.innerWidth];");
        let (w, inner) = (fit[0].as_u64().unwrap(), fit[1].as_u64().unwrap());
        assert_eq!(inner, 320, "the phone's width");
        assert!(w <= inner, "{url}: {w} px wide in a {inner} px window");
        phone.screenshot(&out.join(name));
    }
    drop((index, service, phone));
    drop(demo);
    let _ = std::fs::remove_dir_all(dir);
}
