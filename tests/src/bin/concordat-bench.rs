//! `concordat-bench`: the benchmark behind `scripts/bench.sh` (goals.md, Performance).
//!
//! It starts a network of real `concordat-node` processes on 127.0.0.1 (4 validators by
//! default, each with its own RocksDB and synced commits), registers signers (64 registrar
//! clerks, 64 cargo-terminal clerks, hundreds of enterprises with their own keys), then runs an
//! open-loop load of pre-signed transactions of a realistic mix — party registrations,
//! commitments, licence applications, EPCIS event captures — spread over many distinct keys:
//! a saturating run and a run at half the saturated rate, each several times, medians
//! reported. In the same run it measures the single-core batch signature-verification rate and
//! reports the signature bound (cores × rate ÷ validators). It prints progress on stderr, one
//! JSON line on stdout at the end, and writes a markdown report.
//!
//! Latency is submit → the block holding the transaction visible through node 0's API
//! (`GET /v1/blocks/{h}` polled as the height moves). CPU time and peak RSS come from
//! `/proc/<pid>`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concordat_contracts::codes::LocationFunction;
use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::licence::{ApprovalMode, LicenceCall};
use concordat_contracts::logistics::LogisticsCall;
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_primitives::{Hash, SecretKey};
use concordat_tests::net::{bft_network_with, bin, free_port, get, post_bytes, wait_height, Node};
use serde_json::{json, Value};

const BJSAMR: &str = "11110000MB01A7C368";
const TERMINAL: &str = "91110115MA04DXCT11";
const RP: &str = "urn:epc:id:sgln:6901234.00001.0";
const CLERKS: u8 = 64;
const ENTERPRISES: u32 = 512;

struct Args {
    runs: usize,
    duration_s: u64,
    validators: usize,
    saturate_tps: u64,
    report: Option<PathBuf>,
    /// Record counts to preload for the scale runs (empty: none).
    scale: Vec<u64>,
    /// Validators of the network whose proof and bundle sizes are measured (0: not measured).
    bundle_validators: usize,
    /// Records preloaded into the network of `bundle_validators` before its sizes are measured.
    bundle_records: u64,
    /// Half-load runs with one client flooding forged transactions at 10x the honest rate.
    flood_runs: usize,
}

fn args() -> Args {
    let mut a = Args {
        runs: 3,
        duration_s: 60,
        validators: 4,
        saturate_tps: 6000,
        report: None,
        scale: Vec::new(),
        bundle_validators: 21,
        flood_runs: 1,
        bundle_records: 1_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => a.runs = value().parse().expect("--runs N"),
            "--duration" => a.duration_s = value().parse().expect("--duration SECONDS"),
            "--validators" => a.validators = value().parse().expect("--validators N"),
            "--saturate-tps" => a.saturate_tps = value().parse().expect("--saturate-tps TPS"),
            "--report" => a.report = Some(PathBuf::from(value())),
            "--bundle-records" => a.bundle_records = value().parse().expect("--bundle-records N"),
            "--flood-runs" => a.flood_runs = value().parse().expect("--flood-runs N"),
            "--bundle-validators" => {
                a.bundle_validators = value().parse().expect("--bundle-validators N")
            }
            "--scale" => {
                a.scale = value()
                    .split(',')
                    .map(|n| n.trim().parse().expect("--scale N,M (record counts)"))
                    .collect()
            }
            other => panic!("unknown argument {other}; see scripts/bench.sh"),
        }
    }
    a
}

fn progress(msg: &str) {
    eprintln!("[bench] {msg}");
}

fn clerk(i: u8) -> SecretKey {
    SecretKey::from_seed([
        i, 0xc1, 0xe7, 0x4b, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1,
    ])
}

fn terminal_clerk(i: u8) -> SecretKey {
    SecretKey::from_seed([
        i, 0x7e, 0x4d, 0x19, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2,
    ])
}

fn enterprise(n: u32) -> SecretKey {
    let mut seed = [3u8; 32];
    seed[..4].copy_from_slice(&n.to_be_bytes());
    SecretKey::from_seed(seed)
}

/// A signer for the network behind `url`, continuing from `nonces`.
fn signer_for(url: &str, nonces: HashMap<[u8; 32], u64>) -> Signer {
    let (_, st) = get(&format!("{url}/v1/status"));
    Signer {
        chain: st["chain_id"].as_str().expect("chain").to_string(),
        expiry: st["height"].as_u64().unwrap_or(0) + 90_000,
        nonces,
    }
}

/// Signs transactions with per-signer nonces kept here.
struct Signer {
    chain: String,
    expiry: u64,
    nonces: HashMap<[u8; 32], u64>,
}

impl Signer {
    fn sign(&mut self, key: &SecretKey, call: Call) -> SignedTransaction {
        let n = self.nonces.entry(*key.public_key().as_bytes()).or_insert(0);
        let tx = Transaction {
            chain_id: self.chain.clone(),
            signer: key.public_key(),
            nonce: *n,
            expiry_height: self.expiry,
            call,
        }
        .sign(key);
        *n += 1;
        tx
    }
}

/// The i-th transaction of the load mix for run `run`.
fn load_tx(s: &mut Signer, run: u32, i: u64) -> SignedTransaction {
    let (key, call) = load_call(run, i);
    s.sign(&key, call)
}

/// Signs `plan` ((index, nonce) pairs) on every core: `call(i)` gives the i-th signer and call.
fn sign_parallel(
    chain: &str,
    expiry: u64,
    plan: &[(u64, u64)],
    call: impl Fn(u64) -> (SecretKey, Call) + Sync,
) -> Vec<SignedTransaction> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = plan.len().div_ceil(threads).max(1);
    let call = &call;
    std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(i, nonce)| {
                            let (key, call) = call(*i);
                            Transaction {
                                chain_id: chain.to_string(),
                                signer: key.public_key(),
                                nonce: *nonce,
                                expiry_height: expiry,
                                call,
                            }
                            .sign(&key)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signer thread"))
            .collect()
    })
}

/// The i-th transactions of the load mix for run `run`, signed on every core: nonces are
/// assigned in order first, then the calls are built and signed in parallel.
fn load_txs(s: &mut Signer, run: u32, total: u64) -> Vec<(Hash, Vec<u8>)> {
    let plan: Vec<(u64, u64)> = (0..total)
        .map(|i| {
            let (key, _) = load_signer(i);
            let n = s.nonces.entry(*key.public_key().as_bytes()).or_insert(0);
            *n += 1;
            (i, *n - 1)
        })
        .collect();
    sign_parallel(&s.chain, s.expiry, &plan, |i| load_call(run, i))
        .into_iter()
        .map(|tx| (tx.hash(), tx.to_bytes()))
        .collect()
}

/// Who signs the i-th transaction (the same rule as [`load_call`]).
fn load_signer(i: u64) -> (SecretKey, ()) {
    let key = match i % 20 {
        0..=6 => clerk((i % u64::from(CLERKS)) as u8),
        7..=11 => enterprise((i % u64::from(ENTERPRISES)) as u32),
        12..=15 => enterprise(((i / 20) % u64::from(ENTERPRISES)) as u32),
        _ => terminal_clerk((i % u64::from(CLERKS)) as u8),
    };
    (key, ())
}

/// The i-th call of the load mix for run `run`, with its signer.
fn load_call(run: u32, i: u64) -> (SecretKey, Call) {
    let tag = format!("{run}-{i}");
    let (key, ()) = load_signer(i);
    let call = match i % 20 {
        // 35 %: party registrations by the registrar's clerks.
        0..=6 => Call::Party(PartyCall::Register {
            uscc: concordat_testkit::synthetic_uscc(1000 + run, i as u32),
            name: format!("压测企业 {tag}"),
            legal_rep_ref: None,
            registered_address: "望京街道样例路1号".into(),
        }),
        // 25 %: commitments by enterprises.
        7..=11 => Call::Commitment(CommitmentCall::Make {
            commitment_id: format!("BC-{tag}"),
            kind: CommitmentKind::Truthfulness,
            text_hash: Hash::digest(tag.as_bytes()),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: Some(BJSAMR.into()),
        }),
        // 20 %: licence applications by enterprises.
        12..=15 => Call::Licence(LicenceCall::Apply {
            licence_id: format!("BL-{tag}"),
            type_code: "FOOD_BUSINESS".into(),
            issuer: BJSAMR.into(),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "预包装食品销售".into(),
            site_ids: vec![],
        }),
        // 20 %: EPCIS captures by the cargo terminal's clerks.
        _ => {
            let event = json!({
                "type": "ObjectEvent",
                "eventTime": "2026-09-08T10:00:00+08:00",
                "eventTimeZoneOffset": "+08:00",
                "epcList": [format!("urn:epc:id:sscc:6901234.{:010}", (u64::from(run) << 32 | i) % 10_000_000_000)],
                "action": "OBSERVE",
                "bizStep": "arriving",
                "readPoint": {"id": RP},
            });
            Call::Logistics(LogisticsCall::Capture {
                document: concordat_testkit::customs::epcis_document(vec![event]),
            })
        }
    };
    (key, call)
}

/// The network: genesis patched with the clerks and the terminal, nodes started.
fn network(
    dir: &std::path::Path,
    validators: usize,
    preload: u64,
) -> (Vec<Node>, HashMap<[u8; 32], u64>) {
    let (mut nodes, nonces) = network_stopped(dir, validators, preload, validators);
    for n in &mut nodes {
        n.start();
    }
    (nodes, nonces)
}

/// [`network`] before any node starts.
/// `stores`: how many of the nodes (from node 0) get the preloaded store (the others stay
/// empty: a node that will not be started needs no copy).
fn network_stopped(
    dir: &std::path::Path,
    validators: usize,
    preload: u64,
    stores: usize,
) -> (Vec<Node>, HashMap<[u8; 32], u64>) {
    let nodes = bft_network_with(dir, validators, 0, "", |g| {
        for d in g["departments"].as_array_mut().expect("departments") {
            if d["uscc"] == BJSAMR {
                let keys = d["member_keys"].as_array_mut().expect("keys");
                keys.truncate(1);
                keys.extend((1..CLERKS).map(|i| json!(clerk(i).public_key().to_hex())));
                keys[0] = json!(clerk(0).public_key().to_hex());
            }
        }
        g["departments"].as_array_mut().expect("departments").push(json!({
            "uscc": TERMINAL, "name": "大兴机场货站 (Daxing cargo terminal, synthetic)",
            "region": "110115", "roles": ["CARGO_TERMINAL"],
            "member_keys": (0..CLERKS).map(|i| terminal_clerk(i).public_key().to_hex()).collect::<Vec<_>>(),
        }));
    });
    let nonces = if preload > 0 {
        preload_records(dir, &nodes, preload, stores)
    } else {
        HashMap::new()
    };
    (nodes, nonces)
}

/// Commits every block under the validators' keys at once: the first of them, in the set's
/// order, whose power makes a quorum (the smallest certificate consensus makes, as a network
/// whose other votes arrive late would).
struct QuorumDecider(Vec<SecretKey>);

impl concordat_node::core::Decider for QuorumDecider {
    fn decide(
        &mut self,
        chain_id: &str,
        set: &concordat_primitives::ledger::ValidatorSet,
        header: &concordat_primitives::ledger::Header,
    ) -> Option<concordat_consensus::CommitCertificate> {
        let vote = concordat_consensus::Vote {
            kind: concordat_consensus::VoteKind::Precommit,
            height: header.height,
            round: 0,
            block_hash: Some(header.hash()),
        };
        let bytes = vote.signing_bytes(chain_id);
        let mut power = 0u64;
        let mut sigs = Vec::new();
        for v in set.validators() {
            if set.is_quorum(power) {
                break;
            }
            let key = self.0.iter().find(|k| k.public_key() == v.key)?;
            sigs.push((v.key, key.sign(&bytes)));
            power += v.power;
        }
        concordat_consensus::CommitCertificate::from_signatures(
            set,
            header.height,
            0,
            header.hash(),
            &sigs,
        )
        .ok()
    }
}

/// Fills validator 0's store with `records` party registrations (by the 64 registrar clerks,
/// 2,000 per block, signed on every core, admitted and executed by the node's own core and
/// committed with certificates of all the validators), then copies the store to the other
/// first `stores` validators: a state of that size in minutes instead of hours of traffic
/// (validators that will not be started get no copy). Returns the clerks'
/// next nonces.
fn preload_records(
    dir: &std::path::Path,
    nodes: &[Node],
    records: u64,
    stores: usize,
) -> HashMap<[u8; 32], u64> {
    use concordat_node::core::{ConsensusConfig, Input, NodeCore};
    use concordat_node::mempool::MempoolConfig;
    let t0 = Instant::now();
    let genesis = concordat_tests::net::load_genesis(dir);
    let keys: Vec<SecretKey> = nodes.iter().map(Node::key).collect();
    let data = nodes[0].home.join("data");
    let store = Arc::new(concordat_node::rocks::RocksStore::open(&data).expect("open the store"));
    const BLOCK: u64 = 2_000;
    let mut core = NodeCore::open(
        store,
        &genesis,
        keys[0].clone(),
        ConsensusConfig {
            max_block_txs: BLOCK as usize,
            ..ConsensusConfig::default()
        },
        MempoolConfig {
            max_txs: BLOCK as usize * 2,
            max_bytes: 64 * 1024 * 1024,
            max_per_signer: BLOCK,
            max_expiry_blocks: 1 << 41,
        },
        Box::new(QuorumDecider(keys)),
        [7; 32],
    )
    .expect("open the core");
    let chain = genesis.chain_id.clone();
    let mut nonces: HashMap<[u8; 32], u64> = HashMap::new();
    let mut done = 0u64;
    let mut last_report = Instant::now();
    while done < records {
        let n = BLOCK.min(records - done);
        let plan: Vec<(u64, u64)> = (done..done + n)
            .map(|i| {
                let k = clerk((i % u64::from(CLERKS)) as u8);
                let e = nonces.entry(*k.public_key().as_bytes()).or_insert(0);
                *e += 1;
                (i, *e - 1)
            })
            .collect();
        let signed: Vec<Vec<u8>> = sign_parallel(&chain, 1 << 40, &plan, |i| {
            (
                clerk((i % u64::from(CLERKS)) as u8),
                Call::Party(PartyCall::Register {
                    uscc: concordat_testkit::synthetic_uscc(5_000, i as u32),
                    name: format!("存量企业 {i}"),
                    legal_rep_ref: None,
                    registered_address: "望京街道样例路1号".into(),
                }),
            )
        })
        .iter()
        .map(SignedTransaction::to_bytes)
        .collect();
        let refs: Vec<&[u8]> = signed.iter().map(Vec::as_slice).collect();
        for r in core.submit_batch(&refs) {
            r.expect("a preload transaction admitted");
        }
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let out = core.handle(Input::Tick { now_ms });
        assert!(
            out.iter()
                .any(|o| matches!(o, concordat_node::core::Output::Committed { .. })),
            "the preload block did not commit"
        );
        done += n;
        if last_report.elapsed() > Duration::from_secs(15) || done == records {
            last_report = Instant::now();
            progress(&format!(
                "preloaded {done} of {records} records ({:.0} s, {:.0} records/s)",
                t0.elapsed().as_secs_f64(),
                done as f64 / t0.elapsed().as_secs_f64()
            ));
        }
    }
    drop(core);
    for node in nodes.iter().take(stores).skip(1) {
        let to = node.home.join("data");
        let _ = std::fs::remove_dir_all(&to);
        link_store(&data, &to).expect("copying the preloaded store");
    }
    progress(&format!(
        "preload done in {:.0} s",
        t0.elapsed().as_secs_f64()
    ));
    nonces
}

/// Copies a closed store from `from` to `to`, hard-linking the table files. RocksDB never
/// changes a `.sst` file once written (compaction writes new ones and unlinks the old), so
/// each node may share them, as RocksDB's own checkpoints do; every other file (manifest, log,
/// options, lock) is copied. The 10 M-record point needs one store's disk space, not four.
fn link_store(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            link_store(&src, &dst)?;
        } else if src.extension().is_some_and(|e| e == "sst") {
            std::fs::hard_link(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

fn submit_all(url: &str, txs: &[SignedTransaction]) {
    for tx in txs {
        let (code, v) = post_bytes(&format!("{url}/v1/txs"), &tx.to_bytes());
        assert_eq!(code, 202, "setup tx refused: {v}");
    }
}

fn wait_nonce(url: &str, key: &SecretKey, nonce: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let (_, v) = get(&format!(
            "{url}/v1/state/nonce/{}",
            key.public_key().to_hex()
        ));
        if v["value"].as_u64().unwrap_or(0) >= nonce {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("setup did not commit");
}

/// Registers the enterprises (with keys) and the read point.
fn setup(url: &str, s: &mut Signer) {
    let mut txs = Vec::new();
    for n in 0..ENTERPRISES {
        let uscc = concordat_testkit::synthetic_uscc(7, n);
        let c = clerk((n % u32::from(CLERKS)) as u8);
        txs.push(s.sign(
            &c,
            Call::Party(PartyCall::Register {
                uscc: uscc.clone(),
                name: format!("压测企业 {n}"),
                legal_rep_ref: None,
                registered_address: "望京街道样例路1号".into(),
            }),
        ));
        txs.push(s.sign(
            &c,
            Call::Party(PartyCall::SetKeys {
                uscc,
                keys: [enterprise(n).public_key()].into(),
            }),
        ));
    }
    txs.push(s.sign(
        &terminal_clerk(0),
        Call::Logistics(LogisticsCall::RegisterReadPoint {
            read_point: RP.into(),
            name: "大兴机场货站".into(),
            locode: "CNPKX".into(),
            function: LocationFunction::Airport,
        }),
    ));
    for chunk in txs.chunks(2000) {
        submit_all(url, chunk);
        let last = chunk.last().expect("tx");
        wait_nonce(url, &clerk_of(last), last.tx.nonce + 1);
    }
    for c in 0..CLERKS {
        let k = clerk(c);
        let n = s
            .nonces
            .get(k.public_key().as_bytes())
            .copied()
            .unwrap_or(0);
        wait_nonce(url, &k, n);
    }
}

fn clerk_of(tx: &SignedTransaction) -> SecretKey {
    (0..CLERKS)
        .map(clerk)
        .chain((0..CLERKS).map(terminal_clerk))
        .find(|k| k.public_key() == tx.tx.signer)
        .expect("a clerk")
}

/// CPU seconds (user + system) and peak RSS (kB) of a process.
fn proc_stats(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu, hwm)
}

struct RunResult {
    offered_tps: f64,
    committed_tps: f64,
    p50_ms: f64,
    p99_ms: f64,
    refused: u64,
    cpu_ms_per_tx_per_validator: f64,
    blocks_per_s: f64,
    txs_per_block: f64,
    max_lag_blocks: u64,
    /// Forged submissions the flooding client sent, and how many a node admitted (must be 0).
    flood_sent: u64,
    flood_admitted: u64,
    /// Where a block's time goes, averaged over the validators (ms per block, from their
    /// `/metrics`): propose, prevote and precommit steps, and the commit (the synced storage
    /// write and what follows it before the next height starts).
    block_split_ms: BlockSplit,
}

/// Mean milliseconds per committed block in each consensus step and in the commit.
#[derive(Clone, Copy, Default)]
struct BlockSplit {
    propose: f64,
    prevote: f64,
    precommit: f64,
    commit: f64,
}

/// The `_sum` and `_count` series of a node's histograms (`GET /metrics`), by series name
/// with its labels; empty when the node does not answer.
fn histogram_totals(url: &str) -> HashMap<String, f64> {
    let text = ureq::get(&format!("{url}/metrics"))
        .timeout(Duration::from_secs(10))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default();
    histogram_totals_of(&text)
}

/// The `_sum` and `_count` series of a Prometheus text exposition.
fn histogram_totals_of(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(name, _)| {
            let base = name.split('{').next().unwrap_or(name);
            base.ends_with("_sum") || base.ends_with("_count")
        })
        .filter_map(|(name, v)| Some((name.to_string(), v.parse().ok()?)))
        .collect()
}

impl BlockSplit {
    /// The split between two readings of every validator's histograms.
    fn between(before: &[HashMap<String, f64>], after: &[HashMap<String, f64>]) -> BlockSplit {
        let delta = |name: &str| -> f64 {
            before
                .iter()
                .zip(after)
                .map(|(b, a)| a.get(name).unwrap_or(&0.0) - b.get(name).unwrap_or(&0.0))
                .sum()
        };
        let blocks = delta("concordat_block_commit_seconds_count").max(1.0);
        let per_block = |sum: &str| delta(sum) * 1000.0 / blocks;
        let step = |s: &str| {
            per_block(&format!(
                "concordat_consensus_step_seconds_sum{{step=\"{s}\"}}"
            ))
        };
        BlockSplit {
            propose: step("propose"),
            prevote: step("prevote"),
            precommit: step("precommit"),
            commit: per_block("concordat_block_commit_seconds_sum"),
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    percentile(v, 0.5)
}

/// One open-loop run at `rate` for `secs`.
/// A forged transaction for the flood: a registered clerk as signer, a nonce far ahead, and a
/// signature of random bytes, so admission goes through every check up to the signature (and
/// poisons the batch it is verified in). Unique by `n`, so no duplicate check saves the node's
/// work.
fn forged_tx(chain: &str, n: u64) -> Vec<u8> {
    let mut sig = [0u8; 64];
    sig[..8].copy_from_slice(&n.to_le_bytes());
    sig[8..16].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    SignedTransaction {
        tx: Transaction {
            chain_id: chain.to_string(),
            signer: clerk((n % u64::from(CLERKS)) as u8).public_key(),
            nonce: 1_000_000_000 + n,
            expiry_height: 1,
            call: Call::Party(PartyCall::Register {
                uscc: concordat_testkit::synthetic_uscc(9_999, n as u32),
                name: format!("flood {n}"),
                legal_rep_ref: None,
                registered_address: "nowhere".into(),
            }),
        },
        signature: concordat_primitives::crypto::Signature(sig),
    }
    .to_bytes()
}

/// One client flooding node 0 with forged transactions at `rate` a second (over 8 connections)
/// until `stop`; returns (sent, admitted).
fn flood(url: String, chain: String, rate: f64, stop: Arc<AtomicBool>) -> (u64, u64) {
    let threads = 8u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (url, chain, stop) = (url.clone(), chain.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                let t0 = Instant::now();
                let (mut sent, mut admitted) = (0u64, 0u64);
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let at = t0 + Duration::from_secs_f64(i as f64 / rate);
                    if let Some(d) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(d);
                    }
                    let status = match agent
                        .post(&format!("{url}/v1/txs"))
                        .set("Content-Type", "application/octet-stream")
                        .send_bytes(&forged_tx(&chain, i))
                    {
                        Ok(r) => r.status(),
                        Err(ureq::Error::Status(code, _)) => code,
                        Err(_) => 0,
                    };
                    sent += 1;
                    if status == 202 {
                        admitted += 1;
                    }
                    i += threads;
                }
                (sent, admitted)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("flooder"))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

fn run(nodes: &[Node], s: &mut Signer, run_no: u32, rate: f64, secs: u64) -> RunResult {
    run_flooded(nodes, s, run_no, rate, secs, 0.0)
}

/// Longest wait for the network to be idle before a run.
const SETTLE_MAX: Duration = Duration::from_secs(180);

/// Waits until the validators are idle (together under a tenth of a core for a second, up to
/// [`SETTLE_MAX`]): what a run before it left behind (transactions still committing after
/// its bounded drain, RocksDB's flushes and compactions) must not be measured as this run's
/// latency. Each run then starts from the same kind of quiet network, whatever came before.
fn settle(nodes: &[Node], run_no: u32) {
    let cpu = || -> f64 {
        nodes
            .iter()
            .filter_map(Node::pid)
            .map(|p| proc_stats(p).0)
            .sum()
    };
    let t0 = Instant::now();
    let mut before = cpu();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = cpu();
        let busy = now - before;
        before = now;
        if busy < 0.1 {
            progress(&format!(
                "run {run_no}: the validators are idle ({:.0} s waited)",
                t0.elapsed().as_secs_f64()
            ));
            return;
        }
        if t0.elapsed() >= SETTLE_MAX {
            progress(&format!(
                "run {run_no}: the validators are still busy ({busy:.2} cores) after {} s; running anyway",
                SETTLE_MAX.as_secs()
            ));
            return;
        }
    }
}

/// A run at `rate` TPS for `secs`, with one client flooding node 0 with forged transactions at
/// `flood_rate` a second meanwhile (0: no flood).
fn run_flooded(
    nodes: &[Node],
    s: &mut Signer,
    run_no: u32,
    rate: f64,
    secs: u64,
    flood_rate: f64,
) -> RunResult {
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    let total = (rate * secs as f64) as u64;
    progress(&format!(
        "run {run_no}: signing {total} transactions for {rate:.0} TPS x {secs} s"
    ));
    let txs = Arc::new(load_txs(s, run_no, total));
    settle(nodes, run_no);
    let commits: Arc<Mutex<HashMap<Hash, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let blocks: Arc<Mutex<Vec<(Instant, usize)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let max_lag = Arc::new(AtomicU64::new(0));
    let start_height = concordat_tests::net::height(&urls[0]);
    // The watcher: node 0's blocks as they appear; every node's height for the lag.
    let watcher = {
        let (commits, blocks, stop, max_lag, urls) = (
            commits.clone(),
            blocks.clone(),
            stop.clone(),
            max_lag.clone(),
            urls.clone(),
        );
        std::thread::spawn(move || {
            let mut next = start_height + 1;
            let mut last_lag = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let (code, b) = get(&format!("{}/v1/blocks/{next}?summary=true", urls[0]));
                if code == 200 {
                    let seen = Instant::now();
                    let list = b["txs"].as_array().cloned().unwrap_or_default();
                    let mut c = commits.lock().expect("lock");
                    for t in &list {
                        if let Some(h) = t["tx_hash"].as_str().and_then(|h| Hash::from_hex(h).ok())
                        {
                            c.insert(h, seen);
                        }
                    }
                    blocks.lock().expect("lock").push((seen, list.len()));
                    next += 1;
                    continue;
                }
                if last_lag.elapsed() > Duration::from_millis(250) {
                    let hs: Vec<u64> = urls
                        .iter()
                        .map(|u| concordat_tests::net::height(u))
                        .collect();
                    let lag = hs.iter().max().unwrap_or(&0) - hs.iter().min().unwrap_or(&0);
                    max_lag.fetch_max(lag, Ordering::Relaxed);
                    last_lag = Instant::now();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let cpu_before: Vec<f64> = nodes
        .iter()
        .map(|n| proc_stats(n.pid().expect("pid")).0)
        .collect();
    let histograms_before: Vec<_> = urls.iter().map(|u| histogram_totals(u)).collect();
    let flood_stop = Arc::new(AtomicBool::new(false));
    let flooder = (flood_rate > 0.0).then(|| {
        let (url, chain, stop) = (urls[0].clone(), s.chain.clone(), flood_stop.clone());
        std::thread::spawn(move || flood(url, chain, flood_rate, stop))
    });
    let workers = 48usize;
    let t0 = Instant::now() + Duration::from_millis(200);
    let submitted: Arc<Mutex<HashMap<Hash, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let refused = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (txs, submitted, refused, urls) = (
                txs.clone(),
                submitted.clone(),
                refused.clone(),
                urls.clone(),
            );
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                let mut i = w as u64;
                while i < total {
                    let at = t0 + Duration::from_secs_f64(i as f64 / rate);
                    if let Some(d) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(d);
                    }
                    let (hash, bytes) = &txs[i as usize];
                    let url = format!("{}/v1/txs", urls[i as usize % urls.len()]);
                    let sent = Instant::now();
                    // A refused submission (a full mempool) is retried until admitted: a
                    // dropped one would leave a nonce gap that blocks its signer's later ones.
                    loop {
                        let ok = agent
                            .post(&url)
                            .set("Content-Type", "application/octet-stream")
                            .send_bytes(bytes)
                            .map(|r| r.status() == 202)
                            .unwrap_or(false);
                        if ok {
                            break;
                        }
                        refused.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    submitted.lock().expect("lock").insert(*hash, sent);
                    i += workers as u64;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker");
    }
    let sent_end = Instant::now();
    flood_stop.store(true, Ordering::Relaxed);
    let (flood_sent, flood_admitted) = flooder.map(|h| h.join().expect("flood")).unwrap_or((0, 0));
    let window_end = t0 + Duration::from_secs(secs);
    // Let what was admitted commit (bounded).
    let drain = Instant::now() + Duration::from_secs(20);
    while Instant::now() < drain {
        let pending = {
            let sub = submitted.lock().expect("lock");
            let c = commits.lock().expect("lock");
            sub.keys().filter(|h| !c.contains_key(h)).count()
        };
        if pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().expect("watcher");
    let cpu_after: Vec<f64> = nodes
        .iter()
        .map(|n| proc_stats(n.pid().expect("pid")).0)
        .collect();
    let histograms_after: Vec<_> = urls.iter().map(|u| histogram_totals(u)).collect();
    let sub = submitted.lock().expect("lock");
    let c = commits.lock().expect("lock");
    let mut latencies = Vec::new();
    let mut in_window = 0u64;
    let mut committed = 0u64;
    for (h, sent) in sub.iter() {
        if let Some(seen) = c.get(h) {
            committed += 1;
            if *seen <= window_end {
                in_window += 1;
            }
            latencies.push(seen.duration_since(*sent).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let window = window_end.duration_since(t0).as_secs_f64();
    let bl = blocks.lock().expect("lock");
    let in_blocks: Vec<&(Instant, usize)> = bl
        .iter()
        .filter(|(t, _)| *t >= t0 && *t <= window_end)
        .collect();
    let txs_in_blocks: usize = in_blocks.iter().map(|(_, n)| n).sum();
    let cpu: f64 = cpu_after.iter().zip(&cpu_before).map(|(a, b)| a - b).sum();
    let r = RunResult {
        offered_tps: sub.len() as f64 / sent_end.duration_since(t0).as_secs_f64().max(1e-9),
        committed_tps: in_window as f64 / window,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        refused: refused.load(Ordering::Relaxed),
        cpu_ms_per_tx_per_validator: cpu * 1000.0 / nodes.len() as f64 / committed.max(1) as f64,
        blocks_per_s: in_blocks.len() as f64 / window,
        txs_per_block: txs_in_blocks as f64 / in_blocks.len().max(1) as f64,
        max_lag_blocks: max_lag.load(Ordering::Relaxed),
        flood_sent,
        flood_admitted,
        block_split_ms: BlockSplit::between(&histograms_before, &histograms_after),
    };
    if flood_sent > 0 {
        progress(&format!(
            "run {run_no}: the flooding client sent {flood_sent} forged transactions ({:.0}/s), {flood_admitted} admitted",
            flood_sent as f64 / sent_end.duration_since(t0).as_secs_f64().max(1e-9)
        ));
    }
    let b = r.block_split_ms;
    progress(&format!(
        "run {run_no}: offered {:.0} TPS, committed {:.0} TPS, p50 {:.0} ms, p99 {:.0} ms, {} refused, {:.1} blocks/s x {:.0} txs, lag {} blocks, {:.3} ms CPU/tx/validator, per block {:.1} propose / {:.1} prevote / {:.1} precommit / {:.1} commit ms",
        r.offered_tps, r.committed_tps, r.p50_ms, r.p99_ms, r.refused, r.blocks_per_s, r.txs_per_block, r.max_lag_blocks, r.cpu_ms_per_tx_per_validator,
        b.propose, b.prevote, b.precommit, b.commit
    ));
    r
}

/// Single-core batch verification rate (signatures per second), batches of 64.
fn sig_rate() -> f64 {
    let items: Vec<([u8; 32], Vec<u8>, [u8; 64])> = (0..64u32)
        .map(|i| {
            let k = enterprise(10_000 + i);
            let msg = format!("message {i}").into_bytes();
            let sig = k.sign(&msg);
            (*k.public_key().as_bytes(), msg, sig.0)
        })
        .collect();
    let mut rng = rand::thread_rng();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(3) {
        let batch: Vec<concordat_primitives::crypto::BatchItem<'_>> = items
            .iter()
            .map(|(k, m, s)| (*k, m.as_slice(), *s))
            .collect();
        let ok = concordat_primitives::crypto::verify_batch(&batch, &mut rng);
        assert!(ok.is_ok(), "a valid batch failed");
        n += items.len() as u64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!(
        "{} cores ({cpu}), {:.0} GiB RAM",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        mem_kb as f64 / 1_048_576.0
    )
}

fn main() {
    let a = args();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    progress("measuring single-core batch signature verification");
    let rate = sig_rate();
    let bound = cores as f64 * rate / a.validators as f64;
    progress(&format!("{rate:.0} signatures/s on one core; signature bound {bound:.0} TPS ({cores} cores, {} validators)", a.validators));

    let dir = tempfile_dir();
    progress(&format!(
        "starting {} validators under {}",
        a.validators,
        dir.display()
    ));
    let (mut nodes, _) = network(&dir, a.validators, 0);
    let url = nodes[0].url();
    let mut s = signer_for(&url, HashMap::new());
    progress(&format!(
        "registering {ENTERPRISES} enterprises with their keys"
    ));
    setup(&url, &mut s);

    let mut sat = Vec::new();
    for r in 0..a.runs {
        sat.push(run(
            &nodes,
            &mut s,
            r as u32,
            a.saturate_tps as f64,
            a.duration_s,
        ));
    }
    let mut tps: Vec<f64> = sat.iter().map(|r| r.committed_tps).collect();
    let saturated = median(&mut tps);
    let half_rate = (saturated / 2.0).max(1.0);
    let mut half = Vec::new();
    for r in 0..a.runs {
        half.push(run(&nodes, &mut s, 100 + r as u32, half_rate, a.duration_s));
    }
    let med = |v: &[RunResult], f: fn(&RunResult) -> f64| {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        median(&mut x)
    };
    // Floods (goals.md, Reliability): the half load again while one client sends forged
    // transactions at 10x its rate to node 0; honest throughput against the half-load runs.
    let rss0 = |nodes: &[Node]| {
        nodes[0]
            .pid()
            .map_or(0.0, |p| proc_stats(p).1 as f64 / 1024.0)
    };
    let rss_before_flood = rss0(&nodes);
    let mut flooded = Vec::new();
    for r in 0..a.flood_runs {
        progress(&format!(
            "flood run {r}: half load with one client sending {:.0} forged transactions a second",
            10.0 * half_rate
        ));
        flooded.push(run_flooded(
            &nodes,
            &mut s,
            300 + r as u32,
            half_rate,
            a.duration_s,
            10.0 * half_rate,
        ));
    }
    let rss_after_flood = rss0(&nodes);
    let flood_doc = if flooded.is_empty() {
        Value::Null
    } else {
        let honest = med(&flooded, |r| r.committed_tps);
        json!({
            "runs": flooded.len(),
            "flood_offered_per_s": 10.0 * half_rate,
            "flood_sent_per_s": med(&flooded, |r| r.flood_sent as f64) / a.duration_s as f64,
            "flood_admitted": flooded.iter().map(|r| r.flood_admitted).sum::<u64>(),
            "honest_tps": honest,
            "honest_tps_ratio": honest / med(&half, |r| r.committed_tps).max(1e-9),
            "p50_ms": med(&flooded, |r| r.p50_ms),
            "p99_ms": med(&flooded, |r| r.p99_ms),
            "node0_rss_mb_before": rss_before_flood,
            "node0_rss_mb_after": rss_after_flood,
        })
    };

    // Proof and bundle sizes at the state reached.
    let (proof_bytes, absence_bytes, bundle_bytes) =
        proof_sizes(&url, &dir, &concordat_testkit::synthetic_uscc(7, 1));
    let keys_in_state = concordat_tests::net::height(&url);

    // Catch-up: the last validator down for 20 s at half load, then back.
    progress("catch-up: stopping the last validator for 20 s under half load");
    let last = nodes.len() - 1;
    let stopped_at = concordat_tests::net::height(&nodes[last].url());
    nodes[last].stop();
    let live_start = tx_count(&url, concordat_tests::net::height(&url));
    let t_live = Instant::now();
    let background = {
        let urls: Vec<String> = nodes[..last].iter().map(Node::url).collect();
        let total = (half_rate * 20.0) as u64;
        let txs: Vec<Vec<u8>> = (0..total)
            .map(|i| load_tx(&mut s, 200, i).to_bytes())
            .collect();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            for (i, b) in txs.iter().enumerate() {
                let at = t0 + Duration::from_secs_f64(i as f64 / half_rate);
                if let Some(d) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(d);
                }
                let _ = post_bytes(&format!("{}/v1/txs", urls[i % urls.len()]), b);
            }
        })
    };
    background.join().expect("load");
    let live_txs = tx_count(&url, concordat_tests::net::height(&url)) - live_start;
    let live_rate = live_txs as f64 / t_live.elapsed().as_secs_f64();
    let behind_from = stopped_at;
    let tip = concordat_tests::net::height(&url);
    let t_catch = Instant::now();
    nodes[last].start();
    let caught = wait_height(&[nodes[last].url()], tip, Duration::from_secs(300));
    let catch_secs = t_catch.elapsed().as_secs_f64();
    let catchup_rate = if caught {
        (tx_count(&url, tip) - tx_count(&url, behind_from)) as f64 / catch_secs
    } else {
        0.0
    };
    let rss_mb: Vec<f64> = nodes
        .iter()
        .filter_map(Node::pid)
        .map(|p| proc_stats(p).1 as f64 / 1024.0)
        .collect();
    for n in &mut nodes {
        n.stop();
    }

    let scale = scale_points(&a, &dir);
    let wide = wide_bundle(&a, &dir);
    let ratio = match (scale.first(), scale.last()) {
        (Some(small), Some(large)) if scale.len() > 1 => {
            large["tps"].as_f64().unwrap_or(0.0) / small["tps"].as_f64().unwrap_or(1.0).max(1e-9)
        }
        _ => 0.0,
    };

    let doc = json!({
        "scale": scale,
        "scale_tps_ratio": ratio,
        "wide": wide,
        "flood": flood_doc,
        "tps": saturated,
        "p50_ms": med(&half, |r| r.p50_ms),
        "p99_ms": med(&half, |r| r.p99_ms),
        "sig_bound_tps": bound,
        "validators": a.validators,
        "sig_verify_per_s_single_core": rate,
        "cores": cores,
        "saturated_offered_tps": med(&sat, |r| r.offered_tps),
        "saturated_p50_ms": med(&sat, |r| r.p50_ms),
        "saturated_p99_ms": med(&sat, |r| r.p99_ms),
        "half_load_offered_tps": med(&half, |r| r.offered_tps),
        "half_load_committed_tps": med(&half, |r| r.committed_tps),
        "cpu_ms_per_tx_per_validator": med(&sat, |r| r.cpu_ms_per_tx_per_validator),
        "peak_rss_mb": rss_mb,
        "blocks_per_s": med(&sat, |r| r.blocks_per_s),
        "txs_per_block": med(&sat, |r| r.txs_per_block),
        "half_load_commit_ms_per_block": med(&half, |r| r.block_split_ms.commit),
        "half_load_block_ms": med(&half, |r| 1000.0 / r.blocks_per_s.max(1e-9)),
        "max_lag_blocks": sat.iter().map(|r| r.max_lag_blocks).max().unwrap_or(0),
        "refused_at_saturation": sat.iter().map(|r| r.refused).sum::<u64>(),
        "state_proof_bytes": proof_bytes,
        "absence_proof_bytes": absence_bytes,
        "bundle_bytes": bundle_bytes,
        "catchup_txs_per_s": catchup_rate,
        "verifier_wasm": verifier_wasm_size(),
        "live_txs_per_s": live_rate,
        "runs": a.runs,
        "duration_s": a.duration_s,
        "height_at_end": keys_in_state,
        "machine": machine(),
    });
    if let Some(path) = &a.report {
        let mut text = report(&doc, &sat, &half);
        if doc["scale"].as_array().is_none_or(|p| p.is_empty()) {
            // The scale runs take hours at 10 M records: a run without `--scale` keeps the
            // previous report's section, marked as such, rather than dropping its figures.
            let previous = std::fs::read_to_string(path).unwrap_or_default();
            text = with_kept_scale_section(&text, &previous);
        }
        std::fs::write(path, text).expect("write the report");
        progress(&format!("report written to {}", path.display()));
    }
    println!("{doc}");
}

/// For each record count of `--scale`: a fresh network preloaded with that many records, the
/// same setup, the saturating runs; throughput, latency, peak RSS and proof sizes there.
fn scale_points(a: &Args, dir: &std::path::Path) -> Vec<Value> {
    let mut out = Vec::new();
    for &records in &a.scale {
        let sdir = dir.join(format!("scale-{records}"));
        std::fs::create_dir_all(&sdir).expect("scale dir");
        progress(&format!(
            "scale: a network with {records} records preloaded"
        ));
        let t0 = Instant::now();
        let (mut nodes, nonces) = network(&sdir, a.validators, records);
        let preload_s = t0.elapsed().as_secs_f64();
        let url = nodes[0].url();
        let mut s = signer_for(&url, nonces);
        setup(&url, &mut s);
        let runs: Vec<RunResult> = (0..a.runs)
            .map(|r| {
                run(
                    &nodes,
                    &mut s,
                    300 + r as u32,
                    a.saturate_tps as f64,
                    a.duration_s,
                )
            })
            .collect();
        let (proof, absence, bundle) =
            proof_sizes(&url, &sdir, &concordat_testkit::synthetic_uscc(7, 1));
        let rss: Vec<f64> = nodes
            .iter()
            .filter_map(Node::pid)
            .map(|p| proc_stats(p).1 as f64 / 1024.0)
            .collect();
        let mut tps: Vec<f64> = runs.iter().map(|r| r.committed_tps).collect();
        let mut p50: Vec<f64> = runs.iter().map(|r| r.p50_ms).collect();
        let mut p99: Vec<f64> = runs.iter().map(|r| r.p99_ms).collect();
        let store_mb = dir_bytes(&nodes[0].home.join("data")) as f64 / 1_048_576.0;
        for n in &mut nodes {
            n.stop();
        }
        let _ = std::fs::remove_dir_all(&sdir);
        let point = json!({
            "records": records,
            "tps": median(&mut tps),
            "p50_ms": median(&mut p50),
            "p99_ms": median(&mut p99),
            "peak_rss_mb": rss,
            "store_mb": store_mb,
            "state_proof_bytes": proof,
            "absence_proof_bytes": absence,
            "bundle_bytes": bundle,
            "preload_s": preload_s,
        });
        progress(&format!("scale point: {point}"));
        out.push(point);
    }
    out
}

/// Proof and bundle sizes on a network of `--bundle-validators` validators (its blocks
/// certified by the smallest quorum, 2f+1 of equal power): 1,000 records preloaded, one node
/// started to serve them (the others need not run for reads).
fn wide_bundle(a: &Args, dir: &std::path::Path) -> Value {
    let n = a.bundle_validators;
    if n == 0 {
        return Value::Null;
    }
    progress(&format!("proof and bundle sizes with {n} validators"));
    let wdir = dir.join(format!("validators-{n}"));
    std::fs::create_dir_all(&wdir).expect("dir");
    // Only node 0 is started: its proofs and bundles are all that is measured here.
    let (mut nodes, _) = network_stopped(&wdir, n, a.bundle_records, 1);
    nodes[0].start();
    let url = nodes[0].url();
    let (proof, absence, bundle) =
        proof_sizes(&url, &wdir, &concordat_testkit::synthetic_uscc(5_000, 1));
    let (_, b) = get(&format!("{url}/v1/blocks/1?summary=true"));
    let signatures = b["certificate"]
        .as_str()
        .and_then(|h| hex::decode(h).ok())
        .and_then(|c| {
            concordat_primitives::encoding::from_bytes::<concordat_consensus::CommitCertificate>(&c)
                .ok()
        })
        .map_or(0, |c| c.signatures.len());
    let snapshot = snapshot_join(&url, &wdir);
    nodes[0].stop();
    let _ = std::fs::remove_dir_all(&wdir);
    let point = json!({
        "validators": n, "records": a.bundle_records, "signatures": signatures, "state_proof_bytes": proof,
        "absence_proof_bytes": absence, "bundle_bytes": bundle, "snapshot": snapshot,
    });
    progress(&format!("{n} validators: {point}"));
    point
}

/// Joining from a snapshot of the network at `url` (ADR 0023): `concordat snapshot fetch`
/// (download, verify the header from genesis, rebuild and check the state root), then a new
/// node's `--import-snapshot` until it answers at the snapshot's height. Entries per second of
/// each, and the file's size.
fn snapshot_join(url: &str, dir: &std::path::Path) -> Value {
    progress("snapshot: fetch and import");
    let file = dir.join("bench.snapshot");
    let t0 = Instant::now();
    let out = std::process::Command::new(bin("concordat"))
        .args(["snapshot", "fetch", "--node", url, "--genesis"])
        .arg(dir.join("genesis.json"))
        .arg("--out")
        .arg(&file)
        .args(["--output", "json"])
        .output()
        .expect("concordat snapshot fetch");
    let fetch_s = t0.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "snapshot fetch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fetched: Value = serde_json::from_slice(&out.stdout).expect("fetch output");
    let entries = fetched["entries"].as_f64().unwrap_or(0.0);
    let home = dir.join("joining");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::copy(dir.join("genesis.json"), home.join("genesis.json")).expect("genesis");
    let key = SecretKey::from_seed([250; 32]);
    std::fs::write(
        home.join("node_key"),
        json!({"type": "ed25519", "public_key": key.public_key().to_hex(),
               "secret_key": hex::encode(key.seed())})
        .to_string(),
    )
    .expect("key");
    let port = free_port();
    let t1 = Instant::now();
    let mut child = std::process::Command::new(bin("concordat-node"))
        .arg("--home")
        .arg(&home)
        .args(["--http-listen", &format!("127.0.0.1:{port}")])
        .args(["--p2p-listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--import-snapshot")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(home.join("node.log")).expect("log"))
        .spawn()
        .expect("concordat-node");
    let joined = format!("http://127.0.0.1:{port}");
    let height = fetched["height"].as_u64().unwrap_or(0);
    while get(&format!("{joined}/v1/status")).1["height"].as_u64() < Some(height) {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the joining node exited: {}",
            std::fs::read_to_string(home.join("node.log")).unwrap_or_default()
        );
        assert!(
            t1.elapsed() < Duration::from_secs(3600),
            "import over an hour"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let import_s = t1.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let point = json!({
        "entries": entries, "file_bytes": fetched["bytes"], "fetch_s": fetch_s,
        "import_s": import_s, "fetch_entries_per_s": entries / fetch_s.max(1e-9),
        "import_entries_per_s": entries / import_s.max(1e-9),
    });
    progress(&format!("snapshot: {point}"));
    point
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Transactions committed up to height `h` (the tx log's size in its header).
fn tx_count(url: &str, h: u64) -> u64 {
    let (_, v) = get(&format!("{url}/v1/headers/{h}"));
    v["header"]["tx_log_size"].as_u64().unwrap_or(0)
}

/// (membership proof, absence proof, party bundle) sizes in bytes at `url`'s tip.
fn proof_sizes(url: &str, dir: &std::path::Path, uscc: &str) -> (usize, usize, u64) {
    let (_, proof) = get(&format!("{url}/v1/state/party/{uscc}?proof=true"));
    let proof_bytes = proof["proof"].as_str().map(|p| p.len() / 2).unwrap_or(0);
    let (_, absent) = get(&format!(
        "{url}/v1/state/party/91110105MA01R7K442?proof=true"
    ));
    let absence_bytes = absent["proof"].as_str().map(|p| p.len() / 2).unwrap_or(0);
    let bundle_file = dir.join("party.bundle");
    let out = std::process::Command::new(bin("concordat"))
        .args(["proof", "party", uscc, "--node", url, "--out"])
        .arg(&bundle_file)
        .output()
        .expect("concordat proof");
    let bundle_bytes = if out.status.success() {
        std::fs::metadata(&bundle_file)
            .map(|m| m.len())
            .unwrap_or(0)
    } else {
        0
    };
    (proof_bytes, absence_bytes, bundle_bytes)
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concordat-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

fn report(doc: &Value, sat: &[RunResult], half: &[RunResult]) -> String {
    let f = |k: &str| doc[k].as_f64().unwrap_or(f64::NAN);
    let rows = |runs: &[RunResult]| -> String {
        runs.iter()
                .enumerate()
                .map(|(i, r)| {
                    let b = r.block_split_ms;
                    format!(
                    "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {:.1} | {:.0} | {} | {:.3} | {:.1} / {:.1} / {:.1} / {:.1} |\n",
                    i + 1, r.offered_tps, r.committed_tps, r.p50_ms, r.p99_ms, r.refused,
                    r.blocks_per_s, r.txs_per_block, r.max_lag_blocks, r.cpu_ms_per_tx_per_validator,
                    b.propose, b.prevote, b.precommit, b.commit
                )
                })
                .collect()
    };
    let head = "| run | admitted TPS | committed TPS | p50 ms | p99 ms | refusals (retried) | blocks/s | txs/block | max lag (blocks) | CPU ms/tx/validator | ms per block: propose / prevote / precommit / commit |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
    format!(
        "# Performance\n\n\
         The latest report of `scripts/bench.sh` (goals.md, Performance). Machine: {machine}. \
         {validators} validators on 127.0.0.1, each with its own RocksDB and synced commits; an \
         open-loop load of pre-signed transactions (35 % party registrations by 64 registrar \
         clerks, 25 % commitments and 20 % licence applications by 512 enterprises with their own \
         keys, 20 % EPCIS captures by 64 terminal clerks), posted to all validators; {runs} runs \
         of {secs} s per load, each started on idle validators; medians.\n\n\
         | figure | measured | goal |\n|---|---|---|\n\
         | committed TPS at saturation | {tps:.0} | ≥ 50 % of the signature bound ({half_bound:.0}) |\n\
         | signature bound (cores × single-core batch rate ÷ validators) | {bound:.0} ({rate:.0} sig/s on one core) | — |\n\
         | commit latency at half load (p50 / p99) | {p50:.0} / {p99:.0} ms at {hl:.0} TPS | ≤ 250 / ≤ 600 ms |\n\
         | CPU per committed tx per validator | {cpu:.3} ms ({sig_x:.1}× one signature verification) | ≤ 3× |\n\
         | blocks per second, transactions per block (saturation) | {bps:.1}, {tpb:.0} | — |\n\
         | slowest validator behind the tip (saturation) | {lag} blocks | a few blocks |\n\
         | peak RSS per node | {rss} MB | ≤ 1 GiB at 10 M records |\n\
         | state proof (membership / absence) | {pb} / {ab} bytes at height {h} | ≤ 800 bytes at 1 M keys |\n\
         | offline bundle (party) | {bb} bytes | ≤ 2 KB with 21 validators at 1 M keys |\n\
         | offline bundle with {wn} validators ({ws} signatures in its certificate), {wr} records | {wb} bytes (state proof {wp} bytes) | ≤ 2 KB |\n\
         | catch-up of a validator down 20 s | {cu:.0} tx/s replayed vs {live:.0} tx/s live ({cux:.1}×) | ≥ 5× |\n\
         {wasm}\
         {snapshot}\
         {flood}\n\
         ## Saturating runs\n\n{head}{sat_rows}\n## Half-load runs\n\n{head}{half_rows}{scale}\n\
         The analysis of these figures (the profile, what bounds them, what is next) is in \
         `docs/perf-analysis.md`.\n",
        machine = doc["machine"].as_str().unwrap_or("?"),
        validators = doc["validators"],
        runs = doc["runs"],
        secs = doc["duration_s"],
        tps = f("tps"),
        half_bound = f("sig_bound_tps") / 2.0,
        bound = f("sig_bound_tps"),
        rate = f("sig_verify_per_s_single_core"),
        p50 = f("p50_ms"),
        p99 = f("p99_ms"),
        hl = f("half_load_committed_tps"),
        cpu = f("cpu_ms_per_tx_per_validator"),
        sig_x = f("cpu_ms_per_tx_per_validator") / (1000.0 / f("sig_verify_per_s_single_core")),
        bps = f("blocks_per_s"),
        tpb = f("txs_per_block"),
        lag = doc["max_lag_blocks"],
        rss = doc["peak_rss_mb"]
            .as_array()
            .map(|v| v.iter().map(|x| format!("{:.0}", x.as_f64().unwrap_or(0.0))).collect::<Vec<_>>().join(", "))
            .unwrap_or_default(),
        pb = doc["state_proof_bytes"],
        ab = doc["absence_proof_bytes"],
        h = doc["height_at_end"],
        bb = doc["bundle_bytes"],
        wn = doc["wide"]["validators"],
        ws = doc["wide"]["signatures"],
        wr = doc["wide"]["records"],
        wb = doc["wide"]["bundle_bytes"],
        wp = doc["wide"]["state_proof_bytes"],
        cu = f("catchup_txs_per_s"),
        live = f("live_txs_per_s"),
        cux = f("catchup_txs_per_s") / f("live_txs_per_s").max(1e-9),
        head = head,
        sat_rows = rows(sat),
        half_rows = rows(half),
        scale = scale_section(doc),
        flood = flood_row(doc),
        snapshot = snapshot_row(doc),
        wasm = wasm_row(doc),
    )
}

/// The browser verifier's size as the node serves it (the module `scripts/verifier-wasm.sh`
/// built, and gzipped), or `null` when it was not built.
fn verifier_wasm_size() -> Value {
    use std::io::Write;
    let path = std::env::var_os("CONCORDAT_VERIFIER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(concordat_tests::net::verifier_wasm);
    let Ok(bytes) = std::fs::read(&path) else {
        return Value::Null;
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let gzip = gz
        .write_all(&bytes)
        .and_then(|()| gz.finish())
        .map(|z| z.len())
        .ok();
    json!({"bytes": bytes.len(), "gzip_bytes": gzip})
}

/// The browser verifier row of the summary table, when the module was there.
fn wasm_row(doc: &Value) -> String {
    let w = &doc["verifier_wasm"];
    match (w["bytes"].as_f64(), w["gzip_bytes"].as_f64()) {
        (Some(b), Some(g)) => format!(
            "| browser verifier (WASM module, as sent gzipped) | {:.0} KB ({:.0} KB) | ≤ 300 KB |\n",
            b / 1000.0,
            g / 1000.0
        ),
        _ => String::new(),
    }
}

/// The snapshot row of the summary table, when it was measured.
fn snapshot_row(doc: &Value) -> String {
    let sn = &doc["wide"]["snapshot"];
    if sn.is_null() {
        return String::new();
    }
    let f = |k: &str| sn[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "| joining from a snapshot of {} state entries ({:.0} MB; ADR 0023) | fetch and verify {:.1} s ({:.0} entries/s), import {:.1} s ({:.0} entries/s) | faster than replay |\n",
        f("entries"),
        f("file_bytes") / 1_048_576.0,
        f("fetch_s"),
        f("fetch_entries_per_s"),
        f("import_s"),
        f("import_entries_per_s"),
    )
}

/// The flood row of the summary table, when a flood run was made.
fn flood_row(doc: &Value) -> String {
    let fl = &doc["flood"];
    if fl.is_null() {
        return String::new();
    }
    let f = |k: &str| fl[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "| honest load at half rate while one client floods node 0 with forged transactions ({:.0}/s offered, {:.0}/s sent, {} admitted) | {:.0} TPS ({:.0} % of the half-load runs), p50 {:.0} / p99 {:.0} ms; node 0 RSS {:.0} → {:.0} MB | ≥ 90 %, memory bounded |\n",
        f("flood_offered_per_s"),
        f("flood_sent_per_s"),
        fl["flood_admitted"],
        f("honest_tps"),
        100.0 * f("honest_tps_ratio"),
        f("p50_ms"),
        f("p99_ms"),
        f("node0_rss_mb_before"),
        f("node0_rss_mb_after"),
    )
}

/// `report` (which has no scale section) with the scale section of `previous` (an earlier
/// report) put where its own would be, marked as not measured in this run; `report` unchanged
/// when `previous` has none.
fn with_kept_scale_section(report: &str, previous: &str) -> String {
    const HEAD: &str = "\n## Scale\n";
    const NOTE: &str = "Not measured in this run (no `--scale`): the section of an earlier \
                        report, kept as it was.";
    let Some(start) = previous.find(HEAD) else {
        return report.to_string();
    };
    let body = &previous[start + HEAD.len()..];
    let end = body
        .find("\n## ")
        .or_else(|| body.find("\nThe analysis of these figures"));
    let body = body[..end.unwrap_or(body.len())].trim_end();
    let body = body.strip_prefix(&format!("\n{NOTE}\n")).unwrap_or(body);
    let section = format!("{HEAD}\n{NOTE}\n{body}\n");
    match report.find("\nThe analysis of these figures") {
        Some(at) => format!("{}{section}{}", &report[..at], &report[at..]),
        None => format!("{report}{section}"),
    }
}

/// The scale runs' table, when there are any.
fn scale_section(doc: &Value) -> String {
    let Some(points) = doc["scale"].as_array().filter(|p| !p.is_empty()) else {
        return String::new();
    };
    let f = |p: &Value, k: &str| p[k].as_f64().unwrap_or(0.0);
    let rows: String = points
        .iter()
        .map(|p| {
            let rss = p["peak_rss_mb"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .map(|x| format!("{:.0}", x.as_f64().unwrap_or(0.0)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!(
                "| {} | {:.0} | {:.0} / {:.0} | {rss} | {:.0} | {} / {} | {} | {:.0} |\n",
                p["records"],
                f(p, "tps"),
                f(p, "p50_ms"),
                f(p, "p99_ms"),
                f(p, "store_mb"),
                p["state_proof_bytes"],
                p["absence_proof_bytes"],
                p["bundle_bytes"],
                f(p, "preload_s")
            )
        })
        .collect();
    format!(
        "\n## Scale\n\nA fresh network per row, its state preloaded with that many party records \
         (committed blocks with real certificates, built in-process and copied to every \
         validator), then the same setup and saturating runs. Throughput with the largest state \
         over the smallest: {ratio:.2} (goal ≥ 0.5 for 10 M over 100 k).\n\n\
         | records in state | committed TPS | p50 / p99 ms (saturation) | peak RSS per node MB | store MB (one node) | proof membership / absence bytes | bundle bytes | preload s |\n\
         |---|---|---|---|---|---|---|---|\n{rows}",
        ratio = doc["scale_tps_ratio"].as_f64().unwrap_or(0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::{histogram_totals_of, with_kept_scale_section, BlockSplit};

    const TAIL: &str = "\nThe analysis of these figures (the profile) is elsewhere.\n";

    #[test]
    fn the_block_split_is_each_sum_over_the_blocks_committed_between_two_readings() {
        let reading = |commit_sum: f64, blocks: u32, prevote_sum: f64| {
            histogram_totals_of(&format!(
                "# HELP concordat_block_commit_seconds Time.\n\
                 # TYPE concordat_block_commit_seconds histogram\n\
                 concordat_block_commit_seconds_bucket{{le=\"0.001\"}} 7\n\
                 concordat_block_commit_seconds_sum {commit_sum}\n\
                 concordat_block_commit_seconds_count {blocks}\n\
                 concordat_consensus_step_seconds_sum{{step=\"prevote\"}} {prevote_sum}\n\
                 concordat_consensus_step_seconds_count{{step=\"prevote\"}} {blocks}\n\
                 concordat_height 12\n"
            ))
        };
        let before = [reading(1.0, 10, 0.5), reading(2.0, 10, 0.0)];
        // Node 0 commits 10 blocks in 0.2 s, node 1 10 blocks in 0.6 s: 40 ms a block on
        // average; prevotes 0.3 s + 0.1 s over 20 blocks: 20 ms.
        let after = [reading(1.2, 20, 0.8), reading(2.6, 20, 0.1)];
        let b = BlockSplit::between(&before, &after);
        assert!((b.commit - 40.0).abs() < 1e-9, "{}", b.commit);
        assert!((b.prevote - 20.0).abs() < 1e-9, "{}", b.prevote);
        assert_eq!(b.propose, 0.0);
        // Buckets and gauges are not totals.
        assert!(!before[0].contains_key("concordat_height"));
        assert_eq!(before[0].len(), 4);
    }

    #[test]
    fn a_run_without_scale_keeps_the_previous_scale_section_marked() {
        let previous = format!(
            "# Performance\n\nold figures\n\n## Half-load runs\n\n| old |\n\n## Scale\n\nA fresh network per row.\n\n| 100000 | 1630 |\n| 10000000 | 1240 |\n{TAIL}"
        );
        let report =
            format!("# Performance\n\nnew figures\n\n## Half-load runs\n\n| new |\n{TAIL}");
        let once = with_kept_scale_section(&report, &previous);
        assert!(once.starts_with("# Performance\n\nnew figures"), "{once}");
        assert!(
            once.contains("| new |\n\n## Scale\n\nNot measured in this run"),
            "{once}"
        );
        assert!(
            once.contains("A fresh network per row.\n\n| 100000 | 1630 |\n| 10000000 | 1240 |\n")
        );
        assert!(once.ends_with(TAIL), "{once}");
        assert!(!once.contains("old figures"));
        // Kept again by the next run without --scale: the same text, the note once.
        let twice = with_kept_scale_section(&report, &once);
        assert_eq!(twice, once);
        // Nothing to keep: the report as it is.
        assert_eq!(with_kept_scale_section(&report, "# Performance\n"), report);
        assert_eq!(with_kept_scale_section(&report, ""), report);
    }
}
