//! Restarting every validator must never stop the chain (issue 11, defect 1): four real
//! `concordat-node` processes on 127.0.0.1.
//!
//! - all four stopped gracefully (SIGTERM) at once and started again, three times in a row;
//! - the bad timing made on purpose: two validators stopped, so the other two sign prevotes
//!   for nil that nobody else counts (and a stall is reported), then those two stopped too,
//!   and all four started again. The proposal they then see makes them want to prevote the
//!   block: before the fix the safety rules refused (they had prevoted nil at that step), they
//!   sent nothing, only two prevotes existed, no timeout could fire, and the four waited for
//!   each other forever;
//! - one after another (a rolling upgrade);
//! - all four killed with kill -9 at once.
//!
//! After each restart a new transaction must commit on every node within 10 s.

use std::time::{Duration, Instant};

use concordat_tests::net::*;

/// How long a restarted network may take to commit again (goals.md: "within 10 s").
const RESUME: Duration = Duration::from_secs(10);

struct Net {
    nodes: Vec<Node>,
    chain: String,
    key: concordat_primitives::SecretKey,
    nonce: u64,
}

impl Net {
    fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Node::url).collect()
    }

    /// Submits one registration and waits until every node has it committed, within `limit`
    /// of `since`. Returns how long that took from `since`.
    fn commit_within(&mut self, since: Instant, limit: Duration, what: &str) -> Duration {
        let tx = register_tx(
            &self.key,
            &self.chain,
            self.nonce,
            90_000,
            &synthetic_uscc(29, self.nonce as u32),
        );
        self.nonce += 1;
        let url = self.nodes[(self.nonce as usize) % self.nodes.len()].url();
        let (code, v) = post_bytes(&format!("{url}/v1/txs"), &tx.to_bytes());
        assert!(
            code == 200 || code == 202,
            "{what}: submission refused: {code} {v}"
        );
        let hash = tx.hash().to_hex();
        for u in self.urls() {
            let left = limit.saturating_sub(since.elapsed());
            let v = wait_committed(&u, &hash, left.max(Duration::from_millis(1)));
            assert!(
                v.is_some(),
                "{what}: no commit on {u} within {limit:?} of the restart (stalled); logs in {}",
                self.nodes[0]
                    .home
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
        }
        let took = since.elapsed();
        eprintln!("{what}: committed on all four {took:?} after the restart");
        took
    }

    fn start_all(&mut self) -> Instant {
        // The clock starts when the first process is launched.
        let t = Instant::now();
        for n in self.nodes.iter_mut() {
            n.start();
        }
        t
    }
}

fn network(dir: &tempfile::TempDir) -> Net {
    let path = dir.path().join("net");
    // Heights start even when idle (ADR 0019's default would leave the two survivors idle, so
    // the stall this test provokes on purpose would not happen).
    let nodes = bft_network(&path, 4, 0, "idle_block_interval_ms = 0");
    let genesis = load_genesis(&path);
    Net {
        nodes,
        chain: genesis.chain_id.clone(),
        key: registrar_key(&path),
        nonce: 0,
    }
}

#[test]
fn restarting_every_validator_never_stops_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = network(&dir);
    let t = net.start_all();
    net.commit_within(t, Duration::from_secs(60), "first start");

    for i in 1..=3 {
        for n in net.nodes.iter_mut() {
            n.stop();
        }
        let t = net.start_all();
        net.commit_within(t, RESUME, &format!("graceful stop/start of all four, #{i}"));
    }

    // The bad timing, on purpose: two of four stopped, so no height can commit, and the other
    // two, after the propose timeout (3 s), sign prevotes for nil that no one else counts...
    net.nodes[0].stop();
    net.nodes[1].stop();
    let deadline = Instant::now() + Duration::from_secs(60);
    for u in [net.nodes[2].url(), net.nodes[3].url()] {
        while metric(&u, "concordat_stalled") != 1 {
            assert!(Instant::now() < deadline, "{u} never reported the stall");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    std::thread::sleep(Duration::from_secs(4));
    // ...then those two stop as well, and all four start again.
    net.nodes[2].stop();
    net.nodes[3].stop();
    let t = net.start_all();
    net.commit_within(t, RESUME, "restart after two validators voted alone");
    let refusals: u64 = net
        .urls()
        .iter()
        .map(|u| metric(u, "concordat_signing_refusals_total"))
        .sum();
    eprintln!("signing refusals after that restart (stored votes sent instead): {refusals}");

    // A rolling restart, one validator after another.
    for i in 0..4 {
        net.nodes[i].stop();
        net.nodes[i].start();
        let t = Instant::now();
        net.commit_within(t, RESUME, &format!("rolling restart of validator {i}"));
    }

    // kill -9 of all four at once.
    for n in net.nodes.iter_mut() {
        n.kill9();
    }
    let t = net.start_all();
    net.commit_within(t, RESUME, "kill -9 of all four");

    // Same headers everywhere afterwards.
    let h = net.urls().iter().map(|u| height(u)).min().expect("nodes");
    let ids: Vec<_> = net
        .urls()
        .iter()
        .map(|u| get(&format!("{u}/v1/headers/{h}")).1["hash"].clone())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "headers differ at {h}: {ids:?}"
    );
}
