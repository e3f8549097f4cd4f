//! What the reliability campaigns share (docs/reliability.md): a load that records which
//! transactions the network acknowledged, and the checks made afterwards: nothing acknowledged
//! lost, every node's transaction index agreeing with its blocks, the same header at every
//! height on every node, no double-sign in any validator's journal of signed messages.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use concordat_node::signed_log;
use concordat_primitives::SecretKey;
use rand::{Rng, SeedableRng};

use crate::net::{get, post_bytes, register_tx, synthetic_uscc, wait_committed, Node};

/// Transactions submitted together in one batch of the load.
pub const BATCH: u64 = 20;

/// A running load of party registrations (one key, batches of [`BATCH`] to a random node).
pub struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    submitted: Arc<Mutex<BTreeSet<String>>>,
    thread: Option<JoinHandle<()>>,
}

/// The chain's next nonce for `key` as the first answering node sees it.
pub fn chain_nonce(urls: &[String], key: &SecretKey) -> Option<u64> {
    urls.iter().find_map(|u| {
        let (code, v) = get(&format!("{u}/v1/state/nonce/{}", key.public_key().to_hex()));
        (code == 200).then(|| v["value"].as_u64().unwrap_or(0))
    })
}

impl Load {
    /// Starts the load. A transaction is acknowledged once the node it was sent to reports it
    /// committed; after a batch that did not fully commit (its node was killed, or refused),
    /// the nonce is read back from the chain. `salt` keeps the registered USCCs apart.
    pub fn start(urls: Vec<String>, chain: String, key: SecretKey, salt: u32) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let submitted: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let (s, a, sub) = (stop.clone(), acked.clone(), submitted.clone());
        let thread = std::thread::spawn(move || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(salt));
            let mut nonce = chain_nonce(&urls, &key).unwrap_or(0);
            let mut serial = 0u32;
            let mut refusals = 0;
            while !s.load(Ordering::Relaxed) {
                let url = &urls[rng.gen_range(0..urls.len())];
                let mut hashes = Vec::new();
                for n in nonce..nonce + BATCH {
                    serial += 1;
                    let tx = register_tx(&key, &chain, n, 90_000, &synthetic_uscc(salt, serial));
                    let (code, v) = post_bytes(&format!("{url}/v1/txs"), &tx.to_bytes());
                    if code != 202 && code != 200 {
                        // A node going down answers 0 (or 503); anything else is worth seeing.
                        if (400..500).contains(&code) && refusals < 5 {
                            refusals += 1;
                            eprintln!("load: {url} refused nonce {n}: {code} {v}");
                        }
                        break;
                    }
                    let h = tx.hash().to_hex();
                    sub.lock().expect("submitted").insert(h.clone());
                    hashes.push(h);
                }
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut all = hashes.len() as u64 == BATCH;
                for h in &hashes {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match wait_committed(url, h, left.max(Duration::from_millis(1))) {
                        Some(_) => a.lock().expect("acked").push(h.clone()),
                        None => all = false,
                    }
                }
                if all {
                    nonce += BATCH;
                } else {
                    std::thread::sleep(Duration::from_millis(200));
                    if let Some(n) = chain_nonce(&urls, &key) {
                        nonce = n;
                    }
                }
            }
        });
        Load {
            stop,
            acked,
            submitted,
            thread: Some(thread),
        }
    }

    /// How many transactions were acknowledged so far.
    pub fn acked(&self) -> usize {
        self.acked.lock().expect("acked").len()
    }

    /// Waits until more than `n` transactions were acknowledged; false after `timeout`.
    pub fn wait_acked_over(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.acked() <= n {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    }

    /// Every transaction submitted so far (hashes).
    pub fn submitted(&self) -> BTreeSet<String> {
        self.submitted.lock().expect("submitted").clone()
    }

    /// Stops the load; returns (acknowledged, every submitted) transaction hashes.
    pub fn finish(mut self) -> (Vec<String>, BTreeSet<String>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("load thread");
        }
        let acked = self.acked.lock().expect("acked").clone();
        let submitted = self.submitted.lock().expect("submitted").clone();
        (acked, submitted)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The acknowledged transactions some node does not have committed (each node is given up to
/// 20 s to catch up), as `hash on url`. Panics if one is committed at different places.
pub fn lost(urls: &[String], acked: &[String]) -> Vec<String> {
    let mut lost = Vec::new();
    for hash in acked {
        let mut places = Vec::new();
        for u in urls {
            match wait_committed(u, hash, Duration::from_secs(20)) {
                Some(v) => places.push((v["height"].clone(), v["index"].clone())),
                None => lost.push(format!("{hash} on {u}")),
            }
        }
        assert!(
            places.windows(2).all(|w| w[0] == w[1]),
            "{hash} committed at different places: {places:?}"
        );
    }
    lost
}

/// Transactions some node reports committed at a place where its block holds another (or no)
/// transaction: its index and its blocks disagree. Checks every submitted transaction.
pub fn index_disagreements(urls: &[String], submitted: &BTreeSet<String>) -> Vec<String> {
    let mut bad = Vec::new();
    for u in urls {
        for hash in submitted {
            let (code, v) = get(&format!("{u}/v1/txs/{hash}"));
            if code != 200 || v["status"] != "committed" {
                continue;
            }
            let (h, i) = (v["height"].as_u64(), v["index"].as_u64());
            let (Some(h), Some(i)) = (h, i) else {
                bad.push(format!("{hash} on {u}: committed without a place: {v}"));
                continue;
            };
            let (_, block) = get(&format!("{u}/v1/blocks/{h}?summary=true"));
            if block["txs"][i as usize]["tx_hash"].as_str() != Some(hash.as_str()) {
                bad.push(format!(
                    "{hash} on {u}: the index says height {h} #{i}, the block there holds {}",
                    block["txs"][i as usize]["tx_hash"]
                ));
            }
        }
    }
    bad
}

/// The heights (up to the lowest tip) at which the nodes' headers differ.
pub fn header_mismatches(urls: &[String]) -> (u64, Vec<u64>) {
    let tip = urls
        .iter()
        .map(|u| crate::net::height(u))
        .min()
        .unwrap_or(0);
    let mut bad = Vec::new();
    for h in 1..=tip {
        let hashes: Vec<_> = urls
            .iter()
            .map(|u| get(&format!("{u}/v1/headers/{h}")).1["hash"].clone())
            .collect();
        if !(hashes.iter().all(|x| x.is_string()) && hashes.windows(2).all(|w| w[0] == w[1])) {
            bad.push(h);
        }
    }
    (tip, bad)
}

/// (messages checked, double-signs found) over every node's journal of signed messages. Panics
/// if a journal is missing or empty (a check of nothing).
pub fn double_signs(nodes: &[Node]) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut found = Vec::new();
    for n in nodes {
        let journal = n.home.join("data").join(signed_log::FILE_NAME);
        let messages = signed_log::read(&journal).expect("journal readable");
        assert!(!messages.is_empty(), "{} signed nothing", journal.display());
        checked += messages.len();
        for (a, b) in signed_log::double_signs(&messages) {
            found.push(format!("{}: {a:?} and {b:?}", journal.display()));
        }
    }
    (checked, found)
}
