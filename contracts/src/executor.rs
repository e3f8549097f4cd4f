//! The deterministic block executor.
//!
//! `execute_block(view, ctx, txs)` runs the block's transactions in order over a read-only
//! [`StateView`] and returns the write set, one [`Receipt`] per transaction, and the new
//! validator set when governance changed it. It never writes; the node persists the output
//! atomically.
//!
//! Per transaction:
//! 1. envelope: chain id, expiry, known signer, next nonce. A failure here changes nothing;
//! 2. the nonce advances;
//! 3. the signer's department must hold a role the call allows;
//! 4. the call's stateless checks ([`Call::precheck`]; the node already ran them at admission);
//! 5. the module runs in a nested overlay, kept only on success.
//!
//! Signatures are NOT checked here: the node verifies each once, at admission or when it
//! validates a proposal, and only hands verified transactions to the executor.

use concordat_primitives::ledger::ValidatorSet;
use concordat_primitives::{encoding, Hash};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
pub use crate::context::BlockContext;
use crate::error::{ExecError, ResultCode};
use crate::governance;
use crate::kinds::{Id, KindSpec};
use crate::roles::Role;
use crate::state::{keys, Overlay, StateView, WriteSet};
use crate::tx::{Call, SignedTransaction};
use crate::{
    commitment, credential, credit, customs, due, filing, inspection, licence, logistics, party,
    policy, procurement, recognition, seal, sharing,
};

/// The outcome of one transaction.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: Hash,
    /// Stable result code.
    pub code: ResultCode,
    /// Human-readable detail (not hashed into the log).
    pub message: String,
}

/// The record appended to the transaction log for each transaction: hash and result code.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TxLogRecord {
    /// Transaction hash.
    pub tx_hash: Hash,
    /// Result code.
    pub code: ResultCode,
    /// Height of the block that included it.
    pub height: u64,
}

impl TxLogRecord {
    /// The leaf bytes of the RFC 9162 log.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }
}

impl Receipt {
    /// The log record for this receipt at `height`.
    pub fn log_record(&self, height: u64) -> TxLogRecord {
        TxLogRecord {
            tx_hash: self.tx_hash,
            code: self.code,
            height,
        }
    }
}

/// Everything a block execution produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutput {
    /// All state writes of the block.
    pub writes: WriteSet,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    /// The validator set for the next height, when this block changed it.
    pub next_validator_set: Option<ValidatorSet>,
}

/// The actor a key signs as: a department member key, or a key bound to a party.
pub fn resolve_signer(state: &Overlay<'_>, key: &concordat_primitives::PublicKey) -> Option<Actor> {
    governance::signer_department(state, key)
        .map(Actor::Department)
        .or_else(|| party::signer_party(state, key).map(Actor::Party))
}

fn unknown_signer(key: &concordat_primitives::PublicKey) -> ExecError {
    ExecError::new(
        ResultCode::UnknownSigner,
        format!("signer {key} is not a member key of any department nor a key of any party"),
    )
}

fn check_envelope(
    state: &Overlay<'_>,
    ctx: &BlockContext,
    stx: &SignedTransaction,
) -> Result<Actor, ExecError> {
    let tx = &stx.tx;
    if tx.chain_id != ctx.chain_id {
        return Err(ExecError::new(
            ResultCode::WrongChain,
            format!(
                "transaction is for chain {:?}, this is {:?}",
                tx.chain_id, ctx.chain_id
            ),
        ));
    }
    if ctx.height > tx.expiry_height {
        return Err(ExecError::new(
            ResultCode::Expired,
            format!(
                "transaction expired at height {}, block is {}",
                tx.expiry_height, ctx.height
            ),
        ));
    }
    let actor = resolve_signer(state, &tx.signer).ok_or_else(|| unknown_signer(&tx.signer))?;
    let expected = next_nonce(state, &tx.signer);
    if tx.nonce != expected {
        return Err(ExecError::new(
            ResultCode::BadNonce,
            format!(
                "nonce {} is not the signer's next nonce {expected}",
                tx.nonce
            ),
        ));
    }
    Ok(actor)
}

/// The signer's next nonce in `state`.
pub fn next_nonce(state: &dyn StateView, signer: &concordat_primitives::PublicKey) -> u64 {
    state
        .get(&keys::nonce(signer))
        .and_then(|b| encoding::from_bytes::<u64>(&b).ok())
        .unwrap_or(0)
}

/// The roles that may make `call`; `None` for governance and policy calls, which any
/// department may make (governance rule 1; the policy module then checks ownership).
pub fn allowed_roles(call: &Call) -> Option<&'static [Role]> {
    Some(match call {
        Call::Governance(_) | Call::Policy(_) => return None,
        Call::Party(c) => c.allowed_roles(),
        Call::Licence(c) => c.allowed_roles(),
        Call::Commitment(c) => c.allowed_roles(),
        Call::Seal(c) => c.allowed_roles(),
        Call::Recognition(c) => c.allowed_roles(),
        Call::Filing(c) => c.allowed_roles(),
        Call::Credit(c) => c.allowed_roles(),
        Call::Procurement(c) => c.allowed_roles(),
        Call::Inspection(c) => c.allowed_roles(),
        Call::Customs(c) => c.allowed_roles(),
        Call::Logistics(c) => c.allowed_roles(),
        Call::Sharing(c) => c.allowed_roles(),
        Call::Credential(c) => c.allowed_roles(),
    })
}

fn authorise(actor: &Actor, call: &Call) -> Result<(), ExecError> {
    let Some(allowed) = allowed_roles(call) else {
        return match actor {
            Actor::Department(_) => Ok(()),
            Actor::Party(p) => Err(ExecError::new(
                ResultCode::Unauthorised,
                format!("{} signs as an enterprise; only departments take part in governance and policy", p.uscc),
            )),
        };
    };
    if allowed.iter().any(|r| actor.has_role(*r)) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|r| r.name()).collect();
    let who = match actor {
        Actor::Department(d) => format!("department {}", d.uscc),
        Actor::Party(p) => format!("{} (an enterprise key)", p.uscc),
    };
    Err(ExecError::new(
        ResultCode::Unauthorised,
        format!(
            "{who} lacks the role this call needs ({})",
            names.join(" or ")
        ),
    ))
}

fn run_call(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    signer: &concordat_primitives::PublicKey,
    call: &Call,
) -> Result<(), ExecError> {
    authorise(actor, call)?;
    call.precheck()?;
    let mut nested = state.nested();
    let n = &mut nested;
    match call {
        Call::Governance(c) => match actor {
            Actor::Department(d) => governance::execute(n, ctx, d, c)?,
            Actor::Party(_) => unreachable!("authorise refuses enterprise keys for governance"),
        },
        Call::Party(c) => party::execute(n, ctx, actor, c)?,
        Call::Policy(c) => policy::execute(n, ctx, actor, c)?,
        Call::Licence(c) => licence::execute(n, ctx, actor, c)?,
        Call::Commitment(c) => commitment::execute(n, ctx, actor, signer, c)?,
        Call::Seal(c) => seal::execute(n, ctx, actor, c)?,
        Call::Recognition(c) => recognition::execute(n, ctx, actor, c)?,
        Call::Filing(c) => filing::execute(n, ctx, actor, c)?,
        Call::Credit(c) => credit::execute(n, ctx, actor, c)?,
        Call::Procurement(c) => procurement::execute(n, ctx, actor, c)?,
        Call::Inspection(c) => inspection::execute(n, ctx, actor, c)?,
        Call::Customs(c) => customs::execute(n, ctx, actor, c)?,
        Call::Logistics(c) => logistics::execute(n, ctx, actor, c)?,
        Call::Sharing(c) => sharing::execute(n, ctx, actor, c)?,
        Call::Credential(c) => credential::execute(n, ctx, actor, c)?,
    }
    let writes = nested.into_writes();
    state.absorb(writes);
    Ok(())
}

/// Executes one transaction on `state`, returning its receipt.
pub fn execute_tx(state: &mut Overlay<'_>, ctx: &BlockContext, stx: &SignedTransaction) -> Receipt {
    let tx_hash = stx.hash();
    let result = check_envelope(state, ctx, stx).and_then(|actor| {
        state.put(keys::nonce(&stx.tx.signer), &(stx.tx.nonce + 1));
        let ctx = BlockContext {
            tx: Some(tx_hash),
            ..ctx.clone()
        };
        run_call(state, &ctx, &actor, &stx.tx.signer, &stx.tx.call)
    });
    match result {
        Ok(()) => Receipt {
            tx_hash,
            code: ResultCode::Ok,
            message: String::new(),
        },
        Err(e) => Receipt {
            tx_hash,
            code: e.code,
            message: e.message,
        },
    }
}

/// Executes a block. See the module docs for the rules.
///
/// # Panics
/// If the stored validator roster becomes invalid, which governance validation prevents.
pub fn execute_block(
    view: &dyn StateView,
    ctx: &BlockContext,
    txs: &[SignedTransaction],
) -> BlockOutput {
    let mut state = Overlay::new(view);
    run_due(&mut state, ctx);
    let before = state.get_raw(keys::VALIDATORS);
    let receipts: Vec<Receipt> = txs
        .iter()
        .map(|stx| execute_tx(&mut state, ctx, stx))
        .collect();
    let after = state.get_raw(keys::VALIDATORS);
    let next_validator_set = if before != after {
        governance::roster(&state).map(|r| {
            #[allow(clippy::expect_used)]
            r.validator_set()
                .expect("governance only stores valid rosters")
        })
    } else {
        None
    };
    // Index the heights whose header names a different next validator set, so that light
    // clients find the change chain without scanning headers.
    if let Some(next) = &next_validator_set {
        let old_hash = before
            .and_then(|b| encoding::from_bytes::<governance::Roster>(&b).ok())
            .and_then(|r| r.validator_set().ok())
            .map(|s| s.hash());
        if old_hash != Some(next.hash()) {
            let mut heights: Vec<u64> = state
                .get(keys::VALIDATOR_CHANGE_HEIGHTS)
                .unwrap_or_default();
            heights.push(ctx.height);
            state.put(keys::VALIDATOR_CHANGE_HEIGHTS.to_vec(), &heights);
        }
    }
    BlockOutput {
        writes: state.into_writes(),
        receipts,
        next_validator_set,
    }
}

/// Runs what fell due by the block's date (crate::due), before the block's transactions. An
/// item whose record has moved on meanwhile (withdrawn, removed early) changes nothing.
fn run_due(state: &mut Overlay<'_>, ctx: &BlockContext) {
    for (_, item) in due::take(state, ctx) {
        let mut nested = state.nested();
        let done = match item.event {
            due::Event::DishonestyExpiry => credit::expire(&mut nested, ctx, &item.id),
            due::Event::ListRemoval => credit::expire_entry(&mut nested, ctx, &item.id),
            due::Event::PublicationOverdue => inspection::flag_overdue(&mut nested, ctx, &item.id),
            due::Event::CompleteOverdue => {
                customs::flag_overdue_complete(&mut nested, ctx, &item.id)
            }
            due::Event::AuthorisationExpiry => sharing::expire(&mut nested, ctx, &item.id),
        };
        if done.is_ok() {
            let writes = nested.into_writes();
            state.absorb(writes);
        }
    }
}

/// Admission pre-check for the mempool against committed state: chain id, expiry (against the
/// next height), a known signer, a role that allows the call, and the call's stateless checks
/// ([`Call::precheck`]). The nonce and the signature are the mempool's business. Returns the
/// signer as an actor.
pub fn check_admission(
    view: &dyn StateView,
    chain_id: &str,
    next_height: u64,
    stx: &SignedTransaction,
) -> Result<Actor, ExecError> {
    let state = Overlay::new(view);
    let tx = &stx.tx;
    if tx.chain_id != chain_id {
        return Err(ExecError::new(
            ResultCode::WrongChain,
            format!(
                "transaction is for chain {:?}, this is {chain_id:?}",
                tx.chain_id
            ),
        ));
    }
    if next_height > tx.expiry_height {
        return Err(ExecError::new(
            ResultCode::Expired,
            format!(
                "transaction expired at height {}, next height is {next_height}",
                tx.expiry_height
            ),
        ));
    }
    let actor = resolve_signer(&state, &tx.signer).ok_or_else(|| unknown_signer(&tx.signer))?;
    authorise(&actor, &tx.call)?;
    tx.call.precheck()?;
    Ok(actor)
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "nonce",
    "a signer's next nonce",
    "a signer public key (hex)",
    "0c34ec53fc0a292ee6248ea8c406b07b83eb28d623a852551a3c578ce091a7b6",
    Id::Custom(|id| {
        concordat_primitives::PublicKey::from_hex(id)
            .map(|pk| keys::nonce(&pk))
            .map_err(|e| e.to_string())
    }),
    crate::kinds::Decoder::of::<u64>(),
)];
