//! Joining from a verified snapshot (issue 17 item 3): an observer starts from the state of a
//! certified height instead of replaying from genesis, then follows the chain; a tampered
//! snapshot is refused and changes nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use concordat_tests::net::*;

fn register(url: &str, chain: &str, key: &concordat_primitives::SecretKey, n: u32) -> String {
    let uscc = synthetic_uscc(31, n);
    let call = concordat_contracts::Call::Party(concordat_contracts::party::PartyCall::Register {
        uscc: uscc.clone(),
        name: format!("快照测试企业{n}"),
        legal_rep_ref: None,
        registered_address: "样例路1号".into(),
    });
    let v = submit_wait(url, chain, key, call);
    assert_eq!(v["result"]["code"], "OK", "{v}");
    uscc
}

/// Runs the node on `home` with `--import-snapshot file`, for a run that must fail at start.
fn import_and_exit(home: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    Command::new(bin("concordat-node"))
        .arg("--home")
        .arg(home)
        .args(["--http-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--p2p-listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--import-snapshot")
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .expect("run the node")
}

#[test]
fn an_observer_joins_from_a_verified_snapshot_and_follows_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let mut nodes = bft_network(&net, 1, 1, "idle_block_interval_ms = 0");
    let mut observer = nodes.pop().expect("observer");
    let mut validator = nodes.pop().expect("validator");
    validator.start();
    let url = validator.url();
    let chain = load_genesis(&net).chain_id;
    let registrar = registrar_key(&net);
    let early: Vec<String> = (0..20)
        .map(|n| register(&url, &chain, &registrar, n))
        .collect();
    let snap_height = height(&url);

    // Fetched and verified from genesis by the CLI.
    let file = dir.path().join("state.snapshot");
    let genesis = net.join("genesis.json");
    let (ok, v) = concordat_json(&[
        "snapshot",
        "fetch",
        "--node",
        &url,
        "--genesis",
        genesis.to_str().expect("utf-8"),
        "--height",
        &snap_height.to_string(),
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{v}");
    assert_eq!(v["height"], snap_height);
    assert!(v["entries"].as_u64().unwrap_or(0) > 20, "{v}");

    // A tampered snapshot (one byte of the last entry's value) is refused before anything is
    // written: the data directory stays empty and takes the good snapshot afterwards.
    let mut bytes = std::fs::read(&file).expect("snapshot");
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    let tampered = dir.path().join("tampered.snapshot");
    std::fs::write(&tampered, &bytes).expect("write");
    let out = import_and_exit(&observer.home, &tampered);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a tampered snapshot was imported: {err}"
    );
    assert!(err.contains("state rebuilt from the snapshot"), "{err}");

    observer
        .args
        .extend(["--import-snapshot".into(), file.display().to_string()]);
    observer.start();
    let obs = observer.url();
    assert!(
        height(&obs) >= snap_height,
        "the observer starts at the snapshot's height"
    );
    let log = std::fs::read_to_string(observer.home.join("node-1.log")).expect("log");
    assert!(log.contains("imported the snapshot"), "{log}");
    // History before the snapshot is not kept there; the state is, with proofs.
    assert_eq!(get(&format!("{obs}/v1/blocks/1")).0, 404);
    // It follows the chain from there: new registrations reach it by the validators' votes and
    // by sync.
    let late: Vec<String> = (20..25)
        .map(|n| register(&url, &chain, &registrar, n))
        .collect();
    let tip = height(&url);
    assert!(
        wait_height(std::slice::from_ref(&obs), tip, Duration::from_secs(60)),
        "the observer did not follow the chain past the snapshot"
    );
    for uscc in [&early[0], &early[19], &late[4]] {
        let (ok, v) = concordat_json(&["query", "party", uscc, "--node", &obs]);
        assert!(ok, "{uscc}: {v}");
        assert_eq!(v["value"]["uscc"], uscc.as_str(), "{v}");
    }
    // Restarted without the flag, it goes on from its own data.
    observer.stop();
    observer.args.clear();
    observer.start();
    register(&url, &chain, &registrar, 25);
    let tip = height(&url);
    assert!(wait_height(&[obs], tip, Duration::from_secs(60)));
    // Importing into a directory that holds a chain is refused.
    observer.stop();
    let out = import_and_exit(&observer.home, &file);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already holds the chain"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    validator.stop();
}
