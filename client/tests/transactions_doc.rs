//! Every call has an example in docs/transactions.md, and every example is a call the CLI
//! accepts: it parses (no unknown field) and passes the modules' stateless checks
//! (`Call::precheck`). The list of calls is read from the types themselves (serde names the
//! variants it expects), so a new call without an example fails here.

use std::collections::{BTreeMap, BTreeSet};

use concordat_client::tx::parse_call_json;
use serde_json::{json, Value};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/transactions.md");
    std::fs::read_to_string(path).expect("docs/transactions.md")
}

/// The JSON values of every ```json block of the document.
fn json_examples(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        match (&mut block, line.trim_start()) {
            (None, "```json") => block = Some(String::new()),
            (Some(b), "```") => {
                let values: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(b)
                    .into_iter::<Value>()
                    .collect();
                let values =
                    values.unwrap_or_else(|e| panic!("a json block is not JSON ({e}):\n{b}"));
                out.extend(values);
                block = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// The variant names serde expects where `probe` puts an unknown one.
fn variants(probe: Value) -> Vec<String> {
    let err = serde_json::from_value::<concordat_contracts::Call>(probe)
        .expect_err("an unknown variant is refused")
        .to_string();
    // serde says "expected `A`", "expected `A` or `B`" or "expected one of `A`, `B`, …".
    let list = err
        .split("expected ")
        .nth(1)
        .unwrap_or_else(|| panic!("serde did not list the variants: {err}"));
    let list = list.strip_prefix("one of ").unwrap_or(list);
    list.split(", ")
        .flat_map(|v| v.split(" or "))
        .map(|v| v.trim().trim_matches('`').to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

#[test]
fn every_call_has_an_example_that_parses_and_prechecks() {
    let examples = json_examples(&doc());
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ex in &examples {
        let Some((module, inner)) = ex.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let Some(call) = inner.as_object().and_then(|o| o.keys().next()) else {
            continue;
        };
        if serde_json::from_value::<concordat_contracts::Call>(ex.clone()).is_err()
            && !variants(json!({ "__none__": null })).contains(module)
        {
            continue; // not a call (an answer or another document)
        }
        parse_call_json(&ex.to_string())
            .unwrap_or_else(|e| panic!("the example of {module}.{call} is refused: {e}\n{ex}"));
        documented
            .entry(module.clone())
            .or_default()
            .insert(call.clone());
    }
    let mut missing = Vec::new();
    for module in variants(json!({ "__none__": null })) {
        for call in variants(json!({ &module: { "__none__": null } })) {
            if !documented.get(&module).is_some_and(|c| c.contains(&call)) {
                missing.push(format!("{module}.{call}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/transactions.md has no example of: {}",
        missing.join(", ")
    );
}

#[test]
fn the_variant_probe_lists_the_calls() {
    // The probe itself must work, or the test above would pass on an empty list.
    let modules = variants(json!({ "__none__": null }));
    assert!(modules.contains(&"Party".to_string()), "{modules:?}");
    let calls = variants(json!({ "Party": { "__none__": null } }));
    assert!(calls.contains(&"Register".to_string()), "{calls:?}");
}
