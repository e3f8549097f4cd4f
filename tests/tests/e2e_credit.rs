//! Scenario 4 of domain.md (credit repair) end to end, with its dates: signed transactions
//! against a running `concordat-node` whose clock is set to each date of the scenario
//! (`CONCORDAT_CLOCK_OFFSET_MS`, restarting the node between dates), outcomes read through
//! the API and the verified CLI; and eligibility bundles ("not barred" and "barred") made by
//! `concordat proof restriction` and checked offline by `concordat verify`.

use std::collections::BTreeSet;
use std::process::Command;

use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::credit::{CreditCall, DishonestyCategory, ListType, Severity};
use concordat_contracts::licence::{ApprovalMode, LicenceCall, Validity};
use concordat_contracts::party::PartyCall;
use concordat_contracts::time::Date;
use concordat_contracts::Call;
use concordat_primitives::{Hash, SecretKey};
use concordat_tests::net::*;
use serde_json::Value;

const E1: &str = "91110105MA01R7K442";
const E2: &str = "91120116MA07TJ3P7W";
const E6: &str = "92110105MA00GT5H4X";
const BJSAMR: &str = "11110000MB01A7C368";
const BJIPR: &str = "11110000MB04P6Q10W";
const CREDIT_PLATFORM: &str = "11110000MB17CP3N4B";
const FC: &str = "FC-C-2026-000123";

fn d(s: &str) -> Date {
    Date::parse(s).expect("date")
}

fn credit(call: CreditCall) -> Call {
    Call::Credit(call)
}

fn commitment(id: &str, kind: CommitmentKind, addressed: bool) -> Call {
    Call::Commitment(CommitmentCall::Make {
        commitment_id: id.into(),
        kind,
        text_hash: Hash::digest(id.as_bytes()),
        relates_to: None,
        seal_signature_id: None,
        addressed_to: addressed.then(|| BJSAMR.to_string()),
    })
}

fn apply_nc(id: &str, type_code: &str, commitment_id: Option<&str>) -> Call {
    Call::Licence(LicenceCall::Apply {
        licence_id: id.into(),
        type_code: type_code.into(),
        issuer: BJSAMR.into(),
        approval_mode: ApprovalMode::NotificationCommitment,
        commitment_id: commitment_id.map(String::from),
        scope: "预包装食品销售".into(),
        site_ids: vec!["S1".into()],
    })
}

fn repair(record_id: &str, commitment_id: &str) -> Call {
    credit(CreditCall::RequestRepair {
        record_id: record_id.into(),
        commitment_id: commitment_id.into(),
    })
}

fn verify(file: &str, genesis: &str) -> (bool, Value) {
    concordat_json(&["verify", file, "--trust", genesis])
}

fn proof(url: &str, dir: &std::path::Path, name: &str, kind: &str, id: &str) -> String {
    let file = dir.join(name);
    let out = Command::new(bin("concordat"))
        .args(["proof", kind, id, "--node", url, "--out"])
        .arg(&file)
        .output()
        .expect("concordat proof");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    file.to_str().expect("utf-8").to_string()
}

#[test]
fn scenario_4_with_its_dates_and_eligibility_bundles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network_since(&net, "2026-05-01T00:00:00+08:00");
    let mut node = Node::new(net.join("node0"));
    set_clock(&mut node, "2026-05-06T10:00");
    let c = Client::new(&node.url(), &net);
    let key = |uscc: &str| read_key(&net.join("keys").join(format!("{uscc}.key")));
    let (samr, ipr, platform) = (key(BJSAMR), key(BJIPR), key(CREDIT_PLATFORM));
    let e1 = SecretKey::from_seed([51; 32]);
    let e2 = SecretKey::from_seed([52; 32]);
    let e6 = SecretKey::from_seed([56; 32]);
    let tjsamr = key("11120000MB02T9J49M");
    for (u, k, registrar) in [(E1, &e1, &samr), (E6, &e6, &samr), (E2, &e2, &tjsamr)] {
        c.ok(
            registrar,
            Call::Party(PartyCall::Register {
                uscc: u.into(),
                name: format!("企业 {u}"),
                legal_rep_ref: None,
                registered_address: "样例路1号".into(),
            }),
        );
        c.ok(
            registrar,
            Call::Party(PartyCall::SetKeys {
                uscc: u.into(),
                keys: BTreeSet::from([k.public_key()]),
            }),
        );
    }
    c.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "望京街道样例路1号".into(),
        }),
    );

    // Scenario 1, the record this scenario starts from: NC licence on 2026-05-06, found false
    // and annulled on 2026-06-25.
    c.ok(
        &e1,
        commitment(
            "C-2026-000123",
            CommitmentKind::NotificationCommitment,
            true,
        ),
    );
    c.ok(
        &e1,
        apply_nc("L-E1-FOOD-1", "FOOD_BUSINESS", Some("C-2026-000123")),
    );
    c.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-E1-FOOD-1".into(),
            licence_no: "JY11101050012345".into(),
            validity: Validity {
                issued_on: d("2026-05-06"),
                valid_from: d("2026-05-06"),
                valid_until: d("2031-05-05"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    set_clock(&mut node, "2026-06-25T10:00");
    c.ok(
        &samr,
        Call::Licence(LicenceCall::RecordCheck {
            licence_id: "L-E1-FOOD-1".into(),
            conforms: false,
            inspection_ref: "INSP-2026-0620-01".into(),
        }),
    );
    c.ok(
        &samr,
        Call::Licence(LicenceCall::Annul {
            licence_id: "L-E1-FOOD-1".into(),
            basis_doc_no: "京朝市监撤字〔2026〕第15号".into(),
            basis_doc_date: d("2026-06-25"),
            fraud: false,
        }),
    );
    let rec = c.query("dishonesty", FC)["value"].clone();
    assert_eq!(rec["status"], "PUBLICIZED", "{rec}");
    assert_eq!(rec["min_public_until"], "2026-09-25");
    assert_eq!(rec["max_public_until"], "2027-06-25");

    // Control 3: E2's SERIOUS record dated 2026-03-01. Control 4: E6's LIGHT CNY 200 fine,
    // repairable as soon as it is paid.
    c.ok(
        &samr,
        credit(CreditCall::RecordDishonesty {
            record_id: "SV-E2-2026-0301".into(),
            party: E2.into(),
            basis_doc_no: "津市监罚〔2026〕第3号".into(),
            basis_doc_date: d("2026-03-01"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::Serious,
            obligations: vec![],
            relates_to: None,
            penalty: None,
        }),
    );
    c.ok(
        &samr,
        credit(CreditCall::RecordDishonesty {
            record_id: "AP-E6-0625".into(),
            party: E6.into(),
            basis_doc_no: "京朝市监简罚〔2026〕第7号".into(),
            basis_doc_date: d("2026-06-25"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::Light,
            obligations: vec!["FINE_PAID".into()],
            relates_to: Some("CNY 200".into()),
            penalty: None,
        }),
    );
    assert_eq!(
        c.state("dishonesty", "AP-E6-0625")["status"],
        "NOT_PUBLICIZED"
    );
    c.ok(
        &e6,
        commitment("RC-E6", CommitmentKind::RepairCommitment, false),
    );
    let (code, msg) = c.send(&e6, repair("AP-E6-0625", "RC-E6"));
    assert!(
        code == "INVALID_TRANSITION" && msg.contains("FINE_PAID"),
        "{code}: {msg}"
    );
    c.ok(
        &samr,
        credit(CreditCall::FulfilObligation {
            record_id: "AP-E6-0625".into(),
            index: 0,
            evidence: "缴款书 0625-001".into(),
        }),
    );
    c.ok(&e6, repair("AP-E6-0625", "RC-E6"));
    c.ok(
        &platform,
        credit(CreditCall::DecideRepair {
            record_id: "AP-E6-0625".into(),
            approve: true,
            reason: "已缴纳罚款".into(),
        }),
    );
    assert_eq!(c.state("dishonesty", "AP-E6-0625")["status"], "REPAIRED");

    // 1. 2026-08-01: repair refused, the minimum publicity runs to 2026-09-25.
    set_clock(&mut node, "2026-08-01T10:00");
    c.ok(
        &e1,
        commitment("RC-2026-0801", CommitmentKind::RepairCommitment, false),
    );
    let (code, msg) = c.send(&e1, repair(FC, "RC-2026-0801"));
    assert!(
        code == "INVALID_TRANSITION" && msg.contains("2026-09-25"),
        "{code}: {msg}"
    );

    // 2. 2026-09-26: requested with a public repair commitment; approved on 2026-09-30.
    set_clock(&mut node, "2026-09-26T10:00");
    c.ok(
        &e1,
        commitment("RC-2026-0926", CommitmentKind::RepairCommitment, false),
    );
    c.ok(&e1, repair(FC, "RC-2026-0926"));
    let before_repair = height(&node.url());
    set_clock(&mut node, "2026-09-30T10:00");
    c.ok(
        &platform,
        credit(CreditCall::DecideRepair {
            record_id: FC.into(),
            approve: true,
            reason: "整改到位，同意修复".into(),
        }),
    );
    let rec = c.query("dishonesty", FC)["value"].clone();
    assert_eq!(rec["status"], "REPAIRED", "{rec}");
    let statuses: Vec<&str> = rec["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(statuses, ["PUBLICIZED", "REPAIR_REQUESTED", "REPAIRED"]);
    assert_eq!(
        c.state("licence", "L-E1-FOOD-1")["status"],
        "ANNULLED",
        "stays 03"
    );

    // NC eligibility restored on 2026-10-08, and provable offline: no record restricts E1's
    // notification-commitment route.
    set_clock(&mut node, "2026-10-08T10:00");
    c.ok(
        &e1,
        commitment(
            "C-2026-001008",
            CommitmentKind::NotificationCommitment,
            true,
        ),
    );
    c.ok(
        &e1,
        apply_nc("L-E1-PRINT-1", "PRINTING", Some("C-2026-001008")),
    );
    assert_eq!(
        c.state("licence", "L-E1-PRINT-1")["approval_mode"],
        "NOTIFICATION_COMMITMENT"
    );
    let genesis = net.join("genesis.json");
    let genesis = genesis.to_str().expect("utf-8");
    let not_barred = proof(
        &node.url(),
        dir.path(),
        "e1-nc.bundle",
        "restriction",
        &format!("{E1}:NO_NOTIFICATION_COMMITMENT"),
    );
    let (ok, v) = verify(&not_barred, genesis);
    assert!(ok && v["proven"] == "absent", "{v}");
    // The API judges any height: before the repair, the record barred E1.
    let (code, then) = get(&format!(
        "{}/v1/eligibility/{E1}?for=notification_commitment&height={before_repair}",
        node.url()
    ));
    assert_eq!(code, 200, "{then}");
    assert_eq!(then["eligible"], false, "{then}");
    assert_eq!(then["bars"][0]["id"], FC, "{then}");
    assert_eq!(then["date"], "2026-09-26", "{then}");
    let (code, now) = get(&format!(
        "{}/v1/eligibility/{E1}?for=notification_commitment",
        node.url()
    ));
    assert_eq!(
        (code, &now["eligible"]),
        (200, &serde_json::json!(true)),
        "{now}"
    );

    // E2 on the IPR blacklist: barred from procurement, provably, naming the entry.
    c.ok(
        &ipr,
        credit(CreditCall::List {
            entry_id: "IPR-2026-0001".into(),
            list_type: ListType::IprDishonest,
            party: E2.into(),
            basis_refs: vec!["京知执〔2026〕第3号".into()],
            listed_on: d("2026-10-08"),
            restrictions: None,
            until: Some(d("2029-10-08")),
        }),
    );
    let barred = proof(
        &node.url(),
        dir.path(),
        "e2-proc.bundle",
        "restriction",
        &format!("{E2}:NO_GOV_PROCUREMENT"),
    );
    let (ok, v) = verify(&barred, genesis);
    assert!(ok && v["proven"] == "present", "{v}");
    assert_eq!(
        v["value"],
        serde_json::json!([{"list_entry": "IPR-2026-0001"}]),
        "{v}"
    );
    // The CLI: the decision with its basis, and a bundle of each thing it rests on.
    let bundles = dir.path().join("e2-eligibility");
    let (ok, answer) = concordat_json(&[
        "eligibility",
        E2,
        "--for",
        "procurement",
        "--node",
        &node.url(),
        "--bundle-dir",
        bundles.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{answer}");
    assert_eq!(answer["eligible"], false, "{answer}");
    let bar = &answer["bars"][0];
    assert_eq!(
        (&bar["basis"], &bar["rule"], &bar["kind"], &bar["id"]),
        (
            &serde_json::json!("POLICY"),
            &serde_json::json!("R5(c)"),
            &serde_json::json!("list_entry"),
            &serde_json::json!("IPR-2026-0001")
        ),
        "{answer}"
    );
    // E2's SERIOUS record is a flag, not a bar: reported, with its bundle too.
    assert_eq!(answer["flags"][0]["basis"], "FLAG", "{answer}");
    assert_eq!(answer["flags"][0]["id"], "SV-E2-2026-0301", "{answer}");
    let files = answer["bundles"].as_array().expect("bundles");
    assert_eq!(
        files.len(),
        3,
        "the restriction, the entry, the record: {answer}"
    );
    for f in files {
        let (ok, v) = verify(f["file"].as_str().expect("file"), genesis);
        assert!(ok && v["proven"] == "present", "{v}");
    }
    let mut bytes = std::fs::read(&barred).expect("bundle");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let tampered = dir.path().join("tampered.bundle");
    std::fs::write(&tampered, bytes).expect("write");
    let (ok, v) = verify(tampered.to_str().expect("utf-8"), genesis);
    assert!(!ok && v["valid"] == false, "{v}");

    // 3. E2's SERIOUS record: no repair before 2027-03-01; unpublished by itself on
    // 2029-03-01, without anyone's transaction.
    set_clock(&mut node, "2027-02-28T10:00");
    c.ok(
        &e2,
        commitment("RC-E2", CommitmentKind::RepairCommitment, false),
    );
    let (code, msg) = c.send(&e2, repair("SV-E2-2026-0301", "RC-E2"));
    assert!(
        code == "INVALID_TRANSITION" && msg.contains("2027-03-01"),
        "{code}: {msg}"
    );
    set_clock(&mut node, "2029-03-01T00:05");
    let rec = c.query("dishonesty", "SV-E2-2026-0301")["value"].clone();
    assert_eq!(rec["status"], "EXPIRED", "{rec}");
    let last = rec["history"].as_array().and_then(|h| h.last()).cloned();
    let last = last.expect("history");
    assert_eq!(
        Date::of_ms(last["at_ms"].as_u64().expect("at_ms")),
        d("2029-03-01"),
        "{last}"
    );
    node.stop();
}
