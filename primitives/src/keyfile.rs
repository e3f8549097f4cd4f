//! Key files: what `concordat keys new` writes (mode 0600) and every tool and the node read.
//!
//! A key file is JSON. A plain one holds the 32-byte ed25519 seed in hex (`secret_key`); an
//! encrypted one holds it sealed under a passphrase (`encrypted`): scrypt derives a 32-byte key
//! from the passphrase and a random salt, and ChaCha20-Poly1305 (RFC 8439) seals the seed with a
//! random nonce, the public key's bytes as associated data. A wrong passphrase, or any change to
//! the file, fails the tag check, so a key is never silently wrong. `public_key` stays in the
//! clear in both forms: a key's public half can be shown without the passphrase.
//!
//! This module is pure: the salt and nonce come in from the caller (docs/adr/0022).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{PublicKey, SecretKey};

/// The scrypt cost written by default: N = 2^15, r = 8, p = 1 (32 MiB and a fraction of a
/// second per unlock; the interactive-login parameters of the Go `x/crypto/scrypt`
/// documentation).
pub const DEFAULT_COST: ScryptCost = ScryptCost {
    log_n: 15,
    r: 8,
    p: 1,
};

/// The largest scrypt cost a file may ask for (N = 2^20 and r = 16 would need 2 GiB): a
/// crafted file cannot make a reader allocate without bound.
pub const MAX_MEMORY_BYTES: u64 = 512 * 1024 * 1024;

/// scrypt's cost parameters.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptCost {
    /// log2 of N.
    pub log_n: u8,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

impl ScryptCost {
    fn params(&self) -> Result<scrypt::Params, KeyFileError> {
        let memory = 128u64
            .saturating_mul(u64::from(self.r))
            .saturating_mul(1u64.checked_shl(u32::from(self.log_n)).unwrap_or(u64::MAX));
        if !(10..=22).contains(&self.log_n)
            || self.r == 0
            || !(1..=16).contains(&self.p)
            || memory > MAX_MEMORY_BYTES
        {
            return Err(KeyFileError::Malformed(format!(
                "scrypt cost log_n={} r={} p={} is outside the accepted range \
                 (log_n 10..=22, r at least 1, p 1..=16, at most {} MiB)",
                self.log_n,
                self.r,
                self.p,
                MAX_MEMORY_BYTES >> 20
            )));
        }
        scrypt::Params::new(self.log_n, self.r, self.p, 32)
            .map_err(|e| KeyFileError::Malformed(format!("scrypt parameters: {e}")))
    }
}

/// The sealed seed of an encrypted key file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EncryptedSeed {
    /// Always `"scrypt"`.
    pub kdf: String,
    /// The scrypt cost.
    pub cost: ScryptCost,
    /// Hex of the 16-byte salt.
    pub salt: String,
    /// Always `"chacha20-poly1305"`.
    pub cipher: String,
    /// Hex of the 12-byte nonce.
    pub nonce: String,
    /// Hex of the sealed seed (32 bytes) and its 16-byte tag.
    pub ciphertext: String,
}

/// Why a key file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum KeyFileError {
    /// Not a valid key file.
    #[error("not a valid key file: {0}")]
    Malformed(String),
    /// The file is encrypted and no passphrase was given.
    #[error("the key file is encrypted and needs its passphrase")]
    NeedsPassphrase,
    /// The passphrase could not be had (the caller's reason).
    #[error("{0}")]
    Passphrase(String),
    /// The passphrase is wrong, or the file was changed.
    #[error("wrong passphrase (or the encrypted key file was altered)")]
    WrongPassphrase,
}

/// A key file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// Always `"ed25519"`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// Hex of the public key.
    pub public_key: String,
    /// Hex of the 32-byte secret seed (plain files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// The sealed seed (encrypted files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<EncryptedSeed>,
}

fn hex_array<const N: usize>(what: &str, s: &str) -> Result<[u8; N], KeyFileError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s.trim(), &mut out)
        .map_err(|_| KeyFileError::Malformed(format!("{what} must be {} hex digits", 2 * N)))?;
    Ok(out)
}

fn derive(
    passphrase: &[u8],
    salt: &[u8],
    cost: ScryptCost,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, salt, &cost.params()?, key.as_mut())
        .map_err(|e| KeyFileError::Malformed(format!("scrypt: {e}")))?;
    Ok(key)
}

impl KeyFile {
    /// The plain key file for `key`.
    pub fn new(key: &SecretKey) -> KeyFile {
        KeyFile {
            key_type: "ed25519".into(),
            public_key: key.public_key().to_hex(),
            secret_key: Some(hex::encode(key.seed())),
            encrypted: None,
        }
    }

    /// The key file for `key` sealed under `passphrase`, with a fresh random `salt` and `nonce`
    /// from the caller.
    pub fn encrypted(
        key: &SecretKey,
        passphrase: &[u8],
        salt: [u8; 16],
        nonce: [u8; 12],
        cost: ScryptCost,
    ) -> Result<KeyFile, KeyFileError> {
        if passphrase.is_empty() {
            return Err(KeyFileError::Malformed("the passphrase is empty".into()));
        }
        let public = key.public_key();
        let wrapping = derive(passphrase, &salt, cost)?;
        let seed = Zeroizing::new(key.seed());
        let sealed = ChaCha20Poly1305::new(Key::from_slice(wrapping.as_ref()))
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: seed.as_ref(),
                    aad: public.as_bytes(),
                },
            )
            .map_err(|_| KeyFileError::Malformed("sealing failed".into()))?;
        Ok(KeyFile {
            key_type: "ed25519".into(),
            public_key: public.to_hex(),
            secret_key: None,
            encrypted: Some(EncryptedSeed {
                kdf: "scrypt".into(),
                cost,
                salt: hex::encode(salt),
                cipher: "chacha20-poly1305".into(),
                nonce: hex::encode(nonce),
                ciphertext: hex::encode(sealed),
            }),
        })
    }

    /// Reads a key file's JSON.
    pub fn from_json(text: &str) -> Result<KeyFile, KeyFileError> {
        serde_json::from_str(text).map_err(|e| KeyFileError::Malformed(e.to_string()))
    }

    /// True iff the seed is sealed under a passphrase.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted.is_some()
    }

    /// The public key the file names (not checked against the secret: see [`KeyFile::secret`]).
    pub fn public_key(&self) -> Result<PublicKey, KeyFileError> {
        if self.key_type != "ed25519" {
            return Err(KeyFileError::Malformed(format!(
                "unsupported key type {:?}",
                self.key_type
            )));
        }
        PublicKey::from_hex(&self.public_key).map_err(|e| KeyFileError::Malformed(e.to_string()))
    }

    /// The secret key of a plain file; an encrypted one needs [`KeyFile::unlock`].
    pub fn secret(&self) -> Result<SecretKey, KeyFileError> {
        self.unlock(|| Err(KeyFileError::NeedsPassphrase))
    }

    /// The secret key, asking `passphrase` for the passphrase only if the file is encrypted.
    /// Checks the type, that exactly one of the two forms is present, and that the public key
    /// matches the secret.
    pub fn unlock(
        &self,
        passphrase: impl FnOnce() -> Result<Zeroizing<String>, KeyFileError>,
    ) -> Result<SecretKey, KeyFileError> {
        let public = self.public_key()?;
        let seed: Zeroizing<[u8; 32]> = match (&self.secret_key, &self.encrypted) {
            (Some(plain), None) => Zeroizing::new(hex_array("secret_key", plain)?),
            (None, Some(sealed)) => {
                if sealed.kdf != "scrypt" || sealed.cipher != "chacha20-poly1305" {
                    return Err(KeyFileError::Malformed(format!(
                        "unsupported encryption {} / {}",
                        sealed.kdf, sealed.cipher
                    )));
                }
                let salt: [u8; 16] = hex_array("salt", &sealed.salt)?;
                let nonce: [u8; 12] = hex_array("nonce", &sealed.nonce)?;
                let ciphertext: [u8; 48] = hex_array("ciphertext", &sealed.ciphertext)?;
                sealed.cost.params()?;
                let pass = passphrase()?;
                let wrapping = derive(pass.as_bytes(), &salt, sealed.cost)?;
                let opened = Zeroizing::new(
                    ChaCha20Poly1305::new(Key::from_slice(wrapping.as_ref()))
                        .decrypt(
                            Nonce::from_slice(&nonce),
                            Payload {
                                msg: &ciphertext,
                                aad: public.as_bytes(),
                            },
                        )
                        .map_err(|_| KeyFileError::WrongPassphrase)?,
                );
                let mut seed = Zeroizing::new([0u8; 32]);
                seed.copy_from_slice(&opened);
                seed
            }
            _ => {
                return Err(KeyFileError::Malformed(
                    "a key file holds exactly one of secret_key and encrypted".into(),
                ))
            }
        };
        let key = SecretKey::from_seed(*seed);
        if key.public_key() != public {
            return Err(KeyFileError::Malformed(
                "public_key does not match the secret key".into(),
            ));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cheap cost for tests (the checks are the same at any cost).
    const TEST_COST: ScryptCost = ScryptCost {
        log_n: 10,
        r: 8,
        p: 1,
    };

    fn pass(s: &str) -> impl FnOnce() -> Result<Zeroizing<String>, KeyFileError> + '_ {
        move || Ok(Zeroizing::new(s.to_string()))
    }

    #[test]
    fn an_encrypted_file_opens_with_its_passphrase_only() {
        let key = SecretKey::from_seed([7; 32]);
        let file = KeyFile::encrypted(&key, b"correct horse", [1; 16], [2; 12], TEST_COST)
            .expect("sealed");
        assert!(file.is_encrypted());
        assert!(file.secret_key.is_none());
        let json = serde_json::to_string(&file).expect("json");
        assert!(
            !json.contains(&hex::encode(key.seed())),
            "seed in the clear"
        );
        let back = KeyFile::from_json(&json).expect("parse");
        assert_eq!(back.public_key().expect("pk"), key.public_key());
        assert_eq!(
            back.unlock(pass("correct horse")).expect("open").seed(),
            key.seed()
        );
        assert_eq!(
            back.unlock(pass("correct horsE")).err(),
            Some(KeyFileError::WrongPassphrase)
        );
        assert_eq!(back.secret().err(), Some(KeyFileError::NeedsPassphrase));
    }

    #[test]
    fn a_changed_encrypted_file_is_refused() {
        let key = SecretKey::from_seed([7; 32]);
        let file = KeyFile::encrypted(&key, b"pw", [1; 16], [2; 12], TEST_COST).expect("sealed");
        // Another public key: the associated data no longer matches.
        let mut other = file.clone();
        other.public_key = SecretKey::from_seed([8; 32]).public_key().to_hex();
        assert_eq!(
            other.unlock(pass("pw")).err(),
            Some(KeyFileError::WrongPassphrase)
        );
        // One ciphertext bit flipped.
        let mut flipped = file.clone();
        let sealed = flipped.encrypted.as_mut().expect("sealed");
        let mut ct = hex::decode(&sealed.ciphertext).expect("hex");
        ct[3] ^= 1;
        sealed.ciphertext = hex::encode(ct);
        assert_eq!(
            flipped.unlock(pass("pw")).err(),
            Some(KeyFileError::WrongPassphrase)
        );
        // Both forms at once, and neither.
        let mut both = file.clone();
        both.secret_key = Some(hex::encode(key.seed()));
        assert!(matches!(
            both.unlock(pass("pw")),
            Err(KeyFileError::Malformed(_))
        ));
        let mut neither = file.clone();
        neither.encrypted = None;
        assert!(matches!(
            neither.unlock(pass("pw")),
            Err(KeyFileError::Malformed(_))
        ));
        // A cost past the memory limit is refused before any work or passphrase prompt.
        let mut greedy = file;
        greedy.encrypted.as_mut().expect("sealed").cost = ScryptCost {
            log_n: 22,
            r: 64,
            p: 1,
        };
        assert!(matches!(
            greedy.unlock(|| panic!("asked for a passphrase")),
            Err(KeyFileError::Malformed(_))
        ));
    }

    #[test]
    fn plain_files_read_as_before() {
        let key = SecretKey::from_seed([9; 32]);
        let json = format!(
            "{{\"type\":\"ed25519\",\"public_key\":\"{}\",\"secret_key\":\"{}\"}}",
            key.public_key().to_hex(),
            hex::encode(key.seed())
        );
        let file = KeyFile::from_json(&json).expect("parse");
        assert_eq!(file, KeyFile::new(&key));
        assert_eq!(
            file.unlock(|| panic!("a plain file needs no passphrase"))
                .expect("open")
                .seed(),
            key.seed()
        );
        let mut wrong = file;
        wrong.public_key = SecretKey::from_seed([1; 32]).public_key().to_hex();
        assert!(matches!(wrong.secret(), Err(KeyFileError::Malformed(_))));
    }
}
