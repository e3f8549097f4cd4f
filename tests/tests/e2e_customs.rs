//! Scenarios 10 (enterprise-authorised data sharing with a bank) and 7 (an advance-declared air
//! export at Daxing, with the real-time inquiry and its CNPEK variant) of domain.md, end to end:
//! signed transactions against a running `concordat-node` whose clock is moved to each date
//! of scenario 10 (`CONCORDAT_CLOCK_OFFSET_MS`), outcomes read through the API and the
//! verified CLI: `concordat trace` (every record and transaction proven), its offline bundles
//! checked by `concordat verify-trace`, and the EPCIS export. The refusals the issue names
//! are made against the node too: each changes nothing.

use concordat_contracts::codes::LocationFunction;
use concordat_contracts::customs::{CustomsCall, DeclarationMode};
use concordat_contracts::logistics::LogisticsCall;
use concordat_contracts::seal::{SealAlgorithm, SealCall, SignaturePurpose};
use concordat_contracts::sharing::{DataCategory, SharingCall};
use concordat_contracts::Call;
use concordat_primitives::{Hash, SecretKey};
use concordat_tests::customs::*;
use concordat_tests::net::*;
use serde_json::{json, Value};

const E1: &str = "91110105MA01R7K442";
use concordat_testkit::fixture::{E4, E5};
const BJCUS: &str = "11110000MB12CT5A2W";
const SEALS: &str = "11110000MB16YQ4R0P";
const AUTH: &str = "urn:uuid:6f1c2a52-3c1e-4c55-9a53-0d7f4c0b2e11";
const ENTRY: &str = "010020260000654321";
const AWB: &str = "999-12345675";
const DAXING_RP: &str = "urn:epc:id:sgln:6901234.00001.0";

fn access(c: &Client, id: &str) -> Value {
    c.state("sharing_access", id)
}

#[test]
fn scenarios_10_and_7_through_a_running_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network_since(&net, "2026-05-01T00:00:00+08:00");
    add_departments(&net);
    let genesis = net.join("genesis.json");
    let genesis = genesis.to_str().expect("utf-8");
    let mut node = Node::new(net.join("node0"));
    set_clock(&mut node, "2026-05-14T09:50");
    let url = node.url();
    let c = Client::new(&url, &net);
    let key = |uscc: &str| read_key(&net.join("keys").join(format!("{uscc}.key")));
    let (customs, seals) = (key(BJCUS), key(SEALS));
    let samr = SecretKey::from_seed([74; 32]);
    let (term, b1, b2) = (
        SecretKey::from_seed([71; 32]),
        SecretKey::from_seed([72; 32]),
        SecretKey::from_seed([73; 32]),
    );
    let (e1, e4, e5) = (
        SecretKey::from_seed([51; 32]),
        SecretKey::from_seed([54; 32]),
        SecretKey::from_seed([55; 32]),
    );
    for (u, k) in [(E1, &e1), (E4, &e4), (E5, &e5)] {
        c.register_party(&samr, u, k);
    }
    // E1's official seal, and its seal signature on the authorisation.
    c.ok(
        &seals,
        Call::Seal(SealCall::Register {
            es_id: "ES-E1-01".into(),
            owner: E1.into(),
            seal_type: "01".into(),
            name: "北京京韵云链科技有限公司 公章".into(),
            signer_keys: vec![concordat_testkit::fixture::signer_key(
                SealAlgorithm::Ed25519,
                40,
            )],
            valid_start_ms: 1_700_000_000_000,
            valid_end_ms: 1_900_000_000_000,
            seseal_hash: Hash::digest(b"ES-E1-01"),
            picture_hash: Hash::digest(b"picture"),
        }),
    );
    let (_, st) = get(&format!("{url}/v1/status"));
    let now = st["time_ms"].as_u64().expect("time");
    for id in [AUTH, "AUTH-EXP", "AUTH-USES"] {
        c.ok(
            &e1,
            Call::Seal(concordat_testkit::fixture::signature_call_on(
                &c.chain,
                &format!("SIG-{id}"),
                "ES-E1-01",
                SealAlgorithm::Ed25519,
                40,
                format!("authorisation {id} of B1").as_bytes(),
                SignaturePurpose::Authorisation,
                now,
            )),
        );
    }

    // Scenario 10, step 1: 2026-05-14 10:00, E1 authorises B1.
    set_clock(&mut node, "2026-05-14T10:00");
    c.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            AUTH,
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
    );
    c.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            "AUTH-EXP",
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
    );
    c.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            "AUTH-USES",
            "2026-12-31T23:59:59+08:00",
            5,
        ))),
    );
    let a = c.state("sharing_authorisation", AUTH);
    assert_eq!(a["status"], "ACTIVE", "{a}");
    let r = &a["receipt"];
    assert_eq!(r["version"], "KI-CR-v1.1.0", "{r}");
    assert_eq!(r["jurisdiction"], "CN");
    assert_eq!(r["consentTimestamp"], 1_778_724_000u64);
    assert_eq!(r["consentReceiptID"], AUTH);
    assert_eq!(r["piiPrincipalId"], E1);
    assert_eq!(r["sensitive"], false);
    assert_eq!(
        r["collectionMethod"],
        "e-seal signed authorisation on credit-finance platform"
    );

    // Steps 2-4 and 7 on 2026-05-15.
    set_clock(&mut node, "2026-05-15T09:00");
    use DataCategory::*;
    let three = [TaxCreditGrade, TaxPaidSummary24m, SocialInsuranceHeadcount];
    c.ok(&b1, request("ACC-1", AUTH, &three));
    let l = access(&c, "ACC-1");
    assert_eq!(
        (l["result"].as_str(), l["uses_after"].as_u64()),
        (Some("GRANTED"), Some(1)),
        "{l}"
    );
    c.ok(&b1, request("ACC-2", AUTH, &[CustomsCreditTier]));
    assert_eq!(access(&c, "ACC-2")["reason"], "OUT_OF_SCOPE");
    c.ok(&b2, request("ACC-3", AUTH, &three));
    assert_eq!(access(&c, "ACC-3")["reason"], "GRANTEE_MISMATCH");
    c.ok(&b1, request("ACC-4", AUTH, &[LegalRepPersonalId]));
    assert_eq!(
        access(&c, "ACC-4")["reason"],
        "PERSONAL_DATA_WITHOUT_CONSENT"
    );
    // Step 6: a sixth use is denied.
    for i in 0..5 {
        c.ok(
            &b1,
            request(&format!("U-{i}"), "AUTH-USES", &[TaxCreditGrade]),
        );
    }
    c.ok(&b1, request("U-5", "AUTH-USES", &[TaxCreditGrade]));
    assert_eq!(access(&c, "U-5")["reason"], "EXHAUSTED");
    assert_eq!(
        c.state("sharing_authorisation", "AUTH-USES")["status"],
        "EXHAUSTED"
    );

    // Step 5: E1 revokes on 2026-06-01; B1's request on 06-02 is denied.
    set_clock(&mut node, "2026-06-01T10:00");
    c.ok(
        &e1,
        share(SharingCall::Revoke {
            auth_id: AUTH.into(),
            reason: "融资已完成".into(),
        }),
    );
    set_clock(&mut node, "2026-06-02T10:00");
    c.ok(&b1, request("ACC-5", AUTH, &three));
    assert_eq!(access(&c, "ACC-5")["reason"], "REVOKED");

    // Step 6: an authorisation ending 2026-08-12, asked on 2026-08-13.
    set_clock(&mut node, "2026-08-13T09:00");
    c.ok(&b1, request("ACC-6", "AUTH-EXP", &three));
    assert_eq!(access(&c, "ACC-6")["reason"], "EXPIRED");
    assert_eq!(
        c.state("sharing_authorisation", "AUTH-EXP")["status"],
        "EXPIRED"
    );

    // The enterprise lists who asked for what, each answer verified.
    let ids = c.query("authorisation_accesses", AUTH);
    assert_eq!(ids["value"], json!(["ACC-1", "ACC-2", "ACC-4", "ACC-5"]));
    let stray = c.query("stray_requests", B2);
    assert_eq!(stray["value"], json!(["ACC-3"]));
    let v = c.query("sharing_access", "ACC-3");
    assert_eq!(v["value"]["requester"], B2, "{v}");

    // Scenario 7 (business times of 2026-09-08; the node's clock after them).
    set_clock(&mut node, "2026-09-08T15:00");
    for (rp, locode) in [
        (DAXING_RP, "CNPKX"),
        ("urn:epc:id:sgln:6901234.00002.0", "CNPEK"),
    ] {
        controlled_airport_read_point(&c, &term, &customs, rp, locode);
    }
    // A port read point given an airport LOCODE, and bad numbers: refused at admission.
    let (_, v) = c.refused_at_admission(
        &term,
        Call::Logistics(LogisticsCall::RegisterReadPoint {
            read_point: "urn:epc:id:sgln:6907777.00001.0".into(),
            name: "Binhai".into(),
            locode: "CNTSN".into(),
            function: LocationFunction::Port,
        }),
    );
    assert!(v.to_string().contains("not a Port"), "{v}");
    for bad in [
        draft("01002026000065432", DeclarationMode::Advance, "CNPKX", AWB),
        draft(ENTRY, DeclarationMode::Advance, "CNPKX", "999-12345674"),
        {
            let mut d = draft(ENTRY, DeclarationMode::Advance, "CNPKX", AWB);
            d.containers = vec!["TGHU1234568".into()];
            d
        },
    ] {
        c.refused_at_admission(&e4, Call::Customs(CustomsCall::Save(bad)));
    }
    let (code, _) = get(&format!("{url}/v1/state/customs_declaration/{ENTRY}"));
    assert_eq!(code, 200);
    assert!(
        c.state("customs_declaration", ENTRY).is_null(),
        "nothing recorded"
    );

    c.ok(
        &e4,
        Call::Customs(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    c.ok(
        &e4,
        Call::Customs(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    c.ok(
        &customs,
        decide(ENTRY, "ACCEPTED", "2026-09-08T08:40:00+08:00"),
    );
    // Release before arrival: refused, nothing changes.
    let before = c.state("customs_declaration", ENTRY);
    let (code, msg) = c.send(
        &customs,
        decide(ENTRY, "RELEASED", "2026-09-08T08:45:00+08:00"),
    );
    assert_eq!(code, "INVALID_TRANSITION", "{msg}");
    assert!(msg.contains("release before arrival"), "{msg}");
    assert_eq!(c.state("customs_declaration", ENTRY), before);
    // Capture by an operator not registered for the read point: refused, nothing changes.
    let (_, awb_before) = get(&format!("{url}/v1/state/trace/{AWB}"));
    let before = c.state("customs_declaration", ENTRY);
    let (code, msg) = c.send(
        &customs,
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            DAXING_RP,
            AWB,
        )]),
    );
    assert_eq!(code, "UNAUTHORISED", "{msg}");
    let (_, awb_after) = get(&format!("{url}/v1/state/trace/{AWB}"));
    assert_eq!(awb_after["value"], awb_before["value"]);
    assert_eq!(c.state("customs_declaration", ENTRY), before);
    // 10:00 arriving at the Daxing terminal; 10:05 assessed; 10:50 released.
    c.ok(
        &term,
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            DAXING_RP,
            AWB,
        )]),
    );
    c.ok(
        &customs,
        decide(ENTRY, "ASSESSED", "2026-09-08T10:05:00+08:00"),
    );
    c.ok(
        &customs,
        decide(ENTRY, "RELEASED", "2026-09-08T10:50:00+08:00"),
    );
    // 13:20 loading and 14:05 departing, as the terminal's system writes them: an EPCIS
    // document posted to the node (`concordat epcis capture`, POST /v1/epcis/capture).
    let doc_file = dir.path().join("departure.jsonld");
    std::fs::write(
        &doc_file,
        epcis_document(vec![
            cargo_event("loading", "2026-09-08T13:20:00+08:00", DAXING_RP, AWB),
            cargo_event("departing", "2026-09-08T14:05:00+08:00", DAXING_RP, AWB),
        ]),
    )
    .expect("write");
    let key_file = dir.path().join("terminal.key");
    std::fs::write(
        &key_file,
        json!({"type": "ed25519", "public_key": term.public_key().to_hex(),
               "secret_key": hex::encode([71u8; 32])})
        .to_string(),
    )
    .expect("write");
    let (ok, v) = concordat_json(&[
        "epcis",
        "capture",
        doc_file.to_str().expect("utf-8"),
        "--key",
        key_file.to_str().expect("utf-8"),
        "--node",
        &url,
        "--wait",
    ]);
    assert!(ok, "{v}");
    assert_eq!(v["result"]["code"], "OK", "{v}");
    // A document posted without its signature headers is refused.
    let (code, v) = post_bytes(&format!("{url}/v1/epcis/capture"), b"{}");
    assert_eq!(code, 400, "{v}");
    // The inquiry by air waybill, verified.
    let bundles = dir.path().join("trace");
    let epcis = dir.path().join("trace.jsonld");
    let (ok, v) = concordat_json(&[
        "trace",
        AWB,
        "--node",
        &url,
        "--bundle-dir",
        bundles.to_str().expect("utf-8"),
        "--epcis",
        epcis.to_str().expect("utf-8"),
        "--trust",
        genesis,
    ]);
    assert!(ok, "{v}");
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["trust"]["kind"], "genesis", "{v}");
    let whats: Vec<&str> = v["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|i| i["what"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        whats,
        [
            "SUBMITTED",
            "ACCEPTED",
            "arriving",
            "ARRIVAL_CONFIRMED",
            "ASSESSED",
            "RELEASED",
            "loading",
            "departing"
        ],
        "{v}"
    );
    let clearance = &v["clearance"][0]["clearance"];
    assert_eq!(clearance["hours"], "0.83", "{v}");
    assert_eq!(clearance["result"], "PASS", "{v}");
    // The timeline offline, against the genesis file.
    let (ok, off) = concordat_json(&[
        "verify-trace",
        bundles.to_str().expect("utf-8"),
        "--trust",
        genesis,
    ]);
    assert!(ok, "{off}");
    assert_eq!(off["valid"], true, "{off}");
    assert_eq!(off["timeline"], v["timeline"]);
    // The EPCIS export names three events with their hash ids.
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&epcis).expect("export")).expect("json");
    let list = doc["epcisBody"]["eventList"].as_array().expect("events");
    assert_eq!(list.len(), 3, "{doc}");
    assert!(list.iter().all(|e| e["eventID"]
        .as_str()
        .is_some_and(|id| id.starts_with("ni:///sha-256;"))));

    // The CNPEK variant: inspection ordered at 10:20, released 12:10 — SLA breach, nothing
    // blocked.
    const PEK_ENTRY: &str = "010020260000654322";
    const PEK_AWB: &str = "999-12345686";
    c.ok(
        &e4,
        Call::Customs(CustomsCall::Save(draft(
            PEK_ENTRY,
            DeclarationMode::Advance,
            "CNPEK",
            PEK_AWB,
        ))),
    );
    c.ok(
        &e4,
        Call::Customs(CustomsCall::Submit {
            entry_id: PEK_ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    c.ok(
        &term,
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            "urn:epc:id:sgln:6901234.00002.0",
            PEK_AWB,
        )]),
    );
    for (to, at) in [
        ("ACCEPTED", "10:02"),
        ("ASSESSED", "10:05"),
        ("INSPECTION", "10:20"),
        ("ASSESSED", "12:00"),
        ("RELEASED", "12:10"),
        ("CLOSED", "12:30"),
    ] {
        c.ok(
            &customs,
            decide(PEK_ENTRY, to, &format!("2026-09-08T{at}:00+08:00")),
        );
    }
    let (ok, v) = concordat_json(&["trace", PEK_ENTRY, "--node", &url]);
    assert!(ok, "{v}");
    let s = &v["clearance"][0];
    assert_eq!(s["clearance"]["hours"], "2.17", "{v}");
    assert_eq!(s["clearance"]["result"], "BREACH", "{v}");
    assert_eq!(s["flags"], json!(["SLA_BREACH"]), "{v}");
    assert_eq!(s["status"], "CLOSED", "{v}");
    // R12 for any declaring office.
    let (code, f) = get(&format!(
        "{url}/v1/eligibility/{E5}?for=customs_facilitation&office=0202"
    ));
    assert_eq!(code, 200, "{f}");
    assert_eq!(f["facilitation"]["tier"], "REGULAR", "{f}");
    node.stop();
}
