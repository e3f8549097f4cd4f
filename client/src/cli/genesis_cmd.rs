//! `concordat genesis`: create a genesis file, add departments and validators, validate it, and
//! make a demo network's keys and genesis.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use concordat_genesis::{demo_spec, DepartmentSpec, GenesisSpec, ValidatorSpec, DEMO_DEPARTMENTS};
use concordat_primitives::{PublicKey, SecretKey};
use serde_json::json;

use super::files::{read_public_key, write_atomic, write_key_file};
use super::{emit, Output};

#[derive(Subcommand, Debug)]
pub enum GenesisCmd {
    /// Start a new, empty genesis file.
    New {
        /// Chain id (a-z, 0-9, '-').
        #[arg(long)]
        chain_id: String,
        /// Genesis time, RFC 3339 (e.g. 2026-11-28T00:00:00+08:00).
        #[arg(long)]
        genesis_time: String,
        /// Output file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a department; refused (file unchanged) if anything about it is invalid.
    AddDepartment {
        /// The genesis file to change.
        #[arg(long)]
        genesis: PathBuf,
        /// USCC (GB 32100).
        #[arg(long)]
        uscc: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// GB/T 2260 region code.
        #[arg(long)]
        region: String,
        /// Roles, comma-separated or repeated (e.g. REGISTRAR,LICENSING_AUTHORITY).
        #[arg(long = "role", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Member public keys (hex), repeatable.
        #[arg(long = "member-key")]
        member_keys: Vec<String>,
        /// Member key files, repeatable.
        #[arg(long = "member-key-file")]
        member_key_files: Vec<PathBuf>,
    },
    /// Add a validator; refused (file unchanged) if anything about it is invalid.
    AddValidator {
        /// The genesis file to change.
        #[arg(long)]
        genesis: PathBuf,
        /// Consensus public key (hex).
        #[arg(long, conflicts_with = "key_file")]
        key: Option<String>,
        /// Or a key file (e.g. a node's node_key).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// Voting power (at least 1).
        #[arg(long)]
        power: u64,
        /// USCC of the operating department.
        #[arg(long)]
        department: String,
    },
    /// Validate a genesis file and print its hash.
    Validate {
        /// The genesis file.
        file: PathBuf,
    },
    /// Make a demo network: department keys, validator node homes with keys, and the genesis.
    Demo {
        /// Output directory (e.g. .localnet).
        #[arg(long)]
        dir: PathBuf,
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Chain id.
        #[arg(long, default_value = "concordat-localnet")]
        chain_id: String,
        /// Genesis time, RFC 3339.
        #[arg(long, default_value = "2026-11-28T00:00:00+08:00")]
        genesis_time: String,
    },
}

fn load(path: &Path) -> Result<GenesisSpec> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(GenesisSpec::from_json(&text)?)
}

/// Validates `spec` and returns the errors that concern `prefix` (the item just added).
fn item_errors(spec: &GenesisSpec, prefix: &str) -> Vec<String> {
    match spec.validate() {
        Ok(_) => Vec::new(),
        Err(e) => e.0.into_iter().filter(|m| m.starts_with(prefix)).collect(),
    }
}

fn summary(spec: &GenesisSpec, output: Output) -> Result<()> {
    let g = spec.validate()?;
    let hash = g.hash().to_hex();
    let state_root = g.state_root().map_err(anyhow::Error::msg)?.to_hex();
    let power: u64 = g.validators.iter().map(|v| v.power).sum();
    emit(
        output,
        &json!({"valid": true, "chain_id": g.chain_id, "genesis_hash": hash, "state_root": state_root,
                "departments": g.departments.len(), "validators": g.validators.len(),
                "total_power": power}),
        &format!(
            "valid genesis for chain {}\nhash {hash}\nstate root {state_root}\n{} departments, {} validators, total power {power}",
            g.chain_id,
            g.departments.len(),
            g.validators.len()
        ),
    );
    Ok(())
}

pub fn run(cmd: GenesisCmd, output: Output) -> Result<()> {
    match cmd {
        GenesisCmd::New {
            chain_id,
            genesis_time,
            out,
        } => {
            if out.exists() {
                bail!("{} already exists", out.display());
            }
            let spec = GenesisSpec::new(&chain_id, &genesis_time);
            let errs: Vec<String> = item_errors(&spec, "chain_id")
                .into_iter()
                .chain(item_errors(&spec, "genesis_time"))
                .collect();
            if !errs.is_empty() {
                bail!("{}", errs.join("; "));
            }
            write_atomic(&out, &spec.to_json())?;
            emit(
                output,
                &json!({"file": out, "chain_id": chain_id}),
                &format!("created {}", out.display()),
            );
        }
        GenesisCmd::AddDepartment {
            genesis,
            uscc,
            name,
            region,
            roles,
            member_keys,
            member_key_files,
        } => {
            let mut spec = load(&genesis)?;
            let mut keys = member_keys;
            for f in &member_key_files {
                keys.push(read_public_key(f)?.0.to_hex());
            }
            let roles = roles.into_iter().map(|r| r.trim().to_uppercase()).collect();
            spec.departments.push(DepartmentSpec {
                uscc,
                name,
                region,
                roles,
                member_keys: keys,
            });
            let errs = item_errors(
                &spec,
                &format!("departments[{}]", spec.departments.len() - 1),
            );
            if !errs.is_empty() {
                bail!(
                    "department refused, {} unchanged:\n  - {}",
                    genesis.display(),
                    errs.join("\n  - ")
                );
            }
            write_atomic(&genesis, &spec.to_json())?;
            emit(
                output,
                &json!({"file": genesis, "departments": spec.departments.len()}),
                "department added",
            );
        }
        GenesisCmd::AddValidator {
            genesis,
            key,
            key_file,
            power,
            department,
        } => {
            let mut spec = load(&genesis)?;
            let public_key = match (key, key_file) {
                (Some(k), None) => k,
                (None, Some(f)) => read_public_key(&f)?.0.to_hex(),
                _ => bail!("give exactly one of --key or --key-file"),
            };
            spec.validators.push(ValidatorSpec {
                public_key,
                power,
                department,
            });
            let errs = item_errors(&spec, &format!("validators[{}]", spec.validators.len() - 1));
            if !errs.is_empty() {
                bail!(
                    "validator refused, {} unchanged:\n  - {}",
                    genesis.display(),
                    errs.join("\n  - ")
                );
            }
            write_atomic(&genesis, &spec.to_json())?;
            emit(
                output,
                &json!({"file": genesis, "validators": spec.validators.len()}),
                "validator added",
            );
        }
        GenesisCmd::Validate { file } => summary(&load(&file)?, output)?,
        GenesisCmd::Demo {
            dir,
            validators,
            chain_id,
            genesis_time,
        } => {
            if validators == 0 || validators > 64 {
                bail!("--validators must be between 1 and 64");
            }
            let genesis_path = dir.join("genesis.json");
            if genesis_path.exists() {
                bail!(
                    "{} already exists; remove {} to start over",
                    genesis_path.display(),
                    dir.display()
                );
            }
            let mut members: Vec<PublicKey> = Vec::new();
            for (uscc, ..) in DEMO_DEPARTMENTS {
                let key = SecretKey::generate(rand::rngs::OsRng);
                write_key_file(&dir.join("keys").join(format!("{uscc}.key")), &key, false)?;
                members.push(key.public_key());
            }
            let mut node_keys = Vec::new();
            for i in 0..validators {
                let key = SecretKey::generate(rand::rngs::OsRng);
                write_key_file(&dir.join(format!("node{i}")).join("node_key"), &key, false)?;
                node_keys.push(key.public_key());
            }
            let spec = demo_spec(&chain_id, &genesis_time, &members, &node_keys);
            spec.validate()?;
            write_atomic(&genesis_path, &spec.to_json())?;
            for i in 0..validators {
                write_atomic(
                    &dir.join(format!("node{i}")).join("genesis.json"),
                    &spec.to_json(),
                )?;
            }
            summary(&spec, output)?;
        }
    }
    Ok(())
}
