//! The SHA-256 [`Hash`] used for every digest on the ledger.
//!
//! In BCS a hash is its 32 raw bytes; in JSON it is 64 lowercase hex characters.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash, used as "no parent" for the genesis block.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// SHA-256 of `data`.
    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    /// SHA-256 of the concatenation of `parts`.
    pub fn digest_parts(parts: &[&[u8]]) -> Hash {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        Hash(h.finalize().into())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Hash, HashParseError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError)?;
        Ok(Hash(out))
    }
}

/// A string that is not 64 hex characters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a hash must be 64 hex characters")]
pub struct HashParseError;

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            hex_bytes::serialize("Hash", &self.0, s)
        }
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <String>::deserialize(d)?;
            Hash::from_hex(&s).map_err(serde::de::Error::custom)
        } else {
            Ok(Hash(hex_bytes::deserialize("Hash", d)?))
        }
    }
}

/// Serde helpers for fixed-size byte arrays: raw in BCS, hex in JSON.
///
/// Outside JSON the bytes are a newtype struct of the type's name (`Hash`, `PublicKey`,
/// `Signature`) around a tuple of `N` bytes. BCS encodes a newtype as its content, so the
/// bytes are exactly the `N` raw bytes; the name is what lets a schema tracer (the record
/// schema of `concordat-contracts`) tell a hash or a key from other bytes and show it as hex.
pub(crate) mod hex_bytes {
    use core::fmt;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeTuple;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serializes `N` bytes as hex (human-readable) or as the newtype `name` of a fixed-size
    /// tuple (BCS: the raw bytes).
    pub fn serialize<S: Serializer, const N: usize>(
        name: &'static str,
        v: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(v))
        } else {
            s.serialize_newtype_struct(name, &Tuple(v))
        }
    }

    /// Inverse of [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        name: &'static str,
        d: D,
    ) -> Result<[u8; N], D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            let mut out = [0u8; N];
            hex::decode_to_slice(&s, &mut out).map_err(|_| {
                serde::de::Error::custom(format!("expected {} hex characters", 2 * N))
            })?;
            Ok(out)
        } else {
            d.deserialize_newtype_struct(name, ArrVisitor::<N>)
        }
    }

    /// Fixed-size arrays longer than 32 as serde tuples (what BCS encodes as raw bytes).
    struct Tuple<'a, const N: usize>(&'a [u8; N]);

    impl<const N: usize> Serialize for Tuple<'_, N> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut t = s.serialize_tuple(N)?;
            for b in self.0 {
                t.serialize_element(b)?;
            }
            t.end()
        }
    }

    struct ArrVisitor<const N: usize>;

    impl<'de, const N: usize> Visitor<'de> for ArrVisitor<N> {
        type Value = [u8; N];
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{N} bytes")
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<[u8; N], D::Error> {
            d.deserialize_tuple(N, ArrVisitor::<N>)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
            let mut out = [0u8; N];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(i, &self))?;
            }
            Ok(out)
        }
    }
}
