//! A double-random draw on a running node, recomputed offline by `concordat inspection draw
//! --verify` from the verified plan and tasks.

use concordat_contracts::inspection::InspectionCall;
use concordat_contracts::party::PartyCall;
use concordat_contracts::Call;
use concordat_primitives::Hash;
use concordat_tests::net::*;

const BJSAMR: &str = "11110000MB01A7C368";

#[test]
fn a_draw_on_the_ledger_is_recomputed_offline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    let mut node = Node::new(net.join("node0"));
    node.start();
    let c = Client::new(&node.url(), &net);
    let samr = registrar_key(&net);
    let targets: Vec<String> = (0..60).map(|i| synthetic_uscc(77, i)).collect();
    for u in &targets {
        c.ok(
            &samr,
            Call::Party(PartyCall::Register {
                uscc: u.clone(),
                name: format!("企业 {u}"),
                legal_rep_ref: None,
                registered_address: "样例路".into(),
            }),
        );
    }
    let seed = [0x5a_u8; 32];
    for call in [
        InspectionCall::CreatePlan {
            plan_id: "DR-E2E".into(),
            authorities: vec![BJSAMR.into()],
            item_codes: vec!["FOOD_SAFETY".into()],
            pool_query: "朝阳区 存续 企业".into(),
            seed_commitment: Hash::digest(&seed),
        },
        InspectionCall::AddTargets {
            plan_id: "DR-E2E".into(),
            targets: targets.clone(),
        },
        InspectionCall::AddInspectors {
            plan_id: "DR-E2E".into(),
            inspectors: ["INS-1", "INS-2", "INS-3", "INS-4", "INS-5"]
                .map(String::from)
                .to_vec(),
        },
        InspectionCall::Commit {
            plan_id: "DR-E2E".into(),
        },
    ] {
        c.ok(&samr, Call::Inspection(call));
    }
    // A seed that does not match its commitment is refused, in the block.
    let (code, msg) = c.send(
        &samr,
        Call::Inspection(InspectionCall::Draw {
            plan_id: "DR-E2E".into(),
            seed: hex::encode([0x5b_u8; 32]),
        }),
    );
    assert!(
        code == "INVALID_ARGUMENT" && msg.contains("commitment"),
        "{code}: {msg}"
    );
    c.ok(
        &samr,
        Call::Inspection(InspectionCall::Draw {
            plan_id: "DR-E2E".into(),
            seed: hex::encode(seed),
        }),
    );
    let plan = c.state("inspection_plan", "DR-E2E");
    assert_eq!(plan["status"], "DRAWN", "{plan}");
    // 60 parties of class B at 50 per mille.
    assert_eq!(plan["task_ids"].as_array().map(Vec::len), Some(3), "{plan}");
    let (ok, v) = concordat_json(&[
        "inspection",
        "draw",
        "DR-E2E",
        "--verify",
        "--node",
        &node.url(),
    ]);
    assert!(ok && v["matches"] == true, "{v}");
    assert_eq!(v["tasks"].as_array().map(Vec::len), Some(3), "{v}");
    node.stop();
}
