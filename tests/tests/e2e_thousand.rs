//! End to end with the real binaries: 1,000 signed transactions all commit, and each
//! registered record's proof (and an absent record's proof) verifies in the client.

use std::process::Command;
use std::time::Duration;

use concordat_client::verify::{
    verify_state_answer, verify_txlog_answer, Expect, StateAnswer, TxLogAnswer,
};
use concordat_contracts::party::{Party, PartyStatus};
use concordat_primitives::encoding;
use concordat_tests::net::*;
use rand::SeedableRng;

#[test]
fn a_thousand_transactions_commit_and_every_record_proof_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    let genesis = load_genesis(&net);
    let key = registrar_key(&net);
    let mut node = Node::new(net.join("node0"));
    node.start();
    let url = node.url();

    let usccs: Vec<String> = (0..1000).map(|i| synthetic_uscc(7, i)).collect();
    let mut hashes = Vec::new();
    for (nonce, uscc) in usccs.iter().enumerate() {
        let tx = register_tx(&key, &genesis.chain_id, nonce as u64, 10_000, uscc);
        let (code, v) = post_bytes(&format!("{url}/v1/txs"), &tx.to_bytes());
        assert_eq!(code, 202, "tx {nonce}: {v}");
        hashes.push(tx.hash().to_hex());
    }
    for h in &hashes {
        let v = wait_committed(&url, h, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{h} not committed"));
        assert_eq!(v["result"]["code"], "OK", "{v}");
    }

    // Every record: fetch with proof and verify in the client against the header and its
    // certificate, under the genesis validator set.
    let expect = Expect {
        chain_id: Some(genesis.chain_id.clone()),
        height: None,
        validator_set_hash: Some(genesis.validator_set().expect("set").hash()),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for uscc in &usccs {
        let (code, v) = get(&format!("{url}/v1/state/party/{uscc}?proof=true"));
        assert_eq!(code, 200, "{v}");
        let answer: StateAnswer = serde_json::from_value(v).expect("answer shape");
        let verified =
            verify_state_answer("party", uscc, &answer, &expect, &mut rng).expect("proof verifies");
        assert!(verified.found);
        let party: Party =
            encoding::from_bytes(verified.value_bytes.as_deref().expect("value")).expect("party");
        assert_eq!(party.uscc.as_str(), uscc);
        assert_eq!(party.status, PartyStatus::Existing);
    }
    // An unregistered party is proven absent.
    let absent = synthetic_uscc(8, 1);
    let (_, v) = get(&format!("{url}/v1/state/party/{absent}?proof=true"));
    let answer: StateAnswer = serde_json::from_value(v).expect("answer shape");
    let verified = verify_state_answer("party", &absent, &answer, &expect, &mut rng)
        .expect("absence verifies");
    assert!(!verified.found);
    // A tampered answer is refused.
    let (_, v) = get(&format!("{url}/v1/state/party/{}?proof=true", usccs[0]));
    let mut answer: StateAnswer = serde_json::from_value(v).expect("answer shape");
    let mut bytes = hex::decode(answer.value_bytes.as_deref().expect("value")).expect("hex");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    answer.value_bytes = Some(hex::encode(bytes));
    assert!(verify_state_answer("party", &usccs[0], &answer, &expect, &mut rng).is_err());

    // The same through the CLI.
    let out = Command::new(bin("concordat"))
        .args([
            "query",
            "party",
            &usccs[999],
            "--node",
            &url,
            "--output",
            "json",
        ])
        .output()
        .expect("concordat query");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verified"], true);
    assert_eq!(v["found"], true);

    // Transaction-log inclusion proofs verify against the latest header, and a consistency
    // proof links an early log size to the latest.
    let (_, st) = get(&format!("{url}/v1/status"));
    let tip = st["height"].as_u64().expect("height");
    let (_, hv) = get(&format!("{url}/v1/headers/{tip}"));
    let header: concordat_primitives::ledger::Header =
        encoding::from_bytes(&hex::decode(hv["header_bytes"].as_str().expect("hex")).expect("hex"))
            .expect("header");
    for index in [0u64, 1, 499, 998, 999] {
        let (code, v) = get(&format!(
            "{url}/v1/txlog/{index}?size={}",
            header.tx_log_size
        ));
        assert_eq!(code, 200, "{v}");
        let answer: TxLogAnswer = serde_json::from_value(v).expect("shape");
        let verified =
            verify_txlog_answer(&answer, Some(index), Some(&header)).expect("inclusion verifies");
        assert_eq!(verified.record.tx_hash.to_hex(), hashes[index as usize]);
    }
    let (code, v) = get(&format!(
        "{url}/v1/txlog/consistency?from=10&to={}",
        header.tx_log_size
    ));
    assert_eq!(code, 200, "{v}");
    let h = |x: &serde_json::Value| {
        concordat_primitives::Hash::from_hex(x.as_str().expect("hex")).expect("hash")
    };
    let proof = concordat_primitives::merkle_log::ConsistencyProof::new(
        v["proof"]
            .as_array()
            .expect("proof")
            .iter()
            .map(h)
            .collect(),
    )
    .expect("proof size");
    assert_eq!(h(&v["to_root"]), header.tx_log_root);
    concordat_primitives::merkle_log::verify_consistency(
        10,
        header.tx_log_size,
        &h(&v["from_root"]),
        &header.tx_log_root,
        &proof,
    )
    .expect("consistency verifies");

    // The chain replays from genesis to the same roots.
    replay_from_genesis(&url, &genesis);
    node.stop();
}
