//! The failpoint campaign (docs/reliability.md): four real `concordat-node` processes under load,
//! every one of them crashing (`abort`, as kill -9 at that instant) at the same failpoint of the
//! commit path or the vote-signing path, then all started again without failpoints. After each
//! case: each node that stopped at the failpoint, restarted alone, has every transaction its
//! index reports committed in the block the index names; the chain resumes; nothing acknowledged is lost; every node's transaction index agrees
//! with its blocks; headers agree at every height; no journal of signed messages holds a
//! double-sign. Plus an injected storage error (the node stops with status 70 and catches up
//! after a restart).
//!
//! A control run switches on a deliberate defect of the commit path (`CONCORDAT_MUTATION=
//! split_commit`: the transactions' index is made durable before the block holding them) and the
//! same checks must catch it. The node binary is the tests' build (feature `failpoints`).

use std::time::{Duration, Instant};

use concordat_node::failpoint::POINTS;
use concordat_tests::campaign::{self, Load};
use concordat_tests::net::*;

/// What one case found.
struct Found {
    lost: Vec<String>,
    index: Vec<String>,
    headers: Vec<u64>,
    doubles: Vec<String>,
}

/// Runs one case: `env` for every node until they crash (or `crashers` for only those), then a
/// restart without it. Returns what the checks found.
fn case(
    name: &str,
    env: &[(&str, String)],
    crashers: &[usize],
    expect_status: Option<i32>,
) -> Found {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("net");
    let mut nodes = bft_network(&path, 4, 0, "");
    let genesis = load_genesis(&path);
    for (i, n) in nodes.iter_mut().enumerate() {
        if crashers.contains(&i) {
            n.env = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
        }
        n.start();
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    let load = Load::start(
        urls.clone(),
        genesis.chain_id.clone(),
        registrar_key(&path),
        71,
    );
    // Every crasher reaches its failpoint; once too few are left to commit, the rest wait
    // forever short of it and are killed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut exited = 0;
    let mut at_failpoint = Vec::new();
    for &i in crashers {
        let left = deadline.saturating_duration_since(Instant::now());
        match nodes[i].wait_exit(left) {
            Some(status) => {
                exited += 1;
                at_failpoint.push(i);
                if let Some(code) = expect_status {
                    assert_eq!(
                        status.code(),
                        Some(code),
                        "{name}: node {i} exited with {status}"
                    );
                }
            }
            None => nodes[i].kill9(),
        }
    }
    assert!(
        exited > 0,
        "{name}: no node reached the failpoint within 60 s"
    );
    let before = load.acked();
    for n in nodes.iter_mut() {
        n.kill9();
        n.env.clear();
    }
    // Each node that stopped at the failpoint, alone, before any peer is back to send it what
    // it lacks: every transaction its index reports committed must be in the block it names.
    // (Only those nodes hold what the failpoint left; which of them stop first depends on the
    // machine's timing.)
    let mut index = Vec::new();
    for &i in &at_failpoint {
        nodes[i].start();
        index.extend(campaign::index_disagreements(
            &urls[i..=i],
            &load.submitted(),
        ));
        nodes[i].kill9();
    }
    for n in nodes.iter_mut() {
        n.start();
    }
    assert!(
        load.wait_acked_over(before, Duration::from_secs(30)),
        "{name}: nothing committed within 30 s of the restart"
    );
    let (acked, submitted) = load.finish();
    let found = Found {
        lost: campaign::lost(&urls, &acked),
        index: {
            index.extend(campaign::index_disagreements(&urls, &submitted));
            index
        },
        headers: campaign::header_mismatches(&urls).1,
        doubles: campaign::double_signs(&nodes).1,
    };
    eprintln!(
        "{name}: {exited} of {} crashed at the failpoint; {} acknowledged, {} lost, {} index disagreements, {} header mismatches, {} double-signs",
        crashers.len(),
        acked.len(),
        found.lost.len(),
        found.index.len(),
        found.headers.len(),
        found.doubles.len()
    );
    found
}

fn assert_clean(name: &str, f: &Found) {
    assert!(
        f.lost.is_empty(),
        "{name}: acknowledged transactions lost: {:?}",
        f.lost
    );
    assert!(
        f.index.is_empty(),
        "{name}: index and blocks disagree: {:?}",
        f.index
    );
    assert!(
        f.headers.is_empty(),
        "{name}: headers differ at {:?}",
        f.headers
    );
    assert!(
        f.doubles.is_empty(),
        "{name}: double-signs: {:?}",
        f.doubles
    );
}

/// The hit at which each failpoint crashes: a few heights into the load.
fn at(point: &str) -> u32 {
    if point.starts_with("vote.") {
        30
    } else {
        8
    }
}

#[test]
fn crashing_at_every_failpoint_loses_nothing_and_never_double_signs() {
    let all = [0, 1, 2, 3];
    for point in POINTS {
        let env = [(
            "CONCORDAT_FAILPOINTS",
            format!("{point}=abort@{}", at(point)),
        )];
        let found = case(point, &env, &all, None);
        assert_clean(point, &found);
    }
}

#[test]
fn an_injected_storage_error_stops_the_node_with_status_70_and_it_catches_up() {
    // A block's batch, and the safety state before a vote (voting without a durable
    // watermark could double-sign after a crash).
    for (point, hit) in [("commit.batch", 6), ("vote.before_persist", 10)] {
        let name = format!("{point}=error@{hit} on one node");
        let env = [("CONCORDAT_FAILPOINTS", format!("{point}=error@{hit}"))];
        let found = case(&name, &env, &[0], Some(70));
        assert_clean(&name, &found);
    }
}

#[test]
fn the_campaign_catches_an_index_made_durable_before_its_block() {
    let env = [
        ("CONCORDAT_FAILPOINTS", "commit.batch=abort@8".to_string()),
        ("CONCORDAT_MUTATION", "split_commit".to_string()),
    ];
    let found = case("control: split_commit", &env, &[0, 1, 2, 3], None);
    assert!(
        !found.index.is_empty() || !found.lost.is_empty(),
        "the deliberate defect was not caught: the campaign checks nothing"
    );
}
