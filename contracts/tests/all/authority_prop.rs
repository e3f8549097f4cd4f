//! Property: no signer outside the required roles can change governance or party state, and a
//! proposal with 2/3 or fewer of the departments' approvals changes nothing.

use std::collections::BTreeSet;

use concordat_contracts::governance::{
    department_index, GovAction, GovCall, Proposal, ProposalStatus, ValidatorEntry,
};
use concordat_contracts::ids::Uscc;
use concordat_contracts::party::PartyCall;
use concordat_contracts::state::{keys, Overlay};
use concordat_contracts::{Call, ResultCode, Role};
use concordat_primitives::encoding;
use concordat_testkit::chain::*;
use proptest::prelude::*;

const PARTIES: &[&str] = &[
    "91110105MA01R7K442",
    "91120116MA07TJ3P7W",
    "92110105MA00GT5H4X",
];

fn arb_roles() -> impl Strategy<Value = Vec<Role>> {
    proptest::sample::subsequence(
        vec![
            Role::Registrar,
            Role::EnforcementAuthority,
            Role::TaxAuthority,
            Role::Customs,
        ],
        0..=2,
    )
}

fn arb_party_call() -> impl Strategy<Value = PartyCall> {
    let uscc = proptest::sample::select(PARTIES.to_vec()).prop_map(String::from);
    prop_oneof![
        uscc.clone().prop_map(|u| PartyCall::Register {
            uscc: u,
            name: "样例公司".into(),
            legal_rep_ref: None,
            registered_address: "样例路1号".into()
        }),
        uscc.clone().prop_map(|u| PartyCall::RevokeLicence {
            uscc: u,
            basis: "罚".into()
        }),
        uscc.clone().prop_map(|u| PartyCall::Deregister {
            uscc: u,
            basis: "注销".into()
        }),
        uscc.prop_map(|u| PartyCall::MoveOut {
            uscc: u,
            to_region: "130000".into()
        }),
    ]
}

fn arb_action(n_depts: usize) -> impl Strategy<Value = GovAction> {
    prop_oneof![
        (n_depts..7usize, arb_roles())
            .prop_map(|(i, roles)| GovAction::AddDepartment(department(i, &roles))),
        (0..7usize, arb_roles())
            .prop_map(|(i, roles)| GovAction::UpdateDepartment(department(i, &roles))),
        (0..7usize).prop_map(|i| GovAction::RemoveDepartment {
            uscc: Uscc::parse(DEPT_USCCS[i]).expect("ok")
        }),
        (1..50u64, 0..3usize).prop_map(|(power, d)| GovAction::SetValidators {
            validators: vec![ValidatorEntry {
                key: key(100).public_key(),
                power,
                department: Uscc::parse(DEPT_USCCS[d]).expect("ok"),
            }],
        }),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Party(usize, PartyCall),
    Propose(usize, GovAction),
    Approve(usize, u64),
}

fn arb_op(n_depts: usize) -> impl Strategy<Value = Op> {
    // Signer index n_depts + 1 is a stranger key; index 0..7 department members (some unknown).
    prop_oneof![
        (0..8usize, arb_party_call()).prop_map(|(s, c)| Op::Party(s, c)),
        (0..8usize, arb_action(n_depts)).prop_map(|(s, a)| Op::Propose(s, a)),
        (0..8usize, 0..4u64).prop_map(|(s, id)| Op::Approve(s, id)),
    ]
}

fn is_gov_key(k: &[u8]) -> bool {
    k.starts_with(b"gov/department") || k.starts_with(b"gov/signer/") || k == keys::VALIDATORS
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn only_authorised_signers_change_state(
        roles in proptest::collection::vec(arb_roles(), 3..=6),
        ops in proptest::collection::vec(arb_op(3), 1..40),
    ) {
        let depts: Vec<_> = roles.iter().enumerate().map(|(i, r)| department(i, r)).collect();
        let mut chain = Chain::new(&depts);
        for op in ops {
            let before = chain.state.clone();
            let view = Overlay::new(&before);
            let n_before = department_index(&view).len();
            let (signer_idx, call) = match &op {
                Op::Party(s, c) => (*s, Call::Party(c.clone())),
                Op::Propose(s, a) => (*s, Call::Governance(GovCall::Propose { action: a.clone(), expires_at_height: chain.height + 5 })),
                Op::Approve(s, id) => (*s, Call::Governance(GovCall::Approve { proposal_id: *id })),
            };
            let signer = key(signer_idx as u8 + 1);
            let dept = concordat_contracts::governance::signer_department(&view, &signer.public_key());
            let out = chain.run(&signer, call.clone());
            let code = out.receipts[0].code;
            let changed: BTreeSet<&Vec<u8>> = out.writes.keys().collect();

            // A refused call writes at most the signer's nonce.
            if code != ResultCode::Ok {
                let nonce_key = keys::nonce(&signer.public_key());
                prop_assert!(changed.iter().all(|k| **k == nonce_key), "{code:?} wrote {changed:?}");
            }
            // Unknown signers change nothing at all.
            if dept.is_none() {
                prop_assert_eq!(code, ResultCode::UnknownSigner);
                prop_assert!(changed.is_empty());
                continue;
            }
            let dept = dept.expect("checked");
            // Party state changes only through a department holding an allowed role.
            if changed.iter().any(|k| k.starts_with(b"party/")) {
                let Call::Party(pc) = &call else { panic!("party state changed by {call:?}") };
                prop_assert!(pc.allowed_roles().iter().any(|r| dept.has_role(*r)));
            }
            if let Call::Party(pc) = &call {
                if !pc.allowed_roles().iter().any(|r| dept.has_role(*r)) {
                    prop_assert_eq!(code, ResultCode::Unauthorised);
                }
            }
            // Governance state changes only by executing a proposal with > 2/3 approvals.
            if changed.iter().any(|k| is_gov_key(k)) {
                prop_assert!(matches!(call, Call::Governance(_)));
                let executed: Vec<Proposal> = changed.iter()
                    .filter(|k| k.starts_with(b"gov/proposal/"))
                    .filter_map(|k| chain.state.get(*k))
                    .map(|b| encoding::from_bytes::<Proposal>(b).expect("decodes"))
                    .filter(|p| p.status == ProposalStatus::Executed)
                    .collect();
                prop_assert_eq!(executed.len(), 1, "governance changed without an executed proposal");
                prop_assert!(executed[0].approvals.len() * 3 > n_before * 2,
                    "executed with {} of {} approvals", executed[0].approvals.len(), n_before);
            }
            // Any proposal still open after this op has 2/3 or fewer approvals.
            for (k, v) in chain.state.iter().filter(|(k, _)| k.starts_with(b"gov/proposal/")) {
                let p: Proposal = encoding::from_bytes(v).expect("decodes");
                let n = department_index(&Overlay::new(&chain.state)).len();
                if p.status == ProposalStatus::Open && changed.contains(k) {
                    let counted = p.approvals.iter().filter(|u| chain.state.contains_key(&keys::department(u.as_str()))).count();
                    prop_assert!(counted * 3 <= n * 2);
                }
            }
        }
    }
}
