//! Canonical encoding: BCS for everything hashed or signed.
//!
//! [`from_bytes`] accepts only the canonical encoding of a value: BCS itself refuses trailing
//! bytes, over-long ULEB128 lengths, invalid booleans and unordered maps, and we additionally
//! re-encode the decoded value and require the same bytes, so no type can smuggle in a second
//! encoding of one value. Inputs larger than a caller-given limit are refused before decoding.

use serde::{de::DeserializeOwned, Serialize};

/// The largest input any decoder accepts unless the caller asks for less (8 MiB).
pub const MAX_DECODE_BYTES: usize = 8 * 1024 * 1024;

/// Why bytes were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Longer than the limit.
    #[error("input is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit applied.
        limit: usize,
    },
    /// Not valid BCS for the type (including trailing bytes).
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// Decoded, but re-encoding gives different bytes.
    #[error("non-canonical encoding")]
    NonCanonical,
}

/// Canonical BCS bytes of `value`.
///
/// # Panics
/// Only if `value` cannot be encoded in BCS at all (a type defect, caught by the golden tests).
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    #[allow(clippy::expect_used)]
    bcs::to_bytes(value).expect("every ledger type has a BCS encoding")
}

/// Decodes canonical BCS bytes, refusing anything longer than [`MAX_DECODE_BYTES`].
pub fn from_bytes<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    from_bytes_limited(bytes, MAX_DECODE_BYTES)
}

/// Decodes BCS bytes no longer than `limit` without re-encoding them: for container types all
/// of whose parts BCS itself reads in one way only (fixed-size integers and arrays, `Option`,
/// ULEB128 lengths and variant indexes, UTF-8 strings, byte vectors, and types whose decoders
/// keep the bytes they read, such as `PublicKey` and `Signature`), where the re-encoding of
/// [`from_bytes_limited`] could find nothing and only adds code. Nested canonical encodings
/// carried as byte vectors are decoded (and checked) on their own. Used for offline bundles
/// (the browser verifier's code size counts); the bundle tests and fuzz target hold those
/// types to the round trip, so a field type whose decoder rewrote its input would show there.
pub fn from_bytes_structural<T: DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    bcs::from_bytes(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// Decodes canonical BCS bytes no longer than `limit`.
pub fn from_bytes_limited<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Result<T, DecodeError> {
    let value: T = from_bytes_structural(bytes, limit)?;
    if bcs::to_bytes(&value).map_err(|e| DecodeError::Malformed(e.to_string()))? != bytes {
        return Err(DecodeError::NonCanonical);
    }
    Ok(value)
}
