//! Consented data sharing (M) and R15 through signed transactions: scenario 10 of domain.md
//! with its expiry, exhaustion and personal-data variants, the receipt, the access list, and
//! R2's revocation of a closed party's authorisations.

use std::collections::BTreeSet;

use concordat_contracts::party::PartyCall;
use concordat_contracts::seal::{SealAlgorithm, SignaturePurpose};
use concordat_contracts::sharing::{
    keys, AccessLog, AccessResult, Authorisation, AuthorisationStatus, DataCategory, DenyReason,
    Grant, SharingCall, SharingPurpose,
};
use concordat_contracts::time::Instant;
use concordat_contracts::{Call, ResultCode};
use concordat_testkit::chain::Chain;
use concordat_testkit::fixture::*;

use DataCategory::*;

pub(crate) const AUTH: &str = "urn:uuid:6f1c2a52-3c1e-4c55-9a53-0d7f4c0b2e11";

fn t(s: &str) -> Instant {
    Instant::parse(s).expect("time")
}

fn cats(c: &[DataCategory]) -> BTreeSet<DataCategory> {
    c.iter().copied().collect()
}

pub(crate) fn share(c: SharingCall) -> Call {
    Call::Sharing(c)
}

/// E1 with an official seal and a VALID seal signature for an authorisation (`SIG-AUTH`).
pub(crate) fn with_signature() -> Chain {
    let mut chain = customs_baseline();
    register_seal(&mut chain, "ES1", E1, "01", SealAlgorithm::Ed25519, 40);
    chain.at("2026-05-14T09:55");
    let now = chain.time_ms;
    for id in [
        AUTH,
        "AUTH-EXP",
        "AUTH-USES",
        "AUTH-P",
        "AUTH-S",
        "AUTH-E2",
        "AUTH-2",
    ] {
        chain.ok(
            &ent_key(E1),
            Call::Seal(signature_call(
                &format!("SIG-{id}"),
                "ES1",
                SealAlgorithm::Ed25519,
                40,
                format!("authorisation {id}").as_bytes(),
                SignaturePurpose::Authorisation,
                now,
            )),
        );
    }
    chain
}

pub(crate) fn grant(id: &str, until: &str, max_uses: u32) -> Grant {
    Grant {
        auth_id: id.into(),
        grantee: dept_uscc(BANK1),
        purpose: SharingPurpose::SmeCreditAssessment,
        categories: cats(&[TaxCreditGrade, TaxPaidSummary24m, SocialInsuranceHeadcount]),
        valid_from: t("2026-05-14T10:00:00+08:00"),
        valid_until: t(until),
        max_uses,
        grantor_signature_id: format!("SIG-{id}"),
        policy_url: "https://credit.example.cn/policy".into(),
        collection_method: "e-seal signed authorisation on credit-finance platform".into(),
        personal_consent: None,
        consented_at: t("2026-05-14T10:00:00+08:00"),
    }
}

pub(crate) fn request(access: &str, auth: &str, c: &[DataCategory]) -> Call {
    share(SharingCall::Request {
        access_id: access.into(),
        auth_id: auth.into(),
        purpose: SharingPurpose::SmeCreditAssessment,
        categories: cats(c),
    })
}

fn logged(chain: &Chain, access: &str) -> AccessLog {
    chain.get(&keys::access(access)).expect("logged")
}

fn auth(chain: &Chain, id: &str) -> Authorisation {
    chain.get(&keys::authorisation(id)).expect("authorisation")
}

const THREE: [DataCategory; 3] = [TaxCreditGrade, TaxPaidSummary24m, SocialInsuranceHeadcount];

#[test]
fn scenario_10_enterprise_authorised_data_sharing_with_a_bank() {
    let mut chain = with_signature();
    let e1 = ent_key(E1);
    let b1 = dept_key(BANK1);
    chain.at("2026-05-14T10:00");
    chain.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            AUTH,
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
    );
    let a = auth(&chain, AUTH);
    assert_eq!(a.status, AuthorisationStatus::Active);
    let r = &a.receipt;
    assert_eq!(r.version, "KI-CR-v1.1.0");
    assert_eq!(r.jurisdiction, "CN");
    assert_eq!(r.consent_timestamp, 1_778_724_000);
    assert_eq!(r.consent_receipt_id, AUTH);
    assert_eq!(r.pii_principal_id, E1);
    assert!(!r.sensitive);
    assert_eq!(
        r.collection_method,
        "e-seal signed authorisation on credit-finance platform"
    );
    let receipt = serde_json::to_value(r).expect("json");
    assert_eq!(receipt["consentReceiptID"], AUTH, "{receipt}");
    assert_eq!(receipt["piiPrincipalId"], E1, "{receipt}");

    // 2026-05-15: B1 reads the three categories.
    chain.at("2026-05-15T09:00");
    chain.ok(&b1, request("ACC-1", AUTH, &THREE));
    let l = logged(&chain, "ACC-1");
    assert_eq!((l.result, l.uses_after), (AccessResult::Granted, 1));
    assert_eq!(l.returned_categories, cats(&THREE));
    assert!(l.tx.is_some());
    // CUSTOMS_CREDIT_TIER is out of scope.
    chain.ok(&b1, request("ACC-2", AUTH, &[CustomsCreditTier]));
    let l = logged(&chain, "ACC-2");
    assert_eq!(
        (l.result, l.reason),
        (AccessResult::Denied, Some(DenyReason::OutOfScope))
    );
    assert!(l.returned_categories.is_empty());
    // B2 presents the same authorisation.
    chain.ok(&dept_key(BANK2), request("ACC-3", AUTH, &THREE));
    assert_eq!(
        logged(&chain, "ACC-3").reason,
        Some(DenyReason::GranteeMismatch)
    );
    // The legal representative's personal id, without separate personal consent.
    chain.ok(&b1, request("ACC-4", AUTH, &[LegalRepPersonalId]));
    assert_eq!(
        logged(&chain, "ACC-4").reason,
        Some(DenyReason::PersonalDataWithoutConsent)
    );
    // Denials take no use.
    assert_eq!(auth(&chain, AUTH).uses, 1);
    // 2026-06-01 E1 revokes; the next request is denied.
    chain.at("2026-06-01T10:00");
    chain.ok(
        &e1,
        share(SharingCall::Revoke {
            auth_id: AUTH.into(),
            reason: "贷款已结清".into(),
        }),
    );
    chain.at("2026-06-02T10:00");
    chain.ok(&b1, request("ACC-5", AUTH, &THREE));
    assert_eq!(logged(&chain, "ACC-5").reason, Some(DenyReason::Revoked));
    // The enterprise lists who asked for what, granted or not (a stranger's request is
    // logged under the stranger).
    let ids: Vec<String> = chain.get(&keys::accesses_of(AUTH)).expect("index");
    assert_eq!(ids, ["ACC-1", "ACC-2", "ACC-4", "ACC-5"]);
    let stray: Vec<String> = chain
        .get(&keys::stray_requests_of(&dept_uscc(BANK2)))
        .expect("index");
    assert_eq!(stray, ["ACC-3"]);
    // Only the grantor revokes; an access id is used once.
    chain.refused(
        &ent_key(E2),
        share(SharingCall::Revoke {
            auth_id: AUTH.into(),
            reason: "r".into(),
        }),
        ResultCode::Unauthorised,
    );
    chain.refused(
        &b1,
        request("ACC-5", AUTH, &THREE),
        ResultCode::AlreadyExists,
    );
}

#[test]
fn expiry_and_exhaustion_deny() {
    let mut chain = with_signature();
    let e1 = ent_key(E1);
    let b1 = dept_key(BANK1);
    chain.at("2026-05-14T10:00");
    chain.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            "AUTH-EXP",
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
    );
    chain.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            "AUTH-USES",
            "2026-12-31T23:59:59+08:00",
            5,
        ))),
    );
    chain.at("2026-08-12T23:00");
    chain.ok(&b1, request("X-0", "AUTH-EXP", &[TaxCreditGrade]));
    assert_eq!(logged(&chain, "X-0").result, AccessResult::Granted);
    chain.at("2026-08-13T09:00");
    chain.ok(&b1, request("X-1", "AUTH-EXP", &[TaxCreditGrade]));
    assert_eq!(logged(&chain, "X-1").reason, Some(DenyReason::Expired));
    assert_eq!(
        auth(&chain, "AUTH-EXP").status,
        AuthorisationStatus::Expired
    );
    for i in 0..5 {
        chain.ok(
            &b1,
            request(&format!("U-{i}"), "AUTH-USES", &[TaxCreditGrade]),
        );
        assert_eq!(
            logged(&chain, &format!("U-{i}")).result,
            AccessResult::Granted
        );
    }
    assert_eq!(
        auth(&chain, "AUTH-USES").status,
        AuthorisationStatus::Exhausted
    );
    chain.ok(&b1, request("U-5", "AUTH-USES", &[TaxCreditGrade]));
    assert_eq!(logged(&chain, "U-5").reason, Some(DenyReason::Exhausted));
}

#[test]
fn personal_data_needs_the_persons_separate_consent() {
    let mut chain = with_signature();
    let e1 = ent_key(E1);
    chain.at("2026-05-14T10:00");
    // Authorising personal data without it is refused outright.
    let mut g = grant("AUTH-P", "2026-08-12T23:59:59+08:00", 5);
    g.categories.insert(LegalRepPersonalId);
    chain.refused(
        &e1,
        share(SharingCall::Authorise(g.clone())),
        ResultCode::InvalidArgument,
    );
    g.personal_consent = Some(concordat_contracts::sharing::PersonalConsent {
        person_ref: "ab".repeat(32),
        categories: cats(&[LegalRepPersonalId]),
        document_hash: concordat_primitives::Hash::digest(b"PIPL Art. 23 consent"),
        given_at: t("2026-05-13T16:00:00+08:00"),
    });
    chain.ok(&e1, share(SharingCall::Authorise(g)));
    assert!(auth(&chain, "AUTH-P").receipt.sensitive);
    chain.ok(
        &dept_key(BANK1),
        request("P-1", "AUTH-P", &[LegalRepPersonalId]),
    );
    assert_eq!(logged(&chain, "P-1").result, AccessResult::Granted);
    // Consent for one person's data does not cover employees' data.
    chain.ok(
        &dept_key(BANK1),
        request("P-2", "AUTH-P", &[EmployeePersonalData]),
    );
    assert_eq!(
        logged(&chain, "P-2").reason,
        Some(DenyReason::PersonalDataWithoutConsent)
    );
}

#[test]
fn authorisations_need_a_valid_seal_signature_and_close_with_the_party() {
    let mut chain = with_signature();
    let e1 = ent_key(E1);
    chain.at("2026-05-14T10:00");
    let mut g = grant("AUTH-S", "2026-08-12T23:59:59+08:00", 5);
    g.grantor_signature_id = "SIG-NONE".into();
    chain.refused(&e1, share(SharingCall::Authorise(g)), ResultCode::NotFound);
    // E2 cannot use E1's signature.
    chain.refused(
        &ent_key(E2),
        share(SharingCall::Authorise(grant(
            "AUTH-E2",
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
        ResultCode::InvalidArgument,
    );
    chain.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            AUTH,
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
    );
    chain.refused(
        &e1,
        share(SharingCall::Authorise(grant(
            AUTH,
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
        ResultCode::AlreadyExists,
    );
    // R2: deregistration revokes it.
    chain.ok(
        &dept_key(BJSAMR),
        Call::Party(PartyCall::Deregister {
            uscc: E1.into(),
            basis: "注销登记".into(),
        }),
    );
    let a = auth(&chain, AUTH);
    assert_eq!(a.status, AuthorisationStatus::Revoked);
    assert!(
        a.history.last().expect("entry").basis.starts_with("R2"),
        "{:?}",
        a.history
    );
}

/// The kind-generic walk of `sharing_authorisation`: one use allowed, valid until 2026-08-12.
pub(crate) fn authorisation_in(status: &str) -> Vec<Chain> {
    let mut chain = with_signature();
    chain.at("2026-05-14T10:00");
    chain.ok(
        &ent_key(E1),
        share(SharingCall::Authorise(grant(
            AUTH,
            "2026-08-12T23:59:59+08:00",
            1,
        ))),
    );
    let i = match status {
        "ACTIVE" => None,
        "REVOKED" => Some(0),
        "EXHAUSTED" => Some(1),
        "EXPIRED" => Some(2),
        other => panic!("no way to {other}"),
    };
    if let Some(i) = i {
        let m = authorisation_moves().swap_remove(i);
        chain.time_ms += m.advance_ms;
        if m.txs.is_empty() {
            chain.block(&[]);
        }
        for (s, c) in m.txs {
            chain.ok(&s, c);
        }
    }
    vec![chain]
}

/// Every way an authorisation moves: revocation, its last use, the passing of its validity.
pub(crate) fn authorisation_moves() -> Vec<crate::kinds::Move> {
    vec![
        crate::kinds::mv(
            "revoke",
            ent_key(E1),
            share(SharingCall::Revoke {
                auth_id: AUTH.into(),
                reason: "r".into(),
            }),
        ),
        crate::kinds::mv(
            "last use",
            dept_key(BANK1),
            request("W-1", AUTH, &[TaxCreditGrade]),
        ),
        crate::kinds::Move {
            name: "validity ends",
            advance_ms: 100 * 86_400_000,
            txs: vec![],
        },
    ]
}

#[test]
fn strangers_cannot_crowd_the_log_and_limits_hold() {
    let mut chain = with_signature();
    let e1 = ent_key(E1);
    chain.at("2026-05-14T10:00");
    // Validity is bounded (the expiry queue's dates with it).
    chain.refused(
        &e1,
        share(SharingCall::Authorise(grant(
            AUTH,
            "2031-05-16T10:00:00+08:00",
            5,
        ))),
        ResultCode::InvalidArgument,
    );
    let mut far = grant(AUTH, "2026-08-12T23:59:59+08:00", 5);
    far.valid_until = Instant(u64::MAX);
    chain.refused(
        &e1,
        share(SharingCall::Authorise(far)),
        ResultCode::InvalidArgument,
    );
    chain.ok(
        &e1,
        share(SharingCall::Authorise(grant(
            AUTH,
            "2026-08-12T23:59:59+08:00",
            5,
        ))),
    );
    // One seal signature signs one authorisation.
    let mut reused = grant("AUTH-2", "2026-08-12T23:59:59+08:00", 5);
    reused.grantor_signature_id = format!("SIG-{AUTH}");
    chain.refused(
        &e1,
        share(SharingCall::Authorise(reused)),
        ResultCode::AlreadyExists,
    );
    // A stranger's requests are logged under the stranger, not in the grantee's log.
    chain.ok(&dept_key(BANK2), request("S-1", AUTH, &THREE));
    assert_eq!(
        logged(&chain, "S-1").reason,
        Some(DenyReason::GranteeMismatch)
    );
    let grantee_log: Option<Vec<String>> = chain.get(&keys::accesses_of(AUTH));
    assert!(grantee_log.unwrap_or_default().is_empty());
    let stray: Vec<String> = chain
        .get(&keys::stray_requests_of(&dept_uscc(BANK2)))
        .expect("logged under the requester");
    assert_eq!(stray, ["S-1"]);
    chain.ok(&dept_key(BANK1), request("G-1", AUTH, &THREE));
    assert_eq!(logged(&chain, "G-1").result, AccessResult::Granted);
}
