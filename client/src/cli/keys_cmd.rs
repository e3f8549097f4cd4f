//! `concordat keys`: create and show key files.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use concordat_primitives::SecretKey;
use serde_json::json;

use super::files::{read_key_file, write_key_file};
use super::{emit, Output};

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Create a new ed25519 key file (mode 0600; never overwrites).
    New {
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file.
    Show {
        /// The key file.
        file: PathBuf,
    },
}

pub fn run(cmd: KeysCmd, output: Output) -> Result<()> {
    match cmd {
        KeysCmd::New { out } => {
            let key = SecretKey::generate(rand::rngs::OsRng);
            write_key_file(&out, &key)?;
            let pk = key.public_key().to_hex();
            emit(
                output,
                &json!({"public_key": pk, "file": out}),
                &format!("{pk}\nwritten to {}", out.display()),
            );
        }
        KeysCmd::Show { file } => {
            let pk = read_key_file(&file)?.public_key().to_hex();
            emit(output, &json!({"public_key": pk, "file": file}), &pk);
        }
    }
    Ok(())
}
