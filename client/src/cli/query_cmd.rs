//! `concordat status` and `concordat query`: read from a node; state answers are verified
//! (header, commit certificate, validator set, state proof) before anything is shown.

use anyhow::{Context, Result};
use concordat_client::verify::{
    decode_value, state_key, verify_state_answer, Expect, StateAnswer, VerifiedState,
};
use concordat_primitives::Hash;
use serde_json::{json, Value};

use super::http::{Node, NodeArg};
use super::{emit, Output, Reported};

/// `concordat status`.
pub fn status(node: &NodeArg, output: Output) -> Result<()> {
    let st = Node::new(node).status()?;
    let text = format!(
        "chain {} at height {}\nblock {}\nstate root {}",
        st["chain_id"].as_str().unwrap_or("?"),
        st["height"],
        st["block_hash"].as_str().unwrap_or("?"),
        st["state_root"].as_str().unwrap_or("?"),
    );
    emit(output, &st, &text);
    Ok(())
}

fn verified_json(kind: &str, id: &str, v: &VerifiedState) -> Result<Value> {
    let value = match &v.value_bytes {
        Some(bytes) => decode_value(kind, bytes)?,
        None => Value::Null,
    };
    Ok(json!({
        "verified": true,
        "kind": kind,
        "id": id,
        "found": v.found,
        "height": v.height,
        "key": hex::encode(&v.key),
        "value": value,
        "value_bytes": v.value_bytes.as_ref().map(hex::encode),
        "state_root": v.state_root.to_hex(),
        "header_hash": v.header_hash.to_hex(),
        "validator_set_hash": v.header.header.validator_set_hash.to_hex(),
        "signing_power": v.header.signing_power,
        "total_power": v.header.total_power,
    }))
}

/// `concordat query KIND ID`: fetch with `proof=true`, verify, print.
pub fn query(
    kind: &str,
    id: &str,
    node: &NodeArg,
    height: Option<u64>,
    trusted_set: Option<&str>,
    output: Output,
) -> Result<()> {
    // Bad input is refused before asking anyone.
    state_key(kind, id)?;
    let validator_set_hash = trusted_set
        .map(|h| {
            Hash::from_hex(h).map_err(|_| anyhow::anyhow!("--validator-set-hash must be 64 hex"))
        })
        .transpose()?;
    let mut query = vec![("proof", "true".to_string())];
    if let Some(h) = height {
        query.push(("height", h.to_string()));
    }
    let raw = Node::new(node)
        .get(&["v1", "state", kind, id], &query)
        .with_context(|| format!("querying {kind}/{id}"))?;
    let expect = Expect {
        chain_id: None,
        height,
        validator_set_hash,
    };
    let verified = serde_json::from_value::<StateAnswer>(raw)
        .map_err(|e| format!("the answer is not a state answer: {e}"))
        .and_then(|answer| {
            verify_state_answer(kind, id, &answer, &expect, rand::rngs::OsRng)
                .map_err(|e| e.to_string())
        });
    match verified {
        Ok(v) => {
            let doc = verified_json(kind, id, &v)?;
            let text = if v.found {
                format!(
                    "verified at height {} (state root {}):\n{}",
                    v.height,
                    v.state_root,
                    serde_json::to_string_pretty(&doc["value"])?
                )
            } else {
                format!(
                    "verified at height {} (state root {}): {kind}/{id} does not exist",
                    v.height, v.state_root
                )
            };
            emit(output, &doc, &text);
            Ok(())
        }
        Err(e) => {
            if output == Output::Json {
                println!(
                    "{}",
                    json!({"verified": false, "kind": kind, "id": id, "error": e})
                );
            }
            Err(Reported(format!("verification FAILED, nothing shown: {e}")).into())
        }
    }
}
