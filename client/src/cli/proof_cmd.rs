//! `concordat proof` (make an offline bundle from a node) and `concordat verify` (check one with
//! no network, against a trust root). The format is docs/bundle.md.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use concordat_client::bundle::{
    verify_to_json, Anchor, Bundle, Claim, SetChange, SignedHeader, BUNDLE_VERSION_FULL,
};
use concordat_client::verify::state_key;
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

pub(super) fn hex_field(v: &Value, field: &str) -> Result<Vec<u8>> {
    let s = v[field]
        .as_str()
        .with_context(|| format!("the node's answer has no {field}"))?;
    hex::decode(s).with_context(|| format!("{field} is not hex"))
}

pub(super) fn signed(v: &Value) -> Result<SignedHeader> {
    Ok(SignedHeader {
        header: hex_field(v, "header_bytes")?,
        certificate: hex_field(v, "certificate")?,
    })
}

pub(super) fn hashes(v: &Value) -> Result<Vec<Hash>> {
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
pub(super) fn chain(
    node: &Node,
    since: u64,
    until: u64,
) -> Result<(Option<Anchor>, Vec<SetChange>)> {
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

/// Builds the bundle for `kind`/`id` from the node (see `proof`); returns it with its height.
pub(super) fn build(
    n: &Node,
    kind: &str,
    id: &str,
    height: Option<u64>,
    since: u64,
) -> Result<(Bundle, u64)> {
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
    let (anchor, changes) = chain(n, since, at)?;
    let bundle = Bundle {
        version: BUNDLE_VERSION_FULL,
        anchor,
        changes,
        header: signed(&header)?,
        claim,
    };
    Ok((bundle, at))
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
    (format, version): (BundleFormat, u16),
    output: Output,
) -> Result<()> {
    let (bundle, at) = build(&Node::new(node), kind, id, height, since)?;
    let bytes = if version == BUNDLE_VERSION_FULL {
        bundle.to_bytes()
    } else {
        bundle.to_compact_bytes()?
    };
    let written = match format {
        BundleFormat::Binary => bytes.clone(),
        BundleFormat::Json => {
            let doc = json!({"format": "concordat-bundle", "version": version, "bundle": hex::encode(&bytes)});
            format!("{doc}\n").into_bytes()
        }
    };
    fs::write(out, &written).with_context(|| format!("writing {}", out.display()))?;
    emit(
        output,
        &json!({"file": out, "bytes": bytes.len(), "bundle_version": version, "height": at, "changes": bundle.changes.len(), "since": since}),
        &format!(
            "bundle of {} bytes for {kind} {id} at height {at} ({} validator-set changes since {since}) written to {}",
            bytes.len(),
            bundle.changes.len(),
            out.display()
        ),
    );
    Ok(())
}

/// Reads a trust root: a genesis file, or `HEIGHT:HEADER_HASH`.
pub(super) fn trust_text(arg: &str) -> Result<String> {
    let path = PathBuf::from(arg);
    if path.is_file() {
        return fs::read_to_string(&path).with_context(|| format!("reading {arg}"));
    }
    if arg.trim_start().starts_with('{') || !arg.contains(':') {
        bail!("--trust {arg:?} is neither a genesis file nor a waypoint HEIGHT:HEADER_HASH");
    }
    Ok(arg.to_string())
}

/// `concordat verify FILE --trust T`.
pub fn verify(
    file: &Path,
    trust: &str,
    at: Option<&str>,
    max_age_days: Option<u64>,
    output: Output,
) -> Result<()> {
    let raw = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = trust_text(trust)?;
    let at_ms = at
        .map(|a| {
            concordat_primitives::time::parse_rfc3339_ms(a)
                .map_err(|e| anyhow::anyhow!("--at: {e}"))
        })
        .transpose()?;
    let mut verdict = verify_to_json(&raw, &text, rand::rngs::OsRng);
    // The verifier's own policy: a bundle older than this proves too old a state.
    if let (Some(days), true) = (max_age_days, verdict["valid"] == true) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_millis() as u64;
        let made = verdict["time_ms"].as_u64().unwrap_or(0);
        let age_days = now.saturating_sub(made) / 86_400_000;
        if age_days > days {
            verdict = json!({
                "valid": false,
                "error": format!("the bundle's header is {age_days} days old, over --max-age-days {days}"),
                "trust": verdict["trust"].clone(),
            });
        }
    }
    if let (Some(t), true) = (at_ms, verdict["valid"] == true) {
        let kind = verdict["subject"]["kind"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let spec = concordat_contracts::kinds::get(&kind).filter(|s| s.history.is_some());
        let (Some(spec), "present") = (spec, verdict["proven"].as_str().unwrap_or("")) else {
            bail!(
                "--at applies to a bundle proving a record that keeps a status history (kinds: {})",
                concordat_contracts::kinds::all()
                    .filter(|s| s.history.is_some())
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        let header_ms = verdict["time_ms"].as_u64().unwrap_or(0);
        if t > header_ms {
            bail!(
                "--at is after the bundle's header (height {}, time {}): the bundle proves the \
                 {kind}'s history only up to then; make a newer bundle",
                verdict["height"],
                concordat_primitives::time::format_rfc3339_ms(header_ms, 8 * 60)
            );
        }
        // The proven status history: the last change at or before the time.
        let status = spec
            .status_at(&verdict["value"], t)
            .map_err(|e| anyhow::anyhow!("--at: {e}"))?
            .unwrap_or_else(|| "NOT_YET_REGISTERED".to_string());
        verdict["status_at"] = json!({"at": at, "at_ms": t, "status": status});
        let line = format!(" Its status at {} was {status}.", at.unwrap_or(""));
        if let Some(sum) = verdict["summary"].as_str().map(|s| s.to_string() + &line) {
            verdict["summary"] = json!(sum);
        }
    }
    if verdict["valid"] == true {
        if let Some(t) = verdict["trust"].as_object_mut() {
            if PathBuf::from(trust).is_file() {
                t.insert("file".into(), json!(trust));
            }
        }
        let mut text = format!("VALID: {}", verdict["summary"].as_str().unwrap_or(""));
        if !verdict["value"].is_null() {
            text.push('\n');
            text.push_str(&serde_json::to_string_pretty(&verdict["value"])?);
        }
        emit(output, &verdict, &text);
        Ok(())
    } else {
        if output == Output::Json {
            println!("{verdict}");
        }
        Err(Reported(format!(
            "INVALID: {}",
            verdict["error"].as_str().unwrap_or("?")
        ))
        .into())
    }
}

/// `concordat eligibility USCC --for procurement|notification_commitment`: the node's answer
/// (`GET /v1/eligibility`), and with `--bundle-dir` an offline bundle, at the same height, of
/// the restriction key (present: the records imposing it; absent: none does) and of every
/// record a reason names, each checkable with `concordat verify`.
pub fn eligibility(
    uscc: &str,
    purpose: &str,
    node: &NodeArg,
    height: Option<u64>,
    bundle_dir: Option<&Path>,
    output: Output,
) -> Result<()> {
    let n = Node::new(node);
    let mut query = vec![("for", purpose.to_string())];
    if let Some(h) = height {
        query.push(("height", h.to_string()));
    }
    let mut answer = n.get(&["v1", "eligibility", uscc], &query)?;
    let at = answer["height"]
        .as_u64()
        .context("the answer has no height")?;
    if let Some(dir) = bundle_dir {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut subjects = vec![answer["restriction"].clone()];
        for list in ["bars", "flags"] {
            subjects.extend(answer[list].as_array().into_iter().flatten().cloned());
        }
        let mut files = Vec::new();
        for subject in subjects {
            let (Some(kind), Some(id)) = (subject["kind"].as_str(), subject["id"].as_str()) else {
                continue;
            };
            let file = dir.join(format!("{kind}-{}.bundle", id.replace(':', "_")));
            let (bundle, _) = build(&n, kind, id, Some(at), 0)?;
            fs::write(&file, bundle.to_compact_bytes()?)
                .with_context(|| format!("writing {}", file.display()))?;
            files.push(json!({"kind": kind, "id": id, "file": file}));
        }
        answer["bundles"] = json!(files);
    }
    let verdict = if answer["eligible"] == true {
        "ELIGIBLE"
    } else {
        "NOT ELIGIBLE"
    };
    let mut text = format!(
        "{uscc} is {verdict} for {purpose} at height {at} ({})",
        answer["date"].as_str().unwrap_or("?")
    );
    for (list, what) in [("bars", "bar"), ("flags", "flag")] {
        for r in answer[list].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "\n  {what} [{} {}] {} {}: {}",
                r["basis"].as_str().unwrap_or("?"),
                r["rule"].as_str().unwrap_or("?"),
                r["kind"].as_str().unwrap_or("?"),
                r["id"].as_str().unwrap_or("?"),
                r["text"].as_str().unwrap_or("")
            ));
        }
    }
    for b in answer["bundles"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n  bundle {} {}: {}",
            b["kind"].as_str().unwrap_or("?"),
            b["id"].as_str().unwrap_or("?"),
            b["file"].as_str().unwrap_or("?")
        ));
    }
    emit(output, &answer, &text);
    Ok(())
}
