//! `concordat snapshot fetch`: the state of a certified height from a node, verified, as a
//! file `concordat-node --import-snapshot` starts from (docs/adr/0023-joining-from-a-snapshot.md).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use concordat_client::bundle::{trust_from_text, verify_bundle};
use concordat_genesis::snapshot::{Snapshot, SNAPSHOT_VERSION};
use concordat_genesis::GenesisSpec;
use concordat_primitives::ledger::Header;
use concordat_primitives::{encoding, Hash};
use serde_json::json;

use super::files::write_atomic_bytes;
use super::http::{Node, NodeArg};
use super::proof_cmd::{build, hashes, hex_field};
use super::{emit, Output};

fn decode<T: serde::Serialize + serde::de::DeserializeOwned>(
    what: &str,
    bytes: &[u8],
) -> Result<T> {
    encoding::from_bytes(bytes).with_context(|| format!("the node's {what} does not decode"))
}

/// Fetches the state of `height` (default: the tip), verifies it and writes the file.
pub fn fetch(
    node: &NodeArg,
    genesis_file: &Path,
    height: Option<u64>,
    out: &Path,
    output: Output,
) -> Result<()> {
    let started = Instant::now();
    let text = std::fs::read_to_string(genesis_file)
        .with_context(|| format!("reading {}", genesis_file.display()))?;
    let genesis = GenesisSpec::from_json(&text)?.validate()?;
    let (trust, _) = trust_from_text(&text).map_err(anyhow::Error::msg)?;
    let n = Node::new(node);
    let height = match height {
        Some(h) => h,
        None => n.chain_and_tip()?.1,
    };
    if height == 0 {
        bail!("a snapshot is of a height above 0 (height 0 is the genesis file)");
    }
    // The height's header, verified with the light-client rule from genesis: the chain of
    // validator-set changes, then the header's certificate.
    let (bundle, _) = build(&n, "validators", "current", Some(height), 0)?;
    let verified = verify_bundle(&bundle.to_bytes(), &trust, rand::rngs::OsRng)
        .map_err(|e| anyhow::anyhow!("the header of height {height} does not verify: {e}"))?;
    let meta = n.get(&["v1", "snapshot", &height.to_string()], &[])?;
    let header: Header = decode("header", &hex_field(&meta, "header_bytes")?)?;
    if header.hash() != verified.header_hash {
        bail!("the node's snapshot header is not the header verified from genesis");
    }
    let snapshot_meta = (
        decode("certificate", &hex_field(&meta, "certificate")?)?,
        decode("validator set", &hex_field(&meta, "validator_set")?)?,
        decode(
            "next validator set",
            &hex_field(&meta, "next_validator_set")?,
        )?,
        hashes(&meta["log_frontier"])?,
    );
    // Every entry, page by page, with progress on stderr.
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = Vec::new();
        if let Some(a) = &after {
            query.push(("after", a.clone()));
        }
        let page = n.get(&["v1", "snapshot", &height.to_string(), "entries"], &query)?;
        for e in page["entries"].as_array().context("no entries")? {
            let key = Hash::from_hex(e[0].as_str().context("a key hash")?)
                .map_err(|_| anyhow::anyhow!("a key hash is not 64 hex"))?;
            let value =
                hex::decode(e[1].as_str().context("a value")?).context("a value is not hex")?;
            entries.push((key, value));
        }
        if output == Output::Text {
            eprintln!("height {height}: {} entries fetched", entries.len());
        }
        match page["next_after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    let (certificate, validator_set, next_validator_set, log_frontier) = snapshot_meta;
    let snapshot = Snapshot {
        version: SNAPSHOT_VERSION,
        genesis_hash: genesis.hash(),
        header,
        certificate,
        validator_set,
        next_validator_set,
        log_frontier,
        entries,
    };
    // The state rebuilt from the entries must have the verified header's root.
    snapshot
        .check(&genesis, rand::rngs::OsRng)
        .map_err(|e| anyhow::anyhow!("the snapshot does not check: {e}"))?;
    let bytes = snapshot.to_bytes();
    write_atomic_bytes(out, &bytes)?;
    let seconds = started.elapsed().as_secs_f64();
    emit(
        output,
        &json!({"height": height, "entries": snapshot.entries.len(), "bytes": bytes.len(),
                "state_root": snapshot.header.state_root, "file": out, "seconds": seconds,
                "changes_followed": verified.changes_followed}),
        &format!(
            "height {height}: {} entries, {} bytes, state root {} verified against the header \
             certified from genesis ({} validator-set changes followed); written to {} in {seconds:.1} s",
            snapshot.entries.len(),
            bytes.len(),
            snapshot.header.state_root,
            verified.changes_followed,
            out.display()
        ),
    );
    Ok(())
}
