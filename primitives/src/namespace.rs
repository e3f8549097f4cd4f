//! Signing namespaces: every signed message starts with one of these and the chain id.
//!
//! Changing a constant is a breaking change of the protocol (golden fixtures pin them).
//! The bytes signed are `BCS((namespace, chain_id, payload_bytes))`, so a signature made for one
//! purpose, or for one chain, is never valid for another.

use serde::Serialize;

/// Transactions submitted by departments and enterprises.
pub const TX: &str = "CONCORDAT_TX_V1";
/// Consensus prevotes and precommits (what a commit certificate carries).
pub const VOTE: &str = "CONCORDAT_VOTE_V1";
/// Consensus proposals.
pub const PROPOSAL: &str = "CONCORDAT_PROPOSAL_V1";
/// Governance-level statements signed outside a transaction (e.g. agreement signatures).
pub const STATEMENT: &str = "CONCORDAT_STATEMENT_V1";
/// Electronic-seal signatures over a document hash (record kind I).
pub const SEAL_SIGNATURE: &str = "CONCORDAT_SEAL_SIG_V1";
/// Time-stamp tokens of a time-stamping authority registered with the seal registry.
pub const TIMESTAMP: &str = "CONCORDAT_TSA_V1";
/// Domain tag of the genesis hash.
pub const GENESIS: &str = "CONCORDAT_GENESIS_V1";
/// Domain tag of header hashes.
pub const HEADER: &str = "CONCORDAT_HEADER_V1";
/// Domain tag of transaction hashes.
pub const TX_HASH: &str = "CONCORDAT_TXID_V1";
/// Domain tag of validator-set hashes.
pub const VALIDATOR_SET: &str = "CONCORDAT_VALSET_V1";

/// Every namespace, for uniqueness tests.
pub const ALL: &[&str] = &[
    TX,
    VOTE,
    PROPOSAL,
    STATEMENT,
    SEAL_SIGNATURE,
    TIMESTAMP,
    GENESIS,
    HEADER,
    TX_HASH,
    VALIDATOR_SET,
];

#[derive(Serialize)]
struct Signed<'a> {
    namespace: &'a str,
    chain_id: &'a str,
    payload: &'a [u8],
}

/// The exact bytes that are signed for `payload` under `namespace` on `chain_id`.
pub fn signing_bytes(namespace: &str, chain_id: &str, payload: &[u8]) -> Vec<u8> {
    crate::encoding::to_bytes(&Signed {
        namespace,
        chain_id,
        payload,
    })
}

/// A domain-separated hash: `SHA-256(BCS((tag, payload)))`.
pub fn tagged_hash(tag: &str, payload: &[u8]) -> crate::Hash {
    #[derive(Serialize)]
    struct Tagged<'a> {
        tag: &'a str,
        payload: &'a [u8],
    }
    crate::Hash::digest(&crate::encoding::to_bytes(&Tagged { tag, payload }))
}
