//! The verifying half against real answers built in-process: a state tree, a header over its
//! root, a commit certificate signed by deterministic validator keys. Valid answers verify;
//! changing any part of one makes verification fail, naming the check.

mod common;

use common::*;
use concordat_client::verify::{
    decode_value, state_key, verify_header, verify_state_answer, verify_txlog_answer, Expect,
    StateAnswer, TxLogAnswer, VerifyError,
};
use concordat_consensus::{CertificateError, CommitCertificate};
use concordat_contracts::executor::TxLogRecord;
use concordat_contracts::ResultCode;
use concordat_primitives::ledger::Header;
use concordat_primitives::merkle_log::MemoryLog;
use concordat_primitives::state::StateProofError;
use concordat_primitives::{encoding, merkle_log, Hash, SecretKey};

fn check(kind: &str, id: &str, a: &StateAnswer) -> Result<(), VerifyError> {
    verify_state_answer(kind, id, a, &Expect::default(), rng()).map(|_| ())
}

#[test]
fn membership_answer_verifies() {
    let f = fixture();
    let a = f.answer("party", PARTY, 3);
    let v = verify_state_answer("party", PARTY, &a, &Expect::default(), rng()).expect("verifies");
    assert!(v.found);
    assert_eq!(v.height, 1);
    assert_eq!(v.value_bytes.as_deref(), Some(party_bytes().as_slice()));
    assert_eq!(v.header_hash, f.header.hash());
    assert_eq!(v.state_root, f.header.state_root);
    assert_eq!(v.header.signing_power, 30);
    assert_eq!(v.header.total_power, 40);
    let value = decode_value("party", &party_bytes()).expect("decodes");
    assert_eq!(value["status"], "EXISTING");
    // Also through JSON, as the CLI reads it.
    let json = serde_json::to_string(&a).expect("json");
    let back: StateAnswer = serde_json::from_str(&json).expect("parses");
    check("party", PARTY, &back).expect("verifies from JSON");
}

#[test]
fn nonce_answer_verifies_and_decodes() {
    let f = fixture();
    let signer = SecretKey::from_seed([9; 32]).public_key().to_hex();
    let a = f.answer("nonce", &signer, 4);
    let v = verify_state_answer("nonce", &signer, &a, &Expect::default(), rng()).expect("ok");
    let bytes = v.value_bytes.expect("found");
    assert_eq!(decode_value("nonce", &bytes).expect("u64"), 3);
}

#[test]
fn absence_answer_verifies() {
    let f = fixture();
    let a = f.answer("party", ABSENT, 3);
    assert!(!a.found);
    let v = verify_state_answer("party", ABSENT, &a, &Expect::default(), rng()).expect("ok");
    assert!(!v.found);
    assert_eq!(v.value_bytes, None);
}

#[test]
fn tampered_value_fails() {
    let f = fixture();
    let mut a = f.answer("party", PARTY, 3);
    let mut bytes = party_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    a.value_bytes = Some(hex::encode(&bytes));
    assert_eq!(
        check("party", PARTY, &a),
        Err(VerifyError::Proof {
            claim: "the value",
            source: StateProofError::ValueMismatch
        })
    );
}

#[test]
fn claiming_absence_of_a_present_record_fails() {
    let f = fixture();
    let mut a = f.answer("party", PARTY, 3);
    a.found = false;
    a.value = None;
    a.value_bytes = None;
    assert!(matches!(
        check("party", PARTY, &a),
        Err(VerifyError::Proof {
            claim: "absence",
            ..
        })
    ));
}

#[test]
fn claiming_a_value_for_an_absent_record_fails() {
    let f = fixture();
    let mut a = f.answer("party", ABSENT, 3);
    a.found = true;
    a.value_bytes = Some(hex::encode(party_bytes()));
    assert!(matches!(
        check("party", ABSENT, &a),
        Err(VerifyError::Proof {
            claim: "the value",
            ..
        })
    ));
}

#[test]
fn every_proof_byte_matters() {
    let f = fixture();
    for (kind, id) in [("party", PARTY), ("party", ABSENT)] {
        let a = f.answer(kind, id, 3);
        let proof = hex::decode(a.proof.as_deref().expect("proof")).expect("hex");
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] ^= 0x01;
            let mut t = a.clone();
            t.proof = Some(hex::encode(&bad));
            let r = check(kind, id, &t);
            assert!(
                matches!(
                    r,
                    Err(VerifyError::ProofDecode(_)) | Err(VerifyError::Proof { .. })
                ),
                "{kind}/{id}: flipping proof byte {i} gave {r:?}"
            );
        }
    }
}

#[test]
fn a_proof_for_another_key_fails() {
    let f = fixture();
    let mut a = f.answer("party", PARTY, 3);
    let other = f.answer("party", ABSENT, 3);
    a.proof = other.proof;
    assert!(check("party", PARTY, &a).is_err());
    // And an answer about another record than asked is refused outright.
    let a = f.answer("party", PARTY, 3);
    assert!(matches!(
        check("party", ABSENT, &a),
        Err(VerifyError::WrongSubject { .. })
    ));
    let mut a = f.answer("party", PARTY, 3);
    a.key = hex::encode(state_key("party", ABSENT).expect("key"));
    assert!(matches!(
        check("party", PARTY, &a),
        Err(VerifyError::KeyMismatch { .. })
    ));
}

type HeaderChange = Box<dyn Fn(&mut Header)>;

#[test]
fn tampered_header_fields_fail() {
    let f = fixture();
    let a = f.answer("party", PARTY, 3);
    let changes: Vec<(&str, HeaderChange)> = vec![
        ("time_ms", Box::new(|h| h.time_ms += 1)),
        (
            "state_root",
            Box::new(|h| h.state_root = Hash::digest(b"x")),
        ),
        (
            "parent_hash",
            Box::new(|h| h.parent_hash = Hash::digest(b"y")),
        ),
        ("tx_log_size", Box::new(|h| h.tx_log_size = 1)),
        ("app_version", Box::new(|h| h.app_version = 2)),
    ];
    for (field, change) in changes {
        let t = f.with_header(&a, change);
        let r = check("party", PARTY, &t);
        assert!(
            matches!(
                r,
                Err(VerifyError::Certificate(
                    CertificateError::WrongBlock { .. }
                ))
            ),
            "{field}: {r:?}"
        );
    }
    // A different height: the certificate is for height 1.
    let t = f.with_header(&a, |h| h.height = 2);
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::Certificate(
            CertificateError::WrongBlock { .. }
        ))
    ));
    // A JSON header that is not header_bytes.
    let mut t = a.clone();
    t.header.as_mut().expect("header")["time_ms"] = serde_json::json!(1);
    assert_eq!(
        check("party", PARTY, &t),
        Err(VerifyError::HeaderJsonMismatch("time_ms".into()))
    );
    // The answer's own state_root and height must be the header's.
    let mut t = a.clone();
    t.state_root = Some(Hash::digest(b"z").to_hex());
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::StateRootMismatch { .. })
    ));
    let mut t = a.clone();
    t.height = 2;
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::HeightMismatch { .. })
    ));
    // Bytes that are not a canonical header.
    let mut t = a.clone();
    let mut hb = encoding::to_bytes(&f.header);
    hb.push(0);
    t.header_bytes = Some(hex::encode(hb));
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::HeaderDecode(_))
    ));
}

#[test]
fn tampered_certificate_signature_fails() {
    let f = fixture();
    let a = f.answer("party", PARTY, 3);
    let mut cert: CommitCertificate =
        encoding::from_bytes(&hex::decode(a.certificate.as_deref().expect("cert")).expect("hex"))
            .expect("decodes");
    cert.signatures[1].0[10] ^= 0x40;
    let mut t = a.clone();
    t.certificate = Some(hex::encode(encoding::to_bytes(&cert)));
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::Certificate(CertificateError::BadSignature(_)))
    ));
    // A signature by a key outside the set, under a valid signer's bit.
    let mut cert2: CommitCertificate =
        encoding::from_bytes(&hex::decode(a.certificate.as_deref().expect("cert")).expect("hex"))
            .expect("decodes");
    let vote = cert2.vote();
    cert2.signatures[0] = SecretKey::from_seed([99; 32]).sign(&vote.signing_bytes(CHAIN));
    t.certificate = Some(hex::encode(encoding::to_bytes(&cert2)));
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::Certificate(CertificateError::BadSignature(_)))
    ));
    // Signatures over another chain's vote bytes.
    let mut t = a.clone();
    let sigs: Vec<_> = f.keys[..3]
        .iter()
        .map(|k| (k.public_key(), k.sign(&vote.signing_bytes("other-chain"))))
        .collect();
    let cert3 =
        CommitCertificate::from_signatures(&f.set, 1, 0, f.header.hash(), &sigs).expect("cert");
    t.certificate = Some(hex::encode(encoding::to_bytes(&cert3)));
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::Certificate(CertificateError::BadSignature(_)))
    ));
    // Garbage.
    let mut t = a.clone();
    t.certificate = Some("00".into());
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::CertificateDecode(_))
    ));
}

#[test]
fn two_thirds_or_less_is_not_enough() {
    let f = fixture();
    // 2 of 4 equal validators: half.
    let a = f.answer("party", PARTY, 2);
    assert_eq!(
        check("party", PARTY, &a),
        Err(VerifyError::Certificate(CertificateError::NoQuorum {
            power: 20,
            total: 40
        }))
    );
    // Exactly 2/3: a header signed by 2 of 3 equal validators.
    let three = keys(3);
    let set3 = set_of(&three);
    let mut header = f.header.clone();
    header.validator_set_hash = set3.hash();
    let cert = certify(&header, &three[..2], &set3);
    let mut t = f.with_header(&a, |h| h.validator_set_hash = set3.hash());
    t.certificate = Some(hex::encode(encoding::to_bytes(&cert)));
    t.validator_set = Some(hex::encode(encoding::to_bytes(&set3)));
    assert_eq!(
        check("party", PARTY, &t),
        Err(VerifyError::Certificate(CertificateError::NoQuorum {
            power: 20,
            total: 30
        }))
    );
    // All three of three pass.
    t.certificate = Some(hex::encode(encoding::to_bytes(&certify(
        &header, &three, &set3,
    ))));
    check("party", PARTY, &t).expect("3 of 3 verifies");
}

#[test]
fn wrong_or_untrusted_validator_set_fails() {
    let f = fixture();
    let a = f.answer("party", PARTY, 4);
    // A different set (the node's own keys, say) that signs the same header.
    let rogue: Vec<SecretKey> = (50..54).map(|i| SecretKey::from_seed([i; 32])).collect();
    let rogue_set = set_of(&rogue);
    let mut t = a.clone();
    t.validator_set = Some(hex::encode(encoding::to_bytes(&rogue_set)));
    t.certificate = Some(hex::encode(encoding::to_bytes(&certify(
        &f.header, &rogue, &rogue_set,
    ))));
    assert_eq!(
        check("party", PARTY, &t),
        Err(VerifyError::ValidatorSetMismatch {
            expected: f.set.hash(),
            actual: rogue_set.hash()
        })
    );
    // Same powers, one key swapped.
    let mut swapped = f.keys.clone();
    swapped[3] = SecretKey::from_seed([77; 32]);
    let mut t = a.clone();
    t.validator_set = Some(hex::encode(encoding::to_bytes(&set_of(&swapped))));
    assert!(matches!(
        check("party", PARTY, &t),
        Err(VerifyError::ValidatorSetMismatch { .. })
    ));
    // A header whose own set is the rogue one verifies internally, but not against a trusted
    // hash.
    let mut t = f.with_header(&a, |h| h.validator_set_hash = rogue_set.hash());
    let mut rogue_header = f.header.clone();
    rogue_header.validator_set_hash = rogue_set.hash();
    t.validator_set = Some(hex::encode(encoding::to_bytes(&rogue_set)));
    t.certificate = Some(hex::encode(encoding::to_bytes(&certify(
        &rogue_header,
        &rogue,
        &rogue_set,
    ))));
    check("party", PARTY, &t).expect("internally consistent");
    let trusted = Expect {
        validator_set_hash: Some(f.set.hash()),
        ..Expect::default()
    };
    assert!(matches!(
        verify_state_answer("party", PARTY, &t, &trusted, rng()),
        Err(VerifyError::UntrustedValidatorSet { .. })
    ));
    verify_state_answer("party", PARTY, &a, &trusted, rng()).expect("trusted set verifies");
}

#[test]
fn expectations_are_enforced() {
    let f = fixture();
    let a = f.answer("party", PARTY, 3);
    let at2 = Expect {
        height: Some(2),
        ..Expect::default()
    };
    assert_eq!(
        verify_state_answer("party", PARTY, &a, &at2, rng()).map(|_| ()),
        Err(VerifyError::WrongHeight {
            expected: 2,
            got: 1
        })
    );
    let other_chain = Expect {
        chain_id: Some("other".into()),
        ..Expect::default()
    };
    assert!(matches!(
        verify_state_answer("party", PARTY, &a, &other_chain, rng()),
        Err(VerifyError::WrongChain { .. })
    ));
    // Missing proof parts (an answer without proof=true).
    let mut t = a.clone();
    t.proof = None;
    assert_eq!(
        check("party", PARTY, &t),
        Err(VerifyError::Missing("proof"))
    );
}

#[test]
fn header_verifies_alone() {
    let f = fixture();
    let cert = certify(&f.header, &f.keys[1..], &f.set);
    let v = verify_header(
        &encoding::to_bytes(&f.header),
        &encoding::to_bytes(&cert),
        &encoding::to_bytes(&f.set),
        &Expect::default(),
        rng(),
    )
    .expect("verifies");
    assert_eq!(v.hash, f.header.hash());
}

#[test]
fn bad_kinds_and_ids_are_refused() {
    assert!(matches!(
        state_key("parties", "x"),
        Err(VerifyError::UnknownKind(_))
    ));
    assert!(matches!(
        state_key("validators", "next"),
        Err(VerifyError::BadId { .. })
    ));
    assert!(matches!(
        state_key("proposal", "one"),
        Err(VerifyError::BadId { .. })
    ));
    assert!(matches!(
        state_key("nonce", "abcd"),
        Err(VerifyError::BadId { .. })
    ));
    assert_eq!(state_key("raw", "0102").expect("raw"), vec![1, 2]);
}

// ----- transaction log ------------------------------------------------------------------------

fn record(i: u64) -> TxLogRecord {
    TxLogRecord {
        tx_hash: Hash::digest(&i.to_be_bytes()),
        code: if i % 3 == 0 {
            ResultCode::Unauthorised
        } else {
            ResultCode::Ok
        },
        height: 1 + i / 4,
    }
}

fn log_answer(log: &MemoryLog, index: u64) -> TxLogAnswer {
    let r = record(index);
    let proof = log.inclusion_proof(index, log.size()).expect("proof");
    TxLogAnswer {
        index,
        size: log.size(),
        leaf: hex::encode(r.leaf_bytes()),
        record: Some(serde_json::json!({
            "tx_hash": r.tx_hash.to_hex(), "code": r.code.as_str(), "height": r.height
        })),
        proof: proof.hashes.iter().map(Hash::to_hex).collect(),
        root: log.root().to_hex(),
    }
}

fn log_of(n: u64) -> MemoryLog {
    let mut log = MemoryLog::new();
    for i in 0..n {
        log.append(merkle_log::leaf_hash(&record(i).leaf_bytes()));
    }
    log
}

#[test]
fn txlog_inclusion_verifies() {
    let log = log_of(13);
    let mut header = fixture().header;
    header.tx_log_root = log.root();
    header.tx_log_size = log.size();
    for i in 0..13 {
        let a = log_answer(&log, i);
        let v = verify_txlog_answer(&a, Some(i), Some(&header)).expect("verifies");
        assert_eq!(v.record, record(i));
        assert_eq!(v.leaf_hash, merkle_log::leaf_hash(&record(i).leaf_bytes()));
    }
}

#[test]
fn txlog_tampering_fails() {
    let log = log_of(13);
    let a = log_answer(&log, 5);
    // Another leaf.
    let mut t = a.clone();
    let mut r = record(5);
    r.code = ResultCode::Ok;
    r.height += 1;
    t.leaf = hex::encode(r.leaf_bytes());
    t.record = None;
    assert_eq!(
        verify_txlog_answer(&t, Some(5), None),
        Err(VerifyError::Inclusion(
            merkle_log::LogProofError::RootMismatch
        ))
    );
    // A proof hash.
    let mut t = a.clone();
    t.proof[0] = Hash::digest(b"q").to_hex();
    assert!(matches!(
        verify_txlog_answer(&t, Some(5), None),
        Err(VerifyError::Inclusion(_))
    ));
    // Another index than asked.
    assert!(matches!(
        verify_txlog_answer(&a, Some(6), None),
        Err(VerifyError::WrongIndex { .. })
    ));
    // A record JSON that is not the leaf.
    let mut t = a.clone();
    t.record.as_mut().expect("record")["height"] = serde_json::json!(99);
    assert_eq!(
        verify_txlog_answer(&t, Some(5), None),
        Err(VerifyError::RecordMismatch("height"))
    );
    // A header with another log root or size.
    let mut header = fixture().header;
    header.tx_log_root = log.root();
    header.tx_log_size = 12;
    assert!(matches!(
        verify_txlog_answer(&a, Some(5), Some(&header)),
        Err(VerifyError::LogHeaderMismatch { what: "size", .. })
    ));
    header.tx_log_size = 13;
    header.tx_log_root = log_of(12).root();
    assert!(matches!(
        verify_txlog_answer(&a, Some(5), Some(&header)),
        Err(VerifyError::LogHeaderMismatch { what: "root", .. })
    ));
}
