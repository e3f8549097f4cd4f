//! `concordat seal`: seal signing keys and seal signatures, made on the signer's machine.
//!
//! `seal sm2-new` writes an SM2 secret (hex, mode 0600) and prints the public key to register
//! with the seal (`Seal.Register` `signer_keys`). `seal sign` hashes a document (SM3 by
//! default, as GB/T 38540 does; or SHA-256), signs it with an Ed25519 key file or an SM2
//! secret, and writes the `Seal.RecordSignature` call for `concordat tx send`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use concordat_contracts::seal::{
    signature_message, DocType, HexBytes, SealAlgorithm, SealCall, SignaturePurpose, SM2_DIST_ID,
};
use concordat_contracts::Call;
use concordat_primitives::Hash;
use rand::RngCore;
use serde_json::json;
use sm2::dsa::signature::Signer;

use super::files::{read_key_file, write_atomic, write_secret_file};
use super::http::{Node, NodeArg};
use super::{emit, Output};

/// The document hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DocHash {
    /// SM3 (GB/T 32905), as GB/T 38540 signatures use.
    Sm3,
    /// SHA-256.
    Sha256,
}

// Parsed once per process: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum SealCmd {
    /// Create an SM2 seal signing key: the secret as hex in a new file (mode 0600); prints the
    /// public key (SEC1, hex) for the seal's `signer_keys`.
    Sm2New {
        /// Where to write the secret.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a document with a seal key and write the `Seal.RecordSignature` call (JSON).
    Sign {
        /// The seal (esID).
        #[arg(long)]
        es_id: String,
        /// Id of the new signature record.
        #[arg(long)]
        sig_id: String,
        /// The document file.
        #[arg(long)]
        doc: PathBuf,
        /// TAX_FILING, SOCIAL_SECURITY, HOUSING_FUND, LICENCE_ISSUE, CONTRACT or AUTHORISATION.
        #[arg(long)]
        purpose: String,
        /// An Ed25519 key file (as `concordat keys new` writes).
        #[arg(long, conflicts_with = "sm2_key", required_unless_present = "sm2_key")]
        ed25519_key: Option<PathBuf>,
        /// An SM2 secret file (as `concordat seal sm2-new` writes).
        #[arg(long)]
        sm2_key: Option<PathBuf>,
        /// How the document is hashed.
        #[arg(long, value_enum, default_value = "sm3")]
        hash: DocHash,
        /// Document properties: at least the protected range.
        #[arg(long, default_value = "whole document")]
        property_info: String,
        /// The container (default: from the file extension, OFD unless it is .pdf).
        #[arg(long)]
        doc_type: Option<String>,
        /// Signing time in ms since the Unix epoch (default: now).
        #[arg(long)]
        time_ms: Option<u64>,
        /// The chain id (default: asked from --node).
        #[arg(long)]
        chain_id: Option<String>,
        #[command(flatten)]
        node: NodeArg,
        /// Where to write the call (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn sm2_key(path: &Path) -> Result<sm2::dsa::SigningKey> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = hex::decode(text.trim()).context("an SM2 secret file holds 64 hex characters")?;
    sm2::dsa::SigningKey::from_slice(SM2_DIST_ID, &bytes)
        .map_err(|_| anyhow::anyhow!("{} is not an SM2 secret key", path.display()))
}

fn parse_enum<T: serde::de::DeserializeOwned>(what: &str, s: &str, known: &str) -> Result<T> {
    serde_json::from_value(json!(s.to_uppercase()))
        .map_err(|_| anyhow::anyhow!("unknown {what} {s:?}; one of {known}"))
}

fn doc_hash(bytes: &[u8], how: DocHash) -> Hash {
    match how {
        DocHash::Sha256 => Hash::digest(bytes),
        DocHash::Sm3 => {
            use sm3::Digest;
            Hash(sm3::Sm3::digest(bytes).into())
        }
    }
}

pub fn run(cmd: SealCmd, output: Output) -> Result<()> {
    match cmd {
        SealCmd::Sm2New { out } => {
            let key = loop {
                let mut secret = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                if let Ok(k) = sm2::dsa::SigningKey::from_slice(SM2_DIST_ID, &secret) {
                    write_secret_file(&out, &format!("{}\n", hex::encode(secret)))?;
                    break k;
                }
            };
            let pk = hex::encode(key.verifying_key().to_sec1_bytes());
            emit(
                output,
                &json!({"algorithm": "SM2_SM3", "public_key": pk, "file": out}),
                &format!("SM2_SM3 {pk}\nwritten to {}", out.display()),
            );
        }
        SealCmd::Sign {
            es_id,
            sig_id,
            doc,
            purpose,
            ed25519_key,
            sm2_key: sm2_path,
            hash,
            property_info,
            doc_type,
            time_ms,
            chain_id,
            node,
            out,
        } => {
            let purpose: SignaturePurpose = parse_enum(
                "purpose",
                &purpose,
                "TAX_FILING, SOCIAL_SECURITY, HOUSING_FUND, LICENCE_ISSUE, CONTRACT, AUTHORISATION",
            )?;
            let doc_type: DocType = match doc_type {
                Some(t) => parse_enum("doc type", &t, "OFD, PDF")?,
                None if doc
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("pdf")) =>
                {
                    DocType::Pdf
                }
                None => DocType::Ofd,
            };
            let bytes = fs::read(&doc).with_context(|| format!("reading {}", doc.display()))?;
            let doc_hash = doc_hash(&bytes, hash);
            let time_info_ms = match time_ms {
                Some(t) => t,
                None => SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .context("the clock is before 1970")?
                    .as_millis() as u64,
            };
            let chain_id = match chain_id {
                Some(c) => c,
                None => {
                    Node::new(&node)
                        .chain_and_tip()
                        .context("asking the node for the chain id (or give --chain-id)")?
                        .0
                }
            };
            let msg = signature_message(
                &chain_id,
                &es_id,
                &doc_hash,
                doc_type,
                purpose,
                &property_info,
                time_info_ms,
            );
            let (algorithm, signer_key, signature) = match (ed25519_key, sm2_path) {
                (Some(path), None) => {
                    let k = read_key_file(&path)?;
                    (
                        SealAlgorithm::Ed25519,
                        k.public_key().as_bytes().to_vec(),
                        k.sign(&msg).0.to_vec(),
                    )
                }
                (None, Some(path)) => {
                    let k = sm2_key(&path)?;
                    let sig: sm2::dsa::Signature = k.sign(&msg);
                    (
                        SealAlgorithm::Sm2Sm3,
                        k.verifying_key().to_sec1_bytes().to_vec(),
                        sig.to_bytes().to_vec(),
                    )
                }
                _ => bail!("give exactly one of --ed25519-key and --sm2-key"),
            };
            let call = Call::Seal(SealCall::RecordSignature {
                sig_id,
                es_id,
                signer_key: HexBytes(signer_key),
                doc_hash,
                doc_type,
                purpose,
                property_info,
                time_info_ms,
                tsa: None,
                signature: HexBytes(signature),
            });
            let text = serde_json::to_string_pretty(&call)? + "\n";
            let doc_json = json!({"algorithm": algorithm, "doc_hash": doc_hash.to_hex(), "call": call, "file": out});
            match &out {
                Some(path) => {
                    write_atomic(path, &text)?;
                    emit(
                        output,
                        &doc_json,
                        &format!(
                            "{algorithm:?} signature over {} written to {}",
                            doc_hash.to_hex(),
                            path.display()
                        ),
                    );
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}
