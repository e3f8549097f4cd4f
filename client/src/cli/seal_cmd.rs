//! `concordat seal`: seal signing keys and seal signatures, made on the signer's machine.
//!
//! `seal sm2-new` writes an SM2 secret (hex, mode 0600) and prints the public key to register
//! with the seal (`Seal.Register` `signer_keys`). `seal sign` hashes a document (SM3 by
//! default, as GB/T 38540 does; or SHA-256), signs it with an Ed25519 key file or an SM2
//! secret, and writes the `Seal.RecordSignature` call for `concordat tx send` (with a
//! time-stamp token when given a TSA key). `seal check-doc` checks a document against a
//! recorded seal signature, verified from the ledger. `concordat tsa stamp` (here too) adds a
//! registered time-stamping authority's token to a signature call made elsewhere.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use concordat_contracts::seal::{
    signature_message, tsa_message, DocType, HexBytes, SealAlgorithm, SealCall, SealSignature,
    SignaturePurpose, SignatureResult, TsaToken, SM2_DIST_ID,
};
use concordat_contracts::Call;
use concordat_primitives::Hash;
use rand::RngCore;
use serde_json::json;
use sm2::dsa::signature::Signer;

use super::files::{read_key_file, write_atomic, write_secret_file};
use super::http::{Node, NodeArg};
use super::{emit, Output, Reported};

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
        /// Also time-stamp the signature now with this TSA key file (an Ed25519 key registered
        /// by `Seal.RegisterTsa`), as `concordat tsa stamp` would.
        #[arg(long, requires = "tsa_id")]
        tsa_key: Option<PathBuf>,
        /// The TSA's id (with --tsa-key).
        #[arg(long, requires = "tsa_key")]
        tsa_id: Option<String>,
        #[command(flatten)]
        node: NodeArg,
        /// Where to write the call (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a document against a recorded seal signature: the record is read with its proof
    /// and verified, the file hashed (SM3 and SHA-256) and compared with the signed hash.
    /// Exit 0 only when the document is the one signed and the ledger judged the signature
    /// VALID.
    CheckDoc {
        /// The document file.
        file: PathBuf,
        /// The seal signature's id (`sig_id`).
        sig_id: String,
        #[command(flatten)]
        node: NodeArg,
        /// Height to read at (default: the tip).
        #[arg(long)]
        height: Option<u64>,
    },
}

/// `concordat tsa`: a time-stamping authority's side.
#[derive(Subcommand, Debug)]
pub enum TsaCmd {
    /// Time-stamp a `Seal.RecordSignature` call (as `seal sign` writes): sign
    /// ("CONCORDAT_TSA_V1", chain id, SHA-256 of the signature, time) with the TSA's key and
    /// put the token in the call's `tsa`. The TSA must be registered (`Seal.RegisterTsa`).
    Stamp {
        /// The call file.
        #[arg(long)]
        call: PathBuf,
        /// The TSA's Ed25519 key file.
        #[arg(long)]
        key: PathBuf,
        /// The TSA's registered id.
        #[arg(long)]
        tsa_id: String,
        /// The stamped time in ms since the Unix epoch (default: now).
        #[arg(long)]
        time_ms: Option<u64>,
        /// The chain id (default: asked from --node).
        #[arg(long)]
        chain_id: Option<String>,
        #[command(flatten)]
        node: NodeArg,
        /// Where to write the stamped call (default: over the call file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn now_ms() -> Result<u64> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_millis() as u64)
}

fn chain_id_of(given: Option<String>, node: &NodeArg) -> Result<String> {
    match given {
        Some(c) => Ok(c),
        None => Ok(Node::new(node)
            .chain_and_tip()
            .context("asking the node for the chain id (or give --chain-id)")?
            .0),
    }
}

/// A TSA's token over `signature` at `time_ms`.
fn token(
    chain_id: &str,
    key: &Path,
    tsa_id: &str,
    signature: &[u8],
    time_ms: u64,
) -> Result<TsaToken> {
    let k = read_key_file(key)?;
    Ok(TsaToken {
        tsa_id: tsa_id.to_string(),
        time_ms,
        signature: k.sign(&tsa_message(chain_id, signature, time_ms)),
    })
}

/// `concordat tsa`.
pub fn run_tsa(cmd: TsaCmd, output: Output) -> Result<()> {
    let TsaCmd::Stamp {
        call,
        key,
        tsa_id,
        time_ms,
        chain_id,
        node,
        out,
    } = cmd;
    let text = fs::read_to_string(&call).with_context(|| format!("reading {}", call.display()))?;
    let mut parsed: Call = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a transaction call", call.display()))?;
    let Call::Seal(SealCall::RecordSignature { signature, tsa, .. }) = &mut parsed else {
        bail!("{} is not a Seal.RecordSignature call", call.display());
    };
    if tsa.is_some() {
        bail!("{} is already time-stamped", call.display());
    }
    let time_ms = match time_ms {
        Some(t) => t,
        None => now_ms()?,
    };
    let chain_id = chain_id_of(chain_id, &node)?;
    let t = token(&chain_id, &key, &tsa_id, &signature.0, time_ms)?;
    *tsa = Some(t.clone());
    let target = out.unwrap_or(call);
    write_atomic(&target, &(serde_json::to_string_pretty(&parsed)? + "\n"))?;
    emit(
        output,
        &json!({"tsa": t, "file": target}),
        &format!(
            "time-stamped by {tsa_id} at {time_ms} ms; written to {}",
            target.display()
        ),
    );
    Ok(())
}

/// `concordat seal check-doc FILE SIG_ID`.
fn check_doc(
    file: &Path,
    sig_id: &str,
    node: &NodeArg,
    height: Option<u64>,
    output: Output,
) -> Result<()> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let n = Node::new(node);
    let v = super::query_cmd::fetch_verified(&n, "seal_signature", sig_id, height)?;
    let Some(value) = v.value_bytes else {
        bail!(
            "there is no seal signature {sig_id} (proven absent at height {})",
            v.height
        );
    };
    let rec: SealSignature = concordat_primitives::encoding::from_bytes(&value)
        .map_err(|e| anyhow::anyhow!("seal signature {sig_id} does not decode: {e}"))?;
    let hashed_with = [(DocHash::Sm3, "SM3"), (DocHash::Sha256, "SHA-256")]
        .into_iter()
        .find(|(how, _)| doc_hash(&bytes, *how) == rec.doc_hash)
        .map(|(_, name)| name);
    let valid = rec.verification.result == SignatureResult::Valid;
    let doc = json!({
        "sig_id": sig_id,
        "file": file,
        "document_matches": hashed_with.is_some(),
        "hash": hashed_with,
        "doc_hash": rec.doc_hash.to_hex(),
        "es_id": rec.es_id,
        "purpose": rec.purpose,
        "doc_type": rec.doc_type,
        "tsa": rec.tsa,
        "verification": rec.verification,
        "verified_at_height": v.height,
        "state_root": v.state_root.to_hex(),
    });
    let judgement = format!(
        "{:?}{}",
        rec.verification.result,
        rec.verification
            .failed_step
            .as_ref()
            .map(|s| format!(" (failed step {s:?}: {})", rec.verification.detail))
            .unwrap_or_default()
    );
    match hashed_with {
        Some(h) if valid => {
            emit(
                output,
                &doc,
                &format!(
                    "{} is the document signed by {sig_id} ({h} {}); seal {}, {:?}; the ledger judged the signature {judgement} (verified at height {})",
                    file.display(),
                    rec.doc_hash,
                    rec.es_id,
                    rec.purpose,
                    v.height
                ),
            );
            Ok(())
        }
        Some(_) => {
            if output == Output::Json {
                println!("{doc}");
            }
            Err(Reported(format!(
                "{} is the document signed by {sig_id}, but the ledger judged the signature {judgement}",
                file.display()
            ))
            .into())
        }
        None => {
            if output == Output::Json {
                println!("{doc}");
            }
            Err(Reported(format!(
                "{} does NOT match seal signature {sig_id}: it signed {} (neither the SM3 nor the SHA-256 of this file)",
                file.display(),
                rec.doc_hash
            ))
            .into())
        }
    }
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
            tsa_key,
            tsa_id,
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
                None => now_ms()?,
            };
            let chain_id = chain_id_of(chain_id, &node)?;
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
            let tsa = match (tsa_key, tsa_id) {
                (Some(key), Some(id)) => Some(token(&chain_id, &key, &id, &signature, now_ms()?)?),
                _ => None,
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
                tsa,
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
        SealCmd::CheckDoc {
            file,
            sig_id,
            node,
            height,
        } => check_doc(&file, &sig_id, &node, height, output)?,
    }
    Ok(())
}
