//! End-to-end BFT over real processes: four `concordat-node` validators and one observer on
//! 127.0.0.1, talking libp2p.
//!
//! - transactions commit, and every node (the observer too) sees them;
//! - with one validator killed they still commit;
//! - with two of four killed nothing commits;
//! - after restarting them every node reaches the same height with identical block hashes and
//!   state roots, and an independent replay from genesis agrees;
//! - a validator stopped while many blocks commit catches up by sync, each synced block's
//!   certificate verified (counted by `concordat_sync_blocks_total`).

use std::time::{Duration, Instant};

use concordat_primitives::SecretKey;
use concordat_tests::net::*;

const TIMEOUT: Duration = Duration::from_secs(60);

struct Chain {
    id: String,
    key: SecretKey,
    nonce: u64,
}

impl Chain {
    /// Submits one registration to `url` and returns its hash (the node must accept it).
    fn submit(&mut self, url: &str) -> String {
        let tx = register_tx(
            &self.key,
            &self.id,
            self.nonce,
            90_000,
            &synthetic_uscc(11, self.nonce as u32),
        );
        self.nonce += 1;
        let (code, v) = post_bytes(&format!("{url}/v1/txs"), &tx.to_bytes());
        assert!(code == 200 || code == 202, "submission refused: {code} {v}");
        tx.hash().to_hex()
    }
}

fn committed_everywhere(urls: &[String], hash: &str) {
    for url in urls {
        let v = wait_committed(url, hash, TIMEOUT)
            .unwrap_or_else(|| panic!("{hash} not committed on {url} within {TIMEOUT:?}"));
        assert_eq!(v["result"]["code"], "OK", "{v}");
    }
}

/// (block hash, state root) of `h` as `url` reports it.
fn block_id(url: &str, h: u64) -> (String, String) {
    let (code, v) = get(&format!("{url}/v1/headers/{h}"));
    assert_eq!(code, 200, "header {h} on {url}: {v}");
    (
        v["hash"].as_str().expect("hash").to_string(),
        v["header"]["state_root"]
            .as_str()
            .expect("root")
            .to_string(),
    )
}

/// Starts a network (see `bft_network`) and returns it with its genesis and a submitter.
fn start(
    dir: &tempfile::TempDir,
    observers: usize,
    consensus: &str,
) -> (Vec<Node>, concordat_genesis::Genesis, Chain) {
    let net = dir.path().join("net");
    let mut nodes = bft_network(&net, 4, observers, consensus);
    for n in nodes.iter_mut() {
        n.start();
    }
    let genesis = load_genesis(&net);
    let chain = Chain {
        id: genesis.chain_id.clone(),
        key: registrar_key(&net),
        nonce: 0,
    };
    (nodes, genesis, chain)
}

fn urls_of(nodes: &[Node], which: &[usize]) -> Vec<String> {
    which.iter().map(|&i| nodes[i].url()).collect()
}

#[test]
fn four_validators_tolerate_one_crash_stop_at_two_and_converge() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Four validators (0..4) and one observer (4).
    let (mut nodes, genesis, mut chain) = start(&dir, 1, "empty_block_interval_ms = 200");
    let all = urls_of(&nodes, &[0, 1, 2, 3, 4]);

    // 1. All up: transactions sent to different validators commit on every node.
    for url in &all[..4] {
        let h = chain.submit(url);
        committed_everywhere(&all, &h);
    }

    // 2. One validator killed: still commits.
    nodes[3].kill9();
    let three = urls_of(&nodes, &[0, 1, 2, 4]);
    for i in [0, 1, 2] {
        let h = chain.submit(&nodes[i].url());
        committed_everywhere(&three, &h);
    }

    // 3. Two of four killed: nothing commits.
    nodes[2].kill9();
    let two = urls_of(&nodes, &[0, 1]);
    // Let a height that was already decided land everywhere: wait until both report the same
    // height for 3 s in a row, then watch.
    let settle = Instant::now() + TIMEOUT;
    let stalled_at: Vec<u64> = loop {
        assert!(Instant::now() < settle, "the two survivors never settled");
        let first: Vec<u64> = two.iter().map(|u| height(u)).collect();
        std::thread::sleep(Duration::from_secs(3));
        let again: Vec<u64> = two.iter().map(|u| height(u)).collect();
        if first == again && first.windows(2).all(|w| w[0] == w[1]) {
            break again;
        }
    };
    let stuck = chain.submit(&nodes[0].url());
    std::thread::sleep(Duration::from_secs(8));
    for (u, h) in two.iter().zip(&stalled_at) {
        assert_eq!(height(u), *h, "{u} committed with only half the power up");
        let (code, v) = get(&format!("{u}/v1/txs/{stuck}"));
        assert!(
            code != 200 || v["status"] != "committed",
            "{stuck} committed with two of four validators down: {v}"
        );
    }

    // 4. Restart both: the pending transaction commits and everyone converges.
    nodes[2].start();
    nodes[3].start();
    committed_everywhere(&all, &stuck);
    let h = chain.submit(&nodes[2].url());
    committed_everywhere(&all, &h);
    let target = all.iter().map(|u| height(u)).max().expect("nodes");
    assert!(
        wait_height(&all, target, TIMEOUT),
        "not every node reached {target}"
    );
    assert!(target > stalled_at[0], "no progress after the restart");
    for height in 1..=target {
        let reference = block_id(&all[0], height);
        for u in &all[1..] {
            assert_eq!(
                block_id(u, height),
                reference,
                "node {u} differs from node0 at height {height}"
            );
        }
    }
    let replayed = replay_from_genesis(&all[4], &genesis);
    assert!(replayed >= target, "observer replay stopped at {replayed}");
}

#[test]
fn a_lagging_validator_catches_up_by_sync_verifying_every_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut nodes, _, mut chain) = start(&dir, 0, "empty_block_interval_ms = 50");
    let up = urls_of(&nodes, &[0, 1, 2]);
    let first = chain.submit(&nodes[0].url());
    committed_everywhere(&urls_of(&nodes, &[0, 1, 2, 3]), &first);

    // Stop validator 3 and let at least 60 blocks commit without it, with transactions.
    nodes[3].stop();
    let left_at = height(&nodes[0].url());
    let deadline = Instant::now() + Duration::from_secs(120);
    while height(&up[0]) < left_at + 60 {
        assert!(
            Instant::now() < deadline,
            "the three validators stopped committing"
        );
        let h = chain.submit(&up[(chain.nonce % 3) as usize]);
        committed_everywhere(&up[..1], &h);
    }
    let tip = height(&up[0]);

    nodes[3].start();
    let me = [nodes[3].url()];
    assert!(
        wait_height(&me, tip, TIMEOUT),
        "node 3 did not catch up to {tip}"
    );
    let synced = metric(&me[0], "concordat_sync_blocks_total");
    let missed = tip - left_at;
    // Every block it missed came by sync (it may have stopped one height behind node 0).
    assert!(
        synced + 1 >= missed,
        "node 3 applied only {synced} of {missed} missed blocks by sync"
    );
    assert_eq!(metric(&me[0], "concordat_sync_rejected_total"), 0);
    for h in (left_at..=tip).step_by(7) {
        assert_eq!(block_id(&me[0], h.max(1)), block_id(&up[0], h.max(1)));
    }
    // It takes part again: a transaction sent to it commits everywhere.
    let h = chain.submit(&me[0]);
    committed_everywhere(&urls_of(&nodes, &[0, 1, 2, 3]), &h);
}

/// Issue 15 (ADR 0019): an idle network makes no empty blocks between heartbeats, and a
/// transaction sent to any validator still commits at once on every node.
#[test]
fn an_idle_network_makes_no_blocks_and_wakes_for_a_transaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nodes, _, mut chain) = start(&dir, 0, "idle_block_interval_ms = 60000");
    let all = urls_of(&nodes, &[0, 1, 2, 3]);
    let first = chain.submit(&all[0]);
    committed_everywhere(&all, &first);
    // Let the height after it settle, then watch the tip for a while.
    std::thread::sleep(Duration::from_secs(2));
    let before: Vec<u64> = all.iter().map(|u| height(u)).collect();
    std::thread::sleep(Duration::from_secs(6));
    let after: Vec<u64> = all.iter().map(|u| height(u)).collect();
    assert_eq!(before, after, "blocks were made while idle");
    // Sent to one validator (another than the first): committed everywhere, quickly.
    for url in &all[1..3] {
        let sent = Instant::now();
        let h = chain.submit(url);
        committed_everywhere(&all, &h);
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "an idle height took {:?} to wake",
            sent.elapsed()
        );
    }
}
