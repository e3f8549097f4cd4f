//! Writes the record schema (`src/record_schema.json`, the reviewed file) in the compact form the
//! library carries (`$OUT_DIR/record_schema.bin`, about half the size; ADR 0025): the browser
//! verifier is smaller by the difference. `concordat_client::records` reads it back into the
//! same JSON value, and `tests/record_schema.rs` checks that the two are equal.
//!
//! The form: the strings of the file, most used first, each as a ULEB128 length and UTF-8
//! bytes after their ULEB128 count; then the value. A value is one byte, then what it says:
//! 0 null, 1 false, 2 true, 3 a ULEB128 number, 4 a ULEB128 string index, 5 an array (ULEB128
//! count, values), 6 an object (ULEB128 count, then per member the ULEB128 index of its key
//! and its value); a byte of 7 or more is the string of index `byte - 7`.

use std::collections::BTreeMap;

use serde_json::Value;

/// The first byte that is itself a string index.
const DIRECT: u8 = 7;

fn uleb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn count<'a>(v: &'a Value, uses: &mut BTreeMap<&'a str, usize>) {
    match v {
        Value::String(s) => *uses.entry(s).or_default() += 1,
        Value::Array(items) => items.iter().for_each(|i| count(i, uses)),
        Value::Object(m) => {
            for (k, v) in m {
                *uses.entry(k).or_default() += 1;
                count(v, uses);
            }
        }
        _ => {}
    }
}

fn value(out: &mut Vec<u8>, v: &Value, index: &BTreeMap<&str, usize>) {
    match v {
        Value::Null => out.push(0),
        Value::Bool(false) => out.push(1),
        Value::Bool(true) => out.push(2),
        Value::Number(n) => {
            out.push(3);
            uleb(
                out,
                n.as_u64()
                    .expect("the record schema has only whole numbers"),
            );
        }
        Value::String(s) => {
            let i = index[s.as_str()];
            match u8::try_from(i + usize::from(DIRECT)) {
                Ok(b) => out.push(b),
                Err(_) => {
                    out.push(4);
                    uleb(out, i as u64);
                }
            }
        }
        Value::Array(items) => {
            out.push(5);
            uleb(out, items.len() as u64);
            items.iter().for_each(|i| value(out, i, index));
        }
        Value::Object(m) => {
            out.push(6);
            uleb(out, m.len() as u64);
            for (k, v) in m {
                uleb(out, index[k.as_str()] as u64);
                value(out, v, index);
            }
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src/record_schema.json");
    let text = std::fs::read_to_string("src/record_schema.json").expect("src/record_schema.json");
    let schema: Value = serde_json::from_str(&text).expect("src/record_schema.json is JSON");
    let mut uses = BTreeMap::new();
    count(&schema, &mut uses);
    let mut strings: Vec<(&str, usize)> = uses.into_iter().collect();
    // Most used first (ties by text, so the output is the same on every build).
    strings.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let index: BTreeMap<&str, usize> = strings
        .iter()
        .enumerate()
        .map(|(i, (s, _))| (*s, i))
        .collect();
    let mut out = Vec::new();
    uleb(&mut out, strings.len() as u64);
    for (s, _) in &strings {
        uleb(&mut out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    value(&mut out, &schema, &index);
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(format!("{dir}/record_schema.bin"), out).expect("write record_schema.bin");
}
