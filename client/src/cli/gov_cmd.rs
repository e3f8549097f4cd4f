//! `concordat gov`: governance as an operator uses it — list proposals and who has approved,
//! propose one or several actions, approve.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use concordat_contracts::governance::{GovAction, GovCall};
use concordat_contracts::Call;
use serde_json::Value;

use super::http::{Node, NodeArg};
use super::tx_cmd::{read_input, send_call};
use super::{emit, Output};

/// Blocks a proposal stays open by default (about a day at one block a second).
pub const DEFAULT_PROPOSAL_BLOCKS: u64 = 100_000;

#[derive(Subcommand, Debug)]
pub enum GovCmd {
    /// Departments, validators and proposals (newest first) with their approvals and the
    /// departments yet to approve (GET /v1/governance).
    List {
        /// Closed and expired proposals too (default: only those that can still execute).
        #[arg(long)]
        all: bool,
        /// Most proposals to list.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        node: NodeArg,
    },
    /// Propose one action or several decided together (docs/transactions.md): ACTIONS.json
    /// holds one GovAction, or a JSON array of them (applied in order, all or none). The
    /// signer's department approves at once.
    Propose {
        /// The action file; `-` reads standard input.
        #[arg(value_name = "ACTIONS.json")]
        actions: PathBuf,
        /// A department member's key file.
        #[arg(long)]
        key: PathBuf,
        /// Blocks the proposal stays open for approvals (default 100,000).
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_BLOCKS)]
        open_for: u64,
        #[command(flatten)]
        node: NodeArg,
        /// Wait until the proposal is committed.
        #[arg(long)]
        wait: bool,
    },
    /// Approve an open proposal on behalf of the signer's department.
    Approve {
        /// The proposal id.
        id: u64,
        /// A department member's key file.
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        node: NodeArg,
        /// Wait until the approval is committed.
        #[arg(long)]
        wait: bool,
    },
}

/// One GovAction, or an array of them as a batch.
pub fn parse_actions(text: &str) -> Result<GovAction> {
    let v: Value = serde_json::from_str(text).context("not JSON")?;
    match v {
        Value::Array(items) => {
            let actions = items
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    serde_json::from_value(a)
                        .with_context(|| format!("action {i} is not a GovAction"))
                })
                .collect::<Result<Vec<GovAction>>>()?;
            Ok(GovAction::Batch { actions })
        }
        other => serde_json::from_value(other).context("not a GovAction (or an array of them)"),
    }
}

fn read_actions(path: &Path) -> Result<GovAction> {
    let text = read_input(path)?;
    parse_actions(&text).with_context(|| {
        if path.as_os_str() == "-" {
            "the actions on standard input".to_string()
        } else {
            path.display().to_string()
        }
    })
}

/// One line naming what an action does.
fn describe(action: &Value) -> String {
    let Some((name, body)) = action.as_object().and_then(|o| o.iter().next()) else {
        return action.to_string();
    };
    match name.as_str() {
        "AddDepartment" | "UpdateDepartment" => format!(
            "{name} {} {}",
            body["uscc"].as_str().unwrap_or("?"),
            body["name"].as_str().unwrap_or("")
        ),
        "RemoveDepartment" | "SetPolicyOwner" => {
            format!("{name} {}", body["uscc"].as_str().unwrap_or("?"))
        }
        "SetValidators" => format!(
            "SetValidators ({} validators)",
            body["validators"].as_array().map_or(0, Vec::len)
        ),
        "Batch" => body["actions"]
            .as_array()
            .map(|a| a.iter().map(describe).collect::<Vec<_>>().join("; "))
            .unwrap_or_default(),
        _ => name.clone(),
    }
}

/// The strings of a JSON array (none if it is not one).
fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The text form of `GET /v1/governance`.
pub fn text_of_overview(v: &Value) -> String {
    let mut s = String::new();
    let empty = Vec::new();
    let departments = v["departments"].as_array().unwrap_or(&empty);
    let validators = v["validators"].as_array().unwrap_or(&empty);
    let _ = writeln!(
        s,
        "height {}: {} departments, {} validators (total power {}), {} proposals made",
        v["height"],
        departments.len(),
        validators.len(),
        v["total_power"],
        v["proposal_count"]
    );
    for d in departments {
        let roles = strings(&d["roles"]);
        let _ = writeln!(
            s,
            "  department {} {} ({}; {} keys; validator power {})",
            d["uscc"].as_str().unwrap_or("?"),
            d["name"].as_str().unwrap_or(""),
            roles.join(", "),
            d["member_keys"],
            d["validator_power"]
        );
    }
    for p in v["proposals"].as_array().unwrap_or(&empty) {
        let status = if p["expired"] == Value::Bool(true) {
            "EXPIRED".to_string()
        } else {
            p["status"].as_str().unwrap_or("?").to_uppercase()
        };
        let awaiting = strings(&p["awaiting"]);
        let _ = writeln!(
            s,
            "proposal {} {status}: {}\n  by {}; approvals {} of {} needed; open until height {}{}",
            p["id"],
            describe(&p["action"]),
            p["proposer"].as_str().unwrap_or("?"),
            p["counted"],
            p["needed"],
            p["expires_at_height"],
            if status == "OPEN" {
                format!("; awaiting {}", awaiting.join(", "))
            } else {
                String::new()
            }
        );
    }
    s.trim_end().to_string()
}

pub fn run(cmd: GovCmd, output: Output) -> Result<()> {
    match cmd {
        GovCmd::List { all, limit, node } => {
            let mut query = vec![("limit", limit.to_string())];
            if !all {
                query.push(("open", "true".into()));
            }
            let v = Node::new(&node).get(&["v1", "governance"], &query)?;
            emit(output, &v, &text_of_overview(&v));
        }
        GovCmd::Propose {
            actions,
            key,
            open_for,
            node,
            wait,
        } => {
            let action = read_actions(&actions)?;
            if open_for == 0 || open_for > concordat_contracts::governance::MAX_PROPOSAL_BLOCKS {
                bail!(
                    "--open-for must be between 1 and {} blocks",
                    concordat_contracts::governance::MAX_PROPOSAL_BLOCKS
                );
            }
            let tip = Node::new(&node).chain_and_tip()?.1;
            let call = Call::Governance(GovCall::Propose {
                action,
                expires_at_height: tip + open_for,
            });
            send_call(&key, call, None, &node, wait, None, output)?;
        }
        GovCmd::Approve {
            id,
            key,
            node,
            wait,
        } => {
            let call = Call::Governance(GovCall::Approve { proposal_id: id });
            send_call(&key, call, None, &node, wait, None, output)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_of_actions_is_a_batch_and_one_action_is_itself() {
        let one = r#"{"RemoveDepartment": {"uscc": "11120000MB02T9J49M"}}"#;
        assert!(matches!(
            parse_actions(one).expect("one"),
            GovAction::RemoveDepartment { .. }
        ));
        let two = format!("[{one}, {{\"SetPolicyOwner\": {{\"uscc\": \"11120000MB02T9J49M\"}}}}]");
        match parse_actions(&two).expect("two") {
            GovAction::Batch { actions } => assert_eq!(actions.len(), 2),
            other => panic!("not a batch: {other:?}"),
        }
        let err = parse_actions(r#"[{"Nope": {}}]"#).expect_err("refused");
        assert!(format!("{err:#}").contains("action 0"), "{err:#}");
    }
}
