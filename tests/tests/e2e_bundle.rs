//! Offline bundles end to end: `concordat proof` against a running node, `concordat verify`
//! with no network against the genesis file or a waypoint, across a governance change of the
//! validator set; a tampered bundle is refused.

use std::path::Path;

use concordat_contracts::governance::{GovAction, GovCall, ValidatorEntry};
use concordat_contracts::ids::Uscc;
use concordat_contracts::licence::{ApprovalMode, LicenceCall, Validity};
use concordat_contracts::party::PartyCall;
use concordat_contracts::recognition::{RecognitionCall, Terms};
use concordat_contracts::seal::{HexBytes, SealAlgorithm, SealCall, SignerKey};
use concordat_contracts::time::Date;
use concordat_contracts::Call;
use concordat_primitives::{Hash, SecretKey};
use concordat_tests::net::*;
use serde_json::Value;

const E1: &str = "91110105MA01R7K442";
// A valid code (E2 of domain.md) that this test never registers.
const ABSENT: &str = "91120116MA07TJ3P7W";

fn send(url: &str, chain: &str, key: &SecretKey, call: Call) -> Value {
    let v = submit_wait(url, chain, key, call);
    assert_eq!(v["result"]["code"], "OK", "{v}");
    v
}

fn proof(url: &str, dir: &Path, name: &str, args: &[&str]) -> String {
    let out = dir.join(name).to_str().expect("utf8").to_string();
    let mut a = vec!["proof"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--node", url, "--out", &out]);
    let (ok, v) = concordat_json(&a);
    assert!(ok, "proof {args:?}: {v}");
    out
}

fn verify(file: &str, trust: &str) -> (bool, Value) {
    concordat_json(&["verify", file, "--trust", trust])
}

#[test]
fn bundles_verify_offline_across_a_validator_set_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    // The test waits for blocks under the new set, not for transactions.
    blocks_while_idle(&net.join("node0"));
    let mut node = Node::new(net.join("node0"));
    node.start();
    let url = node.url();
    let chain = load_genesis(&net).chain_id;
    let genesis = net.join("genesis.json").to_str().expect("utf8").to_string();
    let registrar = registrar_key(&net);

    let reg = send(
        &url,
        &chain,
        &registrar,
        Call::Party(PartyCall::Register {
            uscc: E1.into(),
            name: "北京京韵云链科技有限公司".into(),
            legal_rep_ref: None,
            registered_address: "样例路1号".into(),
        }),
    );
    let reg_hash = reg["tx_hash"].as_str().expect("hash").to_string();

    // Present, absent, transaction, validators: all verify against the genesis file.
    let present = proof(&url, dir.path(), "present.bundle", &["party", E1]);
    let (ok, v) = verify(&present, &genesis);
    assert!(ok, "{v}");
    assert_eq!(
        (v["valid"].clone(), v["proven"].clone()),
        (Value::Bool(true), "present".into())
    );
    assert_eq!(v["value"]["uscc"], E1);
    assert_eq!(v["trust"]["kind"], "genesis");
    let absent = proof(&url, dir.path(), "absent.bundle", &["party", ABSENT]);
    let (ok, v) = verify(&absent, &genesis);
    assert!(ok && v["proven"] == "absent", "{v}");
    let h_absent = v["height"].as_u64().expect("height");
    assert!(h_absent >= 1);
    let tx = proof(&url, dir.path(), "tx.bundle", &["tx", &reg_hash]);
    let (ok, v) = verify(&tx, &genesis);
    assert!(ok && v["proven"] == "included", "{v}");
    assert_eq!(v["value"]["tx_hash"], reg_hash.as_str());
    assert_eq!(v["value"]["code"], "OK");

    // A licence: valid, then revoked; its bundle says so, never valid.
    let e1 = SecretKey::from_seed([51; 32]);
    send(
        &url,
        &chain,
        &registrar,
        Call::Party(PartyCall::SetKeys {
            uscc: E1.into(),
            keys: [e1.public_key()].into(),
        }),
    );
    let now = now_ms();
    let today = Date::of_ms(now);
    send(
        &url,
        &chain,
        &e1,
        Call::Licence(LicenceCall::Apply {
            licence_id: "L-B-1".into(),
            type_code: "CATERING".into(),
            issuer: "11110000MB01A7C368".into(),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "餐饮服务".into(),
            site_ids: vec![],
        }),
    );
    send(
        &url,
        &chain,
        &registrar,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-B-1".into(),
            licence_no: "JY-B-1".into(),
            validity: Validity {
                issued_on: today,
                valid_from: today,
                valid_until: today.add_months(12),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    let valid = proof(
        &url,
        dir.path(),
        "licence-valid.bundle",
        &["licence", "L-B-1"],
    );
    send(
        &url,
        &chain,
        &registrar,
        Call::Licence(LicenceCall::Revoke {
            licence_id: "L-B-1".into(),
            basis: "吊销决定".into(),
        }),
    );
    let revoked = proof(
        &url,
        dir.path(),
        "licence-revoked.bundle",
        &["licence", "L-B-1"],
    );
    let (ok, v) = verify(&valid, &genesis);
    assert!(ok && v["value"]["status_code"] == "01", "{v}");
    let (ok, v) = verify(&revoked, &genesis);
    assert!(ok, "{v}");
    assert_eq!(
        (
            v["value"]["status"].clone(),
            v["value"]["status_code"].clone()
        ),
        ("REVOKED".into(), "07".into()),
        "{v}"
    );
    assert!(
        v["summary"]
            .as_str()
            .unwrap_or("")
            .contains("with status REVOKED (07)"),
        "{v}"
    );

    // A seal's status at a time, from its proven history.
    let registry = read_key(&net.join("keys").join("11110000MB16YQ4R0P.key"));
    send(
        &url,
        &chain,
        &registry,
        Call::Seal(SealCall::Register {
            es_id: "ES-B-1".into(),
            owner: E1.into(),
            seal_type: "01".into(),
            name: "公章".into(),
            signer_keys: vec![SignerKey {
                algorithm: SealAlgorithm::Ed25519,
                public_key: HexBytes(e1.public_key().as_bytes().to_vec()),
                valid_from_ms: now - 1000,
                valid_until_ms: now + 86_400_000,
            }],
            valid_start_ms: now - 1000,
            valid_end_ms: now + 86_400_000,
            seseal_hash: Hash::digest(b"seal"),
            picture_hash: Hash::digest(b"picture"),
        }),
    );
    let before_loss = now + 1; // the seal was registered by then (block time <= now)
    let registered = now_ms();
    std::thread::sleep(std::time::Duration::from_millis(20));
    send(
        &url,
        &chain,
        &e1,
        Call::Seal(SealCall::Suspend {
            es_id: "ES-B-1".into(),
            basis: "挂失".into(),
        }),
    );
    let seal = proof(&url, dir.path(), "seal.bundle", &["seal", "ES-B-1"]);
    let at = |ms: u64| concordat_primitives::time::format_rfc3339_ms(ms, 8 * 60);
    // The bundle proves the history up to its header's time, not later.
    let (_, plain) = verify(&seal, &genesis);
    let later = plain["time_ms"].as_u64().expect("header time");
    let (ok, v) = concordat_json(&[
        "verify",
        &seal,
        "--trust",
        &genesis,
        "--at",
        &at(later + 60_000),
    ]);
    assert!(!ok, "--at after the header must be refused: {v}");
    let (ok, v) = concordat_json(&[
        "verify",
        &seal,
        "--trust",
        &genesis,
        "--at",
        &at(registered.max(before_loss)),
    ]);
    assert!(ok, "{v}");
    assert_eq!(v["status_at"]["status"], "ACTIVE", "{v}");
    let (ok, v) = concordat_json(&["verify", &seal, "--trust", &genesis, "--at", &at(later)]);
    assert!(ok, "{v}");
    assert_eq!(v["status_at"]["status"], "SUSPENDED", "{v}");
    let (ok, v) = concordat_json(&[
        "verify",
        &seal,
        "--trust",
        &genesis,
        "--at",
        "2020-01-01T00:00:00+08:00",
    ]);
    assert!(
        ok && v["status_at"]["status"] == "NOT_YET_REGISTERED",
        "{v}"
    );

    // A mutual-recognition agreement, active once both parties signed.
    let tj = read_key(&net.join("keys").join("11120000MB02T9J49M.key"));
    let parties: std::collections::BTreeSet<Uscc> = ["11110000MB01A7C368", "11120000MB02T9J49M"]
        .iter()
        .map(|u| Uscc::parse(u).expect("uscc"))
        .collect();
    send(
        &url,
        &chain,
        &registrar,
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: "MR-B-1".into(),
            terms: Terms {
                scope: "LICENCE:CATERING".into(),
                parties: parties.clone(),
                accepted_issuers: parties,
                credential_types: Default::default(),
                max_age_days: None,
                effective_from: today,
                effective_to: None,
            },
        }),
    );
    send(
        &url,
        &chain,
        &tj,
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-B-1".into(),
        }),
    );
    let agreement = proof(
        &url,
        dir.path(),
        "agreement.bundle",
        &["agreement", "MR-B-1"],
    );
    let (ok, v) = verify(&agreement, &genesis);
    assert!(ok && v["value"]["status"] == "ACTIVE", "{v}");
    let statuses: Vec<_> = v["status_history"]
        .as_array()
        .expect("an agreement's proven history")
        .iter()
        .map(|e| e["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(statuses, ["DRAFT", "ACTIVE"], "{v}");

    // `--at` reads every kind's status from its proven history the same way: the licence's.
    let (ok, lv) = verify(&revoked, &genesis);
    assert!(ok, "{lv}");
    let header = lv["time_ms"].as_u64().expect("time");
    assert_eq!(lv["status_history"][0]["status"], "APPLIED", "{lv}");
    let (ok, v) = concordat_json(&["verify", &revoked, "--trust", &genesis, "--at", &at(header)]);
    assert!(
        ok && v["status_at"]["status"] == lv["value"]["status"],
        "{v}"
    );
    // Before the application, the licence was not on the ledger.
    let applied = lv["status_history"][0]["at_ms"].as_u64().expect("at_ms");
    let (ok, v) = concordat_json(&[
        "verify",
        &revoked,
        "--trust",
        &genesis,
        "--at",
        &at(applied - 1),
    ]);
    assert!(
        ok && v["status_at"]["status"] == "NOT_YET_REGISTERED",
        "{v}"
    );
    // A proof of absence has no history to read.
    let (ok, v) = concordat_json(&["verify", &absent, "--trust", &genesis, "--at", &at(header)]);
    assert!(!ok, "--at on an absence proof must be refused: {v}");

    // Every single-byte change of a bundle the node made fails verification.
    let (root, _) = concordat_client::bundle::trust_from_text(
        &std::fs::read_to_string(&genesis).expect("genesis"),
    )
    .expect("trust");
    let bytes = std::fs::read(&revoked).expect("bundle");
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        assert!(
            concordat_client::bundle::verify_bundle(&b, &root, rand::rngs::OsRng).is_err(),
            "flipping byte {i} of the node's licence bundle still verifies"
        );
    }
    // The verifier's age policy.
    let (ok, v) = concordat_json(&[
        "verify",
        &revoked,
        "--trust",
        &genesis,
        "--max-age-days",
        "0",
    ]);
    assert!(ok, "a fresh bundle is within 0 days: {v}");

    // A tampered bundle is refused, and says so.
    let mut bytes = std::fs::read(&present).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let tampered = dir.path().join("tampered.bundle");
    std::fs::write(&tampered, bytes).expect("write");
    let (ok, v) = verify(tampered.to_str().expect("utf8"), &genesis);
    assert!(!ok && v["valid"] == false, "{v}");

    // Governance doubles the validator's power: a new validator set from the next height.
    let node_key = node.key().public_key();
    let depts = [
        "11110000MB01A7C368",
        "11120000MB02T9J49M",
        "11110000MB03K8E2XU",
        "11110000MB04P6Q10W",
        "11110000MB12CT5A2W",
    ];
    let keys: Vec<SecretKey> = depts
        .iter()
        .map(|u| read_key(&net.join("keys").join(format!("{u}.key"))))
        .collect();
    send(
        &url,
        &chain,
        &keys[0],
        Call::Governance(GovCall::Propose {
            action: GovAction::SetValidators {
                validators: vec![ValidatorEntry {
                    key: node_key,
                    power: 20,
                    department: Uscc::parse(depts[0]).expect("uscc"),
                }],
            },
            expires_at_height: 1_000,
        }),
    );
    let mut change_height = 0;
    for k in &keys[1..] {
        let v = send(
            &url,
            &chain,
            k,
            Call::Governance(GovCall::Approve { proposal_id: 0 }),
        );
        change_height = v["height"].as_u64().expect("height");
    }
    let (_, p) = get(&format!("{url}/v1/state/proposal/0"));
    assert_eq!(p["value"]["status"], "Executed", "{p}");
    // Wait for a block or two under the new set, then prove the party again.
    let target = change_height + 2;
    assert!(wait_height(
        std::slice::from_ref(&url),
        target,
        std::time::Duration::from_secs(20)
    ));

    let after = proof(&url, dir.path(), "after.bundle", &["party", E1]);
    let (ok, v) = verify(&after, &genesis);
    assert!(ok, "{v}");
    assert_eq!(v["validator_set_changes_followed"], 1, "{v}");
    assert_eq!(v["total_power"], 20);
    let roster = proof(
        &url,
        dir.path(),
        "roster.bundle",
        &["validators", "current"],
    );
    let (ok, v) = verify(&roster, &genesis);
    assert!(ok, "{v}");
    assert_eq!(v["value"]["validators"][0]["power"], 20);

    // A waypoint at the change: a bundle made --since it verifies against it, one made for the
    // genesis trust root does not (it carries no anchor).
    let (_, h) = get(&format!("{url}/v1/headers/{change_height}"));
    let waypoint = format!("{change_height}:{}", h["hash"].as_str().expect("hash"));
    let since = change_height.to_string();
    let anchored = proof(
        &url,
        dir.path(),
        "anchored.bundle",
        &["party", E1, "--since", &since],
    );
    let (ok, v) = verify(&anchored, &waypoint);
    assert!(ok, "{v}");
    assert_eq!(v["trust"]["kind"], "waypoint");
    assert_eq!(v["validator_set_changes_followed"], 0);
    let (ok, v) = verify(&after, &waypoint);
    assert!(!ok, "{v}");
    // The bundle made before the change still verifies against the genesis file: it proves
    // the state at its own height.
    let (ok, _) = verify(&present, &genesis);
    assert!(ok);
    node.stop();
}
