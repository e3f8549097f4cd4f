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
use crate::record::Stateful;

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
    /// The stored bytes as the JSON the API shows (typed decoding: the `json` feature; without
    /// it an error saying so, and the record schema decodes instead).
    pub decode: fn(&[u8]) -> Result<serde_json::Value, String>,
    /// Traces the stored format for the record schema (`crate::schema`, the `schema` feature).
    pub schema: crate::schema::SchemaFn,
    /// The JSON field holding the record's status, for stateful kinds.
    pub status: Option<&'static str>,
    /// The JSON field holding the record's change history (a list of uniform
    /// [`crate::record::Change`]s, oldest first), for stateful kinds.
    pub history: Option<&'static str>,
    /// Where the record's validity ends, for kinds that have one.
    pub validity: Option<Validity>,
    /// The kind's transition table (`(from, to)` status names), for stateful kinds.
    pub transitions: Option<TableFn>,
}

/// Where a kind's validity ends, and the statuses in which that end matters (a record past it
/// still reads as in force until someone marks it expired).
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    /// JSON pointer to the end: a date (`"2031-10-16"`, the last valid day, China Standard
    /// Time), an RFC 3339 time (the last valid instant) or block-time milliseconds (the first
    /// instant no longer valid).
    pub until: &'static str,
    /// The statuses that read as in force.
    pub in_force: &'static [&'static str],
}

/// A kind's transition table, as `(from, to)` status names.
pub type TableFn = fn() -> Vec<(String, String)>;

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
        decoder: Decoder,
    ) -> KindSpec {
        KindSpec {
            name,
            title,
            id_rule,
            example,
            id,
            decode: decoder.json,
            schema: decoder.schema,
            status: None,
            history: None,
            validity: None,
            transitions: None,
        }
    }

    /// A stateful kind: its status and history fields (`status`, `history`) and the
    /// transition table of its record type `R`.
    pub const fn stateful<R: Stateful>(mut self) -> KindSpec {
        self.status = Some("status");
        self.history = Some("history");
        self.transitions = Some(table::<R>);
        self
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

    /// Where the validity ends (a JSON pointer) and the statuses that read as in force.
    pub const fn with_validity(
        mut self,
        until: &'static str,
        in_force: &'static [&'static str],
    ) -> KindSpec {
        self.validity = Some(Validity { until, in_force });
        self
    }

    /// The status of `record` (this kind's JSON) at `t_ms`, from its change history: `None`
    /// before its first entry. An error when the kind or the record keeps no history (a
    /// record stored before its kind's history existed).
    pub fn status_at(
        &self,
        record: &serde_json::Value,
        t_ms: u64,
    ) -> Result<Option<String>, String> {
        let field = self
            .history
            .ok_or_else(|| format!("a {} keeps no status history", self.name))?;
        let entries = record[field].as_array().ok_or_else(|| {
            format!(
                "this {} was stored before its kind kept a status history",
                self.name
            )
        })?;
        let mut status = None;
        for entry in entries {
            let at = entry["at_ms"]
                .as_u64()
                .ok_or("a history entry without at_ms")?;
            if at > t_ms {
                break;
            }
            status = Some(
                entry["status"]
                    .as_str()
                    .ok_or("a history entry without a status")?
                    .to_string(),
            );
        }
        Ok(status)
    }

    /// When `record` reads as in force but its validity ended at or before `t_ms`: the end,
    /// as people read it.
    pub fn validity_ended(&self, record: &serde_json::Value, t_ms: u64) -> Option<String> {
        let v = self.validity?;
        let status = record[self.status?].as_str()?;
        if !v.in_force.contains(&status) {
            return None;
        }
        match record.pointer(v.until)? {
            serde_json::Value::String(end) if crate::time::Date::parse(end).is_ok() => {
                let today = crate::time::Date::of_ms(t_ms).to_string();
                (today.as_str() > end.as_str()).then(|| end.clone())
            }
            serde_json::Value::String(end) => {
                // An RFC 3339 instant: the last valid instant.
                let last = crate::time::Instant::parse(end).ok()?;
                (t_ms > last.ms()).then(|| last.to_string())
            }
            serde_json::Value::Number(n) => {
                let end = n.as_u64()?;
                (end <= t_ms).then(|| concordat_primitives::time::format_rfc3339_ms(end, 8 * 60))
            }
            _ => None,
        }
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
    crate::credential::KINDS,
    crate::filing::KINDS,
    crate::procurement::KINDS,
    crate::inspection::KINDS,
    crate::customs::KINDS,
    crate::logistics::KINDS,
    crate::trace::KINDS,
    crate::sharing::KINDS,
    KINDS,
];

/// The `raw` kind: any state key, in hex (for operators; the answer is the stored bytes).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "raw",
    "a state key, raw",
    "the key in hex",
    "676f762f76616c696461746f7273",
    Id::Custom(|id| hex::decode(id).map_err(|e| format!("a raw key is hex: {e}"))),
    Decoder::custom(
        |b| Ok(serde_json::Value::String(hex::encode(b))),
        crate::schema::raw,
    ),
)];

/// How a kind's stored bytes are decoded: typed, to the JSON the API shows, and as a format
/// the record schema describes (`crate::schema`), which the browser verifier interprets
/// instead of carrying a decoder compiled per record type.
#[derive(Debug, Clone, Copy)]
pub struct Decoder {
    /// Typed decoding to JSON.
    pub json: fn(&[u8]) -> Result<serde_json::Value, String>,
    /// The format, for the record schema.
    pub schema: crate::schema::SchemaFn,
}

impl Decoder {
    /// Canonical bytes of `T`, shown as `T`'s serde JSON.
    pub const fn of<T: Serialize + DeserializeOwned>() -> Decoder {
        Decoder {
            json: json_of::<T>,
            schema: crate::schema::of::<T>,
        }
    }

    /// Canonical bytes of `T` or of an earlier format of it ([`Versioned`]).
    pub const fn versioned<T: Versioned>() -> Decoder {
        Decoder {
            json: json_of_versioned::<T>,
            schema: crate::schema::versioned::<T>,
        }
    }

    /// A kind-specific decoding and its schema.
    pub const fn custom(
        json: fn(&[u8]) -> Result<serde_json::Value, String>,
        schema: crate::schema::SchemaFn,
    ) -> Decoder {
        Decoder { json, schema }
    }
}

/// What a typed decoder says in a build without them (the `json` feature).
pub const NO_TYPED_DECODERS: &str =
    "this build has no typed record decoders (the `json` feature); use the record schema";

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

/// The transition table of `R` with the statuses as the API spells them (empty in a build
/// without the `json` feature, which has no typed JSON of the statuses: the browser verifier,
/// which never shows the table).
pub fn table<R: Stateful>() -> Vec<(String, String)> {
    if !cfg!(feature = "json") {
        return Vec::new();
    }
    let name = |s: &R::Status| match serde_json::to_value(s) {
        Ok(serde_json::Value::String(n)) => n,
        other => format!("{other:?}"),
    };
    R::TRANSITIONS
        .iter()
        .map(|(from, to)| (name(from), name(to)))
        .collect()
}

/// Decodes canonical bytes of `T` to its serde JSON form (a kind's `decode`).
pub fn json_of<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<serde_json::Value, String> {
    #[cfg(feature = "json")]
    {
        let value: T = encoding::from_bytes(bytes).map_err(|e| e.to_string())?;
        serde_json::to_value(&value).map_err(|e| e.to_string())
    }
    #[cfg(not(feature = "json"))]
    {
        let _ = bytes;
        Err(NO_TYPED_DECODERS.into())
    }
}

/// A stored record type whose format gained fields at its end after records of it were
/// stored. Stored bytes never change, and bundles handed out keep verifying forever, so an
/// older record is decoded with the fields it lacks empty and shown without them, as it was
/// shown when it was stored (ADR 0016). Only a field whose empty value encodes as one zero
/// byte (a `Vec`, an `Option`, a `String`, a map) may be appended.
pub trait Versioned: Serialize + DeserializeOwned {
    /// The fields appended since the first stored records, oldest first.
    const APPENDED: &'static [&'static str];
}

/// Decodes stored bytes of `T` or of an earlier format of it; returns the record and the
/// appended fields the stored bytes did not have.
pub fn decode_versioned<T: Versioned>(
    bytes: &[u8],
) -> Result<(T, &'static [&'static str]), String> {
    let current = match encoding::from_bytes::<T>(bytes) {
        Ok(value) => return Ok((value, &[])),
        Err(e) => e.to_string(),
    };
    let n = T::APPENDED.len();
    for lacking in 1..=n {
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len() + lacking, 0);
        if let Ok(value) = encoding::from_bytes::<T>(&padded) {
            return Ok((value, &T::APPENDED[n - lacking..]));
        }
    }
    Err(current)
}

/// The JSON of stored bytes of `T` or of an earlier format of it, without the fields the
/// stored record did not have (a kind's `decode`).
pub fn json_of_versioned<T: Versioned>(bytes: &[u8]) -> Result<serde_json::Value, String> {
    #[cfg(feature = "json")]
    {
        let (value, lacking) = decode_versioned::<T>(bytes)?;
        without(
            serde_json::to_value(&value).map_err(|e| e.to_string())?,
            lacking,
        )
    }
    #[cfg(not(feature = "json"))]
    {
        let _ = bytes;
        Err(NO_TYPED_DECODERS.into())
    }
}

/// `value` without the object fields `lacking`.
pub fn without(
    mut value: serde_json::Value,
    lacking: &[&str],
) -> Result<serde_json::Value, String> {
    let object = value
        .as_object_mut()
        .ok_or("a versioned record is a JSON object")?;
    for field in lacking {
        object.remove(*field);
    }
    Ok(value)
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

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Old {
        a: u64,
    }
    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct New {
        a: u64,
        b: Vec<u8>,
        c: Option<String>,
    }
    impl Versioned for New {
        const APPENDED: &'static [&'static str] = &["b", "c"];
    }

    #[test]
    fn records_stored_before_fields_were_appended_decode_as_they_were() {
        let old = encoding::to_bytes(&Old { a: 7 });
        let (value, lacking) = decode_versioned::<New>(&old).expect("old");
        assert_eq!((value.a, lacking), (7, &["b", "c"][..]));
        assert_eq!(
            json_of_versioned::<New>(&old).expect("json"),
            serde_json::json!({"a": 7})
        );
        let mid = [old.clone(), vec![1, 9]].concat();
        assert_eq!(
            json_of_versioned::<New>(&mid).expect("json"),
            serde_json::json!({"a": 7, "b": [9]})
        );
        let new = encoding::to_bytes(&New {
            a: 7,
            b: vec![],
            c: Some("x".into()),
        });
        assert_eq!(
            json_of_versioned::<New>(&new).expect("json"),
            serde_json::json!({"a": 7, "b": [], "c": "x"})
        );
        assert!(json_of_versioned::<New>(&[1, 2]).is_err());
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
