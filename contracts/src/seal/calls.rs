//! The seal calls: who may make each, their stateless checks, and their execution; the R2
//! closing of an owner's seals.

use super::*;
use concordat_primitives::{Hash, PublicKey};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::party;
use crate::policy;
use crate::roles::Role;
use crate::state::{keys, Overlay};

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
                parse_uscc(owner)?;
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

/// Executes a seal call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &SealCall,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
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
            let owner = parse_uscc(owner)?;
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
