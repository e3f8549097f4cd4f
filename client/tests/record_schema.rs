//! The record schema (ADR 0024): the file the client carries is what the contracts' types
//! trace to, and decoding with it gives exactly the JSON of the contracts' typed decoders, for
//! random records of every layout of every kind (every variant of every enum reached), for
//! records stored before fields were appended, for damaged bytes, and for the real records of
//! the fuzz seeds. Regenerate the file with
//! `CONCORDAT_BLESS=1 cargo test -p concordat-client --test record_schema` and review the diff.

use std::collections::BTreeMap;

use concordat_client::records::{self, RecordError};
use concordat_contracts::kinds;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/record_schema.json");

/// The schema as the file keeps it: one type or kind per line, so that a change reads as a
/// diff of the lines it touches.
fn render(schema: &Value) -> String {
    let mut out = String::from("{");
    let head = |k: &str| serde_json::to_string(&schema[k]).expect("json");
    out.push_str(&format!(
        "\"format\":{},\"version\":{},\n",
        head("format"),
        head("version")
    ));
    for (i, section) in ["types", "kinds"].iter().enumerate() {
        out.push_str(&format!("\"{section}\":{{\n"));
        let entries = schema[section].as_object().expect("object");
        let lines: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).expect("json"), v))
            .collect();
        out.push_str(&lines.join(",\n"));
        out.push_str(if i == 0 { "\n},\n" } else { "\n}}\n" });
    }
    out
}

#[test]
fn the_schema_file_is_what_the_contracts_trace_to() {
    let generated = concordat_contracts::schema::generate().expect("the schema traces");
    if std::env::var("CONCORDAT_BLESS").is_ok() {
        std::fs::write(SCHEMA_FILE, render(&generated)).expect("write the schema");
    }
    let kept: Value = serde_json::from_str(records::SCHEMA_JSON).expect("the file is JSON");
    assert_eq!(
        kept, generated,
        "client/src/record_schema.json is not what the contracts trace to: a record type \
         changed; regenerate with CONCORDAT_BLESS=1 (see this file's docs) and review the diff"
    );
    assert_eq!(
        records::schema_value().expect("the compact schema reads"),
        kept,
        "the compact schema the library reads is not the schema file (client/build.rs)"
    );
    assert_eq!(
        records::SCHEMA_JSON,
        render(&generated),
        "the schema file is not in its rendered form: regenerate it"
    );
    // Every kind is in it.
    for spec in kinds::all() {
        assert!(
            records::is_kind(spec.name),
            "{} is not in the schema",
            spec.name
        );
    }
}

/// Random canonical BCS bytes of a format of the schema.
struct Gen<'a> {
    types: &'a serde_json::Map<String, Value>,
    rng: ChaCha20Rng,
    keys: Vec<[u8; 32]>,
}

const USCCS: &[&str] = &[
    "91110105MA01R7K442",
    "11110000MB01A7C368",
    "91310115MA1H7GXQ4H",
];
const DATES: &[&str] = &["2026-01-01", "2024-02-29", "2031-10-16"];

impl Gen<'_> {
    fn uleb(out: &mut Vec<u8>, mut n: u64) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn str(out: &mut Vec<u8>, s: &str) {
        Self::uleb(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    fn small(&mut self, depth: usize) -> u64 {
        if depth > 6 {
            0
        } else {
            self.rng.gen_range(0..3)
        }
    }

    fn value(&mut self, f: &Value, depth: usize, out: &mut Vec<u8>) {
        match f {
            Value::String(p) => self.primitive(p, out),
            Value::Object(m) => {
                let (tag, inner) = m.iter().next().expect("a format");
                match tag.as_str() {
                    "TYPENAME" => self.named(inner.as_str().expect("name"), depth + 1, out),
                    "OPTION" => {
                        if depth < 6 && self.rng.gen_bool(0.6) {
                            out.push(1);
                            self.value(inner, depth + 1, out);
                        } else {
                            out.push(0);
                        }
                    }
                    "SEQ" => {
                        // Sorted and without repeats: the schema does not say which sequences
                        // are sets, and a set's bytes are canonical only in that order.
                        // (Text sorts as text, not as its length-prefixed bytes.)
                        let n = self.small(depth);
                        let mut items = BTreeMap::new();
                        for _ in 0..n {
                            let mut item = Vec::new();
                            self.value(inner, depth + 1, &mut item);
                            let mut key = item.clone();
                            if inner == "STR" {
                                key.remove(0); // a short string's length is one byte
                            }
                            items.insert(key, item);
                        }
                        Self::uleb(out, items.len() as u64);
                        for item in items.into_values() {
                            out.extend(item);
                        }
                    }
                    "MAP" => {
                        let n = self.small(depth);
                        let mut pairs = BTreeMap::new();
                        for _ in 0..n {
                            let mut k = Vec::new();
                            self.value(&inner["KEY"], depth + 1, &mut k);
                            let mut v = Vec::new();
                            self.value(&inner["VALUE"], depth + 1, &mut v);
                            pairs.insert(k, v);
                        }
                        Self::uleb(out, pairs.len() as u64);
                        for (k, v) in pairs {
                            out.extend(k);
                            out.extend(v);
                        }
                    }
                    "TUPLE" => {
                        for f in inner.as_array().expect("formats") {
                            self.value(f, depth + 1, out);
                        }
                    }
                    "TUPLEARRAY" => {
                        for _ in 0..inner["SIZE"].as_u64().expect("size") {
                            self.value(&inner["CONTENT"], depth + 1, out);
                        }
                    }
                    other => panic!("unknown format {other}"),
                }
            }
            other => panic!("unknown format {other}"),
        }
    }

    fn primitive(&mut self, p: &str, out: &mut Vec<u8>) {
        let r: u64 = self.rng.gen();
        match p {
            "UNIT" => {}
            "BOOL" => out.push(self.rng.gen_range(0..2)),
            "U8" | "I8" => out.push(r as u8),
            "U16" | "I16" => out.extend((r as u16).to_le_bytes()),
            "U32" | "I32" => out.extend((r as u32).to_le_bytes()),
            "U64" | "I64" => out.extend(r.to_le_bytes()),
            "U128" => out.extend(u128::from(r).to_le_bytes()),
            "STR" => {
                const PARTS: &[&str] = &["a", "Z", "0", "-", " ", "é", "中", "\"", "\\", "\n"];
                let n = self.rng.gen_range(0..6);
                let s: String = (0..n)
                    .map(|_| PARTS[self.rng.gen_range(0..PARTS.len())])
                    .collect();
                Self::str(out, &s);
            }
            "BYTES" => {
                let n = self.rng.gen_range(0..5);
                Self::uleb(out, n);
                for _ in 0..n {
                    out.push(self.rng.gen());
                }
            }
            other => panic!("the schema has {other}, which BCS cannot hold"),
        }
    }

    fn named(&mut self, name: &str, depth: usize, out: &mut Vec<u8>) {
        // The newtypes whose decoding checks its content get values that pass.
        match name {
            "Uscc" => return Self::str(out, USCCS[self.rng.gen_range(0..USCCS.len())]),
            "Date" => return Self::str(out, DATES[self.rng.gen_range(0..DATES.len())]),
            "PublicKey" => {
                let k = self.keys[self.rng.gen_range(0..self.keys.len())];
                return out.extend(k);
            }
            "Instant" => {
                let ms = self
                    .rng
                    .gen_range(0..=concordat_primitives::time::MAX_RFC3339_MS);
                return out.extend(ms.to_le_bytes());
            }
            _ => {}
        }
        let container = &self.types[name];
        match container {
            Value::String(s) if s == "UNITSTRUCT" => {}
            Value::Object(m) => {
                let (tag, inner) = m.iter().next().expect("container");
                match tag.as_str() {
                    "NEWTYPESTRUCT" => self.value(inner, depth, out),
                    "TUPLESTRUCT" => {
                        for f in inner.as_array().expect("formats") {
                            self.value(f, depth, out);
                        }
                    }
                    "STRUCT" => self.fields(inner, 0, depth, out),
                    "ENUM" => {
                        let variants = inner.as_object().expect("variants");
                        // Deep down, the first variant (recursion-free, as serde-reflection
                        // needs it to be).
                        let index = if depth > 6 {
                            0
                        } else {
                            self.rng.gen_range(0..variants.len())
                        };
                        Self::uleb(out, index as u64);
                        let variant = variants[&index.to_string()].as_object().expect("variant");
                        let (_, vf) = variant.iter().next().expect("variant");
                        match vf {
                            Value::String(_) => {}
                            Value::Object(m) => {
                                let (t, f) = m.iter().next().expect("variant format");
                                match t.as_str() {
                                    "NEWTYPE" => self.value(f, depth, out),
                                    "TUPLE" => {
                                        for f in f.as_array().expect("formats") {
                                            self.value(f, depth, out);
                                        }
                                    }
                                    _ => self.fields(f, 0, depth, out),
                                }
                            }
                            other => panic!("unknown variant {other}"),
                        }
                    }
                    other => panic!("unknown container {other}"),
                }
            }
            other => panic!("unknown container {other}"),
        }
    }

    /// A struct's fields, leaving out its last `drop` (a record stored before they were
    /// appended).
    fn fields(&mut self, fields: &Value, drop: usize, depth: usize, out: &mut Vec<u8>) {
        let fields = fields.as_array().expect("fields");
        for field in &fields[..fields.len() - drop] {
            let (_, f) = field
                .as_object()
                .and_then(|m| m.iter().next())
                .expect("field");
            self.value(f, depth, out);
        }
    }

    /// A record of `kind` in one of its layouts; with appended fields, sometimes as stored
    /// before some of them existed.
    fn record(&mut self, entry: &Value) -> Vec<u8> {
        let formats = entry["formats"].as_array().expect("formats");
        let which = self.rng.gen_range(0..formats.len());
        let appended = entry["appended"].as_array().expect("appended");
        let mut out = Vec::new();
        if which == 0 && !appended.is_empty() && self.rng.gen_bool(0.3) {
            let drop = self.rng.gen_range(1..=appended.len());
            let name = formats[0]["TYPENAME"]
                .as_str()
                .expect("a versioned record is named");
            let fields = &self.types[name]["STRUCT"];
            let names: Vec<&str> = fields
                .as_array()
                .expect("a versioned record is a struct")
                .iter()
                .filter_map(|f| f.as_object()?.keys().next().map(String::as_str))
                .collect();
            let tail: Vec<&str> = appended.iter().filter_map(Value::as_str).collect();
            assert!(
                names.ends_with(&tail),
                "{name}: appended fields are not its last"
            );
            self.fields(fields, drop, 1, &mut out);
        } else {
            self.value(&formats[which], 0, &mut out);
        }
        out
    }
}

fn keys() -> Vec<[u8; 32]> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    (0..4)
        .map(|_| {
            *concordat_primitives::SecretKey::generate(&mut rng)
                .public_key()
                .as_bytes()
        })
        .collect()
}

fn typed(kind: &str, bytes: &[u8]) -> Option<Value> {
    kinds::decode(kind, bytes).ok()
}

#[test]
fn schema_decoding_is_typed_decoding_for_random_records_of_every_kind() {
    let schema: Value = serde_json::from_str(records::SCHEMA_JSON).expect("schema");
    let types = schema["types"].as_object().expect("types");
    let mut g = Gen {
        types,
        rng: ChaCha20Rng::seed_from_u64(2026),
        keys: keys(),
    };
    const PER_KIND: usize = 300;
    let mut damaged_checked = 0;
    for spec in kinds::all() {
        let entry = &schema["kinds"][spec.name];
        if entry["raw"] == Value::Bool(true) {
            let bytes = [0x67, 0x6f, 0x76];
            assert_eq!(
                records::decode(spec.name, &bytes),
                Ok(typed(spec.name, &bytes).expect("raw"))
            );
            continue;
        }
        let mut agreed = 0;
        for _ in 0..PER_KIND {
            let bytes = g.record(entry);
            let Some(expected) = typed(spec.name, &bytes) else {
                if std::env::var("SCHEMA_DEBUG").is_ok() {
                    eprintln!("{}: {:?}", spec.name, kinds::decode(spec.name, &bytes));
                }
                continue;
            };
            assert_eq!(
                records::decode(spec.name, &bytes),
                Ok(expected),
                "{}: {}",
                spec.name,
                hex::encode(&bytes)
            );
            agreed += 1;
            // The same bytes damaged: whatever the typed decoder still takes, the schema
            // decodes the same; what the schema refuses, the typed decoder refuses too.
            let mut damaged = bytes.clone();
            match g.rng.gen_range(0..3) {
                0 => {
                    damaged.truncate(g.rng.gen_range(0..bytes.len().max(1)));
                }
                1 => damaged.push(g.rng.gen()),
                _ => {
                    let i = g.rng.gen_range(0..bytes.len().max(1));
                    if let Some(b) = damaged.get_mut(i) {
                        *b ^= 1 << g.rng.gen_range(0..8);
                    }
                }
            }
            match (
                typed(spec.name, &damaged),
                records::decode(spec.name, &damaged),
            ) {
                (Some(t), s) => {
                    assert_eq!(s, Ok(t), "{}: damaged {}", spec.name, hex::encode(&damaged))
                }
                (None, Ok(_)) | (None, Err(RecordError::BadValue(_))) => {}
                (None, Err(e)) => panic!("{}: {e:?}", spec.name),
            }
            damaged_checked += 1;
        }
        eprintln!("{}: {agreed} of {PER_KIND} random records agree", spec.name);
        // Most random records are records the typed decoder takes, or this test shows nothing.
        assert!(
            agreed * 10 >= PER_KIND * 9,
            "{}: only {agreed} of {PER_KIND} random records decode typed",
            spec.name
        );
    }
    assert!(damaged_checked > 1000);
}

#[test]
fn schema_decoding_is_typed_decoding_for_the_fuzz_seed_records() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/seeds/record");
    let names = kinds::names();
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("the record seeds") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
        let (which, value) = bytes.split_first().expect("a seed has a kind byte");
        let kind = names[usize::from(*which) % names.len()];
        let expected = kinds::decode(kind, value).expect("a seed is a real record");
        assert_eq!(records::decode(kind, value), Ok(expected), "{kind}");
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} seed records");
}

#[test]
fn unknown_kinds_and_bad_bytes_are_errors() {
    assert_eq!(
        records::decode("nope", &[]),
        Err(RecordError::UnknownKind("nope".into()))
    );
    // A nonce is a u64: fewer bytes end early, more are left over.
    assert!(matches!(
        records::decode("nonce", &[1, 2]),
        Err(RecordError::BadValue(_))
    ));
    assert!(matches!(
        records::decode("nonce", &[0; 9]),
        Err(RecordError::BadValue(_))
    ));
    assert_eq!(
        records::decode("nonce", &7u64.to_le_bytes()),
        Ok(Value::from(7u64))
    );
    // A length not in its shortest form is refused, as BCS refuses it.
    assert!(matches!(
        records::decode("party_licences", &[0x80, 0x00]),
        Err(RecordError::BadValue(_))
    ));
    assert_eq!(
        records::decode("party_licences", &[0]),
        Ok(serde_json::json!([]))
    );
}
