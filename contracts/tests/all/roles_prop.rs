//! Property: for every transaction kind of the licence, commitment, seal, recognition, filing,
//! credit, policy and party-site modules, and every signer (departments with random role sets,
//! enterprise keys, strangers), only the roles domain.md allows succeed, and a refused call
//! changes nothing but the signer's nonce.
//!
//! The allowed roles are written out here from domain.md, independently of the modules'
//! `allowed_roles`.

use std::collections::BTreeSet;

use concordat_contracts::codes::{IeFlag, LocationFunction, TraceKind};
use concordat_contracts::commitment::{CommitmentCall, CommitmentKind};
use concordat_contracts::credential::CredentialCall;
use concordat_contracts::credit::{CreditCall, DishonestyCategory, ListType, Scheme, Severity};
use concordat_contracts::customs::{
    CustomsCall, DeclarationDraft, DeclarationMode, DeclarationStatus, GoodsItem, TransportDoc,
};
use concordat_contracts::filing::{FilingCall, FilingKind};
use concordat_contracts::governance::{department_index, signer_department, GovAction, GovCall};
use concordat_contracts::inspection::InspectionCall;
use concordat_contracts::licence::{ApprovalMode, LicenceCall, Validity};
use concordat_contracts::logistics::LogisticsCall;
use concordat_contracts::party::PartyCall;
use concordat_contracts::policy::{PolicyCall, PolicyParams};
use concordat_contracts::procurement::{ProcurementCall, Stage};
use concordat_contracts::recognition::{AgreementStatus, RecognitionCall, Terms};
use concordat_contracts::seal::{SealAlgorithm, SealCall, SignaturePurpose};
use concordat_contracts::sharing::{DataCategory, Grant, SharingCall, SharingPurpose};
use concordat_contracts::state::{keys, Overlay};
use concordat_contracts::time::{Date, Instant};
use concordat_contracts::{Call, ResultCode, Role};
use concordat_primitives::{Hash, SecretKey};
use concordat_testkit::chain::*;
use concordat_testkit::fixture::*;
use proptest::prelude::*;

/// Who may make each call, per domain.md. `None`: any department (not an enterprise key).
/// `Some(&[])` with `ANY`: every role, enterprises included.
fn expected_roles(call: &Call) -> Option<Vec<Role>> {
    use Role::*;
    let any = Role::ALL.to_vec();
    Some(match call {
        Call::Party(PartyCall::AddSite { .. } | PartyCall::SetKeys { .. }) => vec![Registrar],
        Call::Licence(c) => match c {
            LicenceCall::Apply { .. } => vec![Enterprise],
            LicenceCall::RecordCheck { .. } => vec![LicensingAuthority, Inspector],
            LicenceCall::Suspend { .. } => vec![LicensingAuthority, EnforcementAuthority],
            LicenceCall::Revoke { .. } => vec![EnforcementAuthority],
            LicenceCall::Expire { .. } | LicenceCall::FlagOverdueCheck { .. } => any,
            _ => vec![LicensingAuthority],
        },
        Call::Commitment(CommitmentCall::Make { .. } | CommitmentCall::Withdraw { .. }) => {
            vec![Enterprise]
        }
        Call::Commitment(_) => vec![LicensingAuthority],
        Call::Seal(SealCall::Suspend { .. }) => vec![SealRegistry, Enterprise],
        Call::Seal(SealCall::Expire { .. } | SealCall::RecordSignature { .. }) => any,
        Call::Seal(_) => vec![SealRegistry],
        Call::Filing(_) => vec![Enterprise],
        Call::Credit(c) => match c {
            CreditCall::RecordDishonesty { .. } => vec![EnforcementAuthority],
            CreditCall::FulfilObligation { .. }
            | CreditCall::DecideObjection { .. }
            | CreditCall::Withdraw { .. } => vec![EnforcementAuthority, LicensingAuthority],
            CreditCall::RequestRepair { .. }
            | CreditCall::Object { .. }
            | CreditCall::RequestRemoval { .. } => vec![Enterprise],
            CreditCall::DecideRepair { .. } => vec![CreditPlatform],
            CreditCall::List { .. }
            | CreditCall::DecideRemoval { .. }
            | CreditCall::Annul { .. } => {
                vec![
                    EnforcementAuthority,
                    ProcurementRegulator,
                    TaxAuthority,
                    CourtFeed,
                    IprAuthority,
                    Customs,
                ]
            }
            CreditCall::ExpireRecord { .. } | CreditCall::ExpireEntry { .. } => any,
            // The scheme owners (TAX, SAMR, CUSTOMS; the credit platform for local schemes).
            CreditCall::Evaluate { .. }
            | CreditCall::PublishEvaluation { .. }
            | CreditCall::DecideEvaluationObjection { .. } => {
                vec![TaxAuthority, EnforcementAuthority, Customs, CreditPlatform]
            }
            CreditCall::ObjectEvaluation { .. } => vec![Enterprise],
        },
        Call::Procurement(ProcurementCall::Submit { .. } | ProcurementCall::Withdraw { .. }) => {
            vec![Enterprise]
        }
        Call::Procurement(_) => vec![Purchaser],
        Call::Inspection(InspectionCall::Start { .. } | InspectionCall::RecordResult { .. }) => {
            vec![Inspector]
        }
        Call::Inspection(InspectionCall::FlagOverdue { .. }) => any,
        Call::Inspection(InspectionCall::CloseCase { .. }) => vec![EnforcementAuthority],
        Call::Inspection(_) => vec![InspectionCoordinator],
        Call::Recognition(_) | Call::Policy(_) | Call::Governance(_) => return None,
        Call::Party(_) => vec![Registrar, EnforcementAuthority],
        // K: the declarant lodges; customs decides.
        Call::Customs(
            CustomsCall::Save(_) | CustomsCall::Submit { .. } | CustomsCall::SubmitComplete { .. },
        ) => vec![Enterprise],
        Call::Customs(_) => vec![Customs],
        // L: the operators of read points (and customs) capture; customs designates.
        Call::Logistics(LogisticsCall::DesignateControlled { .. }) => vec![Customs],
        Call::Logistics(_) => vec![PortOperator, CargoTerminal, Customs],
        // M: the enterprise authorises and revokes; the grantee asks.
        Call::Sharing(SharingCall::Request { .. }) => vec![RelyingParty, Enterprise],
        Call::Sharing(_) => vec![Enterprise],
        // B for persons: the issuing department; anyone marks an expiry.
        Call::Credential(CredentialCall::Expire { .. }) => any,
        Call::Credential(_) => vec![LicensingAuthority],
    })
}

fn d(s: &str) -> Date {
    Date::parse(s).expect("date")
}

fn id(prefix: &str, n: u8) -> String {
    format!("{prefix}-{n}")
}

/// One call of every kind, with ids drawn from a small set so some collide and some succeed.
fn sample_calls(n: u8, t: u64) -> Vec<Call> {
    let v = Validity {
        issued_on: d("2026-05-01"),
        valid_from: d("2026-05-01"),
        valid_until: d("2027-05-01"),
    };
    let lic = |c| Call::Licence(c);
    let l = || {
        if n % 2 == 0 {
            "L-V".to_string()
        } else {
            "L-A".to_string()
        }
    };
    vec![
        Call::Party(PartyCall::AddSite {
            uscc: E1.into(),
            site_id: id("S", n),
            region_code: "110105".into(),
            address: "样例路".into(),
        }),
        Call::Party(PartyCall::SetKeys {
            uscc: E6.into(),
            keys: BTreeSet::from([key(90 + n).public_key()]),
        }),
        lic(LicenceCall::Apply {
            licence_id: id("L", n),
            type_code: "CATERING".into(),
            issuer: dept_uscc(BJSAMR),
            approval_mode: ApprovalMode::Standard,
            commitment_id: None,
            scope: "s".into(),
            site_ids: vec![],
        }),
        lic(LicenceCall::Refuse {
            licence_id: l(),
            reason: "r".into(),
        }),
        lic(LicenceCall::Issue {
            licence_id: l(),
            licence_no: "N".into(),
            validity: v.clone(),
            file_hash: None,
            seal_signature_id: None,
        }),
        lic(LicenceCall::RecordCheck {
            licence_id: l(),
            conforms: n % 3 == 0,
            inspection_ref: "I".into(),
        }),
        lic(LicenceCall::Annul {
            licence_id: l(),
            basis_doc_no: "D".into(),
            basis_doc_date: d("2026-05-01"),
            fraud: n % 2 == 1,
        }),
        lic(LicenceCall::Suspend {
            licence_id: l(),
            basis: "b".into(),
        }),
        lic(LicenceCall::LiftSuspension {
            licence_id: l(),
            basis: "b".into(),
        }),
        lic(LicenceCall::Revoke {
            licence_id: l(),
            basis: "b".into(),
        }),
        lic(LicenceCall::Cancel {
            licence_id: l(),
            basis: "b".into(),
        }),
        lic(LicenceCall::Expire { licence_id: l() }),
        lic(LicenceCall::FlagOverdueCheck { licence_id: l() }),
        lic(LicenceCall::TransferOut {
            licence_id: l(),
            to_region: "130000".into(),
        }),
        lic(LicenceCall::Renew {
            licence_id: l(),
            new_licence_id: id("LR", n),
            licence_no: "N2".into(),
            validity: v,
            scope: None,
        }),
        Call::Commitment(CommitmentCall::Make {
            commitment_id: id("C", n),
            kind: CommitmentKind::Truthfulness,
            text_hash: Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: Some(dept_uscc(BJSAMR)),
        }),
        Call::Commitment(CommitmentCall::Withdraw {
            commitment_id: "C1".into(),
        }),
        Call::Commitment(CommitmentCall::Fulfil {
            commitment_id: "C1".into(),
            basis: "b".into(),
        }),
        Call::Commitment(CommitmentCall::Breach {
            commitment_id: "C1".into(),
            basis_doc_no: "D".into(),
            basis_doc_date: d("2026-05-01"),
            fraud: false,
        }),
        Call::Seal(SealCall::Register {
            es_id: id("ES", n),
            owner: E1.into(),
            seal_type: "01".into(),
            name: "n".into(),
            signer_keys: vec![signer_key(SealAlgorithm::Ed25519, 40)],
            valid_start_ms: 1_700_000_000_000,
            valid_end_ms: 1_900_000_000_000,
            seseal_hash: Hash::digest(b"s"),
            picture_hash: Hash::digest(b"p"),
        }),
        Call::Seal(SealCall::Suspend {
            es_id: "ES1".into(),
            basis: "b".into(),
        }),
        Call::Seal(SealCall::Reactivate {
            es_id: "ES1".into(),
            basis: "b".into(),
        }),
        Call::Seal(SealCall::Revoke {
            es_id: "ES1".into(),
            basis: "b".into(),
        }),
        Call::Seal(SealCall::Expire {
            es_id: "ES1".into(),
        }),
        Call::Seal(SealCall::RegisterTsa {
            tsa_id: id("T", n),
            key: key(80).public_key(),
            name: "t".into(),
        }),
        Call::Seal(signature_call(
            &id("SIG", n),
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"doc",
            SignaturePurpose::TaxFiling,
            t,
        )),
        Call::Filing(FilingCall::Submit {
            filing_id: id("F", n),
            kind: FilingKind::Tax,
            period: "2026-05".into(),
            doc_hash: Hash::digest(b"doc"),
            seal_signature_id: "SIG0".into(),
        }),
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: id("MR", n),
            terms: terms(),
        }),
        Call::Recognition(RecognitionCall::Sign {
            agreement_id: "MR-0".into(),
        }),
        Call::Recognition(RecognitionCall::ProposeChange {
            agreement_id: "MR-0".into(),
            to: AgreementStatus::Terminated,
        }),
        Call::Recognition(RecognitionCall::Recognise {
            decision_id: id("D", n),
            agreement_id: "MR-0".into(),
            credential_id: "L-V".into(),
            purpose: "p".into(),
        }),
        Call::Policy(PolicyCall::Update {
            expected_version: u64::from(n % 3),
            params: PolicyParams::default(),
            credit: None,
        }),
        Call::Credit(CreditCall::RecordDishonesty {
            record_id: id("DR", n % 2),
            party: E1.into(),
            basis_doc_no: "罚".into(),
            basis_doc_date: d("2026-05-01"),
            category: DishonestyCategory::AdminPenalty,
            severity: Severity::Light,
            obligations: vec![],
            relates_to: None,
            penalty: None,
        }),
        Call::Credit(CreditCall::Object {
            record_id: "DR-0".into(),
            reason: "r".into(),
        }),
        Call::Credit(CreditCall::Withdraw {
            record_id: "DR-1".into(),
            basis: "b".into(),
        }),
        Call::Credit(CreditCall::List {
            entry_id: id("IPR", n),
            list_type: ListType::IprDishonest,
            party: E2.into(),
            basis_refs: vec!["国知".into()],
            listed_on: d("2026-05-01"),
            restrictions: None,
            until: None,
        }),
        Call::Credit(CreditCall::RequestRemoval {
            entry_id: "IPR-0".into(),
            reason: "r".into(),
        }),
        Call::Credit(CreditCall::Annul {
            entry_id: "IPR-1".into(),
            basis: "b".into(),
        }),
        Call::Credit(CreditCall::ExpireRecord {
            record_id: "DR-0".into(),
        }),
        Call::Credit(CreditCall::Evaluate {
            evaluation_id: id("EV", n),
            party: E1.into(),
            scheme: Scheme::Tax,
            grade: "B".into(),
            score: Some(80),
            period: "2025".into(),
            basis_refs: vec![],
        }),
        Call::Credit(CreditCall::ObjectEvaluation {
            evaluation_id: "EV-0".into(),
            reason: "r".into(),
        }),
        Call::Procurement(ProcurementCall::Submit {
            bid_id: id("BID", n),
            project_no: "P-1".into(),
            purchaser: dept_uscc(OTHER),
            announced_on: d("2026-04-01"),
            deadline_on: d("2026-12-31"),
        }),
        Call::Procurement(ProcurementCall::CheckEligibility {
            bid_id: "BID-0".into(),
            stage: Stage::Submission,
        }),
        Call::Inspection(InspectionCall::CreatePlan {
            plan_id: id("IP", n),
            authorities: vec![dept_uscc(BJSAMR)],
            item_codes: vec!["FOOD".into()],
            pool_query: "q".into(),
            seed_commitment: Hash::digest(b"seed"),
        }),
        Call::Inspection(InspectionCall::FlagOverdue {
            task_id: "IP-0-1".into(),
        }),
        Call::Customs(CustomsCall::Save(declaration(&format!(
            "01002026000000000{}",
            n % 4
        )))),
        Call::Customs(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: Instant(t),
        }),
        Call::Customs(CustomsCall::SubmitComplete {
            entry_id: ENTRY.into(),
            at: Instant(t),
        }),
        Call::Customs(CustomsCall::ConfirmArrival {
            entry_id: ENTRY.into(),
            at: Instant(t),
            basis: "运抵".into(),
        }),
        Call::Customs(CustomsCall::RecordTransportEntry {
            entry_id: ENTRY.into(),
            at: Instant(t),
        }),
        Call::Customs(CustomsCall::Decide {
            entry_id: ENTRY.into(),
            to: [
                DeclarationStatus::Accepted,
                DeclarationStatus::Assessed,
                DeclarationStatus::Released,
                DeclarationStatus::Rejected,
            ][usize::from(n % 4)],
            at: Instant(t),
            basis: String::new(),
        }),
        Call::Logistics(LogisticsCall::RegisterReadPoint {
            read_point: format!("urn:epc:id:sgln:6901234.0000{}.0", n % 3),
            name: "Daxing cargo".into(),
            locode: "CNPKX".into(),
            function: LocationFunction::Airport,
        }),
        Call::Logistics(LogisticsCall::DesignateControlled {
            read_point: "urn:epc:id:sgln:6901234.00001.0".into(),
            controlled: n % 2 == 0,
        }),
        Call::Logistics(LogisticsCall::Capture {
            document: serde_json::json!({
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "epcisBody": {"eventList": [{
                    "type": "ObjectEvent",
                    "eventTime": concordat_primitives::time::format_rfc3339_ms(t - 60_000 * u64::from(n), 480),
                    "eventTimeZoneOffset": "+08:00",
                    "epcList": ["urn:epc:id:bic:CSQU3054383"],
                    "action": "OBSERVE",
                    "bizStep": "arriving",
                    "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"}
                }]}
            })
            .to_string(),
        }),
        Call::Sharing(SharingCall::Authorise(grant(&id("AUTH", n)))),
        Call::Sharing(SharingCall::Revoke {
            auth_id: "AUTH-P".into(),
            reason: "r".into(),
        }),
        Call::Credential(CredentialCall::Issue {
            credential_id: id("PC", n),
            type_code: "PRO_TITLE".into(),
            credential_no: "N".into(),
            holder_ref: "ab".repeat(32),
            issued_on: d("2026-05-01"),
            valid_from: d("2026-05-01"),
            valid_until: Some(d("2026-05-02")),
            file_hash: None,
        }),
        Call::Credential(CredentialCall::Suspend {
            credential_id: "PC-1".into(),
            basis: "b".into(),
        }),
        Call::Credential(CredentialCall::Expire {
            credential_id: "PC-2".into(),
        }),
        Call::Sharing(SharingCall::Request {
            access_id: id("ACC", n),
            auth_id: "AUTH-P".into(),
            purpose: SharingPurpose::SmeCreditAssessment,
            categories: [DataCategory::TaxCreditGrade].into(),
        }),
    ]
}

/// The entry E1 declares in the prepared chain.
const ENTRY: &str = "010020260000000011";

fn declaration(entry: &str) -> DeclarationDraft {
    DeclarationDraft {
        entry_id: entry.into(),
        ie_flag: IeFlag::Export,
        trader: E1.into(),
        trader_customs_code: None,
        mode: DeclarationMode::Advance,
        transport_mode: 4,
        transport_docs: vec![TransportDoc {
            kind: TraceKind::AirWaybill,
            number: "999-12345675".into(),
        }],
        containers: vec![],
        port_locode: "CNPKX".into(),
        items: vec![GoodsItem {
            hs_code: "9018190000".into(),
            description: "monitors".into(),
            quantity: 1,
            unit: "SET".into(),
            value_fen: 100,
        }],
    }
}

fn grant(auth_id: &str) -> Grant {
    Grant {
        auth_id: auth_id.into(),
        grantee: E2.into(),
        purpose: SharingPurpose::SmeCreditAssessment,
        categories: [DataCategory::TaxCreditGrade].into(),
        valid_from: Instant(1_770_000_000_000),
        valid_until: Instant(1_800_000_000_000),
        max_uses: 100,
        grantor_signature_id: format!("SIG-{auth_id}"),
        policy_url: "https://credit.example.cn/policy".into(),
        collection_method: "e-seal".into(),
        personal_consent: None,
        consented_at: Instant(1_700_000_000_000),
    }
}

fn terms() -> Terms {
    let u = |i| concordat_contracts::ids::Uscc::parse(&dept_uscc(i)).expect("uscc");
    Terms {
        scope: "LICENCE:CATERING".into(),
        parties: BTreeSet::from([u(BJSAMR), u(TJSAMR)]),
        accepted_issuers: BTreeSet::from([u(BJSAMR)]),
        credential_types: BTreeSet::new(),
        max_age_days: None,
        effective_from: d("2026-01-01"),
        effective_to: None,
    }
}

/// The prepared chain: baseline, three extra departments with `extra` roles, a policy owner,
/// E1's site and seal, a valid and an applied licence, an active commitment, a signature, an
/// agreement in draft.
fn prepared(extra: &[Vec<Role>]) -> Chain {
    let mut chain = baseline();
    let propose = |chain: &mut Chain, action: GovAction| {
        chain.ok(
            &dept_key(BJSAMR),
            Call::Governance(GovCall::Propose {
                action,
                expires_at_height: chain.height + 10,
            }),
        );
        let id: u64 = chain.get(keys::NEXT_PROPOSAL_ID).expect("id");
        let n = department_index(&Overlay::new(&chain.state)).len();
        for approver in 1..n {
            chain.run(
                &dept_key(approver),
                Call::Governance(GovCall::Approve {
                    proposal_id: id - 1,
                }),
            );
        }
        let p: concordat_contracts::governance::Proposal =
            chain.get(&keys::proposal(id - 1)).expect("proposal");
        assert_eq!(
            p.status,
            concordat_contracts::governance::ProposalStatus::Executed
        );
    };
    for (i, roles) in extra.iter().enumerate() {
        propose(
            &mut chain,
            GovAction::AddDepartment(department(4 + i, roles)),
        );
    }
    let owner = concordat_contracts::ids::Uscc::parse(&dept_uscc(OTHER)).expect("uscc");
    propose(&mut chain, GovAction::SetPolicyOwner { uscc: owner });
    let samr = dept_key(BJSAMR);
    let e1 = ent_key(E1);
    register_seal(&mut chain, "ES1", E1, "01", SealAlgorithm::Ed25519, 40);
    let t = chain.time_ms;
    chain.ok(
        &e1,
        Call::Seal(signature_call(
            "SIG-AUTH-P",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"authorisation",
            SignaturePurpose::Authorisation,
            t,
        )),
    );
    chain.ok(&e1, Call::Sharing(SharingCall::Authorise(grant("AUTH-P"))));
    chain.ok(&e1, Call::Customs(CustomsCall::Save(declaration(ENTRY))));
    let t = chain.time_ms;
    chain.ok(
        &e1,
        Call::Seal(signature_call(
            "SIG0",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"doc",
            SignaturePurpose::TaxFiling,
            t,
        )),
    );
    for l in ["L-V", "L-A"] {
        chain.ok(
            &e1,
            Call::Licence(LicenceCall::Apply {
                licence_id: l.into(),
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
            licence_id: "L-V".into(),
            licence_no: "N".into(),
            validity: Validity {
                issued_on: d("2026-05-01"),
                valid_from: d("2026-05-01"),
                valid_until: d("2027-05-01"),
            },
            file_hash: None,
            seal_signature_id: None,
        }),
    );
    chain.ok(
        &e1,
        Call::Commitment(CommitmentCall::Make {
            commitment_id: "C1".into(),
            kind: CommitmentKind::Truthfulness,
            text_hash: Hash::digest(b"t"),
            relates_to: None,
            seal_signature_id: None,
            addressed_to: Some(dept_uscc(BJSAMR)),
        }),
    );
    chain.ok(
        &samr,
        Call::Recognition(RecognitionCall::Propose {
            agreement_id: "MR-0".into(),
            terms: terms(),
        }),
    );
    chain
}

/// Which of the signers (indexes of [`signer`]) may make `call` succeed in the prepared chain,
/// beyond holding a role: the issuer, the relying authority, the owner, the agreement's
/// parties, the policy owner, a registrar or inspector whose region covers the party (all
/// fixture departments are in Beijing except TJSAMR), per domain.md.
fn who_may_succeed(call: &Call, who: usize, has: &dyn Fn(Role) -> bool) -> bool {
    let beijing_dept = who <= 6 && who != TJSAMR;
    let any_dept = who <= 6;
    match call {
        Call::Party(_) => beijing_dept,
        Call::Licence(c) => match c {
            LicenceCall::Apply { .. } => who == 7 || who == 8,
            LicenceCall::Suspend { .. } => who == BJSAMR || has(Role::EnforcementAuthority),
            LicenceCall::Revoke { .. } => any_dept,
            LicenceCall::RecordCheck { .. } => {
                who == BJSAMR || (beijing_dept && has(Role::Inspector))
            }
            LicenceCall::Expire { .. } | LicenceCall::FlagOverdueCheck { .. } => true,
            _ => who == BJSAMR,
        },
        Call::Commitment(CommitmentCall::Make { .. }) => who == 7 || who == 8,
        Call::Commitment(CommitmentCall::Withdraw { .. }) => who == 7,
        Call::Commitment(_) => who == BJSAMR,
        Call::Seal(SealCall::Suspend { .. }) => who == 7 || has(Role::SealRegistry),
        Call::Seal(_) => true,
        Call::Filing(_) => who == 7,
        Call::Recognition(RecognitionCall::Recognise { .. }) => any_dept,
        Call::Recognition(_) => who == BJSAMR || who == TJSAMR,
        Call::Policy(_) => who == OTHER,
        Call::Governance(_) => any_dept,
        // The record's or entry's own party; its recording or listing authority (any
        // department may have recorded or listed it in the run).
        Call::Credit(CreditCall::Object { .. }) => who == 7,
        Call::Credit(CreditCall::RequestRemoval { .. }) => who == 8,
        Call::Credit(CreditCall::ExpireRecord { .. } | CreditCall::ExpireEntry { .. }) => true,
        Call::Credit(CreditCall::Evaluate { .. }) => has(Role::TaxAuthority),
        Call::Credit(CreditCall::ObjectEvaluation { .. }) => who == 7,
        // The bidder submits to the purchaser department OTHER, which alone checks.
        Call::Procurement(ProcurementCall::Submit { .. } | ProcurementCall::Withdraw { .. }) => {
            who == 7 || who == 8
        }
        Call::Procurement(_) => who == OTHER,
        Call::Inspection(InspectionCall::CreatePlan { .. }) => any_dept,
        Call::Inspection(_) => true,
        Call::Credit(_) => any_dept,
        Call::Customs(
            CustomsCall::Save(_) | CustomsCall::Submit { .. } | CustomsCall::SubmitComplete { .. },
        ) => who == 7 || who == 8,
        Call::Customs(_) => beijing_dept && has(Role::Customs),
        Call::Logistics(LogisticsCall::DesignateControlled { .. }) => {
            beijing_dept && has(Role::Customs)
        }
        Call::Logistics(LogisticsCall::RegisterReadPoint { .. }) => {
            any_dept && (has(Role::Customs) || has(Role::CargoTerminal))
        }
        Call::Logistics(_) => {
            any_dept && (has(Role::Customs) || has(Role::CargoTerminal) || has(Role::PortOperator))
        }
        Call::Sharing(SharingCall::Request { .. }) => {
            who == 7 || who == 8 || (any_dept && (has(Role::RelyingParty) || has(Role::Enterprise)))
        }
        Call::Sharing(_) => who == 7,
        Call::Credential(CredentialCall::Expire { .. }) => true,
        Call::Credential(_) => any_dept && has(Role::LicensingAuthority),
    }
}

fn signer(i: usize) -> SecretKey {
    match i {
        0..=6 => dept_key(i),
        7 => ent_key(E1),
        8 => ent_key(E2),
        _ => key(99), // a stranger
    }
}

fn arb_roles() -> impl Strategy<Value = Vec<Role>> {
    proptest::sample::subsequence(Role::ALL.to_vec(), 0..=3)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn only_the_allowed_roles_succeed(
        extra in proptest::collection::vec(arb_roles(), 3),
        ops in proptest::collection::vec((0..10usize, 0..sample_calls(0, 0).len(), 0..4u8), 1..30),
    ) {
        let mut chain = prepared(&extra);
        for (who, which, n) in ops {
            let signer = signer(who);
            let call = sample_calls(n, chain.time_ms).swap_remove(which);
            let view = chain.state.clone();
            let ov = Overlay::new(&view);
            let dept = signer_department(&ov, &signer.public_key());
            let party = concordat_contracts::party::signer_party(&ov, &signer.public_key());
            let out = chain.run(&signer, call.clone());
            let code = out.receipts[0].code;
            let nonce = keys::nonce(&signer.public_key());
            if code != ResultCode::Ok {
                prop_assert!(out.writes.keys().all(|k| *k == nonce), "refused {call:?} ({code:?}) wrote more than the nonce");
            }
            let holds = |roles: &[Role]| match (&dept, &party) {
                (Some(d), _) => roles.iter().any(|r| d.has_role(*r)),
                (None, Some(_)) => roles.contains(&Role::Enterprise),
                (None, None) => false,
            };
            if dept.is_none() && party.is_none() {
                prop_assert_eq!(code, ResultCode::UnknownSigner);
                prop_assert!(out.writes.is_empty());
                continue;
            }
            let has = |r: Role| match (&dept, &party) {
                (Some(d), _) => d.has_role(r),
                (None, Some(_)) => r == Role::Enterprise,
                (None, None) => false,
            };
            if code == ResultCode::Ok {
                prop_assert!(who_may_succeed(&call, who, &has), "{call:?} succeeded for signer {who}, who may not make it");
            }
            match expected_roles(&call) {
                Some(roles) => {
                    if code == ResultCode::Ok {
                        prop_assert!(holds(&roles), "{call:?} succeeded for a signer without {roles:?}");
                    }
                    if !holds(&roles) {
                        prop_assert_eq!(code, ResultCode::Unauthorised, "{:?}: {}", call, out.receipts[0].message);
                    }
                }
                None => {
                    // Department-only calls: an enterprise key is always refused.
                    if dept.is_none() {
                        prop_assert_eq!(code, ResultCode::Unauthorised);
                    }
                }
            }
        }
    }
}

#[test]
fn the_prepared_chain_lets_the_right_signer_succeed() {
    // A control for the property: with the right signer, calls of each module do succeed.
    let mut chain = prepared(&[vec![], vec![], vec![]]);
    let t = chain.time_ms;
    let calls = sample_calls(2, t);
    let right: Vec<(usize, usize)> = vec![
        (0, BJSAMR),
        (2, 7),
        (7, BJSAMR),
        (15, 7),
        (19, SEALS),
        (24, SEALS),
        (25, 7),
        (26, 7),
        (27, BJSAMR),
        (28, TJSAMR),
        (32, BJSAMR),
        (33, 7),
    ];
    for (which, who) in right {
        chain.ok(&signer(who), calls[which].clone());
    }
    chain.ok(
        &dept_key(OTHER),
        Call::Policy(PolicyCall::Update {
            expected_version: 1,
            params: PolicyParams::default(),
            credit: None,
        }),
    );
}
