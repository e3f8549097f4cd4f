//! File helpers: secret files created 0600 and never overwritten; atomic replace of documents.

use std::fs::{self, File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use concordat_primitives::keyfile::{self, KeyFile, KeyFileError};
use concordat_primitives::{PublicKey, SecretKey};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

fn sync_dir(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// Writes a new key file with mode 0600 (encrypted under a passphrase when `encrypt`); refuses
/// to overwrite an existing file.
pub fn write_key_file(path: &Path, key: &SecretKey, encrypt: bool) -> Result<()> {
    let file = if encrypt {
        encrypted_key_file(path, key)?
    } else {
        KeyFile::new(key)
    };
    let json = serde_json::to_string_pretty(&file)?;
    write_secret_file(path, &format!("{json}\n"))
}

/// Writes a new secret file with mode 0600 (synced, directory too); refuses to overwrite an
/// existing file.
pub fn write_secret_file(path: &Path, contents: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "creating key file {} (it must not exist yet)",
                path.display()
            )
        })?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    sync_dir(path)
}

/// The environment variable that names a file holding the key passphrase (its first line).
pub const PASSPHRASE_FILE_ENV: &str = "CONCORDAT_KEY_PASSPHRASE_FILE";
/// The environment variable that holds the key passphrase itself.
pub const PASSPHRASE_ENV: &str = "CONCORDAT_KEY_PASSPHRASE";

/// The passphrase for `path`: from the file `$CONCORDAT_KEY_PASSPHRASE_FILE` names, else
/// `$CONCORDAT_KEY_PASSPHRASE`, else a prompt on the terminal (twice when `confirm`).
pub fn passphrase_for(path: &Path, confirm: bool) -> Result<Zeroizing<String>> {
    if let Some(file) = std::env::var_os(PASSPHRASE_FILE_ENV) {
        let text = Zeroizing::new(
            fs::read_to_string(&file)
                .with_context(|| format!("reading the passphrase file ${PASSPHRASE_FILE_ENV}"))?,
        );
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            bail!("the passphrase file ${PASSPHRASE_FILE_ENV} is empty");
        }
        return Ok(Zeroizing::new(line.to_string()));
    }
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        if p.is_empty() {
            bail!("${PASSPHRASE_ENV} is empty");
        }
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        let what = if confirm {
            "encrypting"
        } else {
            "it is encrypted; opening"
        };
        bail!(
            "{}: {what} it needs a passphrase: set ${PASSPHRASE_FILE_ENV} (a file holding \
             the passphrase) or ${PASSPHRASE_ENV}, or run on a terminal to be asked",
            path.display()
        );
    }
    let first = Zeroizing::new(rpassword::prompt_password(format!(
        "Passphrase for {}: ",
        path.display()
    ))?);
    if first.is_empty() {
        bail!("the passphrase is empty");
    }
    if confirm {
        let again = Zeroizing::new(rpassword::prompt_password("Repeat the passphrase: ")?);
        if again != first {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

fn parse_key_file(path: &Path) -> Result<KeyFile> {
    let text =
        fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))?;
    KeyFile::from_json(&text)
        .with_context(|| format!("{} is not a Concordat key file", path.display()))
}

/// Reads and checks a key file, asking for its passphrase if it is encrypted.
pub fn read_key_file(path: &Path) -> Result<SecretKey> {
    let file = parse_key_file(path)?;
    file.unlock(|| {
        passphrase_for(path, false).map_err(|e| KeyFileError::Passphrase(format!("{e:#}")))
    })
    .with_context(|| format!("key file {}", path.display()))
}

/// The public key a key file names, and whether it is encrypted: no passphrase needed. A plain
/// file is also checked against its secret.
pub fn read_public_key(path: &Path) -> Result<(PublicKey, bool)> {
    let file = parse_key_file(path)?;
    let key = if file.is_encrypted() {
        file.public_key()
    } else {
        file.secret().map(|k| k.public_key())
    };
    let key = key.with_context(|| format!("key file {}", path.display()))?;
    Ok((key, file.is_encrypted()))
}

/// The key file for `key`, sealed under a passphrase from [`passphrase_for`] (asked twice on a
/// terminal) with a fresh salt and nonce.
pub fn encrypted_key_file(path: &Path, key: &SecretKey) -> Result<KeyFile> {
    let pass = passphrase_for(path, true)?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    Ok(KeyFile::encrypted(
        key,
        pass.as_bytes(),
        salt,
        nonce,
        keyfile::DEFAULT_COST,
    )?)
}

/// Encrypts a plain key file in place (atomically; the new file is 0600 like the old).
pub fn encrypt_key_file(path: &Path) -> Result<PublicKey> {
    let file = parse_key_file(path)?;
    if file.is_encrypted() {
        bail!("{} is already encrypted", path.display());
    }
    let key = file
        .secret()
        .with_context(|| format!("key file {}", path.display()))?;
    let sealed = encrypted_key_file(path, &key)?;
    let json = serde_json::to_string_pretty(&sealed)?;
    write_atomic_secret(path, &format!("{json}\n"))?;
    Ok(key.public_key())
}

/// Replaces `path` atomically: write a temporary file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    replace_atomic(path, contents.as_bytes(), 0o644)
}

/// [`write_atomic`] for a secret: the new file has mode 0600.
pub fn write_atomic_secret(path: &Path, contents: &str) -> Result<()> {
    replace_atomic(path, contents.as_bytes(), 0o600)
}

/// [`write_atomic`] for bytes.
pub fn write_atomic_bytes(path: &Path, contents: &[u8]) -> Result<()> {
    replace_atomic(path, contents, 0o644)
}

fn replace_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let Some(name) = path.file_name() else {
        bail!("{} is not a file path", path.display())
    };
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    let _ = fs::remove_file(&tmp);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    sync_dir(path)
}
