//! File helpers: secret files created 0600 and never overwritten; atomic replace of documents.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use concordat_primitives::crypto::KeyFile;
use concordat_primitives::SecretKey;

fn sync_dir(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// Writes a new key file with mode 0600; refuses to overwrite an existing file.
pub fn write_key_file(path: &Path, key: &SecretKey) -> Result<()> {
    let json = serde_json::to_string_pretty(&KeyFile::new(key))?;
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

/// Reads and checks a key file.
pub fn read_key_file(path: &Path) -> Result<SecretKey> {
    let text =
        fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Concordat key file", path.display()))?;
    file.secret()
        .with_context(|| format!("key file {}", path.display()))
}

/// Replaces `path` atomically: write a temporary file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let Some(name) = path.file_name() else {
        bail!("{} is not a file path", path.display())
    };
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    {
        let mut f = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    sync_dir(path)
}
