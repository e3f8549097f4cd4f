//! `concordat tx`: sign, submit, send (sign + submit) and show transactions.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use concordat_client::tx::{parse_call_json, sign_call};
use concordat_contracts::{Call, SignedTransaction};
use concordat_primitives::{Hash, SecretKey};
use serde_json::{json, Value};

use super::files::{read_key_file, write_atomic};
use super::http::{Node, NodeArg};
use super::{emit, Output, Reported};

/// Blocks between the tip and the default `expiry_height`.
pub const DEFAULT_EXPIRY_BLOCKS: u64 = 100;

#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Sign a call. Give --chain-id, --nonce and --expiry-height to sign offline; whatever is
    /// missing is fetched from --node (chain id and tip from /v1/status, the signer's next
    /// nonce from /v1/state/nonce; expiry = tip + 100).
    Sign {
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// The call as JSON (docs/transactions.md); `-` reads standard input.
        #[arg(long, value_name = "CALL.json")]
        call: PathBuf,
        /// Chain id.
        #[arg(long)]
        chain_id: Option<String>,
        /// The signer's nonce.
        #[arg(long)]
        nonce: Option<u64>,
        /// Last height at which the transaction may be included.
        #[arg(long)]
        expiry_height: Option<u64>,
        #[command(flatten)]
        node: NodeArg,
        /// Also write the transaction hex to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Submit a signed transaction (hex, as `tx sign` prints or writes).
    Submit {
        /// File with the transaction hex (or the JSON output of `tx sign`); `-` reads stdin.
        #[arg(required_unless_present = "hex", conflicts_with = "hex")]
        file: Option<PathBuf>,
        /// The transaction hex.
        #[arg(long)]
        hex: Option<String>,
        #[command(flatten)]
        node: NodeArg,
        /// Wait until the transaction is committed.
        #[arg(long)]
        wait: bool,
        /// How long the node waits with --wait (ms; the node's default is 10000, max 60000).
        #[arg(long, requires = "wait")]
        timeout_ms: Option<u64>,
    },
    /// Sign a call (fetching chain id, nonce and tip from the node) and submit it.
    Send {
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// The call as JSON; `-` reads standard input.
        #[arg(long, value_name = "CALL.json")]
        call: PathBuf,
        /// Last height for inclusion (default: tip + 100).
        #[arg(long)]
        expiry_height: Option<u64>,
        #[command(flatten)]
        node: NodeArg,
        /// Wait until the transaction is committed.
        #[arg(long)]
        wait: bool,
        /// How long the node waits with --wait (ms).
        #[arg(long, requires = "wait")]
        timeout_ms: Option<u64>,
    },
    /// Show a transaction's status (pending, or committed with its result).
    Show {
        /// Transaction hash (hex).
        hash: String,
        #[command(flatten)]
        node: NodeArg,
    },
}

pub fn read_input(path: &Path) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        Ok(s)
    } else {
        fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Reads and checks a call file.
pub fn read_call(path: &Path) -> Result<Call> {
    let text = read_input(path)?;
    parse_call_json(&text).with_context(|| {
        if path.as_os_str() == "-" {
            "the call on standard input".to_string()
        } else {
            path.display().to_string()
        }
    })
}

/// Chain id, nonce and expiry: given ones as they are, the rest from the node.
fn envelope(
    key: &SecretKey,
    chain_id: Option<String>,
    nonce: Option<u64>,
    expiry_height: Option<u64>,
    node: &NodeArg,
) -> Result<(String, u64, u64)> {
    if let (Some(c), Some(n), Some(e)) = (&chain_id, nonce, expiry_height) {
        return Ok((c.clone(), n, e));
    }
    let node_client = Node::new(node);
    let (node_chain, tip) = node_client.chain_and_tip().with_context(|| {
        "fetching the chain id and tip (give --chain-id, --nonce and --expiry-height to sign offline)"
    })?;
    if let Some(c) = &chain_id {
        if *c != node_chain {
            bail!(
                "--chain-id {c} is not the chain of the node at {} ({node_chain})",
                node.url
            );
        }
    }
    let nonce = match nonce {
        Some(n) => n,
        None => node_client
            .next_nonce(&key.public_key())
            .context("fetching the signer's next nonce")?,
    };
    let expiry = expiry_height.unwrap_or(tip.saturating_add(DEFAULT_EXPIRY_BLOCKS));
    Ok((node_chain, nonce, expiry))
}

fn signed_json(stx: &SignedTransaction) -> Value {
    json!({
        "tx": hex::encode(stx.to_bytes()),
        "tx_hash": stx.hash().to_hex(),
        "signer": stx.tx.signer.to_hex(),
        "chain_id": stx.tx.chain_id,
        "nonce": stx.tx.nonce,
        "expiry_height": stx.tx.expiry_height,
    })
}

/// Decodes a transaction from hex, or from the JSON output of `tx sign` (its `tx` field).
fn decode_tx(text: &str) -> Result<SignedTransaction> {
    let text = text.trim();
    let hex_text = if text.starts_with('{') {
        let v: Value = serde_json::from_str(text).context("reading the JSON transaction")?;
        v["tx"]
            .as_str()
            .context("the JSON has no \"tx\" field")?
            .to_string()
    } else {
        text.to_string()
    };
    let bytes = hex::decode(hex_text.trim()).context("the transaction is not hex")?;
    let stx = SignedTransaction::from_bytes(&bytes)
        .context("not the canonical bytes of a signed transaction")?;
    stx.verify_signature()
        .context("the transaction's signature does not verify")?;
    Ok(stx)
}

fn text_of_answer(answer: &Value) -> String {
    let hash = answer["tx_hash"].as_str().unwrap_or("?");
    match answer["status"].as_str() {
        Some("committed") => format!(
            "tx {hash} committed at height {}: {} {}",
            answer["height"],
            answer["result"]["code"].as_str().unwrap_or("?"),
            answer["result"]["message"].as_str().unwrap_or("")
        )
        .trim_end()
        .to_string(),
        Some(status) => format!("tx {hash} {status}"),
        None => answer.to_string(),
    }
}

/// Prints the node's answer to a submission; a committed transaction whose result is not `OK`
/// fails the command (after printing).
fn report_answer(output: Output, answer: &Value) -> Result<()> {
    emit(output, answer, &text_of_answer(answer));
    if answer["status"] == "committed" {
        let code = answer["result"]["code"].as_str().unwrap_or("?");
        if code != "OK" {
            return Err(Reported(format!(
                "the transaction was committed but refused: {code}: {}",
                answer["result"]["message"].as_str().unwrap_or("")
            ))
            .into());
        }
    }
    Ok(())
}

/// Signs `call` with the key in `key` (nonce and tip from the node), submits it and reports.
pub fn send_call(
    key: &Path,
    call: Call,
    expiry_height: Option<u64>,
    node: &NodeArg,
    wait: bool,
    timeout_ms: Option<u64>,
    output: Output,
) -> Result<()> {
    concordat_client::tx::precheck_call(&call)?;
    let key = read_key_file(key)?;
    let (chain_id, nonce, expiry) = envelope(&key, None, None, expiry_height, node)?;
    let stx = sign_call(&key, &chain_id, nonce, expiry, call)?;
    let answer = Node::new(node).submit(&stx, wait, timeout_ms)?;
    report_answer(output, &answer)
}

/// `concordat epcis capture FILE --key K`: an EPCIS 2.0 JSON-LD document, as a port or terminal
/// system writes it, captured as one `Logistics.Capture` call, posted to `POST
/// /v1/epcis/capture` with the signature in headers.
pub fn epcis_capture(
    file: &Path,
    key: &Path,
    node: &NodeArg,
    wait: bool,
    output: Output,
) -> Result<()> {
    let document = read_input(file)?;
    let call = Call::Logistics(concordat_contracts::logistics::LogisticsCall::Capture {
        document: document.clone(),
    });
    concordat_client::tx::precheck_call(&call)?;
    let key = read_key_file(key)?;
    let (chain_id, nonce, expiry) = envelope(&key, None, None, None, node)?;
    let stx = sign_call(&key, &chain_id, nonce, expiry, call)?;
    // The document goes as it is (the port system's bytes); the signature in headers.
    let answer = Node::new(node).capture(&stx, &document, wait)?;
    report_answer(output, &answer)
}

pub fn run(cmd: TxCmd, output: Output) -> Result<()> {
    match cmd {
        TxCmd::Sign {
            key,
            call,
            chain_id,
            nonce,
            expiry_height,
            node,
            out,
        } => {
            let call = read_call(&call)?;
            let key = read_key_file(&key)?;
            let (chain_id, nonce, expiry) = envelope(&key, chain_id, nonce, expiry_height, &node)?;
            let stx = sign_call(&key, &chain_id, nonce, expiry, call)?;
            let mut doc = signed_json(&stx);
            let tx_hex = hex::encode(stx.to_bytes());
            if let Some(out) = &out {
                write_atomic(out, &format!("{tx_hex}\n"))?;
                doc["file"] = json!(out);
            }
            emit(
                output,
                &doc,
                &format!("{tx_hex}\ntx hash {}", stx.hash().to_hex()),
            );
        }
        TxCmd::Submit {
            file,
            hex,
            node,
            wait,
            timeout_ms,
        } => {
            let text = match (hex, file) {
                (Some(h), _) => h,
                (None, Some(f)) => read_input(&f)?,
                (None, None) => bail!("give a FILE or --hex"),
            };
            let stx = decode_tx(&text)?;
            let answer = Node::new(&node).submit(&stx, wait, timeout_ms)?;
            report_answer(output, &answer)?;
        }
        TxCmd::Send {
            key,
            call,
            expiry_height,
            node,
            wait,
            timeout_ms,
        } => {
            let call = read_call(&call)?;
            send_call(&key, call, expiry_height, &node, wait, timeout_ms, output)?;
        }
        TxCmd::Show { hash, node } => {
            Hash::from_hex(&hash)
                .map_err(|_| anyhow::anyhow!("{hash:?} is not a transaction hash (64 hex)"))?;
            let answer = Node::new(&node).tx(&hash.to_lowercase())?;
            emit(output, &answer, &text_of_answer(&answer));
        }
    }
    Ok(())
}
