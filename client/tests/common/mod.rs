//! Shared fixture: a real state-query answer built in-process (a state tree, a header over its
//! root, a commit certificate signed by deterministic validator keys).
#![allow(dead_code)]

use std::collections::BTreeMap;

use concordat_client::verify::{decode_value, state_key, StateAnswer};
use concordat_consensus::{CommitCertificate, Vote, VoteKind};
use concordat_primitives::ledger::{Header, Validator, ValidatorSet};
use concordat_primitives::state::{apply, get_with_proof, root_at, MemoryStore};
use concordat_primitives::{encoding, merkle_log, Hash, SecretKey};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub const CHAIN: &str = "concordat-test";
pub const PARTY: &str = "91110105MA01R7K442";
/// A valid code (E2 of domain.md) that the fixture never registers.
pub const ABSENT: &str = "91120116MA07TJ3P7W";

pub fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(7)
}

pub fn keys(n: u8) -> Vec<SecretKey> {
    (1..=n).map(concordat_testkit::key).collect()
}

pub fn set_of(keys: &[SecretKey]) -> ValidatorSet {
    ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("valid set")
}

pub fn certify(header: &Header, signers: &[SecretKey], set: &ValidatorSet) -> CommitCertificate {
    let hash = header.hash();
    let vote = Vote {
        kind: VoteKind::Precommit,
        height: header.height,
        round: 0,
        block_hash: Some(hash),
    };
    let msg = vote.signing_bytes(&header.chain_id);
    let sigs: Vec<_> = signers
        .iter()
        .map(|k| (k.public_key(), k.sign(&msg)))
        .collect();
    CommitCertificate::from_signatures(set, header.height, 0, hash, &sigs).expect("certificate")
}

pub fn party_bytes() -> Vec<u8> {
    let party = serde_json::json!({
        "uscc": PARTY, "name": "北京示例科技有限公司", "kind": "ENTERPRISE",
        "region_code": "110105", "legal_rep_ref": null, "registered_address": "北京市朝阳区示例路 1 号",
        "status": "EXISTING", "registrar": "11110000MB01A7C368", "updated_at_height": 1,
        "updated_at_ms": 1_795_881_600_000u64, "basis": null, "sites": [], "keys": [],
        "history": [{"at_ms": 1_795_881_600_000u64, "status": "EXISTING",
                     "by": "11110000MB01A7C368", "basis": "registered"}]
    });
    let party: concordat_contracts::party::Party = serde_json::from_value(party).expect("party");
    encoding::to_bytes(&party)
}

/// A chain of one block: state version 0 (a department) and 1 (the party and a nonce).
pub struct Fixture {
    pub store: MemoryStore,
    pub header: Header,
    pub keys: Vec<SecretKey>,
    pub set: ValidatorSet,
}

pub fn fixture() -> Fixture {
    let mut store = MemoryStore::new();
    let mut genesis = BTreeMap::new();
    genesis.insert(b"gov/department/x".to_vec(), Some(vec![1, 2, 3]));
    let (_, update) = apply(&store, 0, &genesis).expect("apply 0");
    store.commit(update).expect("commit 0");
    let mut block = BTreeMap::new();
    block.insert(state_key("party", PARTY).expect("key"), Some(party_bytes()));
    block.insert(
        state_key(
            "nonce",
            &SecretKey::from_seed([9; 32]).public_key().to_hex(),
        )
        .expect("key"),
        Some(encoding::to_bytes(&3u64)),
    );
    let (root, update) = apply(&store, 1, &block).expect("apply 1");
    store.commit(update).expect("commit 1");
    assert_eq!(root_at(&store, 1).expect("root"), root);
    let keys = keys(4);
    let set = set_of(&keys);
    let header = Header {
        chain_id: CHAIN.into(),
        height: 1,
        parent_hash: Hash::digest(b"genesis"),
        time_ms: 1_795_881_600_000,
        proposer: keys[0].public_key(),
        txs_root: merkle_log::EMPTY_ROOT,
        state_root: root,
        tx_log_root: merkle_log::EMPTY_ROOT,
        tx_log_size: 0,
        validator_set_hash: set.hash(),
        next_validator_set_hash: set.hash(),
        app_version: 1,
    };
    Fixture {
        store,
        header,
        keys,
        set,
    }
}

impl Fixture {
    /// The answer a node would give for `kind`/`id` at height 1, certified by the first
    /// `signers` validators.
    pub fn answer(&self, kind: &str, id: &str, signers: usize) -> StateAnswer {
        let key = state_key(kind, id).expect("key");
        let (value, proof) = get_with_proof(&self.store, &key, 1).expect("proof");
        let cert = certify(&self.header, &self.keys[..signers], &self.set);
        StateAnswer {
            kind: kind.into(),
            id: id.into(),
            height: 1,
            key: hex::encode(&key),
            found: value.is_some(),
            value: value
                .as_ref()
                .map(|v| decode_value(kind, v).expect("decodes")),
            value_bytes: value.as_ref().map(hex::encode),
            proof: Some(hex::encode(proof.to_bytes())),
            state_root: Some(self.header.state_root.to_hex()),
            header: Some(serde_json::to_value(&self.header).expect("json")),
            header_bytes: Some(hex::encode(encoding::to_bytes(&self.header))),
            certificate: Some(hex::encode(encoding::to_bytes(&cert))),
            validator_set: Some(hex::encode(encoding::to_bytes(&self.set))),
        }
    }

    /// The answer with a modified header, re-encoded (and its JSON updated) but certified for
    /// the original header.
    pub fn with_header(&self, answer: &StateAnswer, change: impl Fn(&mut Header)) -> StateAnswer {
        let mut header = self.header.clone();
        change(&mut header);
        let mut a = answer.clone();
        a.header_bytes = Some(hex::encode(encoding::to_bytes(&header)));
        a.header = Some(serde_json::to_value(&header).expect("json"));
        a.state_root = Some(header.state_root.to_hex());
        a.height = header.height;
        a
    }
}
