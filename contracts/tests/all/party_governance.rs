//! Party registry and governance behaviour through signed transactions.

use concordat_contracts::governance::{
    GovAction, GovCall, Proposal, ProposalStatus, ValidatorEntry,
};
use concordat_contracts::ids::Uscc;
use concordat_contracts::party::{Party, PartyCall, PartyStatus};
use concordat_contracts::state::keys;
use concordat_contracts::{Call, ResultCode, Role, Transaction};
use concordat_primitives::encoding;
use concordat_testkit::chain::*;

const E1: &str = "91110105MA01R7K442";

fn four() -> Chain {
    Chain::new(&[
        department(0, &[Role::Registrar]),
        department(1, &[Role::EnforcementAuthority]),
        department(2, &[Role::LicensingAuthority]),
        department(3, &[Role::TaxAuthority]),
    ])
}

fn register(uscc: &str) -> Call {
    Call::Party(PartyCall::Register {
        uscc: uscc.into(),
        name: "北京京韵云链科技有限公司".into(),
        legal_rep_ref: None,
        registered_address: "望京街道样例路1号".into(),
    })
}

fn party(chain: &Chain, uscc: &str) -> Option<Party> {
    chain
        .state
        .get(&keys::party(uscc))
        .map(|b| encoding::from_bytes(b).expect("decodes"))
}

fn only_nonce_written(
    out: &concordat_contracts::BlockOutput,
    signer: &concordat_primitives::SecretKey,
) {
    let keys_written: Vec<&Vec<u8>> = out.writes.keys().collect();
    assert_eq!(
        keys_written,
        vec![&keys::nonce(&signer.public_key())],
        "refused call wrote state"
    );
}

#[test]
fn registrar_registers_and_derives_kind_and_region() {
    let mut c = four();
    let out = c.run(&key(1), register(E1));
    assert_eq!(
        out.receipts[0].code,
        ResultCode::Ok,
        "{}",
        out.receipts[0].message
    );
    let p = party(&c, E1).expect("registered");
    assert_eq!(p.status, PartyStatus::Existing);
    assert_eq!(p.region_code, "110105");
    assert_eq!(p.kind, concordat_contracts::party::PartyKind::Enterprise);
    let again = c.run(&key(1), register(E1));
    assert_eq!(again.receipts[0].code, ResultCode::AlreadyExists);
    only_nonce_written(&again, &key(1));
}

#[test]
fn other_roles_cannot_register_and_change_nothing() {
    let mut c = four();
    for signer in [key(2), key(3), key(4)] {
        let out = c.run(&signer, register(E1));
        assert_eq!(out.receipts[0].code, ResultCode::Unauthorised);
        only_nonce_written(&out, &signer);
    }
    assert!(party(&c, E1).is_none());
}

#[test]
fn bad_uscc_is_refused() {
    let mut c = four();
    let out = c.run(&key(1), register("91110105MA01R7K443"));
    assert_eq!(out.receipts[0].code, ResultCode::BadIdentifier);
    assert!(
        out.receipts[0].message.contains("expected '2'"),
        "{}",
        out.receipts[0].message
    );
    only_nonce_written(&out, &key(1));
}

#[test]
fn party_state_machine() {
    let mut c = four();
    c.run(&key(1), register(E1));
    // Tax may not revoke; enforcement may.
    let revoke = Call::Party(PartyCall::RevokeLicence {
        uscc: E1.into(),
        basis: "京市监罚〔2026〕1号".into(),
    });
    assert_eq!(
        c.run(&key(4), revoke.clone()).receipts[0].code,
        ResultCode::Unauthorised
    );
    assert_eq!(
        c.run(&key(2), revoke.clone()).receipts[0].code,
        ResultCode::Ok
    );
    assert_eq!(
        party(&c, E1).expect("p").status,
        PartyStatus::RevokedLicence
    );
    // REVOKED_LICENCE cannot be revoked again or moved out.
    assert_eq!(
        c.run(&key(2), revoke).receipts[0].code,
        ResultCode::InvalidTransition
    );
    let move_out = Call::Party(PartyCall::MoveOut {
        uscc: E1.into(),
        to_region: "120000".into(),
    });
    assert_eq!(
        c.run(&key(1), move_out.clone()).receipts[0].code,
        ResultCode::InvalidTransition
    );
    let dereg = Call::Party(PartyCall::Deregister {
        uscc: E1.into(),
        basis: "注销".into(),
    });
    assert_eq!(
        c.run(&key(1), dereg.clone()).receipts[0].code,
        ResultCode::Ok
    );
    assert_eq!(party(&c, E1).expect("p").status, PartyStatus::Deregistered);
    // Terminal.
    assert_eq!(
        c.run(&key(1), dereg).receipts[0].code,
        ResultCode::InvalidTransition
    );
    // Unknown party.
    let first17 = "91110108MA0000001";
    let check = concordat_contracts::ids::uscc_check_char(first17.as_bytes()).expect("charset");
    let other = Call::Party(PartyCall::Deregister {
        uscc: format!("{first17}{check}"),
        basis: "x".into(),
    });
    assert_eq!(c.run(&key(1), other).receipts[0].code, ResultCode::NotFound);
}

/// Every party call stays within the registrar's jurisdiction (domain.md A), registration
/// included: the Beijing (110000) registrar neither registers nor changes a Tianjin party.
#[test]
fn party_calls_stay_within_the_jurisdiction() {
    let mut c = four();
    let tianjin = "91120116MA07TJ3P7W";
    let code = c.run(&key(1), register(tianjin)).receipts[0].code;
    assert_eq!(code, ResultCode::Unauthorised);
    assert!(party(&c, tianjin).is_none());
    for call in [
        PartyCall::Deregister {
            uscc: tianjin.into(),
            basis: "x".into(),
        },
        PartyCall::MoveOut {
            uscc: tianjin.into(),
            to_region: "110105".into(),
        },
        PartyCall::SetKeys {
            uscc: tianjin.into(),
            keys: Default::default(),
        },
    ] {
        let r = c.run(&key(1), Call::Party(call.clone()));
        assert_eq!(r.receipts[0].code, ResultCode::Unauthorised, "{call:?}");
    }
    // Inside the jurisdiction the same registrar registers.
    assert_eq!(
        c.run(&key(1), register(E1)).receipts[0].code,
        ResultCode::Ok
    );
}

#[test]
fn envelope_failures_change_nothing_and_keep_the_nonce() {
    let mut c = four();
    let good = c.tx(&key(1), register(E1));
    let mut wrong_chain = good.tx.clone();
    wrong_chain.chain_id = "other-chain".into();
    let mut expired = good.tx.clone();
    expired.expiry_height = 0;
    let mut bad_nonce = good.tx.clone();
    bad_nonce.nonce = 5;
    let stranger = Transaction {
        signer: key(77).public_key(),
        ..good.tx.clone()
    };
    for (tx, code, signer) in [
        (wrong_chain, ResultCode::WrongChain, key(1)),
        (expired, ResultCode::Expired, key(1)),
        (bad_nonce, ResultCode::BadNonce, key(1)),
        (stranger, ResultCode::UnknownSigner, key(77)),
    ] {
        let out = c.block(&[tx.sign(&signer)]);
        assert_eq!(out.receipts[0].code, code);
        assert!(
            out.writes.is_empty(),
            "{code:?} wrote {:?}",
            out.writes.keys()
        );
    }
    // The original nonce 0 still works.
    assert_eq!(c.block(&[good]).receipts[0].code, ResultCode::Ok);
}

#[test]
fn a_replayed_transaction_is_refused() {
    let mut c = four();
    let tx = c.tx(&key(1), register(E1));
    assert_eq!(
        c.block(std::slice::from_ref(&tx)).receipts[0].code,
        ResultCode::Ok
    );
    let out = c.block(&[tx]);
    assert_eq!(out.receipts[0].code, ResultCode::BadNonce);
    assert!(out.writes.is_empty());
}

fn proposal(c: &Chain, id: u64) -> Proposal {
    encoding::from_bytes(c.state.get(&keys::proposal(id)).expect("exists")).expect("decodes")
}

#[test]
fn governance_needs_more_than_two_thirds_of_departments() {
    let mut c = four();
    let new_dept = department(4, &[Role::IprAuthority]);
    let propose = Call::Governance(GovCall::Propose {
        action: GovAction::AddDepartment(new_dept.clone()),
        expires_at_height: 50,
    });
    assert_eq!(c.run(&key(1), propose).receipts[0].code, ResultCode::Ok);
    let approve = Call::Governance(GovCall::Approve { proposal_id: 0 });
    let dept_key = keys::department(new_dept.uscc.as_str());
    // 1 of 4, then 2 of 4: 2/3 or less, nothing changes.
    assert!(!c.state.contains_key(&dept_key));
    assert_eq!(
        c.run(&key(2), approve.clone()).receipts[0].code,
        ResultCode::Ok
    );
    assert!(!c.state.contains_key(&dept_key));
    assert_eq!(proposal(&c, 0).status, ProposalStatus::Open);
    // A department cannot approve twice.
    assert_eq!(
        c.run(&key(2), approve.clone()).receipts[0].code,
        ResultCode::ProposalRejected
    );
    // A non-member cannot approve.
    assert_eq!(
        c.run(&key(90), approve.clone()).receipts[0].code,
        ResultCode::UnknownSigner
    );
    // 3 of 4 > 2/3: executed.
    assert_eq!(
        c.run(&key(3), approve.clone()).receipts[0].code,
        ResultCode::Ok
    );
    assert!(c.state.contains_key(&dept_key));
    assert_eq!(proposal(&c, 0).status, ProposalStatus::Executed);
    // The new department's key can now sign.
    let out = c.run(
        &key(5),
        Call::Governance(GovCall::Approve { proposal_id: 0 }),
    );
    assert_eq!(
        out.receipts[0].code,
        ResultCode::ProposalRejected,
        "already executed"
    );
}

#[test]
fn expired_proposals_cannot_be_approved() {
    let mut c = four();
    let propose = Call::Governance(GovCall::Propose {
        action: GovAction::RemoveDepartment {
            uscc: Uscc::parse(DEPT_USCCS[3]).expect("ok"),
        },
        expires_at_height: 2,
    });
    assert_eq!(c.run(&key(1), propose).receipts[0].code, ResultCode::Ok);
    c.block(&[]);
    let out = c.run(
        &key(2),
        Call::Governance(GovCall::Approve { proposal_id: 0 }),
    );
    assert_eq!(out.receipts[0].code, ResultCode::ProposalRejected);
    only_nonce_written(&out, &key(2));
}

#[test]
fn validator_set_change_is_reported_for_the_next_height() {
    let mut c = four();
    let validators = vec![
        ValidatorEntry {
            key: key(100).public_key(),
            power: 10,
            department: Uscc::parse(DEPT_USCCS[0]).expect("ok"),
        },
        ValidatorEntry {
            key: key(101).public_key(),
            power: 5,
            department: Uscc::parse(DEPT_USCCS[1]).expect("ok"),
        },
    ];
    let propose = Call::Governance(GovCall::Propose {
        action: GovAction::SetValidators { validators },
        expires_at_height: 50,
    });
    assert!(c.run(&key(1), propose).next_validator_set.is_none());
    assert!(c
        .run(
            &key(2),
            Call::Governance(GovCall::Approve { proposal_id: 0 })
        )
        .next_validator_set
        .is_none());
    let out = c.run(
        &key(3),
        Call::Governance(GovCall::Approve { proposal_id: 0 }),
    );
    let set = out.next_validator_set.expect("changed");
    assert_eq!(set.len(), 2);
    assert_eq!(set.total_power(), 15);
    // The height is indexed for light clients (GET /v1/validator_changes), once.
    let heights: Vec<u64> = c
        .state
        .get(concordat_contracts::state::keys::VALIDATOR_CHANGE_HEIGHTS)
        .map(|b| concordat_primitives::encoding::from_bytes(b).expect("decodes"))
        .expect("indexed");
    assert_eq!(heights, vec![c.height]);
    // Zero power is refused at proposal time.
    let bad = Call::Governance(GovCall::Propose {
        action: GovAction::SetValidators {
            validators: vec![ValidatorEntry {
                key: key(102).public_key(),
                power: 0,
                department: Uscc::parse(DEPT_USCCS[0]).expect("ok"),
            }],
        },
        expires_at_height: 50,
    });
    assert_eq!(
        c.run(&key(1), bad).receipts[0].code,
        ResultCode::InvalidArgument
    );
}

#[test]
fn a_department_holding_validators_cannot_be_removed() {
    let mut c = four();
    let propose = Call::Governance(GovCall::Propose {
        action: GovAction::RemoveDepartment {
            uscc: Uscc::parse(DEPT_USCCS[0]).expect("ok"),
        },
        expires_at_height: 50,
    });
    let out = c.run(&key(2), propose);
    assert_eq!(out.receipts[0].code, ResultCode::InvalidArgument);
    assert!(out.receipts[0].message.contains("operates validators"));
}

fn roster_of(c: &Chain) -> Vec<ValidatorEntry> {
    let r: concordat_contracts::governance::Roster =
        encoding::from_bytes(c.state.get(keys::VALIDATORS).expect("roster")).expect("decodes");
    r.validators
}

/// One proposal admits a department and a validator it operates: the roster action is checked
/// against the state the department's admission leaves, and all of it applies together.
#[test]
fn a_batch_admits_a_department_and_its_validator_in_one_proposal() {
    let mut c = four();
    let new_dept = department(4, &[Role::IprAuthority]);
    let mut validators = roster_of(&c);
    validators.push(ValidatorEntry {
        key: key(104).public_key(),
        power: 1,
        department: new_dept.uscc.clone(),
    });
    // Alone, the roster change names an unknown department and is refused.
    let alone = c.run(
        &key(1),
        Call::Governance(GovCall::Propose {
            action: GovAction::SetValidators {
                validators: validators.clone(),
            },
            expires_at_height: 50,
        }),
    );
    assert_eq!(alone.receipts[0].code, ResultCode::NotFound);
    let batch = GovAction::Batch {
        actions: vec![
            GovAction::AddDepartment(new_dept.clone()),
            GovAction::SetValidators { validators },
        ],
    };
    let out = c.run(
        &key(1),
        Call::Governance(GovCall::Propose {
            action: batch,
            expires_at_height: 50,
        }),
    );
    assert_eq!(
        out.receipts[0].code,
        ResultCode::Ok,
        "{}",
        out.receipts[0].message
    );
    let id = proposal_count(&c) - 1;
    let dept_key = keys::department(new_dept.uscc.as_str());
    for k in [2, 3] {
        let out = c.run(
            &key(k),
            Call::Governance(GovCall::Approve { proposal_id: id }),
        );
        assert_eq!(
            out.receipts[0].code,
            ResultCode::Ok,
            "{}",
            out.receipts[0].message
        );
        if k == 2 {
            // 2 of 4: nothing applied, neither action.
            assert!(!c.state.contains_key(&dept_key));
            assert_eq!(roster_of(&c).len(), 1);
            assert!(out.next_validator_set.is_none());
        } else {
            assert_eq!(out.next_validator_set.expect("changed").len(), 2);
        }
    }
    assert!(c.state.contains_key(&dept_key));
    assert_eq!(roster_of(&c).len(), 2);
    assert_eq!(proposal(&c, id).status, ProposalStatus::Executed);
}

fn proposal_count(c: &Chain) -> u64 {
    encoding::from_bytes(c.state.get(keys::NEXT_PROPOSAL_ID).expect("some")).expect("decodes")
}

/// A batch whose later action fails applies none of its actions.
#[test]
fn a_batch_applies_all_or_nothing() {
    let mut c = four();
    let d4 = department(4, &[Role::IprAuthority]);
    let d5 = department(5, &[Role::Customs]);
    let propose = |actions| {
        Call::Governance(GovCall::Propose {
            action: GovAction::Batch { actions },
            expires_at_height: 50,
        })
    };
    // Refused at proposal time: the second action adds the department the first one added.
    let out = c.run(
        &key(1),
        propose(vec![
            GovAction::AddDepartment(d4.clone()),
            GovAction::AddDepartment(d4.clone()),
        ]),
    );
    assert_eq!(out.receipts[0].code, ResultCode::AlreadyExists);
    assert!(
        out.receipts[0].message.contains("batch action 1"),
        "{}",
        out.receipts[0].message
    );
    only_nonce_written(&out, &key(1));
    // Empty, nested and oversized batches are refused before any state is read.
    for bad in [
        vec![],
        vec![GovAction::Batch {
            actions: vec![GovAction::AddDepartment(d4.clone())],
        }],
        vec![GovAction::AddDepartment(d4.clone()); 17],
    ] {
        let out = c.run(&key(1), propose(bad));
        assert_eq!(out.receipts[0].code, ResultCode::InvalidArgument);
        only_nonce_written(&out, &key(1));
    }
    // Valid when proposed; by the time it gathers its approvals another proposal has added
    // d5, so its second action no longer applies: the approving call is refused and d4 is not
    // added either.
    let out = c.run(
        &key(1),
        propose(vec![
            GovAction::AddDepartment(d4.clone()),
            GovAction::AddDepartment(d5.clone()),
        ]),
    );
    assert_eq!(
        out.receipts[0].code,
        ResultCode::Ok,
        "{}",
        out.receipts[0].message
    );
    let batch_id = proposal_count(&c) - 1;
    let out = c.run(
        &key(1),
        Call::Governance(GovCall::Propose {
            action: GovAction::AddDepartment(d5.clone()),
            expires_at_height: 50,
        }),
    );
    assert_eq!(out.receipts[0].code, ResultCode::Ok);
    let single_id = batch_id + 1;
    for k in [2, 3] {
        let out = c.run(
            &key(k),
            Call::Governance(GovCall::Approve {
                proposal_id: single_id,
            }),
        );
        assert_eq!(out.receipts[0].code, ResultCode::Ok);
    }
    assert!(c.state.contains_key(&keys::department(d5.uscc.as_str())));
    c.run(
        &key(2),
        Call::Governance(GovCall::Approve {
            proposal_id: batch_id,
        }),
    );
    // Now 5 departments: 3 approvals of 5 is not yet > 2/3; the 4th executes and fails.
    let out = c.run(
        &key(3),
        Call::Governance(GovCall::Approve {
            proposal_id: batch_id,
        }),
    );
    assert_eq!(out.receipts[0].code, ResultCode::Ok);
    let out = c.run(
        &key(6),
        Call::Governance(GovCall::Approve {
            proposal_id: batch_id,
        }),
    );
    assert_eq!(
        out.receipts[0].code,
        ResultCode::AlreadyExists,
        "{}",
        out.receipts[0].message
    );
    assert!(out.receipts[0].message.contains("batch action 1"));
    only_nonce_written(&out, &key(6));
    assert!(!c.state.contains_key(&keys::department(d4.uscc.as_str())));
    assert_eq!(proposal(&c, batch_id).status, ProposalStatus::Open);
}
