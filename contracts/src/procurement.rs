//! Procurement bids (record kind H of domain.md) and R5: the bidder submits; the purchaser
//! checks eligibility at submission and again at evaluation (the evaluation result prevails),
//! then awards; the bidder may withdraw. Each check stores its decision with every reason's
//! basis (statute, policy or flag), the record it read, and the height of the state it read,
//! so anyone can replay it.
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | SUBMITTED | the bidder (ENTERPRISE) | bidder EXISTING (R2); the block date within [announced, deadline]; the purchaser a PURCHASER department |
//! | SUBMITTED | ACCEPTED or REJECTED_INELIGIBLE | the purchaser (`CheckEligibility`, stage SUBMISSION) | the block date within [announced, deadline] |
//! | ACCEPTED | ACCEPTED or DISQUALIFIED | the purchaser (stage EVALUATION) | — |
//! | ACCEPTED | AWARDED or NOT_AWARDED | the purchaser | an EVALUATION check found it eligible |
//! | SUBMITTED, ACCEPTED | WITHDRAWN | the bidder; R2 when the bidder closes | — |

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::roles::Role;
use crate::rules::r5_procurement_eligibility::{self, Reason};
use crate::state::Overlay;
use crate::time::Date;

/// Longest bid id or project number.
pub const MAX_BID_ID_BYTES: usize = 64;
/// Most bids indexed per bidder.
pub const MAX_BIDS_PER_BIDDER: usize = 4096;
/// Most eligibility checks kept per bid.
pub const MAX_CHECKS: usize = 16;

/// Bid status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BidStatus {
    /// Submitted, not yet checked.
    Submitted,
    /// Eligible at its last check.
    Accepted,
    /// Ineligible at submission (terminal).
    RejectedIneligible,
    /// Ineligible at evaluation (terminal).
    Disqualified,
    /// Awarded (terminal).
    Awarded,
    /// Not awarded (terminal).
    NotAwarded,
    /// Withdrawn (terminal).
    Withdrawn,
}

/// When a check is made.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    /// At submission (within the bidding window).
    Submission,
    /// At evaluation (its result prevails).
    Evaluation,
}

/// One stored eligibility check.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EligibilityCheck {
    /// Stage.
    pub stage: Stage,
    /// Block time (ms).
    pub at_ms: u64,
    /// The height of the state it read (the block before the check's).
    pub state_height: u64,
    /// No bar applied.
    pub eligible: bool,
    /// The bars.
    pub bars: Vec<Reason>,
    /// The flags.
    pub flags: Vec<Reason>,
}

/// A procurement bid.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Bid {
    /// Id.
    pub bid_id: String,
    /// The procurement project number.
    pub project_no: String,
    /// The purchaser.
    pub purchaser: Uscc,
    /// The bidder.
    pub bidder: Uscc,
    /// Announcement date.
    pub announced_on: Date,
    /// Bid deadline (the last day).
    pub deadline_on: Date,
    /// Block time submitted (ms).
    pub submitted_at_ms: u64,
    /// Every eligibility check, oldest first.
    pub checks: Vec<EligibilityCheck>,
    /// Status.
    pub status: BidStatus,
    /// Every status change.
    pub history: Vec<Change<BidStatus>>,
}

stateful!(
    Bid,
    BidStatus,
    "bid",
    bid_id,
    [
        (Submitted, Accepted),
        (Submitted, RejectedIneligible),
        (Accepted, Disqualified),
        (Accepted, Awarded),
        (Accepted, NotAwarded),
        (Submitted, Withdrawn),
        (Accepted, Withdrawn),
    ]
);

impl Versioned for Bid {
    const APPENDED: &'static [&'static str] = &[];
}

/// State keys of this module.
pub mod keys {
    /// A bid, by id.
    pub fn bid(id: &str) -> Vec<u8> {
        [b"bid/".as_slice(), id.as_bytes()].concat()
    }
    /// The bid ids of a bidder.
    pub fn bids_of(uscc: &str) -> Vec<u8> {
        [b"bids_by_bidder/".as_slice(), uscc.as_bytes()].concat()
    }
}

/// The bids, by id.
pub const BIDS: Table<Bid> = Table::new("bid", "bid_id", MAX_BID_ID_BYTES, keys::bid);
/// The bid ids of each bidder.
pub const BY_BIDDER: OwnerIndex = OwnerIndex {
    what: "bids",
    cap: MAX_BIDS_PER_BIDDER,
    key: keys::bids_of,
};

/// Procurement calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum ProcurementCall {
    /// Submit a bid (ENTERPRISE, for itself).
    Submit {
        /// New bid id.
        bid_id: String,
        /// The project number.
        project_no: String,
        /// The purchaser (a PURCHASER department).
        purchaser: String,
        /// Announcement date.
        announced_on: Date,
        /// Last day for bids.
        deadline_on: Date,
    },
    /// Check the bidder's eligibility (the purchaser).
    CheckEligibility {
        /// Bid id.
        bid_id: String,
        /// Stage.
        stage: Stage,
    },
    /// Award or not (the purchaser).
    Award {
        /// Bid id.
        bid_id: String,
        /// Awarded.
        awarded: bool,
    },
    /// Withdraw (the bidder).
    Withdraw {
        /// Bid id.
        bid_id: String,
    },
}

impl ProcurementCall {
    /// Who may make the call (the rest is checked on the bid).
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            ProcurementCall::Submit { .. } | ProcurementCall::Withdraw { .. } => {
                &[Role::Enterprise]
            }
            ProcurementCall::CheckEligibility { .. } | ProcurementCall::Award { .. } => {
                &[Role::Purchaser]
            }
        }
    }

    /// The checks that need no state.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let bid = |v: &str| validate_id("bid_id", v, MAX_BID_ID_BYTES);
        match self {
            ProcurementCall::Submit {
                bid_id,
                project_no,
                purchaser,
                announced_on,
                deadline_on,
            } => {
                bid(bid_id)?;
                validate_text("project_no", project_no, MAX_REF_BYTES)?;
                parse_uscc(purchaser)?;
                if deadline_on < announced_on {
                    return Err(invalid(format!(
                        "deadline_on {deadline_on} is before announced_on {announced_on}"
                    )));
                }
                Ok(())
            }
            ProcurementCall::CheckEligibility { bid_id, .. }
            | ProcurementCall::Award { bid_id, .. }
            | ProcurementCall::Withdraw { bid_id } => bid(bid_id),
        }
    }
}

fn require_purchaser(actor: &Actor, b: &Bid) -> Result<(), ExecError> {
    if actor.uscc() != &b.purchaser {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!("bid {} is to {}; only it decides", b.bid_id, b.purchaser),
        ));
    }
    Ok(())
}

fn in_window(b: &Bid, today: Date) -> Result<(), ExecError> {
    if today < b.announced_on || today > b.deadline_on {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "bid {}: the bidding window is {} to {}; today is {today}",
                b.bid_id, b.announced_on, b.deadline_on
            ),
        ));
    }
    Ok(())
}

/// Executes a procurement call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &ProcurementCall,
) -> Result<(), ExecError> {
    let today = Date::of_ms(ctx.time_ms);
    let by = actor.uscc().clone();
    match call {
        ProcurementCall::Submit {
            bid_id,
            project_no,
            purchaser,
            announced_on,
            deadline_on,
        } => {
            let bidder = crate::party::require_existing(state, actor.uscc())?;
            let purchaser = parse_uscc(purchaser)?;
            let dept = crate::governance::department_profile(state, purchaser.as_str());
            if !dept.is_some_and(|d| d.has_role(Role::Purchaser)) {
                return Err(ExecError::new(
                    ResultCode::NotFound,
                    format!("{purchaser} is not a purchaser department"),
                ));
            }
            BIDS.require_new(state, bid_id)?;
            let status = BidStatus::Submitted;
            let b = Bid {
                bid_id: bid_id.clone(),
                project_no: project_no.clone(),
                purchaser,
                bidder: bidder.uscc.clone(),
                announced_on: *announced_on,
                deadline_on: *deadline_on,
                submitted_at_ms: ctx.time_ms,
                checks: Vec::new(),
                status,
                history: vec![Change::now(ctx, status, &bidder.uscc, project_no)],
            };
            in_window(&b, today)?;
            BY_BIDDER.add(state, &bidder.uscc, bid_id)?;
            BIDS.put(state, bid_id, &b);
        }
        ProcurementCall::CheckEligibility { bid_id, stage } => {
            let mut b = BIDS.load(state, bid_id)?;
            require_purchaser(actor, &b)?;
            let expected = match stage {
                Stage::Submission => BidStatus::Submitted,
                Stage::Evaluation => BidStatus::Accepted,
            };
            if b.status != expected {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "bid {bid_id} is {:?}; a {stage:?} check needs it {expected:?}",
                        b.status
                    ),
                ));
            }
            if *stage == Stage::Submission {
                in_window(&b, today)?;
            }
            if b.checks.len() >= MAX_CHECKS {
                return Err(invalid(format!("bid {bid_id} has {MAX_CHECKS} checks")));
            }
            let e = r5_procurement_eligibility::procurement(state, &b.bidder, today);
            let to = match (stage, e.eligible) {
                (Stage::Submission, true) => Some(BidStatus::Accepted),
                (Stage::Submission, false) => Some(BidStatus::RejectedIneligible),
                (Stage::Evaluation, true) => None,
                (Stage::Evaluation, false) => Some(BidStatus::Disqualified),
            };
            let basis = if e.eligible {
                format!("R5 {stage:?} check: eligible")
            } else {
                let rules: Vec<String> = e
                    .bars
                    .iter()
                    .map(|r| format!("{} {}", r.rule, r.id))
                    .collect();
                format!("R5 {stage:?} check: {}", rules.join("; "))
            };
            b.checks.push(EligibilityCheck {
                stage: *stage,
                at_ms: ctx.time_ms,
                state_height: ctx.height.saturating_sub(1),
                eligible: e.eligible,
                bars: e.bars,
                flags: e.flags,
            });
            if let Some(to) = to {
                record::transition(&mut b, to, ctx, &by, &basis)?;
            }
            BIDS.put(state, bid_id, &b);
        }
        ProcurementCall::Award { bid_id, awarded } => {
            let mut b = BIDS.load(state, bid_id)?;
            require_purchaser(actor, &b)?;
            let evaluated = b
                .checks
                .last()
                .is_some_and(|c| c.stage == Stage::Evaluation && c.eligible);
            if b.status == BidStatus::Accepted && !evaluated {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!("bid {bid_id} has no eligibility check at evaluation, whose result prevails (R5)"),
                ));
            }
            let to = if *awarded {
                BidStatus::Awarded
            } else {
                BidStatus::NotAwarded
            };
            record::transition(&mut b, to, ctx, &by, "")?;
            BIDS.put(state, bid_id, &b);
        }
        ProcurementCall::Withdraw { bid_id } => {
            let mut b = BIDS.load(state, bid_id)?;
            if actor.uscc() != &b.bidder {
                return Err(ExecError::new(
                    ResultCode::Unauthorised,
                    format!("bid {bid_id} is {}'s; only it withdraws", b.bidder),
                ));
            }
            record::transition(
                &mut b,
                BidStatus::Withdrawn,
                ctx,
                &by,
                "withdrawn by the bidder",
            )?;
            BIDS.put(state, bid_id, &b);
        }
    }
    Ok(())
}

/// R2: withdraws the open bids of a bidder that stopped existing.
pub fn cascade_bidder(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    bidder: &Uscc,
    why: &str,
) -> Result<(), ExecError> {
    for id in BY_BIDDER.ids(state, bidder) {
        let Some(mut b) = BIDS.find(state, &id)? else {
            continue;
        };
        if matches!(b.status, BidStatus::Submitted | BidStatus::Accepted) {
            record::transition(
                &mut b,
                BidStatus::Withdrawn,
                ctx,
                by,
                &format!("R2: bidder {why}"),
            )?;
            BIDS.put(state, &id, &b);
        }
    }
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "bid",
        "procurement bid",
        "a bid id",
        "BID-2026-0001",
        Id::Record(keys::bid),
        crate::kinds::Decoder::versioned::<Bid>(),
    )
    .stateful::<Bid>(),
    KindSpec::new(
        "party_bids",
        "a bidder's bids",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::bids_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
];
