//! Stored records decoded with the record schema (ADR 0024): one interpreter of the formats in
//! `record_schema.json` instead of a decoder compiled per record type, so that the browser
//! verifier stays small while it still shows every kind.
//!
//! `record_schema.json` is written by `concordat_contracts::schema::generate` (a test checks
//! that it is current, and that this decoder gives the same JSON as the contracts' typed
//! decoders for records of every kind). The decoding follows BCS: little-endian integers,
//! ULEB128 lengths and variant indexes (canonical, at most `u32::MAX`), a byte 0/1 for
//! booleans and options, no bytes left over, map keys in strictly increasing order, nesting
//! at most [`MAX_DEPTH`] deep. The JSON is serde's of the record type: structs as objects,
//! newtypes as their content, unit variants as their name, other variants as
//! `{"Variant": content}`, `Hash`/`PublicKey`/`Signature`/`HexBytes` as lowercase hex and
//! `Instant` as RFC 3339 in China Standard Time.
//!
//! What the typed decoders check beyond the layout (a USCC's check digit, a date's calendar, a
//! key's curve point, a set's order) is not checked here: the bytes a bundle carries are proven
//! to be what the ledger stored, and the ledger stores only what its typed code wrote.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The record schema, as generated (see the module docs).
pub const SCHEMA_JSON: &str = include_str!("record_schema.json");

/// The same schema in the compact form the library carries and reads (written by the crate's
/// `build.rs` from `record_schema.json`, which documents the form; ADR 0025).
const SCHEMA_BIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/record_schema.bin"));

/// Deepest nesting of containers decoded (BCS's own limit).
pub const MAX_DEPTH: usize = 500;

/// Largest stored value decoded (the limit of `concordat_primitives::encoding::from_bytes`).
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// Why stored bytes were not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// The kind is not in the schema.
    UnknownKind(String),
    /// The bytes are not a record of the kind.
    BadValue(String),
}

struct Schema {
    types: Map<String, Value>,
    kinds: Map<String, Value>,
}

fn schema() -> Result<&'static Schema, RecordError> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut v = schema_value()?;
            let mut take = |field: &str| match v[field].take() {
                Value::Object(m) => Ok(m),
                _ => Err(format!("the record schema has no {field}")),
            };
            Ok(Schema {
                types: take("types")?,
                kinds: take("kinds")?,
            })
        })
        .as_ref()
        .map_err(|e| RecordError::BadValue(format!("the record schema does not load: {e}")))
}

/// The record schema as the library reads it: the compact form decoded back into the JSON
/// value of `record_schema.json` (a test checks that they are equal).
pub fn schema_value() -> Result<Value, String> {
    let mut c = Compact {
        bytes: SCHEMA_BIN,
        pos: 0,
        strings: Vec::new(),
    };
    let n = c.uleb()?;
    for _ in 0..n {
        let len = usize::try_from(c.uleb()?).map_err(|_| "a string is too long")?;
        let s = std::str::from_utf8(c.take(len)?).map_err(|_| "a string is not UTF-8")?;
        c.strings.push(s);
    }
    let v = c.value(0)?;
    if c.pos != c.bytes.len() {
        return Err("bytes left over after the compact schema".into());
    }
    Ok(v)
}

/// A value as compact JSON text (`Value`'s `Display` would bring its pretty printer too).
fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A reader of the compact schema (see `build.rs`).
struct Compact<'a> {
    bytes: &'a [u8],
    pos: usize,
    strings: Vec<&'a str>,
}

impl<'a> Compact<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let bytes = self.bytes;
        let out = self
            .pos
            .checked_add(n)
            .and_then(|end| bytes.get(self.pos..end))
            .ok_or("the compact schema ends early")?;
        self.pos += n;
        Ok(out)
    }

    fn uleb(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("a number of the compact schema is too long".into())
    }

    fn string(&mut self, index: u64) -> Result<String, String> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.strings.get(i))
            .map(|s| s.to_string())
            .ok_or_else(|| format!("the compact schema has no string {index}"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("the compact schema is nested too deep".into());
        }
        Ok(match self.take(1)?[0] {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::from(self.uleb()?),
            4 => {
                let i = self.uleb()?;
                Value::String(self.string(i)?)
            }
            5 => {
                let n = self.uleb()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            6 => {
                let n = self.uleb()?;
                let mut object = Map::new();
                for _ in 0..n {
                    let key = self.uleb()?;
                    let key = self.string(key)?;
                    object.insert(key, self.value(depth + 1)?);
                }
                Value::Object(object)
            }
            b => Value::String(self.string(u64::from(b - 7))?),
        })
    }
}

/// Whether the schema knows `kind`.
pub fn is_kind(kind: &str) -> bool {
    schema().is_ok_and(|s| s.kinds.contains_key(kind))
}

/// Decodes the stored bytes of a `kind` into the JSON the API shows for it.
pub fn decode(kind: &str, bytes: &[u8]) -> Result<Value, RecordError> {
    let schema = schema()?;
    let entry = schema
        .kinds
        .get(kind)
        .ok_or_else(|| RecordError::UnknownKind(kind.into()))?;
    if entry["raw"].as_bool() == Some(true) {
        return Ok(Value::String(hex::encode(bytes)));
    }
    if bytes.len() > MAX_BYTES {
        return Err(RecordError::BadValue(format!(
            "{} bytes, more than the {MAX_BYTES} a record may have",
            bytes.len()
        )));
    }
    let formats = entry["formats"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let appended: Vec<&str> = entry["appended"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut first_error = None;
    for (i, format) in formats.iter().enumerate() {
        match exact(schema, format, bytes, &[]) {
            Ok(v) => return finish(v, false, entry),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        // A record stored before fields were appended to its layout: decoded with the fields it
        // lacks empty (each one zero byte), shown without them.
        if i == 0 {
            for lacking in 1..=appended.len() {
                let mut padded = bytes.to_vec();
                padded.resize(bytes.len() + lacking, 0);
                if let Ok(v) = exact(
                    schema,
                    format,
                    &padded,
                    &appended[appended.len() - lacking..],
                ) {
                    return finish(v, true, entry);
                }
            }
        }
    }
    Err(RecordError::BadValue(first_error.unwrap_or_else(|| {
        format!("the schema has no format for {kind}")
    })))
}

/// The value with the fields the API derives (`padded`: decoded with fields it lacked).
fn finish(mut v: Value, padded: bool, entry: &Value) -> Result<Value, RecordError> {
    let object = v.as_object_mut();
    if let Some(object) = object {
        for d in entry["derived"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let (Some(field), Some(from)) = (d["field"].as_str(), d["from"].as_str()) else {
                continue;
            };
            let derived = object
                .get(from)
                .and_then(Value::as_str)
                .and_then(|s| d["map"].get(s))
                .and_then(Value::as_str)
                .map_or(Value::Null, |code| Value::String(code.into()));
            object.insert(field.to_string(), derived);
        }
    } else if padded {
        return Err(RecordError::BadValue(
            "a versioned record is a JSON object".into(),
        ));
    }
    Ok(v)
}

/// `bytes` decoded as `format` to the last byte; a top-level field named in `lacking` (padded
/// with a zero byte, see [`decode`]) is read and left out.
fn exact(schema: &Schema, format: &Value, bytes: &[u8], lacking: &[&str]) -> Result<Value, String> {
    let mut r = Reader {
        schema,
        bytes,
        pos: 0,
        depth: 0,
        lacking,
    };
    let v = r.value(format)?;
    if r.pos != bytes.len() {
        return Err(format!(
            "{} bytes left over after the record",
            bytes.len() - r.pos
        ));
    }
    Ok(v)
}

struct Reader<'a> {
    schema: &'a Schema,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    lacking: &'a [&'a str],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("the bytes end early")?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn le(&mut self, n: usize) -> Result<u128, String> {
        Ok(self
            .take(n)?
            .iter()
            .rev()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b)))
    }

    /// A canonical ULEB128 of at most `u32::MAX`.
    fn uleb(&mut self) -> Result<u32, String> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift > 0 && byte == 0 {
                    return Err("a length is not in its shortest form".into());
                }
                return u32::try_from(value).map_err(|_| "a length is over u32::MAX".to_string());
            }
        }
        Err("a length is over u32::MAX".into())
    }

    fn len(&mut self) -> Result<usize, String> {
        let n = self.uleb()? as usize;
        if n > i32::MAX as usize {
            return Err("a sequence is longer than 2^31 - 1".into());
        }
        Ok(n)
    }

    fn value(&mut self, f: &Value) -> Result<Value, String> {
        match f {
            Value::String(s) => self.primitive(s),
            Value::Object(m) if m.len() == 1 => {
                let (tag, inner) = m.iter().next().ok_or("an empty format")?;
                self.nested(tag, inner)
            }
            other => Err(format!(
                "the schema has a format it does not know: {}",
                text(other)
            )),
        }
    }

    fn primitive(&mut self, name: &str) -> Result<Value, String> {
        let int = |v: i128| Value::from(v as i64);
        Ok(match name {
            "UNIT" => Value::Null,
            "BOOL" => match self.take(1)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(format!("{b} is not a boolean")),
            },
            "U8" => Value::from(self.le(1)? as u64),
            "U16" => Value::from(self.le(2)? as u64),
            "U32" => Value::from(self.le(4)? as u64),
            "U64" => Value::from(self.le(8)? as u64),
            "U128" => u64::try_from(self.le(16)?)
                .map(Value::from)
                .map_err(|_| "a u128 over u64::MAX has no JSON number".to_string())?,
            "I8" => int(i128::from(self.le(1)? as u8 as i8)),
            "I16" => int(i128::from(self.le(2)? as u16 as i16)),
            "I32" => int(i128::from(self.le(4)? as u32 as i32)),
            "I64" => int(i128::from(self.le(8)? as u64 as i64)),
            "STR" => {
                let n = self.len()?;
                let text = std::str::from_utf8(self.take(n)?)
                    .map_err(|_| "a string is not UTF-8".to_string())?;
                Value::String(text.to_string())
            }
            "BYTES" => {
                let n = self.len()?;
                Value::Array(self.take(n)?.iter().map(|&b| Value::from(b)).collect())
            }
            other => return Err(format!("BCS has no {other}")),
        })
    }

    fn nested(&mut self, tag: &str, inner: &Value) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        let out = match tag {
            "TYPENAME" => {
                let name = inner.as_str().ok_or("a type name is not text")?;
                self.named(name)
            }
            "OPTION" => match self.take(1)?[0] {
                0 => Ok(Value::Null),
                1 => self.value(inner),
                b => Err(format!("{b} is not an option tag")),
            },
            "SEQ" => {
                let n = self.len()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.value(inner)?);
                }
                Ok(Value::Array(items))
            }
            "MAP" => self.map(&inner["KEY"], &inner["VALUE"]),
            "TUPLE" => self.all(inner.as_array().ok_or("a tuple without formats")?),
            "TUPLEARRAY" => {
                let n = inner["SIZE"].as_u64().ok_or("an array without a size")?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.value(&inner["CONTENT"])?);
                }
                Ok(Value::Array(items))
            }
            other => Err(format!("the schema has a format it does not know: {other}")),
        };
        self.depth -= 1;
        out
    }

    fn all(&mut self, formats: &[Value]) -> Result<Value, String> {
        formats
            .iter()
            .map(|f| self.value(f))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }

    fn fields(&mut self, fields: &Value) -> Result<Value, String> {
        let mut object = Map::new();
        for field in fields.as_array().ok_or("a struct without fields")? {
            let (name, format) = field
                .as_object()
                .and_then(|m| m.iter().next())
                .ok_or("a field without a name")?;
            let v = self.value(format)?;
            // The record's own fields are one level down (its type name, then the struct).
            if self.depth == 1 && self.lacking.contains(&name.as_str()) {
                continue;
            }
            object.insert(name.clone(), v);
        }
        Ok(Value::Object(object))
    }

    fn map(&mut self, key: &Value, value: &Value) -> Result<Value, String> {
        let n = self.len()?;
        let mut object = Map::new();
        let mut previous: Option<(usize, usize)> = None;
        for _ in 0..n {
            let start = self.pos;
            let k = self.value(key)?;
            let this = (start, self.pos);
            if let Some((a, b)) = previous {
                if self.bytes[a..b] >= self.bytes[this.0..this.1] {
                    return Err("map keys are not in strictly increasing order".into());
                }
            }
            previous = Some(this);
            let k = match k {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => return Err(format!("{} cannot be a JSON object key", text(&other))),
            };
            let v = self.value(value)?;
            object.insert(k, v);
        }
        Ok(Value::Object(object))
    }

    fn named(&mut self, name: &str) -> Result<Value, String> {
        let container = self
            .schema
            .types
            .get(name)
            .ok_or_else(|| format!("the schema has no type {name}"))?;
        // The newtypes whose JSON is not their content (`#n`: the same type traced again).
        match name.split('#').next().unwrap_or(name) {
            "Hash" | "PublicKey" | "Signature" | "HexBytes" => {
                let bytes = self.value(&container["NEWTYPESTRUCT"])?;
                let bytes = bytes.as_array().ok_or("hex of what is not bytes")?;
                let raw: Vec<u8> = bytes
                    .iter()
                    .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect::<Option<_>>()
                    .ok_or("hex of what is not bytes")?;
                return Ok(Value::String(hex::encode(raw)));
            }
            "Instant" => {
                let ms = self.value(&container["NEWTYPESTRUCT"])?;
                let ms = ms.as_u64().ok_or("an instant is not a number")?;
                return Ok(Value::String(
                    concordat_primitives::time::format_rfc3339_ms(ms, 8 * 60),
                ));
            }
            _ => {}
        }
        let (tag, inner) = match container {
            Value::String(s) if s == "UNITSTRUCT" => return Ok(Value::Null),
            Value::Object(m) if m.len() == 1 => m.iter().next().ok_or("an empty container")?,
            other => {
                return Err(format!(
                    "{name} has a format the decoder does not know: {}",
                    text(other)
                ))
            }
        };
        match tag.as_str() {
            "NEWTYPESTRUCT" => self.value(inner),
            "TUPLESTRUCT" => self.all(inner.as_array().ok_or("a tuple struct without formats")?),
            "STRUCT" => self.fields(inner),
            "ENUM" => {
                let index = self.uleb()?;
                let variant = inner
                    .get(index.to_string())
                    .and_then(Value::as_object)
                    .and_then(|m| m.iter().next())
                    .ok_or_else(|| format!("{name} has no variant {index}"))?;
                let (vname, vformat) = variant;
                let content = match vformat {
                    Value::String(s) if s == "UNIT" => return Ok(Value::String(vname.clone())),
                    Value::Object(m) => match m.iter().next() {
                        Some((t, f)) if t == "NEWTYPE" => self.value(f)?,
                        Some((t, f)) if t == "TUPLE" => {
                            self.all(f.as_array().ok_or("a tuple variant without formats")?)?
                        }
                        Some((t, f)) if t == "STRUCT" => self.fields(f)?,
                        _ => return Err(format!("{name}::{vname} has an unknown format")),
                    },
                    _ => return Err(format!("{name}::{vname} has an unknown format")),
                };
                let mut object = Map::new();
                object.insert(vname.clone(), content);
                Ok(Value::Object(object))
            }
            other => Err(format!(
                "{name} has a format the decoder does not know: {other}"
            )),
        }
    }
}
