//! State proofs: decoding, then membership and absence checks against the genesis state root.
#![no_main]
use concordat_primitives::state::proof::{verify, StateProof};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = StateProof::from_bytes(data) else {
        return;
    };
    assert_eq!(proof.to_bytes(), data, "accepted a non-canonical proof");
    let root = concordat_fuzz::genesis()
        .state_root()
        .expect("the genesis has a state root");
    let _ = verify(&root, b"party/x", Some(&b"v"[..]), &proof);
    let _ = verify(&root, b"party/x", None, &proof);
});
