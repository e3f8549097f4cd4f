//! Electronic seals and seal signatures (record kind I, GB/T 38540) and rule R9: a signature is
//! judged as of its signing time.
//!
//! # Seal state machine
//! | From | To | Call | Who |
//! |---|---|---|---|
//! | — | ACTIVE | `Register` | SEAL_REGISTRY (owner EXISTING, R2) |
//! | ACTIVE | SUSPENDED (挂失) | `Suspend` | SEAL_REGISTRY, or the owner (ENTERPRISE) |
//! | SUSPENDED | ACTIVE | `Reactivate` | SEAL_REGISTRY |
//! | ACTIVE, SUSPENDED | REVOKED | `Revoke` | SEAL_REGISTRY; also the R2 cascade |
//! | ACTIVE, SUSPENDED | EXPIRED | `Expire` | anyone, once the block time is past `valid_end_ms` |
//!
//! Every change is appended to `history` (block time, status), which is what R9 reads.
//!
//! # Signatures (R9)
//! `RecordSignature` stores a signature with the ledger's judgement of it, made when it is
//! recorded (the recording block time bounds the signing time, as a time stamp would). The
//! steps follow GB/T 38540's verification sequence, mapped onto ledger records:
//! 1. FORMAT: the seal exists; key and signature parse for the seal's algorithm; not dated
//!    after the block time (plus [`MAX_CLOCK_SKEW_MS`]).
//! 2. SIGNATURE: Ed25519 (the one rule) or SM2 with SM3 (distinguishing id
//!    [`SM2_DIST_ID`]) over [`signature_message`].
//! 3. SIGNER_IN_SEAL: the key is one of the seal's signer keys.
//! 7. TIMESTAMP: a TSA token, if present, is by a registered TSA and verifies; its time is the
//!    signing time. Without one, `time_info_ms` stands in when the policy allows it, otherwise
//!    the result is INDETERMINATE.
//! 4. SEAL_VALIDITY / SEAL_STATUS: the signing time is within the seal's validity and the seal
//!    was ACTIVE then (INVALID otherwise). With no TSA time, a seal that stopped being ACTIVE
//!    between the claimed time and the recording gives INDETERMINATE: the claim cannot be
//!    trusted.
//! 5. SIGNER_KEY_VALIDITY: the signing time is within the signer key's validity.
//! 6. DOCUMENT_HASH: the ledger never holds the document; whoever holds it compares its hash
//!    with `doc_hash`. The verification record says so.
//!
//! A judgement is never revised: a seal suspended later leaves earlier VALID signatures VALID.

mod calls;
mod record;
mod signatures;

pub use calls::*;
pub use record::*;
pub use signatures::*;
