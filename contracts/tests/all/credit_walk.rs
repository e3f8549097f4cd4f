//! The walks of the credit kinds for the kind-generic test (`kinds.rs`): a dishonesty record
//! `DR` of E1 (GENERAL or LIGHT) and a list entry `E` of E1 (an IPR dishonesty entry, or a
//! RED_TAX_A entry that a black-list entry `BL` suspends).

use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::credit::{CreditCall, DishonestyCategory, ListType, Scheme, Severity};
use concordat_contracts::procurement::{ProcurementCall, Stage};
use concordat_contracts::time::Date;
use concordat_contracts::Call;
use concordat_primitives::Hash;
use concordat_testkit::chain::Chain;
use concordat_testkit::fixture::*;

use crate::kinds::{mv, Move};

const DAY_MS: u64 = 86_400_000;

pub(crate) fn d(s: &str) -> Date {
    Date::parse(s).expect("date")
}

pub(crate) fn credit(call: CreditCall) -> Call {
    Call::Credit(call)
}

/// E1's public repair commitment `RC`.
pub(crate) fn repair_commitment() -> Call {
    Call::Commitment(CommitmentCall::Make {
        commitment_id: "RC".into(),
        kind: CommitmentKind::RepairCommitment,
        text_hash: Hash::digest(b"repair commitment"),
        relates_to: Some("DR".into()),
        seal_signature_id: None,
        addressed_to: None,
    })
}

/// A chain on 2026-05-01 with E1's record `DR` (GENERAL dated 2026-01-01, or LIGHT dated
/// 2026-04-20: both repairable now), its one obligation fulfilled and E1's repair commitment.
fn with_record(severity: Severity) -> Chain {
    let mut chain = credit_baseline();
    let date = if severity == Severity::Light {
        "2026-04-20"
    } else {
        "2026-01-01"
    };
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::RecordDishonesty {
            record_id: "DR".into(),
            party: E1.into(),
            basis_doc_no: "京朝市监罚〔2026〕1号".into(),
            basis_doc_date: d(date),
            category: DishonestyCategory::AdminPenalty,
            severity,
            obligations: vec!["FINE_PAID".into()],
            relates_to: None,
            penalty: None,
        }),
    );
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::FulfilObligation {
            record_id: "DR".into(),
            index: 0,
            evidence: "缴款书 001".into(),
        }),
    );
    chain.ok(&ent_key(E1), repair_commitment());
    chain
}

pub(crate) fn record_in(status: &str) -> Vec<Chain> {
    let starts = [with_record(Severity::General), with_record(Severity::Light)];
    let apply = |mut chain: Chain, moves: &[usize]| {
        for i in moves {
            let m = record_moves().swap_remove(*i);
            chain.time_ms += m.advance_ms;
            if m.txs.is_empty() {
                chain.block(&[]);
            }
            for (signer, call) in m.txs {
                chain.ok(&signer, call);
            }
        }
        chain
    };
    let [general, light] = starts;
    match status {
        "PUBLICIZED" => vec![general],
        "NOT_PUBLICIZED" => vec![light],
        "REPAIR_REQUESTED" => vec![apply(general, &[0]), apply(light, &[0])],
        "REPAIRED" => vec![apply(general, &[0, 1])],
        "UNDER_OBJECTION" => vec![apply(general, &[5]), apply(light, &[5])],
        "EXPIRED" => vec![apply(general, &[4])],
        "WITHDRAWN" => vec![apply(general, &[3])],
        other => panic!("no way to {other}"),
    }
}

pub(crate) fn record_moves() -> Vec<Move> {
    let id = || "DR".to_string();
    vec![
        mv(
            "request repair",
            ent_key(E1),
            credit(CreditCall::RequestRepair {
                record_id: id(),
                commitment_id: "RC".into(),
            }),
        ),
        mv(
            "approve repair",
            dept_key(CREDIT),
            credit(CreditCall::DecideRepair {
                record_id: id(),
                approve: true,
                reason: "整改到位".into(),
            }),
        ),
        mv(
            "reject repair",
            dept_key(CREDIT),
            credit(CreditCall::DecideRepair {
                record_id: id(),
                approve: false,
                reason: "材料不全".into(),
            }),
        ),
        mv(
            "withdraw",
            dept_key(BJSAMR),
            credit(CreditCall::Withdraw {
                record_id: id(),
                basis: "行政复议撤销".into(),
            }),
        ),
        Move {
            name: "the maximum window passes",
            advance_ms: 400 * DAY_MS,
            txs: vec![],
        },
        mv(
            "object",
            ent_key(E1),
            credit(CreditCall::Object {
                record_id: id(),
                reason: "事实有误".into(),
            }),
        ),
        mv(
            "objection rejected",
            dept_key(BJSAMR),
            credit(CreditCall::DecideObjection {
                record_id: id(),
                uphold: false,
                decision: "维持".into(),
            }),
        ),
        mv(
            "objection upheld",
            dept_key(BJSAMR),
            credit(CreditCall::DecideObjection {
                record_id: id(),
                uphold: true,
                decision: "撤销".into(),
            }),
        ),
    ]
}

fn list(entry_id: &str, list_type: ListType, until: Option<&str>) -> Call {
    credit(CreditCall::List {
        entry_id: entry_id.into(),
        list_type,
        party: E1.into(),
        basis_refs: vec![format!("决定书 {entry_id}")],
        listed_on: d("2026-05-01"),
        restrictions: None,
        until: until.map(d),
    })
}

/// A chain with E1's entry `E`: on the IPR dishonesty list until 2028-05-01, or on the tax red
/// list until 2029-05-01.
fn with_entry(red: bool) -> Chain {
    let mut chain = credit_baseline();
    if red {
        chain.ok(
            &dept_key(OTHER),
            list("E", ListType::RedTaxA, Some("2029-05-01")),
        );
    } else {
        chain.ok(
            &dept_key(IPR),
            list("E", ListType::IprDishonest, Some("2028-05-01")),
        );
    }
    chain
}

pub(crate) fn entry_in(status: &str) -> Vec<Chain> {
    let apply = |mut chain: Chain, moves: &[usize]| {
        for i in moves {
            let m = entry_moves().swap_remove(*i);
            chain.time_ms += m.advance_ms;
            if m.txs.is_empty() {
                chain.block(&[]);
            }
            for (signer, call) in m.txs {
                chain.ok(&signer, call);
            }
        }
        chain
    };
    match status {
        "LISTED" => vec![with_entry(false), with_entry(true)],
        "REMOVAL_REQUESTED" => vec![apply(with_entry(false), &[0])],
        "REMOVED_EARLY" => vec![apply(with_entry(false), &[0, 1])],
        "REMOVED_EXPIRED" => vec![apply(with_entry(false), &[6])],
        "ANNULLED" => vec![apply(with_entry(false), &[3])],
        "SUSPENDED" => vec![apply(with_entry(true), &[5])],
        other => panic!("no way to {other}"),
    }
}

pub(crate) fn entry_moves() -> Vec<Move> {
    let e = || "E".to_string();
    vec![
        mv(
            "request removal",
            ent_key(E1),
            credit(CreditCall::RequestRemoval {
                entry_id: e(),
                reason: "已履行".into(),
            }),
        ),
        mv(
            "approve removal",
            dept_key(IPR),
            credit(CreditCall::DecideRemoval {
                entry_id: e(),
                approve: true,
                decision: "同意移出".into(),
            }),
        ),
        mv(
            "reject removal",
            dept_key(IPR),
            credit(CreditCall::DecideRemoval {
                entry_id: e(),
                approve: false,
                decision: "不同意".into(),
            }),
        ),
        mv(
            "annul (IPR entry)",
            dept_key(IPR),
            credit(CreditCall::Annul {
                entry_id: e(),
                basis: "复议撤销".into(),
            }),
        ),
        mv(
            "annul (red entry)",
            dept_key(OTHER),
            credit(CreditCall::Annul {
                entry_id: e(),
                basis: "撤销".into(),
            }),
        ),
        mv(
            "a black-list entry",
            dept_key(OTHER),
            list("BL", ListType::MajorTaxViolation, None),
        ),
        Move {
            name: "the window ends",
            advance_ms: 1200 * DAY_MS,
            txs: vec![],
        },
        mv(
            "the black-list entry is annulled",
            dept_key(OTHER),
            credit(CreditCall::Annul {
                entry_id: "BL".into(),
                basis: "撤销".into(),
            }),
        ),
    ]
}

fn evaluate(id: &str, period: &str) -> Call {
    credit(CreditCall::Evaluate {
        evaluation_id: id.into(),
        party: E1.into(),
        scheme: Scheme::Tax,
        grade: "D".into(),
        score: Some(35),
        period: period.into(),
        basis_refs: vec!["京税信评〔2026〕1号".into()],
    })
}

fn publish(id: &str) -> Call {
    credit(CreditCall::PublishEvaluation {
        evaluation_id: id.into(),
    })
}

/// A chain with E1's tax evaluation `EV` (grade D for 2025) in a status.
pub(crate) fn evaluation_in(status: &str) -> Vec<Chain> {
    let mut chain = credit_baseline();
    let tax = dept_key(OTHER);
    chain.ok(&tax, evaluate("EV", "2025"));
    let path: &[usize] = match status {
        "PROVISIONAL" => &[],
        "PUBLISHED" => &[0],
        "UNDER_OBJECTION" => &[0, 1],
        "CORRECTED" => &[0, 1, 2],
        "SUPERSEDED" => &[0, 4],
        other => panic!("no way to {other}"),
    };
    for i in path {
        for (signer, call) in evaluation_moves().swap_remove(*i).txs {
            chain.ok(&signer, call);
        }
    }
    vec![chain]
}

pub(crate) fn evaluation_moves() -> Vec<Move> {
    let tax = || dept_key(OTHER);
    let decide = |uphold: bool| {
        credit(CreditCall::DecideEvaluationObjection {
            evaluation_id: "EV".into(),
            uphold,
            corrected_grade: uphold.then(|| "C".to_string()),
            decision: "复核".into(),
        })
    };
    vec![
        mv("publish", tax(), publish("EV")),
        mv(
            "object",
            ent_key(E1),
            credit(CreditCall::ObjectEvaluation {
                evaluation_id: "EV".into(),
                reason: "评分有误".into(),
            }),
        ),
        mv("uphold", tax(), decide(true)),
        mv("reject", tax(), decide(false)),
        Move {
            name: "the next period is published",
            advance_ms: 0,
            txs: vec![(tax(), evaluate("EV2", "2026")), (tax(), publish("EV2"))],
        },
    ]
}

fn check(stage: Stage) -> Call {
    Call::Procurement(ProcurementCall::CheckEligibility {
        bid_id: "B".into(),
        stage,
    })
}

fn ban(id: &str) -> Call {
    credit(CreditCall::List {
        entry_id: id.into(),
        list_type: ListType::GovProcSerious,
        party: E1.into(),
        basis_refs: vec!["津财采罚〔2026〕1号".into()],
        listed_on: d("2026-05-01"),
        restrictions: None,
        until: Some(d("2028-05-01")),
    })
}

/// A chain with E1's bid `B` to the purchaser in a status.
pub(crate) fn bid_in(status: &str) -> Vec<Chain> {
    let mut chain = credit_baseline();
    chain.ok(
        &ent_key(E1),
        Call::Procurement(ProcurementCall::Submit {
            bid_id: "B".into(),
            project_no: "TJCG-2026-001".into(),
            purchaser: dept_uscc(PROC),
            announced_on: d("2026-04-20"),
            deadline_on: d("2026-05-20"),
        }),
    );
    let path: &[usize] = match status {
        "SUBMITTED" => &[],
        "ACCEPTED" => &[0],
        "REJECTED_INELIGIBLE" => &[5],
        "DISQUALIFIED" => &[0, 6],
        "AWARDED" => &[0, 2],
        "NOT_AWARDED" => &[0, 3],
        "WITHDRAWN" => &[4],
        other => panic!("no way to {other}"),
    };
    for i in path {
        for (signer, call) in bid_moves().swap_remove(*i).txs {
            chain.ok(&signer, call);
        }
    }
    vec![chain]
}

pub(crate) fn bid_moves() -> Vec<Move> {
    let proc = || dept_key(PROC);
    let award = |awarded| {
        Call::Procurement(ProcurementCall::Award {
            bid_id: "B".into(),
            awarded,
        })
    };
    let two = |name, a: Call, b: Call| Move {
        name,
        advance_ms: 0,
        txs: vec![(proc(), a), (proc(), b)],
    };
    vec![
        mv("checked at submission", proc(), check(Stage::Submission)),
        mv("checked at evaluation", proc(), check(Stage::Evaluation)),
        two(
            "evaluated and awarded",
            check(Stage::Evaluation),
            award(true),
        ),
        two(
            "evaluated and not awarded",
            check(Stage::Evaluation),
            award(false),
        ),
        mv(
            "withdrawn",
            ent_key(E1),
            Call::Procurement(ProcurementCall::Withdraw { bid_id: "B".into() }),
        ),
        two(
            "banned, then checked at submission",
            ban("GP-S"),
            check(Stage::Submission),
        ),
        two(
            "banned, then checked at evaluation",
            ban("GP-E"),
            check(Stage::Evaluation),
        ),
    ]
}
