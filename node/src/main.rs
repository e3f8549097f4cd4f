//! `concordat-node`: the Concordat validator / observer daemon.
//!
//! This build checks a node home (`DIR/genesis.json`, `DIR/node_key`) and reports what it
//! found. Storage, consensus, networking and the HTTP API arrive with issues 3 and 4; until
//! then the daemon refuses to start rather than pretend to run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use concordat_genesis::GenesisSpec;
use concordat_primitives::crypto::KeyFile;

#[derive(Parser, Debug)]
#[command(
    name = "concordat-node",
    version,
    about = "Concordat validator / observer daemon"
)]
struct Args {
    /// Node home: config.toml, genesis.json, node_key, data/.
    #[arg(long)]
    home: PathBuf,
}

fn check_home(args: &Args) -> Result<String> {
    let genesis_path = args.home.join("genesis.json");
    let text = std::fs::read_to_string(&genesis_path)
        .with_context(|| format!("reading {}", genesis_path.display()))?;
    let genesis = GenesisSpec::from_json(&text)?.validate()?;
    let key_path = args.home.join("node_key");
    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading {}", key_path.display()))?;
    let key: KeyFile = serde_json::from_str(&key_text)
        .with_context(|| format!("{} is not a key file", key_path.display()))?;
    let key = key.secret()?;
    let role = if genesis.validators.iter().any(|v| v.key == key.public_key()) {
        "validator"
    } else {
        "observer"
    };
    Ok(format!(
        "chain {} genesis {} node key {} ({role})",
        genesis.chain_id,
        genesis.hash(),
        key.public_key()
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match check_home(&args) {
        Ok(summary) => {
            eprintln!("{summary}");
            eprintln!(
                "concordat-node: the node runtime is not built yet (issue 3); refusing to start"
            );
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
