//! Shared builders for Concordat's cross-crate tests: fixed keys and sample ledger values whose
//! bytes the golden fixtures pin.

use concordat_consensus::CommitCertificate;
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_genesis::{demo_spec, Genesis};
use concordat_primitives::ledger::{Header, Validator, ValidatorSet, APP_VERSION};
use concordat_primitives::{Hash, PublicKey};

/// Chain id of every fixture.
pub const CHAIN_ID: &str = "concordat-golden";

pub mod browser;
pub mod campaign;
pub mod customs;
pub mod net;
pub mod sim;

pub use concordat_testkit::key;

/// The fixed genesis: demo departments with member keys 1..=5, validators 101..=104.
pub fn genesis() -> Genesis {
    let members: Vec<PublicKey> = (1..=5).map(|i| key(i).public_key()).collect();
    let validators: Vec<PublicKey> = (101..=104).map(|i| key(i).public_key()).collect();
    #[allow(clippy::expect_used)]
    demo_spec(CHAIN_ID, "2026-11-28T00:00:00+08:00", &members, &validators)
        .validate()
        .expect("fixture genesis is valid")
}

/// The fixed validator set (keys 101..=104, power 10).
pub fn validator_set() -> ValidatorSet {
    #[allow(clippy::expect_used)]
    ValidatorSet::new(
        (101..=104)
            .map(|i| Validator {
                key: key(i).public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("valid")
}

/// A fixed party-registration transaction signed by key 1.
pub fn transaction() -> SignedTransaction {
    Transaction {
        chain_id: CHAIN_ID.into(),
        signer: key(1).public_key(),
        nonce: 7,
        expiry_height: 1000,
        call: Call::Party(PartyCall::Register {
            uscc: "91110105MA01R7K442".into(),
            name: "北京京韵云链科技有限公司".into(),
            legal_rep_ref: Some(Hash::digest(b"salt|110105199001011234")),
            registered_address: "望京街道样例路1号".into(),
        }),
    }
    .sign(&key(1))
}

/// A fixed header at height 1.
pub fn header() -> Header {
    let set = validator_set();
    Header {
        chain_id: CHAIN_ID.into(),
        height: 1,
        parent_hash: genesis().hash(),
        time_ms: 1_795_881_600_000,
        proposer: key(101).public_key(),
        txs_root: concordat_contracts::block::txs_root(&[transaction()]),
        state_root: Hash::digest(b"state"),
        tx_log_root: Hash::digest(b"log"),
        tx_log_size: 1,
        validator_set_hash: set.hash(),
        next_validator_set_hash: set.hash(),
        app_version: APP_VERSION,
    }
}

/// A certificate for [`header`] signed by validators 101, 102 and 104.
pub fn certificate() -> CommitCertificate {
    let h = header();
    let mut cert = CommitCertificate {
        height: h.height,
        round: 0,
        block_hash: h.hash(),
        signers: Vec::new(),
        signatures: Vec::new(),
    };
    let msg = cert.vote().signing_bytes(CHAIN_ID);
    let sigs: Vec<_> = [101u8, 102, 104]
        .iter()
        .map(|i| (key(*i).public_key(), key(*i).sign(&msg)))
        .collect();
    #[allow(clippy::expect_used)]
    {
        cert = CommitCertificate::from_signatures(&validator_set(), h.height, 0, h.hash(), &sigs)
            .expect("members");
    }
    cert
}

/// A block holding [`header`] and [`transaction`].
pub fn block() -> concordat_contracts::block::Block {
    concordat_contracts::block::Block {
        header: header(),
        txs: vec![transaction()],
    }
}
