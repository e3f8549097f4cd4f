//! R9, judging a seal signature when it is recorded: the signed bytes, the seal's keys and
//! status at the signing time, and time-stamp tokens.

use super::*;
use concordat_primitives::{encoding, namespace, Hash, PublicKey, Signature};
use serde::Serialize;

use crate::error::{ExecError, ResultCode};
use crate::ids::{validate_id, Uscc};
use crate::state::{keys, require, Overlay};

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

pub(crate) struct Judgement {
    pub(crate) result: SignatureResult,
    pub(crate) failed_step: Option<VerificationStep>,
    pub(crate) detail: String,
    pub(crate) judged_at_ms: Option<u64>,
    pub(crate) time_source: TimeSource,
}

pub(crate) fn fail(step: VerificationStep, result: SignatureResult, detail: String) -> Judgement {
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
pub(crate) fn judge(
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
