//! R9 (a seal signature is judged as of its signing time) and R10 (paperless filings).

use concordat_contracts::filing::{FilingCall, FilingKind};
use concordat_contracts::governance::{GovAction, GovCall};
use concordat_contracts::ids::Uscc;
use concordat_contracts::policy::{PolicyCall, PolicyParams};
use concordat_contracts::seal::{
    tsa_message, HexBytes, SealAlgorithm, SealCall, SealSignature, SignaturePurpose,
    SignatureResult, TimeSource, TsaToken, VerificationStep,
};
use concordat_contracts::state::keys;
use concordat_contracts::{Call, ResultCode};
use concordat_primitives::Hash;
use concordat_testkit::chain::*;
use concordat_testkit::fixture::*;

fn judged(chain: &Chain, sig_id: &str) -> SealSignature {
    chain.get(&keys::seal_signature(sig_id)).expect("recorded")
}

fn record(chain: &mut Chain, call: SealCall) {
    chain.ok(&ent_key(E1), Call::Seal(call));
}

#[test]
fn valid_signatures_with_ed25519_and_sm2() {
    for (alg, seed) in [(SealAlgorithm::Ed25519, 40), (SealAlgorithm::Sm2Sm3, 41)] {
        let mut chain = baseline();
        register_seal(&mut chain, "ES1", E1, "01", alg, seed);
        let t = chain.time_ms;
        record(
            &mut chain,
            signature_call(
                "S1",
                "ES1",
                alg,
                seed,
                b"doc",
                SignaturePurpose::Contract,
                t,
            ),
        );
        let s = judged(&chain, "S1");
        assert_eq!(
            s.verification.result,
            SignatureResult::Valid,
            "{alg:?}: {}",
            s.verification.detail
        );
        assert_eq!(s.verification.time_source, TimeSource::TimeInfo);
        assert_eq!(s.verification.judged_at_ms, Some(t));
    }
}

#[test]
fn each_failed_step_is_named() {
    let mut chain = baseline();
    register_seal(&mut chain, "ES1", E1, "01", SealAlgorithm::Sm2Sm3, 41);
    let t = chain.time_ms;
    // 2: a signature over another document.
    let mut bad = signature_call(
        "S-BAD",
        "ES1",
        SealAlgorithm::Sm2Sm3,
        41,
        b"doc",
        SignaturePurpose::Contract,
        t,
    );
    if let SealCall::RecordSignature { doc_hash, .. } = &mut bad {
        *doc_hash = Hash::digest(b"another doc");
    }
    record(&mut chain, bad);
    let s = judged(&chain, "S-BAD");
    assert_eq!(
        (s.verification.result, s.verification.failed_step),
        (SignatureResult::Invalid, Some(VerificationStep::Signature))
    );
    // 3: a key that is not the seal's.
    record(
        &mut chain,
        signature_call(
            "S-KEY",
            "ES1",
            SealAlgorithm::Sm2Sm3,
            42,
            b"doc",
            SignaturePurpose::Contract,
            t,
        ),
    );
    let s = judged(&chain, "S-KEY");
    assert_eq!(
        s.verification.failed_step,
        Some(VerificationStep::SignerInSeal)
    );
    // 1: dated after the block time.
    record(
        &mut chain,
        signature_call(
            "S-FUT",
            "ES1",
            SealAlgorithm::Sm2Sm3,
            41,
            b"doc",
            SignaturePurpose::Contract,
            t + 3_600_000,
        ),
    );
    let s = judged(&chain, "S-FUT");
    assert_eq!(s.verification.failed_step, Some(VerificationStep::Format));
    // 4: outside the seal's validity (the seal starts at 1.7e12 ms).
    record(
        &mut chain,
        signature_call(
            "S-OLD",
            "ES1",
            SealAlgorithm::Sm2Sm3,
            41,
            b"doc",
            SignaturePurpose::Contract,
            1_600_000_000_000,
        ),
    );
    let s = judged(&chain, "S-OLD");
    assert_eq!(
        s.verification.failed_step,
        Some(VerificationStep::SealValidity)
    );
}

#[test]
fn judged_as_of_the_signing_time() {
    let mut chain = baseline();
    register_seal(&mut chain, "ES1", E1, "01", SealAlgorithm::Ed25519, 40);
    // Signed and recorded while ACTIVE: VALID, and stays VALID after a later suspension.
    let before = chain.time_ms;
    record(
        &mut chain,
        signature_call(
            "S-EARLY",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"a",
            SignaturePurpose::Contract,
            before,
        ),
    );
    chain.ok(
        &ent_key(E1),
        Call::Seal(SealCall::Suspend {
            es_id: "ES1".into(),
            basis: "挂失".into(),
        }),
    );
    let suspended_at = chain.time_ms - 1000;
    assert_eq!(
        judged(&chain, "S-EARLY").verification.result,
        SignatureResult::Valid
    );
    // Dated after the suspension: INVALID.
    let after = chain.time_ms;
    record(
        &mut chain,
        signature_call(
            "S-AFTER",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"b",
            SignaturePurpose::Contract,
            after,
        ),
    );
    let s = judged(&chain, "S-AFTER");
    assert_eq!(
        (s.verification.result, s.verification.failed_step),
        (SignatureResult::Invalid, Some(VerificationStep::SealStatus))
    );
    // Claimed (timeInfo) before the suspension, no TSA, recorded after: INDETERMINATE.
    record(
        &mut chain,
        signature_call(
            "S-CLAIM",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"c",
            SignaturePurpose::Contract,
            before,
        ),
    );
    let s = judged(&chain, "S-CLAIM");
    assert_eq!(
        (s.verification.result, s.verification.failed_step),
        (
            SignatureResult::Indeterminate,
            Some(VerificationStep::SealStatus)
        )
    );
    // The same, with a registered TSA's token from before the suspension: VALID.
    chain.ok(
        &dept_key(SEALS),
        Call::Seal(SealCall::RegisterTsa {
            tsa_id: "TSA1".into(),
            key: key(70).public_key(),
            name: "样例时间戳服务".into(),
        }),
    );
    let mut call = signature_call(
        "S-TSA",
        "ES1",
        SealAlgorithm::Ed25519,
        40,
        b"c",
        SignaturePurpose::Contract,
        before,
    );
    if let SealCall::RecordSignature { tsa, signature, .. } = &mut call {
        let time_ms = suspended_at - 500;
        *tsa = Some(TsaToken {
            tsa_id: "TSA1".into(),
            time_ms,
            signature: key(70).sign(&tsa_message(CHAIN, &signature.0, time_ms)),
        });
    }
    record(&mut chain, call.clone());
    let s = judged(&chain, "S-TSA");
    assert_eq!(
        s.verification.result,
        SignatureResult::Valid,
        "{}",
        s.verification.detail
    );
    assert_eq!(s.verification.time_source, TimeSource::Tsa);
    // A token by an unknown TSA key fails step 7.
    if let SealCall::RecordSignature {
        sig_id,
        tsa: Some(t),
        ..
    } = &mut call
    {
        *sig_id = "S-TSA-BAD".into();
        t.signature = key(71).sign(b"x");
    }
    record(&mut chain, call);
    assert_eq!(
        judged(&chain, "S-TSA-BAD").verification.failed_step,
        Some(VerificationStep::Timestamp)
    );
}

#[test]
fn without_a_tsa_the_policy_decides_whether_time_info_counts() {
    let mut chain = baseline();
    chain.ok(
        &dept_key(OTHER),
        Call::Governance(GovCall::Propose {
            action: GovAction::SetPolicyOwner {
                uscc: Uscc::parse(&dept_uscc(OTHER)).expect("uscc"),
            },
            expires_at_height: chain.height + 10,
        }),
    );
    for i in [BJSAMR, TJSAMR] {
        chain.run(
            &dept_key(i),
            Call::Governance(GovCall::Approve { proposal_id: 0 }),
        );
    }
    let params = PolicyParams {
        allow_time_info_without_tsa: false,
        ..PolicyParams::default()
    };
    // A stale version is refused; only the owner may change it.
    chain.refused(
        &dept_key(OTHER),
        Call::Policy(PolicyCall::Update {
            expected_version: 0,
            params: params.clone(),
            credit: None,
        }),
        ResultCode::InvalidTransition,
    );
    chain.refused(
        &dept_key(BJSAMR),
        Call::Policy(PolicyCall::Update {
            expected_version: 1,
            params: params.clone(),
            credit: None,
        }),
        ResultCode::Unauthorised,
    );
    chain.refused(
        &ent_key(E1),
        Call::Policy(PolicyCall::Update {
            expected_version: 1,
            params: params.clone(),
            credit: None,
        }),
        ResultCode::Unauthorised,
    );
    chain.ok(
        &dept_key(OTHER),
        Call::Policy(PolicyCall::Update {
            expected_version: 1,
            params,
            credit: None,
        }),
    );
    register_seal(&mut chain, "ES1", E1, "01", SealAlgorithm::Ed25519, 40);
    let t = chain.time_ms;
    record(
        &mut chain,
        signature_call(
            "S1",
            "ES1",
            SealAlgorithm::Ed25519,
            40,
            b"a",
            SignaturePurpose::Contract,
            t,
        ),
    );
    let s = judged(&chain, "S1");
    assert_eq!(
        (s.verification.result, s.verification.failed_step),
        (
            SignatureResult::Indeterminate,
            Some(VerificationStep::Timestamp)
        )
    );
    assert_eq!(s.verification.policy_version, 2);
}

fn filing(id: &str, kind: FilingKind, doc: &[u8], sig: &str) -> Call {
    Call::Filing(FilingCall::Submit {
        filing_id: id.into(),
        kind,
        period: "2026-05".into(),
        doc_hash: Hash::digest(doc),
        seal_signature_id: sig.into(),
    })
}

#[test]
fn r10_filings_need_a_valid_signature_of_an_allowed_seal_type() {
    let mut chain = baseline();
    register_seal(&mut chain, "ES-FIN", E1, "02", SealAlgorithm::Sm2Sm3, 41);
    register_seal(&mut chain, "ES-CON", E1, "04", SealAlgorithm::Ed25519, 40);
    register_seal(&mut chain, "ES-E2", E2, "01", SealAlgorithm::Ed25519, 43);
    let t = chain.time_ms;
    record(
        &mut chain,
        signature_call(
            "FIN",
            "ES-FIN",
            SealAlgorithm::Sm2Sm3,
            41,
            b"tax return",
            SignaturePurpose::TaxFiling,
            t,
        ),
    );
    record(
        &mut chain,
        signature_call(
            "CON",
            "ES-CON",
            SealAlgorithm::Ed25519,
            40,
            b"tax return",
            SignaturePurpose::TaxFiling,
            t,
        ),
    );
    record(
        &mut chain,
        signature_call(
            "BAD",
            "ES-FIN",
            SealAlgorithm::Sm2Sm3,
            42,
            b"tax return",
            SignaturePurpose::TaxFiling,
            t,
        ),
    );
    chain.ok(
        &ent_key(E2),
        Call::Seal(signature_call(
            "E2SIG",
            "ES-E2",
            SealAlgorithm::Ed25519,
            43,
            b"tax return",
            SignaturePurpose::TaxFiling,
            t,
        )),
    );
    let e1 = ent_key(E1);
    let msg = chain.refused(
        &e1,
        filing("F1", FilingKind::Tax, b"tax return", "CON"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("R10") && msg.contains("type 04"), "{msg}");
    let msg = chain.refused(
        &e1,
        filing("F1", FilingKind::Tax, b"tax return", "BAD"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("Invalid"), "{msg}");
    let msg = chain.refused(
        &e1,
        filing("F1", FilingKind::Tax, b"tax return", "E2SIG"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("not of"), "{msg}");
    let msg = chain.refused(
        &e1,
        filing("F1", FilingKind::Tax, b"another return", "FIN"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("another document"), "{msg}");
    let msg = chain.refused(
        &e1,
        filing("F1", FilingKind::HousingFund, b"tax return", "FIN"),
        ResultCode::InvalidArgument,
    );
    assert!(msg.contains("TaxFiling"), "{msg}");
    chain.ok(&e1, filing("F1", FilingKind::Tax, b"tax return", "FIN"));
    let f: concordat_contracts::filing::Filing = chain.get(&keys::filing("F1")).expect("filed");
    assert_eq!(f.es_id, "ES-FIN");
    // Bytes that are not a key of the seal's algorithm are refused at registration.
    let mut bad_key = signer_key(SealAlgorithm::Sm2Sm3, 41);
    bad_key.public_key = HexBytes(vec![4; 65]);
    chain.refused(
        &dept_key(SEALS),
        Call::Seal(SealCall::Register {
            es_id: "ES-X".into(),
            owner: E1.into(),
            seal_type: "01".into(),
            name: "x".into(),
            signer_keys: vec![bad_key],
            valid_start_ms: 1_700_000_000_000,
            valid_end_ms: 1_900_000_000_000,
            seseal_hash: Hash::digest(b"x"),
            picture_hash: Hash::digest(b"x"),
        }),
        ResultCode::InvalidArgument,
    );
}
