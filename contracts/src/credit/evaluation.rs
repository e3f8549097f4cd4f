//! Credit evaluations (record kind D of domain.md): a grade per party, scheme and period,
//! published by the scheme's owner only, objected to by the party (R16: it stays published,
//! marked under objection, until the owner decides within the policy's days), and superseded
//! when the next period's evaluation is published.
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | PROVISIONAL | the scheme owner: TAX_AUTHORITY (TAX: A, B, M, C, D), ENFORCEMENT_AUTHORITY (SAMR_RISK: A to D), CUSTOMS (CUSTOMS: the five tiers of GACC Order 282), CREDIT_PLATFORM (LOCAL) | party registered; grade valid for the scheme |
//! | PROVISIONAL | PUBLISHED | the evaluator | its period is later than the current published one's |
//! | PUBLISHED | UNDER_OBJECTION | the party | — |
//! | UNDER_OBJECTION | CORRECTED (new grade) or PUBLISHED | the evaluator | its decision |
//! | PUBLISHED, UNDER_OBJECTION, CORRECTED | SUPERSEDED | automatic, when the next period's evaluation of the scheme is published | — |
//!
//! The party's current evaluation per scheme is indexed (`party_evaluation`, id
//! `USCC:SCHEME`), so "E1's tax grade is D" is a provable record.

use serde::{Deserialize, Serialize};

use super::dishonesty::Objection;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::Uscc;
use crate::kinds::Versioned;
use crate::record::{self, stateful, Change, Table};
use crate::roles::Role;
use crate::state::Overlay;
use crate::time::Date;

/// Longest evaluation id.
pub const MAX_EVALUATION_ID_BYTES: usize = 64;

/// The evaluation schemes.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Scheme {
    /// Tax credit grades (纳税信用): A, B, M, C, D, yearly.
    Tax,
    /// Market-regulation risk classes: A, B, C, D, monthly.
    SamrRisk,
    /// Customs enterprise credit (GACC Order 282, in force 2026-04-01).
    Customs,
    /// A local scheme.
    Local,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 4] = [
        Scheme::Tax,
        Scheme::SamrRisk,
        Scheme::Customs,
        Scheme::Local,
    ];

    /// The scheme as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Tax => "TAX",
            Scheme::SamrRisk => "SAMR_RISK",
            Scheme::Customs => "CUSTOMS",
            Scheme::Local => "LOCAL",
        }
    }

    /// The role that owns the scheme.
    pub fn owner_role(self) -> Role {
        match self {
            Scheme::Tax => Role::TaxAuthority,
            Scheme::SamrRisk => Role::EnforcementAuthority,
            Scheme::Customs => Role::Customs,
            Scheme::Local => Role::CreditPlatform,
        }
    }

    /// The grades of the scheme (`None`: any code, for local schemes).
    pub fn grades(self) -> Option<&'static [&'static str]> {
        match self {
            Scheme::Tax => Some(&["A", "B", "M", "C", "D"]),
            Scheme::SamrRisk => Some(&["A", "B", "C", "D"]),
            Scheme::Customs => Some(&[
                "AEO_ADVANCED",
                "AEO_CERTIFIED",
                "REGULAR",
                "DISHONEST",
                "SERIOUSLY_DISHONEST",
            ]),
            Scheme::Local => None,
        }
    }

    /// Checks `grade` against the scheme.
    pub fn check_grade(self, grade: &str) -> Result<(), ExecError> {
        crate::ids::validate_code("grade", grade)?;
        match self.grades() {
            Some(g) if !g.contains(&grade) => Err(invalid(format!(
                "{grade:?} is not a {} grade ({})",
                self.as_str(),
                g.join(", ")
            ))),
            _ => Ok(()),
        }
    }
}

/// Evaluation status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EvaluationStatus {
    /// Not yet published.
    Provisional,
    /// Published: the grade in force.
    Published,
    /// Published and objected to (R16): still in force, marked.
    UnderObjection,
    /// Corrected after an upheld objection: the corrected grade in force.
    Corrected,
    /// Replaced by the next period's evaluation.
    Superseded,
}

/// A credit evaluation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CreditEvaluation {
    /// Id.
    pub evaluation_id: String,
    /// The party.
    pub party: Uscc,
    /// Scheme.
    pub scheme: Scheme,
    /// The grade in force (the corrected one after an upheld objection).
    pub grade: String,
    /// The grade first published, when corrected.
    pub original_grade: Option<String>,
    /// Score, where the scheme has one.
    pub score: Option<u32>,
    /// Period (`2025` for a tax year, `2026-05` for a month…); later periods sort later.
    pub period: String,
    /// The evaluating department.
    pub evaluator: Uscc,
    /// Basis documents.
    pub basis_refs: Vec<String>,
    /// Published on.
    pub published_on: Option<Date>,
    /// Status.
    pub status: EvaluationStatus,
    /// The latest objection (R16).
    pub objection: Option<Objection>,
    /// The evaluation that superseded it.
    pub superseded_by: Option<String>,
    /// Every status change.
    pub history: Vec<Change<EvaluationStatus>>,
}

stateful!(
    CreditEvaluation,
    EvaluationStatus,
    "credit evaluation",
    evaluation_id,
    [
        (Provisional, Published),
        (Published, UnderObjection),
        (UnderObjection, Corrected),
        (UnderObjection, Published),
        (Published, Superseded),
        (UnderObjection, Superseded),
        (Corrected, Superseded),
    ]
);

impl Versioned for CreditEvaluation {
    const APPENDED: &'static [&'static str] = &[];
}

impl CreditEvaluation {
    /// True iff its grade is the one in force for its party and scheme.
    pub fn in_force(&self) -> bool {
        matches!(
            self.status,
            EvaluationStatus::Published
                | EvaluationStatus::UnderObjection
                | EvaluationStatus::Corrected
        )
    }
}

/// State keys of this module.
pub mod keys {
    use super::Scheme;

    /// An evaluation, by id.
    pub fn evaluation(id: &str) -> Vec<u8> {
        [b"evaluation/".as_slice(), id.as_bytes()].concat()
    }
    /// The id of a party's evaluation in force for a scheme.
    pub fn current(uscc: &str, scheme: Scheme) -> Vec<u8> {
        [
            b"evaluation_current/".as_slice(),
            uscc.as_bytes(),
            b"/",
            scheme.as_str().as_bytes(),
        ]
        .concat()
    }
}

/// The kind `party_evaluation`'s id rule: `USCC:SCHEME`.
pub fn current_key_of_id(id: &str) -> Result<Vec<u8>, String> {
    let rule = || {
        format!(
            "a party_evaluation id is USCC:SCHEME, SCHEME one of {}",
            Scheme::ALL.map(|s| s.as_str()).join(", ")
        )
    };
    let (uscc, scheme) = id.split_once(':').ok_or_else(rule)?;
    Uscc::parse(uscc).map_err(|e| e.to_string())?;
    let scheme = Scheme::ALL
        .into_iter()
        .find(|s| s.as_str() == scheme)
        .ok_or_else(rule)?;
    Ok(keys::current(uscc, scheme))
}

/// The evaluations, by id.
pub const EVALUATIONS: Table<CreditEvaluation> = Table::new(
    "credit evaluation",
    "evaluation_id",
    MAX_EVALUATION_ID_BYTES,
    keys::evaluation,
);

/// The party's evaluation in force for `scheme`, if any.
pub fn current(state: &Overlay<'_>, party: &Uscc, scheme: Scheme) -> Option<CreditEvaluation> {
    let id: String = state.get(&keys::current(party.as_str(), scheme))?;
    EVALUATIONS.find(state, &id).ok().flatten()
}

/// Publishes `e` (PROVISIONAL → PUBLISHED): it becomes the party's evaluation in force for its
/// scheme, and the one it replaces is SUPERSEDED. A period not later than the current one's
/// is refused.
pub fn publish(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    mut e: CreditEvaluation,
    by: &Uscc,
) -> Result<(), ExecError> {
    let today = Date::of_ms(ctx.time_ms);
    let previous = current(state, &e.party, e.scheme);
    if let Some(p) = &previous {
        if p.period >= e.period {
            return Err(ExecError::new(
                ResultCode::InvalidTransition,
                format!(
                    "{} of {} for period {} is in force; evaluation {} is for period {}, not a later one",
                    p.evaluation_id, e.party, p.period, e.evaluation_id, e.period
                ),
            ));
        }
    }
    record::transition(&mut e, EvaluationStatus::Published, ctx, by, "published")?;
    e.published_on = Some(today);
    EVALUATIONS.put(state, &e.evaluation_id, &e);
    state.put(keys::current(e.party.as_str(), e.scheme), &e.evaluation_id);
    if let Some(mut p) = previous {
        let basis = format!("superseded by {} (period {})", e.evaluation_id, e.period);
        record::transition(&mut p, EvaluationStatus::Superseded, ctx, by, &basis)?;
        p.superseded_by = Some(e.evaluation_id.clone());
        EVALUATIONS.put(state, &p.evaluation_id, &p);
    }
    Ok(())
}
