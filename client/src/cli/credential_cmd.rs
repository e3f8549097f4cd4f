//! `concordat credential licence ID`: a licence as a W3C Verifiable Credential 2.0 whose
//! `credentialStatus` points at its issuer's Bitstring Status Lists on the node (derived from
//! the ledger), with the offline proof bundle of the licence as evidence (docs/credentials.md).

use std::path::Path;

use anyhow::{bail, Context, Result};
use concordat_client::bundle::{Claim, BUNDLE_VERSION};
use concordat_contracts::licence::Licence;
use concordat_primitives::encoding;
use serde_json::{json, Value};

use super::files::write_atomic;
use super::http::{Node, NodeArg};
use super::proof_cmd::build;
use super::{emit, Output};

/// The credential JSON for a licence record and its bundle.
pub fn licence_credential(
    base: &str,
    chain_id: &str,
    l: &Licence,
    bundle_hex: &str,
) -> Result<Value> {
    let Some(index) = l.status_index else {
        bail!(
            "licence {} is not issued (it has no status-list index)",
            l.licence_id
        );
    };
    let list = |purpose: &str| format!("{base}/v1/status_lists/{}/{purpose}", l.issuer);
    let entry = |purpose: &str| {
        json!({
            "id": format!("{}#{index}", list(purpose)),
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": index.to_string(),
            "statusListCredential": list(purpose),
        })
    };
    let day =
        |d: Option<concordat_contracts::time::Date>, t: &str| d.map(|d| format!("{d}T{t}+08:00"));
    let mut vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:concordat:{chain_id}:licence:{}", l.licence_id),
        "type": ["VerifiableCredential", "ConcordatLicenceCredential"],
        "issuer": format!("urn:uscc:{}", l.issuer),
        "credentialSubject": {
            "id": format!("urn:uscc:{}", l.holder),
            "licence": {
                "licenceId": l.licence_id, "licenceNo": l.licence_no, "typeCode": l.type_code,
                "scope": l.scope, "approvalMode": l.approval_mode, "siteIds": l.site_ids,
                "issuedOn": l.issued_on, "statusAtExport": l.status, "statusCodeAtExport": l.status_code(),
            },
        },
        "credentialStatus": [entry("revocation"), entry("suspension")],
        "evidence": [{
            "type": ["ConcordatProofBundle"],
            "description": "An offline proof bundle of this licence record (docs/bundle.md): concordat verify, or the node's /verify page.",
            "bundleFormat": format!("concordat-bundle/{BUNDLE_VERSION}"),
            "bundle": bundle_hex,
        }],
    });
    if let Some(from) = day(l.valid_from, "00:00:00") {
        vc["validFrom"] = json!(from);
    }
    if let Some(until) = day(l.valid_until, "23:59:59") {
        vc["validUntil"] = json!(until);
    }
    Ok(vc)
}

/// `concordat credential licence ID --node URL --out FILE`.
pub fn licence(id: &str, node: &NodeArg, out: Option<&Path>, output: Output) -> Result<()> {
    let n = Node::new(node);
    let (chain_id, _) = n.chain_and_tip()?;
    let (bundle, height) = build(&n, "licence", id, None, 0)?;
    let Claim::State { value, .. } = &bundle.claim else {
        bail!("not a state bundle");
    };
    let Some(bytes) = value else {
        bail!("licence {id} does not exist (its absence is proven at height {height})");
    };
    let l: Licence = encoding::from_bytes(bytes).context("the licence record does not decode")?;
    let base = node.url.trim_end_matches('/');
    let vc = licence_credential(
        base,
        &chain_id,
        &l,
        &hex::encode(bundle.to_compact_bytes()?),
    )?;
    let text = serde_json::to_string_pretty(&vc)? + "\n";
    match out {
        Some(path) => {
            write_atomic(path, &text)?;
            emit(
                output,
                &json!({"file": path, "licence": id, "height": height}),
                &format!(
                    "credential for licence {id} (height {height}) written to {}",
                    path.display()
                ),
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
