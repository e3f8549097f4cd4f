//! `concordat trace NUMBER`: the "Customs Clearance + Logistics" timeline of an entry number,
//! bill of lading, air waybill or container, verified before it is shown: the header (its
//! certificate and validator set), the state proof of the number's index and of every record
//! it names, and the tx-log inclusion proof and signed bytes of every transaction a step
//! names; the timeline is then rebuilt from the proven records (`concordat_client::trace`).
//! `--bundle-dir` writes the whole timeline as offline bundles (one per record and per
//! transaction, docs/bundle.md, with a `trace.json` manifest), which `concordat verify-trace
//! DIR --trust genesis.json` checks with no network; `--epcis` writes the events as an EPCIS
//! 2.0 document.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use concordat_client::bundle::{
    trust_from_text, verify_bundle, Bundle, Claim, Proven, BUNDLE_VERSION_FULL,
};
use concordat_client::trace::{check_timeline, ProvenRecord, ProvenTx};
use concordat_client::verify::{
    state_key, verify_state_answer, verify_txlog_answer, Expect, StateAnswer, TxLogAnswer,
};
use concordat_contracts::trace::Timeline;
use concordat_contracts::SignedTransaction;
use concordat_primitives::Hash;
use serde_json::{json, Value};

use super::http::{Node, NodeArg};
use super::proof_cmd::{chain, hashes, hex_field, signed, trust_text};
use super::{emit, Output};

fn text_of(t: &Timeline, height: u64) -> String {
    let mut out = format!(
        "{} {} — verified at height {height}, {} items\n",
        t.kind.as_str(),
        t.number,
        t.items.len()
    );
    for i in &t.items {
        let subject = i
            .entry_id
            .clone()
            .or_else(|| i.read_point.clone())
            .unwrap_or_default();
        let mut flags = String::new();
        if i.declared_in_error {
            flags.push_str(" [declared in error]");
        }
        if let Some(c) = &i.corrects {
            flags.push_str(&format!(" [corrects {c}]"));
        }
        out.push_str(&format!(
            "{}  {:<9} {:<24} {:<32} by {}  h={}{}\n",
            i.at,
            format!("{:?}", i.source).to_uppercase(),
            i.what,
            subject,
            i.by,
            i.height,
            flags
        ));
    }
    for c in &t.clearance {
        match &c.clearance {
            Some(cl) => out.push_str(&format!(
                "entry {} ({:?}): {:?} {} h against {:.2} h: {:?}\n",
                c.entry_id,
                c.status,
                cl.metric,
                cl.hours,
                f64::from(cl.target_minutes) / 60.0,
                cl.result
            )),
            None => out.push_str(&format!(
                "entry {} ({:?}): not released yet{}\n",
                c.entry_id,
                c.status,
                if c.flags.is_empty() {
                    String::new()
                } else {
                    format!(", flags {:?}", c.flags)
                }
            )),
        }
    }
    out
}

/// `concordat trace NUMBER`.
#[allow(clippy::too_many_arguments)]
pub fn trace(
    number: &str,
    node: &NodeArg,
    height: Option<u64>,
    validator_set_hash: Option<&str>,
    trust: Option<&str>,
    bundle_dir: Option<&Path>,
    epcis: Option<&Path>,
    output: Output,
) -> Result<()> {
    concordat_contracts::codes::TraceKind::detect(number)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let validator_set_hash = validator_set_hash
        .map(|h| {
            Hash::from_hex(h).map_err(|_| anyhow::anyhow!("--validator-set-hash must be 64 hex"))
        })
        .transpose()?;
    let n = Node::new(node);
    let mut q = vec![("proof", "true".to_string())];
    if let Some(h) = height {
        q.push(("height", h.to_string()));
    }
    let a = n
        .get(&["v1", "trace", number], &q)
        .with_context(|| format!("tracing {number}"))?;
    let at = a["height"].as_u64().context("the answer has no height")?;
    if height.is_some_and(|h| h != at) {
        bail!("asked for height {height:?}, the node answered for height {at}");
    }
    let expect = Expect {
        chain_id: None,
        height: Some(at),
        validator_set_hash,
    };
    let mut records = Vec::new();
    let mut header = None;
    for rec in a["records"]
        .as_array()
        .context("the answer has no records")?
    {
        let mut full = rec.clone();
        for f in [
            "header",
            "header_bytes",
            "certificate",
            "validator_set",
            "state_root",
        ] {
            full[f] = a[f].clone();
        }
        let kind = rec["kind"].as_str().context("a record without kind")?;
        let id = rec["id"].as_str().context("a record without id")?;
        let answer: StateAnswer = serde_json::from_value(full)
            .map_err(|e| anyhow::anyhow!("{kind}/{id}: not a state answer: {e}"))?;
        let v = verify_state_answer(kind, id, &answer, &expect, rand::rngs::OsRng)
            .map_err(|e| anyhow::anyhow!("{kind}/{id}: verification FAILED: {e}"))?;
        header = Some(v.header.header.clone());
        records.push(ProvenRecord {
            kind: kind.into(),
            id: id.into(),
            value: v.value_bytes,
        });
    }
    let header = header.context("the answer proves no record")?;
    let mut txs = Vec::new();
    let mut tx_bytes = Vec::new();
    for (hash, t) in a["txs"].as_object().context("the answer has no txs")? {
        let log: TxLogAnswer = serde_json::from_value(t["log"].clone())
            .map_err(|e| anyhow::anyhow!("tx {hash}: not a tx-log answer: {e}"))?;
        let v = verify_txlog_answer(&log, None, Some(&header))
            .map_err(|e| anyhow::anyhow!("tx {hash}: verification FAILED: {e}"))?;
        let bytes = hex_field(t, "tx")?;
        let stx = SignedTransaction::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("tx {hash}: the bytes are not a transaction: {e}"))?;
        tx_bytes.push((v.index, hex::encode(&bytes), log));
        txs.push(ProvenTx {
            record: v.record,
            tx: Some(stx),
        });
    }
    let timeline = check_timeline(number, &records, &txs)
        .map_err(|e| anyhow::anyhow!("verification FAILED: {e}"))?;
    let mut doc = json!({
        "verified": true, "number": number, "height": at,
        "header_hash": header.hash().to_hex(),
        "timeline": timeline.items, "clearance": timeline.clearance,
    });
    // With a trust root, the whole answer again as offline bundles, each verified against
    // it (following every validator-set change since genesis or the waypoint).
    let scratch;
    let dir = match (bundle_dir, trust) {
        (Some(d), _) => Some(d.to_path_buf()),
        (None, Some(_)) => {
            scratch = std::env::temp_dir().join(format!("concordat-trace-{}", std::process::id()));
            Some(scratch.clone())
        }
        (None, None) => None,
    };
    if let Some(dir) = &dir {
        let files = write_bundles(&n, &a, at, &records, &tx_bytes, dir)?;
        if bundle_dir.is_some() {
            doc["bundle_dir"] = json!(dir);
            doc["bundles"] = json!(files);
        }
        if let Some(t) = trust {
            let offline = check_dir(dir, t);
            if bundle_dir.is_none() {
                let _ = fs::remove_dir_all(dir);
            }
            let (t2, trust_desc, _) = offline?;
            if t2.items != timeline.items {
                bail!("verification FAILED: the bundles prove another timeline");
            }
            doc["trust"] = trust_desc;
        }
    }
    if let Some(path) = epcis {
        // Built from the proven records, not asked of the node.
        let events: Vec<concordat_contracts::logistics::LogisticsEvent> =
            proven_of(&records, "logistics_event").context("a proven event does not decode")?;
        let corrections: Vec<concordat_contracts::logistics::Correction> =
            proven_of(&records, "event_correction")
                .context("a proven correction does not decode")?;
        let d = concordat_contracts::logistics::epcis::export(
            &events,
            &corrections,
            concordat_contracts::time::Instant(header.time_ms),
        );
        fs::write(
            path,
            concordat_contracts::logistics::epcis::to_json_type_first(&d) + "\n",
        )
        .with_context(|| format!("writing {}", path.display()))?;
        doc["epcis"] = json!(path);
    }
    emit(output, &doc, text_of(&timeline, at).trim_end());
    Ok(())
}

/// The present records of `kind`, decoded.
fn proven_of<T: serde::Serialize + serde::de::DeserializeOwned>(
    records: &[ProvenRecord],
    kind: &str,
) -> Result<Vec<T>, concordat_primitives::encoding::DecodeError> {
    records
        .iter()
        .filter(|r| r.kind == kind)
        .filter_map(|r| r.value.as_ref())
        .map(|b| concordat_primitives::encoding::from_bytes(b))
        .collect()
}

fn write_bundles(
    n: &Node,
    a: &Value,
    at: u64,
    records: &[ProvenRecord],
    txs: &[(u64, String, TxLogAnswer)],
    dir: &Path,
) -> Result<usize> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (anchor, changes) = chain(n, 0, at)?;
    let header = signed(a)?;
    let mut manifest_records = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let proof = a["records"][i]["proof"]
            .as_str()
            .context("a record without proof")?;
        let bundle = Bundle {
            version: BUNDLE_VERSION_FULL,
            anchor: anchor.clone(),
            changes: changes.clone(),
            header: header.clone(),
            claim: Claim::State {
                kind: r.kind.clone(),
                id: r.id.clone(),
                key: state_key(&r.kind, &r.id)?,
                value: r.value.clone(),
                proof: hex::decode(proof).context("proof is not hex")?,
            },
        };
        let file = format!("record-{i:04}.bundle");
        fs::write(dir.join(&file), bundle.to_compact_bytes()?)?;
        manifest_records.push(json!({"kind": r.kind, "id": r.id, "file": file}));
    }
    let mut manifest_txs = Vec::new();
    for (i, (index, tx_hex, log)) in txs.iter().enumerate() {
        let bundle = Bundle {
            version: BUNDLE_VERSION_FULL,
            anchor: anchor.clone(),
            changes: changes.clone(),
            header: header.clone(),
            claim: Claim::Tx {
                index: *index,
                leaf: hex::decode(&log.leaf).context("leaf is not hex")?,
                proof: hashes(&json!(log.proof))?,
            },
        };
        let file = format!("tx-{i:04}.bundle");
        fs::write(dir.join(&file), bundle.to_compact_bytes()?)?;
        manifest_txs.push(json!({"file": file, "tx": tx_hex}));
    }
    let manifest = json!({
        "format": "concordat-trace", "version": 1, "number": a["number"], "height": at,
        "records": manifest_records, "txs": manifest_txs,
    });
    fs::write(
        dir.join("trace.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    Ok(manifest_records.len() + manifest_txs.len())
}

/// Checks a trace directory written by `write_bundles` against `trust`: every bundle, all at
/// one header, then the timeline. Returns the timeline, the trust root's description and the
/// header height.
fn check_dir(dir: &Path, trust: &str) -> Result<(Timeline, Value, u64)> {
    let manifest: Value = serde_json::from_slice(
        &fs::read(dir.join("trace.json"))
            .with_context(|| format!("reading {}/trace.json", dir.display()))?,
    )
    .context("trace.json is not JSON")?;
    if manifest["format"] != "concordat-trace" {
        bail!("trace.json is not a concordat-trace manifest");
    }
    let number = manifest["number"].as_str().context("no number")?;
    let (root, trust_desc) =
        trust_from_text(&trust_text(trust)?).map_err(|e| anyhow::anyhow!(e))?;
    let mut header_hash = None;
    let mut check_header = |h: Hash| -> Result<()> {
        match header_hash {
            None => header_hash = Some(h),
            Some(prev) if prev != h => bail!("the bundles are proven against different headers"),
            Some(_) => {}
        }
        Ok(())
    };
    let read = |file: &Value| -> Result<Vec<u8>> {
        let name = file.as_str().context("a bundle without file")?;
        if name.contains('/') || name.contains("..") {
            bail!("bundle file {name:?} is outside the directory");
        }
        fs::read(dir.join(name)).with_context(|| format!("reading {name}"))
    };
    let mut records = Vec::new();
    let mut height = 0;
    for r in manifest["records"].as_array().context("no records")? {
        let v = verify_bundle(&read(&r["file"])?, &root, rand::rngs::OsRng)
            .map_err(|e| anyhow::anyhow!("{}: verification FAILED: {e}", r["file"]))?;
        check_header(v.header_hash)?;
        height = v.header.height;
        records.push(match v.proven {
            Proven::Present { kind, id, value } => ProvenRecord {
                kind,
                id,
                value: Some(value),
            },
            Proven::Absent { kind, id } => ProvenRecord {
                kind,
                id,
                value: None,
            },
            _ => bail!("{} does not prove a record", r["file"]),
        });
    }
    let mut txs = Vec::new();
    for t in manifest["txs"].as_array().context("no txs")? {
        let v = verify_bundle(&read(&t["file"])?, &root, rand::rngs::OsRng)
            .map_err(|e| anyhow::anyhow!("{}: verification FAILED: {e}", t["file"]))?;
        check_header(v.header_hash)?;
        let Proven::Included { record, .. } = v.proven else {
            bail!("{} does not prove a transaction", t["file"]);
        };
        let bytes = hex::decode(t["tx"].as_str().unwrap_or("")).context("tx is not hex")?;
        let stx = SignedTransaction::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("the transaction bytes do not decode: {e}"))?;
        txs.push(ProvenTx {
            record,
            tx: Some(stx),
        });
    }
    let timeline = check_timeline(number, &records, &txs)
        .map_err(|e| anyhow::anyhow!("verification FAILED: {e}"))?;
    let mut desc = trust_desc;
    desc["header_hash"] = json!(header_hash.map(|h| h.to_hex()));
    Ok((timeline, desc, height))
}

/// `concordat verify-trace DIR --trust T`: checks a trace written by `trace --bundle-dir` with
/// no network: every bundle against the trust root, all at one header, then the timeline.
pub fn verify_trace(dir: &Path, trust: &str, output: Output) -> Result<()> {
    let (timeline, trust_desc, height) = check_dir(dir, trust)?;
    let doc = json!({
        "valid": true, "number": timeline.number, "height": height,
        "header_hash": trust_desc["header_hash"], "trust": trust_desc,
        "timeline": timeline.items, "clearance": timeline.clearance,
    });
    emit(output, &doc, text_of(&timeline, height).trim_end());
    Ok(())
}
