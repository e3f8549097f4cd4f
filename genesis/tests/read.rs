//! `GenesisSpec::from_json` reads with the strict JSON reader and takes the fields by hand
//! (ADR 0025); serde's derive on the spec types is the oracle it must agree with: the same
//! files accepted, read to the same spec, for the demo genesis damaged in random ways.

use concordat_genesis::{demo_spec, GenesisSpec, DEMO_DEPARTMENTS};
use concordat_primitives::{PublicKey, SecretKey};
use proptest::prelude::*;

fn demo_json(pretty: bool) -> String {
    let pk = |i: u8| SecretKey::from_seed([i; 32]).public_key();
    let members: Vec<PublicKey> = (1..=DEMO_DEPARTMENTS.len() as u8).map(pk).collect();
    let validators: Vec<PublicKey> = (101..=104).map(pk).collect();
    let spec = demo_spec(
        "concordat-test",
        "2026-11-28T00:00:00+08:00",
        &members,
        &validators,
    );
    if pretty {
        spec.to_json()
    } else {
        serde_json::to_string(&spec).expect("json")
    }
}

/// The two readers agree on `text`; the one difference allowed: serde's derive also reads a
/// struct written as an array of its field values, which `from_json` refuses ("expected an
/// object").
fn agree(text: &str) -> Result<(), TestCaseError> {
    let ours = GenesisSpec::from_json(text);
    let serde = serde_json::from_str::<GenesisSpec>(text);
    match (&ours, &serde) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", text),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) if e.to_string().contains("expected an object") => {}
        _ => prop_assert!(
            false,
            "the readers disagree on {:?}: ours {:?}, serde {:?}",
            text,
            ours.map(|_| "accepted"),
            serde.map(|_| "accepted")
        ),
    }
    Ok(())
}

#[test]
fn the_demo_and_hand_made_cases_read_as_serde_reads_them() {
    for pretty in [true, false] {
        let text = demo_json(pretty);
        let spec = GenesisSpec::from_json(&text).expect("the demo reads");
        assert_eq!(spec, serde_json::from_str(&text).expect("serde reads it"));
        agree(&text).expect("agree");
    }
    let cases = [
        "{}",
        "[]",
        "null",
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":4294967296,"departments":[],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":-1,"departments":[],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":-0,"departments":[],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1.0,"departments":[],"validators":[]}"#,
        r#"{"chain_id":"c","chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[],"x":1}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[{"public_key":"k","power":18446744073709551615,"department":"d"}]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[{"public_key":"k","power":18446744073709551616,"department":"d"}]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[{"uscc":"u","name":"n","region":"r","roles":[],"member_keys":[1]}],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[{"uscc":"u","name":"n","region":"r","roles":[]}],"validators":[]}"#,
        r#"{"chain_id":"\u0063","genesis_time":"t","app_version":1,"departments":[],"validators":[]}"#,
    ];
    for text in cases {
        agree(text).expect("agree");
    }
    // The array form serde's derive also reads is refused, at every level.
    for text in [
        r#"["c","t",1,[],[]]"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[["u","n","r",[],[]]],"validators":[]}"#,
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[["k",1,"d"]]}"#,
    ] {
        assert!(serde_json::from_str::<GenesisSpec>(text).is_ok(), "{text}");
        let e = GenesisSpec::from_json(text).expect_err("the array form");
        assert!(e.to_string().contains("expected an object"), "{e}");
    }
}

#[test]
fn errors_name_the_field() {
    let e = GenesisSpec::from_json(
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[{"uscc":"u","name":"n","region":"r","roles":["A",2],"member_keys":[]}],"validators":[]}"#,
    )
    .expect_err("a role is not text");
    assert!(
        e.to_string()
            .contains("departments[0].roles[1]: expected a string"),
        "{e}"
    );
    let e =
        GenesisSpec::from_json("{\"chain_id\":\"c\",\n\"genesis_time\":}").expect_err("not JSON");
    assert!(e.to_string().contains("line 2 column 16"), "{e}");
    let e = GenesisSpec::from_json(
        r#"{"chain_id":"c","genesis_time":"t","app_version":1,"departments":[],"validators":[{"public_key":"k","department":"d"}]}"#,
    )
    .expect_err("no power");
    assert!(
        e.to_string()
            .contains("validators[0]: missing field `power`"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn damaged_demo_files_read_as_serde_reads_them(
        pretty in any::<bool>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0u8..3,
             prop::sample::select(b"{}[],:\"\\-0123456789.eE \nabtrue".to_vec())),
            1..4),
    ) {
        let mut text = demo_json(pretty).into_bytes();
        for (at, op, byte) in edits {
            let i = at.index(text.len() + 1);
            match op {
                0 => text.insert(i, byte),
                1 if i < text.len() => { text.remove(i); }
                _ if i < text.len() => text[i] = byte,
                _ => {}
            }
        }
        if let Ok(text) = String::from_utf8(text) {
            agree(&text)?;
        }
    }
}
