//! Double-random inspections (domain.md G, R7, R8) through signed transactions: the seed
//! committed before the pools are fixed, a draw recomputed here by an independent
//! implementation (the `hmac` crate, not the module's HMAC), a seed that does not match its
//! commitment refused, targeted tasks for high-risk parties, recusal and replacement, results
//! and R8's consequences, publication within 20 days.

use concordat_contracts::credit::{CreditCall, ListType};
use concordat_contracts::inspection::{
    InspectionCall, InspectionPlan, InspectionResult, InspectionTask, PlanStatus, TaskKind,
    TaskStatus, PLANS, TASKS,
};
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, ResultCode};
use concordat_primitives::Hash;
use concordat_testkit::chain::Chain;
use concordat_testkit::fixture::*;
use concordat_testkit::synthetic_uscc;
use hmac::{Hmac, Mac};

use crate::credit_walk::{credit, d};
use crate::kinds::{mv, Move};

pub(crate) const SEED: [u8; 32] = [7; 32];

pub(crate) fn ins(call: InspectionCall) -> Call {
    Call::Inspection(call)
}

pub(crate) fn plan(chain: &Chain, id: &str) -> InspectionPlan {
    chain.get(&(PLANS.key)(id)).expect("plan")
}

pub(crate) fn task(chain: &Chain, id: &str) -> InspectionTask {
    chain.get(&(TASKS.key)(id)).expect("task")
}

/// A plan `id` with `n` synthetic Chaoyang parties (plus E1 and E6) in its pool and four
/// inspectors, committed.
pub(crate) fn committed(id: &str, n: u32) -> Chain {
    let mut chain = credit_baseline();
    let samr = dept_key(BJSAMR);
    let mut targets = vec![E1.to_string(), E6.to_string()];
    for i in 0..n {
        let u = synthetic_uscc(42, i);
        chain.ok(
            &samr,
            Call::Party(PartyCall::Register {
                uscc: u.clone(),
                name: format!("样例企业 {i}"),
                legal_rep_ref: None,
                registered_address: "样例路".into(),
            }),
        );
        targets.push(u);
    }
    chain.ok(
        &samr,
        ins(InspectionCall::CreatePlan {
            plan_id: id.into(),
            authorities: vec![dept_uscc(BJSAMR)],
            item_codes: vec!["FOOD_SAFETY".into()],
            pool_query: "朝阳区 食品经营 存续".into(),
            seed_commitment: Hash::digest(&SEED),
        }),
    );
    chain.ok(
        &samr,
        ins(InspectionCall::AddTargets {
            plan_id: id.into(),
            targets,
        }),
    );
    chain.ok(
        &samr,
        ins(InspectionCall::AddInspectors {
            plan_id: id.into(),
            inspectors: ["INS-01", "INS-02", "INS-03", "INS-04"]
                .map(String::from)
                .to_vec(),
        }),
    );
    chain.ok(&samr, ins(InspectionCall::Commit { plan_id: id.into() }));
    chain
}

fn draw_call(id: &str, seed: &[u8]) -> Call {
    ins(InspectionCall::Draw {
        plan_id: id.into(),
        seed: hex::encode(seed),
    })
}

/// The draw, written again from the module's documentation with another HMAC.
fn independent_draw(p: &InspectionPlan, seed: &[u8]) -> Vec<(String, String, Vec<String>)> {
    let mac = |m: &[u8]| {
        let mut h = Hmac::<sha2::Sha256>::new_from_slice(seed).expect("key");
        h.update(m);
        h.finalize().into_bytes().to_vec()
    };
    let mut picked: Vec<(String, &str)> = p
        .pool
        .iter()
        .filter(|e| e.targeted.is_some())
        .map(|e| (e.uscc.to_string(), "TARGETED"))
        .collect();
    let ratio = |c: &str| match c {
        "A" => p.ratios.a,
        "B" => p.ratios.b,
        "C" => p.ratios.c,
        _ => p.ratios.d,
    } as usize;
    for class in ["A", "B", "C", "D"] {
        let mut members: Vec<(Vec<u8>, String)> = p
            .pool
            .iter()
            .filter(|e| e.targeted.is_none() && e.class == class)
            .map(|e| (mac(e.uscc.as_str().as_bytes()), e.uscc.to_string()))
            .collect();
        members.sort();
        let k = (members.len() * ratio(class)).div_ceil(1000);
        picked.extend(members.into_iter().take(k).map(|(_, u)| (u, "RANDOM")));
    }
    picked
        .into_iter()
        .enumerate()
        .map(|(i, (u, kind))| {
            let task_id = format!("{}-{}", p.plan_id, i + 1);
            let mut ranked: Vec<(Vec<u8>, String)> = p
                .inspectors
                .iter()
                .map(|x| (mac(format!("{task_id}:{x}").as_bytes()), x.clone()))
                .collect();
            ranked.sort();
            let two = ranked.into_iter().take(2).map(|(_, x)| x).collect();
            (u, kind.to_string(), two)
        })
        .collect()
}

#[test]
fn the_draw_is_recomputed_exactly_and_a_wrong_seed_is_refused() {
    let mut chain = committed("DR-1", 40);
    let samr = dept_key(BJSAMR);
    // Pools are fixed once committed.
    chain.refused(
        &samr,
        ins(InspectionCall::AddTargets {
            plan_id: "DR-1".into(),
            targets: vec![E2.into()],
        }),
        ResultCode::InvalidTransition,
    );
    let msg = chain.refused(
        &samr,
        draw_call("DR-1", &[8; 32]),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("commitment"), "{msg}");
    chain.ok(&samr, draw_call("DR-1", &SEED));
    let p = plan(&chain, "DR-1");
    assert_eq!(p.status, PlanStatus::Drawn);
    assert!(p.pool_snapshot_hash.is_some() && p.inspector_pool_snapshot_hash.is_some());
    let expected = independent_draw(&p, &SEED);
    // 42 parties of class B at 50 per mille: 3 tasks.
    assert_eq!(expected.len(), 3, "{expected:?}");
    let ledger: Vec<(String, String, Vec<String>)> = p
        .task_ids
        .iter()
        .map(|id| {
            let t = task(&chain, id);
            let kind = serde_json::to_value(t.kind)
                .expect("kind")
                .as_str()
                .expect("str")
                .to_string();
            (t.target.to_string(), kind, t.inspectors)
        })
        .collect();
    assert_eq!(ledger, expected);
    // Another seed would have drawn others: the draw depends on it.
    assert_ne!(independent_draw(&p, &[9; 32]), expected);
}

#[test]
fn high_risk_parties_get_targeted_tasks_and_results_have_consequences() {
    let samr = dept_key(BJSAMR);
    // E1 listed only after the pools are fixed: the snapshot does not change.
    let mut chain2 = committed("DR-2", 0);
    chain2.ok(
        &dept_key(OTHER),
        credit(CreditCall::List {
            entry_id: "MT-E1".into(),
            list_type: ListType::MajorTaxViolation,
            party: E1.into(),
            basis_refs: vec!["税罚".into()],
            listed_on: d("2026-05-01"),
            restrictions: None,
            until: None,
        }),
    );
    chain2.ok(&samr, draw_call("DR-2", &SEED));
    assert!(plan(&chain2, "DR-2")
        .pool
        .iter()
        .all(|e| e.targeted.is_none()));
    // E1 on a black list before they are fixed: a targeted task (R7).

    let mut chain = committed_with_listing();
    chain.ok(&samr, draw_call("DR-3", &SEED));
    let p = plan(&chain, "DR-3");
    let first = task(&chain, &p.task_ids[0]);
    assert_eq!(
        (first.target.as_str(), first.kind),
        (E1, TaskKind::Targeted)
    );
    assert!(first.targeted_because.unwrap_or_default().contains("MT-E1"));
    assert_eq!(first.inspectors.len(), 2);

    // Recusal: the next of the task's ranking replaces the inspector, and it is logged.
    let t = &p.task_ids[0];
    let out = first.inspectors[0].clone();
    chain.ok(
        &samr,
        ins(InspectionCall::Recuse {
            task_id: t.clone(),
            inspector: out.clone(),
            reason: "与检查对象有利害关系".into(),
        }),
    );
    let after = task(&chain, t);
    assert_eq!(after.recusals.len(), 1);
    assert!(!after.inspectors.contains(&out) && after.inspectors.len() == 2);
    assert_eq!(after.recusals[0].replacement, after.inspectors[0]);

    // R8: not found at its address puts the party on the abnormal-operation list.
    for c in [
        InspectionCall::Assign { task_id: t.clone() },
        InspectionCall::Start { task_id: t.clone() },
        InspectionCall::RecordResult {
            task_id: t.clone(),
            result: InspectionResult::NotFoundAtAddress,
            result_ref: "检查记录 0501".into(),
        },
    ] {
        chain.ok(&samr, ins(c));
    }
    let done = task(&chain, t);
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.publish_due, Some(d("2026-05-21")));
    let entry = done.list_entry.expect("R8 list entry");
    let e: concordat_contracts::credit::ListEntry = chain
        .get(&(concordat_contracts::credit::ENTRIES.key)(&entry))
        .expect("entry");
    assert_eq!(
        (e.list_type, e.party.as_str()),
        (ListType::AbnormalOperation, E1)
    );
    // Publication within 20 days, or flagged.
    chain.refused(
        &dept_key(OTHER),
        ins(InspectionCall::FlagOverdue { task_id: t.clone() }),
        ResultCode::InvalidTransition,
    );
    // The day after the due date it is flagged by itself, without anyone's transaction.
    chain.at("2026-05-21T23:00");
    chain.block(&[]);
    assert!(!task(&chain, t).publication_overdue);
    chain.at("2026-05-22T09:00");
    chain.block(&[]);
    assert!(task(&chain, t).publication_overdue);
    chain.refused(
        &dept_key(OTHER),
        ins(InspectionCall::FlagOverdue { task_id: t.clone() }),
        ResultCode::InvalidTransition,
    );
    // Only the plan's authorities record results; only its coordinator publishes.
    let t2 = p.task_ids[1].clone();
    chain.ok(
        &samr,
        ins(InspectionCall::Assign {
            task_id: t2.clone(),
        }),
    );
    chain.refused(
        &dept_key(TJSAMR),
        ins(InspectionCall::Start {
            task_id: t2.clone(),
        }),
        ResultCode::Unauthorised,
    );
    chain.ok(
        &samr,
        ins(InspectionCall::Start {
            task_id: t2.clone(),
        }),
    );
    chain.ok(
        &samr,
        ins(InspectionCall::RecordResult {
            task_id: t2.clone(),
            result: InspectionResult::IssueEnforcement,
            result_ref: "检查记录 0522".into(),
        }),
    );
    assert_eq!(
        task(&chain, &t2).enforcement_case.as_deref(),
        Some(format!("EC-{t2}").as_str())
    );
    // The plan closes only when every task is published.
    chain.refused(
        &samr,
        ins(InspectionCall::Close {
            plan_id: "DR-3".into(),
        }),
        ResultCode::InvalidTransition,
    );
}

/// A plan `DR-3` whose pool holds E1 while E1 is on a black list, committed.
fn committed_with_listing() -> Chain {
    let mut chain = credit_baseline();
    chain.ok(
        &dept_key(OTHER),
        credit(CreditCall::List {
            entry_id: "MT-E1".into(),
            list_type: ListType::MajorTaxViolation,
            party: E1.into(),
            basis_refs: vec!["税罚".into()],
            listed_on: d("2026-05-01"),
            restrictions: None,
            until: None,
        }),
    );
    let samr = dept_key(BJSAMR);
    let mut targets = vec![E1.to_string(), E6.to_string()];
    for i in 0..30 {
        let u = synthetic_uscc(43, i);
        chain.ok(
            &samr,
            Call::Party(PartyCall::Register {
                uscc: u.clone(),
                name: format!("样例企业 {i}"),
                legal_rep_ref: None,
                registered_address: "样例路".into(),
            }),
        );
        targets.push(u);
    }
    for c in [
        InspectionCall::CreatePlan {
            plan_id: "DR-3".into(),
            authorities: vec![],
            item_codes: vec![],
            pool_query: "q".into(),
            seed_commitment: Hash::digest(&SEED),
        },
        InspectionCall::AddTargets {
            plan_id: "DR-3".into(),
            targets,
        },
        InspectionCall::AddInspectors {
            plan_id: "DR-3".into(),
            inspectors: ["A1", "A2", "A3"].map(String::from).to_vec(),
        },
        InspectionCall::Commit {
            plan_id: "DR-3".into(),
        },
    ] {
        chain.ok(&samr, ins(c));
    }
    chain
}

// ---- walks for the kind-generic test

pub(crate) fn plan_in(status: &str) -> Vec<Chain> {
    let mut chain = committed("DR-W", 0);
    let moves = plan_moves();
    let path: &[usize] = match status {
        "DRAFT" => {
            let mut c = credit_baseline();
            c.ok(
                &dept_key(BJSAMR),
                ins(InspectionCall::CreatePlan {
                    plan_id: "DR-W".into(),
                    authorities: vec![],
                    item_codes: vec![],
                    pool_query: "q".into(),
                    seed_commitment: Hash::digest(&SEED),
                }),
            );
            for (k, call) in [
                InspectionCall::AddTargets {
                    plan_id: "DR-W".into(),
                    targets: vec![E1.into()],
                },
                InspectionCall::AddInspectors {
                    plan_id: "DR-W".into(),
                    inspectors: vec!["X1".into(), "X2".into()],
                },
            ]
            .into_iter()
            .map(|c| (dept_key(BJSAMR), c))
            {
                c.ok(&k, ins(call));
            }
            return vec![c];
        }
        "COMMITTED" => &[],
        "DRAWN" => &[1],
        "CLOSED" => &[1, 2],
        other => panic!("no way to {other}"),
    };
    for i in path {
        for (k, call) in moves[*i].txs.clone() {
            chain.ok(&k, call);
        }
    }
    vec![chain]
}

pub(crate) fn plan_moves() -> Vec<Move> {
    let samr = || dept_key(BJSAMR);
    let t = || "DR-W-1".to_string();
    vec![
        mv(
            "commit",
            samr(),
            ins(InspectionCall::Commit {
                plan_id: "DR-W".into(),
            }),
        ),
        mv("draw", samr(), draw_call("DR-W", &SEED)),
        Move {
            name: "inspect, publish and close",
            advance_ms: 0,
            txs: [
                InspectionCall::Assign { task_id: t() },
                InspectionCall::Start { task_id: t() },
                InspectionCall::RecordResult {
                    task_id: t(),
                    result: InspectionResult::NoIssue,
                    result_ref: "R".into(),
                },
                InspectionCall::Publish { task_id: t() },
                InspectionCall::Close {
                    plan_id: "DR-W".into(),
                },
            ]
            .map(|c| (samr(), ins(c)))
            .to_vec(),
        },
    ]
}

pub(crate) fn task_in(status: &str) -> Vec<Chain> {
    let mut chain = committed("DR-W", 0);
    chain.ok(&dept_key(BJSAMR), draw_call("DR-W", &SEED));
    let n = match status {
        "DRAWN" => 0,
        "ASSIGNED" => 1,
        "IN_PROGRESS" => 2,
        "COMPLETED" => 3,
        "PUBLISHED" => 4,
        other => panic!("no way to {other}"),
    };
    for m in task_moves().into_iter().take(n) {
        for (k, call) in m.txs {
            chain.ok(&k, call);
        }
    }
    vec![chain]
}

pub(crate) fn task_moves() -> Vec<Move> {
    let samr = || dept_key(BJSAMR);
    let t = || "DR-W-1".to_string();
    vec![
        mv(
            "assign",
            samr(),
            ins(InspectionCall::Assign { task_id: t() }),
        ),
        mv("start", samr(), ins(InspectionCall::Start { task_id: t() })),
        mv(
            "record",
            samr(),
            ins(InspectionCall::RecordResult {
                task_id: t(),
                result: InspectionResult::CorrectedOnSite,
                result_ref: "R".into(),
            }),
        ),
        mv(
            "publish",
            samr(),
            ins(InspectionCall::Publish { task_id: t() }),
        ),
    ]
}

/// A plan `DR-C` whose only target, E1 (class B), is drawn because of a complaint, and whose
/// task found an issue for enforcement: the case `EC-DR-C-1`, then in `status`.
pub(crate) fn case_in(status: &str) -> Vec<Chain> {
    let mut chain = credit_baseline();
    let samr = dept_key(BJSAMR);
    let t = || "DR-C-1".to_string();
    for c in [
        InspectionCall::CreatePlan {
            plan_id: "DR-C".into(),
            authorities: vec![],
            item_codes: vec![],
            pool_query: "投诉".into(),
            seed_commitment: Hash::digest(&SEED),
        },
        InspectionCall::AddTargets {
            plan_id: "DR-C".into(),
            targets: vec![E1.into()],
        },
        InspectionCall::AddInspectors {
            plan_id: "DR-C".into(),
            inspectors: vec!["X1".into(), "X2".into()],
        },
        InspectionCall::AddComplaint {
            plan_id: "DR-C".into(),
            uscc: E1.into(),
            reference: "12315-2026-0001".into(),
        },
        InspectionCall::Commit {
            plan_id: "DR-C".into(),
        },
        InspectionCall::Draw {
            plan_id: "DR-C".into(),
            seed: hex::encode(SEED),
        },
        InspectionCall::Assign { task_id: t() },
        InspectionCall::Start { task_id: t() },
        InspectionCall::RecordResult {
            task_id: t(),
            result: InspectionResult::IssueEnforcement,
            result_ref: "检查记录 C".into(),
        },
    ] {
        chain.ok(&samr, ins(c));
    }
    let n = match status {
        "OPEN" => 0,
        "CLOSED_NO_ACTION" => 1,
        "CLOSED_PENALISED" => 2,
        other => panic!("no way to {other}"),
    };
    if n > 0 {
        let m = case_moves().swap_remove(n - 1);
        for (k, call) in m.txs {
            chain.ok(&k, call);
        }
    }
    vec![chain]
}

pub(crate) fn case_moves() -> Vec<Move> {
    let samr = || dept_key(BJSAMR);
    let close = |record: Option<&str>| {
        ins(InspectionCall::CloseCase {
            case_id: "EC-DR-C-1".into(),
            outcome: "结案".into(),
            dishonesty_record: record.map(String::from),
        })
    };
    vec![
        mv("closed with no action", samr(), close(None)),
        Move {
            name: "penalised",
            advance_ms: 0,
            txs: vec![
                (
                    samr(),
                    credit(CreditCall::RecordDishonesty {
                        record_id: "DR-EC".into(),
                        party: E1.into(),
                        basis_doc_no: "京朝市监罚〔2026〕9号".into(),
                        basis_doc_date: d("2026-05-01"),
                        category: concordat_contracts::credit::DishonestyCategory::AdminPenalty,
                        severity: concordat_contracts::credit::Severity::General,
                        obligations: vec![],
                        relates_to: Some("EC-DR-C-1".into()),
                        penalty: None,
                    }),
                ),
                (samr(), close(Some("DR-EC"))),
            ],
        },
    ]
}

#[test]
fn a_complaint_targets_a_party_and_enforcement_cases_close_on_a_record_of_that_party() {
    let chain = case_in("OPEN").remove(0);
    let p = plan(&chain, "DR-C");
    assert_eq!(
        p.pool[0].targeted.as_deref(),
        Some("complaint 12315-2026-0001")
    );
    let t = task(&chain, "DR-C-1");
    assert_eq!((t.kind, t.target.as_str()), (TaskKind::Targeted, E1));
    let mut chain = chain;
    // A record of another party does not close it; only enforcement closes it.
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::RecordDishonesty {
            record_id: "DR-E6".into(),
            party: E6.into(),
            basis_doc_no: "罚".into(),
            basis_doc_date: d("2026-05-01"),
            category: concordat_contracts::credit::DishonestyCategory::AdminPenalty,
            severity: concordat_contracts::credit::Severity::Light,
            obligations: vec![],
            relates_to: None,
            penalty: None,
        }),
    );
    let close = |r: Option<&str>| {
        ins(InspectionCall::CloseCase {
            case_id: "EC-DR-C-1".into(),
            outcome: "结案".into(),
            dishonesty_record: r.map(String::from),
        })
    };
    chain.refused(
        &dept_key(BJSAMR),
        close(Some("DR-E6")),
        ResultCode::InvalidArgument,
    );
    chain.refused(&dept_key(OTHER), close(None), ResultCode::Unauthorised);
    chain.ok(&dept_key(BJSAMR), close(None));
    chain.refused(
        &dept_key(BJSAMR),
        close(None),
        ResultCode::InvalidTransition,
    );
}
