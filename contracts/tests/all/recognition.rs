//! R11: agreements take effect only when every party authority signed; each of the six lookup
//! outcomes, each logged.

use std::collections::BTreeSet;

use concordat_contracts::ids::Uscc;
use concordat_contracts::licence::{ApprovalMode, LicenceCall, Validity};
use concordat_contracts::recognition::{
    Agreement, AgreementStatus, RecognitionCall, RecognitionDecision, RecognitionResult, Terms,
};
use concordat_contracts::state::keys;
use concordat_contracts::time::Date;
use concordat_contracts::{Call, ResultCode};
use concordat_testkit::chain::*;
use concordat_testkit::fixture::*;

fn u(i: usize) -> Uscc {
    Uscc::parse(&dept_uscc(i)).expect("uscc")
}

fn terms(max_age_days: Option<u32>) -> Terms {
    Terms {
        scope: "LICENCE:FOOD_BUSINESS".into(),
        parties: BTreeSet::from([u(BJSAMR), u(TJSAMR)]),
        accepted_issuers: BTreeSet::from([u(BJSAMR)]),
        credential_types: BTreeSet::new(),
        max_age_days,
        effective_from: Date::parse("2026-01-01").expect("d"),
        effective_to: None,
    }
}

fn licence(chain: &mut Chain, id: &str, type_code: &str, issuer: usize) {
    chain.ok(
        &ent_key(E1),
        Call::Licence(LicenceCall::Apply {
            licence_id: id.into(),
            type_code: type_code.into(),
            issuer: dept_uscc(issuer),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "s".into(),
            site_ids: vec![],
        }),
    );
    let today = Date::of_ms(chain.time_ms);
    chain.ok(
        &dept_key(issuer),
        Call::Licence(LicenceCall::Issue {
            licence_id: id.into(),
            licence_no: format!("NO-{id}"),
            validity: Validity {
                issued_on: today,
                valid_from: today,
                valid_until: Date::parse("2030-01-01").expect("d"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
}

fn lookup(
    chain: &mut Chain,
    n: &mut u32,
    agreement: &str,
    credential: &str,
) -> RecognitionDecision {
    *n += 1;
    let id = format!("D{n}");
    chain.ok(
        &dept_key(TJSAMR),
        Call::Recognition(RecognitionCall::Recognise {
            decision_id: id.clone(),
            agreement_id: agreement.into(),
            credential_id: credential.into(),
            purpose: "跨区域经营".into(),
        }),
    );
    chain.get(&keys::recognition(&id)).expect("logged")
}

#[test]
fn activation_needs_every_party_and_each_outcome_is_logged() {
    let mut chain = baseline();
    let mut n = 0;
    licence(&mut chain, "L-OK", "FOOD_BUSINESS", BJSAMR);
    licence(&mut chain, "L-TJ", "FOOD_BUSINESS", TJSAMR);
    licence(&mut chain, "L-OTHER", "PRINTING", BJSAMR);
    chain.ok(
        &dept_key(BJSAMR),
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: "MR-1".into(),
            terms: terms(None),
        }),
    );
    // A department that is not a party may neither sign nor propose changes.
    chain.refused(
        &dept_key(OTHER),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-1".into(),
        }),
        ResultCode::Unauthorised,
    );
    let a: Agreement = chain.get(&keys::agreement("MR-1")).expect("a");
    assert_eq!(a.status, AgreementStatus::Draft);
    // Not yet signed by Tianjin: NOT_COVERED.
    assert_eq!(
        lookup(&mut chain, &mut n, "MR-1", "L-OK").result,
        RecognitionResult::NotCovered
    );
    chain.refused(
        &dept_key(BJSAMR),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-1".into(),
        }),
        ResultCode::AlreadyExists,
    );
    chain.ok(
        &dept_key(TJSAMR),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-1".into(),
        }),
    );
    let a: Agreement = chain.get(&keys::agreement("MR-1")).expect("a");
    assert_eq!(a.status, AgreementStatus::Active);
    assert_eq!(
        a.parties_regions,
        BTreeSet::from(["110000".to_string(), "120000".to_string()])
    );

    let d = lookup(&mut chain, &mut n, "MR-1", "L-OK");
    assert_eq!(d.result, RecognitionResult::Recognised, "{}", d.reason);
    assert_eq!(d.evidence.status_code.as_deref(), Some("01"));
    assert_eq!(
        lookup(&mut chain, &mut n, "MR-1", "L-OTHER").result,
        RecognitionResult::NotCovered
    );
    assert_eq!(
        lookup(&mut chain, &mut n, "MR-1", "L-TJ").result,
        RecognitionResult::IssuerNotInAgreement
    );

    let samr = dept_key(BJSAMR);
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Suspend {
            licence_id: "L-OK".into(),
            basis: "暂扣".into(),
        }),
    );
    assert_eq!(
        lookup(&mut chain, &mut n, "MR-1", "L-OK").result,
        RecognitionResult::Suspended
    );
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Revoke {
            licence_id: "L-OK".into(),
            basis: "吊销".into(),
        }),
    );
    let d = lookup(&mut chain, &mut n, "MR-1", "L-OK");
    assert_eq!(
        (d.result, d.evidence.status_code.as_deref()),
        (RecognitionResult::Revoked, Some("07"))
    );

    // Suspending the agreement also needs both parties; then lookups say SUSPENDED.
    chain.ok(
        &samr,
        Call::Recognition(RecognitionCall::ProposeChange {
            agreement_id: "MR-1".into(),
            to: AgreementStatus::Suspended,
        }),
    );
    assert_eq!(
        chain
            .get::<Agreement>(&keys::agreement("MR-1"))
            .expect("a")
            .status,
        AgreementStatus::Active
    );
    chain.ok(
        &dept_key(TJSAMR),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-1".into(),
        }),
    );
    assert_eq!(
        lookup(&mut chain, &mut n, "MR-1", "L-TJ").result,
        RecognitionResult::Suspended
    );

    // EXPIRED: an agreement accepting credentials at most 10 days old, looked up 30 days on.
    chain.ok(
        &samr,
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: "MR-2".into(),
            terms: terms(Some(10)),
        }),
    );
    chain.ok(
        &dept_key(TJSAMR),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-2".into(),
        }),
    );
    licence(&mut chain, "L-NEW", "FOOD_BUSINESS", BJSAMR);
    assert_eq!(
        lookup(&mut chain, &mut n, "MR-2", "L-NEW").result,
        RecognitionResult::Recognised
    );
    chain.time_ms += 30 * 86_400_000;
    let d = lookup(&mut chain, &mut n, "MR-2", "L-NEW");
    assert_eq!(d.result, RecognitionResult::Expired, "{}", d.reason);
    // An active agreement is suspended before it is terminated; terminated is final.
    chain.refused(
        &samr,
        Call::Recognition(RecognitionCall::ProposeChange {
            agreement_id: "MR-2".into(),
            to: AgreementStatus::Terminated,
        }),
        ResultCode::InvalidTransition,
    );
    for to in [AgreementStatus::Suspended, AgreementStatus::Terminated] {
        chain.ok(
            &samr,
            Call::Recognition(RecognitionCall::ProposeChange {
                agreement_id: "MR-2".into(),
                to,
            }),
        );
        chain.ok(
            &dept_key(TJSAMR),
            Call::Recognition(RecognitionCall::Sign {
                agreement_id: "MR-2".into(),
            }),
        );
    }
    chain.refused(
        &samr,
        Call::Recognition(RecognitionCall::ProposeChange {
            agreement_id: "MR-2".into(),
            to: AgreementStatus::Active,
        }),
        ResultCode::InvalidTransition,
    );
}

const PERSON: &str = "3f2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809a1b";

fn person_credential(id: &str, type_code: &str) -> Call {
    Call::Credential(concordat_contracts::credential::CredentialCall::Issue {
        credential_id: id.into(),
        type_code: type_code.into(),
        credential_no: format!("NO-{id}"),
        holder_ref: PERSON.into(),
        issued_on: Date::parse("2026-05-01").expect("d"),
        valid_from: Date::parse("2026-05-01").expect("d"),
        valid_until: Some(Date::parse("2031-04-30").expect("d")),
        file_hash: None,
    })
}

fn recognise_for(decision: &str, agreement: &str, credential: &str, whom: &str) -> Call {
    Call::Recognition(RecognitionCall::RecogniseFor {
        decision_id: decision.into(),
        agreement_id: agreement.into(),
        credential_id: credential.into(),
        purpose: "职称互认 (title recognition)".into(),
        on_behalf_of: whom.into(),
    })
}

fn decision(chain: &Chain, id: &str) -> RecognitionDecision {
    chain.get(&keys::recognition(id)).expect("logged")
}

#[test]
fn credentials_held_by_persons_are_recognised_on_their_behalf() {
    let mut chain = baseline();
    // A professional title issued to a person (a salted id hash; no key, no personal data).
    chain.ok(&dept_key(BJSAMR), person_credential("PT-1", "PRO_TITLE"));
    let held: Vec<String> = chain
        .get(&concordat_contracts::credential::keys::credentials_of(
            PERSON,
        ))
        .expect("index");
    assert_eq!(held, ["PT-1"]);
    // Scope PRO_TITLE, no credential types: the scope names the type it covers.
    let mut t = terms(None);
    t.scope = "PRO_TITLE".into();
    chain.ok(
        &dept_key(BJSAMR),
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: "MR-PT".into(),
            terms: t,
        }),
    );
    chain.ok(
        &dept_key(TJSAMR),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-PT".into(),
        }),
    );
    chain.ok(
        &dept_key(TJSAMR),
        recognise_for("D-P1", "MR-PT", "PT-1", PERSON),
    );
    let d = decision(&chain, "D-P1");
    assert_eq!(d.result, RecognitionResult::Recognised, "{}", d.reason);
    assert_eq!(d.on_behalf_of.as_deref(), Some(PERSON));
    assert_eq!(d.credential_kind.as_deref(), Some("person_credential"));
    // On an enterprise's behalf (the person's employer), too.
    chain.ok(
        &dept_key(TJSAMR),
        recognise_for("D-P2", "MR-PT", "PT-1", E1),
    );
    assert_eq!(decision(&chain, "D-P2").on_behalf_of.as_deref(), Some(E1));
    // Another type is not covered, and says what the agreement covers.
    chain.ok(&dept_key(BJSAMR), person_credential("ME-1", "MED_EXAM"));
    chain.ok(
        &dept_key(TJSAMR),
        recognise_for("D-P3", "MR-PT", "ME-1", PERSON),
    );
    let d = decision(&chain, "D-P3");
    assert_eq!(d.result, RecognitionResult::NotCovered);
    assert!(d.reason.contains("covers PRO_TITLE"), "{}", d.reason);
    // A suspended title is SUSPENDED; revoked is REVOKED.
    chain.ok(
        &dept_key(BJSAMR),
        Call::Credential(concordat_contracts::credential::CredentialCall::Suspend {
            credential_id: "PT-1".into(),
            basis: "复核".into(),
        }),
    );
    chain.ok(
        &dept_key(TJSAMR),
        recognise_for("D-P4", "MR-PT", "PT-1", PERSON),
    );
    assert_eq!(
        decision(&chain, "D-P4").result,
        RecognitionResult::Suspended
    );
    chain.ok(
        &dept_key(BJSAMR),
        Call::Credential(concordat_contracts::credential::CredentialCall::Revoke {
            credential_id: "PT-1".into(),
            basis: "撤销".into(),
        }),
    );
    chain.ok(
        &dept_key(TJSAMR),
        recognise_for("D-P5", "MR-PT", "PT-1", PERSON),
    );
    assert_eq!(decision(&chain, "D-P5").result, RecognitionResult::Revoked);
    // On another person's behalf: refused.
    chain.refused(
        &dept_key(TJSAMR),
        recognise_for("D-P7", "MR-PT", "ME-1", &"ab".repeat(32)),
        ResultCode::InvalidArgument,
    );
    // Only the issuer acts on it; a bad person reference is refused.
    chain.refused(
        &dept_key(TJSAMR),
        Call::Credential(concordat_contracts::credential::CredentialCall::Suspend {
            credential_id: "ME-1".into(),
            basis: "b".into(),
        }),
        ResultCode::Unauthorised,
    );
    chain.refused(
        &dept_key(TJSAMR),
        recognise_for("D-P6", "MR-PT", "ME-1", "not-a-person"),
        ResultCode::BadIdentifier,
    );
}

/// The kind-generic walk of `person_credential`.
pub(crate) fn person_credential_in(status: &str) -> Vec<Chain> {
    let mut chain = baseline();
    chain.ok(&dept_key(BJSAMR), person_credential("PC", "PRO_TITLE"));
    let path: &[usize] = match status {
        "VALID" => &[],
        "SUSPENDED" => &[0],
        "REVOKED" => &[2],
        "EXPIRED" => &[3],
        other => panic!("no way to {other}"),
    };
    for i in path {
        let m = person_credential_moves().swap_remove(*i);
        chain.time_ms += m.advance_ms;
        for (s, c) in m.txs {
            chain.ok(&s, c);
        }
    }
    vec![chain]
}

/// Every call that moves a person credential.
pub(crate) fn person_credential_moves() -> Vec<crate::kinds::Move> {
    use concordat_contracts::credential::CredentialCall as C;
    let by = |name, call| crate::kinds::mv(name, dept_key(BJSAMR), Call::Credential(call));
    vec![
        by(
            "suspend",
            C::Suspend {
                credential_id: "PC".into(),
                basis: "b".into(),
            },
        ),
        by(
            "reinstate",
            C::Reinstate {
                credential_id: "PC".into(),
                basis: "b".into(),
            },
        ),
        by(
            "revoke",
            C::Revoke {
                credential_id: "PC".into(),
                basis: "b".into(),
            },
        ),
        crate::kinds::Move {
            name: "expire",
            advance_ms: 6 * 366 * 86_400_000,
            txs: vec![(
                dept_key(TJSAMR),
                Call::Credential(C::Expire {
                    credential_id: "PC".into(),
                }),
            )],
        },
    ]
}
