//! `concordat demo`: the smoke test. Registers N demo enterprises with the localnet's REGISTRAR
//! key, waits for them, and prints `{"submitted":N,"committed":M,"tx_hashes":[...],
//! "usccs":[...]}` (in text: what it registered and how to look one up).

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use concordat_client::tx::{demo_uscc, sign_call, DEMO_USCC_SPACE};
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction};
use concordat_primitives::{Hash, SecretKey};
use rand::Rng;
use serde_json::json;

use super::files::read_key_file;
use super::http::{Node, NodeArg, NodeError};
/// How far ahead the demo's transactions expire (the node accepts up to
/// `[mempool] max_expiry_blocks`, 100,000 by default; a refusal halves it).
const DEMO_EXPIRY_BLOCKS: u64 = 10_000;
/// The demo reads the tip again every this many submissions.
const TIP_REFRESH_EVERY: u64 = 50;
use super::{emit, Output, Reported};

/// The demo department holding REGISTRAR (the first of `DEMO_DEPARTMENTS`).
pub const REGISTRAR_USCC: &str = "11110000MB01A7C368";
/// Its region: demo enterprises are registered there.
const DEMO_REGION: &str = "110105";
/// Pause between polls.
const POLL: Duration = Duration::from_millis(200);
/// Retries of one request after a transport failure.
const TRANSPORT_RETRIES: u32 = 5;

/// Follows the submitted transactions in nonce order (the order they commit in).
struct Tracker {
    hashes: Vec<Hash>,
    /// The USCC each submitted transaction registers (same order as `hashes`).
    usccs: Vec<String>,
    /// Index of the first transaction not yet seen committed.
    cursor: usize,
    ok: usize,
    refused: Vec<String>,
    tip: u64,
}

impl Tracker {
    /// Polls from the cursor on while transactions are committed.
    fn advance(&mut self, node: &Node) {
        while let Some(hash) = self.hashes.get(self.cursor) {
            let Ok(answer) = node.tx(&hash.to_hex()) else {
                // Not known (yet) or no answer: try again later.
                return;
            };
            if answer["status"] != "committed" {
                return;
            }
            if let Some(h) = answer["height"].as_u64() {
                self.tip = self.tip.max(h);
            }
            let code = answer["result"]["code"].as_str().unwrap_or("?");
            if code == "OK" {
                self.ok += 1;
            } else {
                self.refused.push(format!(
                    "{hash}: {code} {}",
                    answer["result"]["message"].as_str().unwrap_or("")
                ));
            }
            self.cursor += 1;
        }
    }

    fn all_done(&self) -> bool {
        self.cursor == self.hashes.len()
    }

    fn refresh_tip(&mut self, node: &Node) {
        if let Ok((_, tip)) = node.chain_and_tip() {
            self.tip = self.tip.max(tip);
        }
    }
}

/// Submits `stx`, retrying the same bytes after transport failures. After a retry, `DUPLICATE`
/// means the earlier attempt got through.
fn submit(node: &Node, stx: &SignedTransaction) -> Result<Hash, NodeError> {
    let mut attempt = 0;
    loop {
        match node.submit(stx, false, None) {
            Ok(_) => return Ok(stx.hash()),
            Err(NodeError::Api { code, .. }) if code == "DUPLICATE" && attempt > 0 => {
                return Ok(stx.hash())
            }
            Err(e @ NodeError::Transport { .. }) if attempt >= TRANSPORT_RETRIES => return Err(e),
            Err(NodeError::Transport { .. }) => {
                attempt += 1;
                sleep(POLL * attempt);
            }
            Err(e) => return Err(e),
        }
    }
}

fn register_call(uscc: String, n: u64) -> Call {
    Call::Party(PartyCall::Register {
        uscc,
        name: format!("演示企业 {n}"),
        legal_rep_ref: None,
        registered_address: format!("北京市朝阳区演示路 {n} 号"),
    })
}

/// Submits every transaction (waiting for commits whenever the mempool pushes back), then
/// waits for the rest. Returns the first hard error, if any, after waiting.
fn submit_all(
    node: &Node,
    key: &SecretKey,
    chain_id: &str,
    first_nonce: u64,
    count: u64,
    deadline: Instant,
    tracker: &mut Tracker,
) -> Option<anyhow::Error> {
    let start = rand::rngs::OsRng.gen_range(0..DEMO_USCC_SPACE - count);
    // Each transaction's expiry counts from a recent tip: blocks can come every few tens of
    // milliseconds, so an expiry fixed from the starting tip would pass before the last
    // submissions are included (and strand every later nonce behind the expired one).
    let mut margin = DEMO_EXPIRY_BLOCKS;
    for i in 0..count {
        if i % TIP_REFRESH_EVERY == 0 {
            tracker.refresh_tip(node);
        }
        let Some(uscc) = demo_uscc(DEMO_REGION, start + i) else {
            return Some(anyhow::anyhow!("cannot make a demo USCC"));
        };
        let call = register_call(uscc.clone(), i + 1);
        loop {
            let nonce = first_nonce + i;
            let stx = match sign_call(
                key,
                chain_id,
                nonce,
                tracker.tip.saturating_add(margin),
                call.clone(),
            ) {
                Ok(stx) => stx,
                Err(e) => return Some(e.into()),
            };
            match submit(node, &stx) {
                Ok(hash) => {
                    tracker.hashes.push(hash);
                    tracker.usccs.push(uscc);
                    break;
                }
                Err(NodeError::Api { ref code, .. })
                    if code == "NONCE_TOO_HIGH" || code == "MEMPOOL_FULL" || code == "EXPIRED" =>
                {
                    if Instant::now() >= deadline {
                        return Some(anyhow::anyhow!(
                            "timed out submitting: the node still answers {code}"
                        ));
                    }
                    tracker.advance(node);
                    tracker.refresh_tip(node);
                    sleep(POLL);
                }
                Err(NodeError::Api { ref code, .. }) if code == "EXPIRY_TOO_FAR" && margin > 1 => {
                    margin /= 2;
                }
                Err(e) => {
                    return Some(
                        anyhow::Error::new(e).context(format!("submitting transaction {}", i + 1)),
                    )
                }
            }
        }
    }
    None
}

pub fn run(
    node_arg: &NodeArg,
    home: &Path,
    count: u64,
    timeout_secs: u64,
    output: Output,
) -> Result<()> {
    if count == 0 || count > 1_000_000 {
        bail!("--count must be between 1 and 1000000");
    }
    let key_path = home.join("keys").join(format!("{REGISTRAR_USCC}.key"));
    let key = read_key_file(&key_path).with_context(|| {
        format!(
            "the demo needs the REGISTRAR key of a demo network (made by `concordat genesis demo --dir {}`)",
            home.display()
        )
    })?;
    let node = Node::new(node_arg);
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let (chain_id, tip) = node.chain_and_tip()?;
    let first_nonce = node
        .next_nonce(&key.public_key())
        .context("fetching the registrar's next nonce")?;
    let mut tracker = Tracker {
        hashes: Vec::new(),
        usccs: Vec::new(),
        cursor: 0,
        ok: 0,
        refused: Vec::new(),
        tip,
    };
    let failure = submit_all(
        &node,
        &key,
        &chain_id,
        first_nonce,
        count,
        deadline,
        &mut tracker,
    );
    loop {
        tracker.advance(&node);
        if tracker.all_done() || Instant::now() >= deadline {
            break;
        }
        sleep(POLL);
    }

    let submitted = tracker.hashes.len();
    let committed = tracker.ok;
    let hashes: Vec<String> = tracker.hashes.iter().map(Hash::to_hex).collect();
    // In text, the first few of what was registered and how to look one up.
    let shown: Vec<String> = tracker
        .usccs
        .iter()
        .zip(&hashes)
        .take(5)
        .map(|(u, h)| format!("  {u}  (transaction {h})"))
        .collect();
    let more = submitted.saturating_sub(shown.len());
    let lookup = tracker
        .usccs
        .first()
        .map(|u| {
            format!(
                "\nlook one up (verified): concordat query party {u} --node {}",
                node_arg.url
            )
        })
        .unwrap_or_default();
    emit(
        output,
        &json!({"submitted": submitted, "committed": committed, "tx_hashes": hashes, "usccs": tracker.usccs}),
        &format!(
            "submitted {submitted} of {count} party registrations, {committed} committed OK (chain {chain_id}, signer {})\nregistered enterprises (USCC):\n{}{}{lookup}",
            key.public_key(),
            shown.join("\n"),
            if more > 0 { format!("\n  … and {more} more (--output json lists all)") } else { String::new() },
        ),
    );
    for r in tracker.refused.iter().take(10) {
        eprintln!("refused: {r}");
    }
    if let Some(e) = failure {
        return Err(Reported(format!("{e:#}")).into());
    }
    if (committed as u64) < count {
        let waiting = tracker.hashes.len() - tracker.cursor;
        return Err(Reported(format!(
            "only {committed} of {count} committed OK ({} refused, {waiting} not committed within {timeout_secs} s)",
            tracker.refused.len()
        ))
        .into());
    }
    Ok(())
}
