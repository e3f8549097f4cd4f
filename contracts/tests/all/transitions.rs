//! Commitment, seal and agreement state machines: from every status, every call; the allowed
//! ones work, the others are refused with INVALID_TRANSITION naming the status and change
//! nothing but the signer's nonce. Expected tables are written from domain.md.

use std::collections::BTreeSet;

use concordat_contracts::commitment::{
    Commitment, CommitmentCall, CommitmentKind, CommitmentStatus,
};
use concordat_contracts::ids::Uscc;
use concordat_contracts::recognition::{Agreement, AgreementStatus, RecognitionCall, Terms};
use concordat_contracts::seal::{Seal, SealAlgorithm, SealCall, SealStatus};
use concordat_contracts::state::keys;
use concordat_contracts::time::Date;
use concordat_contracts::{Call, ResultCode};
use concordat_primitives::{Hash, SecretKey};
use concordat_testkit::chain::*;
use concordat_testkit::fixture::*;

fn check(chain: &mut Chain, signer: &SecretKey, call: Call, allowed: bool, from: &str) {
    if allowed {
        chain.ok(signer, call);
    } else {
        let msg = chain.refused(signer, call, ResultCode::InvalidTransition);
        assert!(msg.contains(from), "refusal does not name {from}: {msg}");
    }
}

// ---- commitments: ACTIVE -> FULFILLED | BREACHED | WITHDRAWN, all three final.

fn make(addressed_to: Option<usize>) -> Call {
    Call::Commitment(CommitmentCall::Make {
        commitment_id: "C".into(),
        kind: CommitmentKind::Truthfulness,
        text_hash: Hash::digest(b"t"),
        relates_to: None,
        seal_signature_id: None,
        addressed_to: addressed_to.map(dept_uscc),
    })
}

pub(crate) fn commitment_in(status: CommitmentStatus) -> Chain {
    let mut chain = baseline();
    chain.ok(&ent_key(E1), make(Some(BJSAMR)));
    let step = match status {
        CommitmentStatus::Active => None,
        CommitmentStatus::Fulfilled => Some((dept_key(BJSAMR), fulfil())),
        CommitmentStatus::Breached => Some((dept_key(BJSAMR), breach())),
        CommitmentStatus::Withdrawn => Some((ent_key(E1), withdraw())),
    };
    if let Some((k, c)) = step {
        chain.ok(&k, c);
    }
    let c: Commitment = chain.get(&keys::commitment("C")).expect("c");
    assert_eq!(c.status, status);
    chain
}

pub(crate) fn fulfil() -> Call {
    Call::Commitment(CommitmentCall::Fulfil {
        commitment_id: "C".into(),
        basis: "核查符合".into(),
    })
}
pub(crate) fn breach() -> Call {
    Call::Commitment(CommitmentCall::Breach {
        commitment_id: "C".into(),
        basis_doc_no: "D1".into(),
        basis_doc_date: Date::parse("2026-05-01").expect("d"),
        fraud: false,
    })
}
pub(crate) fn withdraw() -> Call {
    Call::Commitment(CommitmentCall::Withdraw {
        commitment_id: "C".into(),
    })
}

#[test]
fn commitment_transitions() {
    use CommitmentStatus::*;
    for from in [Active, Fulfilled, Breached, Withdrawn] {
        for (signer, call) in [
            (dept_key(BJSAMR), fulfil()),
            (dept_key(BJSAMR), breach()),
            (ent_key(E1), withdraw()),
        ] {
            let mut chain = commitment_in(from);
            check(
                &mut chain,
                &signer,
                call,
                from == Active,
                &format!("{from:?}"),
            );
        }
    }
}

#[test]
fn only_the_owner_withdraws_and_only_the_relying_authority_decides() {
    let mut chain = commitment_in(CommitmentStatus::Active);
    let msg = chain.refused(&ent_key(E2), withdraw(), ResultCode::Unauthorised);
    assert!(msg.contains("belongs to"), "{msg}");
    // Addressed to Beijing: Tianjin's licensing authority can neither breach nor fulfil it.
    let msg = chain.refused(&dept_key(TJSAMR), breach(), ResultCode::Unauthorised);
    assert!(msg.contains("relied on by 11110000MB01A7C368"), "{msg}");
    chain.refused(&dept_key(TJSAMR), fulfil(), ResultCode::Unauthorised);
    // A commitment nobody relies on yet: no authority may decide on it.
    let mut chain = baseline();
    chain.ok(&ent_key(E1), make(None));
    let msg = chain.refused(&dept_key(BJSAMR), breach(), ResultCode::Unauthorised);
    assert!(msg.contains("not relied on by any authority"), "{msg}");
    chain.refused(&dept_key(BJSAMR), fulfil(), ResultCode::Unauthorised);
    // Addressed to something that is not a department.
    let mut chain = baseline();
    let msg = chain.refused(
        &ent_key(E1),
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C".into(),
            kind: CommitmentKind::Truthfulness,
            text_hash: Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: Some(E2.into()),
        }),
        ResultCode::NotFound,
    );
    assert!(msg.contains("not a department"), "{msg}");
}

// ---- seals: ACTIVE <-> SUSPENDED; both -> REVOKED | EXPIRED, final.

pub(crate) fn seal_in(status: SealStatus) -> Chain {
    let mut chain = baseline();
    register_seal(&mut chain, "ES", E1, "01", SealAlgorithm::Ed25519, 40);
    let reg = dept_key(SEALS);
    match status {
        SealStatus::Active => {}
        SealStatus::Suspended => {
            chain.ok(&reg, seal_call("Suspend"));
        }
        SealStatus::Revoked => {
            chain.ok(&reg, seal_call("Revoke"));
        }
        SealStatus::Expired => {
            chain.time_ms = 1_900_000_000_001;
            chain.ok(&reg, seal_call("Expire"));
        }
    }
    let s: Seal = chain.get(&keys::seal("ES")).expect("seal");
    assert_eq!(s.status, status);
    chain
}

pub(crate) fn seal_call(name: &str) -> Call {
    let es_id = "ES".to_string();
    Call::Seal(match name {
        "Suspend" => SealCall::Suspend {
            es_id,
            basis: "挂失".into(),
        },
        "Reactivate" => SealCall::Reactivate {
            es_id,
            basis: "找回".into(),
        },
        "Revoke" => SealCall::Revoke {
            es_id,
            basis: "收缴".into(),
        },
        _ => SealCall::Expire { es_id },
    })
}

#[test]
fn seal_transitions() {
    use SealStatus::*;
    let expected = [
        (Active, "Suspend"),
        (Active, "Revoke"),
        (Active, "Expire"),
        (Suspended, "Reactivate"),
        (Suspended, "Revoke"),
        (Suspended, "Expire"),
    ];
    for from in [Active, Suspended, Revoked, Expired] {
        for name in ["Suspend", "Reactivate", "Revoke", "Expire"] {
            let mut chain = seal_in(from);
            chain.time_ms = chain.time_ms.max(1_900_000_000_001);
            check(
                &mut chain,
                &dept_key(SEALS),
                seal_call(name),
                expected.contains(&(from, name)),
                &format!("{from:?}"),
            );
        }
    }
    // Expiry waits for the end of validity.
    let mut chain = seal_in(Active);
    chain.refused(
        &dept_key(SEALS),
        seal_call("Expire"),
        ResultCode::InvalidTransition,
    );
    // The owner may report its own seal lost; another enterprise may not.
    chain.refused(&ent_key(E2), seal_call("Suspend"), ResultCode::Unauthorised);
    chain.ok(&ent_key(E1), seal_call("Suspend"));
}

// ---- agreements: DRAFT -> ACTIVE <-> SUSPENDED -> TERMINATED.

pub(crate) fn u(i: usize) -> Uscc {
    Uscc::parse(&dept_uscc(i)).expect("uscc")
}

pub(crate) fn agreement_in(status: AgreementStatus) -> Chain {
    let mut chain = baseline();
    let terms = Terms {
        scope: "MED_EXAM".into(),
        parties: BTreeSet::from([u(BJSAMR), u(TJSAMR)]),
        accepted_issuers: BTreeSet::from([u(BJSAMR)]),
        credential_types: BTreeSet::new(),
        max_age_days: None,
        effective_from: Date::parse("2026-01-01").expect("d"),
        effective_to: None,
    };
    chain.ok(
        &dept_key(BJSAMR),
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: "A".into(),
            terms,
        }),
    );
    let path: &[AgreementStatus] = match status {
        AgreementStatus::Draft => &[],
        AgreementStatus::Active => &[AgreementStatus::Active],
        AgreementStatus::Suspended => &[AgreementStatus::Active, AgreementStatus::Suspended],
        AgreementStatus::Terminated => &[
            AgreementStatus::Active,
            AgreementStatus::Suspended,
            AgreementStatus::Terminated,
        ],
    };
    for (i, to) in path.iter().enumerate() {
        if !(i == 0 && *to == AgreementStatus::Active) {
            chain.ok(&dept_key(BJSAMR), change(*to));
        }
        chain.ok(
            &dept_key(TJSAMR),
            Call::Recognition(RecognitionCall::Sign {
                agreement_id: "A".into(),
            }),
        );
    }
    let a: Agreement = chain.get(&keys::agreement("A")).expect("a");
    assert_eq!(a.status, status);
    chain
}

pub(crate) fn change(to: AgreementStatus) -> Call {
    Call::Recognition(RecognitionCall::ProposeChange {
        agreement_id: "A".into(),
        to,
    })
}

#[test]
fn agreement_transitions() {
    use AgreementStatus::*;
    let expected = [
        (Active, Suspended),
        (Suspended, Active),
        (Suspended, Terminated),
    ];
    for from in [Draft, Active, Suspended, Terminated] {
        for to in [Active, Suspended, Terminated] {
            let mut chain = agreement_in(from);
            let ok = expected.contains(&(from, to));
            check(
                &mut chain,
                &dept_key(BJSAMR),
                change(to),
                ok,
                &format!("{from:?}"),
            );
            if ok {
                // Proposed is not done: the status changes only with the other party's signature.
                let a: Agreement = chain.get(&keys::agreement("A")).expect("a");
                assert_eq!(a.status, from);
                chain.ok(
                    &dept_key(TJSAMR),
                    Call::Recognition(RecognitionCall::Sign {
                        agreement_id: "A".into(),
                    }),
                );
                let a: Agreement = chain.get(&keys::agreement("A")).expect("a");
                assert_eq!(a.status, to);
            }
        }
    }
}
