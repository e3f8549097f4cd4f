//! Credit (domain.md E, F; R3, R6, R16) through signed transactions on the in-memory chain:
//! scenario 4 with its dates, the lists and their restrictions, red-list suspension,
//! objections, automatic expiry and removal, and who may do what.

use std::collections::BTreeSet;

use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::credit::restrictions::{self, RestrictionCode, Source};
use concordat_contracts::credit::{
    CreditCall, CreditEvaluation, DishonestyCategory, DishonestyRecord, DishonestyStatus,
    EvaluationStatus, ListEntry, ListStatus, ListType, Penalty, PenaltyKind, Scheme, Severity,
};
use concordat_contracts::ids::Uscc;
use concordat_contracts::licence::{ApprovalMode, Licence, LicenceCall, LicenceStatus, Validity};
use concordat_contracts::party::PartyCall;
use concordat_contracts::procurement::{Bid, BidStatus, ProcurementCall, Stage, BIDS};
use concordat_contracts::rules::r5_procurement_eligibility;
use concordat_contracts::rules::Basis;
use concordat_contracts::state::{keys, Overlay};
use concordat_contracts::{Call, ResultCode};
use concordat_primitives::Hash;
use concordat_testkit::chain::Chain;
use concordat_testkit::fixture::*;

use crate::credit_walk::{credit, d};

fn uscc(s: &str) -> Uscc {
    Uscc::parse(s).expect("uscc")
}

fn record(chain: &Chain, id: &str) -> DishonestyRecord {
    chain.get(&keys::dishonesty(id)).expect("record")
}

fn entry(chain: &Chain, id: &str) -> ListEntry {
    chain
        .get(&(concordat_contracts::credit::ENTRIES.key)(id))
        .expect("entry")
}

fn licence(chain: &Chain, id: &str) -> Licence {
    chain.get(&keys::licence(id)).expect("licence")
}

fn restricted(chain: &Chain, party: &str, code: RestrictionCode) -> Vec<Source> {
    restrictions::sources(&Overlay::new(&chain.state), &uscc(party), code)
}

fn make_commitment(id: &str, kind: CommitmentKind, addressed: bool) -> Call {
    Call::Commitment(CommitmentCall::Make {
        commitment_id: id.into(),
        kind,
        text_hash: Hash::digest(id.as_bytes()),
        relates_to: None,
        seal_signature_id: None,
        addressed_to: addressed.then(|| dept_uscc(BJSAMR)),
    })
}

fn apply(licence_id: &str, type_code: &str, commitment_id: Option<&str>) -> Call {
    Call::Licence(LicenceCall::Apply {
        licence_id: licence_id.into(),
        type_code: type_code.into(),
        issuer: dept_uscc(BJSAMR),
        approval_mode: ApprovalMode::NotificationCommitment,
        commitment_id: commitment_id.map(String::from),
        scope: "预包装食品销售".into(),
        site_ids: vec!["S1".into()],
    })
}

/// Scenario 1 up to its record: E1's NC food licence issued on 2026-05-06, found
/// non-conforming on 2026-06-20, annulled on 2026-06-25 (record FC-C-2026-000123, GENERAL).
fn scenario_1_record() -> Chain {
    let mut chain = credit_baseline();
    let (e1, samr) = (ent_key(E1), dept_key(BJSAMR));
    chain.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "望京街道样例路1号".into(),
        }),
    );
    chain.at("2026-05-06T10:00");
    chain.ok(
        &e1,
        make_commitment(
            "C-2026-000123",
            CommitmentKind::NotificationCommitment,
            true,
        ),
    );
    chain.ok(
        &e1,
        apply("L-E1-FOOD-1", "FOOD_BUSINESS", Some("C-2026-000123")),
    );
    chain.at("2026-05-06T14:00");
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-E1-FOOD-1".into(),
            licence_no: "JY11101050012345".into(),
            validity: Validity {
                issued_on: d("2026-05-06"),
                valid_from: d("2026-05-06"),
                valid_until: d("2031-05-05"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    chain.at("2026-06-20T10:00");
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::RecordCheck {
            licence_id: "L-E1-FOOD-1".into(),
            conforms: false,
            inspection_ref: "INSP-2026-0620-01".into(),
        }),
    );
    chain.at("2026-06-25T10:00");
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Annul {
            licence_id: "L-E1-FOOD-1".into(),
            basis_doc_no: "京朝市监撤字〔2026〕第15号".into(),
            basis_doc_date: d("2026-06-25"),
            fraud: false,
        }),
    );
    chain
}

fn request_repair(record_id: &str, commitment_id: &str) -> Call {
    credit(CreditCall::RequestRepair {
        record_id: record_id.into(),
        commitment_id: commitment_id.into(),
    })
}

fn decide_repair(record_id: &str, approve: bool) -> Call {
    credit(CreditCall::DecideRepair {
        record_id: record_id.into(),
        approve,
        reason: "核查".into(),
    })
}

#[test]
fn scenario_4_credit_repair_timeline() {
    let mut chain = scenario_1_record();
    let e1 = ent_key(E1);
    const FC: &str = "FC-C-2026-000123";
    let r = record(&chain, FC);
    assert_eq!(
        (r.status, r.severity, r.category),
        (
            DishonestyStatus::Publicized,
            Severity::General,
            DishonestyCategory::FalseCommitment
        )
    );
    assert_eq!(
        (r.min_public_until, r.max_public_until),
        (d("2026-09-25"), d("2027-06-25"))
    );
    assert_eq!(
        restricted(&chain, E1, RestrictionCode::NoNotificationCommitment),
        vec![Source::Dishonesty(FC.into())]
    );

    // Before repair, an NC application is routed to STANDARD (R3).
    chain.at("2026-07-01T09:00");
    chain.ok(&e1, apply("L-E1-PRINT-1", "PRINTING", None));
    let routed = licence(&chain, "L-E1-PRINT-1");
    assert_eq!(routed.approval_mode, ApprovalMode::Standard);
    assert!(routed.routed_reason.unwrap_or_default().contains(FC));

    // 1. 2026-08-01: too early (the minimum publicity runs to 2026-09-25).
    chain.at("2026-08-01T09:00");
    chain.ok(
        &e1,
        make_commitment("RC-2026-0801", CommitmentKind::RepairCommitment, false),
    );
    let msg = chain.refused(
        &e1,
        request_repair(FC, "RC-2026-0801"),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("2026-09-25"), "{msg}");

    // 2. 2026-09-26: obligations fulfilled (none were set) and a public repair commitment.
    chain.at("2026-09-26T09:00");
    // A commitment of the wrong kind does not do.
    chain.ok(
        &e1,
        make_commitment("TC-2026-0926", CommitmentKind::Truthfulness, false),
    );
    let msg = chain.refused(
        &e1,
        request_repair(FC, "TC-2026-0926"),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("REPAIR_COMMITMENT"), "{msg}");
    chain.ok(
        &e1,
        make_commitment("RC-2026-0926", CommitmentKind::RepairCommitment, false),
    );
    chain.ok(&e1, request_repair(FC, "RC-2026-0926"));
    assert_eq!(record(&chain, FC).status, DishonestyStatus::RepairRequested);
    // Still in force while requested: R3 still routes.
    assert!(!restricted(&chain, E1, RestrictionCode::NoNotificationCommitment).is_empty());
    // Only the credit platform decides.
    chain.refused(
        &dept_key(BJSAMR),
        decide_repair(FC, true),
        ResultCode::Unauthorised,
    );
    chain.at("2026-09-30T09:00");
    chain.ok(&dept_key(CREDIT), decide_repair(FC, true));
    let r = record(&chain, FC);
    assert_eq!(r.status, DishonestyStatus::Repaired);
    let statuses: Vec<_> = r.history.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            DishonestyStatus::Publicized,
            DishonestyStatus::RepairRequested,
            DishonestyStatus::Repaired
        ]
    );
    assert_eq!(r.history[2].by, uscc(&dept_uscc(CREDIT)));
    // Publicity and the restriction stop at once: the index key is gone.
    assert!(restricted(&chain, E1, RestrictionCode::NoNotificationCommitment).is_empty());
    let key = restrictions::key(E1, RestrictionCode::NoNotificationCommitment);
    assert!(!chain.state.contains_key(&key));
    // The annulled licence stays 03.
    assert_eq!(
        licence(&chain, "L-E1-FOOD-1").status,
        LicenceStatus::Annulled
    );
    // NC eligibility is restored: an application on 2026-10-08 keeps its NC mode.
    chain.at("2026-10-08T09:00");
    chain.ok(
        &e1,
        make_commitment(
            "C-2026-001008",
            CommitmentKind::NotificationCommitment,
            true,
        ),
    );
    chain.ok(
        &e1,
        apply("L-E1-PRINT-2", "PRINTING", Some("C-2026-001008")),
    );
    assert_eq!(
        licence(&chain, "L-E1-PRINT-2").approval_mode,
        ApprovalMode::NotificationCommitment
    );

    // 3. E2's SERIOUS record dated 2026-03-01: no repair before 2027-03-01; publication stops
    // by itself on 2029-03-01.
    let e2 = ent_key(E2);
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::RecordDishonesty {
            record_id: "SV-E2-2026-0301".into(),
            party: E2.into(),
            basis_doc_no: "津市监罚〔2026〕第3号".into(),
            basis_doc_date: d("2026-03-01"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::Serious,
            obligations: vec![],
            relates_to: None,
            penalty: None,
        }),
    );
    let r = record(&chain, "SV-E2-2026-0301");
    assert_eq!(
        (r.min_public_until, r.max_public_until),
        (d("2027-03-01"), d("2029-03-01"))
    );
    chain.at("2027-02-28T09:00");
    chain.ok(
        &e2,
        make_commitment("RC-E2", CommitmentKind::RepairCommitment, false),
    );
    let msg = chain.refused(
        &e2,
        request_repair("SV-E2-2026-0301", "RC-E2"),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("2027-03-01"), "{msg}");
    chain.at("2029-02-28T23:00");
    chain.block(&[]);
    assert_eq!(
        record(&chain, "SV-E2-2026-0301").status,
        DishonestyStatus::Publicized
    );
    chain.at("2029-03-01T00:05");
    chain.block(&[]);
    let r = record(&chain, "SV-E2-2026-0301");
    assert_eq!(
        r.status,
        DishonestyStatus::Expired,
        "stopped by itself on 2029-03-01"
    );
    let last = r.history.last().expect("history");
    assert_eq!(
        concordat_contracts::time::Date::of_ms(last.at_ms),
        d("2029-03-01")
    );
    assert!(last.basis.contains("automatic"), "{}", last.basis);
    assert!(restricted(&chain, E2, RestrictionCode::NoNotificationCommitment).is_empty());
}

#[test]
fn scenario_4_light_record_is_unpublished_and_repairable_once_paid() {
    let mut chain = credit_baseline();
    let e6 = ent_key(E6);
    chain.at("2026-05-20T10:00");
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::RecordDishonesty {
            record_id: "AP-E6-0520".into(),
            party: E6.into(),
            basis_doc_no: "京朝市监简罚〔2026〕第7号".into(),
            basis_doc_date: d("2026-05-20"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::Light,
            obligations: vec!["FINE_PAID".into()],
            relates_to: Some("CNY 200".into()),
            penalty: None,
        }),
    );
    assert_eq!(
        record(&chain, "AP-E6-0520").status,
        DishonestyStatus::NotPublicized
    );
    chain.ok(
        &e6,
        make_commitment("RC-E6", CommitmentKind::RepairCommitment, false),
    );
    let msg = chain.refused(
        &e6,
        request_repair("AP-E6-0520", "RC-E6"),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("FINE_PAID"), "unpaid: {msg}");
    // Only the recording authority records the payment.
    let fulfil = credit(CreditCall::FulfilObligation {
        record_id: "AP-E6-0520".into(),
        index: 0,
        evidence: "缴款书 0520-001".into(),
    });
    chain.refused(&e6, fulfil.clone(), ResultCode::Unauthorised);
    chain.ok(&dept_key(BJSAMR), fulfil);
    chain.ok(&e6, request_repair("AP-E6-0520", "RC-E6"));
    // A rejection returns it to NOT_PUBLICIZED; a new request and an approval repair it.
    chain.ok(&dept_key(CREDIT), decide_repair("AP-E6-0520", false));
    assert_eq!(
        record(&chain, "AP-E6-0520").status,
        DishonestyStatus::NotPublicized
    );
    chain.ok(&e6, request_repair("AP-E6-0520", "RC-E6"));
    chain.ok(&dept_key(CREDIT), decide_repair("AP-E6-0520", true));
    assert_eq!(
        record(&chain, "AP-E6-0520").status,
        DishonestyStatus::Repaired
    );
}

fn list(id: &str, list_type: ListType, party: &str, until: Option<&str>) -> Call {
    credit(CreditCall::List {
        entry_id: id.into(),
        list_type,
        party: party.into(),
        basis_refs: vec![format!("决定书 {id}")],
        listed_on: d("2026-05-01"),
        restrictions: None,
        until: until.map(d),
    })
}

#[test]
fn the_ipr_blacklist_bars_the_nc_route_and_procurement_until_removed() {
    let mut chain = credit_baseline();
    let e1 = ent_key(E1);
    // Only the IP office keeps the IPR list.
    chain.refused(
        &dept_key(BJSAMR),
        list("IPR-1", ListType::IprDishonest, E1, None),
        ResultCode::Unauthorised,
    );
    chain.ok(
        &dept_key(IPR),
        list("IPR-1", ListType::IprDishonest, E1, Some("2029-05-01")),
    );
    let src = vec![Source::ListEntry("IPR-1".into())];
    for code in [
        RestrictionCode::NoGovProcurement,
        RestrictionCode::NoNotificationCommitment,
        RestrictionCode::KeySupervision,
    ] {
        assert_eq!(restricted(&chain, E1, code), src, "{code:?}");
    }
    assert!(restricted(&chain, E1, RestrictionCode::NoTendering).is_empty());
    assert!(restricted(&chain, E2, RestrictionCode::NoGovProcurement).is_empty());
    chain.ok(
        &dept_key(BJSAMR),
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "望京街道样例路1号".into(),
        }),
    );
    chain.ok(&e1, apply("L-1", "PRINTING", None));
    let routed = licence(&chain, "L-1");
    assert_eq!(routed.approval_mode, ApprovalMode::Standard);
    assert!(routed.routed_reason.unwrap_or_default().contains("IPR-1"));

    // Removal: asked by the party (not by another), decided by the IP office (not by another).
    let ask = credit(CreditCall::RequestRemoval {
        entry_id: "IPR-1".into(),
        reason: "已履行".into(),
    });
    chain.refused(&ent_key(E2), ask.clone(), ResultCode::Unauthorised);
    chain.ok(&e1, ask);
    let decide = credit(CreditCall::DecideRemoval {
        entry_id: "IPR-1".into(),
        approve: true,
        decision: "同意".into(),
    });
    chain.refused(&dept_key(OTHER), decide.clone(), ResultCode::Unauthorised);
    chain.ok(&dept_key(IPR), decide);
    assert_eq!(entry(&chain, "IPR-1").status, ListStatus::RemovedEarly);
    for code in RestrictionCode::ALL {
        assert!(restricted(&chain, E1, code).is_empty(), "{code:?}");
    }
    chain.ok(
        &e1,
        make_commitment("C-2", CommitmentKind::NotificationCommitment, true),
    );
    chain.ok(&e1, apply("L-2", "PRINTING", Some("C-2")));
    assert_eq!(
        licence(&chain, "L-2").approval_mode,
        ApprovalMode::NotificationCommitment
    );
}

#[test]
fn the_samr_serious_list_keeps_its_windows() {
    let mut chain = credit_baseline();
    chain.ok(
        &dept_key(BJSAMR),
        list("SS-1", ListType::SamrSerious, E1, None),
    );
    let e = entry(&chain, "SS-1");
    assert_eq!(e.earliest_removal_request_on, Some(d("2027-05-01")));
    assert_eq!(e.auto_remove_on, Some(d("2029-05-01")));
    let ask = credit(CreditCall::RequestRemoval {
        entry_id: "SS-1".into(),
        reason: "r".into(),
    });
    let msg = chain.refused(&ent_key(E1), ask, ResultCode::InvalidTransition);
    assert!(msg.contains("2027-05-01"), "{msg}");
    // Removed by itself on 2029-05-01.
    chain.at("2029-05-01T00:01");
    chain.block(&[]);
    assert_eq!(entry(&chain, "SS-1").status, ListStatus::RemovedExpired);
    assert!(restricted(&chain, E1, RestrictionCode::NoGovProcurement).is_empty());
}

#[test]
fn a_procurement_ban_has_a_window_of_one_to_three_years() {
    let mut chain = credit_baseline();
    for until in [None, Some("2027-01-01"), Some("2030-01-01")] {
        let call = list("GP-1", ListType::GovProcSerious, E1, until);
        let Call::Credit(c) = &call else {
            unreachable!()
        };
        let err = c.precheck().expect_err("refused before any block");
        assert_eq!(
            err.code,
            ResultCode::InvalidArgument,
            "{until:?}: {}",
            err.message
        );
    }
    let ok = list("GP-1", ListType::GovProcSerious, E1, Some("2028-05-01"));
    let Call::Credit(c) = &ok else { unreachable!() };
    c.precheck().expect("two years is a valid ban");
    // Only a procurement regulator lists it.
    chain.refused(&dept_key(BJSAMR), ok, ResultCode::Unauthorised);
}

#[test]
fn red_lists_are_suspended_while_a_serious_record_or_black_entry_is_active() {
    let mut chain = credit_baseline();
    let tax = dept_key(OTHER);
    chain.ok(&tax, list("RED-1", ListType::RedTaxA, E1, None));
    assert_eq!(entry(&chain, "RED-1").status, ListStatus::Listed);
    // A SERIOUS record suspends it; its withdrawal restores it.
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::RecordDishonesty {
            record_id: "SV-1".into(),
            party: E1.into(),
            basis_doc_no: "罚".into(),
            basis_doc_date: d("2026-04-01"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::Serious,
            obligations: vec![],
            relates_to: None,
            penalty: None,
        }),
    );
    assert_eq!(entry(&chain, "RED-1").status, ListStatus::Suspended);
    assert!(entry(&chain, "RED-1").history[1].basis.contains("SV-1"));
    // A second red entry listed meanwhile starts suspended.
    chain.ok(&tax, list("RED-2", ListType::RedTaxA, E1, None));
    assert_eq!(entry(&chain, "RED-2").status, ListStatus::Suspended);
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::Withdraw {
            record_id: "SV-1".into(),
            basis: "复议撤销".into(),
        }),
    );
    assert_eq!(entry(&chain, "RED-1").status, ListStatus::Listed);
    assert_eq!(entry(&chain, "RED-2").status, ListStatus::Listed);
    // A black-list entry suspends it too, a warning directory does not.
    chain.ok(
        &dept_key(BJSAMR),
        list("AB-1", ListType::AbnormalOperation, E1, None),
    );
    assert_eq!(entry(&chain, "RED-1").status, ListStatus::Listed);
    chain.ok(&tax, list("MT-1", ListType::MajorTaxViolation, E1, None));
    assert_eq!(entry(&chain, "RED-1").status, ListStatus::Suspended);
    chain.ok(
        &tax,
        credit(CreditCall::Annul {
            entry_id: "MT-1".into(),
            basis: "撤销".into(),
        }),
    );
    assert_eq!(entry(&chain, "RED-1").status, ListStatus::Listed);
}

#[test]
fn an_objection_keeps_the_record_published_until_the_authority_decides() {
    let mut chain = scenario_1_record();
    const FC: &str = "FC-C-2026-000123";
    let object = credit(CreditCall::Object {
        record_id: FC.into(),
        reason: "检查认定事实有误".into(),
    });
    chain.refused(&ent_key(E2), object.clone(), ResultCode::Unauthorised);
    chain.ok(&ent_key(E1), object.clone());
    let r = record(&chain, FC);
    assert_eq!(
        r.status,
        DishonestyStatus::UnderObjection,
        "marked under objection"
    );
    assert!(r.in_force(), "still published and in force");
    assert!(!restricted(&chain, E1, RestrictionCode::NoNotificationCommitment).is_empty());
    let o = r.objection.expect("under objection");
    assert_eq!(
        (o.raised_on, o.decide_by),
        (d("2026-06-25"), d("2026-07-10"))
    );
    chain.refused(&ent_key(E1), object.clone(), ResultCode::InvalidTransition);
    // Only the recording authority decides; rejected, the record stands.
    let decide = |uphold| {
        credit(CreditCall::DecideObjection {
            record_id: FC.into(),
            uphold,
            decision: "决定".into(),
        })
    };
    chain.refused(&dept_key(CREDIT), decide(false), ResultCode::Unauthorised);
    chain.ok(&dept_key(BJSAMR), decide(false));
    let r = record(&chain, FC);
    assert_eq!(r.status, DishonestyStatus::Publicized);
    assert_eq!(r.objection.and_then(|o| o.upheld), Some(false));
    // A second objection, upheld: withdrawn, and the restriction goes.
    chain.ok(&ent_key(E1), object);
    chain.ok(&dept_key(BJSAMR), decide(true));
    assert_eq!(record(&chain, FC).status, DishonestyStatus::Withdrawn);
    assert!(restricted(&chain, E1, RestrictionCode::NoNotificationCommitment).is_empty());
    chain.refused(
        &dept_key(BJSAMR),
        decide(true),
        ResultCode::InvalidTransition,
    );
}

#[test]
fn records_need_a_registered_party_and_a_past_document_date() {
    let mut chain = credit_baseline();
    let rec = |party: &str, date: &str| {
        credit(CreditCall::RecordDishonesty {
            record_id: "R".into(),
            party: party.into(),
            basis_doc_no: "罚".into(),
            basis_doc_date: d(date),
            category: DishonestyCategory::Other,
            severity: Severity::General,
            obligations: vec![],
            relates_to: None,
            penalty: None,
        })
    };
    chain.refused(
        &dept_key(BJSAMR),
        rec("91130200MA0FT29NX6", "2026-04-01"),
        ResultCode::NotFound,
    );
    chain.refused(
        &dept_key(BJSAMR),
        rec(E1, "2026-05-02"),
        ResultCode::InvalidArgument,
    );
    // Only enforcement records; the tax bureau does not.
    chain.refused(
        &dept_key(OTHER),
        rec(E1, "2026-04-01"),
        ResultCode::Unauthorised,
    );
    chain.ok(&dept_key(BJSAMR), rec(E1, "2026-04-01"));
    chain.refused(
        &dept_key(BJSAMR),
        rec(E1, "2026-04-01"),
        ResultCode::AlreadyExists,
    );
    let parties: BTreeSet<String> =
        concordat_contracts::credit::records_of(&Overlay::new(&chain.state), &uscc(E1))
            .into_iter()
            .collect();
    assert_eq!(parties, BTreeSet::from(["R".to_string()]));
}

fn evaluate(id: &str, scheme: Scheme, grade: &str, period: &str) -> Call {
    credit(CreditCall::Evaluate {
        evaluation_id: id.into(),
        party: E1.into(),
        scheme,
        grade: grade.into(),
        score: None,
        period: period.into(),
        basis_refs: vec![],
    })
}

fn evaluation(chain: &Chain, id: &str) -> CreditEvaluation {
    chain
        .get(&(concordat_contracts::credit::EVALUATIONS.key)(id))
        .expect("evaluation")
}

#[test]
fn evaluations_are_published_by_the_scheme_owner_objected_to_and_superseded() {
    let mut chain = credit_baseline();
    let tax = dept_key(OTHER);
    // Only the scheme's owner evaluates, with a grade of the scheme.
    chain.refused(
        &dept_key(BJSAMR),
        evaluate("T25", Scheme::Tax, "B", "2025"),
        ResultCode::Unauthorised,
    );
    let Call::Credit(bad) = evaluate("T25", Scheme::Tax, "E", "2025") else {
        unreachable!()
    };
    assert_eq!(
        bad.precheck().map_err(|e| e.code),
        Err(ResultCode::InvalidArgument)
    );
    chain.ok(&tax, evaluate("T25", Scheme::Tax, "D", "2025"));
    let current = |chain: &Chain| -> Option<String> {
        chain.get(
            &concordat_contracts::kinds::query_key("party_evaluation", &format!("{E1}:TAX"))
                .expect("key"),
        )
    };
    assert_eq!(current(&chain), None, "provisional is not in force");
    let publish = |id: &str| {
        credit(CreditCall::PublishEvaluation {
            evaluation_id: id.into(),
        })
    };
    chain.refused(&dept_key(BJSAMR), publish("T25"), ResultCode::Unauthorised);
    chain.ok(&tax, publish("T25"));
    assert_eq!(current(&chain).as_deref(), Some("T25"));
    // R16: objected, still in force and marked; upheld, the grade is corrected.
    chain.ok(
        &ent_key(E1),
        credit(CreditCall::ObjectEvaluation {
            evaluation_id: "T25".into(),
            reason: "评分有误".into(),
        }),
    );
    let e = evaluation(&chain, "T25");
    assert_eq!(e.status, EvaluationStatus::UnderObjection);
    assert!(e.in_force());
    assert_eq!(
        e.objection.as_ref().map(|o| o.decide_by),
        Some(d("2026-05-16"))
    );
    chain.ok(
        &tax,
        credit(CreditCall::DecideEvaluationObjection {
            evaluation_id: "T25".into(),
            uphold: true,
            corrected_grade: Some("C".into()),
            decision: "复评".into(),
        }),
    );
    let e = evaluation(&chain, "T25");
    assert_eq!(
        (e.status, e.grade.as_str(), e.original_grade.as_deref()),
        (EvaluationStatus::Corrected, "C", Some("D"))
    );
    // The next period supersedes it; an earlier or equal period does not.
    chain.ok(&tax, evaluate("T24", Scheme::Tax, "A", "2024"));
    let msg = chain.refused(&tax, publish("T24"), ResultCode::InvalidTransition);
    assert!(msg.contains("2025"), "{msg}");
    chain.ok(&tax, evaluate("T26", Scheme::Tax, "A", "2026"));
    chain.ok(&tax, publish("T26"));
    assert_eq!(current(&chain).as_deref(), Some("T26"));
    let old = evaluation(&chain, "T25");
    assert_eq!(
        (old.status, old.superseded_by.as_deref()),
        (EvaluationStatus::Superseded, Some("T26"))
    );
    // Other schemes are independent.
    chain.ok(
        &dept_key(BJSAMR),
        evaluate("S-2026-05", Scheme::SamrRisk, "B", "2026-05"),
    );
    chain.ok(&dept_key(BJSAMR), publish("S-2026-05"));
    assert_eq!(current(&chain).as_deref(), Some("T26"));
}

fn submit(bid: &str) -> Call {
    Call::Procurement(ProcurementCall::Submit {
        bid_id: bid.into(),
        project_no: "BJCG-2026-07".into(),
        purchaser: dept_uscc(PROC),
        announced_on: d("2026-06-20"),
        deadline_on: d("2026-07-20"),
    })
}

fn check_bid(bid: &str, stage: Stage) -> Call {
    Call::Procurement(ProcurementCall::CheckEligibility {
        bid_id: bid.into(),
        stage,
    })
}

fn bid(chain: &Chain, id: &str) -> Bid {
    chain.get(&(BIDS.key)(id)).expect("bid")
}

#[test]
fn scenario_1_procurement_a_general_record_is_a_flag_not_a_bar() {
    let mut chain = scenario_1_record();
    chain.at("2026-07-01T10:00");
    chain.ok(&ent_key(E1), submit("BID-1"));
    chain.ok(&dept_key(PROC), check_bid("BID-1", Stage::Submission));
    let b = bid(&chain, "BID-1");
    assert_eq!(b.status, BidStatus::Accepted);
    let c = &b.checks[0];
    assert!(c.eligible && c.bars.is_empty(), "{c:?}");
    assert_eq!(c.flags.len(), 1, "{c:?}");
    assert_eq!(c.flags[0].basis, Basis::Flag);
    assert_eq!(
        (c.flags[0].kind.as_str(), c.flags[0].id.as_str()),
        ("dishonesty", "FC-C-2026-000123")
    );
    assert_eq!(
        c.state_height,
        chain.height - 1,
        "the height of the state it read"
    );
}

#[test]
fn statutory_and_policy_bars_are_told_apart_and_the_evaluation_prevails() {
    let mut chain = credit_baseline();
    let proc = dept_key(PROC);
    chain.at("2026-06-25T10:00");
    chain.ok(&ent_key(E1), submit("BID-1"));
    chain.ok(&ent_key(E2), submit("BID-2"));
    // Only the purchaser checks.
    chain.refused(
        &dept_key(BJSAMR),
        check_bid("BID-1", Stage::Submission),
        ResultCode::Unauthorised,
    );
    chain.ok(&proc, check_bid("BID-1", Stage::Submission));
    assert_eq!(bid(&chain, "BID-1").status, BidStatus::Accepted);
    // E2 on the IPR list: a policy bar at submission.
    chain.ok(
        &dept_key(IPR),
        list("IPR-E2", ListType::IprDishonest, E2, None),
    );
    chain.ok(&proc, check_bid("BID-2", Stage::Submission));
    let b2 = bid(&chain, "BID-2");
    assert_eq!(b2.status, BidStatus::RejectedIneligible);
    assert_eq!(b2.checks[0].bars[0].basis, Basis::Policy);
    assert_eq!(b2.checks[0].bars[0].rule, "R5(c)");
    assert_eq!(b2.checks[0].bars[0].id, "IPR-E2");
    // E1 banned after its submission check: the evaluation finds it, a statutory bar.
    chain.ok(
        &proc,
        credit(CreditCall::List {
            entry_id: "GP-E1".into(),
            list_type: ListType::GovProcSerious,
            party: E1.into(),
            basis_refs: vec!["财采罚〔2026〕1号".into()],
            listed_on: d("2026-06-25"),
            restrictions: None,
            until: Some(d("2028-06-25")),
        }),
    );
    // Award needs the evaluation's check.
    chain.refused(
        &proc,
        Call::Procurement(ProcurementCall::Award {
            bid_id: "BID-1".into(),
            awarded: true,
        }),
        ResultCode::InvalidTransition,
    );
    chain.ok(&proc, check_bid("BID-1", Stage::Evaluation));
    let b1 = bid(&chain, "BID-1");
    assert_eq!(b1.status, BidStatus::Disqualified);
    let bar = &b1.checks[1].bars[0];
    assert_eq!(
        (bar.basis, bar.rule.as_str(), bar.id.as_str()),
        (Basis::Statute, "R5(a)", "GP-E1")
    );
    assert!(b1.history.last().expect("history").basis.contains("GP-E1"));
    // Outside the bidding window no submission check is made.
    chain.ok(&ent_key(E6), submit("BID-6"));
    chain.at("2026-07-21T10:00");
    let msg = chain.refused(
        &proc,
        check_bid("BID-6", Stage::Submission),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("2026-07-20"), "{msg}");
}

#[test]
fn a_major_illegal_record_in_three_years_bars_by_statute() {
    let mut chain = credit_baseline();
    let fine = |id: &str, amount: u64, date: &str| {
        credit(CreditCall::RecordDishonesty {
            record_id: id.into(),
            party: E1.into(),
            basis_doc_no: format!("罚 {id}"),
            basis_doc_date: d(date),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::General,
            obligations: vec![],
            relates_to: None,
            penalty: Some(Penalty {
                kind: PenaltyKind::Fine,
                amount_cny: Some(amount),
            }),
        })
    };
    chain.ok(&dept_key(BJSAMR), fine("F-SMALL", 1_999_999, "2026-04-01"));
    let ov = |c: &Chain| {
        r5_procurement_eligibility::procurement(&Overlay::new(&c.state), &uscc(E1), d("2026-05-01"))
    };
    let e = ov(&chain);
    assert!(e.eligible && e.flags.len() == 1, "{e:?}");
    chain.ok(&dept_key(BJSAMR), fine("F-BIG", 2_000_000, "2023-05-02"));
    let e = ov(&chain);
    assert!(!e.eligible, "{e:?}");
    assert_eq!(
        (
            e.bars[0].basis,
            e.bars[0].rule.as_str(),
            e.bars[0].id.as_str()
        ),
        (Basis::Statute, "R5(b)", "F-BIG")
    );
    // Three years on, it no longer bars.
    let later = r5_procurement_eligibility::procurement(
        &Overlay::new(&chain.state),
        &uscc(E1),
        d("2026-05-03"),
    );
    assert!(later.bars.is_empty(), "{later:?}");
    // A deregistered bidder's open bids are withdrawn (R2).
    chain.at("2026-06-25T10:00");
    chain.ok(&ent_key(E6), submit("BID-6"));
    chain.ok(
        &dept_key(BJSAMR),
        Call::Party(PartyCall::Deregister {
            uscc: E6.into(),
            basis: "注销".into(),
        }),
    );
    assert_eq!(bid(&chain, "BID-6").status, BidStatus::Withdrawn);
}

#[test]
fn what_a_list_bars_by_law_cannot_be_left_out_and_repair_ends_a_major_record_bar() {
    let mut chain = credit_baseline();
    // A court entry listed with no restrictions named still bars procurement (R5(a)).
    chain.ok(
        &dept_key(OTHER),
        credit(CreditCall::List {
            entry_id: "MT-1".into(),
            list_type: ListType::MajorTaxViolation,
            party: E2.into(),
            basis_refs: vec!["税".into()],
            listed_on: d("2026-05-01"),
            restrictions: Some(vec![]),
            until: None,
        }),
    );
    assert_eq!(
        restricted(&chain, E2, RestrictionCode::NoGovProcurement),
        vec![Source::ListEntry("MT-1".into())]
    );
    // A major fine bars by statute; once repaired, it no longer does (R6).
    chain.ok(
        &dept_key(BJSAMR),
        credit(CreditCall::RecordDishonesty {
            record_id: "F-BIG".into(),
            party: E1.into(),
            basis_doc_no: "罚".into(),
            basis_doc_date: d("2026-01-01"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::General,
            obligations: vec![],
            relates_to: None,
            penalty: Some(Penalty {
                kind: PenaltyKind::Fine,
                amount_cny: Some(3_000_000),
            }),
        }),
    );
    let judge = |c: &Chain| {
        r5_procurement_eligibility::procurement(&Overlay::new(&c.state), &uscc(E1), d("2026-05-01"))
    };
    assert_eq!(judge(&chain).bars[0].rule, "R5(b)");
    chain.ok(
        &ent_key(E1),
        make_commitment("RC", CommitmentKind::RepairCommitment, false),
    );
    chain.ok(&ent_key(E1), request_repair("F-BIG", "RC"));
    chain.ok(&dept_key(CREDIT), decide_repair("F-BIG", true));
    let after = judge(&chain);
    assert!(after.eligible && after.flags.is_empty(), "{after:?}");
}
