//! The crash campaign of goals.md (Reliability): four real `concordat-node` processes on
//! 127.0.0.1 under load while a random validator is killed with kill -9 every 5 to 15 s and
//! started again 1 to 3 s later; then two of four killed at once (the chain must halt) and
//! started again (it must resume; the time it takes is reported).
//!
//! Afterwards: every acknowledged transaction (one a node reported committed) is committed on
//! every node at the same place; every node's transaction index agrees with its blocks; every
//! node has the same header (so the same state and tx-log roots) at every height; and the
//! journals of signed messages (`data/signed_messages.log`, kept across every kill) hold no
//! double-sign.
//!
//! `scripts/test.sh` runs the short version (60 s of kills); the long one is
//! `CONCORDAT_SOAK_SECS=600 cargo nextest run -p concordat-tests --test e2e_soak --no-capture`
//! (docs/reliability.md). `CONCORDAT_SOAK_SEED` replays a kill schedule.

use std::time::{Duration, Instant};

use concordat_tests::campaign::{self, Load};
use concordat_tests::net::*;
use rand::{Rng, SeedableRng};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn killing_validators_loses_nothing_acknowledged_and_never_double_signs() {
    let soak = Duration::from_secs(env_u64("CONCORDAT_SOAK_SECS", 60));
    let seed = env_u64("CONCORDAT_SOAK_SEED", u64::from(rand::random::<u16>()));
    eprintln!("soak: {soak:?} of kills, seed {seed} (CONCORDAT_SOAK_SEED replays it)");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("net");
    let mut nodes = bft_network(&path, 4, 0, "");
    let genesis = load_genesis(&path);
    for n in nodes.iter_mut() {
        n.start();
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    let load = Load::start(
        urls.clone(),
        genesis.chain_id.clone(),
        registrar_key(&path),
        61,
    );

    // A random validator killed with kill -9 every 5 to 15 s, started again 1 to 3 s later.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let t0 = Instant::now();
    let mut kills = 0;
    while t0.elapsed() < soak {
        std::thread::sleep(Duration::from_millis(rng.gen_range(5_000..15_000)));
        let victim = rng.gen_range(0..nodes.len());
        nodes[victim].kill9();
        kills += 1;
        std::thread::sleep(Duration::from_millis(rng.gen_range(1_000..3_000)));
        nodes[victim].start();
    }
    assert!(
        load.acked() > 0,
        "no transaction was acknowledged in {soak:?} of kills"
    );

    // Two of four killed at once: no quorum, so no height commits.
    let (a, b) = (rng.gen_range(0..2), rng.gen_range(2..4));
    nodes[a].kill9();
    nodes[b].kill9();
    let live: Vec<String> = (0..4)
        .filter(|i| *i != a && *i != b)
        .map(|i| urls[i].clone())
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let halted_at: Vec<u64> = live.iter().map(|u| height(u)).collect();
    std::thread::sleep(Duration::from_secs(5));
    let still: Vec<u64> = live.iter().map(|u| height(u)).collect();
    assert_eq!(
        halted_at, still,
        "two of four validators down, yet heights moved"
    );
    let acked_halted = load.acked();
    let restarted = Instant::now();
    nodes[a].start();
    nodes[b].start();
    let target = halted_at.iter().max().copied().unwrap_or(0) + 1;
    assert!(
        wait_height(&urls, target, Duration::from_secs(30)),
        "the chain did not resume within 30 s of the restart"
    );
    let resume = restarted.elapsed();
    eprintln!("two of four killed: halted, resumed {resume:?} after the restart");
    assert!(
        load.wait_acked_over(acked_halted, Duration::from_secs(30)),
        "no acknowledgement after the restart"
    );
    let (acked, submitted) = load.finish();

    let lost = campaign::lost(&urls, &acked);
    assert!(lost.is_empty(), "acknowledged transactions lost: {lost:?}");
    let index = campaign::index_disagreements(&urls, &submitted);
    assert!(index.is_empty(), "index and blocks disagree: {index:?}");
    let (tip, mismatches) = campaign::header_mismatches(&urls);
    assert!(mismatches.is_empty(), "headers differ at {mismatches:?}");
    let (checked, doubles) = campaign::double_signs(&nodes);
    assert!(doubles.is_empty(), "double-signs: {doubles:?}");
    let report = serde_json::json!({
        "soak_s": soak.as_secs(), "seed": seed, "kills": kills, "submitted": submitted.len(),
        "acknowledged": acked.len(), "lost": lost.len(), "heights_compared": tip,
        "signed_messages_checked": checked, "double_signs": doubles.len(),
        "two_down_resume_ms": resume.as_millis() as u64,
    });
    eprintln!("soak result: {report}");
}
