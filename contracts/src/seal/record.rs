//! The seal and seal-signature records, their statuses and their storage (the kinds registered
//! for queries).

use concordat_primitives::{Hash, PublicKey, Signature};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::context::BlockContext;
use crate::error::ExecError;
use crate::ids::Uscc;
use crate::kinds::{Id, KindSpec};
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::state::{keys, Overlay};

/// Longest seal id (esID).
pub const MAX_ES_ID_BYTES: usize = 64;
/// Most signer keys per seal.
pub const MAX_SIGNER_KEYS: usize = 16;
/// Most status changes kept per seal; a seal at the limit can still be revoked or expire.
pub const MAX_SEAL_HISTORY: usize = record::MAX_HISTORY;
/// Longest property info text.
pub const MAX_PROPERTY_INFO_BYTES: usize = 500;
/// How far a signature or time stamp may be dated after the block time.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;
/// The SM2 distinguishing identifier (the GB/T 35276 default user id).
pub const SM2_DIST_ID: &str = "1234567812345678";
/// Most seals indexed per owner.
pub const MAX_SEALS_PER_OWNER: usize = 1024;

/// Bytes that JSON shows as lowercase hex.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct HexBytes(pub Vec<u8>);

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(&self.0))
        } else {
            // A newtype named `HexBytes` (BCS: the bytes alone) for the record schema.
            s.serialize_newtype_struct("HexBytes", &RawBytes(&self.0))
        }
    }
}

/// Bytes serialized as bytes (not as a sequence of numbers).
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            hex::decode(&s)
                .map(HexBytes)
                .map_err(serde::de::Error::custom)
        } else {
            crate::time::newtype::<Vec<u8>, D>("HexBytes", d).map(HexBytes)
        }
    }
}

/// Signature algorithm of a seal's signer keys.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SealAlgorithm {
    /// Ed25519 (32-byte keys, 64-byte signatures).
    Ed25519,
    /// SM2 with SM3 (OID 1.2.156.10197.1.501): SEC1 keys (33 or 65 bytes), 64-byte r||s.
    Sm2Sm3,
}

/// A key allowed to sign with a seal (the certificate list of SES_ESPropertyInfo).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignerKey {
    /// Algorithm.
    pub algorithm: SealAlgorithm,
    /// Public key bytes.
    pub public_key: HexBytes,
    /// First valid instant (ms).
    pub valid_from_ms: u64,
    /// Last valid instant (ms).
    pub valid_until_ms: u64,
}

/// Seal status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SealStatus {
    /// Usable.
    Active,
    /// 挂失: reported lost.
    Suspended,
    /// 注销/收缴 (terminal).
    Revoked,
    /// Past its validity (terminal).
    Expired,
}

/// One status change of a seal (the uniform [`Change`]; its bytes are the ones seals always
/// had).
pub type SealEvent = Change<SealStatus>;

/// An electronic seal.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// esID.
    pub es_id: String,
    /// Owner.
    pub owner: Uscc,
    /// Seal type code (01 official, 02 finance, 03 invoice, 04 contract, 05 legal-rep name...).
    pub seal_type: String,
    /// Name on the seal.
    pub name: String,
    /// The seal maker (the registry department).
    pub maker: Uscc,
    /// Keys allowed to sign with it.
    pub signer_keys: Vec<SignerKey>,
    /// Validity start (ms).
    pub valid_start_ms: u64,
    /// Validity end (ms).
    pub valid_end_ms: u64,
    /// Hash of the SESeal structure.
    pub seseal_hash: Hash,
    /// Hash of the seal picture.
    pub picture_hash: Hash,
    /// Status.
    pub status: SealStatus,
    /// Every status change, oldest first (registration included).
    pub history: Vec<SealEvent>,
}

impl Seal {
    /// The status at `t_ms`, or `None` before the seal was registered on the ledger.
    pub fn status_at(&self, t_ms: u64) -> Option<SealStatus> {
        record::status_at(&self.history, t_ms)
    }
}

/// A registered time-stamping authority.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Tsa {
    /// Id.
    pub tsa_id: String,
    /// Its Ed25519 key.
    pub key: PublicKey,
    /// Name.
    pub name: String,
}

/// A time-stamp token: the TSA's signature over the seal signature's hash and a time.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TsaToken {
    /// The TSA.
    pub tsa_id: String,
    /// The stamped time (ms).
    pub time_ms: u64,
    /// Signature over [`tsa_message`].
    pub signature: Signature,
}

/// Document container.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocType {
    /// GB/T 33190 OFD.
    Ofd,
    /// PDF.
    Pdf,
}

/// What the signed document is for.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignaturePurpose {
    /// Tax filing.
    TaxFiling,
    /// Social-security filing.
    SocialSecurity,
    /// Housing-fund filing.
    HousingFund,
    /// Licence issue.
    LicenceIssue,
    /// Contract.
    Contract,
    /// Authorisation (commitments, data-sharing consent...).
    Authorisation,
}

/// The verification result.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignatureResult {
    /// Every step passed.
    Valid,
    /// A step failed.
    Invalid,
    /// A step could not be decided.
    Indeterminate,
}

/// The verification step that failed or could not be decided.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationStep {
    /// 1: format.
    Format,
    /// 2: the signature value.
    Signature,
    /// 3: the signer key is in the seal.
    SignerInSeal,
    /// 4a: the seal's validity window.
    SealValidity,
    /// 4b: the seal's status at the signing time.
    SealStatus,
    /// 5: the signer key's validity.
    SignerKeyValidity,
    /// 7: the time stamp.
    Timestamp,
}

/// Where the signing time came from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeSource {
    /// A registered TSA's token.
    Tsa,
    /// The signature's own `timeInfo` (policy allows it).
    TimeInfo,
    /// None could be used.
    None,
}

/// The ledger's judgement of a signature.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignatureVerification {
    /// Result.
    pub result: SignatureResult,
    /// The step that failed, if any.
    pub failed_step: Option<VerificationStep>,
    /// Why, for people.
    pub detail: String,
    /// The signing time used (ms), if one was established.
    pub judged_at_ms: Option<u64>,
    /// Where it came from.
    pub time_source: TimeSource,
    /// Block time of the judgement (ms).
    pub verified_at_ms: u64,
    /// Who recorded it.
    pub verifier: Uscc,
    /// Policy version used.
    pub policy_version: u64,
}

/// A recorded seal signature.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SealSignature {
    /// Id.
    pub sig_id: String,
    /// The seal.
    pub es_id: String,
    /// The signing key.
    pub signer_key: HexBytes,
    /// Hash of the signed document (SM3 or SHA-256).
    pub doc_hash: Hash,
    /// Container.
    pub doc_type: DocType,
    /// Purpose.
    pub purpose: SignaturePurpose,
    /// Protected range and other document properties.
    pub property_info: String,
    /// The signer's claimed signing time (ms).
    pub time_info_ms: u64,
    /// Time stamp, if any.
    pub tsa: Option<TsaToken>,
    /// The signature value.
    pub signature: HexBytes,
    /// SHA-256 of the signature value.
    pub ses_signature_hash: Hash,
    /// The ledger's judgement.
    pub verification: SignatureVerification,
}

/// Loads a seal or fails with `NotFound`.
pub fn load(state: &Overlay<'_>, es_id: &str) -> Result<Seal, ExecError> {
    SEALS.load(state, es_id)
}

/// The seals, by esID.
pub const SEALS: Table<Seal> = Table::new("seal", "es_id", MAX_ES_ID_BYTES, keys::seal);
/// The esIDs of each owner.
pub const BY_OWNER: OwnerIndex = OwnerIndex {
    what: "seals",
    cap: MAX_SEALS_PER_OWNER,
    key: keys::seals_of,
};

stateful!(
    Seal,
    SealStatus,
    "seal",
    es_id,
    [
        (Active, Suspended),
        (Suspended, Active),
        (Active, Revoked),
        (Active, Expired),
        (Suspended, Revoked),
        (Suspended, Expired),
    ]
);

/// Moves a seal to `to` if the state machine allows it, and stores it.
pub fn set_status(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    mut seal: Seal,
    to: SealStatus,
    basis: &str,
) -> Result<(), ExecError> {
    record::transition(&mut seal, to, ctx, by, basis)?;
    state.put(keys::seal(&seal.es_id), &seal);
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "seal",
        "electronic seal",
        "an esID",
        "ES-E1-01",
        Id::Record(keys::seal),
        crate::kinds::Decoder::of::<Seal>(),
    )
    .stateful::<Seal>()
    .with_validity("/valid_end_ms", &["ACTIVE", "SUSPENDED"]),
    KindSpec::new(
        "seal_signature",
        "recorded seal signature",
        "a signature id",
        "SIG-TAX-1",
        Id::Record(keys::seal_signature),
        crate::kinds::Decoder::of::<SealSignature>(),
    ),
    KindSpec::new(
        "tsa",
        "time-stamping authority",
        "a TSA id",
        "TSA-BJ-1",
        Id::Record(keys::tsa),
        crate::kinds::Decoder::of::<Tsa>(),
    ),
    KindSpec::new(
        "party_seals",
        "a party's seals",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::seals_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
];
