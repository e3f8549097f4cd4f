//! The operator's tools against real processes (issue 17): every metric `docs/operations.md`
//! names is served, governance through `concordat gov` with one proposal of several actions,
//! and a node key encrypted at rest.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use concordat_tests::net::*;
use serde_json::{json, Value};

/// The metric names in `docs/operations.md`'s table (labels stripped).
fn documented_metrics() -> Vec<String> {
    let doc = include_str!("../../docs/operations.md");
    let names: Vec<String> = doc
        .lines()
        .filter(|l| l.starts_with("| "))
        .filter_map(|l| l.split('`').nth(1))
        .filter(|n| n.starts_with("concordat_"))
        .map(|n| n.split('{').next().unwrap_or(n).to_string())
        .collect();
    assert!(
        names.len() >= 30,
        "the metrics table of operations.md was not found"
    );
    names
}

fn metrics_text(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-sf", &format!("{url}/metrics")])
        .output()
        .expect("curl");
    assert!(out.status.success(), "GET /metrics failed");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The value of the sample line that starts with `series` exactly.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn every_metric_named_in_operations_md_is_served() {
    let solo = Solo::start(false);
    let url = &solo.url;
    let tx = register_tx(
        &registrar_key(&solo.net),
        &solo.chain,
        0,
        1000,
        &synthetic_uscc(7, 1),
    );
    let (code, v) = post_bytes(&format!("{url}/v1/txs?wait=true"), &tx.to_bytes());
    assert_eq!(code, 200, "{v}");
    // The same transaction again: refused at admission, counted by its code.
    let (code, v) = post_bytes(&format!("{url}/v1/txs"), &tx.to_bytes());
    assert!((400..500).contains(&code), "{v}");
    let (code, _) = get(&format!("{url}/v1/state/party/91110105MA01R7K442x"));
    assert_eq!(code, 400);
    let text = metrics_text(url);
    let missing: Vec<String> = documented_metrics()
        .into_iter()
        .filter(|name| {
            !text.lines().any(|l| {
                l.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with([' ', '{']) || rest.starts_with("_bucket"))
            })
        })
        .collect();
    assert!(missing.is_empty(), "not on /metrics: {missing:?}\n{text}");
    // The figures move with what happened.
    assert!(
        sample(&text, "concordat_tx_commit_latency_seconds_count").unwrap_or(0.0) >= 1.0,
        "the submission's commit latency was not timed\n{text}"
    );
    assert!(sample(&text, "concordat_block_commit_seconds_count").unwrap_or(0.0) >= 1.0);
    assert!(
        sample(
            &text,
            "concordat_http_responses_total{route=\"/v1/state/{kind}/{id}\",status=\"400\"}"
        ) == Some(1.0),
        "the refused lookup is not counted by route and status\n{text}"
    );
    assert!(
        sample(
            &text,
            "concordat_consensus_step_seconds_count{step=\"propose\"}"
        )
        .unwrap_or(0.0)
            >= 1.0,
        "no propose step timed\n{text}"
    );
}

/// A key file of the demo network.
fn dept_key(net: &Path, uscc: &str) -> String {
    net.join("keys")
        .join(format!("{uscc}.key"))
        .to_str()
        .expect("utf-8")
        .to_string()
}

#[test]
fn one_proposal_with_several_actions_through_concordat_gov() {
    let solo = Solo::start(true);
    let (dir, net, url) = (solo.dir.path(), &solo.net, solo.url.clone());
    let genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(net.join("genesis.json")).expect("genesis"))
            .expect("json");
    let departments: Vec<String> = genesis["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .map(|d| d["uscc"].as_str().expect("uscc").to_string())
        .collect();
    assert_eq!(departments.len(), 7, "the demo network's departments");
    let validator = genesis["validators"][0]["public_key"]
        .as_str()
        .expect("key")
        .to_string();
    // A new department, and the validator handed over to it: the second action names a
    // department only the first creates.
    let new_uscc = "11130000MB08HB2T02";
    let member = dir.join("new-member.key");
    let (ok, _) = concordat_json(&["keys", "new", "--out", member.to_str().expect("utf-8")]);
    assert!(ok);
    let (ok, shown) = concordat_json(&["keys", "show", member.to_str().expect("utf-8")]);
    assert!(ok);
    let actions = json!([
        {"AddDepartment": {
            "uscc": new_uscc, "name": "河北省市场监管局 (synthetic)", "region": "130000",
            "roles": ["REGISTRAR"], "member_keys": [shown["public_key"]]
        }},
        {"SetValidators": {"validators": [
            {"key": validator, "power": 1, "department": new_uscc}
        ]}}
    ]);
    let file = dir.join("actions.json");
    std::fs::write(&file, actions.to_string()).expect("write");
    let (ok, v) = concordat_json(&[
        "gov",
        "propose",
        file.to_str().expect("utf-8"),
        "--key",
        &dept_key(net, &departments[0]),
        "--node",
        &url,
        "--wait",
    ]);
    assert!(ok, "{v}");
    // Listed as open with 1 of the 5 approvals 7 departments need, six awaited.
    let (ok, list) = concordat_json(&["gov", "list", "--node", &url]);
    assert!(ok, "{list}");
    let p = &list["proposals"][0];
    assert_eq!(p["status"], "Open", "{list}");
    assert_eq!(
        (p["counted"].as_u64(), p["needed"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(p["awaiting"].as_array().map(Vec::len), Some(6));
    assert_eq!(
        p["action"]["Batch"]["actions"].as_array().map(Vec::len),
        Some(2)
    );
    let id = p["id"].as_u64().expect("id").to_string();
    for d in &departments[1..5] {
        let (ok, v) = concordat_json(&[
            "gov",
            "approve",
            &id,
            "--key",
            &dept_key(net, d),
            "--node",
            &url,
            "--wait",
        ]);
        assert!(ok, "{v}");
    }
    let (ok, all) = concordat_json(&["gov", "list", "--all", "--node", &url]);
    assert!(ok, "{all}");
    assert_eq!(all["proposals"][0]["status"], "Executed", "{all}");
    let new_dept = all["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .find(|d| d["uscc"] == new_uscc)
        .cloned()
        .expect("the new department is listed");
    assert_eq!(new_dept["validator_power"], 1, "{all}");
    assert_eq!(all["validators"][0]["department"], new_uscc);
    // Open-only lists no longer show it; the chain keeps committing.
    let (_, open) = concordat_json(&["gov", "list", "--node", &url]);
    assert_eq!(
        open["proposals"].as_array().map(Vec::len),
        Some(0),
        "{open}"
    );
    let h = height(&url);
    assert!(wait_height(&[url], h + 2, Duration::from_secs(30)));
}

/// Runs the node binary on `home` and waits for it to exit (or be still running after `wait`):
/// its exit status and stderr.
fn run_node_briefly(
    home: &Path,
    env: &[(&str, &str)],
    wait: Duration,
) -> (Option<std::process::ExitStatus>, String) {
    let log = home.join("brief.log");
    let mut child = Command::new(bin("concordat-node"))
        .arg("--home")
        .arg(home)
        .args(["--http-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--p2p-listen", &format!("127.0.0.1:{}", free_port())])
        .env_remove("CONCORDAT_KEY_PASSPHRASE")
        .env_remove("CONCORDAT_KEY_PASSPHRASE_FILE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + wait;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&log).unwrap_or_default())
}

#[test]
fn an_encrypted_node_key_opens_with_its_passphrase_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    let home = net.join("node0");
    blocks_while_idle(&home);
    let key_path = home.join("node_key");
    let before = std::fs::read_to_string(&key_path).expect("key");
    let plain: Value = serde_json::from_str(&before).expect("json");
    // Encrypt in place (the migration), the passphrase from a file.
    let pass_file = dir.path().join("passphrase");
    std::fs::write(&pass_file, "a long passphrase for node 0\n").expect("write");
    let out = Command::new(bin("concordat"))
        .args(["keys", "encrypt"])
        .arg(&key_path)
        .args(["--output", "json"])
        .env("CONCORDAT_KEY_PASSPHRASE_FILE", &pass_file)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&key_path).expect("key");
    assert!(
        !after.contains(plain["secret_key"].as_str().expect("secret")),
        "the seed is still in the clear"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_path)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // Its public half is shown without the passphrase.
    let (ok, shown) = concordat_json(&["keys", "show", key_path.to_str().expect("utf-8")]);
    assert!(ok);
    assert_eq!(shown["public_key"], plain["public_key"]);
    assert_eq!(shown["encrypted"], true);
    // Encrypting twice is refused and changes nothing.
    let (ok, _) = concordat_json(&["keys", "encrypt", key_path.to_str().expect("utf-8")]);
    assert!(!ok);
    assert_eq!(std::fs::read_to_string(&key_path).expect("key"), after);

    // Without a passphrase, and with a wrong one, the node refuses to start and says why.
    let (status, log) = run_node_briefly(&home, &[], Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| !s.success()),
        "started without a passphrase: {log}"
    );
    assert!(log.contains("CONCORDAT_KEY_PASSPHRASE"), "{log}");
    let (status, log) = run_node_briefly(
        &home,
        &[("CONCORDAT_KEY_PASSPHRASE", "not the passphrase")],
        Duration::from_secs(30),
    );
    assert!(
        status.is_some_and(|s| !s.success()),
        "started with a wrong passphrase: {log}"
    );
    assert!(log.contains("wrong passphrase"), "{log}");
    // With it, the node runs and commits as the same validator.
    let mut node = Node::new(home);
    node.env.push((
        "CONCORDAT_KEY_PASSPHRASE_FILE".into(),
        pass_file.to_str().expect("utf-8").into(),
    ));
    node.start();
    let url = node.url();
    let (_, status) = get(&format!("{url}/v1/status"));
    assert_eq!(status["node_key"], plain["public_key"]);
    let h = height(&url);
    assert!(wait_height(&[url], h + 2, Duration::from_secs(30)));
}
