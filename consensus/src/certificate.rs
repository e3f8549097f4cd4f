//! Compact commit certificates: a signer bitmap plus the precommit signatures, in validator
//! order, over the canonical vote bytes.
//!
//! Size: `ceil(n / 8)` bitmap bytes plus 64 bytes per signer. Verification checks the shape
//! (bitmap length, no stray bits, one signature per set bit, limits), that the signers hold
//! strictly more than 2/3 of the set's voting power, and every carried signature (batched,
//! same rule as single verification).

use concordat_primitives::crypto::{verify_batch, BatchItem};
use concordat_primitives::ledger::{ValidatorSet, MAX_VALIDATORS};
use concordat_primitives::{Hash, PublicKey, Signature};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::vote::{Vote, VoteKind};

/// A commit certificate for one block.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CommitCertificate {
    /// Height of the block.
    pub height: u64,
    /// Round in which it was committed.
    pub round: u32,
    /// Header hash of the block.
    pub block_hash: Hash,
    /// Bit `i` (byte `i / 8`, bit `i % 8`, least significant first) is set iff validator `i`
    /// (canonical order) signed.
    pub signers: Vec<u8>,
    /// One precommit signature per set bit, in validator order.
    pub signatures: Vec<Signature>,
}

/// Why a certificate is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    /// Certificate for another height or block than expected.
    #[error("certificate is for height {got_height} block {got_block}, expected height {height} block {block}")]
    WrongBlock {
        /// Expected height.
        height: u64,
        /// Expected block.
        block: Hash,
        /// Certificate height.
        got_height: u64,
        /// Certificate block.
        got_block: Hash,
    },
    /// Bitmap length does not match the set size, or bits beyond the set are set.
    #[error("signer bitmap does not fit a set of {0} validators")]
    BadBitmap(usize),
    /// Number of signatures differs from the number of set bits.
    #[error("{signatures} signatures for {signers} signers")]
    CountMismatch {
        /// Signatures carried.
        signatures: usize,
        /// Bits set.
        signers: usize,
    },
    /// Signers hold 2/3 or less of the power.
    #[error("signers hold {power} of {total} voting power, which is not more than 2/3")]
    NoQuorum {
        /// Signing power.
        power: u64,
        /// Total power.
        total: u64,
    },
    /// A signature does not verify.
    #[error("invalid signature from validator(s) {0:?}")]
    BadSignature(Vec<PublicKey>),
    /// A validator signed twice while building.
    #[error("validator {0} is not in the set or signed twice")]
    UnknownOrDuplicateSigner(PublicKey),
}

impl CommitCertificate {
    /// The precommit every signer signed.
    pub fn vote(&self) -> Vote {
        Vote {
            kind: VoteKind::Precommit,
            height: self.height,
            round: self.round,
            block_hash: Some(self.block_hash),
        }
    }

    /// Builds a certificate from `(validator, signature)` pairs (signatures are not checked
    /// here; [`CommitCertificate::verify`] checks them).
    pub fn from_signatures(
        set: &ValidatorSet,
        height: u64,
        round: u32,
        block_hash: Hash,
        sigs: &[(PublicKey, Signature)],
    ) -> Result<CommitCertificate, CertificateError> {
        let mut slots: Vec<Option<Signature>> = vec![None; set.len()];
        for (key, sig) in sigs {
            let i = set
                .index_of(key)
                .ok_or(CertificateError::UnknownOrDuplicateSigner(*key))?;
            if slots[i].replace(*sig).is_some() {
                return Err(CertificateError::UnknownOrDuplicateSigner(*key));
            }
        }
        let mut signers = vec![0u8; set.len().div_ceil(8)];
        let mut signatures = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            if let Some(sig) = slot {
                signers[i / 8] |= 1 << (i % 8);
                signatures.push(*sig);
            }
        }
        Ok(CommitCertificate {
            height,
            round,
            block_hash,
            signers,
            signatures,
        })
    }

    /// The validators that signed, in canonical order.
    pub fn signer_keys(&self, set: &ValidatorSet) -> Result<Vec<PublicKey>, CertificateError> {
        let n = set.len();
        if self.signers.len() != n.div_ceil(8) || n > MAX_VALIDATORS {
            return Err(CertificateError::BadBitmap(n));
        }
        let mut keys = Vec::new();
        for (byte_i, byte) in self.signers.iter().enumerate() {
            for bit in 0..8 {
                if byte & (1 << bit) != 0 {
                    let i = byte_i * 8 + bit;
                    let v = set
                        .validators()
                        .get(i)
                        .ok_or(CertificateError::BadBitmap(n))?;
                    keys.push(v.key);
                }
            }
        }
        Ok(keys)
    }

    /// Checks this certificate commits `block_hash` at `height` under `set` on `chain_id`.
    /// Returns the signing power.
    pub fn verify<R: RngCore + CryptoRng>(
        &self,
        chain_id: &str,
        set: &ValidatorSet,
        height: u64,
        block_hash: &Hash,
        rng: R,
    ) -> Result<u64, CertificateError> {
        if self.height != height || &self.block_hash != block_hash {
            return Err(CertificateError::WrongBlock {
                height,
                block: *block_hash,
                got_height: self.height,
                got_block: self.block_hash,
            });
        }
        let keys = self.signer_keys(set)?;
        if keys.len() != self.signatures.len() {
            return Err(CertificateError::CountMismatch {
                signatures: self.signatures.len(),
                signers: keys.len(),
            });
        }
        let mut power: u64 = 0;
        for k in &keys {
            let i = set
                .index_of(k)
                .ok_or(CertificateError::UnknownOrDuplicateSigner(*k))?;
            power = power.saturating_add(set.validators()[i].power);
        }
        if !set.is_quorum(power) {
            return Err(CertificateError::NoQuorum {
                power,
                total: set.total_power(),
            });
        }
        let msg = self.vote().signing_bytes(chain_id);
        let items: Vec<BatchItem<'_>> = keys
            .iter()
            .zip(&self.signatures)
            .map(|(k, s)| (*k.as_bytes(), &msg[..], s.0))
            .collect();
        verify_batch(&items, rng).map_err(|bad| {
            CertificateError::BadSignature(bad.into_iter().map(|i| keys[i]).collect())
        })?;
        Ok(power)
    }
}
