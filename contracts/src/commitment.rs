//! Credit commitments (record kind C, 信用承诺).
//!
//! # State machine
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | ACTIVE | ENTERPRISE (its own party) | party EXISTING (R2); a seal signature, if named, VALID and by a seal of the party |
//! | ACTIVE | WITHDRAWN | ENTERPRISE (its own party) | not yet relied on |
//! | ACTIVE | FULFILLED | the LICENSING_AUTHORITY that relied on it | — (a conforming check does this too) |
//! | ACTIVE | BREACHED | the LICENSING_AUTHORITY that relied on it | a non-conforming check does this too |
//!
//! The relying authority is the one the commitment is addressed to (`addressed_to` at `Make`),
//! or the issuer of the licence granted on it. A commitment nobody relies on yet can be neither
//! fulfilled nor breached. A seal signature named at `Make` must be VALID, by a seal of the
//! party, made for AUTHORISATION, over `text_hash`.
//!
//! FULFILLED, BREACHED and WITHDRAWN are terminal. A breach decision ([`CommitmentCall::Breach`])
//! applies R4: a FALSE_COMMITMENT dishonesty record, and the relying licence annulled (see
//! [`crate::rules::r4_false_commitment`]).

use concordat_primitives::{Hash, PublicKey};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_id, Uscc};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::party;
use crate::record::{self, stateful, Change, Table};
use crate::roles::Role;
use crate::state::{keys, Overlay};
use crate::time::Date;

/// Longest commitment id (bytes); the record id of its dishonesty record adds "FC-".
pub const MAX_COMMITMENT_ID_BYTES: usize = 60;

/// Commitment kind.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommitmentKind {
    /// 告知承诺: the basis of a notification-commitment licence.
    NotificationCommitment,
    /// A public commitment made to repair credit.
    RepairCommitment,
    /// That submitted materials are true.
    Truthfulness,
    /// Self-discipline.
    SelfDiscipline,
}

/// Commitment status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommitmentStatus {
    /// In force.
    Active,
    /// Kept (terminal).
    Fulfilled,
    /// Found false (terminal).
    Breached,
    /// Withdrawn by the party before anyone relied on it (terminal).
    Withdrawn,
}

/// A commitment record.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// Id.
    pub commitment_id: String,
    /// The committing party.
    pub party: Uscc,
    /// The key that signed the commitment transaction.
    pub signer: PublicKey,
    /// Kind.
    pub kind: CommitmentKind,
    /// Hash of the commitment text (the text stays off-ledger).
    pub text_hash: Hash,
    /// What it relates to (free reference, e.g. the licence type applied for).
    pub relates_to: Option<String>,
    /// The seal signature on the commitment document, if any.
    pub seal_signature_id: Option<String>,
    /// Block time made (ms).
    pub made_at_ms: u64,
    /// Status.
    pub status: CommitmentStatus,
    /// The licence that relies on it, once one was issued on it.
    pub relied_on_by: Option<String>,
    /// The department that relied on it.
    pub relying_authority: Option<Uscc>,
    /// Basis of the last status change.
    pub basis: Option<String>,
    /// Block time of the last change (ms).
    pub updated_at_ms: u64,
    /// Every status change, oldest first, from the commitment on (appended to the record's
    /// format later: commitments stored before it decode without it, see [`crate::kinds`]).
    pub history: Vec<Change<CommitmentStatus>>,
}

stateful!(
    Commitment,
    CommitmentStatus,
    "commitment",
    commitment_id,
    [(Active, Fulfilled), (Active, Breached), (Active, Withdrawn)]
);

impl Versioned for Commitment {
    const APPENDED: &'static [&'static str] = &["history"];
}

/// Commitment calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum CommitmentCall {
    /// Make a commitment (ENTERPRISE, for its own party).
    Make {
        /// New id.
        commitment_id: String,
        /// Kind.
        kind: CommitmentKind,
        /// Hash of the text.
        text_hash: Hash,
        /// What it relates to.
        relates_to: Option<String>,
        /// Seal signature on the document.
        seal_signature_id: Option<String>,
        /// The authority (department USCC) the commitment is made to, which relies on it.
        addressed_to: Option<String>,
    },
    /// Withdraw before it is relied on (ENTERPRISE, its own).
    Withdraw {
        /// Id.
        commitment_id: String,
    },
    /// Record it as kept (the relying LICENSING_AUTHORITY).
    Fulfil {
        /// Id.
        commitment_id: String,
        /// Basis.
        basis: String,
    },
    /// Decide it was false (the relying LICENSING_AUTHORITY): R4.
    Breach {
        /// Id.
        commitment_id: String,
        /// Decision document number.
        basis_doc_no: String,
        /// Decision document date.
        basis_doc_date: Date,
        /// Fraud or false materials found (SERIOUS, and a re-application bar).
        fraud: bool,
    },
}

impl CommitmentCall {
    /// The roles that may make this call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            CommitmentCall::Make { .. } | CommitmentCall::Withdraw { .. } => &[Role::Enterprise],
            CommitmentCall::Fulfil { .. } | CommitmentCall::Breach { .. } => {
                &[Role::LicensingAuthority]
            }
        }
    }

    /// The checks that need no state (identifiers, text limits): run at admission, by the
    /// executor before the call, and by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let id = |v: &str| validate_id("commitment_id", v, MAX_COMMITMENT_ID_BYTES);
        let text =
            |field: &str, v: &str| crate::ids::validate_text(field, v, crate::ids::MAX_REF_BYTES);
        match self {
            CommitmentCall::Make {
                commitment_id,
                relates_to,
                seal_signature_id,
                addressed_to,
                ..
            } => {
                id(commitment_id)?;
                if let Some(a) = addressed_to {
                    parse_uscc(a)?;
                }
                if let Some(r) = relates_to {
                    text("relates_to", r)?;
                }
                if let Some(sig) = seal_signature_id {
                    validate_id("seal_signature_id", sig, crate::seal::MAX_ES_ID_BYTES)?;
                }
                Ok(())
            }
            CommitmentCall::Withdraw { commitment_id } => id(commitment_id),
            CommitmentCall::Fulfil {
                commitment_id,
                basis,
            } => {
                id(commitment_id)?;
                text("basis", basis)
            }
            CommitmentCall::Breach {
                commitment_id,
                basis_doc_no,
                ..
            } => {
                id(commitment_id)?;
                text("basis_doc_no", basis_doc_no)
            }
        }
    }
}

/// Loads a commitment or fails with `NotFound`.
pub fn load(state: &Overlay<'_>, id: &str) -> Result<Commitment, ExecError> {
    COMMITMENTS.load(state, id)
}

/// The commitments, by id.
pub const COMMITMENTS: Table<Commitment> = Table::new(
    "commitment",
    "commitment_id",
    MAX_COMMITMENT_ID_BYTES,
    keys::commitment,
);

fn require_status(c: &Commitment, to: CommitmentStatus) -> Result<(), ExecError> {
    if !record::allowed::<Commitment>(c.status, to) {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "commitment {} is {:?}; it cannot become {to:?}",
                c.commitment_id, c.status
            ),
        ));
    }
    Ok(())
}

/// Checks that `actor` is the authority that relies on `c`.
fn require_relying(actor: &Actor, c: &Commitment) -> Result<(), ExecError> {
    match &c.relying_authority {
        Some(a) if a == actor.uscc() => Ok(()),
        Some(a) => Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "commitment {} is relied on by {a}; only that authority decides on it",
                c.commitment_id
            ),
        )),
        None => Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "commitment {} is not relied on by any authority yet; only a relying authority decides on it",
                c.commitment_id
            ),
        )),
    }
}

/// Moves `c` to `to` (`by` decides) and stores it.
pub fn set_status(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    mut c: Commitment,
    to: CommitmentStatus,
    basis: &str,
) -> Result<Commitment, ExecError> {
    record::transition(&mut c, to, ctx, by, basis)?;
    c.basis = Some(basis.to_string());
    c.updated_at_ms = ctx.time_ms;
    state.put(keys::commitment(&c.commitment_id), &c);
    Ok(c)
}

/// Executes a commitment call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    signer: &PublicKey,
    call: &CommitmentCall,
) -> Result<(), ExecError> {
    match call {
        CommitmentCall::Make {
            commitment_id,
            kind,
            text_hash,
            relates_to,
            seal_signature_id,
            addressed_to,
        } => {
            validate_id("commitment_id", commitment_id, MAX_COMMITMENT_ID_BYTES)?;
            let relying_authority = match addressed_to {
                Some(a) => {
                    let a = parse_uscc(a)?;
                    if state.get_raw(&keys::department(a.as_str())).is_none() {
                        return Err(ExecError::new(
                            ResultCode::NotFound,
                            format!("addressed_to {a} is not a department"),
                        ));
                    }
                    Some(a)
                }
                None => None,
            };
            if let Some(r) = relates_to {
                crate::ids::validate_text("relates_to", r, crate::ids::MAX_REF_BYTES)?;
            }
            let owner = party::require_existing(state, actor.uscc())?;
            if state.get_raw(&keys::commitment(commitment_id)).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("commitment {commitment_id} already exists"),
                ));
            }
            if let Some(sig) = seal_signature_id {
                let purpose = Some(crate::seal::SignaturePurpose::Authorisation);
                let (s, _) =
                    crate::seal::require_valid_signature_by(state, sig, &owner.uscc, purpose)?;
                if s.doc_hash != *text_hash {
                    return Err(crate::error::invalid(format!(
                        "seal signature {sig} is over {}, not over the commitment text {text_hash}",
                        s.doc_hash
                    )));
                }
            }
            let c = Commitment {
                commitment_id: commitment_id.clone(),
                party: owner.uscc,
                signer: *signer,
                kind: *kind,
                text_hash: *text_hash,
                relates_to: relates_to.clone(),
                seal_signature_id: seal_signature_id.clone(),
                made_at_ms: ctx.time_ms,
                status: CommitmentStatus::Active,
                relied_on_by: None,
                relying_authority,
                basis: None,
                updated_at_ms: ctx.time_ms,
                history: vec![Change::now(
                    ctx,
                    CommitmentStatus::Active,
                    actor.uscc(),
                    "made",
                )],
            };
            state.put(keys::commitment(commitment_id), &c);
        }
        CommitmentCall::Withdraw { commitment_id } => {
            let c = load(state, commitment_id)?;
            if c.party != *actor.uscc() {
                return Err(ExecError::new(
                    ResultCode::Unauthorised,
                    format!(
                        "commitment {commitment_id} belongs to {}; only it may withdraw",
                        c.party
                    ),
                ));
            }
            if let Some(l) = &c.relied_on_by {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!("commitment {commitment_id} is relied on by licence {l}; it can no longer be withdrawn"),
                ));
            }
            set_status(
                state,
                ctx,
                actor.uscc(),
                c,
                CommitmentStatus::Withdrawn,
                "withdrawn",
            )?;
        }
        CommitmentCall::Fulfil {
            commitment_id,
            basis,
        } => {
            crate::ids::validate_text("basis", basis, crate::ids::MAX_REF_BYTES)?;
            let c = load(state, commitment_id)?;
            require_relying(actor, &c)?;
            set_status(
                state,
                ctx,
                actor.uscc(),
                c,
                CommitmentStatus::Fulfilled,
                basis,
            )?;
        }
        CommitmentCall::Breach {
            commitment_id,
            basis_doc_no,
            basis_doc_date,
            fraud,
        } => {
            let c = load(state, commitment_id)?;
            require_relying(actor, &c)?;
            require_status(&c, CommitmentStatus::Breached)?;
            crate::rules::r4_false_commitment::apply(
                state,
                ctx,
                actor.uscc(),
                c,
                crate::licence::Decision {
                    doc_no: basis_doc_no,
                    doc_date: *basis_doc_date,
                    fraud: *fraud,
                },
            )?;
        }
    }
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "commitment",
    "commitment",
    "a commitment id",
    "C-2026-000123",
    Id::Record(keys::commitment),
    crate::kinds::Decoder::versioned::<Commitment>(),
)
.stateful::<Commitment>()];
