//! The browser verifier: `concordat_client::bundle::verify_to_json` behind three plain
//! exports, so a page needs nothing but `WebAssembly.instantiate` (no JS glue, no unsafe code).
//!
//! Protocol (all lengths in bytes, all pointers offsets into the module's memory):
//! 1. `input(len) -> ptr`: reserves `len` bytes; the page writes there the bundle file, then the
//!    trust text (a genesis file's JSON, or `HEIGHT:HEADER_HASH`), then 32 random bytes (from
//!    `crypto.getRandomValues`, which seed the batch signature check).
//! 2. `verify(bundle_len, trust_len) -> len`: verifies; the verdict is JSON of `len` bytes.
//! 3. `output() -> ptr`: where the verdict is.
//!
//! The verdict is exactly what `concordat verify --output json` prints.

use std::sync::Mutex;

use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest, Sha256};

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// The largest input accepted: a 4 MiB bundle and a genesis file.
pub const MAX_INPUT: u32 = 5 * 1024 * 1024;

fn lock(m: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reserves `len` zeroed input bytes and returns where they are (0 if `len` is too large).
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn input(len: u32) -> u32 {
    if len > MAX_INPUT {
        return 0;
    }
    let mut buf = lock(&INPUT);
    buf.clear();
    buf.resize(len as usize, 0);
    buf.as_mut_ptr() as usize as u32
}

/// Verifies the bundle in the input and returns the length of the JSON verdict.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn verify(bundle_len: u32, trust_len: u32) -> u32 {
    let verdict = verdict(&lock(&INPUT), bundle_len as usize, trust_len as usize);
    let mut out = lock(&OUTPUT);
    *out = verdict.into_bytes();
    out.len() as u32
}

/// Where the last verdict is.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn output() -> u32 {
    lock(&OUTPUT).as_ptr() as usize as u32
}

/// The verdict for an input laid out as the protocol says (also the native test entry).
pub fn verdict(buf: &[u8], bundle_len: usize, trust_len: usize) -> String {
    let (Some(bundle), Some(trust), Some(seed)) = (
        buf.get(..bundle_len),
        buf.get(bundle_len..bundle_len.saturating_add(trust_len)),
        buf.get(bundle_len.saturating_add(trust_len)..),
    ) else {
        return json_text(
            &serde_json::json!({"valid": false, "error": "the input is shorter than the lengths given"}),
        );
    };
    let Ok(trust) = std::str::from_utf8(trust) else {
        return json_text(
            &serde_json::json!({"valid": false, "error": "the trust root is not UTF-8 text"}),
        );
    };
    // The page's 32 random bytes, hashed with the input so that a page without them still gets
    // coefficients no bundle author can predict in advance of the seed.
    let mut h = Sha256::new();
    h.update(seed);
    h.update(buf);
    let rng = rand_chacha::ChaCha20Rng::from_seed(h.finalize().into());
    json_text(&concordat_client::bundle::verify_to_json(
        bundle, trust, rng,
    ))
}

/// Compact JSON text (what `Value`'s `to_string` gives, without its pretty printer).
fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
