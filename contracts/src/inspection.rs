//! Double-random inspections (双随机、一公开; record kind G of domain.md, rules R7 and R8):
//! a plan whose seed is committed before its pools are fixed, a draw anyone can recompute from
//! the revealed seed and the stored snapshots, tasks with at least two inspectors, recusals
//! with logged replacements, results, and publication within 20 days.
//!
//! Plan: DRAFT (pools filled) → COMMITTED (pools fixed, snapshot hashes stored) → DRAWN (seed
//! revealed and checked against its commitment, tasks created) → CLOSED (every task
//! published). Only the plan's INSPECTION_COORDINATOR department moves it.
//!
//! Task: DRAWN → ASSIGNED → IN_PROGRESS → COMPLETED → PUBLISHED, flagged
//! `publication_overdue` when unpublished 20 days after completion. Results are recorded by an
//! INSPECTOR department of the plan's authorities. R8: NOT_FOUND_AT_ADDRESS puts the party on
//! the ABNORMAL_OPERATION list; ISSUE_ENFORCEMENT opens an enforcement case (kind
//! `enforcement_case`: OPEN → CLOSED_NO_ACTION, or CLOSED_PENALISED naming the dishonesty
//! record it led to, by an ENFORCEMENT_AUTHORITY).
//!
//! # The draw (`DRAW-HMAC-SHA256-V1`)
//!
//! 1. The target pool is stored in the order added, each party once, with its risk class (its
//!    SAMR_RISK grade in force when added; `B` when unrated) and whether R7 makes it a
//!    TARGETED task (tax grade D, SAMR class D, customs DISHONEST or SERIOUSLY_DISHONEST, or an
//!    active black-list entry), fixed at commit.
//! 2. Targeted parties get one TARGETED task each, in pool order.
//! 3. For each class A, B, C, D in turn, the other parties of the class are ranked by
//!    `HMAC-SHA256(key = seed, message = USCC)` ascending (bytes compared as unsigned); the
//!    first `ceil(n × ratio ÷ 1000)` get a RANDOM task (ratios in per mille, from the policy
//!    when the plan was made).
//! 4. Tasks are numbered `<plan_id>-<n>` from 1 in that order. Each task's two inspectors are
//!    the first two of the inspector pool ranked by `HMAC-SHA256(seed, "<task_id>:<inspector>")`.
//!
//! `concordat inspection draw PLAN --verify` recomputes it from the ledger's data.

use serde::{Deserialize, Serialize};

use concordat_primitives::Hash;

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::credit::{self, ListEntry, ListStatus, ListType, Scheme};
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change, Table};
use crate::roles::Role;
use crate::state::Overlay;
use crate::time::Date;

/// Longest plan id.
pub const MAX_PLAN_ID_BYTES: usize = 48;
/// Most parties in a target pool.
pub const MAX_POOL: usize = 2000;
/// Most parties added by one call.
pub const MAX_POOL_BATCH: usize = 500;
/// Most inspectors in a pool.
pub const MAX_INSPECTORS: usize = 200;
/// Most item codes or authorities per plan.
pub const MAX_PLAN_LIST: usize = 16;
/// Days after completion within which a result is published.
pub const PUBLISH_WITHIN_DAYS: u64 = 20;
/// The draw algorithm's name.
pub const DRAW_ALGORITHM: &str = "DRAW-HMAC-SHA256-V1";

/// Plan status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanStatus {
    /// Pools being filled.
    Draft,
    /// Pools fixed.
    Committed,
    /// Seed revealed, tasks drawn.
    Drawn,
    /// Every task published.
    Closed,
}

/// One party of the target pool.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    /// The party.
    pub uscc: Uscc,
    /// Its risk class (A to D).
    pub class: String,
    /// Why R7 makes it a targeted task, if it does (fixed at commit).
    pub targeted: Option<String>,
    /// A complaint about it (its reference): a targeted task whatever its class.
    pub complaint: Option<String>,
}

/// Sampling ratios per risk class, in per mille.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratios {
    /// Class A (low risk; in principle not drawn).
    pub a: u32,
    /// Class B.
    pub b: u32,
    /// Class C.
    pub c: u32,
    /// Class D.
    pub d: u32,
}

impl Ratios {
    fn of(&self, class: &str) -> u32 {
        match class {
            "A" => self.a,
            "B" => self.b,
            "C" => self.c,
            _ => self.d,
        }
    }
}

/// A double-random inspection plan.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InspectionPlan {
    /// Id.
    pub plan_id: String,
    /// The coordinating department.
    pub coordinator: Uscc,
    /// The departments inspecting (joint plans name several).
    pub authorities: Vec<Uscc>,
    /// Inspection item codes.
    pub item_codes: Vec<String>,
    /// How the pool was chosen, for people.
    pub pool_query: String,
    /// The target pool.
    pub pool: Vec<PoolEntry>,
    /// The inspector pool (pseudonymous inspector ids).
    pub inspectors: Vec<String>,
    /// Sampling ratios (from the policy when the plan was made).
    pub ratios: Ratios,
    /// SHA-256 of the seed, committed at creation.
    pub seed_commitment: Hash,
    /// SHA-256 of the canonical target pool, at commit.
    pub pool_snapshot_hash: Option<Hash>,
    /// SHA-256 of the canonical inspector pool, at commit.
    pub inspector_pool_snapshot_hash: Option<Hash>,
    /// The seed, once revealed (hex).
    pub seed_reveal: Option<String>,
    /// The draw algorithm.
    pub draw_algorithm: String,
    /// The tasks drawn, in order.
    pub task_ids: Vec<String>,
    /// Status.
    pub status: PlanStatus,
    /// Every status change.
    pub history: Vec<Change<PlanStatus>>,
}

stateful!(
    InspectionPlan,
    PlanStatus,
    "inspection plan",
    plan_id,
    [(Draft, Committed), (Committed, Drawn), (Drawn, Closed)]
);

impl Versioned for InspectionPlan {
    const APPENDED: &'static [&'static str] = &[];
}

/// Task status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Drawn.
    Drawn,
    /// Inspectors confirmed.
    Assigned,
    /// Inspection under way.
    InProgress,
    /// Result recorded.
    Completed,
    /// Result published.
    Published,
}

/// Random or targeted.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskKind {
    /// Drawn at random.
    Random,
    /// Targeted (R7).
    Targeted,
}

/// An inspection result.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionResult {
    /// Nothing found.
    NoIssue,
    /// Corrected on site.
    CorrectedOnSite,
    /// An issue for enforcement (R8: an enforcement case).
    IssueEnforcement,
    /// Not found at its address (R8: the abnormal-operation list).
    NotFoundAtAddress,
}

/// A recusal and its replacement.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Recusal {
    /// Who withdrew.
    pub inspector: String,
    /// Why (a conflict of interest).
    pub reason: String,
    /// Who replaced them: the next of the task's ranking not already on it.
    pub replacement: String,
}

/// An inspection task.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InspectionTask {
    /// Id (`<plan_id>-<n>`).
    pub task_id: String,
    /// The plan.
    pub plan_id: String,
    /// The party inspected.
    pub target: Uscc,
    /// Random or targeted.
    pub kind: TaskKind,
    /// Why targeted.
    pub targeted_because: Option<String>,
    /// The inspectors (at least two).
    pub inspectors: Vec<String>,
    /// Recusals, in order.
    pub recusals: Vec<Recusal>,
    /// The result.
    pub result: Option<InspectionResult>,
    /// The inspection record's reference.
    pub result_ref: Option<String>,
    /// Completed on.
    pub completed_on: Option<Date>,
    /// Publish by this date (completion + 20 days).
    pub publish_due: Option<Date>,
    /// Published on.
    pub published_on: Option<Date>,
    /// Flagged unpublished after its due date.
    pub publication_overdue: bool,
    /// The enforcement case R8 opened, for ISSUE_ENFORCEMENT.
    pub enforcement_case: Option<String>,
    /// The list entry R8 made, for NOT_FOUND_AT_ADDRESS.
    pub list_entry: Option<String>,
    /// Status.
    pub status: TaskStatus,
    /// Every status change.
    pub history: Vec<Change<TaskStatus>>,
}

stateful!(
    InspectionTask,
    TaskStatus,
    "inspection task",
    task_id,
    [
        (Drawn, Assigned),
        (Assigned, InProgress),
        (InProgress, Completed),
        (Completed, Published),
    ]
);

impl Versioned for InspectionTask {
    const APPENDED: &'static [&'static str] = &[];
}

/// Enforcement case status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    /// Opened by an inspection result (R8).
    Open,
    /// Closed without a penalty.
    ClosedNoAction,
    /// Closed with a penalty: its dishonesty record named.
    ClosedPenalised,
}

/// An enforcement case opened by an ISSUE_ENFORCEMENT result (R8).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EnforcementCase {
    /// Id (`EC-<task id>`).
    pub case_id: String,
    /// The party.
    pub party: Uscc,
    /// The task whose result opened it.
    pub task_id: String,
    /// The inspecting department that recorded the result.
    pub opened_by: Uscc,
    /// Opened on.
    pub opened_on: Date,
    /// What was decided.
    pub outcome: Option<String>,
    /// The dishonesty record it led to.
    pub dishonesty_record: Option<String>,
    /// Status.
    pub status: CaseStatus,
    /// Every status change.
    pub history: Vec<Change<CaseStatus>>,
}

stateful!(
    EnforcementCase,
    CaseStatus,
    "enforcement case",
    case_id,
    [(Open, ClosedNoAction), (Open, ClosedPenalised)]
);

impl Versioned for EnforcementCase {
    const APPENDED: &'static [&'static str] = &[];
}

/// State keys of this module.
pub mod keys {
    /// An enforcement case, by id.
    pub fn case(id: &str) -> Vec<u8> {
        [b"enforcement_case/".as_slice(), id.as_bytes()].concat()
    }
    /// A plan, by id.
    pub fn plan(id: &str) -> Vec<u8> {
        [b"inspection_plan/".as_slice(), id.as_bytes()].concat()
    }
    /// A task, by id.
    pub fn task(id: &str) -> Vec<u8> {
        [b"inspection_task/".as_slice(), id.as_bytes()].concat()
    }
}

/// The plans, by id.
pub const PLANS: Table<InspectionPlan> =
    Table::new("inspection plan", "plan_id", MAX_PLAN_ID_BYTES, keys::plan);
/// The tasks, by id.
pub const TASKS: Table<InspectionTask> = Table::new(
    "inspection task",
    "task_id",
    MAX_PLAN_ID_BYTES + 8,
    keys::task,
);

/// The enforcement cases, by id.
pub const CASES: Table<EnforcementCase> = Table::new(
    "enforcement case",
    "case_id",
    MAX_PLAN_ID_BYTES + 16,
    keys::case,
);

/// HMAC-SHA256 (RFC 2104) over SHA-256.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(Hash::digest(key).as_bytes());
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x36)
        .chain(message.iter().copied())
        .collect();
    let inner = Hash::digest(&inner);
    let outer: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner.as_bytes().iter().copied())
        .collect();
    *Hash::digest(&outer).as_bytes()
}

/// One task of a draw.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// Task id.
    pub task_id: String,
    /// Target.
    pub target: Uscc,
    /// Random or targeted.
    pub kind: TaskKind,
    /// Why targeted.
    pub targeted_because: Option<String>,
    /// Its inspectors, ranked.
    pub ranking: Vec<String>,
}

/// The draw of `plan` with `seed` (the module docs give the algorithm). Pure: anyone
/// recomputes it from a plan record.
pub fn draw(plan: &InspectionPlan, seed: &[u8]) -> Vec<Drawn> {
    let mut out: Vec<(Uscc, TaskKind, Option<String>)> = plan
        .pool
        .iter()
        .filter_map(|p| {
            p.targeted
                .clone()
                .map(|why| (p.uscc.clone(), TaskKind::Targeted, Some(why)))
        })
        .collect();
    for class in ["A", "B", "C", "D"] {
        let mut ranked: Vec<([u8; 32], &Uscc)> = plan
            .pool
            .iter()
            .filter(|p| p.targeted.is_none() && p.class == class)
            .map(|p| (hmac_sha256(seed, p.uscc.as_str().as_bytes()), &p.uscc))
            .collect();
        ranked.sort();
        let n = ranked.len() as u64;
        let take = (n * u64::from(plan.ratios.of(class))).div_ceil(1000) as usize;
        out.extend(
            ranked
                .into_iter()
                .take(take)
                .map(|(_, u)| (u.clone(), TaskKind::Random, None)),
        );
    }
    out.into_iter()
        .enumerate()
        .map(|(i, (target, kind, targeted_because))| {
            let task_id = format!("{}-{}", plan.plan_id, i + 1);
            let ranking = inspector_ranking(plan, seed, &task_id);
            Drawn {
                task_id,
                target,
                kind,
                targeted_because,
                ranking,
            }
        })
        .collect()
}

/// The plan's inspectors ranked for `task_id` (step 4 of the draw).
pub fn inspector_ranking(plan: &InspectionPlan, seed: &[u8], task_id: &str) -> Vec<String> {
    let mut ranked: Vec<([u8; 32], &String)> = plan
        .inspectors
        .iter()
        .map(|ins| {
            (
                hmac_sha256(seed, format!("{task_id}:{ins}").as_bytes()),
                ins,
            )
        })
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, i)| i.clone()).collect()
}

/// R7: why `party` gets a targeted task every cycle, if it does.
pub fn targeted_because(state: &Overlay<'_>, party: &Uscc, today: Date) -> Option<String> {
    let grade = |scheme| credit::current_evaluation(state, party, scheme).map(|e| e.grade);
    if grade(Scheme::Tax).as_deref() == Some("D") {
        return Some("R7: tax grade D".into());
    }
    if grade(Scheme::SamrRisk).as_deref() == Some("D") {
        return Some("R7: SAMR risk class D".into());
    }
    if let Some(g) =
        grade(Scheme::Customs).filter(|g| g == "DISHONEST" || g == "SERIOUSLY_DISHONEST")
    {
        return Some(format!("R7: customs tier {g}"));
    }
    credit::LISTS_BY_PARTY
        .ids(state, party)
        .into_iter()
        .find_map(|id| {
            let e = credit::ENTRIES.find(state, &id).ok().flatten()?;
            (e.list_type.is_black() && e.is_active(today))
                .then(|| format!("R7: black-list entry {id}"))
        })
}

/// Inspection calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum InspectionCall {
    /// Create a plan, committing to its seed's SHA-256 (INSPECTION_COORDINATOR).
    CreatePlan {
        /// New plan id.
        plan_id: String,
        /// The other inspecting departments of a joint plan (the coordinator is one anyway).
        authorities: Vec<String>,
        /// Inspection item codes.
        item_codes: Vec<String>,
        /// How the pool is chosen, for people.
        pool_query: String,
        /// SHA-256 of the secret seed (hex).
        seed_commitment: Hash,
    },
    /// Add parties to the target pool (the coordinator; DRAFT).
    AddTargets {
        /// Plan id.
        plan_id: String,
        /// Registered USCCs (at most 500 a call).
        targets: Vec<String>,
    },
    /// Add inspectors to the inspector pool (the coordinator; DRAFT).
    AddInspectors {
        /// Plan id.
        plan_id: String,
        /// Pseudonymous inspector ids.
        inspectors: Vec<String>,
    },
    /// Record a complaint about a party of the target pool (the coordinator; DRAFT): it gets a
    /// targeted task, whatever its class (an A-class party is otherwise not drawn).
    AddComplaint {
        /// Plan id.
        plan_id: String,
        /// The party (in the pool).
        uscc: String,
        /// The complaint's reference.
        reference: String,
    },
    /// Fix the pools (the coordinator): DRAFT → COMMITTED.
    Commit {
        /// Plan id.
        plan_id: String,
    },
    /// Reveal the seed and draw (the coordinator): COMMITTED → DRAWN.
    Draw {
        /// Plan id.
        plan_id: String,
        /// The seed (hex), whose SHA-256 must be the commitment.
        seed: String,
    },
    /// Confirm a task's inspectors (the coordinator): DRAWN → ASSIGNED.
    Assign {
        /// Task id.
        task_id: String,
    },
    /// An inspector withdraws for a conflict of interest (the coordinator): the next of the
    /// task's ranking replaces them.
    Recuse {
        /// Task id.
        task_id: String,
        /// The inspector.
        inspector: String,
        /// Why.
        reason: String,
    },
    /// Start the inspection (an INSPECTOR department of the plan): ASSIGNED → IN_PROGRESS.
    Start {
        /// Task id.
        task_id: String,
    },
    /// Record the result (an INSPECTOR department of the plan): IN_PROGRESS → COMPLETED.
    RecordResult {
        /// Task id.
        task_id: String,
        /// The result.
        result: InspectionResult,
        /// The inspection record's reference.
        result_ref: String,
    },
    /// Publish the result (the coordinator): COMPLETED → PUBLISHED.
    Publish {
        /// Task id.
        task_id: String,
    },
    /// Flag a result unpublished 20 days after completion (anyone).
    FlagOverdue {
        /// Task id.
        task_id: String,
    },
    /// Close a plan whose tasks are all published (the coordinator).
    Close {
        /// Plan id.
        plan_id: String,
    },
    /// Close an enforcement case (ENFORCEMENT_AUTHORITY): with no action, or penalised, naming
    /// the dishonesty record it led to (of the same party).
    CloseCase {
        /// Case id.
        case_id: String,
        /// What was decided.
        outcome: String,
        /// The dishonesty record it led to, if any.
        dishonesty_record: Option<String>,
    },
}

impl InspectionCall {
    /// Who may make the call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        use InspectionCall::*;
        match self {
            Start { .. } | RecordResult { .. } => &[Role::Inspector],
            CloseCase { .. } => &[Role::EnforcementAuthority],
            FlagOverdue { .. } => &Role::ALL,
            _ => &[Role::InspectionCoordinator],
        }
    }

    /// The checks that need no state.
    pub fn precheck(&self) -> Result<(), ExecError> {
        use InspectionCall::*;
        let plan = |v: &str| validate_id("plan_id", v, MAX_PLAN_ID_BYTES);
        let task = |v: &str| validate_id("task_id", v, MAX_PLAN_ID_BYTES + 8);
        match self {
            CreatePlan {
                plan_id,
                authorities,
                item_codes,
                pool_query,
                ..
            } => {
                plan(plan_id)?;
                if authorities.len() > MAX_PLAN_LIST || item_codes.len() > MAX_PLAN_LIST {
                    return Err(invalid(format!(
                        "a plan names at most {MAX_PLAN_LIST} authorities (besides its coordinator) and {MAX_PLAN_LIST} items"
                    )));
                }
                for a in authorities {
                    parse_uscc(a)?;
                }
                for c in item_codes {
                    validate_code("item_codes", c)?;
                }
                validate_text("pool_query", pool_query, MAX_REF_BYTES)
            }
            AddTargets { plan_id, targets } => {
                plan(plan_id)?;
                if targets.is_empty() || targets.len() > MAX_POOL_BATCH {
                    return Err(invalid(format!("1 to {MAX_POOL_BATCH} targets a call")));
                }
                for t in targets {
                    parse_uscc(t)?;
                }
                Ok(())
            }
            AddInspectors {
                plan_id,
                inspectors,
            } => {
                plan(plan_id)?;
                if inspectors.is_empty() || inspectors.len() > MAX_INSPECTORS {
                    return Err(invalid(format!("1 to {MAX_INSPECTORS} inspectors a call")));
                }
                for i in inspectors {
                    validate_id("inspectors", i, 64)?;
                }
                Ok(())
            }
            Commit { plan_id } | Close { plan_id } => plan(plan_id),
            AddComplaint {
                plan_id,
                uscc,
                reference,
            } => {
                plan(plan_id)?;
                parse_uscc(uscc)?;
                validate_text("reference", reference, MAX_REF_BYTES)
            }
            Draw { plan_id, seed } => {
                plan(plan_id)?;
                let bytes =
                    hex::decode(seed).map_err(|e| invalid(format!("seed is not hex: {e}")))?;
                if bytes.len() < 16 || bytes.len() > 64 {
                    return Err(invalid("a seed is 16 to 64 bytes"));
                }
                Ok(())
            }
            Assign { task_id }
            | Start { task_id }
            | Publish { task_id }
            | FlagOverdue { task_id } => task(task_id),
            Recuse {
                task_id,
                inspector,
                reason,
            } => {
                task(task_id)?;
                validate_id("inspector", inspector, 64)?;
                validate_text("reason", reason, MAX_REF_BYTES)
            }
            RecordResult {
                task_id,
                result_ref,
                ..
            } => {
                task(task_id)?;
                validate_text("result_ref", result_ref, MAX_REF_BYTES)
            }
            CloseCase {
                case_id,
                outcome,
                dishonesty_record,
            } => {
                validate_id("case_id", case_id, MAX_PLAN_ID_BYTES + 16)?;
                validate_text("outcome", outcome, MAX_REF_BYTES)?;
                if let Some(r) = dishonesty_record {
                    validate_id("dishonesty_record", r, 64)?;
                }
                Ok(())
            }
        }
    }
}

fn require_coordinator(actor: &Actor, plan: &InspectionPlan) -> Result<(), ExecError> {
    if actor.uscc() != &plan.coordinator {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "plan {} is coordinated by {}; only it may do this",
                plan.plan_id, plan.coordinator
            ),
        ));
    }
    Ok(())
}

fn require_status(plan: &InspectionPlan, status: PlanStatus, what: &str) -> Result<(), ExecError> {
    if plan.status != status {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "plan {} is {:?}; {what} needs it {status:?}",
                plan.plan_id, plan.status
            ),
        ));
    }
    Ok(())
}

fn snapshot<T: Serialize>(value: &T) -> Hash {
    Hash::digest(&concordat_primitives::encoding::to_bytes(value))
}

/// Executes an inspection call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &InspectionCall,
) -> Result<(), ExecError> {
    use InspectionCall::*;
    let today = Date::of_ms(ctx.time_ms);
    let by = actor.uscc().clone();
    match call {
        CreatePlan {
            plan_id,
            authorities,
            item_codes,
            pool_query,
            seed_commitment,
        } => {
            PLANS.require_new(state, plan_id)?;
            let mut auths = Vec::new();
            for a in authorities {
                let u = parse_uscc(a)?;
                if state
                    .get_raw(&crate::state::keys::department(u.as_str()))
                    .is_none()
                {
                    return Err(ExecError::new(
                        ResultCode::NotFound,
                        format!("{u} is not a department"),
                    ));
                }
                auths.push(u);
            }
            if !auths.contains(&by) {
                auths.push(by.clone());
            }
            let p = crate::policy::current(state).credit();
            let status = PlanStatus::Draft;
            let plan = InspectionPlan {
                plan_id: plan_id.clone(),
                coordinator: by.clone(),
                authorities: auths,
                item_codes: item_codes.clone(),
                pool_query: pool_query.clone(),
                pool: Vec::new(),
                inspectors: Vec::new(),
                ratios: Ratios {
                    a: p.inspection_ratio_a_permille,
                    b: p.inspection_ratio_b_permille,
                    c: p.inspection_ratio_c_permille,
                    d: p.inspection_ratio_d_permille,
                },
                seed_commitment: *seed_commitment,
                pool_snapshot_hash: None,
                inspector_pool_snapshot_hash: None,
                seed_reveal: None,
                draw_algorithm: DRAW_ALGORITHM.into(),
                task_ids: Vec::new(),
                status,
                history: vec![Change::now(ctx, status, &by, "seed committed")],
            };
            PLANS.put(state, plan_id, &plan);
        }
        AddTargets { plan_id, targets } => {
            let mut plan = PLANS.load(state, plan_id)?;
            require_coordinator(actor, &plan)?;
            require_status(&plan, PlanStatus::Draft, "adding targets")?;
            for t in targets {
                let u = parse_uscc(t)?;
                crate::party::require_existing(state, &u)?;
                if plan.pool.iter().any(|p| p.uscc == u) {
                    continue;
                }
                if plan.pool.len() >= MAX_POOL {
                    return Err(invalid(format!(
                        "plan {plan_id} already has {MAX_POOL} targets"
                    )));
                }
                let class = credit::current_evaluation(state, &u, Scheme::SamrRisk)
                    .map(|e| e.grade)
                    .unwrap_or_else(|| "B".into());
                plan.pool.push(PoolEntry {
                    uscc: u,
                    class,
                    targeted: None,
                    complaint: None,
                });
            }
            PLANS.put(state, plan_id, &plan);
        }
        AddInspectors {
            plan_id,
            inspectors,
        } => {
            let mut plan = PLANS.load(state, plan_id)?;
            require_coordinator(actor, &plan)?;
            require_status(&plan, PlanStatus::Draft, "adding inspectors")?;
            for i in inspectors {
                if !plan.inspectors.contains(i) {
                    if plan.inspectors.len() >= MAX_INSPECTORS {
                        return Err(invalid(format!(
                            "plan {plan_id} already has {MAX_INSPECTORS} inspectors"
                        )));
                    }
                    plan.inspectors.push(i.clone());
                }
            }
            PLANS.put(state, plan_id, &plan);
        }
        AddComplaint {
            plan_id,
            uscc,
            reference,
        } => {
            let mut plan = PLANS.load(state, plan_id)?;
            require_coordinator(actor, &plan)?;
            require_status(&plan, PlanStatus::Draft, "adding a complaint")?;
            let Some(entry) = plan.pool.iter_mut().find(|p| p.uscc.as_str() == uscc) else {
                return Err(ExecError::new(
                    ResultCode::NotFound,
                    format!("{uscc} is not in the target pool of plan {plan_id}"),
                ));
            };
            entry.complaint = Some(reference.clone());
            PLANS.put(state, plan_id, &plan);
        }
        Commit { plan_id } => {
            let mut plan = PLANS.load(state, plan_id)?;
            require_coordinator(actor, &plan)?;
            if plan.inspectors.len() < 2 {
                return Err(invalid(format!(
                    "plan {plan_id} needs at least two inspectors"
                )));
            }
            for p in plan.pool.iter_mut() {
                p.targeted = targeted_because(state, &p.uscc, today)
                    .or_else(|| p.complaint.as_ref().map(|c| format!("complaint {c}")));
            }
            plan.pool_snapshot_hash = Some(snapshot(&plan.pool));
            plan.inspector_pool_snapshot_hash = Some(snapshot(&plan.inspectors));
            record::transition(&mut plan, PlanStatus::Committed, ctx, &by, "pools fixed")?;
            PLANS.put(state, plan_id, &plan);
        }
        Draw { plan_id, seed } => {
            let mut plan = PLANS.load(state, plan_id)?;
            require_coordinator(actor, &plan)?;
            require_status(&plan, PlanStatus::Committed, "the draw")?;
            let bytes = hex::decode(seed).map_err(|e| invalid(format!("seed is not hex: {e}")))?;
            if Hash::digest(&bytes) != plan.seed_commitment {
                return Err(ExecError::new(
                    ResultCode::InvalidArgument,
                    format!(
                        "the seed's SHA-256 is {}, not the commitment {}",
                        Hash::digest(&bytes),
                        plan.seed_commitment
                    ),
                ));
            }
            let drawn = draw(&plan, &bytes);
            for d in &drawn {
                let status = TaskStatus::Drawn;
                let task = InspectionTask {
                    task_id: d.task_id.clone(),
                    plan_id: plan_id.clone(),
                    target: d.target.clone(),
                    kind: d.kind,
                    targeted_because: d.targeted_because.clone(),
                    inspectors: d.ranking.iter().take(2).cloned().collect(),
                    recusals: Vec::new(),
                    result: None,
                    result_ref: None,
                    completed_on: None,
                    publish_due: None,
                    published_on: None,
                    publication_overdue: false,
                    enforcement_case: None,
                    list_entry: None,
                    status,
                    history: vec![Change::now(ctx, status, &by, DRAW_ALGORITHM)],
                };
                TASKS.require_new(state, &task.task_id)?;
                TASKS.put(state, &task.task_id, &task);
            }
            plan.task_ids = drawn.into_iter().map(|d| d.task_id).collect();
            plan.seed_reveal = Some(seed.to_lowercase());
            let basis = format!("{} tasks drawn", plan.task_ids.len());
            record::transition(&mut plan, PlanStatus::Drawn, ctx, &by, &basis)?;
            PLANS.put(state, plan_id, &plan);
        }
        Assign { task_id } => {
            let (plan, mut task) = load_task(state, task_id)?;
            require_coordinator(actor, &plan)?;
            let who = task.inspectors.join(", ");
            record::transition(&mut task, TaskStatus::Assigned, ctx, &by, &who)?;
            TASKS.put(state, task_id, &task);
        }
        Recuse {
            task_id,
            inspector,
            reason,
        } => {
            let (plan, mut task) = load_task(state, task_id)?;
            require_coordinator(actor, &plan)?;
            if !matches!(task.status, TaskStatus::Drawn | TaskStatus::Assigned) {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "task {task_id} is {:?}; inspectors change only before it starts",
                        task.status
                    ),
                ));
            }
            let Some(pos) = task.inspectors.iter().position(|i| i == inspector) else {
                return Err(ExecError::new(
                    ResultCode::NotFound,
                    format!("{inspector} is not an inspector of task {task_id}"),
                ));
            };
            let seed =
                hex::decode(plan.seed_reveal.clone().unwrap_or_default()).unwrap_or_default();
            let ranking = inspector_ranking(&plan, &seed, task_id);
            let withdrawn: Vec<&String> = task.recusals.iter().map(|r| &r.inspector).collect();
            let Some(replacement) = ranking
                .iter()
                .find(|i| !task.inspectors.contains(i) && !withdrawn.contains(i) && *i != inspector)
                .cloned()
            else {
                return Err(invalid(format!(
                    "no inspector of plan {} is left to replace {inspector}",
                    plan.plan_id
                )));
            };
            task.inspectors[pos] = replacement.clone();
            task.recusals.push(Recusal {
                inspector: inspector.clone(),
                reason: reason.clone(),
                replacement,
            });
            TASKS.put(state, task_id, &task);
        }
        Start { task_id } => {
            let (plan, mut task) = load_task(state, task_id)?;
            require_inspecting(actor, &plan)?;
            record::transition(&mut task, TaskStatus::InProgress, ctx, &by, "started")?;
            TASKS.put(state, task_id, &task);
        }
        RecordResult {
            task_id,
            result,
            result_ref,
        } => {
            let (plan, mut task) = load_task(state, task_id)?;
            require_inspecting(actor, &plan)?;
            record::transition(&mut task, TaskStatus::Completed, ctx, &by, result_ref)?;
            task.result = Some(*result);
            task.result_ref = Some(result_ref.clone());
            task.completed_on = Some(today);
            let due = today.add_days(PUBLISH_WITHIN_DAYS);
            task.publish_due = Some(due);
            crate::due::schedule(
                state,
                due.add_days(1),
                crate::due::Event::PublicationOverdue,
                task_id,
            )?;
            match result {
                InspectionResult::NotFoundAtAddress => {
                    let entry_id = format!("AB-{task_id}");
                    credit::add_entry(
                        state,
                        ctx,
                        ListEntry {
                            entry_id: entry_id.clone(),
                            list_type: ListType::AbnormalOperation,
                            party: task.target.clone(),
                            listing_authority: by.clone(),
                            basis_refs: vec![format!("R8: inspection {task_id} ({result_ref})")],
                            listed_on: today,
                            restrictions: ListType::AbnormalOperation
                                .default_restrictions(&crate::policy::current(state).credit()),
                            earliest_removal_request_on: None,
                            auto_remove_on: None,
                            status: ListStatus::Listed,
                            removal: None,
                            history: Vec::new(),
                        },
                    )?;
                    task.list_entry = Some(entry_id);
                }
                InspectionResult::IssueEnforcement => {
                    let case_id = format!("EC-{task_id}");
                    let status = CaseStatus::Open;
                    let case = EnforcementCase {
                        case_id: case_id.clone(),
                        party: task.target.clone(),
                        task_id: task_id.clone(),
                        opened_by: by.clone(),
                        opened_on: today,
                        outcome: None,
                        dishonesty_record: None,
                        status,
                        history: vec![Change::now(ctx, status, &by, &format!("R8: {result_ref}"))],
                    };
                    CASES.require_new(state, &case_id)?;
                    CASES.put(state, &case_id, &case);
                    task.enforcement_case = Some(case_id);
                }
                _ => {}
            }
            TASKS.put(state, task_id, &task);
        }
        Publish { task_id } => {
            let (plan, mut task) = load_task(state, task_id)?;
            require_coordinator(actor, &plan)?;
            record::transition(&mut task, TaskStatus::Published, ctx, &by, "published")?;
            task.published_on = Some(today);
            // Published late: the flag stays with the record.
            if task.publish_due.is_some_and(|d| today > d) {
                task.publication_overdue = true;
            }
            TASKS.put(state, task_id, &task);
        }
        FlagOverdue { task_id } => flag_overdue(state, ctx, task_id)?,
        CloseCase {
            case_id,
            outcome,
            dishonesty_record,
        } => {
            let mut case = CASES.load(state, case_id)?;
            let to = match dishonesty_record {
                Some(id) => {
                    let r = credit::RECORDS.load(state, id)?;
                    if r.party != case.party {
                        return Err(invalid(format!(
                            "dishonesty record {id} concerns {}, case {case_id} concerns {}",
                            r.party, case.party
                        )));
                    }
                    CaseStatus::ClosedPenalised
                }
                None => CaseStatus::ClosedNoAction,
            };
            record::transition(&mut case, to, ctx, &by, outcome)?;
            case.outcome = Some(outcome.clone());
            case.dishonesty_record = dishonesty_record.clone();
            CASES.put(state, case_id, &case);
        }
        Close { plan_id } => {
            let mut plan = PLANS.load(state, plan_id)?;
            require_coordinator(actor, &plan)?;
            for id in &plan.task_ids {
                let t = TASKS.load(state, id)?;
                if t.status != TaskStatus::Published {
                    return Err(ExecError::new(
                        ResultCode::InvalidTransition,
                        format!(
                            "task {id} is {:?}; a plan closes when every task is published",
                            t.status
                        ),
                    ));
                }
            }
            record::transition(
                &mut plan,
                PlanStatus::Closed,
                ctx,
                &by,
                "every task published",
            )?;
            PLANS.put(state, plan_id, &plan);
        }
    }
    Ok(())
}

/// Flags a completed task whose result is still unpublished after its due date (R8); also
/// run by itself the day after the due date.
pub fn flag_overdue(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    task_id: &str,
) -> Result<(), ExecError> {
    let today = Date::of_ms(ctx.time_ms);
    let (_, mut task) = load_task(state, task_id)?;
    let due = task
        .publish_due
        .filter(|d| today > *d && task.status == TaskStatus::Completed);
    if due.is_none() || task.publication_overdue {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "task {task_id} is {:?} (publish by {}); only a completed task unpublished after its due date is flagged, once",
                task.status,
                task.publish_due.map(|d| d.to_string()).unwrap_or("-".into())
            ),
        ));
    }
    task.publication_overdue = true;
    TASKS.put(state, task_id, &task);
    Ok(())
}

fn load_task(
    state: &Overlay<'_>,
    task_id: &str,
) -> Result<(InspectionPlan, InspectionTask), ExecError> {
    let task = TASKS.load(state, task_id)?;
    let plan = PLANS.load(state, &task.plan_id)?;
    Ok((plan, task))
}

fn require_inspecting(actor: &Actor, plan: &InspectionPlan) -> Result<(), ExecError> {
    if !plan.authorities.contains(actor.uscc()) {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "{} is not an inspecting authority of plan {}",
                actor.uscc(),
                plan.plan_id
            ),
        ));
    }
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "inspection_plan",
        "double-random inspection plan",
        "a plan id",
        "DR-2026-Q3",
        Id::Record(keys::plan),
        crate::kinds::Decoder::versioned::<InspectionPlan>(),
    )
    .stateful::<InspectionPlan>(),
    KindSpec::new(
        "enforcement_case",
        "enforcement case (R8)",
        "a case id (EC-task id)",
        "EC-DR-2026-Q3-1",
        Id::Record(keys::case),
        crate::kinds::Decoder::versioned::<EnforcementCase>(),
    )
    .stateful::<EnforcementCase>(),
    KindSpec::new(
        "inspection_task",
        "inspection task",
        "a task id (PLAN-n)",
        "DR-2026-Q3-1",
        Id::Record(keys::task),
        crate::kinds::Decoder::versioned::<InspectionTask>(),
    )
    .stateful::<InspectionTask>(),
];
