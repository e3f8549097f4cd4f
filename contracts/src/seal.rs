//! Electronic seals and seal signatures (record kind I, GB/T 38540) and rule R9: a signature is
//! judged as of its signing time.
//!
//! # Seal state machine
//! | From | To | Call | Who |
//! |---|---|---|---|
//! | — | ACTIVE | `Register` | SEAL_REGISTRY (owner EXISTING, R2) |
//! | ACTIVE | SUSPENDED (挂失) | `Suspend` | SEAL_REGISTRY, or the owner (ENTERPRISE) |
//! | SUSPENDED | ACTIVE | `Reactivate` | SEAL_REGISTRY |
//! | ACTIVE, SUSPENDED | REVOKED | `Revoke` | SEAL_REGISTRY; also the R2 cascade |
//! | ACTIVE, SUSPENDED | EXPIRED | `Expire` | anyone, once the block time is past `valid_end_ms` |
//!
//! Every change is appended to `history` (block time, status), which is what R9 reads.
//!
//! # Signatures (R9)
//! `RecordSignature` stores a signature with the ledger's judgement of it, made when it is
//! recorded (the recording block time bounds the signing time, as a time stamp would). The
//! steps follow GB/T 38540's verification sequence, mapped onto ledger records:
//! 1. FORMAT: the seal exists; key and signature parse for the seal's algorithm; not dated
//!    after the block time (plus [`MAX_CLOCK_SKEW_MS`]).
//! 2. SIGNATURE: Ed25519 (the one rule) or SM2 with SM3 (distinguishing id
//!    [`SM2_DIST_ID`]) over [`signature_message`].
//! 3. SIGNER_IN_SEAL: the key is one of the seal's signer keys.
//! 7. TIMESTAMP: a TSA token, if present, is by a registered TSA and verifies; its time is the
//!    signing time. Without one, `time_info_ms` stands in when the policy allows it, otherwise
//!    the result is INDETERMINATE.
//! 4. SEAL_VALIDITY / SEAL_STATUS: the signing time is within the seal's validity and the seal
//!    was ACTIVE then (INVALID otherwise). With no TSA time, a seal that stopped being ACTIVE
//!    between the claimed time and the recording gives INDETERMINATE: the claim cannot be
//!    trusted.
//! 5. SIGNER_KEY_VALIDITY: the signing time is within the signer key's validity.
//! 6. DOCUMENT_HASH: the ledger never holds the document; whoever holds it compares its hash
//!    with `doc_hash`. The verification record says so.
//!
//! A judgement is never revised: a seal suspended later leaves earlier VALID signatures VALID.

use concordat_primitives::{encoding, namespace, Hash, PublicKey, Signature};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{json_of, Id, KindSpec};
use crate::party;
use crate::policy;
use crate::record::{OwnerIndex, Table};
use crate::roles::Role;
use crate::state::{keys, require, Overlay};

/// Longest seal id (esID).
pub const MAX_ES_ID_BYTES: usize = 64;
/// Most signer keys per seal.
pub const MAX_SIGNER_KEYS: usize = 16;
/// Most status changes kept per seal; a seal at the limit can still be revoked or expire.
pub const MAX_SEAL_HISTORY: usize = 256;
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
            s.serialize_bytes(&self.0)
        }
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
            Vec::<u8>::deserialize(d).map(HexBytes)
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

/// One status change.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SealEvent {
    /// Block time (ms).
    pub at_ms: u64,
    /// The new status.
    pub status: SealStatus,
    /// Who.
    pub by: Uscc,
    /// Basis.
    pub basis: String,
}

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
        self.history
            .iter()
            .take_while(|e| e.at_ms <= t_ms)
            .last()
            .map(|e| e.status)
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

/// What a seal key signs (the analogue of TBS_Sign).
#[derive(Serialize)]
struct Tbs<'a> {
    es_id: &'a str,
    doc_hash: &'a Hash,
    doc_type: DocType,
    purpose: SignaturePurpose,
    property_info: &'a str,
    time_info_ms: u64,
}

/// The exact bytes a seal key signs.
pub fn signature_message(
    chain_id: &str,
    es_id: &str,
    doc_hash: &Hash,
    doc_type: DocType,
    purpose: SignaturePurpose,
    property_info: &str,
    time_info_ms: u64,
) -> Vec<u8> {
    let tbs = Tbs {
        es_id,
        doc_hash,
        doc_type,
        purpose,
        property_info,
        time_info_ms,
    };
    namespace::signing_bytes(
        namespace::SEAL_SIGNATURE,
        chain_id,
        &encoding::to_bytes(&tbs),
    )
}

/// The exact bytes a TSA signs for a signature value.
pub fn tsa_message(chain_id: &str, signature: &[u8], time_ms: u64) -> Vec<u8> {
    let payload = encoding::to_bytes(&(Hash::digest(signature), time_ms));
    namespace::signing_bytes(namespace::TIMESTAMP, chain_id, &payload)
}

/// Verifies `sig` over `msg` with a seal key.
pub fn verify_seal_key(
    algorithm: SealAlgorithm,
    key: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    match algorithm {
        SealAlgorithm::Ed25519 => {
            let key: [u8; 32] = key
                .try_into()
                .map_err(|_| format!("an Ed25519 key has 32 bytes, not {}", key.len()))?;
            let sig: [u8; 64] = sig
                .try_into()
                .map_err(|_| format!("an Ed25519 signature has 64 bytes, not {}", sig.len()))?;
            let key = PublicKey::from_bytes(key).map_err(|e| e.to_string())?;
            key.verify(msg, &Signature(sig))
                .map_err(|_| "the Ed25519 signature does not verify".to_string())
        }
        SealAlgorithm::Sm2Sm3 => {
            use sm2::dsa::signature::Verifier;
            let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DIST_ID, key)
                .map_err(|_| "not an SM2 public key (SEC1 encoding)".to_string())?;
            let sig = sm2::dsa::Signature::from_slice(sig)
                .map_err(|_| "not an SM2 signature (64 bytes r||s)".to_string())?;
            vk.verify(msg, &sig)
                .map_err(|_| "the SM2-with-SM3 signature does not verify".to_string())
        }
    }
}

/// Checks a key's encoding for its algorithm.
pub fn check_key(k: &SignerKey) -> Result<(), String> {
    match k.algorithm {
        SealAlgorithm::Ed25519 => {
            let b: [u8; 32] = k.public_key.0.as_slice().try_into().map_err(|_| {
                format!("an Ed25519 key has 32 bytes, not {}", k.public_key.0.len())
            })?;
            PublicKey::from_bytes(b)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        SealAlgorithm::Sm2Sm3 => {
            sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DIST_ID, &k.public_key.0)
                .map(|_| ())
                .map_err(|_| "not an SM2 public key (SEC1 encoding)".to_string())
        }
    }?;
    if k.valid_until_ms < k.valid_from_ms {
        return Err("a signer key's validity ends before it starts".into());
    }
    Ok(())
}

/// Seal calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum SealCall {
    /// Register a seal (SEAL_REGISTRY).
    Register {
        /// esID.
        es_id: String,
        /// Owner USCC.
        owner: String,
        /// Seal type code.
        seal_type: String,
        /// Name on the seal.
        name: String,
        /// Signer keys.
        signer_keys: Vec<SignerKey>,
        /// Validity start (ms).
        valid_start_ms: u64,
        /// Validity end (ms).
        valid_end_ms: u64,
        /// Hash of the SESeal structure.
        seseal_hash: Hash,
        /// Hash of the picture.
        picture_hash: Hash,
    },
    /// 挂失: report lost (SEAL_REGISTRY or the owner).
    Suspend {
        /// esID.
        es_id: String,
        /// Basis.
        basis: String,
    },
    /// Found and re-verified (SEAL_REGISTRY).
    Reactivate {
        /// esID.
        es_id: String,
        /// Basis.
        basis: String,
    },
    /// 注销/收缴 (SEAL_REGISTRY).
    Revoke {
        /// esID.
        es_id: String,
        /// Basis.
        basis: String,
    },
    /// Mark expired once past `valid_end_ms` (anyone).
    Expire {
        /// esID.
        es_id: String,
    },
    /// Register a time-stamping authority (SEAL_REGISTRY).
    RegisterTsa {
        /// Id.
        tsa_id: String,
        /// Its Ed25519 key.
        key: PublicKey,
        /// Name.
        name: String,
    },
    /// Record a seal signature and the ledger's judgement of it (any role).
    RecordSignature {
        /// New id.
        sig_id: String,
        /// esID.
        es_id: String,
        /// Which of the seal's keys signed.
        signer_key: HexBytes,
        /// Document hash.
        doc_hash: Hash,
        /// Container.
        doc_type: DocType,
        /// Purpose.
        purpose: SignaturePurpose,
        /// Document properties (protected range).
        property_info: String,
        /// Claimed signing time (ms).
        time_info_ms: u64,
        /// Time stamp.
        tsa: Option<TsaToken>,
        /// Signature value.
        signature: HexBytes,
    },
}

impl SealCall {
    /// The roles that may make this call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            SealCall::Register { .. }
            | SealCall::Reactivate { .. }
            | SealCall::Revoke { .. }
            | SealCall::RegisterTsa { .. } => &[Role::SealRegistry],
            SealCall::Suspend { .. } => &[Role::SealRegistry, Role::Enterprise],
            SealCall::Expire { .. } | SealCall::RecordSignature { .. } => &Role::ALL,
        }
    }

    /// The checks that need no state (identifiers, codes, text and key limits): run at
    /// admission, by the executor before the call, and by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let es = |v: &str| validate_id("es_id", v, MAX_ES_ID_BYTES);
        let basis_text = |b: &str| validate_text("basis", b, MAX_REF_BYTES);
        match self {
            SealCall::Register {
                es_id,
                owner,
                seal_type,
                name,
                signer_keys,
                valid_start_ms,
                valid_end_ms,
                ..
            } => {
                es(es_id)?;
                validate_code("seal_type", seal_type)?;
                validate_text("name", name, MAX_REF_BYTES)?;
                Uscc::parse(owner)
                    .map_err(|e| ExecError::new(ResultCode::BadIdentifier, e.to_string()))?;
                if signer_keys.is_empty() || signer_keys.len() > MAX_SIGNER_KEYS {
                    return Err(invalid(format!(
                        "a seal has 1..={MAX_SIGNER_KEYS} signer keys"
                    )));
                }
                for k in signer_keys {
                    check_key(k).map_err(invalid)?;
                }
                if valid_end_ms <= valid_start_ms {
                    return Err(invalid("the seal's validity must end after it starts"));
                }
                Ok(())
            }
            SealCall::Suspend { es_id, basis }
            | SealCall::Reactivate { es_id, basis }
            | SealCall::Revoke { es_id, basis } => {
                es(es_id)?;
                basis_text(basis)
            }
            SealCall::Expire { es_id } => es(es_id),
            SealCall::RegisterTsa { tsa_id, name, .. } => {
                validate_id("tsa_id", tsa_id, MAX_ES_ID_BYTES)?;
                validate_text("name", name, MAX_REF_BYTES)
            }
            SealCall::RecordSignature {
                sig_id,
                es_id,
                signer_key,
                property_info,
                signature,
                ..
            } => {
                validate_id("sig_id", sig_id, MAX_ES_ID_BYTES)?;
                es(es_id)?;
                validate_text("property_info", property_info, MAX_PROPERTY_INFO_BYTES)?;
                if signer_key.0.len() > 65 || signature.0.len() > 64 {
                    return Err(invalid(
                        "signer_key is at most 65 bytes and signature at most 64",
                    ));
                }
                Ok(())
            }
        }
    }
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

/// Moves a seal to `to` if the state machine allows it.
pub fn set_status(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    mut seal: Seal,
    to: SealStatus,
    basis: &str,
) -> Result<(), ExecError> {
    use SealStatus::*;
    let ok = matches!(
        (seal.status, to),
        (Active, Suspended) | (Suspended, Active) | (Active | Suspended, Revoked | Expired)
    );
    if !ok {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "seal {} is {:?}; it cannot become {to:?}",
                seal.es_id, seal.status
            ),
        ));
    }
    let terminal = matches!(to, Revoked | Expired);
    if seal.history.len() >= MAX_SEAL_HISTORY - 1 && !terminal {
        return Err(invalid(format!(
            "seal {} has {MAX_SEAL_HISTORY} status changes; only revocation or expiry remain",
            seal.es_id
        )));
    }
    seal.status = to;
    seal.history.push(SealEvent {
        at_ms: ctx.time_ms,
        status: to,
        by: by.clone(),
        basis: basis.to_string(),
    });
    state.put(keys::seal(&seal.es_id), &seal);
    Ok(())
}

/// R2 cascade: every live seal of `owner` becomes REVOKED.
pub fn cascade_owner(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    owner: &Uscc,
    basis: &str,
) -> Result<(), ExecError> {
    for id in BY_OWNER.ids(state, owner) {
        let seal = load(state, &id)?;
        if matches!(seal.status, SealStatus::Active | SealStatus::Suspended) {
            set_status(
                state,
                ctx,
                by,
                seal,
                SealStatus::Revoked,
                &format!("R2: owner {basis}"),
            )?;
        }
    }
    Ok(())
}

/// A recorded signature that is VALID and made with a seal of `owner` (and for `purpose`, when
/// given), with its seal; otherwise a refusal naming what is wrong.
pub fn require_valid_signature_by(
    state: &Overlay<'_>,
    sig_id: &str,
    owner: &Uscc,
    purpose: Option<SignaturePurpose>,
) -> Result<(SealSignature, Seal), ExecError> {
    validate_id("seal_signature_id", sig_id, MAX_ES_ID_BYTES)?;
    let sig: SealSignature = require(state, &keys::seal_signature(sig_id), || {
        format!("seal signature {sig_id} does not exist")
    })?;
    let seal = load(state, &sig.es_id)?;
    let refuse = |m: String| Err(ExecError::new(ResultCode::InvalidArgument, m));
    if sig.verification.result != SignatureResult::Valid {
        return refuse(format!(
            "seal signature {sig_id} is {:?} ({})",
            sig.verification.result, sig.verification.detail
        ));
    }
    if &seal.owner != owner {
        return refuse(format!(
            "seal signature {sig_id} is by a seal of {}, not of {owner}",
            seal.owner
        ));
    }
    if let Some(p) = purpose {
        if sig.purpose != p {
            return refuse(format!(
                "seal signature {sig_id} is for {:?}, not {p:?}",
                sig.purpose
            ));
        }
    }
    Ok((sig, seal))
}

struct Judgement {
    result: SignatureResult,
    failed_step: Option<VerificationStep>,
    detail: String,
    judged_at_ms: Option<u64>,
    time_source: TimeSource,
}

fn fail(step: VerificationStep, result: SignatureResult, detail: String) -> Judgement {
    Judgement {
        result,
        failed_step: Some(step),
        detail,
        judged_at_ms: None,
        time_source: TimeSource::None,
    }
}

/// The R9 judgement of a signature at block time `now_ms`.
#[allow(clippy::too_many_arguments)]
fn judge(
    state: &Overlay<'_>,
    chain_id: &str,
    now_ms: u64,
    seal: &Seal,
    signer_key: &[u8],
    msg: &[u8],
    signature: &[u8],
    time_info_ms: u64,
    tsa: &Option<TsaToken>,
    allow_time_info: bool,
) -> Judgement {
    use SignatureResult::{Indeterminate, Invalid};
    use VerificationStep::*;
    let latest = now_ms.saturating_add(MAX_CLOCK_SKEW_MS);
    if time_info_ms > latest {
        return fail(
            Format,
            Invalid,
            format!("timeInfo {time_info_ms} is after the block time {now_ms}"),
        );
    }
    // 3 before 2: the algorithm comes with the seal's key.
    let Some(key) = seal
        .signer_keys
        .iter()
        .find(|k| k.public_key.0 == signer_key)
    else {
        return fail(
            SignerInSeal,
            Invalid,
            format!("the key is not a signer key of seal {}", seal.es_id),
        );
    };
    if let Err(e) = verify_seal_key(key.algorithm, signer_key, msg, signature) {
        return fail(Signature, Invalid, e);
    }
    let (t, source) = match tsa {
        Some(token) => {
            let Some(tsa_rec) = state.get::<Tsa>(&keys::tsa(&token.tsa_id)) else {
                return fail(
                    Timestamp,
                    Invalid,
                    format!("TSA {} is not registered", token.tsa_id),
                );
            };
            let m = tsa_message(chain_id, signature, token.time_ms);
            if tsa_rec.key.verify(&m, &token.signature).is_err() {
                return fail(
                    Timestamp,
                    Invalid,
                    "the time-stamp token does not verify".into(),
                );
            }
            if token.time_ms > latest {
                return fail(
                    Timestamp,
                    Invalid,
                    "the time stamp is after the block time".into(),
                );
            }
            (token.time_ms, TimeSource::Tsa)
        }
        None if allow_time_info => (time_info_ms, TimeSource::TimeInfo),
        None => {
            return fail(
                Timestamp,
                Indeterminate,
                "no time stamp, and the policy does not accept timeInfo as the signing time".into(),
            )
        }
    };
    let judged = |mut j: Judgement| {
        j.judged_at_ms = Some(t);
        j.time_source = source;
        j
    };
    if t < seal.valid_start_ms || t > seal.valid_end_ms {
        return judged(fail(
            SealValidity,
            Invalid,
            format!("the signing time {t} is outside the seal's validity"),
        ));
    }
    match seal.status_at(t) {
        None => {
            return judged(fail(
                SealStatus,
                Indeterminate,
                format!("the seal was not yet registered on the ledger at the signing time {t}"),
            ))
        }
        Some(crate::seal::SealStatus::Active) => {}
        Some(s) => {
            return judged(fail(
                SealStatus,
                Invalid,
                format!("the seal was {s:?} at the signing time {t}"),
            ))
        }
    }
    if source == TimeSource::TimeInfo {
        if let Some(e) = seal
            .history
            .iter()
            .find(|e| e.at_ms > t && e.status != crate::seal::SealStatus::Active)
        {
            return judged(fail(SealStatus, Indeterminate, format!("signed by its own timeInfo before the seal became {:?} at {}, with no time stamp, and recorded after", e.status, e.at_ms)));
        }
    }
    if t < key.valid_from_ms || t > key.valid_until_ms {
        return judged(fail(
            SignerKeyValidity,
            Invalid,
            format!("the signing time {t} is outside the signer key's validity"),
        ));
    }
    judged(Judgement {
        result: SignatureResult::Valid,
        failed_step: None,
        detail: "steps 1-5 and 7 passed; step 6 (document hash) is checked by the document holder against doc_hash".into(),
        judged_at_ms: None,
        time_source: TimeSource::None,
    })
}

/// Executes a seal call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &SealCall,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
    let basis_text = |b: &str| validate_text("basis", b, MAX_REF_BYTES);
    match call {
        SealCall::Register {
            es_id,
            owner,
            seal_type,
            name,
            signer_keys,
            valid_start_ms,
            valid_end_ms,
            seseal_hash,
            picture_hash,
        } => {
            // The form was checked by `precheck`; what needs the state or the time is here.
            let owner = Uscc::parse(owner)
                .map_err(|e| ExecError::new(ResultCode::BadIdentifier, e.to_string()))?;
            party::require_existing(state, &owner)?;
            if *valid_end_ms <= ctx.time_ms {
                return Err(invalid("the seal's validity must end after the block time"));
            }
            if state.get_raw(&keys::seal(es_id)).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("seal {es_id} already exists"),
                ));
            }
            BY_OWNER.add(state, &owner, es_id)?;
            let seal = Seal {
                es_id: es_id.clone(),
                owner,
                seal_type: seal_type.clone(),
                name: name.clone(),
                maker: by.clone(),
                signer_keys: signer_keys.clone(),
                valid_start_ms: *valid_start_ms,
                valid_end_ms: *valid_end_ms,
                seseal_hash: *seseal_hash,
                picture_hash: *picture_hash,
                status: SealStatus::Active,
                history: vec![SealEvent {
                    at_ms: ctx.time_ms,
                    status: SealStatus::Active,
                    by,
                    basis: "registered".into(),
                }],
            };
            state.put(keys::seal(es_id), &seal);
            Ok(())
        }
        SealCall::Suspend { es_id, basis } => {
            basis_text(basis)?;
            let seal = load(state, es_id)?;
            if !actor.has_role(Role::SealRegistry) && seal.owner != by {
                return Err(ExecError::new(
                    ResultCode::Unauthorised,
                    format!("seal {es_id} belongs to {}; only it or the seal registry may report it lost", seal.owner),
                ));
            }
            set_status(state, ctx, &by, seal, SealStatus::Suspended, basis)
        }
        SealCall::Reactivate { es_id, basis } => {
            basis_text(basis)?;
            let seal = load(state, es_id)?;
            if seal.status != SealStatus::Suspended {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "seal {es_id} is {:?}; only a SUSPENDED seal is reactivated",
                        seal.status
                    ),
                ));
            }
            set_status(state, ctx, &by, seal, SealStatus::Active, basis)
        }
        SealCall::Revoke { es_id, basis } => {
            basis_text(basis)?;
            let seal = load(state, es_id)?;
            set_status(state, ctx, &by, seal, SealStatus::Revoked, basis)
        }
        SealCall::Expire { es_id } => {
            let seal = load(state, es_id)?;
            if ctx.time_ms <= seal.valid_end_ms {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "seal {es_id} is valid until {} ms; the block time is {}",
                        seal.valid_end_ms, ctx.time_ms
                    ),
                ));
            }
            set_status(state, ctx, &by, seal, SealStatus::Expired, "validity ended")
        }
        SealCall::RegisterTsa { tsa_id, key, name } => {
            if state.get_raw(&keys::tsa(tsa_id)).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("TSA {tsa_id} already exists"),
                ));
            }
            state.put(
                keys::tsa(tsa_id),
                &Tsa {
                    tsa_id: tsa_id.clone(),
                    key: *key,
                    name: name.clone(),
                },
            );
            Ok(())
        }
        SealCall::RecordSignature {
            sig_id,
            es_id,
            signer_key,
            doc_hash,
            doc_type,
            purpose,
            property_info,
            time_info_ms,
            tsa,
            signature,
        } => {
            if state.get_raw(&keys::seal_signature(sig_id)).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("seal signature {sig_id} already exists"),
                ));
            }
            let seal = load(state, es_id)?;
            let pol = policy::current(state);
            let msg = signature_message(
                &ctx.chain_id,
                es_id,
                doc_hash,
                *doc_type,
                *purpose,
                property_info,
                *time_info_ms,
            );
            let j = judge(
                state,
                &ctx.chain_id,
                ctx.time_ms,
                &seal,
                &signer_key.0,
                &msg,
                &signature.0,
                *time_info_ms,
                tsa,
                pol.params.allow_time_info_without_tsa,
            );
            let rec = SealSignature {
                sig_id: sig_id.clone(),
                es_id: es_id.clone(),
                signer_key: signer_key.clone(),
                doc_hash: *doc_hash,
                doc_type: *doc_type,
                purpose: *purpose,
                property_info: property_info.clone(),
                time_info_ms: *time_info_ms,
                tsa: tsa.clone(),
                signature: signature.clone(),
                ses_signature_hash: Hash::digest(&signature.0),
                verification: SignatureVerification {
                    result: j.result,
                    failed_step: j.failed_step,
                    detail: j.detail,
                    judged_at_ms: j.judged_at_ms,
                    time_source: j.time_source,
                    verified_at_ms: ctx.time_ms,
                    verifier: by,
                    policy_version: pol.version,
                },
            };
            state.put(keys::seal_signature(sig_id), &rec);
            Ok(())
        }
    }
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "seal",
        "electronic seal",
        "an esID",
        "ES-E1-01",
        Id::Record(keys::seal),
        json_of::<Seal>,
    )
    .with_status("status")
    .with_history("history"),
    KindSpec::new(
        "seal_signature",
        "recorded seal signature",
        "a signature id",
        "SIG-TAX-1",
        Id::Record(keys::seal_signature),
        json_of::<SealSignature>,
    ),
    KindSpec::new(
        "tsa",
        "time-stamping authority",
        "a TSA id",
        "TSA-BJ-1",
        Id::Record(keys::tsa),
        json_of::<Tsa>,
    ),
    KindSpec::new(
        "party_seals",
        "a party's seals",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::seals_of),
        json_of::<Vec<String>>,
    ),
];
