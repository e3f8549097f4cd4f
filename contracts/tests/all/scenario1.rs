//! domain.md Scenario 1 (notification-commitment licence found false) and variant 1b (one
//! licence, multiple sites), through signed transactions on the in-memory chain.

use concordat_contracts::commitment::{
    Commitment, CommitmentCall, CommitmentKind, CommitmentStatus,
};
use concordat_contracts::credit::{
    DishonestyCategory, DishonestyRecord, DishonestyStatus, Severity,
};
use concordat_contracts::licence::{
    ApprovalMode, Licence, LicenceCall, LicenceStatus, Validity, Verification,
};
use concordat_contracts::party::{Party, PartyCall};
use concordat_contracts::seal::{SealAlgorithm, SealSignature, SignaturePurpose, SignatureResult};
use concordat_contracts::state::keys;
use concordat_contracts::time::Date;
use concordat_contracts::{Call, ResultCode};
use concordat_primitives::Hash;
use concordat_testkit::fixture::*;

fn d(s: &str) -> Date {
    Date::parse(s).expect("date")
}

fn apply_nc(licence_id: &str, type_code: &str, commitment_id: Option<&str>) -> Call {
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

#[test]
fn scenario_1_false_commitment_annuls_records_and_reroutes() {
    let mut chain = baseline();
    let e1 = ent_key(E1);
    let samr = dept_key(BJSAMR);

    // E1's site and its official seal (SM2 with SM3, as GB/T 38540 seals are).
    chain.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "望京街道样例路1号".into(),
        }),
    );
    register_seal(&mut chain, "ES-E1-01", E1, "01", SealAlgorithm::Sm2Sm3, 11);

    // 1. 2026-05-06 10:00: the commitment, signed with the official seal, and the NC application.
    chain.at("2026-05-06T10:00");
    let sig_time = chain.time_ms - 60_000;
    chain.ok(
        &e1,
        Call::Seal(signature_call(
            "SIG-C-123",
            "ES-E1-01",
            SealAlgorithm::Sm2Sm3,
            11,
            b"commitment text",
            SignaturePurpose::Authorisation,
            sig_time,
        )),
    );
    let sig: SealSignature = chain
        .get(&keys::seal_signature("SIG-C-123"))
        .expect("recorded");
    assert_eq!(
        sig.verification.result,
        SignatureResult::Valid,
        "{}",
        sig.verification.detail
    );
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-2026-000123".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: Hash::digest(b"commitment text"),
            relates_to: Some("FOOD_BUSINESS".into()),
            seal_signature_id: Some("SIG-C-123".into()),
            addressed_to: None,
        }),
    );
    chain.ok(
        &e1,
        apply_nc("L-E1-FOOD-1", "FOOD_BUSINESS", Some("C-2026-000123")),
    );
    let l: Licence = chain.get(&keys::licence("L-E1-FOOD-1")).expect("applied");
    assert_eq!(
        (l.status, l.approval_mode),
        (LicenceStatus::Applied, ApprovalMode::NotificationCommitment),
        "R3 passes: no records"
    );

    // 2. 14:00: issued, 01, verification PENDING until 2026-07-06.
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
            file_hash: Some(Hash::digest(b"licence.ofd")),
            seal_signature_id: None,
        }),
    );
    let l: Licence = chain.get(&keys::licence("L-E1-FOOD-1")).expect("issued");
    assert_eq!(l.status_code(), Some("01"));
    assert_eq!(l.verification, Verification::Pending);
    assert_eq!(l.verification_due, Some(d("2026-07-06")));
    assert!(l.status_index.is_some());
    // Relied on now: E1 can no longer withdraw it.
    chain.refused(
        &e1,
        Call::Commitment(CommitmentCall::Withdraw {
            commitment_id: "C-2026-000123".into(),
        }),
        ResultCode::InvalidTransition,
    );

    // 3. 2026-06-20: the follow-up check finds no compliant food-processing area.
    chain.at("2026-06-20T09:00");
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::RecordCheck {
            licence_id: "L-E1-FOOD-1".into(),
            conforms: false,
            inspection_ref: "INSP-2026-0620-01".into(),
        }),
    );
    let c: Commitment = chain.get(&keys::commitment("C-2026-000123")).expect("c");
    assert_eq!(c.status, CommitmentStatus::Breached);

    // 4. 2026-06-25: annulled (03); a GENERAL FALSE_COMMITMENT record from the document date.
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
    let l: Licence = chain.get(&keys::licence("L-E1-FOOD-1")).expect("l");
    assert_eq!(
        (l.status, l.status_code()),
        (LicenceStatus::Annulled, Some("03"))
    );
    let rec: DishonestyRecord = chain
        .get(&keys::dishonesty("FC-C-2026-000123"))
        .expect("record");
    assert_eq!(rec.category, DishonestyCategory::FalseCommitment);
    assert_eq!(rec.severity, Severity::General);
    assert_eq!(rec.status, DishonestyStatus::Publicized);
    assert_eq!(rec.basis_doc_date, d("2026-06-25"));
    assert_eq!(rec.min_public_until, d("2026-09-25"));
    assert_eq!(rec.max_public_until, d("2027-06-25"));
    assert_eq!(rec.party.as_str(), E1);

    // 5. 03 -> 01 is refused, by every call that could lead there.
    for call in [
        LicenceCall::LiftSuspension {
            licence_id: "L-E1-FOOD-1".into(),
            basis: "发还".into(),
        },
        LicenceCall::Issue {
            licence_id: "L-E1-FOOD-1".into(),
            licence_no: "JY11101050012345".into(),
            validity: Validity {
                issued_on: d("2026-06-25"),
                valid_from: d("2026-06-25"),
                valid_until: d("2031-05-05"),
            },
            file_hash: None,
            seal_signature_id: None,
        },
        LicenceCall::Renew {
            licence_id: "L-E1-FOOD-1".into(),
            new_licence_id: "L-E1-FOOD-2".into(),
            licence_no: "JY11101050012346".into(),
            validity: Validity {
                issued_on: d("2026-06-25"),
                valid_from: d("2026-06-25"),
                valid_until: d("2031-05-05"),
            },
            scope: None,
        },
    ] {
        let msg = chain.refused(&samr, Call::Licence(call), ResultCode::InvalidTransition);
        assert!(msg.contains("Annulled"), "{msg}");
    }

    // 2026-07-01: a new NC application by E1 is routed to STANDARD (R3).
    chain.at("2026-07-01T10:00");
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-2026-000200".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: Hash::digest(b"second"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: None,
        }),
    );
    chain.ok(
        &e1,
        apply_nc("L-E1-IND-1", "INDUSTRIAL_PRODUCT", Some("C-2026-000200")),
    );
    let l2: Licence = chain.get(&keys::licence("L-E1-IND-1")).expect("applied");
    assert_eq!(l2.requested_mode, ApprovalMode::NotificationCommitment);
    assert_eq!(l2.approval_mode, ApprovalMode::Standard);
    assert!(
        l2.routed_reason
            .as_deref()
            .unwrap_or("")
            .contains("R3: unrepaired false commitment C-2026-000123"),
        "{:?}",
        l2.routed_reason
    );
    assert_eq!(l2.commitment_id, None);
}

#[test]
fn variant_1b_sites_only_in_the_registrars_district() {
    let mut chain = baseline();
    let samr = dept_key(BJSAMR);
    chain.at("2026-05-10T09:00");
    chain.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E6.into(),
            site_id: "S2".into(),
            region_code: "110105".into(),
            address: "三里屯样例街2号".into(),
        }),
    );
    let p: Party = chain.get(&keys::party(E6)).expect("E6");
    assert_eq!(p.sites.len(), 1);
    assert_eq!(p.sites[0].address, "三里屯样例街2号");
    let msg = chain.refused(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E6.into(),
            site_id: "S3".into(),
            region_code: "110108".into(),
            address: "海淀样例路3号".into(),
        }),
        ResultCode::InvalidArgument,
    );
    assert!(
        msg.contains("outside the party's district 110105") && msg.contains("policy"),
        "{msg}"
    );
    // A registrar whose jurisdiction does not cover the region is refused too.
    let msg = chain.refused(
        &dept_key(TJSAMR),
        Call::Party(PartyCall::AddSite {
            uscc: E6.into(),
            site_id: "S4".into(),
            region_code: "110105".into(),
            address: "样例路4号".into(),
        }),
        ResultCode::Unauthorised,
    );
    assert!(msg.contains("jurisdiction 120000"), "{msg}");
}

#[test]
fn fraud_sets_a_reapplication_bar_and_serious_severity() {
    let mut chain = baseline();
    let e1 = ent_key(E1);
    let samr = dept_key(BJSAMR);
    chain.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "样例路1号".into(),
        }),
    );
    chain.at("2026-05-06T10:00");
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-F".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: None,
        }),
    );
    chain.ok(&e1, apply_nc("L-F", "FOOD_BUSINESS", Some("C-F")));
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-F".into(),
            licence_no: "JY1".into(),
            validity: Validity {
                issued_on: d("2026-05-06"),
                valid_from: d("2026-05-06"),
                valid_until: d("2027-05-05"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    chain.at("2026-06-01T10:00");
    // The breach decision itself annuls the licence that relied on it (R4).
    chain.ok(
        &samr,
        Call::Commitment(CommitmentCall::Breach {
            commitment_id: "C-F".into(),
            basis_doc_no: "撤字第16号".into(),
            basis_doc_date: d("2026-06-01"),
            fraud: true,
        }),
    );
    let l: Licence = chain.get(&keys::licence("L-F")).expect("l");
    assert_eq!(l.status, LicenceStatus::Annulled);
    let rec: DishonestyRecord = chain.get(&keys::dishonesty("FC-C-F")).expect("rec");
    assert_eq!(rec.severity, Severity::Serious);
    assert_eq!(rec.max_public_until, d("2029-06-01"));
    // FOOD_BUSINESS touches health: a three-year bar (Art. 79 per policy).
    let msg = chain.refused(
        &e1,
        Call::Licence(LicenceCall::Apply {
            licence_id: "L-F2".into(),
            type_code: "FOOD_BUSINESS".into(),
            issuer: dept_uscc(BJSAMR),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "s".into(),
            site_ids: vec![],
        }),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("before 2029-06-01"), "{msg}");
    // Another type is not barred.
    chain.ok(
        &e1,
        Call::Licence(LicenceCall::Apply {
            licence_id: "L-O".into(),
            type_code: "PRINTING".into(),
            issuer: dept_uscc(BJSAMR),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "s".into(),
            site_ids: vec![],
        }),
    );
}

#[test]
fn deregistration_cascades_to_licences_and_seals() {
    let mut chain = baseline();
    let e6 = ent_key(E6);
    let samr = dept_key(BJSAMR);
    register_seal(&mut chain, "ES-E6", E6, "01", SealAlgorithm::Ed25519, 30);
    for id in ["L-A", "L-B"] {
        chain.ok(
            &e6,
            Call::Licence(LicenceCall::Apply {
                licence_id: id.into(),
                type_code: "CATERING".into(),
                issuer: dept_uscc(BJSAMR),
                approval_mode: ApprovalMode::Standard,
                commitment_id: None,
                scope: "s".into(),
                site_ids: vec![],
            }),
        );
    }
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-A".into(),
            licence_no: "N1".into(),
            validity: Validity {
                issued_on: Date::of_ms(chain.time_ms),
                valid_from: Date::of_ms(chain.time_ms),
                valid_until: d("2030-01-01"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    chain.ok(
        &samr,
        Call::Party(PartyCall::RevokeLicence {
            uscc: E6.into(),
            basis: "吊销决定".into(),
        }),
    );
    let a: Licence = chain.get(&keys::licence("L-A")).expect("a");
    let b: Licence = chain.get(&keys::licence("L-B")).expect("b");
    assert_eq!(
        a.status,
        LicenceStatus::Cancelled,
        "吊销 of the business licence cancels the holder's live licences (04)"
    );
    assert_eq!(
        b.status,
        LicenceStatus::Refused,
        "open applications are refused"
    );
    let seal: concordat_contracts::seal::Seal = chain.get(&keys::seal("ES-E6")).expect("seal");
    assert_eq!(seal.status, concordat_contracts::seal::SealStatus::Revoked);
    // The enterprise can no longer act (R2).
    let msg = chain.refused(
        &e6,
        Call::Licence(LicenceCall::Apply {
            licence_id: "L-C".into(),
            type_code: "CATERING".into(),
            issuer: dept_uscc(BJSAMR),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "s".into(),
            site_ids: vec![],
        }),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("R2"), "{msg}");
}

#[test]
fn an_unchecked_nc_licence_is_flagged_after_its_window() {
    let mut chain = baseline();
    let e1 = ent_key(E1);
    let samr = dept_key(BJSAMR);
    chain.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "样例路1号".into(),
        }),
    );
    chain.at("2026-05-06T10:00");
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-O".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: None,
        }),
    );
    chain.ok(&e1, apply_nc("L-O", "FOOD_BUSINESS", Some("C-O")));
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-O".into(),
            licence_no: "JY2".into(),
            validity: Validity {
                issued_on: d("2026-05-06"),
                valid_from: d("2026-05-06"),
                valid_until: d("2031-05-05"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    let flag = || {
        Call::Licence(LicenceCall::FlagOverdueCheck {
            licence_id: "L-O".into(),
        })
    };
    // On the due date itself it is not yet overdue.
    chain.at("2026-07-06T23:00");
    chain.refused(&ent_key(E2), flag(), ResultCode::InvalidTransition);
    chain.at("2026-07-07T09:00");
    chain.ok(&ent_key(E2), flag());
    let l: Licence = chain.get(&keys::licence("L-O")).expect("l");
    assert_eq!(l.verification, Verification::Overdue);
    chain.refused(&ent_key(E2), flag(), ResultCode::InvalidTransition);
    // A late check still settles it.
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::RecordCheck {
            licence_id: "L-O".into(),
            conforms: true,
            inspection_ref: "INSP-LATE".into(),
        }),
    );
    let l: Licence = chain.get(&keys::licence("L-O")).expect("l");
    assert_eq!(l.verification, Verification::Verified);
    let c: Commitment = chain.get(&keys::commitment("C-O")).expect("c");
    assert_eq!(c.status, CommitmentStatus::Fulfilled);
}

/// E1 with site S1 and an issued NC licence `L-N` on commitment `C-N` (not yet checked).
fn nc_licence_issued() -> concordat_testkit::chain::Chain {
    let mut chain = baseline();
    let e1 = ent_key(E1);
    let samr = dept_key(BJSAMR);
    chain.ok(
        &samr,
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: "S1".into(),
            region_code: "110105".into(),
            address: "样例路1号".into(),
        }),
    );
    chain.at("2026-05-06T10:00");
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-N".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: Some(dept_uscc(BJSAMR)),
        }),
    );
    chain.ok(&e1, apply_nc("L-N", "PRINTING", Some("C-N")));
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-N".into(),
            licence_no: "N".into(),
            validity: Validity {
                issued_on: d("2026-05-06"),
                valid_from: d("2026-05-06"),
                valid_until: d("2031-05-05"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    chain.at("2026-06-01T10:00");
    chain
}

fn annul(fraud: bool) -> Call {
    Call::Licence(LicenceCall::Annul {
        licence_id: "L-N".into(),
        basis_doc_no: "撤字第20号".into(),
        basis_doc_date: d("2026-06-01"),
        fraud,
    })
}

#[test]
fn annulment_applies_r4_only_to_a_commitment_found_false_or_to_fraud() {
    // Annulled for another reason, commitment never found false: no dishonesty record.
    let mut chain = nc_licence_issued();
    chain.ok(&dept_key(BJSAMR), annul(false));
    let c: Commitment = chain.get(&keys::commitment("C-N")).expect("c");
    assert_eq!(c.status, CommitmentStatus::Active);
    assert!(chain
        .get::<DishonestyRecord>(&keys::dishonesty("FC-C-N"))
        .is_none());
    assert!(chain
        .get::<DishonestyRecord>(&keys::dishonesty("AN-L-N"))
        .is_none());

    // Fraud found while the commitment is still ACTIVE: R4 with the fraud severity.
    let mut chain = nc_licence_issued();
    chain.ok(&dept_key(BJSAMR), annul(true));
    let c: Commitment = chain.get(&keys::commitment("C-N")).expect("c");
    assert_eq!(c.status, CommitmentStatus::Breached);
    let rec: DishonestyRecord = chain.get(&keys::dishonesty("FC-C-N")).expect("record");
    assert_eq!(rec.severity, Severity::Serious);

    // Verified (commitment FULFILLED), fraud found later: an ADMIN_PENALTY record and the bar.
    let mut chain = nc_licence_issued();
    chain.ok(
        &dept_key(BJSAMR),
        Call::Licence(LicenceCall::RecordCheck {
            licence_id: "L-N".into(),
            conforms: true,
            inspection_ref: "I".into(),
        }),
    );
    chain.ok(&dept_key(BJSAMR), annul(true));
    let c: Commitment = chain.get(&keys::commitment("C-N")).expect("c");
    assert_eq!(c.status, CommitmentStatus::Fulfilled);
    let rec: DishonestyRecord = chain.get(&keys::dishonesty("AN-L-N")).expect("record");
    assert_eq!(
        (rec.category, rec.severity),
        (DishonestyCategory::AdminPenalty, Severity::Serious)
    );
    let bar: concordat_contracts::credit::ReapplyBar =
        chain.get(&keys::reapply_bar(E1, "PRINTING")).expect("bar");
    assert_eq!(bar.until, d("2027-06-01"));
}

#[test]
fn seal_signatures_cited_as_evidence_must_be_over_that_document() {
    let mut chain = baseline();
    let e1 = ent_key(E1);
    register_seal(&mut chain, "ES1", E1, "01", SealAlgorithm::Ed25519, 40);
    let t = chain.time_ms;
    chain.ok(
        &e1,
        Call::Seal(signature_call(
            "TAXSIG",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"tax return",
            SignaturePurpose::TaxFiling,
            t,
        )),
    );
    chain.ok(
        &e1,
        Call::Seal(signature_call(
            "AUTH",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"another text",
            SignaturePurpose::Authorisation,
            t,
        )),
    );
    let make = |sig: &str, text: &[u8]| {
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C".into(),
            kind: CommitmentKind::Truthfulness,
            text_hash: Hash::digest(text),
            relates_to: None,
            seal_signature_id: Some(sig.into()),
            addressed_to: None,
        })
    };
    let msg = chain.refused(
        &e1,
        make("TAXSIG", b"tax return"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("TaxFiling"), "{msg}");
    let msg = chain.refused(
        &e1,
        make("AUTH", b"commitment text"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("not over the commitment text"), "{msg}");
    chain.ok(&e1, make("AUTH", b"another text"));
}

#[test]
fn keys_are_bound_only_within_jurisdiction_and_never_shared() {
    let mut chain = baseline();
    // Tianjin's registrar cannot bind a key to a Beijing enterprise.
    let msg = chain.refused(
        &dept_key(TJSAMR),
        Call::Party(PartyCall::SetKeys {
            uscc: E1.into(),
            keys: std::collections::BTreeSet::from(
                [concordat_testkit::chain::key(77).public_key()],
            ),
        }),
        ResultCode::Unauthorised,
    );
    assert!(msg.contains("outside the jurisdiction 120000"), "{msg}");
    // A department member key cannot become a party key, nor a party key a member key.
    chain.refused(
        &dept_key(BJSAMR),
        Call::Party(PartyCall::SetKeys {
            uscc: E1.into(),
            keys: std::collections::BTreeSet::from([dept_key(OTHER).public_key()]),
        }),
        ResultCode::AlreadyExists,
    );
    let mut d = concordat_testkit::chain::department(5, &[concordat_contracts::Role::Customs]);
    d.member_keys = std::collections::BTreeSet::from([ent_key(E6).public_key()]);
    let msg = chain.refused(
        &dept_key(BJSAMR),
        Call::Governance(concordat_contracts::governance::GovCall::Propose {
            action: concordat_contracts::governance::GovAction::AddDepartment(d),
            expires_at_height: chain.height + 5,
        }),
        ResultCode::AlreadyExists,
    );
    assert!(msg.contains("signs for party"), "{msg}");
}

#[test]
fn an_inspector_records_checks_only_in_its_region() {
    let mut chain = nc_licence_issued();
    // TJSAMR gets the INSPECTOR role through governance; it covers 120000, not E1's 110105.
    let mut d = concordat_testkit::chain::department(
        TJSAMR,
        &[
            concordat_contracts::Role::Registrar,
            concordat_contracts::Role::LicensingAuthority,
            concordat_contracts::Role::Inspector,
        ],
    );
    d.region = "120000".into();
    chain.ok(
        &dept_key(BJSAMR),
        Call::Governance(concordat_contracts::governance::GovCall::Propose {
            action: concordat_contracts::governance::GovAction::UpdateDepartment(d),
            expires_at_height: chain.height + 5,
        }),
    );
    for i in [TJSAMR, SEALS] {
        chain.ok(
            &dept_key(i),
            Call::Governance(concordat_contracts::governance::GovCall::Approve { proposal_id: 0 }),
        );
    }
    let check = Call::Licence(LicenceCall::RecordCheck {
        licence_id: "L-N".into(),
        conforms: false,
        inspection_ref: "I".into(),
    });
    let msg = chain.refused(&dept_key(TJSAMR), check.clone(), ResultCode::Unauthorised);
    assert!(msg.contains("issued by"), "{msg}");
    chain.ok(&dept_key(BJSAMR), check);
}

#[test]
fn status_lists_hold_each_issuers_revocation_and_suspension_bits() {
    use concordat_contracts::licence::{
        status_changes, status_list, LicenceStatus, StatusChange, MIN_STATUS_LIST_BITS,
    };
    let mut chain = nc_licence_issued(); // L-N by BJSAMR, index 0
    let e1 = ent_key(E1);
    let samr = dept_key(BJSAMR);
    for id in ["L-S1", "L-S2"] {
        chain.ok(
            &e1,
            Call::Licence(LicenceCall::Apply {
                licence_id: id.into(),
                type_code: "CATERING".into(),
                issuer: dept_uscc(BJSAMR),
                approval_mode: ApprovalMode::Standard,
                commitment_id: None,
                scope: "s".into(),
                site_ids: vec![],
            }),
        );
        chain.ok(
            &samr,
            Call::Licence(LicenceCall::Issue {
                licence_id: id.into(),
                licence_no: "N".into(),
                validity: Validity {
                    issued_on: d("2026-06-01"),
                    valid_from: d("2026-06-01"),
                    valid_until: d("2030-01-01"),
                },
                file_hash: None,
                seal_signature_id: None,
            }),
        );
    }
    let issuer = concordat_contracts::ids::Uscc::parse(&dept_uscc(BJSAMR)).expect("uscc");
    let annulled = chain.ok(&samr, annul(false)); // index 0 revoked
    let suspended = chain.ok(
        &samr,
        Call::Licence(LicenceCall::Suspend {
            licence_id: "L-S2".into(),
            basis: "暂扣".into(),
        }),
    ); // index 2
       // What a node keeps its lists current with, block by block.
    let change = |index, status| StatusChange {
        index,
        issuer: issuer.clone(),
        status,
    };
    assert_eq!(
        status_changes(&suspended.writes),
        vec![change(2, LicenceStatus::Suspended)]
    );
    assert!(status_changes(&annulled.writes).contains(&change(0, LicenceStatus::Annulled)));
    let rev = status_list(&chain.state, &issuer, true);
    let sus = status_list(&chain.state, &issuer, false);
    assert_eq!(rev.len() as u64 * 8, MIN_STATUS_LIST_BITS);
    assert_eq!((rev[0], sus[0]), (0b1000_0000, 0b0010_0000));
    assert!(rev[1..].iter().chain(&sus[1..]).all(|b| *b == 0));
    let other = concordat_contracts::ids::Uscc::parse(&dept_uscc(TJSAMR)).expect("uscc");
    assert!(status_list(&chain.state, &other, true)
        .iter()
        .all(|b| *b == 0));
}
