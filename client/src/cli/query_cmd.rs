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

/// Fetches `kind`/`id` with its proof and verifies it (any validator set the answer carries
/// that hashes to its header's; the caller pins none).
pub(super) fn fetch_verified(
    n: &Node,
    kind: &str,
    id: &str,
    height: Option<u64>,
) -> Result<VerifiedState> {
    let mut query = vec![("proof", "true".to_string())];
    if let Some(h) = height {
        query.push(("height", h.to_string()));
    }
    let raw = n
        .get(&["v1", "state", kind, id], &query)
        .with_context(|| format!("querying {kind}/{id}"))?;
    let answer: StateAnswer = serde_json::from_value(raw)
        .map_err(|e| anyhow::anyhow!("the answer is not a state answer: {e}"))?;
    let expect = Expect {
        chain_id: None,
        height,
        validator_set_hash: None,
    };
    verify_state_answer(kind, id, &answer, &expect, rand::rngs::OsRng)
        .map_err(|e| anyhow::anyhow!("{kind}/{id}: verification FAILED: {e}"))
}

fn verified_record<T: serde::Serialize + serde::de::DeserializeOwned>(
    n: &Node,
    kind: &str,
    id: &str,
    height: u64,
) -> Result<T> {
    let v = fetch_verified(n, kind, id, Some(height))?;
    let bytes = v
        .value_bytes
        .ok_or_else(|| anyhow::anyhow!("{kind} {id} does not exist at height {height}"))?;
    concordat_primitives::encoding::from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("{kind} {id} does not decode: {e}"))
}

/// `concordat inspection draw PLAN --verify`: reads the drawn plan and its tasks, each
/// verified against a signed header at one height, recomputes the draw from the plan's
/// revealed seed and stored pools (`DRAW-HMAC-SHA256-V1`), and compares.
pub fn verify_draw(plan_id: &str, node: &NodeArg, output: Output) -> Result<()> {
    use concordat_contracts::inspection::{draw, InspectionPlan, InspectionTask, PlanStatus};
    let n = Node::new(node);
    let at = fetch_verified(&n, "inspection_plan", plan_id, None)?.height;
    let plan: InspectionPlan = verified_record(&n, "inspection_plan", plan_id, at)?;
    if matches!(plan.status, PlanStatus::Draft | PlanStatus::Committed) {
        anyhow::bail!(
            "plan {plan_id} is {:?}: it has not been drawn yet",
            plan.status
        );
    }
    let seed = hex::decode(plan.seed_reveal.clone().unwrap_or_default())
        .context("the plan's seed is not hex")?;
    let mut problems = Vec::new();
    if concordat_primitives::Hash::digest(&seed) != plan.seed_commitment {
        problems.push("the revealed seed does not match its commitment".to_string());
    }
    let pool_hash =
        concordat_primitives::Hash::digest(&concordat_primitives::encoding::to_bytes(&plan.pool));
    if plan.pool_snapshot_hash != Some(pool_hash) {
        problems.push("the target pool does not match its snapshot hash".to_string());
    }
    let recomputed = draw(&plan, &seed);
    let ids: Vec<&String> = recomputed.iter().map(|d| &d.task_id).collect();
    if ids != plan.task_ids.iter().collect::<Vec<_>>() {
        problems.push(format!(
            "the plan lists {} tasks, the draw gives {}",
            plan.task_ids.len(),
            recomputed.len()
        ));
    }
    for d in &recomputed {
        let Ok(t) = verified_record::<InspectionTask>(&n, "inspection_task", &d.task_id, at) else {
            problems.push(format!("task {} is missing", d.task_id));
            continue;
        };
        let first_two: Vec<String> = d.ranking.iter().take(2).cloned().collect();
        let replaced: Vec<&String> = t.recusals.iter().map(|r| &r.replacement).collect();
        let inspectors_ok = t.inspectors == first_two
            || t.inspectors
                .iter()
                .all(|i| first_two.contains(i) || replaced.contains(&i));
        if t.target != d.target || t.kind != d.kind || !inspectors_ok {
            problems.push(format!(
                "task {}: the ledger has {} ({:?}, {:?}), the draw gives {} ({:?}, {:?})",
                d.task_id, t.target, t.kind, t.inspectors, d.target, d.kind, first_two
            ));
        }
    }
    let doc = json!({
        "plan_id": plan_id, "height": at, "algorithm": plan.draw_algorithm, "tasks": recomputed,
        "matches": problems.is_empty(), "problems": problems,
    });
    if problems.is_empty() {
        emit(
            output,
            &doc,
            &format!(
                "the draw of plan {plan_id} (verified at height {at}) recomputes exactly: {} tasks",
                recomputed.len()
            ),
        );
        Ok(())
    } else {
        if output == Output::Json {
            println!("{doc}");
        }
        Err(Reported(format!(
            "the draw of plan {plan_id} does NOT match: {}",
            problems.join("; ")
        ))
        .into())
    }
}
