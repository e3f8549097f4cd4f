//! The strict JSON reader (`concordat_primitives::json`) against serde_json: what it reads it
//! reads as serde_json does; what it refuses that serde_json reads is only what its docs say it
//! refuses (fractions, exponents, `-0`, repeated keys).

use concordat_primitives::json::{parse, MAX_DEPTH};
use proptest::prelude::*;
use serde_json::{json, Value};

fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(m) => m.values().any(has_float),
        _ => false,
    }
}

#[test]
fn reads_what_serde_json_reads() {
    let docs = [
        r#"{"chain_id":"concordat-localnet","app_version":1,"departments":[],"validators":[]}"#,
        " \t\r\n[1, -2, 18446744073709551615, -9223372036854775808, 0, true, false, null] \n",
        r#"{"a":{"b":{"c":[[],{}]}}, "": ""}"#,
        r#""\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u4e2d \ud83d\ude00 朝阳区市场监管局""#,
        r#"{"key with \"quotes\"": "value", "z": 1, "a": 2}"#,
        "\"\u{7f}\u{80}\u{10ffff}\"",
    ];
    for doc in docs {
        let ours = parse(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        let theirs: Value = serde_json::from_str(doc).expect("serde_json reads it");
        assert_eq!(ours, theirs, "{doc}");
    }
}

#[test]
fn refuses_what_is_not_json_with_where() {
    let cases = [
        ("", "ends where a value should be", 1, 1),
        ("[1,]", "expected a value", 1, 4),
        ("[1 2]", "expected `,` or `]`", 1, 4),
        ("{\"a\" 1}", "expected `:`", 1, 6),
        ("{\"a\":1,}", "expected a key", 1, 8),
        ("{a:1}", "expected a key", 1, 2),
        ("[01]", "invalid number", 1, 2),
        ("[-]", "invalid number", 1, 2),
        ("\"abc", "ends inside a string", 1, 5),
        ("\"a\u{1}b\"", "control character", 1, 3),
        ("\"\\x\"", "invalid escape", 1, 3),
        ("\"\\u12\"", "four hex digits", 1, 4),
        ("\"\\ud800\"", "high surrogate without its low one", 1, 8),
        (
            "\"\\ud800\\u0041\"",
            "high surrogate without its low one",
            1,
            14,
        ),
        ("\"\\udc00\"", "low surrogate without its high one", 1, 8),
        ("{}\n  x", "trailing characters", 2, 3),
        ("tru", "expected a value", 1, 1),
        ("nul", "expected a value", 1, 1),
        ("18446744073709551616", "out of range", 1, 1),
        ("-9223372036854775809", "out of range", 1, 1),
        // Valid JSON that these files never hold, refused on purpose.
        ("[1.5]", "only whole numbers", 1, 2),
        ("[1e3]", "only whole numbers", 1, 2),
        ("[-0]", "only whole numbers", 1, 2),
        ("{\"a\":1,\n \"a\":2}", "`a` is repeated", 2, 2),
    ];
    for (doc, what, line, column) in cases {
        let e = parse(doc).expect_err(doc);
        assert!(e.message.contains(what), "{doc:?}: {e}");
        assert_eq!((e.line, e.column), (line, column), "{doc:?}: {e}");
        assert!(e
            .to_string()
            .contains(&format!("line {line} column {column}")));
    }
    // Nesting: MAX_DEPTH levels are read, one more is refused, as serde_json does.
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(parse(&deep(MAX_DEPTH)).is_ok());
    assert!(serde_json::from_str::<Value>(&deep(MAX_DEPTH)).is_ok());
    let e = parse(&deep(MAX_DEPTH + 1)).expect_err("too deep");
    assert!(e.message.contains("nested too deep"), "{e}");
    assert!(serde_json::from_str::<Value>(&deep(MAX_DEPTH + 1)).is_err());
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\/a\u{e9}\u{4e2d}\u{1f600}]{0,8}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any value without floats, written compactly or pretty, reads back as itself.
    #[test]
    fn written_values_read_back(v in value()) {
        let compact = serde_json::to_string(&v).expect("json");
        prop_assert_eq!(parse(&compact).expect("compact"), v.clone());
        let pretty = serde_json::to_string_pretty(&v).expect("json");
        prop_assert_eq!(parse(&pretty).expect("pretty"), v);
    }

    /// Damaged texts: whatever the reader accepts, serde_json accepts as the same value; what
    /// serde_json accepts and the reader refuses holds a float or a repeated key.
    #[test]
    fn damaged_texts_agree_with_serde_json(v in value(), cut in any::<prop::sample::Index>(),
                                           byte in prop::sample::select(b"{}[],:\"\\-0123456789.eEtfnul \n\x01".to_vec())) {
        let mut text = serde_json::to_string(&v).expect("json").into_bytes();
        let at = cut.index(text.len() + 1);
        text.insert(at, byte);
        let Ok(text) = String::from_utf8(text) else { return Ok(()) };
        let theirs = serde_json::from_str::<Value>(&text);
        match parse(&text) {
            Ok(ours) => prop_assert_eq!(Some(ours), theirs.ok(), "{}", text),
            Err(e) => {
                if let Ok(theirs) = theirs {
                    prop_assert!(has_float(&theirs) || e.message.contains("is repeated"),
                        "serde_json reads {:?} as {} but the reader says {}", text, theirs, e);
                }
            }
        }
    }
}

#[test]
fn a_genesis_like_file_reads_as_serde_json_reads_it() {
    let v = json!({
        "chain_id": "concordat-localnet", "genesis_time": "2026-11-28T00:00:00+08:00",
        "app_version": 1,
        "departments": [{"uscc": "11110000MB01A7C368", "name": "朝阳区市场监管局",
            "region": "110105", "roles": ["REGISTRAR"], "member_keys": ["ab".repeat(32)]}],
        "validators": [{"public_key": "cd".repeat(32), "power": 10,
            "department": "11110000MB01A7C368"}],
    });
    let text = serde_json::to_string_pretty(&v).expect("json");
    assert_eq!(parse(&text).expect("reads"), v);
}
