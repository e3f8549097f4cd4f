//! Prints, as JSON on stdout, the tx-log proofs carried by sample offline bundles, read back
//! from the bundles' canonical bytes after they verified, for the independent pymerkle check
//! (`tests/pymerkle/check_bundle.py`):
//!
//! ```text
//! cargo run -q -p concordat-client --example dump_bundle_log_proofs > /tmp/bundles.json
//! python3 tests/pymerkle/check_bundle.py /tmp/bundles.json
//! ```
//!
//! The log holds 40 tx-log records (`TxLogRecord` leaves, as the node appends them). Bundles:
//! inclusion of several indices in logs of several sizes, and consistency between several pairs
//! of sizes, each against headers signed by a 4-validator set.

use concordat_client::bundle::{
    verify_bundle, Bundle, Claim, Proven, SignedHeader, TrustRoot, BUNDLE_VERSION_FULL,
};
use concordat_consensus::{CommitCertificate, Vote, VoteKind};
use concordat_contracts::executor::TxLogRecord;
use concordat_contracts::ResultCode;
use concordat_primitives::ledger::{Header, Validator, ValidatorSet};
use concordat_primitives::merkle_log::{leaf_hash, MemoryLog, EMPTY_ROOT};
use concordat_primitives::{encoding, Hash, SecretKey};
use rand_chacha::rand_core::SeedableRng;
use serde_json::json;

const CHAIN: &str = "concordat-bundle-dump";

fn signed(header: &Header, keys: &[SecretKey], set: &ValidatorSet) -> SignedHeader {
    let hash = header.hash();
    let vote = Vote {
        kind: VoteKind::Precommit,
        height: header.height,
        round: 0,
        block_hash: Some(hash),
    };
    let msg = vote.signing_bytes(CHAIN);
    let sigs: Vec<_> = keys
        .iter()
        .map(|k| (k.public_key(), k.sign(&msg)))
        .collect();
    let cert = CommitCertificate::from_signatures(set, header.height, 0, hash, &sigs)
        .expect("certificate");
    SignedHeader {
        header: encoding::to_bytes(header),
        certificate: encoding::to_bytes(&cert),
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    let keys: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_seed([i; 32])).collect();
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("set");
    let trust = TrustRoot::Genesis {
        chain_id: CHAIN.into(),
        genesis_hash: Hash::digest(b"g"),
        validator_set: set.clone(),
    };
    let mut log = MemoryLog::new();
    let mut leaves = Vec::new();
    for i in 0..40u64 {
        let leaf = TxLogRecord {
            tx_hash: Hash::digest(&i.to_be_bytes()),
            code: if i % 7 == 3 {
                ResultCode::Unauthorised
            } else {
                ResultCode::Ok
            },
            height: 1 + i / 4,
        }
        .leaf_bytes();
        log.append(leaf_hash(&leaf));
        leaves.push(leaf);
    }
    let header_at = |size: u64| Header {
        chain_id: CHAIN.into(),
        height: 100 + size,
        parent_hash: Hash::digest(b"p"),
        time_ms: 1_795_881_600_000,
        proposer: keys[0].public_key(),
        txs_root: EMPTY_ROOT,
        state_root: Hash::digest(b"s"),
        tx_log_root: log.root_at(size).expect("root"),
        tx_log_size: size,
        validator_set_hash: set.hash(),
        next_validator_set_hash: set.hash(),
        app_version: 1,
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let mut inclusion = Vec::new();
    for (index, size) in [
        (0u64, 1u64),
        (0, 40),
        (5, 7),
        (6, 7),
        (13, 40),
        (31, 32),
        (39, 40),
        (16, 33),
    ] {
        let b = Bundle {
            version: BUNDLE_VERSION_FULL,
            anchor: None,
            changes: vec![],
            header: signed(&header_at(size), &keys, &set),
            claim: Claim::Tx {
                index,
                leaf: leaves[index as usize].clone(),
                proof: log.inclusion_proof(index, size).expect("proof").hashes,
            },
        };
        let bytes = b.to_bytes();
        let v = verify_bundle(&bytes, &trust, &mut rng).expect("the bundle verifies");
        assert!(matches!(v.proven, Proven::Included { .. }));
        // Read the proof back from the canonical bytes.
        let back = Bundle::from_bytes(&bytes).expect("decodes");
        let Claim::Tx { index, leaf, proof } = back.claim else {
            unreachable!("a tx claim")
        };
        inclusion.push(json!({
            "bundle": hex::encode(&bytes), "index": index, "size": v.header.tx_log_size,
            "root": v.header.tx_log_root.to_hex(), "leaf": hex::encode(leaf),
            "proof": proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        }));
    }
    let mut consistency = Vec::new();
    for (old, new) in [
        (1u64, 2u64),
        (3, 7),
        (4, 8),
        (7, 40),
        (16, 40),
        (31, 33),
        (39, 40),
        (5, 6),
    ] {
        let b = Bundle {
            version: BUNDLE_VERSION_FULL,
            anchor: None,
            changes: vec![],
            header: signed(&header_at(new), &keys, &set),
            claim: Claim::Consistency {
                old: signed(&header_at(old), &keys, &set),
                proof: log.consistency_proof(old, new).expect("proof").hashes,
            },
        };
        let bytes = b.to_bytes();
        let v = verify_bundle(&bytes, &trust, &mut rng).expect("the bundle verifies");
        let back = Bundle::from_bytes(&bytes).expect("decodes");
        let Claim::Consistency {
            old: old_signed,
            proof,
        } = back.claim
        else {
            unreachable!("a consistency claim")
        };
        let old_header: Header = encoding::from_bytes(&old_signed.header).expect("header");
        consistency.push(json!({
            "bundle": hex::encode(&bytes), "old_size": old_header.tx_log_size, "new_size": v.header.tx_log_size,
            "old_root": old_header.tx_log_root.to_hex(), "new_root": v.header.tx_log_root.to_hex(),
            "proof": proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        }));
    }
    let doc = json!({
        "format": "concordat-bundle-log-proofs/1",
        "leaves": leaves.iter().map(hex::encode).collect::<Vec<_>>(),
        "inclusion": inclusion,
        "consistency": consistency,
    });
    println!("{doc}");
}
