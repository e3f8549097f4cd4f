//! A peer flooding transaction gossip at 10× the honest rate (issue 16, item 5), against the
//! real `concordat-node` process: an admitted peer (an observer key) sends batches of forged
//! transactions over the peer-to-peer protocol, ten for every honest registration a client
//! submits over HTTP. The node refuses every forged one, and honest throughput stays within
//! 10 % of a run without the flood, with memory bounded.
//!
//! The short version runs in `scripts/test.sh` (15 s per phase, so that a shared machine's
//! hiccup at a window's end stays within the 10 %); `CONCORDAT_FLOOD_SECS=60` gives
//! the figures in docs/reliability.md.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_genesis::{demo_spec, DEMO_DEPARTMENTS};
use concordat_node::net::{build_swarm, peer_id, NetConfig, WireRequest};
use concordat_primitives::SecretKey;
use futures::StreamExt;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::Multiaddr;

const CHAIN: &str = "peer-flood";
/// Honest registrations per second (half of what a debug node commits with room to spare).
const HONEST_TPS: u64 = 40;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One HTTP/1.1 request to the node; (status, body).
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .is_err()
    {
        return (0, String::new());
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn json_u64(port: u16, path: &str, field: &str) -> u64 {
    let (_, body) = http(port, "GET", path, b"");
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v[field].as_u64())
        .unwrap_or(0)
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn registration(key: &SecretKey, nonce: u64, expiry: u64, n: u64) -> Transaction {
    Transaction {
        chain_id: CHAIN.into(),
        signer: key.public_key(),
        nonce,
        expiry_height: expiry,
        call: Call::Party(PartyCall::Register {
            uscc: concordat_testkit::synthetic_uscc(41, u32::try_from(n).unwrap_or(0)),
            name: format!("企业{n}"),
            legal_rep_ref: None,
            registered_address: "样例路1号".into(),
        }),
    }
}

struct Net {
    _dir: tempfile::TempDir,
    child: Child,
    http: u16,
    p2p: Multiaddr,
    validator: SecretKey,
    registrar: SecretKey,
    flooder: SecretKey,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One validator of the demo departments; `flooder` is admitted as an observer.
fn start() -> Net {
    let dir = tempfile::tempdir().expect("tempdir");
    let members: Vec<SecretKey> = (1..=DEMO_DEPARTMENTS.len() as u8)
        .map(|i| SecretKey::from_seed([i; 32]))
        .collect();
    let validator = SecretKey::from_seed([100; 32]);
    let flooder = SecretKey::from_seed([200; 32]);
    let spec = demo_spec(
        CHAIN,
        "2026-11-28T00:00:00+08:00",
        &members
            .iter()
            .map(SecretKey::public_key)
            .collect::<Vec<_>>(),
        &[validator.public_key()],
    );
    let home = dir.path();
    std::fs::write(home.join("genesis.json"), spec.to_json()).expect("genesis");
    std::fs::write(
        home.join("node_key"),
        serde_json::json!({"type": "ed25519", "public_key": validator.public_key().to_hex(),
                           "secret_key": hex::encode(validator.seed())})
        .to_string(),
    )
    .expect("key");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[p2p]\nobservers = [\"{}\"]\n",
            flooder.public_key().to_hex()
        ),
    )
    .expect("config");
    let (http, p2p) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_concordat-node"))
        .arg("--home")
        .arg(home)
        .args(["--http-listen", &format!("127.0.0.1:{http}")])
        .args(["--p2p-listen", &format!("127.0.0.1:{p2p}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(home.join("node.log")).expect("log"))
        .spawn()
        .expect("spawn concordat-node");
    let deadline = Instant::now() + Duration::from_secs(60);
    while http_status(http) != 200 {
        assert!(Instant::now() < deadline, "the node did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Net {
        _dir: dir,
        child,
        http,
        p2p: format!("/ip4/127.0.0.1/tcp/{p2p}").parse().expect("addr"),
        validator,
        registrar: members.into_iter().next().expect("registrar"),
        flooder,
    }
}

fn http_status(port: u16) -> u16 {
    http(port, "GET", "/v1/status", b"").0
}

/// Submits honest registrations at [`HONEST_TPS`] for `secs` from nonce `first`; returns the
/// next nonce and how many committed within the window.
fn honest(net: &Net, first: u64, secs: u64) -> (u64, u64) {
    let pk = net.registrar.public_key().to_hex();
    let committed_before = json_u64(net.http, &format!("/v1/state/nonce/{pk}"), "value");
    let expiry = json_u64(net.http, "/v1/status", "height") + 10_000;
    let start = Instant::now();
    let mut nonce = first;
    while start.elapsed() < Duration::from_secs(secs) {
        let due = start + Duration::from_millis((nonce - first) * 1000 / HONEST_TPS);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let tx = registration(&net.registrar, nonce, expiry, nonce).sign(&net.registrar);
        let (code, body) = http(net.http, "POST", "/v1/txs", &tx.to_bytes());
        assert_eq!(code, 202, "an honest submission was refused: {body}");
        nonce += 1;
    }
    let committed = json_u64(net.http, &format!("/v1/state/nonce/{pk}"), "value");
    (nonce, committed - committed_before)
}

/// Floods `net` from its admitted observer key with forged registrations at `rate` per
/// second until `stop`; counts what was sent.
fn flood(
    net: &Net,
    rate: u64,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    let (key, target, addr) = (
        net.flooder.clone(),
        net.validator.public_key(),
        net.p2p.clone(),
    );
    let registrar = net.registrar.public_key();
    let expiry = json_u64(net.http, "/v1/status", "height") + 10_000;
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let config = NetConfig {
                listen: "127.0.0.1:0".parse().expect("addr"),
                peers: Vec::new(),
                max_message_bytes: 4 << 20,
            };
            let mut swarm =
                build_swarm(&key, &[target], &config, Default::default()).expect("swarm");
            let peer = peer_id(&target).expect("peer id");
            swarm
                .dial(DialOpts::peer_id(peer).addresses(vec![addr]).build())
                .expect("dial");
            let other = SecretKey::from_seed([77; 32]);
            let mut n = 0u64;
            let start = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            while !stop.load(Ordering::Relaxed) {
                tokio::select! {
                    _ = swarm.select_next_some() => {}
                    _ = tick.tick() => {
                        let due = start.elapsed().as_millis() as u64 * rate / 1000;
                        let mut batch = Vec::new();
                        while n < due && batch.len() < 4096 {
                            let tx = Transaction { signer: registrar, ..registration(&other, n, expiry, 1_000_000 + n) };
                            let signature = other.sign(&tx.signing_bytes());
                            batch.push(SignedTransaction { tx, signature }.to_bytes());
                            n += 1;
                        }
                        if !batch.is_empty() && swarm.is_connected(&peer) {
                            sent.fetch_add(batch.len() as u64, Ordering::Relaxed);
                            swarm.behaviour_mut().rr.send_request(&peer, WireRequest::Txs(batch));
                        }
                    }
                }
            }
        });
    })
}

#[test]
fn a_peer_flooding_gossip_at_ten_times_the_honest_rate_costs_at_most_ten_percent() {
    let secs: u64 = std::env::var("CONCORDAT_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let net = start();
    let (nonce, baseline) = honest(&net, 0, secs);
    let rss_before = rss_mb(net.child.id());
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let flooder = flood(&net, 10 * HONEST_TPS, stop.clone(), sent.clone());
    // Let the connection come up before the measured window.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent.load(Ordering::Relaxed) == 0 {
        assert!(
            Instant::now() < deadline,
            "the flooding peer never connected"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (end_nonce, flooded) = honest(&net, nonce, secs);
    stop.store(true, Ordering::Relaxed);
    flooder.join().expect("flood thread");
    let rss_after = rss_mb(net.child.id());
    let sent = sent.load(Ordering::Relaxed);
    let (_, metrics) = http(net.http, "GET", "/metrics", b"");
    let refused = metrics
        .lines()
        .find_map(|l| l.strip_prefix("concordat_peer_txs_refused_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let ratio = flooded as f64 / baseline.max(1) as f64;
    println!(
        "peer flood: {sent} forged transactions sent in {secs} s ({:.0}/s, 10x {HONEST_TPS}/s honest), \
         {refused} refused by the node; honest committed {baseline} without and {flooded} with the flood \
         ({:.1} %); node RSS {rss_before:.0} -> {rss_after:.0} MB",
        sent as f64 / secs as f64,
        ratio * 100.0
    );
    assert!(
        sent >= 10 * HONEST_TPS * secs * 8 / 10,
        "the flood was not 10x the honest rate: {sent} in {secs} s"
    );
    assert!(refused > 0, "the node counted no refused gossip");
    assert!(
        ratio >= 0.9,
        "honest throughput fell to {:.1} % under the flood",
        ratio * 100.0
    );
    assert!(
        rss_after < rss_before + 200.0,
        "memory grew from {rss_before:.0} to {rss_after:.0} MB"
    );
    // Nothing forged reached a block: the registrar's nonce is exactly the honest count.
    let pk = net.registrar.public_key().to_hex();
    let deadline = Instant::now() + Duration::from_secs(30);
    while json_u64(net.http, &format!("/v1/state/nonce/{pk}"), "value") < end_nonce {
        assert!(
            Instant::now() < deadline,
            "honest transactions did not all commit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
