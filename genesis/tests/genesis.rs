//! Genesis validation, canonical hashing and clear errors.

use concordat_genesis::{demo_spec, GenesisSpec, DEMO_DEPARTMENTS};
use concordat_primitives::{PublicKey, SecretKey};

fn pk(i: u8) -> PublicKey {
    SecretKey::from_seed([i; 32]).public_key()
}

fn spec() -> GenesisSpec {
    let members: Vec<PublicKey> = (1..=DEMO_DEPARTMENTS.len() as u8).map(pk).collect();
    let validators: Vec<PublicKey> = (101..=104).map(pk).collect();
    demo_spec(
        "concordat-test",
        "2026-11-28T00:00:00+08:00",
        &members,
        &validators,
    )
}

fn errors(s: &GenesisSpec) -> Vec<String> {
    s.validate().expect_err("must be refused").0
}

#[test]
fn demo_spec_is_valid_and_hash_is_order_independent() {
    let s = spec();
    let g = s.validate().expect("valid");
    assert_eq!(g.departments.len(), DEMO_DEPARTMENTS.len());
    assert_eq!(g.validator_set().expect("set").len(), 4);
    let mut shuffled = s.clone();
    shuffled.departments.reverse();
    shuffled.validators.reverse();
    shuffled.departments[0].roles.reverse();
    assert_eq!(shuffled.validate().expect("valid").hash(), g.hash());
    // Through JSON and back.
    let again = GenesisSpec::from_json(&s.to_json())
        .expect("parses")
        .validate()
        .expect("valid");
    assert_eq!(again.hash(), g.hash());
    // The canonical spec round-trips.
    assert_eq!(g.to_spec().validate().expect("valid").hash(), g.hash());
}

#[test]
fn any_content_change_changes_the_hash() {
    let base = spec().validate().expect("valid").hash();
    let mut a = spec();
    a.validators[0].power = 11;
    assert_ne!(a.validate().expect("valid").hash(), base);
    let mut b = spec();
    b.departments[2].name.push('x');
    assert_ne!(b.validate().expect("valid").hash(), base);
    let mut c = spec();
    c.chain_id = "concordat-other".into();
    assert_ne!(c.validate().expect("valid").hash(), base);
    let mut d = spec();
    d.genesis_time = "2026-11-28T00:00:01+08:00".into();
    assert_ne!(d.validate().expect("valid").hash(), base);
}

fn has(errs: &[String], needle: &str) -> bool {
    errs.iter().any(|e| e.contains(needle))
}

#[test]
fn clear_errors() {
    let mut s = spec();
    let k0 = s.departments[0].member_keys[0].clone();
    s.departments[1].member_keys.push(k0);
    assert!(
        has(&errors(&s), "departments[1].member_keys[1]: key"),
        "{:?}",
        errors(&s)
    );

    let mut s = spec();
    s.departments[0].uscc = "91110105MA01R7K443".into();
    assert!(has(&errors(&s), "check character is '3', expected '2'"));

    let mut s = spec();
    s.departments[0].roles.push("MAYOR".into());
    let e = errors(&s);
    assert!(
        has(
            &e,
            "departments[0].roles: unknown role \"MAYOR\"; known roles: REGISTRAR"
        ),
        "{e:?}"
    );

    let mut s = spec();
    s.validators[2].power = 0;
    assert!(has(
        &errors(&s),
        "validators[2].power: voting power must be at least 1"
    ));

    let mut s = spec();
    s.validators[1].public_key = s.validators[0].public_key.clone();
    assert!(has(&errors(&s), "is listed twice"));

    let mut s = spec();
    let dup = s.departments[0].clone();
    s.departments.push(dup);
    assert!(has(&errors(&s), "is listed twice"));

    let mut s = spec();
    s.validators[0].department = "91110105MA01R7K442".into();
    assert!(has(&errors(&s), "is not a department of this genesis"));

    let mut s = spec();
    s.validators[0].public_key = s.departments[0].member_keys[0].clone();
    assert!(has(&errors(&s), "use a separate consensus key"));

    let mut s = spec();
    s.validators[0].public_key =
        "0100000000000000000000000000000000000000000000000000000000000000".into();
    assert!(has(&errors(&s), "small order"));

    let mut s = spec();
    s.chain_id = "Bad Chain".into();
    s.genesis_time = "yesterday".into();
    s.departments[0].region = "1101".into();
    let e = errors(&s);
    assert!(
        has(&e, "chain_id:") && has(&e, "genesis_time:") && has(&e, "departments[0].region:"),
        "all errors at once: {e:?}"
    );

    let mut s = spec();
    s.validators.clear();
    assert!(has(&errors(&s), "at least one validator"));

    assert!(GenesisSpec::from_json("{\"chain_id\": 1}").is_err());
    let mut json: serde_json::Value = serde_json::from_str(&spec().to_json()).expect("json");
    json["surprise"] = serde_json::Value::Bool(true);
    let e = GenesisSpec::from_json(&json.to_string()).expect_err("unknown field");
    assert!(e.to_string().contains("unknown field"), "{e}");
}
