//! Offline bundles: what verifies, and that no byte of a bundle can change without the
//! verification failing; quorum; validator-set changes and retired sets; log proofs.

mod common;

use common::*;
use concordat_client::bundle::{
    verify_bundle, Anchor, AnyBundle, Bundle, BundleError, Claim, CompactClaim, Proven, SetChange,
    SignedHeader, TrustRoot, BUNDLE_VERSION, BUNDLE_VERSION_FULL,
};
use concordat_client::verify::state_key;
use concordat_contracts::executor::TxLogRecord;
use concordat_contracts::ResultCode;
use concordat_primitives::ledger::{Header, ValidatorSet};
use concordat_primitives::merkle_log::MemoryLog;
use concordat_primitives::state::get_with_proof;
use concordat_primitives::{encoding, merkle_log, Hash, SecretKey};

fn genesis_trust(set: &ValidatorSet) -> TrustRoot {
    TrustRoot::Genesis {
        chain_id: CHAIN.into(),
        genesis_hash: Hash::digest(b"genesis"),
        validator_set: set.clone(),
    }
}

fn signed(header: &Header, signers: &[SecretKey], set: &ValidatorSet) -> SignedHeader {
    SignedHeader {
        header: encoding::to_bytes(header),
        certificate: encoding::to_bytes(&certify(header, signers, set)),
    }
}

fn state_claim(f: &Fixture, kind: &str, id: &str) -> Claim {
    let key = state_key(kind, id).expect("key");
    let (value, proof) = get_with_proof(&f.store, &key, 1).expect("proof");
    Claim::State {
        kind: kind.into(),
        id: id.into(),
        key,
        value,
        proof: proof.to_bytes(),
    }
}

fn bundle(f: &Fixture, claim: Claim, signers: usize) -> Bundle {
    Bundle {
        version: BUNDLE_VERSION_FULL,
        anchor: None,
        changes: vec![],
        header: signed(&f.header, &f.keys[..signers], &f.set),
        claim,
    }
}

/// Every single-byte change of `bytes` makes verification fail.
fn every_byte_matters(bytes: &[u8], trust: &TrustRoot) {
    assert!(
        verify_bundle(bytes, trust, rng()).is_ok(),
        "the untouched bundle verifies"
    );
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.to_vec();
            b[i] ^= mask;
            // What decodes is canonical: it encodes back to the same bytes.
            if let Ok(decoded) = AnyBundle::from_bytes(&b) {
                assert_eq!(decoded.to_bytes(), b, "byte {i} (mask {mask:#x})");
            }
            assert!(
                verify_bundle(&b, trust, rng()).is_err(),
                "flipping byte {i} (mask {mask:#x}) of {} still verifies",
                bytes.len()
            );
        }
    }
}

#[test]
fn presence_and_absence_verify_under_the_genesis_set() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    let present = bundle(&f, state_claim(&f, "party", PARTY), 3).to_bytes();
    let v = verify_bundle(&present, &trust, rng()).expect("verifies");
    assert!(
        matches!(&v.proven, Proven::Present { kind, id, .. } if kind == "party" && id == PARTY)
    );
    assert_eq!(
        (v.header.height, v.signing_power, v.total_power),
        (1, 30, 40)
    );
    let absent = bundle(&f, state_claim(&f, "party", ABSENT), 3).to_bytes();
    let v = verify_bundle(&absent, &trust, rng()).expect("verifies");
    assert!(matches!(&v.proven, Proven::Absent { id, .. } if id == ABSENT));
}

#[test]
fn flipping_any_byte_of_a_state_bundle_fails() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    // Every signer signs, so every signature carried is checked, not only a quorum.
    every_byte_matters(
        &bundle(&f, state_claim(&f, "party", PARTY), 4).to_bytes(),
        &trust,
    );
    every_byte_matters(
        &bundle(&f, state_claim(&f, "party", ABSENT), 3).to_bytes(),
        &trust,
    );
}

#[test]
fn two_thirds_or_less_of_the_power_is_refused() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    for signers in [0, 1, 2] {
        let b = bundle(&f, state_claim(&f, "party", PARTY), signers).to_bytes();
        let e = verify_bundle(&b, &trust, rng()).expect_err("no quorum");
        assert!(matches!(e, BundleError::Certificate { .. }), "{e}");
    }
    // A set the trust root does not name is refused whatever its signatures.
    let other = set_of(&keys(5)[1..]);
    let e = verify_bundle(
        &bundle(&f, state_claim(&f, "party", PARTY), 4).to_bytes(),
        &genesis_trust(&other),
        rng(),
    )
    .expect_err("untrusted set");
    assert!(matches!(e, BundleError::NotInForce { .. }), "{e}");
}

/// Two sets: A (keys 1-4) in force at heights 1-5; the header at 5 names B (keys 11-14) as
/// next; B signs from height 6. The state at every height is the fixture's.
struct TwoSets {
    f: Fixture,
    a: (Vec<SecretKey>, ValidatorSet),
    b: (Vec<SecretKey>, ValidatorSet),
}

impl TwoSets {
    fn new() -> TwoSets {
        let f = fixture();
        let a = (f.keys.clone(), f.set.clone());
        let bk: Vec<SecretKey> = (11..=14).map(|i| SecretKey::from_seed([i; 32])).collect();
        let bs = set_of(&bk);
        TwoSets { f, a, b: (bk, bs) }
    }

    fn header(&self, height: u64, set: &ValidatorSet, next: &ValidatorSet) -> Header {
        Header {
            height,
            validator_set_hash: set.hash(),
            next_validator_set_hash: next.hash(),
            ..self.f.header.clone()
        }
    }

    /// The change at height 5 (signed by A, naming B).
    fn change(&self) -> SetChange {
        let h5 = self.header(5, &self.a.1, &self.b.1);
        SetChange {
            signed: signed(&h5, &self.a.0, &self.a.1),
            next_validator_set: encoding::to_bytes(&self.b.1),
        }
    }

    /// A bundle for the party at height 8, signed by `by` and naming `by` as its set.
    fn at_8(
        &self,
        by: &(Vec<SecretKey>, ValidatorSet),
        changes: Vec<SetChange>,
        anchor: Option<Anchor>,
    ) -> Vec<u8> {
        self.at_8_bundle(by, changes, anchor).to_bytes()
    }

    fn at_8_bundle(
        &self,
        by: &(Vec<SecretKey>, ValidatorSet),
        changes: Vec<SetChange>,
        anchor: Option<Anchor>,
    ) -> Bundle {
        let h8 = self.header(8, &by.1, &by.1);
        Bundle {
            version: BUNDLE_VERSION_FULL,
            anchor,
            changes,
            header: signed(&h8, &by.0, &by.1),
            claim: state_claim(&self.f, "party", PARTY),
        }
    }

    fn anchor_5(&self) -> (TrustRoot, Anchor) {
        let h5 = self.header(5, &self.a.1, &self.b.1);
        let trust = TrustRoot::Waypoint {
            height: 5,
            header_hash: h5.hash(),
        };
        let anchor = Anchor {
            header: encoding::to_bytes(&h5),
            next_validator_set: encoding::to_bytes(&self.b.1),
        };
        (trust, anchor)
    }
}

#[test]
fn a_new_set_verifies_only_with_its_change_chain() {
    let t = TwoSets::new();
    let trust = genesis_trust(&t.a.1);
    let with_chain = t.at_8(&t.b, vec![t.change()], None);
    let v = verify_bundle(&with_chain, &trust, rng()).expect("verifies with the chain");
    assert_eq!(
        (v.changes_followed, v.validator_set_hash),
        (1, t.b.1.hash())
    );
    every_byte_matters(&with_chain, &trust);

    let without = t.at_8(&t.b, vec![], None);
    let e = verify_bundle(&without, &trust, rng()).expect_err("no chain");
    assert!(
        matches!(e, BundleError::NotInForce { height: 8, .. }),
        "{e}"
    );

    // The retired set signing a later height is refused, chain or no chain, once the verifier
    // follows the change (here: the chain is in the bundle).
    let retired = t.at_8(&t.a, vec![t.change()], None);
    let e = verify_bundle(&retired, &trust, rng()).expect_err("retired set");
    assert!(
        matches!(e, BundleError::NotInForce { height: 8, .. }),
        "{e}"
    );
}

#[test]
fn a_waypoint_after_the_change_trusts_only_the_new_set() {
    let t = TwoSets::new();
    let (trust, anchor) = t.anchor_5();
    let good = t.at_8(&t.b, vec![], Some(anchor.clone()));
    verify_bundle(&good, &trust, rng()).expect("new set under the waypoint");
    every_byte_matters(&good, &trust);
    // The retired set signs a fork at height 8: refused, it is not in force after the waypoint.
    let fork = t.at_8(&t.a, vec![], Some(anchor.clone()));
    let e = verify_bundle(&fork, &trust, rng()).expect_err("retired");
    assert!(matches!(e, BundleError::NotInForce { .. }), "{e}");
    // A waypoint the anchor is not.
    let wrong = TrustRoot::Waypoint {
        height: 5,
        header_hash: Hash::digest(b"x"),
    };
    assert!(matches!(
        verify_bundle(&good, &wrong, rng()),
        Err(BundleError::Trust(_))
    ));
    // A genesis trust root does not take an anchored bundle, nor a waypoint an unanchored one.
    assert!(matches!(
        verify_bundle(&good, &genesis_trust(&t.a.1), rng()),
        Err(BundleError::Trust(_))
    ));
    let plain = t.at_8(&t.b, vec![t.change()], None);
    assert!(matches!(
        verify_bundle(&plain, &trust, rng()),
        Err(BundleError::Trust(_))
    ));
}

fn log_of(n: u64) -> (MemoryLog, Vec<Vec<u8>>) {
    let mut log = MemoryLog::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let leaf = TxLogRecord {
            tx_hash: Hash::digest(&i.to_be_bytes()),
            code: ResultCode::Ok,
            height: 1 + i / 3,
        }
        .leaf_bytes();
        log.append(merkle_log::leaf_hash(&leaf));
        leaves.push(leaf);
    }
    (log, leaves)
}

#[test]
fn tx_inclusion_and_log_consistency() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    let (tx, consistency) = log_bundles(&f);
    let b = tx.to_bytes();
    let v = verify_bundle(&b, &trust, rng()).expect("included");
    assert!(matches!(v.proven, Proven::Included { index: 5, .. }));
    every_byte_matters(&b, &trust);

    let c = consistency.to_bytes();
    let v = verify_bundle(&c, &trust, rng()).expect("consistent");
    assert!(matches!(
        v.proven,
        Proven::Consistent {
            old_height: 2,
            old_size: 3
        }
    ));
    every_byte_matters(&c, &trust);
}

/// A bundle of log entry 5's inclusion at a header of a 7-entry log (height 4), and one of the
/// consistency of that log with its first 3 entries (height 2), all signers signing.
fn log_bundles(f: &Fixture) -> (Bundle, Bundle) {
    let (log, leaves) = log_of(7);
    let header = Header {
        height: 4,
        tx_log_root: log.root(),
        tx_log_size: 7,
        ..f.header.clone()
    };
    let tx = Bundle {
        version: BUNDLE_VERSION_FULL,
        anchor: None,
        changes: vec![],
        header: signed(&header, &f.keys, &f.set),
        claim: Claim::Tx {
            index: 5,
            leaf: leaves[5].clone(),
            proof: log.inclusion_proof(5, 7).expect("proof").hashes,
        },
    };
    let old = Header {
        height: 2,
        tx_log_root: log.root_at(3).expect("root"),
        tx_log_size: 3,
        ..f.header.clone()
    };
    let consistency = Bundle {
        claim: Claim::Consistency {
            old: signed(&old, &f.keys, &f.set),
            proof: log.consistency_proof(3, 7).expect("proof").hashes,
        },
        ..tx.clone()
    };
    (tx, consistency)
}

#[test]
fn exactly_two_thirds_is_refused_and_more_is_enough() {
    // Three validators of equal power: 2 of 3 is exactly 2/3 and must be refused.
    let f = fixture();
    let keys3: Vec<SecretKey> = f.keys[..3].to_vec();
    let set3 = set_of(&keys3);
    let header = Header {
        validator_set_hash: set3.hash(),
        next_validator_set_hash: set3.hash(),
        ..f.header.clone()
    };
    let trust = genesis_trust(&set3);
    let make = |signers: usize| {
        Bundle {
            version: BUNDLE_VERSION_FULL,
            anchor: None,
            changes: vec![],
            header: signed(&header, &keys3[..signers], &set3),
            claim: state_claim(&f, "party", PARTY),
        }
        .to_bytes()
    };
    let e = verify_bundle(&make(2), &trust, rng()).expect_err("exactly 2/3");
    assert!(matches!(e, BundleError::Certificate { .. }), "{e}");
    verify_bundle(&make(3), &trust, rng()).expect("3 of 3");
}

#[test]
fn ids_must_be_canonical() {
    // An absence proof also proves the absence of neighbouring keys: a USCC with a trailing
    // space, or in lower case, must not read as the absence of the real party.
    let f = fixture();
    let trust = genesis_trust(&f.set);
    for id in [format!("{PARTY} "), PARTY.to_lowercase()] {
        let key = format!("party/{id}").into_bytes();
        let (_, proof) = get_with_proof(&f.store, &key, 1).expect("proof");
        let b = bundle(
            &f,
            Claim::State {
                kind: "party".into(),
                id: id.clone(),
                key,
                value: None,
                proof: proof.to_bytes(),
            },
            3,
        );
        let e = verify_bundle(&b.to_bytes(), &trust, rng()).expect_err("non-canonical id");
        assert!(matches!(e, BundleError::State(_)), "{id:?}: {e}");
    }
}

// The compact form (format version 2, ADR 0026): what the tools write.

fn compact(b: &Bundle) -> Vec<u8> {
    b.to_compact_bytes().expect("the bundle has a compact form")
}

/// The compact form of `b` verifies to what its full form verifies to, and is smaller by at
/// least `saved` bytes.
fn same_verdict_smaller(b: &Bundle, trust: &TrustRoot, saved: usize) -> Vec<u8> {
    let full = b.to_bytes();
    let small = compact(b);
    let mut v_full = verify_bundle(&full, trust, rng()).expect("the full form verifies");
    let v_small = verify_bundle(&small, trust, rng()).expect("the compact form verifies");
    assert_eq!(
        (v_full.format_version, v_small.format_version),
        (BUNDLE_VERSION_FULL, BUNDLE_VERSION)
    );
    v_full.format_version = BUNDLE_VERSION;
    assert_eq!(v_full, v_small, "the two forms prove the same");
    assert!(
        small.len() + saved <= full.len(),
        "compact {} bytes, full {}",
        small.len(),
        full.len()
    );
    // Decoding and encoding again gives the same bytes.
    assert_eq!(
        AnyBundle::from_bytes(&small).expect("decodes").to_bytes(),
        small
    );
    small
}

#[test]
fn the_compact_form_proves_the_same_in_fewer_bytes_and_every_byte_matters() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    // A header (chain id, two set hashes: ~85 bytes) and a certificate (height, block hash:
    // 40) rebuilt, the state key computed (~35) and the membership leaf (64) computed.
    let present = bundle(&f, state_claim(&f, "party", PARTY), 4);
    every_byte_matters(&same_verdict_smaller(&present, &trust, 200), &trust);
    let absent = bundle(&f, state_claim(&f, "party", ABSENT), 3);
    every_byte_matters(&same_verdict_smaller(&absent, &trust, 130), &trust);

    let t = TwoSets::new();
    let chain = t.at_8_bundle(&t.b, vec![t.change()], None);
    every_byte_matters(
        &same_verdict_smaller(&chain, &genesis_trust(&t.a.1), 250),
        &genesis_trust(&t.a.1),
    );
    let (waypoint, anchor) = t.anchor_5();
    let anchored = t.at_8_bundle(&t.b, vec![], Some(anchor));
    every_byte_matters(&same_verdict_smaller(&anchored, &waypoint, 200), &waypoint);

    let (tx, consistency) = log_bundles(&f);
    every_byte_matters(&same_verdict_smaller(&tx, &trust, 100), &trust);
    every_byte_matters(&same_verdict_smaller(&consistency, &trust, 200), &trust);
}

#[test]
fn a_compact_header_is_checked_against_the_set_in_force() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    for signers in [0, 1, 2] {
        let b = compact(&bundle(&f, state_claim(&f, "party", PARTY), signers));
        let e = verify_bundle(&b, &trust, rng()).expect_err("no quorum");
        assert!(matches!(e, BundleError::CompactCertificate { .. }), "{e}");
    }
    let other = set_of(&keys(5)[1..]);
    let b = compact(&bundle(&f, state_claim(&f, "party", PARTY), 4));
    let e = verify_bundle(&b, &genesis_trust(&other), rng()).expect_err("untrusted set");
    assert!(matches!(e, BundleError::CompactCertificate { .. }), "{e}");

    // A change left out, and the retired set signing after it: the header is rebuilt with the
    // set the verifier holds, which did not sign it (or is not in force).
    let t = TwoSets::new();
    let trust = genesis_trust(&t.a.1);
    let without = compact(&t.at_8_bundle(&t.b, vec![], None));
    let e = verify_bundle(&without, &trust, rng()).expect_err("no chain");
    assert!(
        matches!(&e, BundleError::CompactCertificate { rebuilt, .. } if rebuilt.height == 8 && rebuilt.in_force == t.a.1.hash()),
        "{e}"
    );
    assert!(
        e.to_string().contains("a validator-set change missing"),
        "{e}"
    );
    let retired = compact(&t.at_8_bundle(&t.a, vec![t.change()], None));
    let e = verify_bundle(&retired, &trust, rng()).expect_err("retired set");
    assert!(
        matches!(&e, BundleError::CompactCertificate { rebuilt, .. } if rebuilt.height == 8 && rebuilt.in_force == t.b.1.hash()),
        "{e}"
    );
    let (waypoint, anchor) = t.anchor_5();
    let fork = compact(&t.at_8_bundle(&t.a, vec![], Some(anchor)));
    assert!(matches!(
        verify_bundle(&fork, &waypoint, rng()),
        Err(BundleError::CompactCertificate { .. })
    ));
}

#[test]
fn the_compact_form_has_one_encoding() {
    let f = fixture();
    let trust = genesis_trust(&f.set);
    let full = bundle(&f, state_claim(&f, "party", PARTY), 3);
    let good = full.compact().expect("compact");
    verify_bundle(&good.to_bytes(), &trust, rng()).expect("verifies");

    // The next set written out when it is the set in force.
    let mut b = good.clone();
    b.header.next_validator_set_hash = Some(f.set.hash());
    let e = verify_bundle(&b.to_bytes(), &trust, rng()).expect_err("next written out");
    assert!(matches!(e, BundleError::NonCanonical { .. }), "{e}");

    // A membership proof that keeps its leaf.
    let mut b = good.clone();
    let Claim::State { proof, .. } = &full.claim else {
        unreachable!("a state claim")
    };
    let CompactClaim::State { proof: p, .. } = &mut b.claim else {
        unreachable!("a state claim")
    };
    p.clone_from(proof);
    let e = verify_bundle(&b.to_bytes(), &trust, rng()).expect_err("leaf kept");
    assert!(matches!(e, BundleError::NonCanonical { .. }), "{e}");

    // Version numbers: the compact layout under version 1 does not decode as a full bundle;
    // other versions are refused by number.
    let mut b = good.clone();
    b.version = BUNDLE_VERSION_FULL;
    assert!(matches!(
        verify_bundle(&b.to_bytes(), &trust, rng()),
        Err(BundleError::Decode(_))
    ));
    b.version = 3;
    assert_eq!(
        verify_bundle(&b.to_bytes(), &trust, rng()).expect_err("v3"),
        BundleError::Version(3)
    );
    let mut v1 = full.to_bytes();
    v1[0] = 2;
    assert!(verify_bundle(&v1, &trust, rng()).is_err());

    // A bundle whose membership proof is not for its value has no compact form.
    let mut wrong = full.clone();
    if let Claim::State { value, .. } = &mut wrong.claim {
        value.as_mut().expect("present")[0] ^= 1;
    }
    assert!(matches!(wrong.compact(), Err(BundleError::Mismatch { .. })));
}
