//! Stable result codes and the execution error type.
//!
//! The numeric code of a result is part of the transaction-log record (consensus-critical); the
//! message is for people and may be reworded.

use serde::{Deserialize, Serialize};

/// The outcome class of a transaction. Numbers and names are stable.
///
/// One spelling everywhere: the JSON form is [`ResultCode::as_str`] (the canonical BCS form is
/// the variant's position, which the names do not touch).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[repr(u16)]
pub enum ResultCode {
    /// Executed and applied.
    Ok = 0,
    /// `chain_id` is not this chain's.
    WrongChain = 1,
    /// The block height is past the transaction's `expiry_height`.
    Expired = 2,
    /// The nonce is not the signer's next nonce.
    BadNonce = 3,
    /// The signer is not a member key of any department.
    UnknownSigner = 4,
    /// The signer's department lacks the role the call requires.
    Unauthorised = 10,
    /// An argument is malformed or out of its limits.
    InvalidArgument = 11,
    /// The record does not exist.
    NotFound = 12,
    /// The record already exists.
    AlreadyExists = 13,
    /// The record's state machine forbids the transition.
    InvalidTransition = 14,
    /// An identifier (USCC, region code...) fails validation.
    BadIdentifier = 15,
    /// The proposal cannot be approved or executed.
    ProposalRejected = 16,
}

impl ResultCode {
    /// Stable upper-case name (used by the API and CLI).
    pub fn as_str(self) -> &'static str {
        match self {
            ResultCode::Ok => "OK",
            ResultCode::WrongChain => "WRONG_CHAIN",
            ResultCode::Expired => "EXPIRED",
            ResultCode::BadNonce => "BAD_NONCE",
            ResultCode::UnknownSigner => "UNKNOWN_SIGNER",
            ResultCode::Unauthorised => "UNAUTHORISED",
            ResultCode::InvalidArgument => "INVALID_ARGUMENT",
            ResultCode::NotFound => "NOT_FOUND",
            ResultCode::AlreadyExists => "ALREADY_EXISTS",
            ResultCode::InvalidTransition => "INVALID_TRANSITION",
            ResultCode::BadIdentifier => "BAD_IDENTIFIER",
            ResultCode::ProposalRejected => "PROPOSAL_REJECTED",
        }
    }
}

/// A refused transaction: a stable code and a message saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ExecError {
    /// The stable code.
    pub code: ResultCode,
    /// What was wrong, for people.
    pub message: String,
}

impl ExecError {
    /// Builds an error.
    pub fn new(code: ResultCode, message: impl Into<String>) -> ExecError {
        ExecError {
            code,
            message: message.into(),
        }
    }
}

/// Shorthand for an `InvalidArgument` error.
pub fn invalid(message: impl Into<String>) -> ExecError {
    ExecError::new(ResultCode::InvalidArgument, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_as_str_spell_every_code_the_same() {
        use ResultCode::*;
        for code in [
            Ok,
            WrongChain,
            Expired,
            BadNonce,
            UnknownSigner,
            Unauthorised,
            InvalidArgument,
            NotFound,
            AlreadyExists,
            InvalidTransition,
            BadIdentifier,
            ProposalRejected,
        ] {
            let json = serde_json::to_value(code).expect("json");
            assert_eq!(json, serde_json::Value::String(code.as_str().into()));
            let back: ResultCode = serde_json::from_value(json).expect("back");
            assert_eq!(back, code);
        }
    }
}
