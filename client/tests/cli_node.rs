//! The network commands (`status`, `tx`, `query`, `demo`) against a small fake node speaking
//! the HTTP API of docs/api.md on 127.0.0.1. The fake keeps a mempool with a per-signer limit,
//! commits one pending transaction whenever a transaction is looked up, and serves state
//! answers built from a real state tree and commit certificate (tests/common).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::{fixture, Fixture, ABSENT, PARTY};
use concordat_client::verify::StateAnswer;
use concordat_contracts::ids::Uscc;
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction};
use concordat_primitives::PublicKey;
use serde_json::{json, Value};

const CHAIN: &str = "concordat-test";
const MAX_PER_SIGNER: u64 = 3;

#[derive(Default)]
struct Chain {
    height: u64,
    /// Next committed nonce per signer.
    nonces: BTreeMap<PublicKey, u64>,
    /// Pending, in admission order.
    pending: Vec<SignedTransaction>,
    /// Committed: hash -> (height, code).
    committed: BTreeMap<String, (u64, &'static str)>,
    registered: BTreeSet<String>,
    /// Everything admitted, in order.
    admitted: Vec<SignedTransaction>,
    too_high: u64,
    /// Serve state answers with one value byte changed.
    tamper: bool,
}

impl Chain {
    fn commit_one(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let stx = self.pending.remove(0);
        self.height += 1;
        let code = match &stx.tx.call {
            Call::Party(PartyCall::Register { uscc, .. }) => {
                if Uscc::parse(uscc).is_err() {
                    "BAD_IDENTIFIER"
                } else if !self.registered.insert(uscc.clone()) {
                    "ALREADY_EXISTS"
                } else {
                    "OK"
                }
            }
            _ => "OK",
        };
        *self.nonces.entry(stx.tx.signer).or_default() += 1;
        self.committed
            .insert(stx.hash().to_hex(), (self.height, code));
    }

    fn record(&self, hash: &str) -> Option<Value> {
        if let Some((height, code)) = self.committed.get(hash) {
            return Some(
                json!({"tx_hash": hash, "status": "committed", "height": height,
                "index": 0, "log_index": 0, "result": {"code": code, "message": ""}}),
            );
        }
        self.pending
            .iter()
            .any(|p| p.hash().to_hex() == hash)
            .then(|| json!({"tx_hash": hash, "status": "pending"}))
    }

    fn admit(&mut self, hex_tx: &str) -> Result<String, (u16, &'static str)> {
        let bytes = hex::decode(hex_tx).map_err(|_| (400, "MALFORMED"))?;
        let stx = SignedTransaction::from_bytes(&bytes).map_err(|_| (400, "MALFORMED"))?;
        if stx.tx.chain_id != CHAIN {
            return Err((400, "WRONG_CHAIN"));
        }
        stx.verify_signature().map_err(|_| (400, "BAD_SIGNATURE"))?;
        if stx.tx.expiry_height <= self.height {
            return Err((400, "EXPIRED"));
        }
        let committed = self.nonces.get(&stx.tx.signer).copied().unwrap_or(0);
        let pending: Vec<u64> = self
            .pending
            .iter()
            .filter(|p| p.tx.signer == stx.tx.signer)
            .map(|p| p.tx.nonce)
            .collect();
        if stx.tx.nonce < committed {
            return Err((409, "NONCE_TOO_LOW"));
        }
        if pending.contains(&stx.tx.nonce) {
            return Err((409, "DUPLICATE"));
        }
        if stx.tx.nonce >= committed + MAX_PER_SIGNER {
            self.too_high += 1;
            return Err((409, "NONCE_TOO_HIGH"));
        }
        let hash = stx.hash().to_hex();
        self.pending.push(stx.clone());
        self.admitted.push(stx);
        Ok(hash)
    }
}

fn state_answer(f: &Fixture, kind: &str, id: &str, tamper: bool) -> Value {
    let mut a: StateAnswer = f.answer(kind, id, 3);
    if tamper {
        if let Some(v) = &a.value_bytes {
            let mut b = hex::decode(v).expect("hex");
            b[5] ^= 1;
            a.value_bytes = Some(hex::encode(b));
        }
    }
    serde_json::to_value(a).expect("json")
}

fn handle(
    chain: &Mutex<Chain>,
    f: &Fixture,
    method: &str,
    target: &str,
    body: &[u8],
) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut c = chain.lock().expect("lock");
    let error = |status: u16, code: &str| {
        (
            status,
            json!({"error": {"code": code, "message": format!("fake node: {code}")}}),
        )
    };
    match (method, parts.as_slice()) {
        ("GET", ["v1", "status"]) => (
            200,
            json!({"chain_id": CHAIN, "height": c.height, "block_hash": "00", "state_root": "00",
                   "mempool_size": c.pending.len()}),
        ),
        ("GET", ["v1", "state", "nonce", pk]) => {
            let pk = PublicKey::from_hex(pk).expect("pk");
            match c.nonces.get(&pk) {
                Some(n) => (200, json!({"found": true, "value": n})),
                None => (200, json!({"found": false, "value": null})),
            }
        }
        ("GET", ["v1", "state", kind, id]) => {
            assert!(query.contains("proof=true"), "queries ask for proofs");
            if query.contains("height=9") {
                return error(404, "NOT_FOUND");
            }
            (200, state_answer(f, kind, id, c.tamper))
        }
        ("POST", ["v1", "txs"]) => {
            let v: Value = serde_json::from_slice(body).expect("json body");
            match c.admit(v["tx"].as_str().expect("tx")) {
                Ok(hash) if query.contains("wait=true") => {
                    while c.record(&hash).expect("known")["status"] == "pending" {
                        c.commit_one();
                    }
                    (200, c.record(&hash).expect("known"))
                }
                Ok(hash) => (202, json!({"tx_hash": hash, "status": "pending"})),
                Err((status, code)) => error(status, code),
            }
        }
        ("GET", ["v1", "txs", hash]) => {
            c.commit_one();
            match c.record(hash) {
                Some(r) => (200, r),
                None => error(404, "NOT_FOUND"),
            }
        }
        _ => error(404, "NOT_FOUND"),
    }
}

fn serve_one(stream: TcpStream, chain: &Mutex<Chain>, f: &Fixture) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or("").to_string();
    let target = words.next().unwrap_or("").to_string();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().expect("length");
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    let (status, answer) = handle(chain, f, &method, &target, &body);
    let text = answer.to_string();
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// Starts a fake node; returns its URL and its state.
fn fake_node() -> (String, Arc<Mutex<Chain>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let chain = Arc::new(Mutex::new(Chain {
        height: 5,
        ..Chain::default()
    }));
    let shared = chain.clone();
    std::thread::spawn(move || {
        let f = fixture();
        for stream in listener.incoming().flatten() {
            serve_one(stream, &shared, &f);
        }
    });
    (url, chain)
}

fn concordat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concordat"))
        .args(args)
        .output()
        .expect("runs")
}

fn json_ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document on stdout")
}

fn json_failed(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(1), "should fail");
    serde_json::from_slice(&out.stdout).expect("one JSON document on stdout")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn demo_keys(dir: &Path) -> std::path::PathBuf {
    let net = dir.join("net");
    json_ok(&concordat(&[
        "genesis",
        "demo",
        "--dir",
        p(&net),
        "--validators",
        "1",
        "--output",
        "json",
    ]));
    net
}

#[test]
fn status_and_verified_queries() {
    let (url, chain) = fake_node();
    let st = json_ok(&concordat(&["status", "--node", &url, "--output", "json"]));
    assert_eq!(st["chain_id"], CHAIN);

    let v = json_ok(&concordat(&[
        "query", "party", PARTY, "--node", &url, "--output", "json",
    ]));
    assert_eq!(v["verified"], true);
    assert_eq!(v["found"], true);
    assert_eq!(v["height"], 1);
    assert_eq!(v["value"]["uscc"], PARTY);
    assert_eq!(v["value"]["status"], "EXISTING");
    assert_eq!(v["state_root"], fixture().header.state_root.to_hex());

    let v = json_ok(&concordat(&[
        "query", "party", ABSENT, "--node", &url, "--height", "1", "--output", "json",
    ]));
    assert_eq!(
        (v["verified"].clone(), v["found"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(v["value"], Value::Null);

    // Trusting the right validator set is fine; another one is refused.
    let set_hash = fixture().set.hash().to_hex();
    json_ok(&concordat(&[
        "query",
        "party",
        PARTY,
        "--node",
        &url,
        "--validator-set-hash",
        &set_hash,
        "--output",
        "json",
    ]));
    let wrong = json_failed(&concordat(&[
        "query",
        "party",
        PARTY,
        "--node",
        &url,
        "--validator-set-hash",
        &"ab".repeat(32),
        "--output",
        "json",
    ]));
    assert_eq!(wrong["verified"], false);

    // Asked for height 2, answered at height 1: refused.
    let v = json_failed(&concordat(&[
        "query", "party", PARTY, "--node", &url, "--height", "2", "--output", "json",
    ]));
    assert_eq!(v["verified"], false);
    assert!(v["error"].as_str().expect("error").contains("height"));

    // A node error is reported with its code.
    let v = json_failed(&concordat(&[
        "query", "party", PARTY, "--node", &url, "--height", "9", "--output", "json",
    ]));
    assert_eq!(v["code"], "NOT_FOUND");
    assert_eq!(v["http_status"], 404);

    // A tampered value is never shown as verified.
    chain.lock().expect("lock").tamper = true;
    let out = concordat(&["query", "party", PARTY, "--node", &url, "--output", "json"]);
    let v = json_failed(&out);
    assert_eq!(v["verified"], false);
    assert!(v.get("value").is_none());
    assert!(String::from_utf8_lossy(&out.stderr).contains("verification FAILED"));
    let text = concordat(&["query", "party", PARTY, "--node", &url]);
    assert_eq!(text.status.code(), Some(1));
    assert!(text.stdout.is_empty(), "nothing shown in text mode either");
}

#[test]
fn sign_submit_send_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = demo_keys(dir.path());
    let key = net.join("keys").join("11110000MB01A7C368.key");
    let (url, chain) = fake_node();
    let call = dir.path().join("call.json");
    std::fs::write(
        &call,
        format!(
            r#"{{"Party":{{"Register":{{"uscc":"{PARTY}","name":"北京示例科技有限公司","legal_rep_ref":null,"registered_address":"北京市朝阳区示例路 1 号"}}}}}}"#
        ),
    )
    .expect("write");

    // sign with --node: chain id, nonce and tip come from the node.
    let tx_file = dir.path().join("tx.hex");
    let signed = json_ok(&concordat(&[
        "tx",
        "sign",
        "--key",
        p(&key),
        "--call",
        p(&call),
        "--node",
        &url,
        "--out",
        p(&tx_file),
        "--output",
        "json",
    ]));
    assert_eq!(signed["chain_id"], CHAIN);
    assert_eq!(signed["nonce"], 0);
    assert_eq!(signed["expiry_height"], 105);

    // submit (pending), then show until committed.
    let sub = json_ok(&concordat(&[
        "tx",
        "submit",
        p(&tx_file),
        "--node",
        &url,
        "--output",
        "json",
    ]));
    assert_eq!(sub["status"], "pending");
    assert_eq!(sub["tx_hash"], signed["tx_hash"]);
    let hash = signed["tx_hash"].as_str().expect("hash");
    let shown = json_ok(&concordat(&[
        "tx", "show", hash, "--node", &url, "--output", "json",
    ]));
    assert_eq!(shown["status"], "committed");
    assert_eq!(shown["result"]["code"], "OK");

    // Submitting it again: the node's error code, non-zero exit.
    let again = json_failed(&concordat(&[
        "tx",
        "submit",
        "--hex",
        signed["tx"].as_str().expect("tx"),
        "--node",
        &url,
        "--output",
        "json",
    ]));
    assert_eq!(again["code"], "NONCE_TOO_LOW");
    assert_eq!(again["http_status"], 409);

    // send --wait: signed with the next nonce, committed; registering the same USCC again is
    // committed but refused, which fails the command after printing the record.
    let dup = json_failed(&concordat(&[
        "tx",
        "send",
        "--key",
        p(&key),
        "--call",
        p(&call),
        "--node",
        &url,
        "--wait",
        "--output",
        "json",
    ]));
    assert_eq!(dup["status"], "committed");
    assert_eq!(dup["result"]["code"], "ALREADY_EXISTS");
    let c = chain.lock().expect("lock");
    assert_eq!(c.admitted.len(), 2);
    assert_eq!(c.admitted[1].tx.nonce, 1);
}

#[test]
fn demo_registers_and_waits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = demo_keys(dir.path());
    let (url, chain) = fake_node();
    let out = concordat(&[
        "demo",
        "--node",
        &url,
        "--home",
        p(&net),
        "--count",
        "8",
        "--output",
        "json",
    ]);
    let v = json_ok(&out);
    let keys: BTreeSet<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["submitted", "committed", "tx_hashes", "usccs"])
    );
    assert_eq!(v["submitted"], 8);
    assert_eq!(v["committed"], 8);
    let hashes: BTreeSet<&str> = v["tx_hashes"]
        .as_array()
        .expect("array")
        .iter()
        .map(|h| h.as_str().expect("hex"))
        .collect();
    assert_eq!(hashes.len(), 8);

    let c = chain.lock().expect("lock");
    assert!(c.too_high > 0, "the mempool limit was hit and waited out");
    let nonces: Vec<u64> = c.admitted.iter().map(|s| s.tx.nonce).collect();
    assert_eq!(nonces, (0..8).collect::<Vec<_>>());
    assert_eq!(c.registered.len(), 8, "distinct valid USCCs");
    // What the demo prints is what it registered.
    let printed: BTreeSet<String> = v["usccs"]
        .as_array()
        .expect("usccs")
        .iter()
        .map(|u| u.as_str().expect("text").to_string())
        .collect();
    let registered: BTreeSet<String> = c.registered.iter().cloned().collect();
    assert_eq!(printed, registered);
    drop(c);

    // For people: the USCCs and the command that looks one up.
    let out = concordat(&["demo", "--node", &url, "--home", p(&net), "--count", "1"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let last = chain
        .lock()
        .expect("lock")
        .registered
        .iter()
        .find(|u| !printed.contains(*u))
        .cloned()
        .expect("a new registration");
    assert!(
        text.contains(&format!("concordat query party {last} --node {url}")),
        "{text}"
    );

    // A second run continues from the signer's next nonce with fresh USCCs.
    let v = json_ok(&concordat(&[
        "demo",
        "--node",
        &url,
        "--home",
        p(&net),
        "--count",
        "2",
        "--output",
        "json",
    ]));
    assert_eq!(v["committed"], 2);
    let c = chain.lock().expect("lock");
    assert_eq!(c.admitted.last().expect("tx").tx.nonce, 10);
    assert_eq!(c.registered.len(), 11);
}

#[test]
fn demo_fails_without_keys_or_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = concordat(&["demo", "--home", p(dir.path()), "--count", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("concordat genesis demo"));
    let net = demo_keys(dir.path());
    let out = concordat(&[
        "demo",
        "--node",
        "http://127.0.0.1:1",
        "--home",
        p(&net),
        "--count",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the node"));
}
