//! Commit certificates: quorum, shape and every signature checked.

use concordat_consensus::{CertificateError, CommitCertificate};
use concordat_primitives::encoding::{from_bytes, to_bytes};
use concordat_tests::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(3)
}

#[test]
fn a_valid_certificate_verifies() {
    let c = certificate();
    let h = header();
    assert_eq!(
        c.verify(CHAIN_ID, &validator_set(), 1, &h.hash(), rng()),
        Ok(30)
    );
    // Wrong chain id: the votes sign the chain id.
    assert!(matches!(
        c.verify("other-chain", &validator_set(), 1, &h.hash(), rng()),
        Err(CertificateError::BadSignature(_))
    ));
    // Wrong block or height.
    assert!(matches!(
        c.verify(CHAIN_ID, &validator_set(), 2, &h.hash(), rng()),
        Err(CertificateError::WrongBlock { .. })
    ));
}

#[test]
fn two_thirds_or_less_is_refused() {
    let h = header();
    let set = validator_set();
    let msg = certificate().vote().signing_bytes(CHAIN_ID);
    let sigs: Vec<_> = [101u8, 102]
        .iter()
        .map(|i| (key(*i).public_key(), key(*i).sign(&msg)))
        .collect();
    let c = CommitCertificate::from_signatures(&set, 1, 0, h.hash(), &sigs).expect("members");
    assert_eq!(
        c.verify(CHAIN_ID, &set, 1, &h.hash(), rng()),
        Err(CertificateError::NoQuorum {
            power: 20,
            total: 40
        })
    );
}

#[test]
fn flipping_any_byte_of_the_certificate_is_refused() {
    let c = certificate();
    let h = header();
    let bytes = to_bytes(&c);
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(bad) = from_bytes::<CommitCertificate>(&b) {
            assert!(
                bad.verify(CHAIN_ID, &validator_set(), 1, &h.hash(), rng())
                    .is_err(),
                "byte {i} flipped still verifies"
            );
        }
    }
}

#[test]
fn outsiders_and_duplicates_cannot_be_built_in() {
    let h = header();
    let set = validator_set();
    let msg = certificate().vote().signing_bytes(CHAIN_ID);
    let outsider = vec![(key(9).public_key(), key(9).sign(&msg))];
    assert!(CommitCertificate::from_signatures(&set, 1, 0, h.hash(), &outsider).is_err());
    let twice = vec![(key(101).public_key(), key(101).sign(&msg)); 2];
    assert!(CommitCertificate::from_signatures(&set, 1, 0, h.hash(), &twice).is_err());
    // A bitmap with a bit beyond the set is refused.
    let mut c = certificate();
    c.signers[0] |= 0x80;
    c.signatures.push(c.signatures[0]);
    assert!(matches!(
        c.verify(CHAIN_ID, &set, 1, &h.hash(), rng()),
        Err(CertificateError::BadBitmap(4))
    ));
}
