//! Licences as W3C Verifiable Credentials: `concordat credential licence` exports one whose
//! `credentialStatus` points at the issuer's Bitstring Status Lists served by the node, and the
//! reference implementation (npm `@digitalbazaar/vc-bitstring-status-list`) reads the status
//! the ledger holds: valid, then suspended, then valid again; and, as in scenario 1, revoked
//! once the notification-commitment licence is annulled, when the API says 03.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::licence::{ApprovalMode, LicenceCall, Validity};
use concordat_contracts::party::PartyCall;
use concordat_contracts::time::Date;
use concordat_contracts::Call;
use concordat_primitives::{Hash, SecretKey};
use concordat_tests::net::*;
use serde_json::Value;

const E1: &str = "91110105MA01R7K442";
const BJSAMR: &str = "11110000MB01A7C368";

fn send(url: &str, chain: &str, key: &SecretKey, call: Call) {
    let v = submit_wait(url, chain, key, call.clone());
    assert_eq!(v["result"]["code"], "OK", "{call:?}: {v}");
}

fn vc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vc")
}

/// Exports the credential and checks it with the npm package; returns its answer.
fn npm_status(url: &str, dir: &Path, licence: &str) -> Value {
    let file = dir.join(format!("{licence}.vc.json"));
    let out = Command::new(bin("concordat"))
        .args(["credential", "licence", licence, "--node", url, "--out"])
        .arg(&file)
        .output()
        .expect("concordat credential");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("node")
        .arg(vc_dir().join("check_status.mjs"))
        .arg(&file)
        .output()
        .expect("node (Node.js) is needed: apt-get install nodejs npm");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "check_status.mjs: {e}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn licence_credentials_follow_the_ledger_status() {
    assert!(
        vc_dir()
            .join("node_modules/@digitalbazaar/vc-bitstring-status-list")
            .is_dir(),
        "run `npm ci --prefix tests/vc` first (scripts/test.sh does)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    let mut node = Node::new(net.join("node0"));
    node.start();
    let url = node.url();
    let chain = load_genesis(&net).chain_id;
    let samr = registrar_key(&net);
    let e1 = SecretKey::from_seed([51; 32]);
    send(
        &url,
        &chain,
        &samr,
        Call::Party(PartyCall::Register {
            uscc: E1.into(),
            name: "北京京韵云链科技有限公司".into(),
            legal_rep_ref: None,
            registered_address: "样例路1号".into(),
        }),
    );
    send(
        &url,
        &chain,
        &samr,
        Call::Party(PartyCall::SetKeys {
            uscc: E1.into(),
            keys: BTreeSet::from([e1.public_key()]),
        }),
    );
    send(
        &url,
        &chain,
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-VC-1".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: Hash::digest(b"commitment"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: Some(BJSAMR.into()),
        }),
    );
    let today = Date::of_ms(now_ms());
    for (id, mode, commitment) in [
        (
            "L-VC-NC",
            ApprovalMode::NotificationCommitment,
            Some("C-VC-1"),
        ),
        ("L-VC-STD", ApprovalMode::Standard, None),
    ] {
        send(
            &url,
            &chain,
            &e1,
            Call::Licence(LicenceCall::Apply {
                licence_id: id.into(),
                type_code: "FOOD_BUSINESS".into(),
                issuer: BJSAMR.into(),
                approval_mode: mode,
                commitment_id: commitment.map(String::from),
                scope: "预包装食品销售".into(),
                site_ids: vec![],
            }),
        );
        send(
            &url,
            &chain,
            &samr,
            Call::Licence(LicenceCall::Issue {
                licence_id: id.into(),
                licence_no: format!("JY-{id}"),
                validity: Validity {
                    issued_on: today,
                    valid_from: today,
                    valid_until: today.add_months(60),
                },
                file_hash: None,
                seal_signature_id: None,
            }),
        );
    }
    let valid = npm_status(&url, dir.path(), "L-VC-STD");
    assert_eq!(
        (
            valid["verified"].clone(),
            valid["revocation"].clone(),
            valid["suspension"].clone()
        ),
        (true.into(), false.into(), false.into()),
        "{valid}"
    );

    send(
        &url,
        &chain,
        &samr,
        Call::Licence(LicenceCall::Suspend {
            licence_id: "L-VC-STD".into(),
            basis: "暂扣".into(),
        }),
    );
    let suspended = npm_status(&url, dir.path(), "L-VC-STD");
    assert_eq!(
        (
            suspended["revocation"].clone(),
            suspended["suspension"].clone()
        ),
        (false.into(), true.into()),
        "{suspended}"
    );
    send(
        &url,
        &chain,
        &samr,
        Call::Licence(LicenceCall::LiftSuspension {
            licence_id: "L-VC-STD".into(),
            basis: "发还".into(),
        }),
    );
    let lifted = npm_status(&url, dir.path(), "L-VC-STD");
    assert_eq!(lifted["suspension"], false, "{lifted}");

    // Scenario 1, step 5: the NC licence found false and annulled; the credential's status list
    // says revoked, and the API says 03 — they agree.
    assert_eq!(npm_status(&url, dir.path(), "L-VC-NC")["revocation"], false);
    send(
        &url,
        &chain,
        &samr,
        Call::Licence(LicenceCall::RecordCheck {
            licence_id: "L-VC-NC".into(),
            conforms: false,
            inspection_ref: "INSP-1".into(),
        }),
    );
    send(
        &url,
        &chain,
        &samr,
        Call::Licence(LicenceCall::Annul {
            licence_id: "L-VC-NC".into(),
            basis_doc_no: "京朝市监撤字〔2026〕第15号".into(),
            basis_doc_date: today,
            fraud: false,
        }),
    );
    let revoked = npm_status(&url, dir.path(), "L-VC-NC");
    assert_eq!(
        (revoked["verified"].clone(), revoked["revocation"].clone()),
        (true.into(), true.into()),
        "{revoked}"
    );
    let (_, api) = get(&format!("{url}/v1/state/licence/L-VC-NC"));
    assert_eq!(api["value"]["status_code"], "03");
    // The other licence is untouched by its neighbour's revocation.
    assert_eq!(
        npm_status(&url, dir.path(), "L-VC-STD")["revocation"],
        false
    );
    node.stop();
}
