//! Golden fixtures: the bytes and hashes of consensus-critical formats must never drift.
//!
//! The expected values live in `tests/fixtures/golden.json`. If a format change is deliberate,
//! regenerate with `CONCORDAT_BLESS=1 cargo test -p concordat-tests --test golden` and review
//! the diff: that is a protocol change.

use std::collections::BTreeMap;

use concordat_consensus::CommitCertificate;
use concordat_contracts::SignedTransaction;
use concordat_primitives::encoding::{from_bytes, to_bytes};
use concordat_primitives::ledger::Header;
use concordat_tests::*;

fn actual() -> BTreeMap<String, String> {
    let tx = transaction();
    let header = header();
    let cert = certificate();
    let genesis = genesis();
    let mut m = BTreeMap::new();
    m.insert(
        "tx.signing_bytes".into(),
        hex::encode(tx.tx.signing_bytes()),
    );
    m.insert("tx.bytes".into(), hex::encode(tx.to_bytes()));
    m.insert("tx.hash".into(), tx.hash().to_hex());
    m.insert("header.bytes".into(), hex::encode(to_bytes(&header)));
    m.insert("header.hash".into(), header.hash().to_hex());
    m.insert("block.bytes".into(), hex::encode(block().to_bytes()));
    m.insert("certificate.bytes".into(), hex::encode(to_bytes(&cert)));
    m.insert(
        "vote.signing_bytes".into(),
        hex::encode(cert.vote().signing_bytes(CHAIN_ID)),
    );
    m.insert("validator_set.hash".into(), validator_set().hash().to_hex());
    m.insert(
        "genesis.bytes_sha256".into(),
        concordat_primitives::Hash::digest(&genesis.to_bytes()).to_hex(),
    );
    m.insert("genesis.hash".into(), genesis.hash().to_hex());
    m.insert("gov_batch_call.bytes".into(), hex::encode(gov_batch_call()));
    m.insert(
        "genesis.state_root".into(),
        genesis.state_root().expect("valid").to_hex(),
    );
    m
}

/// A governance proposal of two actions (ADR 0022): appended to the call encoding, so every
/// earlier call encodes as before.
fn gov_batch_call() -> Vec<u8> {
    use concordat_contracts::governance::{GovAction, GovCall, ValidatorEntry};
    use concordat_contracts::ids::Uscc;
    let uscc = Uscc::parse("11120000MB02T9J49M").expect("uscc");
    let key = concordat_primitives::SecretKey::from_seed([5; 32]).public_key();
    let call = concordat_contracts::Call::Governance(GovCall::Propose {
        action: GovAction::Batch {
            actions: vec![
                GovAction::SetPolicyOwner { uscc: uscc.clone() },
                GovAction::SetValidators {
                    validators: vec![ValidatorEntry {
                        key,
                        power: 3,
                        department: uscc,
                    }],
                },
            ],
        },
        expires_at_height: 5000,
    });
    to_bytes(&call)
}

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/golden.json");

#[test]
fn formats_match_the_golden_fixtures() {
    let actual = actual();
    if std::env::var("CONCORDAT_BLESS").is_ok() {
        let text = serde_json::to_string_pretty(&actual).expect("json") + "\n";
        std::fs::write(PATH, text).expect("write fixtures");
        return;
    }
    let text = std::fs::read_to_string(PATH).expect("fixtures present");
    let expected: BTreeMap<String, String> = serde_json::from_str(&text).expect("fixture json");
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>()
    );
    for (name, want) in &expected {
        assert_eq!(
            &actual[name], want,
            "golden fixture {name} drifted: this is a protocol change"
        );
    }
}

#[test]
fn pinned_bytes_decode_and_re_encode_identically() {
    let text = std::fs::read_to_string(PATH).expect("fixtures present");
    let expected: BTreeMap<String, String> = serde_json::from_str(&text).expect("fixture json");
    let tx_bytes = hex::decode(&expected["tx.bytes"]).expect("hex");
    let tx = SignedTransaction::from_bytes(&tx_bytes).expect("decodes");
    assert_eq!(tx.to_bytes(), tx_bytes);
    assert!(tx.verify_signature().is_ok());
    let h_bytes = hex::decode(&expected["header.bytes"]).expect("hex");
    let h: Header = from_bytes(&h_bytes).expect("decodes");
    assert_eq!(to_bytes(&h), h_bytes);
    let b_bytes = hex::decode(&expected["block.bytes"]).expect("hex");
    let b = concordat_contracts::block::Block::from_bytes(&b_bytes).expect("decodes");
    assert_eq!(b.to_bytes(), b_bytes);
    assert_eq!(b.hash(), h.hash());
    let c_bytes = hex::decode(&expected["certificate.bytes"]).expect("hex");
    let c: CommitCertificate = from_bytes(&c_bytes).expect("decodes");
    assert_eq!(to_bytes(&c), c_bytes);
    let mut rng = rand::thread_rng();
    let power = c
        .verify(CHAIN_ID, &validator_set(), 1, &h.hash(), &mut rng)
        .expect("verifies");
    assert_eq!(power, 30);
}

#[test]
fn a_block_whose_txs_do_not_match_its_root_is_refused() {
    let mut b = block();
    b.txs.push(transaction());
    assert!(matches!(
        concordat_contracts::block::Block::from_bytes(&b.to_bytes()),
        Err(concordat_contracts::block::BlockError::TxsRootMismatch { .. })
    ));
    b.txs.clear();
    assert!(b.check_shape().is_err());
}

/// Bundles handed out earlier (tests/fixtures/bundles, made by the scenario test with
/// `CONCORDAT_WRITE_BUNDLE_FIXTURES=1`, format version 1) still verify, against the genesis they
/// were made on, to the verdict they gave when made: the same proof result, height and decoded
/// record. A change of a stored record's format or of the bundle format shows here. Their
/// compact forms (format version 2, ADR 0026) are golden too (tests/fixtures/bundles/v2): the
/// conversion must give the same bytes (rewritten with `CONCORDAT_WRITE_BUNDLE_FIXTURES=1`), and
/// they verify to the same verdict.
#[test]
fn bundles_handed_out_earlier_still_verify_to_the_same_verdict() {
    use concordat_client::bundle::{Bundle, BUNDLE_VERSION, BUNDLE_VERSION_FULL};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles");
    let v2 = dir.join("v2");
    let genesis = dir.join("genesis.json");
    let write = std::env::var_os("CONCORDAT_WRITE_BUNDLE_FIXTURES").is_some();
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/bundles")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bundle"))
        .collect();
    entries.sort();
    for bundle in entries {
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(bundle.with_extension("verdict.json")).expect("verdict"),
        )
        .expect("verdict json");
        let full = std::fs::read(&bundle).expect("bundle");
        let compact = Bundle::from_bytes(&full)
            .expect("a version 1 bundle")
            .to_compact_bytes()
            .expect("its compact form");
        let compact_file = v2.join(bundle.file_name().expect("name"));
        if write {
            std::fs::create_dir_all(&v2).expect("v2 dir");
            std::fs::write(&compact_file, &compact).expect("write v2");
        }
        assert_eq!(
            std::fs::read(&compact_file).expect("the v2 fixture"),
            compact,
            "{}: the compact form changed",
            compact_file.display()
        );
        assert!(compact.len() < full.len());
        for (file, version) in [
            (&bundle, BUNDLE_VERSION_FULL),
            (&compact_file, BUNDLE_VERSION),
        ] {
            let (ok, got) = concordat_tests::net::concordat_json(&[
                "verify",
                "--trust",
                genesis.to_str().expect("utf-8"),
                file.to_str().expect("utf-8"),
            ]);
            assert!(ok, "{}: {got}", file.display());
            assert_eq!(got["bundle_format_version"], version, "{}", file.display());
            for field in [
                "valid",
                "proven",
                "subject",
                "height",
                "header_hash",
                "state_root",
                "value",
            ] {
                assert_eq!(
                    got[field],
                    expected[field],
                    "{}: {field} differs",
                    file.display()
                );
            }
        }
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} golden bundles");
}
