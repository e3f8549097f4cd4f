//! Every licence call from every status: allowed transitions work, every other one is refused
//! with INVALID_TRANSITION and changes nothing but the signer's nonce. The expected table is
//! written out here independently of `licence::allowed`, and the two are compared.

use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::licence::{
    allowed, ApprovalMode, Licence, LicenceCall, LicenceStatus, Validity, Verification,
};
use concordat_contracts::state::keys;
use concordat_contracts::time::Date;
use concordat_contracts::{Call, ResultCode};
use concordat_primitives::SecretKey;
use concordat_testkit::chain::*;
use concordat_testkit::fixture::*;
use LicenceStatus::*;

pub(crate) const ID: &str = "L-T";
pub(crate) const TEN_YEARS_MS: u64 = 3653 * 86_400_000;

pub(crate) fn validity(chain: &Chain) -> Validity {
    let today = Date::of_ms(chain.time_ms);
    Validity {
        issued_on: today,
        valid_from: today,
        valid_until: today.add_days(30),
    }
}

/// The calls under test, each with the status it leads to and its signer.
pub(crate) fn calls(chain: &Chain) -> Vec<(&'static str, LicenceStatus, LicenceCall, SecretKey)> {
    let id = || ID.to_string();
    let samr = dept_key(BJSAMR);
    vec![
        (
            "Refuse",
            Refused,
            LicenceCall::Refuse {
                licence_id: id(),
                reason: "不予许可".into(),
            },
            samr.clone(),
        ),
        (
            "Issue",
            Valid,
            LicenceCall::Issue {
                licence_id: id(),
                licence_no: "N".into(),
                validity: validity(chain),
                file_hash: None,
                seal_signature_id: None,
            },
            samr.clone(),
        ),
        (
            "Annul",
            Annulled,
            LicenceCall::Annul {
                licence_id: id(),
                basis_doc_no: "撤字1".into(),
                basis_doc_date: Date::of_ms(chain.time_ms),
                fraud: false,
            },
            samr.clone(),
        ),
        (
            "Suspend",
            Suspended,
            LicenceCall::Suspend {
                licence_id: id(),
                basis: "暂扣".into(),
            },
            samr.clone(),
        ),
        (
            "LiftSuspension",
            Valid,
            LicenceCall::LiftSuspension {
                licence_id: id(),
                basis: "发还".into(),
            },
            samr.clone(),
        ),
        (
            "Revoke",
            Revoked,
            LicenceCall::Revoke {
                licence_id: id(),
                basis: "吊销".into(),
            },
            samr.clone(),
        ),
        (
            "Cancel",
            Cancelled,
            LicenceCall::Cancel {
                licence_id: id(),
                basis: "申请注销".into(),
            },
            samr.clone(),
        ),
        (
            "Expire",
            Expired,
            LicenceCall::Expire { licence_id: id() },
            ent_key(E2),
        ),
        (
            "TransferOut",
            TransferredOut,
            LicenceCall::TransferOut {
                licence_id: id(),
                to_region: "130000".into(),
            },
            samr.clone(),
        ),
        (
            "Renew",
            Superseded,
            LicenceCall::Renew {
                licence_id: id(),
                new_licence_id: "L-T2".into(),
                licence_no: "N2".into(),
                validity: validity(chain),
                scope: None,
            },
            samr,
        ),
    ]
}

/// The transitions domain.md allows, by (from, call).
const EXPECTED: &[(LicenceStatus, &str)] = &[
    (Applied, "Refuse"),
    (Applied, "Issue"),
    (Valid, "Annul"),
    (Valid, "Suspend"),
    (Valid, "Revoke"),
    (Valid, "Cancel"),
    (Valid, "Expire"),
    (Valid, "TransferOut"),
    (Valid, "Renew"),
    (Suspended, "LiftSuspension"),
    (Suspended, "Revoke"),
    (Suspended, "Cancel"),
];

fn run(chain: &mut Chain, name: &str) {
    let call = calls(chain)
        .into_iter()
        .find(|c| c.0 == name)
        .expect("call");
    chain.ok(&call.3, Call::Licence(call.2));
}

/// A chain whose licence `ID` is in `status`, reached through calls.
pub(crate) fn licence_in(status: LicenceStatus) -> Chain {
    let mut chain = baseline();
    chain.ok(
        &ent_key(E1),
        Call::Licence(LicenceCall::Apply {
            licence_id: ID.into(),
            type_code: "CATERING".into(),
            issuer: dept_uscc(BJSAMR),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "餐饮服务".into(),
            site_ids: vec![],
        }),
    );
    let path: &[&str] = match status {
        Applied => &[],
        Refused => &["Refuse"],
        Valid => &["Issue"],
        Suspended => &["Issue", "Suspend"],
        Annulled => &["Issue", "Annul"],
        Cancelled => &["Issue", "Cancel"],
        Expired => &["Issue", "Expire"],
        TransferredOut => &["Issue", "TransferOut"],
        Revoked => &["Issue", "Revoke"],
        Superseded => &["Issue", "Renew"],
    };
    for step in path {
        if *step == "Expire" {
            chain.time_ms += TEN_YEARS_MS;
        }
        run(&mut chain, step);
    }
    let l: Licence = chain.get(&keys::licence(ID)).expect("licence");
    assert_eq!(l.status, status);
    chain
}

#[test]
fn the_table_matches_domain_md() {
    for from in LicenceStatus::ALL {
        for to in LicenceStatus::ALL {
            let by_call = EXPECTED.iter().any(|(f, name)| {
                *f == from && calls(&baseline()).iter().any(|c| c.0 == *name && c.1 == to)
            });
            assert_eq!(allowed(from, to), by_call, "{from:?} -> {to:?}");
        }
    }
    for terminal in [
        Refused,
        Annulled,
        Cancelled,
        Expired,
        TransferredOut,
        Revoked,
        Superseded,
    ] {
        assert!(
            LicenceStatus::ALL.iter().all(|to| !allowed(terminal, *to)),
            "{terminal:?} is terminal"
        );
    }
}

#[test]
fn every_call_from_every_status() {
    for from in LicenceStatus::ALL {
        let probe = licence_in(from);
        for (name, to, _, _) in calls(&probe) {
            let mut chain = licence_in(from);
            // Expiry needs the block date past valid_until: move the clock for that call only.
            if name == "Expire" {
                chain.time_ms += TEN_YEARS_MS;
            }
            let (_, _, call, signer) = calls(&chain)
                .into_iter()
                .find(|c| c.0 == name)
                .expect("call");
            let expected = EXPECTED.contains(&(from, name));
            if expected {
                chain.ok(&signer, Call::Licence(call));
                let l: Licence = chain.get(&keys::licence(ID)).expect("licence");
                assert_eq!(l.status, to, "{from:?} --{name}-->");
            } else {
                let msg =
                    chain.refused(&signer, Call::Licence(call), ResultCode::InvalidTransition);
                assert!(
                    msg.contains(&format!("{from:?}")),
                    "{from:?} --{name}--> refused without naming the status: {msg}"
                );
            }
        }
    }
}

#[test]
fn expiry_waits_for_the_date() {
    let mut chain = licence_in(Valid);
    let msg = chain.refused(
        &ent_key(E2),
        Call::Licence(LicenceCall::Expire {
            licence_id: ID.into(),
        }),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("valid until"), "{msg}");
}

/// An issued notification-commitment licence `L-NC` whose follow-up check is in `v`.
fn nc_in(v: Verification) -> Chain {
    let mut chain = baseline();
    let e1 = ent_key(E1);
    let samr = dept_key(BJSAMR);
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C-NC".into(),
            kind: CommitmentKind::NotificationCommitment,
            text_hash: concordat_primitives::Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: None,
        }),
    );
    chain.ok(
        &e1,
        Call::Licence(LicenceCall::Apply {
            licence_id: "L-NC".into(),
            type_code: "CATERING".into(),
            issuer: dept_uscc(BJSAMR),
            approval_mode: ApprovalMode::NotificationCommitment,
            commitment_id: Some("C-NC".into()),
            scope: "餐饮服务".into(),
            site_ids: vec![],
        }),
    );
    let today = Date::of_ms(chain.time_ms);
    chain.ok(
        &samr,
        Call::Licence(LicenceCall::Issue {
            licence_id: "L-NC".into(),
            licence_no: "N".into(),
            validity: Validity {
                issued_on: today,
                valid_from: today,
                valid_until: today.add_months(60),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    match v {
        Verification::Pending => {}
        Verification::Verified | Verification::NonConforming => {
            chain.ok(&samr, check(v == Verification::Verified));
        }
        Verification::Overdue => {
            chain.time_ms += 100 * 86_400_000;
            chain.ok(&ent_key(E2), flag());
        }
        Verification::NotRequired => unreachable!("not an NC state"),
    }
    let l: Licence = chain.get(&keys::licence("L-NC")).expect("licence");
    assert_eq!(l.verification, v);
    chain
}

fn check(conforms: bool) -> Call {
    Call::Licence(LicenceCall::RecordCheck {
        licence_id: "L-NC".into(),
        conforms,
        inspection_ref: "INSP-1".into(),
    })
}

fn flag() -> Call {
    Call::Licence(LicenceCall::FlagOverdueCheck {
        licence_id: "L-NC".into(),
    })
}

#[test]
fn every_follow_up_call_from_every_verification_state() {
    use Verification::*;
    // (from, call, to): what domain.md's table allows; everything else is refused.
    let allowed = [
        (Pending, "conforms", Verified),
        (Pending, "nonconforming", NonConforming),
        (Pending, "flag", Overdue),
        (Overdue, "conforms", Verified),
        (Overdue, "nonconforming", NonConforming),
    ];
    for from in [Pending, Verified, NonConforming, Overdue] {
        for name in ["conforms", "nonconforming", "flag"] {
            let mut chain = nc_in(from);
            // Past the window, so that flagging is possible whenever the state allows it.
            chain.time_ms += 100 * 86_400_000;
            let (signer, call) = match name {
                "conforms" => (dept_key(BJSAMR), check(true)),
                "nonconforming" => (dept_key(BJSAMR), check(false)),
                _ => (ent_key(E2), flag()),
            };
            match allowed.iter().find(|(f, n, _)| *f == from && *n == name) {
                Some((_, _, to)) => {
                    chain.ok(&signer, call);
                    let l: Licence = chain.get(&keys::licence("L-NC")).expect("licence");
                    assert_eq!(l.verification, *to, "{from:?} --{name}-->");
                    assert_eq!(
                        l.status, Valid,
                        "a check never changes the 01 status by itself"
                    );
                }
                None => {
                    let msg = chain.refused(&signer, call, ResultCode::InvalidTransition);
                    assert!(
                        msg.contains(&format!("{from:?}")),
                        "{from:?} --{name}--> {msg}"
                    );
                }
            }
        }
    }
}
