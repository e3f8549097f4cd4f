//! Governance: departments, their roles and member keys, the validator roster, and the
//! proposals through which alone any of them changes.
//!
//! # Rules
//! 1. Every department is a governance member with one vote, whatever its roles.
//! 2. Only a member key of a department may propose or approve; the proposer's department
//!    approves by proposing.
//! 3. A proposal executes in the transaction that brings its approvals to strictly more than
//!    2/3 of the departments that exist at that moment (`3 * approvals > 2 * departments`).
//!    With 2/3 or fewer nothing but the proposal's approval list changes.
//! 4. A proposal is open until `expires_at_height` (inclusive); a later approval is refused.
//! 5. Actions are validated when proposed and again when executed; an action that no longer
//!    applies (e.g. the department was added meanwhile) refuses the approving transaction.
//! 6. A validator-set change executed in block `H` takes effect from height `H + 1`.

use std::collections::{BTreeMap, BTreeSet};

use concordat_primitives::ledger::{Validator, ValidatorSet};
use concordat_primitives::PublicKey;
use serde::{Deserialize, Serialize};

use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_region_code, validate_text, Uscc};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change};
use crate::roles::Role;
use crate::state::{keys, require, Overlay, WriteSet};

/// Longest department name (bytes).
pub const MAX_NAME_BYTES: usize = 200;
/// Most member keys per department.
pub const MAX_MEMBER_KEYS: usize = 64;
/// Most departments.
pub const MAX_DEPARTMENTS: usize = 256;
/// Longest proposal lifetime, in blocks.
pub const MAX_PROPOSAL_BLOCKS: u64 = 1_000_000;
/// Most actions in one [`GovAction::Batch`].
pub const MAX_BATCH_ACTIONS: usize = 16;

/// A department (government organisation) taking part in the ledger.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Its USCC.
    pub uscc: Uscc,
    /// Its name.
    pub name: String,
    /// GB/T 2260 region code of its jurisdiction.
    pub region: String,
    /// What it may do.
    pub roles: BTreeSet<Role>,
    /// Keys that sign for it.
    pub member_keys: BTreeSet<PublicKey>,
}

impl Department {
    /// Checks the fields (not uniqueness against state).
    pub fn validate(&self) -> Result<(), ExecError> {
        validate_text("department name", &self.name, MAX_NAME_BYTES)?;
        validate_region_code(&self.region)?;
        if self.member_keys.is_empty() {
            return Err(invalid(format!(
                "department {} needs at least one member key",
                self.uscc
            )));
        }
        if self.member_keys.len() > MAX_MEMBER_KEYS {
            return Err(invalid(format!(
                "department {} has {} member keys, over the limit of {MAX_MEMBER_KEYS}",
                self.uscc,
                self.member_keys.len()
            )));
        }
        Ok(())
    }

    /// True iff the department holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// One validator and the department that operates it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ValidatorEntry {
    /// Consensus key.
    pub key: PublicKey,
    /// Voting power (at least 1).
    pub power: u64,
    /// Operating department.
    pub department: Uscc,
}

/// The validator roster as stored in state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// Validators in key order.
    pub validators: Vec<ValidatorEntry>,
}

impl Roster {
    /// The consensus view (keys and powers), validated.
    pub fn validator_set(&self) -> Result<ValidatorSet, ExecError> {
        ValidatorSet::new(
            self.validators
                .iter()
                .map(|v| Validator {
                    key: v.key,
                    power: v.power,
                })
                .collect(),
        )
        .map_err(|e| invalid(e.to_string()))
    }
}

/// A change that needs a governance decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum GovAction {
    /// Admit a new department.
    AddDepartment(Department),
    /// Replace a department's name, region, roles and member keys (same USCC).
    UpdateDepartment(Department),
    /// Remove a department that operates no validator.
    RemoveDepartment {
        /// Its USCC.
        uscc: Uscc,
    },
    /// Replace the whole validator roster.
    SetValidators {
        /// The new roster (any order; stored in key order).
        validators: Vec<ValidatorEntry>,
    },
    /// Appoint the department that owns the policy record.
    SetPolicyOwner {
        /// Its USCC.
        uscc: Uscc,
    },
    /// Several actions decided together: applied in order, all or none (e.g. admit a
    /// department and a validator it operates). Each later action sees the earlier ones'
    /// effects; 1 to [`MAX_BATCH_ACTIONS`] actions, none of them a batch.
    Batch {
        /// The actions, in the order they apply.
        actions: Vec<GovAction>,
    },
}

impl GovAction {
    /// The checks that need no state (a department's shape, a roster's powers, a batch's size).
    pub fn precheck(&self) -> Result<(), ExecError> {
        match self {
            GovAction::AddDepartment(d) | GovAction::UpdateDepartment(d) => d.validate(),
            GovAction::SetValidators { validators } => Roster {
                validators: validators.clone(),
            }
            .validator_set()
            .map(|_| ()),
            GovAction::RemoveDepartment { .. } | GovAction::SetPolicyOwner { .. } => Ok(()),
            GovAction::Batch { actions } => {
                if actions.is_empty() || actions.len() > MAX_BATCH_ACTIONS {
                    return Err(invalid(format!(
                        "a batch holds 1 to {MAX_BATCH_ACTIONS} actions, not {}",
                        actions.len()
                    )));
                }
                for (i, a) in actions.iter().enumerate() {
                    if matches!(a, GovAction::Batch { .. }) {
                        return Err(invalid(format!(
                            "batch action {i} is itself a batch; list its actions instead"
                        )));
                    }
                    a.precheck().map_err(|e| in_batch(i, e))?;
                }
                Ok(())
            }
        }
    }
}

/// `e` as the error of a batch's action `i`.
fn in_batch(i: usize, e: ExecError) -> ExecError {
    ExecError::new(e.code, format!("batch action {i}: {}", e.message))
}

/// Governance calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum GovCall {
    /// Propose an action; the proposer's department approves it at once.
    Propose {
        /// The change.
        action: GovAction,
        /// Last height at which it may still be approved.
        expires_at_height: u64,
    },
    /// Approve an open proposal on behalf of the signer's department.
    Approve {
        /// Proposal id.
        proposal_id: u64,
    },
}

impl GovCall {
    /// The checks that need no state (a department's shape, a roster's powers): run at
    /// admission, by the executor before the call, and by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        match self {
            GovCall::Propose { action, .. } => action.precheck(),
            GovCall::Approve { .. } => Ok(()),
        }
    }
}

/// Proposal status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalStatus {
    /// Collecting approvals.
    Open,
    /// Approved by more than 2/3 and applied.
    Executed,
}

/// A stored proposal.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Id (sequential from 0).
    pub id: u64,
    /// The change.
    pub action: GovAction,
    /// Department that proposed.
    pub proposer: Uscc,
    /// Departments that approved (the proposer's included).
    pub approvals: BTreeSet<Uscc>,
    /// Last height for approvals.
    pub expires_at_height: u64,
    /// Open or executed.
    pub status: ProposalStatus,
    /// Height proposed at.
    pub created_at_height: u64,
    /// Height executed at, once executed.
    pub executed_at_height: Option<u64>,
    /// Every status change, oldest first, from the proposal on (appended to the record's
    /// format later: proposals stored before it decode without it, see [`crate::kinds`]).
    pub history: Vec<Change<ProposalStatus>>,
}

stateful!(Proposal, ProposalStatus, "proposal", id, [(Open, Executed)]);

impl Versioned for Proposal {
    const APPENDED: &'static [&'static str] = &["history"];
}

/// The department a signer belongs to, if any, with `key` as its only member key (see
/// [`department_profile`]).
pub fn signer_department(state: &Overlay<'_>, key: &PublicKey) -> Option<Department> {
    let uscc: Uscc = state.get(&keys::signer(key))?;
    let mut d = department_profile(state, uscc.as_str())?;
    d.member_keys = [*key].into_iter().collect();
    Some(d)
}

/// A department as calls read it (name, region, roles), with its member keys left out.
///
/// Decoding the stored member keys would re-validate each point (a decompression apiece) for
/// keys that were validated when governance wrote them and that no such call reads: with 64
/// clerks that was most of a transaction's cost (docs/perf-analysis.md). Only governance,
/// which changes keys, decodes the whole record.
pub fn department_profile(state: &Overlay<'_>, uscc: &str) -> Option<Department> {
    /// The stored department with its member keys left as bytes (the same canonical layout).
    #[derive(Serialize, Deserialize)]
    struct Stored {
        uscc: Uscc,
        name: String,
        region: String,
        roles: BTreeSet<Role>,
        member_keys: Vec<[u8; 32]>,
    }
    let bytes = state.get_raw(&keys::department(uscc))?;
    let d: Stored = concordat_primitives::encoding::from_bytes(&bytes).ok()?;
    Some(Department {
        uscc: d.uscc,
        name: d.name,
        region: d.region,
        roles: d.roles,
        member_keys: BTreeSet::new(),
    })
}

/// The list of department USCCs.
pub fn department_index(state: &Overlay<'_>) -> BTreeSet<Uscc> {
    state.get(keys::DEPARTMENT_INDEX).unwrap_or_default()
}

/// The stored roster.
pub fn roster(state: &Overlay<'_>) -> Option<Roster> {
    state.get(keys::VALIDATORS)
}

fn write_department(state: &mut Overlay<'_>, dept: &Department, old: Option<&Department>) {
    if let Some(old) = old {
        for k in &old.member_keys {
            state.delete(keys::signer(k));
        }
    }
    for k in &dept.member_keys {
        state.put(keys::signer(k), &dept.uscc);
    }
    state.put(keys::department(dept.uscc.as_str()), dept);
}

fn check_keys_free(state: &Overlay<'_>, dept: &Department) -> Result<(), ExecError> {
    for k in &dept.member_keys {
        if let Some(party) = state.get::<Uscc>(&keys::party_signer(k)) {
            return Err(ExecError::new(
                ResultCode::AlreadyExists,
                format!("member key {k} already signs for party {party}"),
            ));
        }
        if let Some(owner) = state.get::<Uscc>(&keys::signer(k)) {
            if owner != dept.uscc {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("member key {k} already belongs to department {owner}"),
                ));
            }
        }
    }
    Ok(())
}

fn validate_roster(
    state: &Overlay<'_>,
    validators: &[ValidatorEntry],
) -> Result<Roster, ExecError> {
    let mut sorted = validators.to_vec();
    sorted.sort_by_key(|v| v.key);
    for v in &sorted {
        if state
            .get_raw(&keys::department(v.department.as_str()))
            .is_none()
        {
            return Err(ExecError::new(
                ResultCode::NotFound,
                format!(
                    "validator {} names unknown department {}",
                    v.key, v.department
                ),
            ));
        }
    }
    let roster = Roster { validators: sorted };
    roster.validator_set()?;
    Ok(roster)
}

/// Checks that `action` applies to the current state.
fn check_action(state: &Overlay<'_>, action: &GovAction) -> Result<(), ExecError> {
    match action {
        GovAction::AddDepartment(d) => {
            d.validate()?;
            if state.get_raw(&keys::department(d.uscc.as_str())).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("department {} already exists", d.uscc),
                ));
            }
            if department_index(state).len() >= MAX_DEPARTMENTS {
                return Err(invalid(format!("at most {MAX_DEPARTMENTS} departments")));
            }
            check_keys_free(state, d)
        }
        GovAction::UpdateDepartment(d) => {
            d.validate()?;
            require::<Department>(state, &keys::department(d.uscc.as_str()), || {
                format!("department {} does not exist", d.uscc)
            })?;
            check_keys_free(state, d)
        }
        GovAction::RemoveDepartment { uscc } => {
            require::<Department>(state, &keys::department(uscc.as_str()), || {
                format!("department {uscc} does not exist")
            })?;
            if department_index(state).len() <= 1 {
                return Err(invalid("the last department cannot be removed"));
            }
            let operates = roster(state)
                .map(|r| r.validators.iter().any(|v| &v.department == uscc))
                .unwrap_or(false);
            if operates {
                return Err(invalid(format!(
                    "department {uscc} operates validators; change the validator set first"
                )));
            }
            Ok(())
        }
        GovAction::SetValidators { validators } => validate_roster(state, validators).map(|_| ()),
        GovAction::SetPolicyOwner { uscc } => {
            require::<Department>(state, &keys::department(uscc.as_str()), || {
                format!("department {uscc} does not exist")
            })
            .map(|_| ())
        }
        GovAction::Batch { .. } => {
            // Each action is checked against the state the earlier ones leave: apply them to a
            // scratch overlay that is then dropped. The height only reaches the policy owner's
            // record, which is dropped with it.
            action.precheck()?;
            let mut scratch = state.nested();
            apply_action(&mut scratch, 0, action)
        }
    }
}

fn apply_action(state: &mut Overlay<'_>, height: u64, action: &GovAction) -> Result<(), ExecError> {
    if let GovAction::Batch { .. } = action {
        // Each action is checked as it applies, against the state the earlier ones left.
        action.precheck()?;
    } else {
        check_action(state, action)?;
    }
    match action {
        GovAction::AddDepartment(d) => {
            write_department(state, d, None);
            let mut index = department_index(state);
            index.insert(d.uscc.clone());
            state.put(keys::DEPARTMENT_INDEX.to_vec(), &index);
        }
        GovAction::UpdateDepartment(d) => {
            let old: Option<Department> = state.get(&keys::department(d.uscc.as_str()));
            write_department(state, d, old.as_ref());
        }
        GovAction::RemoveDepartment { uscc } => {
            if let Some(old) = state.get::<Department>(&keys::department(uscc.as_str())) {
                for k in &old.member_keys {
                    state.delete(keys::signer(k));
                }
            }
            state.delete(keys::department(uscc.as_str()));
            let mut index = department_index(state);
            index.remove(uscc);
            state.put(keys::DEPARTMENT_INDEX.to_vec(), &index);
        }
        GovAction::SetValidators { validators } => {
            let roster = validate_roster(state, validators)?;
            state.put(keys::VALIDATORS.to_vec(), &roster);
        }
        GovAction::SetPolicyOwner { uscc } => crate::policy::set_owner(state, height, uscc),
        GovAction::Batch { actions } => {
            for (i, a) in actions.iter().enumerate() {
                apply_action(state, height, a).map_err(|e| in_batch(i, e))?;
            }
        }
    }
    Ok(())
}

/// True iff `approvals` is strictly more than 2/3 of `departments`.
pub fn is_supermajority(approvals: usize, departments: usize) -> bool {
    approvals.saturating_mul(3) > departments.saturating_mul(2)
}

fn maybe_execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    mut proposal: Proposal,
) -> Result<(), ExecError> {
    let departments = department_index(state);
    let counted = proposal
        .approvals
        .iter()
        .filter(|u| departments.contains(*u))
        .count();
    if is_supermajority(counted, departments.len()) {
        apply_action(state, ctx.height, &proposal.action)?;
        let basis = format!("approved by {counted} of {} departments", departments.len());
        record::transition(&mut proposal, ProposalStatus::Executed, ctx, by, &basis)?;
        proposal.executed_at_height = Some(ctx.height);
    }
    state.put(keys::proposal(proposal.id), &proposal);
    Ok(())
}

/// Executes a governance call signed by a member of `dept`.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    dept: &Department,
    call: &GovCall,
) -> Result<(), ExecError> {
    match call {
        GovCall::Propose {
            action,
            expires_at_height,
        } => {
            if *expires_at_height < ctx.height
                || expires_at_height - ctx.height > MAX_PROPOSAL_BLOCKS
            {
                return Err(invalid(format!(
                    "expires_at_height must be between {} and {}",
                    ctx.height,
                    ctx.height.saturating_add(MAX_PROPOSAL_BLOCKS)
                )));
            }
            check_action(state, action)?;
            let id: u64 = state.get(keys::NEXT_PROPOSAL_ID).unwrap_or(0);
            state.put(keys::NEXT_PROPOSAL_ID.to_vec(), &(id + 1));
            let proposal = Proposal {
                id,
                action: action.clone(),
                proposer: dept.uscc.clone(),
                approvals: [dept.uscc.clone()].into_iter().collect(),
                expires_at_height: *expires_at_height,
                status: ProposalStatus::Open,
                created_at_height: ctx.height,
                executed_at_height: None,
                history: vec![Change::now(
                    ctx,
                    ProposalStatus::Open,
                    &dept.uscc,
                    "proposed",
                )],
            };
            maybe_execute(state, ctx, &dept.uscc, proposal)
        }
        GovCall::Approve { proposal_id } => {
            let mut proposal: Proposal = require(state, &keys::proposal(*proposal_id), || {
                format!("proposal {proposal_id} does not exist")
            })?;
            if proposal.status != ProposalStatus::Open {
                return Err(ExecError::new(
                    ResultCode::ProposalRejected,
                    format!("proposal {proposal_id} was already executed"),
                ));
            }
            if ctx.height > proposal.expires_at_height {
                return Err(ExecError::new(
                    ResultCode::ProposalRejected,
                    format!(
                        "proposal {proposal_id} expired at height {}",
                        proposal.expires_at_height
                    ),
                ));
            }
            if !proposal.approvals.insert(dept.uscc.clone()) {
                return Err(ExecError::new(
                    ResultCode::ProposalRejected,
                    format!(
                        "department {} already approved proposal {proposal_id}",
                        dept.uscc
                    ),
                ));
            }
            maybe_execute(state, ctx, &dept.uscc, proposal)
        }
    }
}

/// The initial governance state: departments and validators, as written at genesis.
pub fn genesis_writes(
    departments: &[Department],
    validators: &[ValidatorEntry],
) -> Result<WriteSet, ExecError> {
    let empty = BTreeMap::<Vec<u8>, Vec<u8>>::new();
    let mut state = Overlay::new(&empty);
    for d in departments {
        apply_action(&mut state, 0, &GovAction::AddDepartment(d.clone()))?;
    }
    if validators.is_empty() {
        return Err(invalid("genesis needs at least one validator"));
    }
    apply_action(
        &mut state,
        0,
        &GovAction::SetValidators {
            validators: validators.to_vec(),
        },
    )?;
    Ok(state.into_writes())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "department",
        "department",
        "a USCC",
        "11110000MB01A7C368",
        Id::Uscc(keys::department),
        crate::kinds::Decoder::of::<Department>(),
    ),
    KindSpec::new(
        "validators",
        "validator roster",
        "current",
        "current",
        Id::Custom(|id| match id {
            "current" => Ok(keys::VALIDATORS.to_vec()),
            _ => Err("the only id is `current`".into()),
        }),
        crate::kinds::Decoder::of::<Roster>(),
    ),
    KindSpec::new(
        "proposal",
        "governance proposal",
        "a decimal proposal id",
        "0",
        Id::Custom(|id| {
            crate::kinds::by_number(id, "a proposal id is a decimal number", keys::proposal)
        }),
        crate::kinds::Decoder::versioned::<Proposal>(),
    )
    .stateful::<Proposal>(),
];

#[cfg(test)]
mod signer_tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_signers_department_reads_as_stored_with_its_signer_only() {
        let keys: Vec<PublicKey> = (1..=5u8)
            .map(|i| concordat_primitives::SecretKey::from_seed([i; 32]).public_key())
            .collect();
        let dept = Department {
            uscc: Uscc::parse("11110000MB01A7C368").expect("uscc"),
            name: "朝阳区市场监管局".into(),
            region: "110105".into(),
            roles: [Role::Registrar, Role::Customs].into_iter().collect(),
            member_keys: keys.iter().copied().collect(),
        };
        let base = BTreeMap::new();
        let mut s = Overlay::new(&base);
        write_department(&mut s, &dept, None);
        let got = signer_department(&s, &keys[2]).expect("found");
        assert_eq!(
            (&got.uscc, &got.name, &got.region, &got.roles),
            (&dept.uscc, &dept.name, &dept.region, &dept.roles)
        );
        assert_eq!(got.member_keys, [keys[2]].into_iter().collect());
        let stranger = concordat_primitives::SecretKey::from_seed([9; 32]).public_key();
        assert!(signer_department(&s, &stranger).is_none());
    }
}

/// Most proposals [`overview`] lists in one page.
pub const MAX_OVERVIEW_PROPOSALS: usize = 500;

/// A department as the governance overview shows it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct DepartmentSummary {
    /// Its USCC.
    pub uscc: Uscc,
    /// Its name.
    pub name: String,
    /// Its region code.
    pub region: String,
    /// Its roles.
    pub roles: BTreeSet<Role>,
    /// How many member keys sign for it.
    pub member_keys: usize,
    /// Voting power of the validators it operates.
    pub validator_power: u64,
}

/// A proposal with what an operator needs to act on it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ProposalSummary {
    /// The stored proposal.
    #[serde(flatten)]
    pub proposal: Proposal,
    /// Approvals from departments that still exist (those that count).
    pub counted: usize,
    /// Approvals it needs to execute: strictly more than 2/3 of today's departments.
    pub needed: usize,
    /// Departments that have not approved.
    pub awaiting: Vec<Uscc>,
    /// Open and past its last height: it can no longer execute.
    pub expired: bool,
}

/// Governance at a height: departments, validators and a page of proposals (newest first).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// Every department.
    pub departments: Vec<DepartmentSummary>,
    /// The validator roster.
    pub validators: Vec<ValidatorEntry>,
    /// Total voting power.
    pub total_power: u64,
    /// How many proposals were ever made.
    pub proposal_count: u64,
    /// The page of proposals, newest first.
    pub proposals: Vec<ProposalSummary>,
}

/// The smallest number of approvals that executes a proposal among `departments`.
pub fn approvals_needed(departments: usize) -> usize {
    departments.saturating_mul(2) / 3 + 1
}

/// Governance as of `height`: with `open_only`, only proposals still open and not expired;
/// at most `limit` (capped at [`MAX_OVERVIEW_PROPOSALS`]) with ids below `before`.
pub fn overview(
    state: &Overlay<'_>,
    height: u64,
    open_only: bool,
    limit: usize,
    before: Option<u64>,
) -> Overview {
    let index = department_index(state);
    let validators = roster(state).map(|r| r.validators).unwrap_or_default();
    let departments = index
        .iter()
        .filter_map(|u| state.get::<Department>(&keys::department(u.as_str())))
        .map(|d| DepartmentSummary {
            validator_power: validators
                .iter()
                .filter(|v| v.department == d.uscc)
                .map(|v| v.power)
                .sum(),
            member_keys: d.member_keys.len(),
            uscc: d.uscc,
            name: d.name,
            region: d.region,
            roles: d.roles,
        })
        .collect();
    let count: u64 = state.get(keys::NEXT_PROPOSAL_ID).unwrap_or(0);
    let limit = limit.min(MAX_OVERVIEW_PROPOSALS);
    let mut proposals = Vec::new();
    let mut id = before.unwrap_or(count).min(count);
    // An open-only page may skip many closed proposals: the scan is bounded too.
    let mut scanned = 0usize;
    while id > 0 && proposals.len() < limit && scanned < MAX_OVERVIEW_PROPOSALS * 20 {
        id -= 1;
        scanned += 1;
        let Some(p) = state
            .get_raw(&keys::proposal(id))
            .and_then(|b| crate::kinds::decode_versioned::<Proposal>(&b).ok())
            .map(|(p, _)| p)
        else {
            continue;
        };
        let expired = p.status == ProposalStatus::Open && height > p.expires_at_height;
        if open_only && (p.status != ProposalStatus::Open || expired) {
            continue;
        }
        let counted = p.approvals.iter().filter(|u| index.contains(*u)).count();
        proposals.push(ProposalSummary {
            counted,
            needed: approvals_needed(index.len()),
            awaiting: index
                .iter()
                .filter(|u| !p.approvals.contains(*u))
                .cloned()
                .collect(),
            expired,
            proposal: p,
        });
    }
    Overview {
        departments,
        total_power: validators.iter().map(|v| v.power).sum(),
        validators,
        proposal_count: count,
        proposals,
    }
}
