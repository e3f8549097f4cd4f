//! Ed25519 keys and the ONE signature verification rule.
//!
//! Every consensus-critical path verifies with [`verify`] or [`verify_batch`], which both apply
//! ZIP-215 (via `ed25519-consensus`): canonical `S`, the cofactored equation, non-canonical and
//! small-order `R`/`A` encodings accepted *by the equation*. Because the single and the batch
//! rule are the same equation, two nodes can never disagree on a signature, whichever path they
//! take. Separately, [`PublicKey`] refuses small-order and non-canonical key encodings, so no
//! weak key is ever admitted as a signer (tests pin both with edge-case vectors).

use core::fmt;

use curve25519_dalek_ng::edwards::CompressedEdwardsY;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::hex_bytes;

/// Why a key or signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum CryptoError {
    /// Wrong length or not hex.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which item.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// The bytes are not a point on the curve, or are not its canonical encoding.
    #[error("public key is not a canonical curve point")]
    NotCanonicalPoint,
    /// The key has small order (it would let one signature verify for many messages).
    #[error("public key has small order and is refused")]
    SmallOrderKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
}

/// A validated ed25519 public key: canonical encoding, not of small order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Validates and wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<PublicKey, CryptoError> {
        let point = CompressedEdwardsY(bytes)
            .decompress()
            .ok_or(CryptoError::NotCanonicalPoint)?;
        if point.compress().to_bytes() != bytes {
            return Err(CryptoError::NotCanonicalPoint);
        }
        if point.is_small_order() {
            return Err(CryptoError::SmallOrderKey);
        }
        Ok(PublicKey(bytes))
    }

    /// Parses 64 hex characters and validates.
    pub fn from_hex(s: &str) -> Result<PublicKey, CryptoError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| CryptoError::Malformed {
            what: "public key",
            detail: "expected 64 hex characters".into(),
        })?;
        PublicKey::from_bytes(out)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Verifies `sig` over `msg` with the one rule ([`verify`]).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        if verify(&self.0, msg, &sig.0) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        hex_bytes::serialize("PublicKey", &self.0, s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: [u8; 32] = hex_bytes::deserialize("PublicKey", d)?;
        PublicKey::from_bytes(bytes).map_err(serde::de::Error::custom)
    }
}

/// An ed25519 signature (R || S), 64 bytes. Any 64 bytes decode; validity is decided by
/// [`verify`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 128 hex characters.
    pub fn from_hex(s: &str) -> Result<Signature, CryptoError> {
        let mut out = [0u8; 64];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| CryptoError::Malformed {
            what: "signature",
            detail: "expected 128 hex characters".into(),
        })?;
        Ok(Signature(out))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        hex_bytes::serialize("Signature", &self.0, s)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Signature(hex_bytes::deserialize("Signature", d)?))
    }
}

/// An ed25519 signing key. Its `Debug` never prints the secret.
#[derive(Clone)]
pub struct SecretKey(ed25519_consensus::SigningKey);

impl SecretKey {
    /// A fresh key from the caller's cryptographic RNG.
    pub fn generate<R: RngCore + CryptoRng>(rng: R) -> SecretKey {
        SecretKey(ed25519_consensus::SigningKey::new(rng))
    }

    /// The key with this 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(ed25519_consensus::SigningKey::from(seed))
    }

    /// The 32-byte seed (secret!).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        // A key derived from a secret scalar is a canonical encoding of a point of the prime-
        // order subgroup, so it passes `PublicKey::from_bytes` by construction (a test checks
        // many); skipping the check here saves a point decompression and compression on every
        // call (it was a tenth of the simulation's time).
        PublicKey(self.0.verification_key().to_bytes())
    }

    /// Signs raw bytes. Callers sign [`crate::namespace::signing_bytes`], never bare payloads.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={})", self.public_key().to_hex())
    }
}

/// THE verification rule (ZIP-215): true iff `sig` is valid for `msg` under `key`.
///
/// Takes raw key bytes so that the rule itself can be tested on keys that [`PublicKey`]
/// refuses; admission refuses those keys separately.
pub fn verify(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Ok(vk) = ed25519_consensus::VerificationKey::try_from(*key) else {
        return false;
    };
    vk.verify(&ed25519_consensus::Signature::from(*sig), msg)
        .is_ok()
}

/// One item of a batch: key bytes, message, signature.
pub type BatchItem<'a> = ([u8; 32], &'a [u8], [u8; 64]);

/// Verifies many signatures at once with the same rule as [`verify`].
///
/// Returns `Ok(())` when all hold, or the indices of every invalid item (found by falling back
/// to [`verify`] one by one, which gives the same answers because the rule is the same).
///
/// With the `single-verify` feature (the browser verifier, where a certificate holds a few
/// signatures and code size matters more than speed) every item is checked with [`verify`]
/// alone; the answers are the same, the batch code is left out.
pub fn verify_batch<R: RngCore + CryptoRng>(
    items: &[BatchItem<'_>],
    rng: R,
) -> Result<(), Vec<usize>> {
    if cfg!(feature = "single-verify") {
        let failed = failed_singly(items);
        return if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        };
    }
    let mut batch = ed25519_consensus::batch::Verifier::new();
    let mut malformed = Vec::new();
    for (i, (key, msg, sig)) in items.iter().enumerate() {
        match ed25519_consensus::VerificationKeyBytes::try_from(&key[..]) {
            Ok(vk) => batch.queue((vk, ed25519_consensus::Signature::from(*sig), msg)),
            Err(_) => malformed.push(i),
        }
    }
    if malformed.is_empty() && batch.verify(rng).is_ok() {
        return Ok(());
    }
    let failed = failed_singly(items);
    if failed.is_empty() {
        // The batch equation failed while every single check passed: impossible under one
        // rule, so it is a bug, never a value judgement to paper over.
        unreachable!("batch and single verification disagree");
    }
    Err(failed)
}

/// The indices of the items [`verify`] refuses.
fn failed_singly(items: &[BatchItem<'_>]) -> Vec<usize> {
    items
        .iter()
        .enumerate()
        .filter(|(_, (k, m, s))| !verify(k, m, s))
        .map(|(i, _)| i)
        .collect()
}

pub use crate::keyfile::KeyFile;
