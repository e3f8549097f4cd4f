//! The registry of record kinds: what `GET /v1/state/{kind}/{id}` serves.
//!
//! Each module declares the kinds it keeps in a `KINDS` table of [`KindSpec`]s (query name, id
//! rule, state key, decoding to the JSON the API shows, where its status and history live), and
//! [`MODULE_KINDS`] below registers each table once. Everything that lists or reads kinds
//! derives from here: [`names`], [`query_key`] (the state key the node serves and the client
//! recomputes), [`decode`] (the JSON the node shows and the client prints after verifying),
//! the node's `GET /v1/kinds`, the page's lookup list and the docs-match tests. An unknown kind
//! is an error; `raw` is a kind of its own, never a fallback.

use concordat_primitives::encoding;
use serde::{de::DeserializeOwned, Serialize};

use crate::ids::{validate_id, Uscc};

/// One record kind.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// The query name (`GET /v1/state/{name}/{id}`).
    pub name: &'static str,
    /// What the record is, for people (the page's lookup list, `GET /v1/kinds`).
    pub title: &'static str,
    /// The id the kind is looked up by, for people.
    pub id_rule: &'static str,
    /// A well-formed id, as an example for people (the page, the docs) and for the
    /// kind-generic tests.
    pub example: &'static str,
    /// How an id becomes the state key.
    pub id: Id,
    /// The stored bytes as the JSON the API shows.
    pub decode: fn(&[u8]) -> Result<serde_json::Value, String>,
    /// The JSON field holding the record's status, for stateful kinds.
    pub status: Option<&'static str>,
    /// The JSON field holding the record's change history, where the record keeps one.
    pub history: Option<&'static str>,
}

/// How a kind's id becomes its state key. The id is checked in full: an absence proof for a
/// near miss (`"91110105MA01R7K442 "`) would read like the absence of the real record.
#[derive(Debug, Clone, Copy)]
pub enum Id {
    /// A record id (1 to 64 characters of `A-Z a-z 0-9 . _ : -`); the key is `f(id)`.
    Record(fn(&str) -> Vec<u8>),
    /// A canonical USCC; the key is `f(uscc)`.
    Uscc(fn(&str) -> Vec<u8>),
    /// Any other rule: the key, or why the id does not fit.
    Custom(fn(&str) -> Result<Vec<u8>, String>),
}

impl KindSpec {
    /// A kind without a status or history field.
    pub const fn new(
        name: &'static str,
        title: &'static str,
        id_rule: &'static str,
        example: &'static str,
        id: Id,
        decode: fn(&[u8]) -> Result<serde_json::Value, String>,
    ) -> KindSpec {
        KindSpec {
            name,
            title,
            id_rule,
            example,
            id,
            decode,
            status: None,
            history: None,
        }
    }

    /// The JSON field holding the status.
    pub const fn with_status(mut self, field: &'static str) -> KindSpec {
        self.status = Some(field);
        self
    }

    /// The JSON field holding the change history.
    pub const fn with_history(mut self, field: &'static str) -> KindSpec {
        self.history = Some(field);
        self
    }

    /// The state key of `id`, or why `id` does not fit the kind.
    pub fn key(&self, id: &str) -> Result<Vec<u8>, String> {
        match self.id {
            Id::Record(f) => by_record_id(self.name, id, f),
            Id::Uscc(f) => by_uscc(id, f),
            Id::Custom(f) => f(id),
        }
    }
}

/// The kinds of every module, registered once each, in the order the API lists them.
pub const MODULE_KINDS: &[&[KindSpec]] = &[
    crate::party::KINDS,
    crate::governance::KINDS,
    crate::executor::KINDS,
    crate::policy::KINDS,
    crate::licence::KINDS,
    crate::commitment::KINDS,
    crate::credit::KINDS,
    crate::seal::KINDS,
    crate::recognition::KINDS,
    crate::filing::KINDS,
    KINDS,
];

/// The `raw` kind: any state key, in hex (for operators; the answer is the stored bytes).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "raw",
    "a state key, raw",
    "the key in hex",
    "676f762f76616c696461746f7273",
    Id::Custom(|id| hex::decode(id).map_err(|e| format!("a raw key is hex: {e}"))),
    |b| Ok(serde_json::Value::String(hex::encode(b))),
)];

/// Every kind, in registry order.
pub fn all() -> impl Iterator<Item = &'static KindSpec> {
    MODULE_KINDS.iter().flat_map(|k| k.iter())
}

/// Every kind's query name, in registry order.
pub fn names() -> Vec<&'static str> {
    all().map(|k| k.name).collect()
}

/// The kind called `name`.
pub fn get(name: &str) -> Option<&'static KindSpec> {
    all().find(|k| k.name == name)
}

/// Why a query's kind or id has no state key, or its bytes no record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KindError {
    /// Not a registered kind.
    #[error("unknown kind {0:?}; kinds: {kinds}", kinds = names().join(", "))]
    UnknownKind(String),
    /// The id does not fit the kind.
    #[error("{0}")]
    BadId(String),
    /// The stored bytes are not a record of the kind.
    #[error("not a {kind} record: {detail}")]
    BadValue {
        /// The kind.
        kind: String,
        /// Why.
        detail: String,
    },
}

/// The state key of a query: the one mapping shared by the node (which serves it) and the
/// client (which recomputes it to check the answer).
pub fn query_key(kind: &str, id: &str) -> Result<Vec<u8>, KindError> {
    let spec = get(kind).ok_or_else(|| KindError::UnknownKind(kind.into()))?;
    if id.is_empty() {
        return Err(KindError::BadId("the id is empty".into()));
    }
    spec.key(id).map_err(KindError::BadId)
}

/// Decodes the stored bytes of a `kind` into the JSON the API shows.
pub fn decode(kind: &str, bytes: &[u8]) -> Result<serde_json::Value, KindError> {
    let spec = get(kind).ok_or_else(|| KindError::UnknownKind(kind.into()))?;
    (spec.decode)(bytes).map_err(|detail| KindError::BadValue {
        kind: kind.into(),
        detail,
    })
}

/// Decodes canonical bytes of `T` to its serde JSON form (a kind's `decode`).
pub fn json_of<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let value: T = encoding::from_bytes(bytes).map_err(|e| e.to_string())?;
    serde_json::to_value(&value).map_err(|e| e.to_string())
}

/// Id rule: a canonical USCC; the key is `f` of it.
pub fn by_uscc(id: &str, f: fn(&str) -> Vec<u8>) -> Result<Vec<u8>, String> {
    Uscc::parse(id).map_err(|e| e.to_string())?;
    Ok(f(id))
}

/// Id rule: a record id (1 to 64 characters of `A-Z a-z 0-9 . _ : -`); the key is `f` of it.
pub fn by_record_id(kind: &str, id: &str, f: fn(&str) -> Vec<u8>) -> Result<Vec<u8>, String> {
    validate_id(kind, id, 64).map_err(|e| e.message)?;
    Ok(f(id))
}

/// Id rule: a decimal number; the key is `f` of it; `rule` says what the id must be.
pub fn by_number(id: &str, rule: &str, f: fn(u64) -> Vec<u8>) -> Result<Vec<u8>, String> {
    // `u64::from_str` takes a leading '+', which would give one record two ids.
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(rule.into());
    }
    id.parse::<u64>().map(f).map_err(|_| rule.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_snake_case() {
        let names = names();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "a kind is registered twice");
        for n in names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
    }

    #[test]
    fn unknown_kinds_and_empty_ids_are_errors() {
        assert!(matches!(
            query_key("nope", "x"),
            Err(KindError::UnknownKind(_))
        ));
        assert!(matches!(
            decode("nope", &[]),
            Err(KindError::UnknownKind(_))
        ));
        assert!(matches!(query_key("party", ""), Err(KindError::BadId(_))));
        // A kind's wrong bytes fail as a bad value, never as an unknown kind.
        for spec in all() {
            if let Err(e) = decode(spec.name, &[0xff; 3]) {
                assert!(
                    matches!(e, KindError::BadValue { .. }),
                    "{}: {e}",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn every_kind_accepts_its_own_example_id() {
        for spec in all() {
            assert!(!spec.example.is_empty(), "{} has no example", spec.name);
            query_key(spec.name, spec.example)
                .unwrap_or_else(|e| panic!("{}: example {:?}: {e}", spec.name, spec.example));
        }
    }

    #[test]
    fn ids_are_checked_in_full() {
        assert!(query_key("party", "91110105MA01R7K442 ").is_err());
        assert!(query_key("proposal", "+1").is_err());
        assert_eq!(
            query_key("proposal", "1").expect("id"),
            crate::state::keys::proposal(1)
        );
        assert_eq!(query_key("raw", "0102").expect("raw"), vec![1, 2]);
    }
}
