//! Concordat client: the verifying half (pure: header and proof verification for the light
//! client, also compiled to WASM) and, in the `concordat` binary (feature `cli`), the
//! command-line tool.
//!
//! - [`verify`]: verify the node's state-query answers (header, commit certificate, validator
//!   set, state proof) and tx-log inclusion answers without trusting the node;
//! - [`bundle`]: offline proof bundles and the light-client rule that verifies them against a
//!   trust root (a genesis file or a waypoint), following validator-set changes;
//! - [`trace`]: the "Customs Clearance + Logistics" timeline rebuilt and checked from proven
//!   records and transactions;
//! - [`records`]: stored records decoded with the record schema (one interpreter for every
//!   kind, ADR 0024);
//! - [`tx`]: the JSON form of calls, local checks before signing, signing, demo identifiers.
//!
//! The library does no IO and takes randomness (for batch signature verification) as an
//! argument; build it alone with `--no-default-features`.

pub mod bundle;
pub mod records;
pub mod trace;
pub mod tx;
pub mod verify;

pub use concordat_primitives::merkle_log;
pub use concordat_primitives::state;
