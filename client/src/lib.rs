//! Concordat client: the verifying half (pure: header and proof verification for the light
//! client, also compiled to WASM) and, in the `concordat` binary, the command-line tool.
//!
//! The light client arrives with issue 6; this crate currently re-exports the proof verifiers
//! it will build on.

pub use concordat_primitives::merkle_log;
pub use concordat_primitives::state;
