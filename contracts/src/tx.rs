//! The transaction envelope and its canonical bytes, hash and signature.
//!
//! A [`Transaction`] names the chain, the signer, the signer's nonce, the last height at which it
//! may be included, and one module [`Call`]. The signer signs
//! `signing_bytes(TX, chain_id, BCS(transaction))`; the transaction hash is
//! `tagged_hash(TXID, BCS(signed transaction))`.

use concordat_primitives::crypto::CryptoError;
use concordat_primitives::encoding::{self, DecodeError};
use concordat_primitives::{namespace, Hash, PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};

use crate::commitment::CommitmentCall;
use crate::credential::CredentialCall;
use crate::credit::CreditCall;
use crate::customs::CustomsCall;
use crate::filing::FilingCall;
use crate::governance::GovCall;
use crate::inspection::InspectionCall;
use crate::licence::LicenceCall;
use crate::logistics::LogisticsCall;
use crate::party::PartyCall;
use crate::policy::PolicyCall;
use crate::procurement::ProcurementCall;
use crate::recognition::RecognitionCall;
use crate::seal::SealCall;
use crate::sharing::SharingCall;

/// The largest encoded signed transaction accepted anywhere (64 KiB).
pub const MAX_TX_BYTES: usize = 64 * 1024;

/// One call into a contract module.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Governance: proposals and approvals.
    Governance(GovCall),
    /// The party registry.
    Party(PartyCall),
    /// The policy record.
    Policy(PolicyCall),
    /// Licences.
    Licence(LicenceCall),
    /// Commitments.
    Commitment(CommitmentCall),
    /// Electronic seals and seal signatures.
    Seal(SealCall),
    /// Mutual recognition.
    Recognition(RecognitionCall),
    /// Paperless filings.
    Filing(FilingCall),
    /// Credit: dishonesty records, evaluations, red and black lists.
    Credit(CreditCall),
    /// Procurement bids.
    Procurement(ProcurementCall),
    /// Double-random inspections.
    Inspection(InspectionCall),
    /// Customs declarations.
    Customs(CustomsCall),
    /// Read points and EPCIS logistics events.
    Logistics(LogisticsCall),
    /// Data-sharing authorisations and access requests.
    Sharing(SharingCall),
    /// Credentials held by persons.
    Credential(CredentialCall),
}

impl Call {
    /// The module's checks that need no state (identifiers, codes, dates, text and list
    /// limits). The node runs them at admission, so a call failing them is refused with a 4xx
    /// and never reaches a block; the executor runs them again before the call (a proposer
    /// may include anything); the client runs them before signing. Only rules that need the
    /// state may fail inside a block.
    pub fn precheck(&self) -> Result<(), crate::error::ExecError> {
        match self {
            Call::Governance(c) => c.precheck(),
            Call::Party(c) => c.precheck(),
            Call::Policy(c) => c.precheck(),
            Call::Licence(c) => c.precheck(),
            Call::Commitment(c) => c.precheck(),
            Call::Seal(c) => c.precheck(),
            Call::Recognition(c) => c.precheck(),
            Call::Filing(c) => c.precheck(),
            Call::Credit(c) => c.precheck(),
            Call::Procurement(c) => c.precheck(),
            Call::Inspection(c) => c.precheck(),
            Call::Customs(c) => c.precheck(),
            Call::Logistics(c) => c.precheck(),
            Call::Sharing(c) => c.precheck(),
            Call::Credential(c) => c.precheck(),
        }
    }
}

/// An unsigned transaction.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The chain this transaction is for.
    pub chain_id: String,
    /// The signing key (a department member key).
    pub signer: PublicKey,
    /// The signer's next nonce (starts at 0, +1 per included transaction).
    pub nonce: u64,
    /// Last block height at which the transaction may be included.
    pub expiry_height: u64,
    /// What to do.
    pub call: Call,
}

impl Transaction {
    /// The bytes the signer signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        namespace::signing_bytes(namespace::TX, &self.chain_id, &encoding::to_bytes(self))
    }

    /// Signs with `key` (which must be the `signer`).
    ///
    /// # Panics
    /// If `key` is not the signer's key: signing for someone else is a caller bug.
    pub fn sign(self, key: &SecretKey) -> SignedTransaction {
        assert_eq!(
            key.public_key(),
            self.signer,
            "signing key is not the transaction's signer"
        );
        let signature = key.sign(&self.signing_bytes());
        SignedTransaction {
            tx: self,
            signature,
        }
    }
}

/// A transaction with its signature.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// ed25519 signature by `tx.signer` over [`Transaction::signing_bytes`].
    pub signature: Signature,
}

impl SignedTransaction {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// Decodes canonical bytes of at most [`MAX_TX_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTransaction, DecodeError> {
        encoding::from_bytes_limited(bytes, MAX_TX_BYTES)
    }

    /// The transaction hash.
    pub fn hash(&self) -> Hash {
        namespace::tagged_hash(namespace::TX_HASH, &self.to_bytes())
    }

    /// Verifies the signature with the one rule.
    pub fn verify_signature(&self) -> Result<(), CryptoError> {
        self.tx
            .signer
            .verify(&self.tx.signing_bytes(), &self.signature)
    }
}
