//! The walk-through of docs/operations.md ("Changing a running network"), step by step on a
//! local network of real processes, with the CLI an operator uses: a fifth validator and a new
//! department through one proposal of several actions (the validator joining from a verified
//! snapshot), a department key rotated, a validator removed, an observer joined from a
//! snapshot. The network keeps committing throughout.

use std::path::Path;
use std::time::Duration;

use concordat_tests::net::*;
use serde_json::{json, Value};

const NEW_DEPT: &str = "11130000MB08HB2T02";

fn s(p: &Path) -> String {
    p.to_str().expect("utf-8").to_string()
}

/// The chain commits again within 30 s on every node in `urls`.
fn keeps_committing(urls: &[String], step: &str) {
    let h = urls.iter().map(|u| height(u)).max().unwrap_or(0);
    assert!(
        wait_height(urls, h + 2, Duration::from_secs(30)),
        "{step}: the network stopped committing at height {h}"
    );
}

/// `concordat gov list --all` of the node at `url`.
fn governance(url: &str) -> Value {
    let (ok, v) = concordat_json(&["gov", "list", "--all", "--node", url]);
    assert!(ok, "{v}");
    v
}

/// Proposes `actions` with the first key and approves with the others until executed.
fn pass(url: &str, dir: &Path, name: &str, actions: &Value, keys: &[String]) {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, actions.to_string()).expect("write");
    let (ok, v) = concordat_json(&[
        "gov",
        "propose",
        &s(&file),
        "--key",
        &keys[0],
        "--node",
        url,
        "--wait",
    ]);
    assert!(ok, "{name}: {v}");
    let id = governance(url)["proposals"][0]["id"]
        .as_u64()
        .expect("id")
        .to_string();
    for key in &keys[1..] {
        if governance(url)["proposals"][0]["status"] == "Executed" {
            break;
        }
        let (ok, v) =
            concordat_json(&["gov", "approve", &id, "--key", key, "--node", url, "--wait"]);
        assert!(ok, "{name}: {v}");
    }
    assert_eq!(
        governance(url)["proposals"][0]["status"],
        "Executed",
        "{name} did not execute"
    );
}

fn fetch_snapshot(url: &str, net: &Path, out: &Path) {
    let (ok, v) = concordat_json(&[
        "snapshot",
        "fetch",
        "--node",
        url,
        "--genesis",
        &s(&net.join("genesis.json")),
        "--out",
        &s(out),
    ]);
    assert!(ok, "{v}");
}

#[test]
fn the_operations_walk_through_on_a_running_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let net = work.join("net");
    let mut nodes = bft_network(&net, 4, 1, "idle_block_interval_ms = 0");
    let mut observer = nodes.pop().expect("observer");
    for n in nodes.iter_mut() {
        n.start();
    }
    let url = nodes[0].url();
    let mut urls: Vec<String> = nodes.iter().map(Node::url).collect();
    keeps_committing(&urls, "start");
    let gov = governance(&url);
    let departments: Vec<Value> = gov["departments"].as_array().expect("departments").clone();
    let keys: Vec<String> = departments
        .iter()
        .map(|d| {
            s(&net
                .join("keys")
                .join(format!("{}.key", d["uscc"].as_str().expect("uscc"))))
        })
        .collect();

    // 1. A new department and the validator it operates, in one proposal.
    let dept_key = work.join("new-dept.key");
    let (ok, v) = concordat_json(&["keys", "new", "--out", &s(&dept_key)]);
    assert!(ok, "{v}");
    let home4 = net.join("node4");
    let (ok, node4_key) = concordat_json(&["keys", "new", "--out", &s(&home4.join("node_key"))]);
    assert!(ok, "{node4_key}");
    let mut validators: Vec<Value> = gov["validators"].as_array().expect("validators").clone();
    validators.push(json!({"key": node4_key["public_key"], "power": 10, "department": NEW_DEPT}));
    let actions = json!([
        {"AddDepartment": {"uscc": NEW_DEPT, "name": "河北省市场监管局 (synthetic)",
                           "region": "130000", "roles": ["REGISTRAR"],
                           "member_keys": [v["public_key"]]}},
        {"SetValidators": {"validators": validators}}
    ]);
    pass(&url, work, "add", &actions, &keys);
    let gov = governance(&url);
    assert_eq!(gov["validators"].as_array().map(Vec::len), Some(5));
    keeps_committing(&urls, "after adding the fifth validator (not running yet)");

    // The fifth validator joins from a verified snapshot and votes.
    std::fs::copy(net.join("genesis.json"), home4.join("genesis.json")).expect("genesis");
    let mut node4 = Node::new(home4.clone());
    let peers: Vec<String> = nodes
        .iter()
        .map(|n| format!("{}@127.0.0.1:{}", n.key().public_key().to_hex(), n.p2p_port))
        .collect();
    std::fs::write(
        home4.join("config.toml"),
        format!(
            "[p2p]\npeers = {}\n\n[consensus]\nidle_block_interval_ms = 0\n",
            serde_json::to_string(&peers).expect("json")
        ),
    )
    .expect("config");
    let snapshot = work.join("for-node4.snapshot");
    fetch_snapshot(&url, &net, &snapshot);
    node4.args = vec!["--import-snapshot".into(), s(&snapshot)];
    node4.start();
    urls.push(node4.url());
    keeps_committing(&urls, "with the fifth validator");
    let (_, st) = get(&format!("{}/v1/status", node4.url()));
    assert_eq!(st["validator"], true, "{st}");

    // 2. Rotate a department's member key.
    let tax = &departments[1];
    let rotated = work.join("tax-rotated.key");
    let (ok, new_key) = concordat_json(&["keys", "new", "--out", &s(&rotated)]);
    assert!(ok);
    let update = json!({"UpdateDepartment": {
        "uscc": tax["uscc"], "name": tax["name"], "region": tax["region"], "roles": tax["roles"],
        "member_keys": [new_key["public_key"]]
    }});
    let mut approvers = keys.clone();
    approvers.push(s(&dept_key));
    pass(&url, work, "rotate", &update, &approvers);
    // The old key no longer signs for the department; the new one does.
    let probe = json!({"SetPolicyOwner": {"uscc": tax["uscc"]}});
    let probe_file = work.join("probe.json");
    std::fs::write(&probe_file, probe.to_string()).expect("write");
    let propose_with = |key: &str| {
        concordat_json(&[
            "gov",
            "propose",
            &s(&probe_file),
            "--key",
            key,
            "--node",
            &url,
            "--wait",
        ])
    };
    let (ok, v) = propose_with(&keys[1]);
    assert!(!ok, "the rotated-out key still signs: {v}");
    let (ok, v) = propose_with(&s(&rotated));
    assert!(ok, "the new key does not sign: {v}");
    keeps_committing(&urls, "after the key rotation");

    // 3. Remove a validator (node 3), then stop it.
    let removed = nodes[3].key().public_key().to_hex();
    let remaining: Vec<Value> = governance(&url)["validators"]
        .as_array()
        .expect("validators")
        .iter()
        .filter(|v| v["key"] != removed.as_str())
        .cloned()
        .collect();
    assert_eq!(remaining.len(), 4);
    let mut approvers = keys.clone();
    approvers[1] = s(&rotated);
    approvers.push(s(&dept_key));
    pass(
        &url,
        work,
        "remove",
        &json!({"SetValidators": {"validators": remaining}}),
        &approvers,
    );
    nodes[3].stop();
    urls.retain(|u| *u != nodes[3].url());
    keeps_committing(&urls, "after removing a validator");

    // 4. An observer joins from a snapshot and follows.
    let snapshot = work.join("for-observer.snapshot");
    fetch_snapshot(&url, &net, &snapshot);
    observer.args = vec!["--import-snapshot".into(), s(&snapshot)];
    observer.start();
    let obs = observer.url();
    let h = height(&url);
    assert!(
        wait_height(std::slice::from_ref(&obs), h + 2, Duration::from_secs(60)),
        "the observer does not follow"
    );
    let (_, st) = get(&format!("{obs}/v1/status"));
    assert_eq!(st["validator"], false, "{st}");
    urls.push(obs);
    keeps_committing(&urls, "with the observer");
    for n in nodes.iter_mut() {
        n.stop();
    }
    node4.stop();
    observer.stop();
}
