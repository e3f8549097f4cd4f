//! `concordat proof` (make an offline bundle from a node) and `concordat verify` (check one with
//! no network, against a trust root). The format is docs/bundle.md.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use concordat_client::bundle::{
    verify_bundle, Anchor, Bundle, Claim, Proven, SetChange, SignedHeader, TrustRoot,
    BUNDLE_VERSION,
};
use concordat_client::verify::{decode_value, state_key};
use concordat_primitives::Hash;
use serde_json::{json, Value};

use super::http::{Node, NodeArg};
use super::{emit, Output, Reported};

/// How the bundle file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BundleFormat {
    /// The canonical bytes.
    Binary,
    /// `{"format":"concordat-bundle","version":1,"bundle":"<hex>"}`.
    Json,
}

fn hex_field(v: &Value, field: &str) -> Result<Vec<u8>> {
    let s = v[field]
        .as_str()
        .with_context(|| format!("the node's answer has no {field}"))?;
    hex::decode(s).with_context(|| format!("{field} is not hex"))
}

fn signed(v: &Value) -> Result<SignedHeader> {
    Ok(SignedHeader {
        header: hex_field(v, "header_bytes")?,
        certificate: hex_field(v, "certificate")?,
    })
}

fn hashes(v: &Value) -> Result<Vec<Hash>> {
    v.as_array()
        .context("the proof is not a list")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| Hash::from_hex(s).ok())
                .context("a proof hash is not 64 hex")
        })
        .collect()
}

/// The anchor and changes from `since` to `until`.
fn chain(node: &Node, since: u64, until: u64) -> Result<(Option<Anchor>, Vec<SetChange>)> {
    let v = node
        .get(
            &["v1", "validator_changes"],
            &[("since", since.to_string()), ("until", until.to_string())],
        )
        .context("fetching the validator-set changes")?;
    let anchor = if v["anchor"].is_null() {
        None
    } else {
        Some(Anchor {
            header: hex_field(&v["anchor"], "header_bytes")?,
            next_validator_set: hex_field(&v["anchor"], "next_validator_set")?,
        })
    };
    let changes = v["changes"]
        .as_array()
        .context("no changes list")?
        .iter()
        .map(|c| {
            Ok(SetChange {
                signed: signed(c)?,
                next_validator_set: hex_field(c, "next_validator_set")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((anchor, changes))
}

/// `concordat proof KIND ID`.
#[allow(clippy::too_many_arguments)]
pub fn proof(
    kind: &str,
    id: &str,
    node: &NodeArg,
    height: Option<u64>,
    since: u64,
    out: &Path,
    format: BundleFormat,
    output: Output,
) -> Result<()> {
    let n = Node::new(node);
    let (header, claim) = match kind {
        "tx" => {
            let hash = Hash::from_hex(id)
                .map_err(|_| anyhow::anyhow!("{id:?} is not a transaction hash"))?;
            let t = n.tx(&hash.to_hex())?;
            if t["status"] != "committed" {
                bail!("transaction {id} is not committed ({})", t["status"]);
            }
            let index = t["log_index"].as_u64().context("no log_index")?;
            let h = match height {
                Some(h) => h,
                None => n.chain_and_tip()?.1,
            };
            let header = n.get(&["v1", "headers", &h.to_string()], &[])?;
            let size = header["header"]["tx_log_size"]
                .as_u64()
                .context("no tx_log_size")?;
            let p = n.get(
                &["v1", "txlog", &index.to_string()],
                &[("size", size.to_string())],
            )?;
            let claim = Claim::Tx {
                index,
                leaf: hex_field(&p, "leaf")?,
                proof: hashes(&p["proof"])?,
            };
            (header, claim)
        }
        "consistency" => {
            let old: u64 = id.parse().map_err(|_| {
                anyhow::anyhow!("the id of a consistency proof is the earlier height")
            })?;
            let h = match height {
                Some(h) => h,
                None => n.chain_and_tip()?.1,
            };
            let header = n.get(&["v1", "headers", &h.to_string()], &[])?;
            let old_header = n.get(&["v1", "headers", &old.to_string()], &[])?;
            let old_size = old_header["header"]["tx_log_size"]
                .as_u64()
                .context("no tx_log_size")?;
            let new_size = header["header"]["tx_log_size"]
                .as_u64()
                .context("no tx_log_size")?;
            let p = n.get(
                &["v1", "txlog", "consistency"],
                &[("from", old_size.to_string()), ("to", new_size.to_string())],
            )?;
            let claim = Claim::Consistency {
                old: signed(&old_header)?,
                proof: hashes(&p["proof"])?,
            };
            (header, claim)
        }
        _ => {
            let key = state_key(kind, id)?;
            let mut q = vec![("proof", "true".to_string())];
            if let Some(h) = height {
                q.push(("height", h.to_string()));
            }
            let a = n.get(&["v1", "state", kind, id], &q)?;
            let value = match a["found"].as_bool() {
                Some(true) => Some(hex_field(&a, "value_bytes")?),
                _ => None,
            };
            let claim = Claim::State {
                kind: kind.into(),
                id: id.into(),
                key,
                value,
                proof: hex_field(&a, "proof")?,
            };
            (a, claim)
        }
    };
    let at = header["height"].as_u64().context("no height")?;
    let (anchor, changes) = chain(&n, since, at)?;
    let bundle = Bundle {
        version: BUNDLE_VERSION,
        anchor,
        changes,
        header: signed(&header)?,
        claim,
    };
    let bytes = bundle.to_bytes();
    let written = match format {
        BundleFormat::Binary => bytes.clone(),
        BundleFormat::Json => {
            let doc = json!({"format": "concordat-bundle", "version": BUNDLE_VERSION, "bundle": hex::encode(&bytes)});
            format!("{doc}\n").into_bytes()
        }
    };
    fs::write(out, &written).with_context(|| format!("writing {}", out.display()))?;
    emit(
        output,
        &json!({"file": out, "bytes": bytes.len(), "height": at, "changes": bundle.changes.len(), "since": since}),
        &format!(
            "bundle of {} bytes for {kind} {id} at height {at} ({} validator-set changes since {since}) written to {}",
            bytes.len(),
            bundle.changes.len(),
            out.display()
        ),
    );
    Ok(())
}

/// Reads a bundle file: canonical bytes, or the JSON wrapping.
pub fn read_bundle(path: &Path) -> Result<Vec<u8>> {
    let raw = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if raw.first() == Some(&b'{') {
        let v: Value = serde_json::from_slice(&raw).context("the bundle file is not valid JSON")?;
        if v["format"] != "concordat-bundle" {
            bail!("the JSON file is not a concordat-bundle");
        }
        return hex::decode(v["bundle"].as_str().context("no bundle field")?)
            .context("the bundle field is not hex");
    }
    Ok(raw)
}

/// Reads a trust root: a genesis file, or `HEIGHT:HEADER_HASH`.
pub fn read_trust(arg: &str) -> Result<(TrustRoot, Value)> {
    let path = PathBuf::from(arg);
    if path.is_file() {
        let text = fs::read_to_string(&path).with_context(|| format!("reading {arg}"))?;
        let genesis = concordat_genesis::GenesisSpec::from_json(&text)
            .map_err(|e| anyhow::anyhow!("{arg}: {e}"))?
            .validate()
            .map_err(|e| anyhow::anyhow!("{arg} is not a valid genesis: {e}"))?;
        let set = genesis
            .validator_set()
            .map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
        let hash = genesis.hash();
        let desc = json!({"kind": "genesis", "file": arg, "genesis_hash": hash.to_hex(), "chain_id": genesis.chain_id, "validator_set_hash": set.hash().to_hex()});
        return Ok((
            TrustRoot::Genesis {
                chain_id: genesis.chain_id.clone(),
                genesis_hash: hash,
                validator_set: set,
            },
            desc,
        ));
    }
    let trust = TrustRoot::parse_waypoint(arg)
        .map_err(|e| anyhow::anyhow!("--trust is neither a genesis file nor a waypoint: {e}"))?;
    let TrustRoot::Waypoint {
        height,
        header_hash,
    } = &trust
    else {
        unreachable!("parse_waypoint returns a waypoint")
    };
    let desc = json!({"kind": "waypoint", "height": height, "header_hash": header_hash.to_hex()});
    Ok((trust, desc))
}

/// `concordat verify FILE --trust T`.
pub fn verify(file: &Path, trust: &str, output: Output) -> Result<()> {
    let bytes = read_bundle(file)?;
    let (root, trust_desc) = read_trust(trust)?;
    match verify_bundle(&bytes, &root, rand::rngs::OsRng) {
        Ok(v) => {
            let (proven, subject, value) = match &v.proven {
                Proven::Present { kind, id, value } => (
                    "present",
                    json!({"kind": kind, "id": id}),
                    decode_value(kind, value)?,
                ),
                Proven::Absent { kind, id } => {
                    ("absent", json!({"kind": kind, "id": id}), Value::Null)
                }
                Proven::Included { index, record } => (
                    "included",
                    json!({"kind": "tx", "log_index": index, "tx_hash": record.tx_hash.to_hex()}),
                    json!({"tx_hash": record.tx_hash.to_hex(), "code": record.code.as_str(), "height": record.height}),
                ),
                Proven::Consistent {
                    old_height,
                    old_size,
                } => (
                    "consistent",
                    json!({"kind": "consistency", "old_height": old_height, "old_size": old_size}),
                    json!({"old_size": old_size, "new_size": v.header.tx_log_size}),
                ),
            };
            let doc = json!({
                "valid": true, "proven": proven, "subject": subject, "value": value,
                "height": v.header.height, "header_hash": v.header_hash.to_hex(),
                "chain_id": v.header.chain_id, "state_root": v.header.state_root.to_hex(),
                "time_ms": v.header.time_ms, "validator_set_hash": v.validator_set_hash.to_hex(),
                "signing_power": v.signing_power, "total_power": v.total_power,
                "validator_set_changes_followed": v.changes_followed, "trust": trust_desc,
            });
            let what = match &v.proven {
                Proven::Present { kind, id, .. } => format!("{kind} {id} is PRESENT"),
                Proven::Absent { kind, id } => format!("{kind} {id} is ABSENT"),
                Proven::Included { index, record } => format!(
                    "transaction {} is INCLUDED at log index {index} with result {}",
                    record.tx_hash,
                    record.code.as_str()
                ),
                Proven::Consistent { old_height, .. } => format!(
                    "the transaction log at height {} extends the log at height {old_height}",
                    v.header.height
                ),
            };
            let text = format!(
                "VALID: {what} at height {} (header {}, chain {}), signed by {} of {} voting power, under trust root {} after {} validator-set changes{}",
                v.header.height,
                v.header_hash,
                v.header.chain_id,
                v.signing_power,
                v.total_power,
                trust_desc["genesis_hash"].as_str().map(|h| format!("genesis {h}")).unwrap_or_else(|| format!("waypoint {trust}")),
                v.changes_followed,
                if value.is_null() { String::new() } else { format!("\n{}", serde_json::to_string_pretty(&value)?) }
            );
            emit(output, &doc, &text);
            Ok(())
        }
        Err(e) => {
            if output == Output::Json {
                println!(
                    "{}",
                    json!({"valid": false, "error": e.to_string(), "trust": trust_desc})
                );
            }
            Err(Reported(format!("INVALID: {e}")).into())
        }
    }
}
