//! The HTTP server's limits and error form against a real `concordat-node` (issue 11, defects 6
//! and 8): errors made by the framework come in the documented JSON form; a client that does
//! not finish its request headers is disconnected; idle connections beyond the limit cost the
//! node no file descriptors and do not stop it from answering.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use concordat_tests::net::*;

fn node_with_http(dir: &tempfile::TempDir, http: &str) -> Node {
    let path = dir.path().join("net");
    let mut nodes = bft_network(&path, 1, 0, "");
    let mut node = nodes.remove(0);
    let config = node.home.join("config.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!("\n[http]\n{http}\n"));
    std::fs::write(&config, text).expect("config");
    node.start();
    node
}

fn raw(url: &str, method: &str, body: Option<Vec<u8>>) -> (u16, String, serde_json::Value) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let req = agent.request(method, url);
    let r = match body {
        Some(b) => req
            .set("Content-Type", "application/octet-stream")
            .send_bytes(&b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let ctype = resp.content_type().to_string();
    let v = resp.into_json().unwrap_or(serde_json::Value::Null);
    (status, ctype, v)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn framework_refusals_answer_the_documented_json_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with_http(&dir, "max_body_bytes = 1024");
    let url = node.url();
    for (method, path, body, status, code) in [
        ("GET", "/v1/blocks/-1", None, 400, "BAD_REQUEST"),
        (
            "GET",
            "/v1/txlog/consistency?from=x",
            None,
            400,
            "BAD_REQUEST",
        ),
        ("GET", "/v1/no-such-route", None, 404, "NOT_FOUND"),
        ("DELETE", "/v1/status", None, 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/v1/txs", Some(vec![0u8; 4096]), 413, "TOO_LARGE"),
    ] {
        let (got, ctype, v) = raw(&format!("{url}{path}"), method, body);
        assert_eq!(got, status, "{method} {path}: {v}");
        assert!(
            ctype.starts_with("application/json"),
            "{method} {path}: {ctype}"
        );
        assert_eq!(v["error"]["code"], code, "{method} {path}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {path}: {v}"
        );
    }
}

#[test]
fn slow_and_idle_clients_are_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with_http(&dir, "max_connections = 16\nheader_read_timeout_ms = 1000");
    let url = node.url();
    let addr = format!("127.0.0.1:{}", node.port);
    let pid = node.pid().expect("running");
    let before = open_fds(pid);

    // A client that sends half a request line and stops is disconnected after the timeout.
    let mut slow = TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let n = slow.read(&mut buf).unwrap_or(0);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "a slow header was held for {waited:?}"
    );
    let _ = n; // closed (0 bytes) or answered with a timeout status: either way, let go

    // 300 idle sockets: the node holds at most 16 of them (the rest wait in the kernel's
    // backlog), each for about a second, and keeps answering.
    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    assert!(idle.len() >= 200, "only {} connections opened", idle.len());
    std::thread::sleep(Duration::from_millis(500));
    let during = open_fds(pid);
    assert!(
        during <= before + 16 + 8,
        "the node opened {} descriptors for idle clients (limit 16)",
        during.saturating_sub(before)
    );
    let t = Instant::now();
    let (code, v) = get(&format!("{url}/v1/status"));
    assert_eq!(code, 200, "{v}");
    eprintln!(
        "status answered after {:?} with 300 idle sockets open",
        t.elapsed()
    );
    drop(idle);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(open_fds(pid) <= before + 8, "descriptors were not released");
}
