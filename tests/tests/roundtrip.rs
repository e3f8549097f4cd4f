//! Every hashed type round-trips to identical bytes, and no mutation of canonical bytes decodes
//! to a value with a different encoding.

use concordat_consensus::CommitCertificate;
use concordat_contracts::block::Block;
use concordat_contracts::executor::TxLogRecord;
use concordat_contracts::governance::{GovAction, GovCall};
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, ResultCode, SignedTransaction, Transaction};
use concordat_genesis::Genesis;
use concordat_primitives::encoding::{from_bytes, to_bytes};
use concordat_primitives::ledger::ValidatorSet;
use concordat_primitives::Hash;
use concordat_tests::*;
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

fn arb_call() -> impl Strategy<Value = Call> {
    let text = "[a-z0-9 ]{1,20}";
    prop_oneof![
        (text, text, any::<Option<[u8; 32]>>()).prop_map(|(name, addr, rep)| Call::Party(
            PartyCall::Register {
                uscc: "91110105MA01R7K442".into(),
                name,
                legal_rep_ref: rep.map(Hash),
                registered_address: addr,
            }
        )),
        text.prop_map(|b| Call::Party(PartyCall::Deregister {
            uscc: "x".into(),
            basis: b
        })),
        any::<u64>().prop_map(|id| Call::Governance(GovCall::Approve { proposal_id: id })),
        any::<u64>().prop_map(|h| Call::Governance(GovCall::Propose {
            action: GovAction::RemoveDepartment {
                uscc: concordat_contracts::ids::Uscc::parse("11110000MB01A7C368").expect("ok"),
            },
            expires_at_height: h,
        })),
    ]
}

prop_compose! {
    fn arb_tx()(seed in 1u8..=255, nonce in any::<u64>(), expiry in any::<u64>(), call in arb_call(),
                chain in "[a-z0-9-]{1,30}") -> SignedTransaction {
        Transaction { chain_id: chain, signer: key(seed).public_key(), nonce, expiry_height: expiry, call }
            .sign(&key(seed))
    }
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let bytes = to_bytes(v);
    let back: T = from_bytes(&bytes).expect("decodes");
    assert_eq!(&back, v);
    assert_eq!(to_bytes(&back), bytes);
}

/// Flip each byte of `bytes`; anything that still decodes must re-encode to the mutated bytes.
fn mutations_stay_canonical<T: Serialize + DeserializeOwned>(bytes: &[u8]) {
    for i in 0..bytes.len() {
        for delta in [1u8, 0x80] {
            let mut b = bytes.to_vec();
            b[i] ^= delta;
            if let Ok(v) = from_bytes::<T>(&b) {
                assert_eq!(
                    to_bytes(&v),
                    b,
                    "byte {i} ^ {delta:#x} decoded non-canonically"
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn transactions_round_trip(tx in arb_tx()) {
        round_trip(&tx);
        prop_assert!(tx.verify_signature().is_ok());
        prop_assert_eq!(SignedTransaction::from_bytes(&tx.to_bytes()).expect("decodes").hash(), tx.hash());
    }

    #[test]
    fn log_records_round_trip(h in any::<[u8; 32]>(), height in any::<u64>(), ok in any::<bool>()) {
        let code = if ok { ResultCode::Ok } else { ResultCode::Unauthorised };
        round_trip(&TxLogRecord { tx_hash: Hash(h), code, height });
    }
}

#[test]
fn fixed_values_round_trip_and_resist_mutation() {
    round_trip(&transaction());
    round_trip(&header());
    round_trip(&certificate());
    round_trip(&block());
    round_trip(&validator_set());
    round_trip(&genesis());
    mutations_stay_canonical::<SignedTransaction>(&transaction().to_bytes());
    mutations_stay_canonical::<CommitCertificate>(&to_bytes(&certificate()));
    mutations_stay_canonical::<Block>(&block().to_bytes());
    mutations_stay_canonical::<ValidatorSet>(&to_bytes(&validator_set()));
    mutations_stay_canonical::<Genesis>(&genesis().to_bytes());
}

#[test]
fn a_mutated_transaction_never_verifies_under_the_same_hash() {
    let tx = transaction();
    let bytes = tx.to_bytes();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 1;
        if let Ok(m) = SignedTransaction::from_bytes(&b) {
            assert_ne!(m.hash(), tx.hash());
            assert!(
                m.verify_signature().is_err(),
                "byte {i} flipped still verifies"
            );
        }
    }
}

/// A snapshot file is as large as the state (about 190 MB at 1 M records): it is read with its
/// own limit, not the 8 MiB of other decoders (the 1 M-record benchmark found the node refusing
/// its own snapshot).
#[test]
fn a_snapshot_file_over_the_default_decode_limit_reads_back() {
    use concordat_genesis::snapshot::{Snapshot, SNAPSHOT_VERSION};
    let snapshot = Snapshot {
        version: SNAPSHOT_VERSION,
        genesis_hash: genesis().hash(),
        header: header(),
        certificate: certificate(),
        validator_set: validator_set(),
        next_validator_set: validator_set(),
        log_frontier: Vec::new(),
        entries: (0..40_000u32)
            .map(|i| {
                (
                    concordat_primitives::Hash::digest(&i.to_be_bytes()),
                    vec![7u8; 250],
                )
            })
            .collect(),
    };
    let bytes = snapshot.to_bytes();
    assert!(bytes.len() > concordat_primitives::encoding::MAX_DECODE_BYTES);
    assert_eq!(Snapshot::from_bytes(&bytes).expect("reads"), snapshot);
    assert!(Snapshot::from_bytes(&bytes[..bytes.len() - 1]).is_err());
}
