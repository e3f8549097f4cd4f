//! Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for the browser
//! end-to-end tests. A page is opened and an expression is evaluated in it, in real time,
//! until it gives an answer.
//!
//! Why not `--dump-dom --virtual-time-budget`: virtual time waits for network fetches but not
//! for WebAssembly compilation, so on a loaded machine the DOM was dumped before the verifier
//! had compiled and the page showed no verdict (a CI failure of `e2e_browser`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tungstenite::{connect, Message};

/// The Chromium binary on this machine.
///
/// # Panics
/// If there is none (`apt-get install chromium`; `scripts/test.sh` installs it).
pub fn chromium() -> &'static str {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!("headless Chromium is needed: apt-get install chromium (scripts/test.sh installs it)");
}

/// A headless Chromium with one page open; killed on drop.
pub struct Browser {
    child: Child,
    page_ws: String,
    next_id: u64,
}

impl Browser {
    /// Starts Chromium with its profile in `profile` (a fresh directory) and opens `url`.
    ///
    /// # Panics
    /// If Chromium does not start or does not open its DevTools port within 30 s.
    pub fn open(url: &str, profile: &Path) -> Browser {
        std::fs::create_dir_all(profile).expect("profile dir");
        let port_file = profile.join("DevToolsActivePort");
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let mut browser = Browser {
            child,
            page_ws: String::new(),
            next_id: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let port: u16 = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                break port;
            }
            assert!(
                Instant::now() < deadline,
                "chromium wrote no DevToolsActivePort in 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        browser.page_ws = loop {
            let list: Option<Value> = ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
                .call()
                .ok()
                .and_then(|r| r.into_json().ok());
            let ws = list.as_ref().and_then(Value::as_array).and_then(|targets| {
                targets
                    .iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                    .map(str::to_string)
            });
            if let Some(ws) = ws {
                break ws;
            }
            assert!(
                Instant::now() < deadline,
                "chromium listed no page target in 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        browser
    }

    /// Sends one DevTools command to the page and returns its `result`.
    ///
    /// # Errors
    /// If the DevTools connection fails or the command answers an error.
    pub fn command(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let (mut socket, _) = connect(self.page_ws.as_str()).map_err(|e| e.to_string())?;
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"id": id, "method": method, "params": params});
        socket
            .send(Message::Text(request.to_string().into()))
            .map_err(|e| e.to_string())?;
        let answer = loop {
            let msg = socket.read().map_err(|e| e.to_string())?;
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
            if v["id"] == id {
                break v;
            }
        };
        let _ = socket.close(None);
        if let Some(e) = answer.get("error") {
            return Err(e.to_string());
        }
        Ok(answer["result"].clone())
    }

    /// Evaluates `expression` in the page once and returns its value (JSON of the result).
    ///
    /// # Errors
    /// If the DevTools connection fails or the expression throws.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.command(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(e) = result.get("exceptionDetails") {
            return Err(e.to_string());
        }
        Ok(result["result"]["value"].clone())
    }

    /// A PNG screenshot of the whole page (`width` CSS pixels wide), written to `path` and
    /// checked not to be blank: more than 1 % of its pixels differ from the most common
    /// colour, in more than 16 colours. Returns (width, height, share of such pixels).
    ///
    /// # Panics
    /// If the screenshot fails or is blank.
    pub fn screenshot(&mut self, path: &Path, width: u32) -> (u32, u32, f64) {
        let height = self
            .eval("Math.ceil(document.documentElement.scrollHeight)")
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(800.0)
            .clamp(200.0, 6000.0) as u32;
        self.command(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .expect("set the viewport");
        let shot = self
            .command(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true,
                       "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
            )
            .expect("capture a screenshot");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("PNG data"))
            .expect("base64");
        std::fs::write(path, &bytes).expect("write the screenshot");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut pixels).expect("decode");
        let channels = info.color_type.samples();
        let mut counts = std::collections::HashMap::<&[u8], usize>::new();
        for px in pixels[..info.buffer_size()].chunks(channels) {
            *counts.entry(px).or_default() += 1;
        }
        let total = (info.width * info.height) as usize;
        let background = counts.values().copied().max().unwrap_or(total);
        let share = (total - background) as f64 / total.max(1) as f64;
        assert!(
            share > 0.01 && counts.len() > 16,
            "the screenshot {} looks blank: {:.2} % of pixels off the background, {} colours",
            path.display(),
            share * 100.0,
            counts.len()
        );
        (info.width, info.height, share)
    }

    /// Evaluates `expression` every 100 ms until it gives a non-empty string, and returns it.
    ///
    /// # Panics
    /// If it gives none within `timeout`.
    pub fn wait_for_text(&mut self, expression: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.eval(expression) {
                Ok(Value::String(s)) if !s.is_empty() => return s,
                Ok(v) => v.to_string(),
                Err(e) => e,
            };
            assert!(
                Instant::now() < deadline,
                "the page gave no answer to {expression:?} in {timeout:?} (last: {last})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
