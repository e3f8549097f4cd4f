//! `concordat keys`: create, show and encrypt key files.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use concordat_primitives::SecretKey;
use serde_json::json;

use super::files::{encrypt_key_file, read_public_key, write_key_file};
use super::{emit, Output};

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Create a new ed25519 key file (mode 0600; never overwrites).
    New {
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
        /// Seal the secret under a passphrase (from the file $CONCORDAT_KEY_PASSPHRASE_FILE
        /// names, $CONCORDAT_KEY_PASSPHRASE, or asked twice on the terminal).
        #[arg(long)]
        encrypt: bool,
    },
    /// Print the public key of a key file (no passphrase needed).
    Show {
        /// The key file.
        file: PathBuf,
    },
    /// Encrypt a plain key file in place under a passphrase (the migration from plain files;
    /// the public key stays the same).
    Encrypt {
        /// The key file.
        file: PathBuf,
    },
}

pub fn run(cmd: KeysCmd, output: Output) -> Result<()> {
    match cmd {
        KeysCmd::New { out, encrypt } => {
            let key = SecretKey::generate(rand::rngs::OsRng);
            write_key_file(&out, &key, encrypt)?;
            let pk = key.public_key().to_hex();
            emit(
                output,
                &json!({"public_key": pk, "file": out, "encrypted": encrypt}),
                &format!("{pk}\nwritten to {}", out.display()),
            );
        }
        KeysCmd::Show { file } => {
            let (pk, encrypted) = read_public_key(&file)?;
            let pk = pk.to_hex();
            emit(
                output,
                &json!({"public_key": pk, "file": file, "encrypted": encrypted}),
                &pk,
            );
        }
        KeysCmd::Encrypt { file } => {
            let pk = encrypt_key_file(&file)?.to_hex();
            emit(
                output,
                &json!({"public_key": pk, "file": file, "encrypted": true}),
                &format!("{pk}\n{} is now encrypted", file.display()),
            );
        }
    }
    Ok(())
}
