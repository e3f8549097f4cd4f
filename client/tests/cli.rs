//! The `concordat` binary: key files, genesis commands, clear errors that change nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn concordat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concordat"))
        .args(args)
        .output()
        .expect("runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn key_files_are_0600_and_never_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("k.key");
    let v = json(&concordat(&[
        "keys",
        "new",
        "--out",
        p(&file),
        "--output",
        "json",
    ]));
    let pk = v["public_key"].as_str().expect("pk").to_string();
    assert_eq!(pk.len(), 64);
    let mode = std::fs::metadata(&file)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(&file).expect("read");
    let again = concordat(&["keys", "new", "--out", p(&file)]);
    assert!(!again.status.success());
    assert_eq!(
        std::fs::read(&file).expect("read"),
        before,
        "existing key overwritten"
    );
    let shown = json(&concordat(&["keys", "show", p(&file), "--output", "json"]));
    assert_eq!(shown["public_key"], pk.as_str());
}

#[test]
fn build_a_genesis_step_by_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = dir.path().join("genesis.json");
    let dept_key = dir.path().join("dept.key");
    let node_key = dir.path().join("node_key");
    json(&concordat(&[
        "keys",
        "new",
        "--out",
        p(&dept_key),
        "--output",
        "json",
    ]));
    json(&concordat(&[
        "keys",
        "new",
        "--out",
        p(&node_key),
        "--output",
        "json",
    ]));
    json(&concordat(&[
        "genesis",
        "new",
        "--chain-id",
        "concordat-test",
        "--genesis-time",
        "2026-11-28T00:00:00+08:00",
        "--out",
        p(&g),
        "--output",
        "json",
    ]));
    json(&concordat(&[
        "genesis",
        "add-department",
        "--genesis",
        p(&g),
        "--uscc",
        "11110000MB01A7C368",
        "--name",
        "朝阳区市场监管局",
        "--region",
        "110105",
        "--role",
        "REGISTRAR,LICENSING_AUTHORITY",
        "--member-key-file",
        p(&dept_key),
        "--output",
        "json",
    ]));

    // Refusals leave the file unchanged and say why.
    let before = std::fs::read(&g).expect("read");
    let bad_role = concordat(&[
        "genesis",
        "add-department",
        "--genesis",
        p(&g),
        "--uscc",
        "11120000MB02T9J49M",
        "--name",
        "x",
        "--region",
        "120000",
        "--role",
        "MAYOR",
        "--member-key-file",
        p(&node_key),
    ]);
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role \"MAYOR\""));
    let bad_uscc = concordat(&[
        "genesis",
        "add-department",
        "--genesis",
        p(&g),
        "--uscc",
        "91110105MA01R7K443",
        "--name",
        "x",
        "--region",
        "110105",
        "--role",
        "REGISTRAR",
        "--member-key-file",
        p(&node_key),
    ]);
    assert!(String::from_utf8_lossy(&bad_uscc.stderr).contains("expected '2'"));
    let zero = concordat(&[
        "genesis",
        "add-validator",
        "--genesis",
        p(&g),
        "--key-file",
        p(&node_key),
        "--power",
        "0",
        "--department",
        "11110000MB01A7C368",
    ]);
    assert!(String::from_utf8_lossy(&zero.stderr).contains("voting power must be at least 1"));
    assert_eq!(std::fs::read(&g).expect("read"), before);
    // Not yet valid: no validator.
    let invalid = concordat(&["genesis", "validate", p(&g)]);
    assert!(!invalid.status.success());
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("at least one validator"));

    json(&concordat(&[
        "genesis",
        "add-validator",
        "--genesis",
        p(&g),
        "--key-file",
        p(&node_key),
        "--power",
        "10",
        "--department",
        "11110000MB01A7C368",
        "--output",
        "json",
    ]));
    let dup = concordat(&[
        "genesis",
        "add-validator",
        "--genesis",
        p(&g),
        "--key-file",
        p(&node_key),
        "--power",
        "10",
        "--department",
        "11110000MB01A7C368",
    ]);
    assert!(String::from_utf8_lossy(&dup.stderr).contains("listed twice"));
    let v = json(&concordat(&[
        "genesis",
        "validate",
        p(&g),
        "--output",
        "json",
    ]));
    assert_eq!(v["valid"], true);
    assert_eq!(v["validators"], 1);
    assert_eq!(v["genesis_hash"].as_str().expect("hash").len(), 64);
    assert_eq!(v["state_root"].as_str().expect("root").len(), 64);
    // The hash is stable across runs.
    let v2 = json(&concordat(&[
        "genesis",
        "validate",
        p(&g),
        "--output",
        "json",
    ]));
    assert_eq!(v["genesis_hash"], v2["genesis_hash"]);
}

#[test]
fn demo_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let v = json(&concordat(&[
        "genesis",
        "demo",
        "--dir",
        p(&net),
        "--validators",
        "4",
        "--output",
        "json",
    ]));
    assert_eq!(v["validators"], 4);
    for i in 0..4 {
        let home = net.join(format!("node{i}"));
        assert!(home.join("node_key").exists());
        assert_eq!(
            std::fs::read(home.join("genesis.json")).expect("genesis"),
            std::fs::read(net.join("genesis.json")).expect("genesis")
        );
    }
    assert_eq!(
        std::fs::read_dir(net.join("keys")).expect("keys").count(),
        concordat_genesis::DEMO_DEPARTMENTS.len(),
        "one member key file per demo department"
    );
    // Refuses to clobber an existing network.
    assert!(!concordat(&["genesis", "demo", "--dir", p(&net)])
        .status
        .success());
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

const REGISTER: &str = r#"{"Party":{"Register":{"uscc":"91110105MA01R7K442","name":"北京示例科技有限公司","legal_rep_ref":null,"registered_address":"北京市朝阳区示例路 1 号"}}}"#;

#[test]
fn tx_sign_offline() {
    use concordat_contracts::party::PartyCall;
    use concordat_contracts::{Call, SignedTransaction};

    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k.key");
    let call = dir.path().join("call.json");
    let out = dir.path().join("tx.hex");
    let pk = json(&concordat(&[
        "keys",
        "new",
        "--out",
        p(&key),
        "--output",
        "json",
    ]))["public_key"]
        .as_str()
        .expect("pk")
        .to_string();
    write(&call, REGISTER);
    let v = json(&concordat(&[
        "tx",
        "sign",
        "--key",
        p(&key),
        "--call",
        p(&call),
        "--chain-id",
        "concordat-test",
        "--nonce",
        "5",
        "--expiry-height",
        "120",
        "--out",
        p(&out),
        "--output",
        "json",
    ]));
    let bytes = hex::decode(v["tx"].as_str().expect("tx")).expect("hex");
    let stx = SignedTransaction::from_bytes(&bytes).expect("canonical signed transaction");
    stx.verify_signature().expect("signature verifies");
    assert_eq!(stx.hash().to_hex(), v["tx_hash"].as_str().expect("hash"));
    assert_eq!(stx.tx.signer.to_hex(), pk);
    assert_eq!(v["signer"], pk.as_str());
    assert_eq!(stx.tx.chain_id, "concordat-test");
    assert_eq!((stx.tx.nonce, stx.tx.expiry_height), (5, 120));
    assert_eq!(
        (v["nonce"].clone(), v["expiry_height"].clone()),
        (5.into(), 120.into())
    );
    match &stx.tx.call {
        Call::Party(PartyCall::Register { uscc, name, .. }) => {
            assert_eq!(uscc, "91110105MA01R7K442");
            assert_eq!(name, "北京示例科技有限公司");
        }
        other => panic!("unexpected call {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(&out).expect("out").trim(),
        v["tx"].as_str().expect("tx")
    );
    // Signing is deterministic (ed25519): the same inputs give the same bytes.
    let again = json(&concordat(&[
        "tx",
        "sign",
        "--key",
        p(&key),
        "--call",
        p(&call),
        "--chain-id",
        "concordat-test",
        "--nonce",
        "5",
        "--expiry-height",
        "120",
        "--output",
        "json",
    ]));
    assert_eq!(again["tx"], v["tx"]);
}

#[test]
fn tx_sign_refuses_malformed_calls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k.key");
    json(&concordat(&[
        "keys",
        "new",
        "--out",
        p(&key),
        "--output",
        "json",
    ]));
    let call = dir.path().join("call.json");
    let cases = [
        ("{\"Party\":", "not a valid call"),
        (
            r#"{"Party":{"Registre":{"uscc":"91110105MA01R7K442"}}}"#,
            "unknown variant `Registre`",
        ),
        (
            r#"{"Party":{"Register":{"uscc":"91110105MA01R7K442","registered_address":"x"}}}"#,
            "missing field `name`",
        ),
        (
            r#"{"Party":{"Register":{"uscc":"91110105MA01R7K442","name":"n","legal_rep":null,"registered_address":"x"}}}"#,
            "unknown field `legal_rep` in Party.Register",
        ),
        (
            r#"{"Party":{"Register":{"uscc":"91110105MA01R7K443","name":"n","legal_rep_ref":null,"registered_address":"x"}}}"#,
            "expected '2'",
        ),
        (
            r#"{"Governance":{"Approve":{"proposal_id":-1}}}"#,
            "not a valid call",
        ),
    ];
    for (text, expected) in cases {
        write(&call, text);
        for output in ["text", "json"] {
            let out = concordat(&[
                "tx",
                "sign",
                "--key",
                p(&key),
                "--call",
                p(&call),
                "--chain-id",
                "concordat-test",
                "--nonce",
                "0",
                "--expiry-height",
                "10",
                "--output",
                output,
            ]);
            assert_eq!(out.status.code(), Some(1), "{text}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(expected), "{text}: {stderr}");
            assert!(stderr.contains("call.json"), "names the file: {stderr}");
            if output == "json" {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
                assert!(v["error"].as_str().expect("error").contains(expected));
            } else {
                assert!(out.stdout.is_empty());
            }
        }
    }
}

#[test]
fn tx_sign_without_envelope_needs_a_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k.key");
    json(&concordat(&[
        "keys",
        "new",
        "--out",
        p(&key),
        "--output",
        "json",
    ]));
    let call = dir.path().join("call.json");
    write(&call, REGISTER);
    let out = concordat(&[
        "tx",
        "sign",
        "--key",
        p(&key),
        "--call",
        p(&call),
        "--nonce",
        "0",
        "--node",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--chain-id"), "{stderr}");
    assert!(stderr.contains("cannot reach the node"), "{stderr}");
}

#[test]
fn shell_completions_name_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = concordat(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8_lossy(&out.stdout).into_owned();
        for word in ["check-doc", "stamp", "completions", "query", "verify-trace"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = concordat(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}
