//! Offline bundles, as the CLI and the browser verify them: the file (binary or JSON), the
//! bundle in either format, its headers, certificates, validator-set changes, proofs and the
//! record's decoding.
#![no_main]
use concordat_client::bundle::{bundle_bytes_of_file, verify_to_json, AnyBundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = bundle_bytes_of_file(data) {
        // Either format (the full one, 1, and the compact one, 2).
        if let Ok(b) = AnyBundle::from_bytes(&bytes) {
            assert_eq!(b.to_bytes(), bytes, "accepted a non-canonical bundle");
        }
    }
    let verdict = verify_to_json(data, concordat_fuzz::BUNDLE_GENESIS, concordat_fuzz::rng());
    assert!(
        verdict["valid"].is_boolean(),
        "a verdict without valid: {verdict}"
    );
});
