//! Offline proof bundles and their light-client verification (docs/bundle.md).
//!
//! A [`Bundle`] carries everything needed to check one claim with no server: the signed header
//! the claim is proven against, the chain of validator-set changes from the verifier's trust
//! root to that header, and the claim's proof (a state membership or absence proof, or tx-log
//! inclusion and consistency proofs).
//!
//! # The rule ([`verify_bundle`])
//! 1. The trust root gives the validator set in force just after a trusted height: the genesis
//!    set (height 0), or, for a waypoint `(height, header hash)`, the set the waypoint header
//!    names as next (the bundle carries that header as its `anchor`).
//! 2. Each change, in height order, is a header signed (commit certificate: every signature is
//!    checked, and the signers hold strictly more than 2/3 of the power) by the set in force at
//!    its height, whose `next_validator_set_hash` names a different set; the bundle carries that
//!    set, which is in force from the next height.
//! 3. Every other header in the bundle is checked against the set in force at its height and
//!    must name exactly that set (`validator_set_hash`). A change left out is therefore caught:
//!    a later header signed by the new set does not name the set the verifier holds. (In the
//!    compact form, version 2, the header is rebuilt with the chain id of the trust root and the
//!    hash of the set in force, so such a header fails its certificate instead.)
//! 4. The claim is checked against the verified header: state proofs against `state_root`, the
//!    log proofs against `tx_log_root` and `tx_log_size`.
//!
//! Nothing in a bundle is taken on trust: every byte is part of something that is checked, so
//! changing any byte makes verification fail (a property test flips every byte).
//!
//! Pure: no IO, no clock; batch signature verification takes the caller's RNG.

use concordat_consensus::{CertificateError, CommitCertificate};
use concordat_contracts::executor::TxLogRecord;
use concordat_primitives::encoding::{self, DecodeError};
use concordat_primitives::ledger::{Header, ValidatorSet};
use concordat_primitives::merkle_log::{self, ConsistencyProof, InclusionProof, LogProofError};
use concordat_primitives::state::{self, ProofLeaf, StateProof, StateProofError};
use concordat_primitives::{Hash, PublicKey, Signature};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::verify::{decode_value, state_key, VerifyError};

/// The bundle format version the tools write: the compact form ([`CompactBundle`], ADR 0026).
pub const BUNDLE_VERSION: u16 = 2;
/// The first format version, the full form ([`Bundle`]): still read, so that bundles handed
/// out before the compact form keep verifying.
pub const BUNDLE_VERSION_FULL: u16 = 1;
/// Largest bundle accepted (bytes).
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// Most validator-set changes a bundle may carry.
pub const MAX_CHANGES: usize = 10_000;

/// A header with the commit certificate that signs it (both canonical BCS bytes).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignedHeader {
    /// BCS `Header`.
    pub header: Vec<u8>,
    /// BCS `CommitCertificate` of the header.
    pub certificate: Vec<u8>,
}

/// The waypoint header and the validator set it names as next.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// BCS `Header` of the waypoint height.
    pub header: Vec<u8>,
    /// BCS `ValidatorSet` named by its `next_validator_set_hash`.
    pub next_validator_set: Vec<u8>,
}

/// One validator-set change: the last header signed by the old set, and the new set.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SetChange {
    /// The header whose `next_validator_set_hash` names the new set.
    pub signed: SignedHeader,
    /// BCS `ValidatorSet`: the new set, in force from the next height.
    pub next_validator_set: Vec<u8>,
}

/// What the bundle proves.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The record `kind`/`id` holds `value` (or, with `None`, is absent) at the header.
    State {
        /// Query kind (`concordat_contracts::state::keys::QUERY_KINDS`).
        kind: String,
        /// Id.
        id: String,
        /// The state key of `kind`/`id`. Redundant on purpose: an absence proof also proves
        /// the absence of neighbouring keys, so the key binds the proof to the id asked about.
        key: Vec<u8>,
        /// Canonical value bytes, or `None` for a proven absence.
        value: Option<Vec<u8>>,
        /// BCS `StateProof`.
        proof: Vec<u8>,
    },
    /// The tx-log record `leaf` is entry `index` of the header's log.
    Tx {
        /// Log index.
        index: u64,
        /// BCS `TxLogRecord`.
        leaf: Vec<u8>,
        /// RFC 9162 inclusion proof (audit path) for the header's `tx_log_size`.
        proof: Vec<Hash>,
    },
    /// The header's log extends the log of an earlier signed header (RFC 9162 consistency).
    Consistency {
        /// The earlier header.
        old: SignedHeader,
        /// The consistency proof from the earlier size to the header's.
        proof: Vec<Hash>,
    },
}

/// An offline proof bundle (canonical BCS; see docs/bundle.md).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// [`BUNDLE_VERSION`].
    pub version: u16,
    /// The waypoint header, when the bundle is made for a waypoint trust root.
    pub anchor: Option<Anchor>,
    /// Validator-set changes after the trust root, in height order, before `header`.
    pub changes: Vec<SetChange>,
    /// The header the claim is proven against.
    pub header: SignedHeader,
    /// The claim.
    pub claim: Claim,
}

impl Bundle {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// Decodes canonical bytes (at most [`MAX_BUNDLE_BYTES`]). Every part of a bundle is read
    /// by BCS in one way only (`encoding::from_bytes_structural`; the nested headers,
    /// certificates, sets and proofs are decoded canonically when verified).
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        encoding::from_bytes_structural(bytes, MAX_BUNDLE_BYTES).map_err(BundleError::Decode)
    }
}

/// A signed header in the compact form: the header without what the verifier rebuilds (the
/// chain id, from the trust root; the validator-set hash, of the set in force at `height`; the
/// next set's hash when it is the same set) and its commit certificate without what the header
/// gives (height and block hash). The header and certificate are rebuilt exactly, so the
/// signatures are checked over the same header hash the validators signed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CompactHeader {
    /// `Header::height`.
    pub height: u64,
    /// `Header::parent_hash`.
    pub parent_hash: Hash,
    /// `Header::time_ms`.
    pub time_ms: u64,
    /// `Header::proposer`.
    pub proposer: PublicKey,
    /// `Header::txs_root`.
    pub txs_root: Hash,
    /// `Header::state_root`.
    pub state_root: Hash,
    /// `Header::tx_log_root`.
    pub tx_log_root: Hash,
    /// `Header::tx_log_size`.
    pub tx_log_size: u64,
    /// `Header::next_validator_set_hash`, or `None` when it is the set in force (written as
    /// `None` whenever it is: `Some` of the set in force is refused as non-canonical).
    pub next_validator_set_hash: Option<Hash>,
    /// `Header::app_version`.
    pub app_version: u32,
    /// `CommitCertificate::round`.
    pub round: u32,
    /// `CommitCertificate::signers`.
    pub signers: Vec<u8>,
    /// `CommitCertificate::signatures`.
    pub signatures: Vec<Signature>,
}

impl CompactHeader {
    /// The compact form of a full signed header (both parts must decode, and the certificate
    /// must be for that header).
    pub fn of(signed: &SignedHeader) -> Result<CompactHeader, BundleError> {
        let header: Header = decode("header", &signed.header)?;
        let cert: CommitCertificate = decode("certificate", &signed.certificate)?;
        if cert.height != header.height || cert.block_hash != header.hash() {
            return Err(BundleError::Mismatch {
                part: "certificate".into(),
                detail: format!(
                    "it is for height {} block {}, not the header at height {} ({})",
                    cert.height,
                    cert.block_hash,
                    header.height,
                    header.hash()
                ),
            });
        }
        Ok(CompactHeader {
            height: header.height,
            parent_hash: header.parent_hash,
            time_ms: header.time_ms,
            proposer: header.proposer,
            txs_root: header.txs_root,
            state_root: header.state_root,
            tx_log_root: header.tx_log_root,
            tx_log_size: header.tx_log_size,
            next_validator_set_hash: (header.next_validator_set_hash != header.validator_set_hash)
                .then_some(header.next_validator_set_hash),
            app_version: header.app_version,
            round: cert.round,
            signers: cert.signers,
            signatures: cert.signatures,
        })
    }

    /// The full header on `chain_id` signed by the set hashing to `in_force`.
    fn header(&self, chain_id: &str, in_force: Hash) -> Header {
        Header {
            chain_id: chain_id.to_string(),
            height: self.height,
            parent_hash: self.parent_hash,
            time_ms: self.time_ms,
            proposer: self.proposer,
            txs_root: self.txs_root,
            state_root: self.state_root,
            tx_log_root: self.tx_log_root,
            tx_log_size: self.tx_log_size,
            validator_set_hash: in_force,
            next_validator_set_hash: self.next_validator_set_hash.unwrap_or(in_force),
            app_version: self.app_version,
        }
    }

    /// The certificate of the header hashing to `block_hash`.
    fn certificate(&self, block_hash: Hash) -> CommitCertificate {
        CommitCertificate {
            height: self.height,
            round: self.round,
            block_hash,
            signers: self.signers.clone(),
            signatures: self.signatures.clone(),
        }
    }
}

/// One validator-set change in the compact form.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CompactChange {
    /// The header whose `next_validator_set_hash` names the new set.
    pub signed: CompactHeader,
    /// BCS `ValidatorSet`: the new set, in force from the next height.
    pub next_validator_set: Vec<u8>,
}

/// What a compact bundle proves.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum CompactClaim {
    /// The record `kind`/`id` holds `value` (or, with `None`, is absent) at the header. The
    /// state key is computed from `kind` and `id`; a membership proof leaves out its leaf
    /// (the key's and the value's hashes, computed from them).
    State {
        /// Query kind.
        kind: String,
        /// Id.
        id: String,
        /// Canonical value bytes, or `None` for a proven absence.
        value: Option<Vec<u8>>,
        /// BCS `StateProof`; without its leaf when `value` is present.
        proof: Vec<u8>,
    },
    /// As [`Claim::Tx`].
    Tx {
        /// Log index.
        index: u64,
        /// BCS `TxLogRecord`.
        leaf: Vec<u8>,
        /// RFC 9162 inclusion proof for the header's `tx_log_size`.
        proof: Vec<Hash>,
    },
    /// As [`Claim::Consistency`], the earlier header in the compact form.
    Consistency {
        /// The earlier header.
        old: Box<CompactHeader>,
        /// The consistency proof from the earlier size to the header's.
        proof: Vec<Hash>,
    },
}

/// An offline proof bundle in the compact form (format version 2, what the tools write;
/// docs/bundle.md, ADR 0026): the same content as a [`Bundle`] without the bytes a verifier
/// recomputes. The anchor, when there is one, stays a full header: its hash is the waypoint.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CompactBundle {
    /// [`BUNDLE_VERSION`] (2).
    pub version: u16,
    /// As [`Bundle::anchor`].
    pub anchor: Option<Anchor>,
    /// As [`Bundle::changes`].
    pub changes: Vec<CompactChange>,
    /// The header the claim is proven against.
    pub header: CompactHeader,
    /// The claim.
    pub claim: CompactClaim,
}

impl CompactBundle {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// Decodes canonical bytes (at most [`MAX_BUNDLE_BYTES`]; as [`Bundle::from_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<CompactBundle, BundleError> {
        encoding::from_bytes_structural(bytes, MAX_BUNDLE_BYTES).map_err(BundleError::Decode)
    }
}

impl Bundle {
    /// The compact form of this bundle (format version 2). Fails when a part does not decode
    /// or a membership proof's leaf is not the claim's key and value: such a bundle would not
    /// verify in either form.
    pub fn compact(&self) -> Result<CompactBundle, BundleError> {
        let changes = self
            .changes
            .iter()
            .map(|c| {
                Ok(CompactChange {
                    signed: CompactHeader::of(&c.signed)?,
                    next_validator_set: c.next_validator_set.clone(),
                })
            })
            .collect::<Result<_, BundleError>>()?;
        let claim = match &self.claim {
            Claim::State {
                kind,
                id,
                key,
                value,
                proof,
            } => {
                let proof = match value {
                    Some(v) => {
                        let p = StateProof::from_bytes(proof).map_err(|source| {
                            BundleError::StateProof {
                                claim: "the value",
                                source,
                            }
                        })?;
                        let leaf = ProofLeaf {
                            key_hash: state::proof::key_hash(key),
                            value_hash: state::proof::value_hash(v),
                        };
                        if p.leaf() != Some(&leaf) {
                            return Err(BundleError::Mismatch {
                                part: "state claim".into(),
                                detail: "the membership proof's leaf is not the key and value"
                                    .into(),
                            });
                        }
                        StateProof::new(None, p.siblings().to_vec())
                            .map_err(|source| BundleError::StateProof {
                                claim: "the value",
                                source,
                            })?
                            .to_bytes()
                    }
                    None => proof.clone(),
                };
                CompactClaim::State {
                    kind: kind.clone(),
                    id: id.clone(),
                    value: value.clone(),
                    proof,
                }
            }
            Claim::Tx { index, leaf, proof } => CompactClaim::Tx {
                index: *index,
                leaf: leaf.clone(),
                proof: proof.clone(),
            },
            Claim::Consistency { old, proof } => CompactClaim::Consistency {
                old: Box::new(CompactHeader::of(old)?),
                proof: proof.clone(),
            },
        };
        Ok(CompactBundle {
            version: BUNDLE_VERSION,
            anchor: self.anchor.clone(),
            changes,
            header: CompactHeader::of(&self.header)?,
            claim,
        })
    }

    /// The bytes of the compact form (what the tools write).
    pub fn to_compact_bytes(&self) -> Result<Vec<u8>, BundleError> {
        Ok(self.compact()?.to_bytes())
    }
}

/// A bundle of either format, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyBundle {
    /// Format version 1.
    Full(Box<Bundle>),
    /// Format version 2.
    Compact(Box<CompactBundle>),
}

impl AnyBundle {
    /// Decodes canonical bytes of either format, read from the version the bytes begin with.
    pub fn from_bytes(bytes: &[u8]) -> Result<AnyBundle, BundleError> {
        match bytes {
            [lo, hi, ..] => match u16::from_le_bytes([*lo, *hi]) {
                BUNDLE_VERSION_FULL => {
                    Bundle::from_bytes(bytes).map(|b| AnyBundle::Full(Box::new(b)))
                }
                BUNDLE_VERSION => {
                    CompactBundle::from_bytes(bytes).map(|b| AnyBundle::Compact(Box::new(b)))
                }
                other => Err(BundleError::Version(other)),
            },
            _ => Bundle::from_bytes(bytes).map(|b| AnyBundle::Full(Box::new(b))),
        }
    }

    /// Canonical bytes, in the bundle's own format.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            AnyBundle::Full(b) => b.to_bytes(),
            AnyBundle::Compact(b) => b.to_bytes(),
        }
    }

    /// The format version.
    pub fn version(&self) -> u16 {
        match self {
            AnyBundle::Full(b) => b.version,
            AnyBundle::Compact(b) => b.version,
        }
    }
}

/// What the verifier trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoot {
    /// A genesis file: its chain id, hash and initial validator set.
    Genesis {
        /// Chain id.
        chain_id: String,
        /// The genesis hash (reported, and bound by the chain id and set).
        genesis_hash: Hash,
        /// The initial validator set (in force from height 1).
        validator_set: ValidatorSet,
    },
    /// A waypoint: a height and the hash of its header.
    Waypoint {
        /// Height.
        height: u64,
        /// Header hash.
        header_hash: Hash,
    },
}

impl TrustRoot {
    /// Parses `HEIGHT:HEADERHASH`.
    pub fn parse_waypoint(s: &str) -> Result<TrustRoot, String> {
        let (h, hash) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not a waypoint HEIGHT:HEADER_HASH"))?;
        let height = h
            .parse::<u64>()
            .map_err(|_| format!("{h:?} is not a height"))?;
        let header_hash =
            Hash::from_hex(hash).map_err(|_| format!("{hash:?} is not a 64-hex header hash"))?;
        Ok(TrustRoot::Waypoint {
            height,
            header_hash,
        })
    }
}

/// Why a bundle was refused. Each variant names the check that failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    /// Not the canonical bytes of a bundle.
    #[error("not a bundle (canonical BCS): {0}")]
    Decode(DecodeError),
    /// Another format version.
    #[error("bundle format version {0} is not supported (this verifier reads versions 1 and 2)")]
    Version(u16),
    /// A part does not decode.
    #[error("{part} does not decode: {detail}")]
    Part {
        /// Which part.
        part: String,
        /// Why.
        detail: String,
    },
    /// Parts of the bundle that do not belong together (a certificate for another header, a
    /// state key that is not the id's, a membership proof's leaf that is not the claim's).
    #[error("{part} does not match: {detail}")]
    Mismatch {
        /// Which part.
        part: String,
        /// How.
        detail: String,
    },
    /// The trust root and the bundle's anchor do not fit together.
    #[error("trust root: {0}")]
    Trust(String),
    /// A header is on another chain.
    #[error("{part} is for chain {got:?}, the trust root's chain is {expected:?}")]
    WrongChain {
        /// Which header.
        part: String,
        /// Expected chain.
        expected: String,
        /// The header's.
        got: String,
    },
    /// Heights out of order.
    #[error("{part} is at height {height}, which is not after height {after}")]
    Order {
        /// Which header.
        part: String,
        /// Its height.
        height: u64,
        /// The height it must follow.
        after: u64,
    },
    /// A header does not name the validator set in force at its height.
    #[error("{part} names validator set {named}, but the set in force at height {height} is {in_force} (a validator-set change missing from the bundle, or a header from a retired set)")]
    NotInForce {
        /// Which header.
        part: String,
        /// Its height.
        height: u64,
        /// The set it names.
        named: Hash,
        /// The set the chain of changes puts in force.
        in_force: Hash,
    },
    /// A change that changes nothing, or whose new set is not the one named.
    #[error("{part}: {detail}")]
    BadChange {
        /// Which change.
        part: String,
        /// What is wrong.
        detail: String,
    },
    /// The certificate does not commit the header.
    #[error("{part}: the commit certificate does not commit it: {source}")]
    Certificate {
        /// Which header.
        part: String,
        /// The reason.
        source: CertificateError,
    },
    /// The certificate of a compact header does not commit the header rebuilt with the set in
    /// force (a change left out of the bundle, a header of a retired set, a changed field).
    #[error("{part}: the commit certificate does not commit the header rebuilt {rebuilt}: {source} (a bundle of another chain than the trust root's, a validator-set change missing from the bundle, another set's header, or a changed field)")]
    CompactCertificate {
        /// Which header.
        part: String,
        /// What the header was rebuilt with.
        rebuilt: Box<RebuiltWith>,
        /// The reason.
        source: CertificateError,
    },
    /// A part in a form another byte string also encodes (the compact form has one encoding).
    #[error("{part} is not in its canonical compact form: {detail}")]
    NonCanonical {
        /// Which part.
        part: String,
        /// What is written that must be left out.
        detail: String,
    },
    /// The state claim does not hold.
    #[error("the state claim does not hold: {0}")]
    State(VerifyError),
    /// The state proof does not hold.
    #[error("the state proof does not prove {claim} against the header's state_root: {source}")]
    StateProof {
        /// "the value" or "absence".
        claim: &'static str,
        /// Why.
        source: StateProofError,
    },
    /// A log proof does not hold.
    #[error("the {what} proof does not hold: {source}")]
    Log {
        /// "inclusion" or "consistency".
        what: &'static str,
        /// Why.
        source: LogProofError,
    },
    /// Too many changes.
    #[error("the bundle carries {0} validator-set changes, over the limit of {MAX_CHANGES}")]
    TooManyChanges(usize),
}

/// What a compact header was rebuilt with: the trust root's chain id and the set in force at
/// its height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuiltWith {
    /// The chain id (the trust root's).
    pub chain_id: String,
    /// The header's height.
    pub height: u64,
    /// The hash of the validator set in force there.
    pub in_force: Hash,
}

impl std::fmt::Display for RebuiltWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "on chain {:?} with the validator set in force at height {} ({})",
            self.chain_id, self.height, self.in_force
        )
    }
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proven {
    /// A record present with these value bytes.
    Present {
        /// Kind.
        kind: String,
        /// Id.
        id: String,
        /// Value bytes.
        value: Vec<u8>,
    },
    /// A record absent.
    Absent {
        /// Kind.
        kind: String,
        /// Id.
        id: String,
    },
    /// A tx-log record included.
    Included {
        /// Log index.
        index: u64,
        /// The record.
        record: TxLogRecord,
    },
    /// The log at the header extends the log at an earlier header.
    Consistent {
        /// The earlier height.
        old_height: u64,
        /// The earlier log size.
        old_size: u64,
    },
}

/// A bundle that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// What it proves.
    pub proven: Proven,
    /// The header it is proven against.
    pub header: Header,
    /// Its hash.
    pub header_hash: Hash,
    /// Power that signed it, and the set's total.
    pub signing_power: u64,
    /// Total power of the set in force.
    pub total_power: u64,
    /// Validator-set changes followed from the trust root.
    pub changes_followed: usize,
    /// The hash of the set in force at the header.
    pub validator_set_hash: Hash,
    /// The bundle's format version ([`BUNDLE_VERSION_FULL`] or [`BUNDLE_VERSION`]).
    pub format_version: u16,
}

fn decode<T: Serialize + serde::de::DeserializeOwned>(
    part: &str,
    bytes: &[u8],
) -> Result<T, BundleError> {
    encoding::from_bytes_limited(bytes, MAX_BUNDLE_BYTES).map_err(|e| BundleError::Part {
        part: part.to_string(),
        detail: e.to_string(),
    })
}

/// The validator sets in force by height, as the chain of changes establishes them.
struct Sets {
    chain_id: String,
    /// `(first height, set)`, in height order.
    segments: Vec<(u64, ValidatorSet)>,
}

impl Sets {
    fn at(&self, height: u64) -> Option<&ValidatorSet> {
        self.segments
            .iter()
            .rev()
            .find(|(from, _)| *from <= height)
            .map(|(_, s)| s)
    }

    /// Decodes and verifies a signed header against the set in force at its height.
    fn verify<R: RngCore + CryptoRng>(
        &self,
        part: &str,
        signed: Signed<'_>,
        rng: R,
    ) -> Result<(Header, Hash, u64, u64), BundleError> {
        let first = self.segments.first().map(|s| s.0).unwrap_or(1);
        let set_at = |height: u64| {
            self.at(height).ok_or(BundleError::Order {
                part: part.into(),
                height,
                after: first.saturating_sub(1),
            })
        };
        let (header, hash, set, power) = match signed {
            Signed::Full(signed) => {
                let header: Header = decode(&format!("{part} header"), &signed.header)?;
                if header.chain_id != self.chain_id {
                    return Err(BundleError::WrongChain {
                        part: part.into(),
                        expected: self.chain_id.clone(),
                        got: header.chain_id,
                    });
                }
                let set = set_at(header.height)?;
                let in_force = set.hash();
                if header.validator_set_hash != in_force {
                    return Err(BundleError::NotInForce {
                        part: part.into(),
                        height: header.height,
                        named: header.validator_set_hash,
                        in_force,
                    });
                }
                let cert: CommitCertificate =
                    decode(&format!("{part} certificate"), &signed.certificate)?;
                let hash = header.hash();
                let power = cert
                    .verify(&header.chain_id, set, header.height, &hash, rng)
                    .map_err(|source| BundleError::Certificate {
                        part: part.into(),
                        source,
                    })?;
                (header, hash, set, power)
            }
            Signed::Compact(c) => {
                let set = set_at(c.height)?;
                let in_force = set.hash();
                if c.next_validator_set_hash == Some(in_force) {
                    return Err(BundleError::NonCanonical {
                        part: part.into(),
                        detail: "it names the set in force as the next set (written as none)"
                            .into(),
                    });
                }
                let header = c.header(&self.chain_id, in_force);
                let hash = header.hash();
                let power = c
                    .certificate(hash)
                    .verify(&header.chain_id, set, header.height, &hash, rng)
                    .map_err(|source| BundleError::CompactCertificate {
                        part: part.into(),
                        rebuilt: Box::new(RebuiltWith {
                            chain_id: header.chain_id.clone(),
                            height: header.height,
                            in_force,
                        }),
                        source,
                    })?;
                (header, hash, set, power)
            }
        };
        let total = set.total_power();
        Ok((header, hash, power, total))
    }
}

/// A signed header of either form.
#[derive(Clone, Copy)]
enum Signed<'a> {
    Full(&'a SignedHeader),
    Compact(&'a CompactHeader),
}

/// A claim of either form.
enum ClaimRef<'a> {
    State {
        kind: &'a str,
        id: &'a str,
        /// The key the full form carries (the compact form computes it).
        key: Option<&'a [u8]>,
        value: &'a Option<Vec<u8>>,
        proof: &'a [u8],
        /// Whether a membership proof leaves its leaf out (the compact form).
        leaf_implied: bool,
    },
    Tx {
        index: u64,
        leaf: &'a [u8],
        proof: &'a [Hash],
    },
    Consistency {
        old: Signed<'a>,
        proof: &'a [Hash],
    },
}

/// A decoded bundle of either form, as the rule reads it.
struct View<'a> {
    anchor: &'a Option<Anchor>,
    changes: Vec<(Signed<'a>, &'a [u8])>,
    header: Signed<'a>,
    claim: ClaimRef<'a>,
}

impl AnyBundle {
    fn view(&self) -> View<'_> {
        match self {
            AnyBundle::Full(b) => View {
                anchor: &b.anchor,
                changes: b
                    .changes
                    .iter()
                    .map(|c| (Signed::Full(&c.signed), c.next_validator_set.as_slice()))
                    .collect(),
                header: Signed::Full(&b.header),
                claim: match &b.claim {
                    Claim::State {
                        kind,
                        id,
                        key,
                        value,
                        proof,
                    } => ClaimRef::State {
                        kind,
                        id,
                        key: Some(key),
                        value,
                        proof,
                        leaf_implied: false,
                    },
                    Claim::Tx { index, leaf, proof } => ClaimRef::Tx {
                        index: *index,
                        leaf,
                        proof,
                    },
                    Claim::Consistency { old, proof } => ClaimRef::Consistency {
                        old: Signed::Full(old),
                        proof,
                    },
                },
            },
            AnyBundle::Compact(b) => View {
                anchor: &b.anchor,
                changes: b
                    .changes
                    .iter()
                    .map(|c| (Signed::Compact(&c.signed), c.next_validator_set.as_slice()))
                    .collect(),
                header: Signed::Compact(&b.header),
                claim: match &b.claim {
                    CompactClaim::State {
                        kind,
                        id,
                        value,
                        proof,
                    } => ClaimRef::State {
                        kind,
                        id,
                        key: None,
                        value,
                        proof,
                        leaf_implied: true,
                    },
                    CompactClaim::Tx { index, leaf, proof } => ClaimRef::Tx {
                        index: *index,
                        leaf,
                        proof,
                    },
                    CompactClaim::Consistency { old, proof } => ClaimRef::Consistency {
                        old: Signed::Compact(old),
                        proof,
                    },
                },
            },
        }
    }
}

fn trust_base(trust: &TrustRoot, anchor: &Option<Anchor>) -> Result<Sets, BundleError> {
    match (trust, anchor) {
        (
            TrustRoot::Genesis {
                chain_id,
                validator_set,
                ..
            },
            None,
        ) => Ok(Sets {
            chain_id: chain_id.clone(),
            segments: vec![(1, validator_set.clone())],
        }),
        (TrustRoot::Genesis { .. }, Some(_)) => Err(BundleError::Trust(
            "the bundle is anchored at a waypoint; verify it with that waypoint, or make it \
             without --since for a genesis trust root"
                .into(),
        )),
        (TrustRoot::Waypoint { .. }, None) => Err(BundleError::Trust(
            "the bundle has no anchor header; make it with --since <the waypoint height> to \
             verify it against a waypoint"
                .into(),
        )),
        (
            TrustRoot::Waypoint {
                height,
                header_hash,
            },
            Some(anchor),
        ) => {
            let header: Header = decode("anchor header", &anchor.header)?;
            if header.height != *height || header.hash() != *header_hash {
                return Err(BundleError::Trust(format!(
                    "the anchor header (height {}, hash {}) is not the waypoint {height}:{header_hash}",
                    header.height,
                    header.hash()
                )));
            }
            let next: ValidatorSet =
                decode("anchor next validator set", &anchor.next_validator_set)?;
            if next.hash() != header.next_validator_set_hash {
                return Err(BundleError::Trust(format!(
                    "the anchor's next validator set hashes to {}, the waypoint header names {}",
                    next.hash(),
                    header.next_validator_set_hash
                )));
            }
            Ok(Sets {
                chain_id: header.chain_id,
                segments: vec![(height.saturating_add(1), next)],
            })
        }
    }
}

/// Verifies a bundle's canonical bytes, of either format, under `trust` (see the module docs
/// for the rule).
pub fn verify_bundle<R: RngCore + CryptoRng>(
    bytes: &[u8],
    trust: &TrustRoot,
    mut rng: R,
) -> Result<VerifiedBundle, BundleError> {
    // Canonical bytes only: the decoder refuses trailing and non-canonical bytes.
    // Versions other than 1 and 2 are refused by number.
    let bundle = AnyBundle::from_bytes(bytes)?;
    let view = bundle.view();
    let mut sets = trust_base(trust, view.anchor)?;
    if view.changes.len() > MAX_CHANGES {
        return Err(BundleError::TooManyChanges(view.changes.len()));
    }
    let mut last = sets.segments[0].0.saturating_sub(1);
    for (i, (signed, next_set)) in view.changes.iter().enumerate() {
        let part = format!("change {i}");
        let (header, _, _, _) = sets.verify(&part, *signed, &mut rng)?;
        if header.height <= last {
            return Err(BundleError::Order {
                part,
                height: header.height,
                after: last,
            });
        }
        let next: ValidatorSet = decode(&format!("{part} next validator set"), next_set)?;
        if header.next_validator_set_hash == header.validator_set_hash {
            return Err(BundleError::BadChange {
                part,
                detail: format!(
                    "the header at height {} does not change the validator set",
                    header.height
                ),
            });
        }
        if next.hash() != header.next_validator_set_hash {
            return Err(BundleError::BadChange {
                part,
                detail: format!(
                    "the new set hashes to {}, the header names {}",
                    next.hash(),
                    header.next_validator_set_hash
                ),
            });
        }
        last = header.height;
        sets.segments.push((header.height.saturating_add(1), next));
    }
    let (header, header_hash, signing_power, total_power) =
        sets.verify("header", view.header, &mut rng)?;
    if header.height <= last {
        return Err(BundleError::Order {
            part: "header".into(),
            height: header.height,
            after: last,
        });
    }
    let proven = match view.claim {
        ClaimRef::State {
            kind,
            id,
            key: claimed_key,
            value,
            proof,
            leaf_implied,
        } => {
            let key = state_key(kind, id).map_err(BundleError::State)?;
            if claimed_key.is_some_and(|k| k != key.as_slice()) {
                return Err(BundleError::Mismatch {
                    part: "state claim".into(),
                    detail: format!("the key is not the state key of {kind} {id}"),
                });
            }
            let claim = if value.is_some() {
                "the value"
            } else {
                "absence"
            };
            let mut proof = StateProof::from_bytes(proof)
                .map_err(|source| BundleError::StateProof { claim, source })?;
            match value {
                Some(v) => {
                    if leaf_implied {
                        if proof.leaf().is_some() {
                            return Err(BundleError::NonCanonical {
                                part: "state proof".into(),
                                detail: "a compact membership proof leaves out its leaf (the \
                                         hashes of the key and value)"
                                    .into(),
                            });
                        }
                        let leaf = ProofLeaf {
                            key_hash: state::proof::key_hash(&key),
                            value_hash: state::proof::value_hash(v),
                        };
                        proof = StateProof::new(Some(leaf), proof.siblings().to_vec())
                            .map_err(|source| BundleError::StateProof { claim, source })?;
                    }
                    state::verify_membership(&header.state_root, &key, v, &proof)
                        .map_err(|source| BundleError::StateProof { claim, source })?;
                    decode_value(kind, v).map_err(BundleError::State)?;
                    Proven::Present {
                        kind: kind.to_string(),
                        id: id.to_string(),
                        value: v.clone(),
                    }
                }
                None => {
                    state::verify_absence(&header.state_root, &key, &proof)
                        .map_err(|source| BundleError::StateProof { claim, source })?;
                    Proven::Absent {
                        kind: kind.to_string(),
                        id: id.to_string(),
                    }
                }
            }
        }
        ClaimRef::Tx { index, leaf, proof } => {
            let record: TxLogRecord = decode("log leaf", leaf)?;
            let proof = InclusionProof::new(proof.to_vec()).map_err(|source| BundleError::Log {
                what: "inclusion",
                source,
            })?;
            merkle_log::verify_inclusion(
                &merkle_log::leaf_hash(leaf),
                index,
                header.tx_log_size,
                &proof,
                &header.tx_log_root,
            )
            .map_err(|source| BundleError::Log {
                what: "inclusion",
                source,
            })?;
            Proven::Included { index, record }
        }
        ClaimRef::Consistency { old, proof } => {
            let (old_header, _, _, _) = sets.verify("earlier header", old, &mut rng)?;
            if old_header.height >= header.height {
                return Err(BundleError::Order {
                    part: "header".into(),
                    height: header.height,
                    after: old_header.height,
                });
            }
            let proof =
                ConsistencyProof::new(proof.to_vec()).map_err(|source| BundleError::Log {
                    what: "consistency",
                    source,
                })?;
            merkle_log::verify_consistency(
                old_header.tx_log_size,
                header.tx_log_size,
                &old_header.tx_log_root,
                &header.tx_log_root,
                &proof,
            )
            .map_err(|source| BundleError::Log {
                what: "consistency",
                source,
            })?;
            Proven::Consistent {
                old_height: old_header.height,
                old_size: old_header.tx_log_size,
            }
        }
    };
    let validator_set_hash = header.validator_set_hash;
    Ok(VerifiedBundle {
        proven,
        header,
        header_hash,
        signing_power,
        total_power,
        changes_followed: view.changes.len(),
        validator_set_hash,
        format_version: bundle.version(),
    })
}

/// Reads a trust root given as text: a genesis file's JSON, or a waypoint `HEIGHT:HEADER_HASH`.
/// Returns it with its JSON description (what `verify` reports as `trust`).
pub fn trust_from_text(text: &str) -> Result<(TrustRoot, serde_json::Value), String> {
    let text = text.trim();
    if text.starts_with('{') {
        let genesis = concordat_genesis::GenesisSpec::from_json(text)
            .map_err(|e| format!("not a genesis file: {e}"))?
            .validate_as_trust_root()
            .map_err(|e| format!("not a valid genesis: {e}"))?;
        let set = genesis.validator_set()?;
        let hash = genesis.hash();
        let desc = serde_json::json!({
            "kind": "genesis", "genesis_hash": hash.to_hex(), "chain_id": genesis.chain_id,
            "validator_set_hash": set.hash().to_hex(),
        });
        return Ok((
            TrustRoot::Genesis {
                chain_id: genesis.chain_id.clone(),
                genesis_hash: hash,
                validator_set: set,
            },
            desc,
        ));
    }
    let trust = TrustRoot::parse_waypoint(text)?;
    let desc = match &trust {
        TrustRoot::Waypoint {
            height,
            header_hash,
        } => {
            serde_json::json!({"kind": "waypoint", "height": height, "header_hash": header_hash.to_hex()})
        }
        TrustRoot::Genesis { .. } => serde_json::Value::Null,
    };
    Ok((trust, desc))
}

/// The bundle bytes of a bundle file: the canonical bytes as they are, or the JSON wrapping
/// `{"format":"concordat-bundle","version":2,"bundle":"<hex>"}` (the version is the bytes'
/// own, which the verifier reads from them).
pub fn bundle_bytes_of_file(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.first() != Some(&b'{') {
        return Ok(raw.to_vec());
    }
    // The strict reader the genesis file is read with (ADR 0025), not serde_json's.
    let text = std::str::from_utf8(raw)
        .map_err(|e| format!("the bundle file is not valid JSON: it is not UTF-8 ({e})"))?;
    let v = concordat_primitives::json::parse(text)
        .map_err(|e| format!("the bundle file is not valid JSON: {e}"))?;
    if v["format"] != "concordat-bundle" {
        return Err("the JSON file is not a concordat-bundle".into());
    }
    let hex_text = v["bundle"].as_str().ok_or("the JSON has no bundle field")?;
    hex::decode(hex_text).map_err(|e| format!("the bundle field is not hex: {e}"))
}

/// The report of a verified bundle: what was proven, about what, at which height, signed by
/// how much power, under which trust root. `trust` is the description from
/// [`trust_from_text`].
pub fn report(v: &VerifiedBundle, trust: &serde_json::Value) -> Result<serde_json::Value, String> {
    use serde_json::json;
    let (proven, subject, value, what) = match &v.proven {
        Proven::Present { kind, id, value } => {
            let decoded = decode_value(kind, value).map_err(|e| e.to_string())?;
            // A record with a status says it: a revoked licence reads as revoked, never valid.
            let mut status = match (decoded["status"].as_str(), decoded["status_code"].as_str()) {
                (Some(s), Some(code)) => format!(" with status {s} ({code})"),
                (Some(s), None) => format!(" with status {s}"),
                _ => String::new(),
            };
            // A record past its validity still reads as in force until someone marks it
            // expired: say so rather than let the status stand alone.
            let ended = concordat_contracts::kinds::get(kind)
                .and_then(|spec| spec.validity_ended(&decoded, v.header.time_ms));
            if let Some(end) = ended {
                status.push_str(&format!(
                    ", but its validity ended on {end} (not yet marked expired)"
                ));
            }
            (
                "present",
                json!({"kind": kind, "id": id}),
                decoded,
                format!("{kind} {id} is PRESENT{status}"),
            )
        }
        Proven::Absent { kind, id } => (
            "absent",
            json!({"kind": kind, "id": id}),
            serde_json::Value::Null,
            format!("{kind} {id} is ABSENT"),
        ),
        Proven::Included { index, record } => (
            "included",
            json!({"kind": "tx", "log_index": index, "tx_hash": record.tx_hash.to_hex()}),
            json!({"tx_hash": record.tx_hash.to_hex(), "code": record.code.as_str(), "height": record.height}),
            format!(
                "transaction {} is INCLUDED at log index {index} with result {}",
                record.tx_hash,
                record.code.as_str()
            ),
        ),
        Proven::Consistent {
            old_height,
            old_size,
        } => (
            "consistent",
            json!({"kind": "consistency", "old_height": old_height, "old_size": old_size}),
            json!({"old_size": old_size, "new_size": v.header.tx_log_size}),
            format!(
                "the transaction log at height {} EXTENDS the log at height {old_height}",
                v.header.height
            ),
        ),
    };
    let root = match trust["kind"].as_str() {
        Some("genesis") => format!("genesis {}", trust["genesis_hash"].as_str().unwrap_or("?")),
        _ => format!(
            "waypoint {}:{}",
            trust["height"].as_u64().unwrap_or(0),
            trust["header_hash"].as_str().unwrap_or("?")
        ),
    };
    let summary = format!(
        "{what} at height {} (header {}, chain {}), signed by {} of {} voting power, under trust root {root} after {} validator-set changes",
        v.header.height,
        v.header_hash,
        v.header.chain_id,
        v.signing_power,
        v.total_power,
        v.changes_followed
    );
    let history = status_history(&v.proven, &value);
    Ok(json!({
        "valid": true, "proven": proven, "subject": subject, "value": value, "summary": summary,
        "status_history": history,
        "height": v.header.height, "header_hash": v.header_hash.to_hex(),
        "chain_id": v.header.chain_id, "state_root": v.header.state_root.to_hex(),
        "time_ms": v.header.time_ms, "validator_set_hash": v.validator_set_hash.to_hex(),
        "signing_power": v.signing_power, "total_power": v.total_power,
        "validator_set_changes_followed": v.changes_followed, "trust": trust,
        "bundle_format_version": v.format_version,
    }))
}

/// The header's date in China Standard Time, `YYYY-MM-DD`.
pub fn header_day(header: &Header) -> String {
    concordat_contracts::time::Date::of_ms(header.time_ms).to_string()
}

/// The proven record's status changes, oldest first, with their times in China Standard Time
/// (`[{at, at_ms, status, by, basis}]`): what "status at time T" is read from, the same for
/// every kind that keeps a history. `null` for a kind without one, or a record stored before
/// its kind kept one.
fn status_history(proven: &Proven, value: &serde_json::Value) -> serde_json::Value {
    let Proven::Present { kind, .. } = proven else {
        return serde_json::Value::Null;
    };
    let field = concordat_contracts::kinds::get(kind).and_then(|s| s.history);
    let Some(entries) = field.and_then(|f| value[f].as_array()) else {
        return serde_json::Value::Null;
    };
    entries
        .iter()
        .map(|e| {
            let at = e["at_ms"]
                .as_u64()
                .map(|ms| concordat_primitives::time::format_rfc3339_ms(ms, 8 * 60));
            serde_json::json!({"at": at, "at_ms": e["at_ms"], "status": e["status"],
                "by": e["by"], "basis": e["basis"]})
        })
        .collect()
}

/// One call from bytes to a JSON verdict: `{"valid":true,...}` ([`report`]) or
/// `{"valid":false,"error":...}`. The bundle may be JSON-wrapped; the trust root is text as
/// [`trust_from_text`] reads it. Used by the CLI and the browser verifier alike.
pub fn verify_to_json<R: RngCore + CryptoRng>(
    bundle_file: &[u8],
    trust_text: &str,
    rng: R,
) -> serde_json::Value {
    let verdict = (|| {
        let bytes = bundle_bytes_of_file(bundle_file)?;
        let (root, desc) = trust_from_text(trust_text)?;
        let v = verify_bundle(&bytes, &root, rng).map_err(|e| e.to_string())?;
        report(&v, &desc)
    })();
    verdict.unwrap_or_else(|e| serde_json::json!({"valid": false, "error": e}))
}
