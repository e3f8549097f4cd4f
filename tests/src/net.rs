//! Helpers for end-to-end tests of the real binaries: node homes, processes, HTTP.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_primitives::crypto::KeyFile;
use concordat_primitives::SecretKey;
use serde_json::Value;

/// The directory holding the workspace's binaries: next to the running test's `deps/`, or
/// the running binary's own directory (the benchmark, `target/release/concordat-bench`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().expect("target/<profile>");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("target/<profile>").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Path of a workspace binary; panics with a hint if it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// A free TCP port on 127.0.0.1, below Linux's ephemeral range (32768-60999). A port the
/// kernel hands out for `bind(0)` is one it may give next to an outgoing connection of another
/// test, and a node started on it then fails with "address in use" (a flake seen once in a
/// full run). Each test process walks 20000-32767 from its own starting point, taking the first
/// port it can bind.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_768;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
    let _ = NEXT.compare_exchange(u32::MAX, seed % SPAN, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..SPAN {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LOW}-{}", LOW + SPAN - 1)
}

/// Runs `concordat genesis demo` into `dir` with `validators` validators.
pub fn demo_network(dir: &Path, validators: usize) {
    let out = Command::new(bin("concordat"))
        .args(["genesis", "demo", "--dir"])
        .arg(dir)
        .args(["--validators", &validators.to_string(), "--output", "json"])
        .output()
        .expect("run concordat");
    assert!(
        out.status.success(),
        "genesis demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `concordat genesis demo` into `dir`: one validator, genesis at `genesis_time` (RFC
/// 3339), for tests that move the node's clock to dates after it.
pub fn demo_network_since(dir: &Path, genesis_time: &str) {
    let out = Command::new(bin("concordat"))
        .args(["genesis", "demo", "--dir"])
        .arg(dir)
        .args(["--validators", "1", "--genesis-time", genesis_time])
        .output()
        .expect("genesis demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A one-validator demo network in a temporary directory, its node running.
pub struct Solo {
    /// Holds the files until the test ends.
    pub dir: tempfile::TempDir,
    /// The network's directory (genesis.json, keys/, node0/).
    pub net: PathBuf,
    /// The validator.
    pub node: Node,
    /// Its base URL.
    pub url: String,
    /// The chain id.
    pub chain: String,
}

impl Solo {
    /// Creates and starts the network; with `idle_blocks`, blocks keep coming with nothing to
    /// commit (for tests that wait for heights).
    pub fn start(idle_blocks: bool) -> Solo {
        let dir = tempfile::tempdir().expect("tempdir");
        let net = dir.path().join("net");
        demo_network(&net, 1);
        if idle_blocks {
            blocks_while_idle(&net.join("node0"));
        }
        let mut node = Node::new(net.join("node0"));
        node.start();
        let url = node.url();
        let chain = load_genesis(&net).chain_id;
        Solo {
            dir,
            net,
            node,
            url,
            chain,
        }
    }
}

/// Restarts `node` with its clock at `when` (`YYYY-MM-DDTHH:MM`, China Standard Time;
/// `CONCORDAT_CLOCK_OFFSET_MS`) and waits for a block there.
pub fn set_clock(node: &mut Node, when: &str) {
    node.stop();
    let target =
        concordat_primitives::time::parse_rfc3339_ms(&format!("{when}:00+08:00")).expect("time");
    let offset = target as i64 - now_ms() as i64;
    node.env.retain(|(k, _)| k != "CONCORDAT_CLOCK_OFFSET_MS");
    node.env
        .push(("CONCORDAT_CLOCK_OFFSET_MS".into(), offset.to_string()));
    node.start();
    let url = node.url();
    let h = height(&url);
    assert!(
        wait_height(&[url], h + 1, Duration::from_secs(30)),
        "no block after moving the clock to {when}"
    );
}

/// Reads a key file.
pub fn read_key(path: &Path) -> SecretKey {
    let text = std::fs::read_to_string(path).expect("key file");
    serde_json::from_str::<KeyFile>(&text)
        .expect("key json")
        .secret()
        .expect("valid key")
}

/// The demo REGISTRAR key (department 11110000MB01A7C368).
pub fn registrar_key(net: &Path) -> SecretKey {
    read_key(&net.join("keys").join("11110000MB01A7C368.key"))
}

/// A running (or stopped) node process.
pub struct Node {
    /// Its home.
    pub home: PathBuf,
    /// HTTP port.
    pub port: u16,
    /// Peer-to-peer port.
    pub p2p_port: u16,
    /// Extra environment for the process.
    pub env: Vec<(String, String)>,
    /// Extra arguments for the process (e.g. `--import-snapshot FILE`).
    pub args: Vec<String>,
    /// The network namespace the process runs in (`ip netns exec`), with its peer-to-peer
    /// address there; `None`: 127.0.0.1 of this namespace.
    pub netns: Option<(String, String)>,
    child: Option<Child>,
    starts: u32,
}

/// Where `cargo build --target wasm32-unknown-unknown --profile wasm -p concordat-verifier-wasm`
/// puts the browser verifier module.
pub fn verifier_wasm() -> PathBuf {
    bin_dir()
        .parent()
        .expect("target")
        .join("wasm32-unknown-unknown/wasm/concordat_verifier_wasm.wasm")
}

impl Node {
    /// A node for `home` on a fresh port (not started).
    pub fn new(home: PathBuf) -> Node {
        Node {
            home,
            port: free_port(),
            p2p_port: free_port(),
            env: Vec::new(),
            args: Vec::new(),
            netns: None,
            child: None,
            starts: 0,
        }
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until `/v1/status` answers.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.starts += 1;
        let log = std::fs::File::create(self.home.join(format!("node-{}.log", self.starts)))
            .expect("log file");
        let mut cmd = match &self.netns {
            Some((ns, _)) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(bin("concordat-node"));
                c
            }
            None => Command::new(bin("concordat-node")),
        };
        let p2p_ip = self
            .netns
            .as_ref()
            .map_or("127.0.0.1", |(_, ip)| ip.as_str());
        let child = cmd
            .arg("--home")
            .arg(&self.home)
            .args(["--http-listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--p2p-listen", &format!("{p2p_ip}:{}", self.p2p_port)])
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn concordat-node");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "node exited at start ({status}); see {}",
                    self.home.display()
                );
            }
            if self.get("/v1/status").0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node did not answer within 60 s");
    }

    /// GET `path` of this node's API, from inside its network namespace when it has one (with
    /// curl there); status 0 when it does not answer.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.url());
        let Some((ns, _)) = &self.netns else {
            return get(&url);
        };
        curl_in(ns, &["-s", "-w", "\n%{http_code}", &url])
    }

    /// POST `bytes` to `path` of this node's API (see [`Node::get`]).
    pub fn post(&self, path: &str, bytes: &[u8]) -> (u16, Value) {
        let url = format!("{}{path}", self.url());
        let Some((ns, _)) = &self.netns else {
            return post_bytes(&url, bytes);
        };
        let file = self.home.join("post.bin");
        std::fs::write(&file, bytes).expect("body file");
        let body = format!("@{}", file.display());
        curl_in(
            ns,
            &[
                "-s",
                "-w",
                "\n%{http_code}",
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
                &body,
                &url,
            ],
        )
    }

    /// Whether the process was started and not stopped.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// The process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The node's public key (from its `node_key`).
    pub fn key(&self) -> SecretKey {
        read_key(&self.home.join("node_key"))
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits up to `timeout` for the process to exit by itself and returns its exit status
    /// (`None`: still running).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Graceful stop (SIGTERM), waiting for the exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if c.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// curl run inside the network namespace `ns`, its output's last line read as the status.
fn curl_in(ns: &str, args: &[&str]) -> (u16, Value) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "curl", "--max-time", "30"])
        .args(args)
        .output();
    let Ok(out) = out else {
        return (0, Value::Null);
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => {
            let status = resp.status();
            (status, resp.into_json().unwrap_or(Value::Null))
        }
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    }
}

/// Makes the node at `home` start every height at once (`idle_block_interval_ms = 0`), so that
/// blocks keep coming with nothing to commit: for tests that wait for heights, not for
/// transactions.
pub fn blocks_while_idle(home: &Path) {
    let file = home.join("config.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let line = "idle_block_interval_ms = 0\n";
    let text = if text.contains("[consensus]\n") {
        text.replacen("[consensus]\n", &format!("[consensus]\n{line}"), 1)
    } else {
        format!("{text}\n[consensus]\n{line}")
    };
    std::fs::write(&file, text).expect("config");
}

/// A demo network of `validators` validator nodes and `observers` observer nodes (fresh keys,
/// admitted through `[p2p] observers`) under `dir`, each with a `config.toml` naming every
/// other node as a peer. `consensus` is extra TOML for the `[consensus]` table. Not started.
pub fn bft_network(dir: &Path, validators: usize, observers: usize, consensus: &str) -> Vec<Node> {
    bft_network_with(dir, validators, observers, consensus, |_| {})
}

/// Every peer address but node `i`'s own: node `i`'s `[p2p] peers`.
pub fn peers_except(addrs: &[String], i: usize) -> Vec<&String> {
    addrs
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, a)| a)
        .collect()
}

/// [`bft_network`], with `patch` applied to the genesis (the network's and every node's copy)
/// before anything starts.
pub fn bft_network_with(
    dir: &Path,
    validators: usize,
    observers: usize,
    consensus: &str,
    patch: impl Fn(&mut Value),
) -> Vec<Node> {
    demo_network(dir, validators);
    let mut files = vec![dir.join("genesis.json")];
    files.extend((0..validators).map(|i| dir.join(format!("node{i}")).join("genesis.json")));
    for file in files {
        let mut g: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("genesis")).expect("json");
        patch(&mut g);
        std::fs::write(&file, serde_json::to_string_pretty(&g).expect("json")).expect("write");
    }
    let mut nodes: Vec<Node> = (0..validators)
        .map(|i| Node::new(dir.join(format!("node{i}"))))
        .collect();
    let mut observer_keys = Vec::new();
    for j in 0..observers {
        let home = dir.join(format!("observer{j}"));
        std::fs::create_dir_all(&home).expect("observer home");
        std::fs::copy(dir.join("genesis.json"), home.join("genesis.json")).expect("genesis");
        let key = SecretKey::from_seed([200 + j as u8; 32]);
        let file = serde_json::json!({
            "type": "ed25519",
            "public_key": key.public_key().to_hex(),
            "secret_key": hex::encode(key.seed()),
        });
        std::fs::write(home.join("node_key"), file.to_string()).expect("key");
        observer_keys.push(key.public_key().to_hex());
        nodes.push(Node::new(home));
    }
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("{}@127.0.0.1:{}", n.key().public_key().to_hex(), n.p2p_port))
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        let peers = peers_except(&addrs, i);
        let config = format!(
            "[p2p]\npeers = {}\nobservers = {}\n\n[consensus]\n{consensus}\n",
            serde_json::to_string(&peers).expect("json"),
            serde_json::to_string(&observer_keys).expect("json"),
        );
        std::fs::write(node.home.join("config.toml"), config).expect("config");
    }
    nodes
}

/// The committed height a node reports.
pub fn height(url: &str) -> u64 {
    let (code, s) = get(&format!("{url}/v1/status"));
    assert_eq!(code, 200, "status of {url}: {s}");
    s["height"].as_u64().expect("height")
}

/// Waits until every node reports at least `h`; false on timeout.
pub fn wait_height(urls: &[String], h: u64, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if urls.iter().all(|u| height(u) >= h) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A metric's value from `/metrics` (0 when absent).
pub fn metric(url: &str, name: &str) -> u64 {
    let text = agent()
        .get(&format!("{url}/metrics"))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// GET returning (status, JSON); status 0 when the node is unreachable.
pub fn get(url: &str) -> (u16, Value) {
    answer(agent().get(url).call())
}

/// POST raw bytes.
pub fn post_bytes(url: &str, bytes: &[u8]) -> (u16, Value) {
    answer(
        agent()
            .post(url)
            .set("Content-Type", "application/octet-stream")
            .send_bytes(bytes),
    )
}

pub use concordat_testkit::synthetic_uscc;

/// A signed party registration.
pub fn register_tx(
    key: &SecretKey,
    chain_id: &str,
    nonce: u64,
    expiry: u64,
    uscc: &str,
) -> SignedTransaction {
    Transaction {
        chain_id: chain_id.into(),
        signer: key.public_key(),
        nonce,
        expiry_height: expiry,
        call: Call::Party(PartyCall::Register {
            uscc: uscc.into(),
            name: format!("测试企业 {uscc}"),
            legal_rep_ref: None,
            registered_address: "望京街道样例路1号".into(),
        }),
    }
    .sign(key)
}

/// Polls `GET /v1/txs/{hash}` until committed (returns the answer) or the timeout.
pub fn wait_committed(url: &str, hash: &str, timeout: Duration) -> Option<Value> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let (code, v) = get(&format!("{url}/v1/txs/{hash}"));
        if code == 200 && v["status"] == "committed" {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Loads the network's genesis.
pub fn load_genesis(net: &Path) -> concordat_genesis::Genesis {
    let text = std::fs::read_to_string(net.join("genesis.json")).expect("genesis.json");
    concordat_genesis::GenesisSpec::from_json(&text)
        .expect("spec")
        .validate()
        .expect("valid")
}

/// Replays every block from genesis, independently of the node's code, and checks each header's
/// `state_root`, `tx_log_root`, `tx_log_size` and every receipt code the API reports.
/// Returns the replayed tip height.
pub fn replay_from_genesis(url: &str, genesis: &concordat_genesis::Genesis) -> u64 {
    use concordat_contracts::block::Block;
    use concordat_contracts::{execute_block, BlockContext};
    use concordat_primitives::merkle_log::{leaf_hash, MemoryLog};
    use concordat_primitives::state::{apply, MemoryStore};
    use std::collections::BTreeMap;

    let mut view: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut store = MemoryStore::new();
    let mut log = MemoryLog::new();
    let writes = genesis.initial_writes().expect("genesis writes");
    let (_, update) = apply(&store, 0, &writes).expect("genesis apply");
    store.commit(update).expect("commit");
    for (k, v) in writes {
        if let Some(v) = v {
            view.insert(k, v);
        }
    }
    let (code, status) = get(&format!("{url}/v1/status"));
    assert_eq!(code, 200);
    let tip = status["height"].as_u64().expect("height");
    let mut parent = genesis.hash();
    for h in 1..=tip {
        let (code, b) = get(&format!("{url}/v1/blocks/{h}"));
        assert_eq!(
            code, 200,
            "block {h} missing below the tip {tip}: a partial chain is visible"
        );
        let block =
            Block::from_bytes(&hex::decode(b["block"].as_str().expect("block hex")).expect("hex"))
                .expect("block decodes and matches txs_root");
        assert_eq!(
            block.header.parent_hash, parent,
            "height {h} does not extend its parent"
        );
        parent = block.hash();
        for tx in &block.txs {
            assert!(
                tx.verify_signature().is_ok(),
                "height {h} carries an unsigned transaction"
            );
        }
        let ctx = BlockContext::new(&genesis.chain_id, h, block.header.time_ms);
        let out = execute_block(&view, &ctx, &block.txs);
        for (k, v) in &out.writes {
            match v {
                Some(v) => view.insert(k.clone(), v.clone()),
                None => view.remove(k),
            };
        }
        let (root, update) = apply(&store, h, &out.writes).expect("apply");
        store.commit(update).expect("commit");
        let api_txs = b["txs"].as_array().expect("txs");
        assert_eq!(api_txs.len(), out.receipts.len(), "receipts of height {h}");
        for (r, t) in out.receipts.iter().zip(api_txs) {
            log.append(leaf_hash(&r.log_record(h).leaf_bytes()));
            assert_eq!(
                t["result"]["code"],
                r.code.as_str(),
                "result of {} differs from replay",
                r.tx_hash
            );
        }
        assert_eq!(
            root, block.header.state_root,
            "state root of height {h} differs from replay"
        );
        assert_eq!(
            log.root(),
            block.header.tx_log_root,
            "tx log root of height {h} differs from replay"
        );
        assert_eq!(log.size(), block.header.tx_log_size);
    }
    tip
}

/// Runs `concordat ARGS --output json`: whether it succeeded, and its JSON (or its text as a
/// JSON string).
pub fn concordat_json(args: &[&str]) -> (bool, Value) {
    let out = Command::new(bin("concordat"))
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("run concordat");
    let text = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(text.trim()).unwrap_or(Value::String(text.to_string()));
    if !out.status.success() {
        eprintln!(
            "concordat {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (out.status.success(), v)
}

/// Signs `call` with `key`'s next nonce (asked from the node), submits it, waits for the commit
/// and returns the node's answer (`status` committed, `result` with its code).
pub fn submit_wait(url: &str, chain: &str, key: &SecretKey, call: Call) -> Value {
    let (_, n) = get(&format!(
        "{url}/v1/state/nonce/{}",
        key.public_key().to_hex()
    ));
    let (_, st) = get(&format!("{url}/v1/status"));
    let tx = Transaction {
        chain_id: chain.into(),
        signer: key.public_key(),
        nonce: n["value"].as_u64().unwrap_or(0),
        expiry_height: st["height"].as_u64().expect("height") + 100,
        call,
    }
    .sign(key);
    let (code, v) = post_bytes(&format!("{url}/v1/txs?wait=true"), &tx.to_bytes());
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "committed", "{v}");
    v
}

/// A signer and reader of one node: submits signed calls and reads records back.
pub struct Client {
    /// The node's URL.
    pub url: String,
    /// The chain id.
    pub chain: String,
}

impl Client {
    /// A client of the node at `url`, for the demo network in `net`.
    pub fn new(url: &str, net: &Path) -> Client {
        Client {
            url: url.to_string(),
            chain: load_genesis(net).chain_id,
        }
    }

    /// Signs `call` with the signer's next nonce, submits it, waits, returns (code, message).
    pub fn send(&self, key: &SecretKey, call: Call) -> (String, String) {
        let v = submit_wait(&self.url, &self.chain, key, call);
        let r = &v["result"];
        (
            r["code"].as_str().unwrap_or("?").into(),
            r["message"].as_str().unwrap_or("").into(),
        )
    }

    /// Registers party `uscc` (by `registrar`) and binds `key` to it.
    pub fn register_party(&self, registrar: &SecretKey, uscc: &str, key: &SecretKey) {
        self.ok(
            registrar,
            Call::Party(concordat_contracts::party::PartyCall::Register {
                uscc: uscc.into(),
                name: format!("企业 {uscc}"),
                legal_rep_ref: None,
                registered_address: "样例路1号".into(),
            }),
        );
        self.ok(
            registrar,
            Call::Party(concordat_contracts::party::PartyCall::SetKeys {
                uscc: uscc.into(),
                keys: [key.public_key()].into(),
            }),
        );
    }

    /// Submits a call the node must refuse at admission (a 4xx answer, nothing committed);
    /// returns the status and the error answer.
    pub fn refused_at_admission(&self, key: &SecretKey, call: Call) -> (u16, Value) {
        let (_, n) = get(&format!(
            "{}/v1/state/nonce/{}",
            self.url,
            key.public_key().to_hex()
        ));
        let (_, st) = get(&format!("{}/v1/status", self.url));
        let tx = Transaction {
            chain_id: self.chain.clone(),
            signer: key.public_key(),
            nonce: n["value"].as_u64().unwrap_or(0),
            expiry_height: st["height"].as_u64().expect("height") + 100,
            call,
        }
        .sign(key);
        let (code, v) = post_bytes(&format!("{}/v1/txs?wait=true", self.url), &tx.to_bytes());
        assert!((400..500).contains(&code), "expected a refusal: {code} {v}");
        (code, v)
    }

    /// Submits a call that must succeed.
    pub fn ok(&self, key: &SecretKey, call: Call) {
        let (code, msg) = self.send(key, call.clone());
        assert_eq!(code, "OK", "{call:?}: {msg}");
    }

    /// The record `kind`/`id` as the API shows it (unverified).
    pub fn state(&self, kind: &str, id: &str) -> Value {
        let (code, v) = get(&format!("{}/v1/state/{kind}/{id}", self.url));
        assert_eq!(code, 200, "{v}");
        v["value"].clone()
    }

    /// `concordat query` (verified) as JSON.
    pub fn query(&self, kind: &str, id: &str) -> Value {
        let out = Command::new(bin("concordat"))
            .args(["query", kind, id, "--node", &self.url, "--output", "json"])
            .output()
            .expect("run concordat");
        assert!(
            out.status.success(),
            "query {kind} {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["verified"], true, "{v}");
        v
    }
}

/// Milliseconds since the Unix epoch, now (the nodes' block clock is this machine's).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}
