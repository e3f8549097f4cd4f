//! What the fuzz targets share: the fixture genesis (the golden one, `seeds/genesis/golden.json`),
//! a seeded random source, the canonical round trip, and one admission core over `MemStore`.
//!
//! Every target's rule is the same: any input gets an answer (a value or an error), never a
//! panic, an abort, a hang or unbounded memory; what decodes re-encodes to the same bytes.

use std::sync::{Arc, Mutex, OnceLock};

use concordat_genesis::{Genesis, GenesisSpec};
use concordat_node::core::{ConsensusConfig, NodeCore, SoloDecider};
use concordat_node::mempool::{AdmissionError, MempoolConfig};
use concordat_node::store::MemStore;
use concordat_primitives::{encoding, Hash};
use rand_chacha::rand_core::SeedableRng;
use serde::{de::DeserializeOwned, Serialize};

/// The genesis file every target trusts (the golden fixture's chain, `concordat-golden`).
pub const GENESIS: &str = include_str!("../seeds/genesis/golden.json");

/// The genesis the bundle fixtures (`tests/fixtures/bundles`) were made under (`concordat-localnet`).
pub const BUNDLE_GENESIS: &str = include_str!("../seeds/genesis/localnet.json");

/// The validated [`GENESIS`].
pub fn genesis() -> &'static Genesis {
    static G: OnceLock<Genesis> = OnceLock::new();
    G.get_or_init(|| {
        GenesisSpec::from_json(GENESIS)
            .and_then(|s| s.validate())
            .unwrap_or_else(|e| panic!("the fuzz genesis is valid: {e}"))
    })
}

/// A seeded random source (the batch-verification coefficients).
pub fn rng() -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(7)
}

/// Decodes canonical BCS and checks that what decodes re-encodes to the same bytes (two
/// encodings of one value would give one record two hashes).
pub fn canonical<T: Serialize + DeserializeOwned>(data: &[u8]) -> Option<T> {
    let value: T = encoding::from_bytes(data).ok()?;
    assert_eq!(
        encoding::to_bytes(&value),
        data,
        "accepted a non-canonical encoding"
    );
    Some(value)
}

/// Submits `bytes` to one node core (validator key 101 of the genesis, nothing committed): the
/// whole admission path (size limits, duplicate check, decoding, signature, stateless and
/// stateful prechecks, mempool limits).
pub fn admit(bytes: &[u8]) -> Result<Hash, AdmissionError> {
    static CORE: OnceLock<Mutex<NodeCore<MemStore>>> = OnceLock::new();
    let core = CORE.get_or_init(|| {
        let key = concordat_testkit::key(101);
        let core = NodeCore::open(
            Arc::new(MemStore::new()),
            genesis(),
            key.clone(),
            ConsensusConfig::default(),
            MempoolConfig::default(),
            Box::new(SoloDecider::new(key)),
            [7; 32],
        )
        .unwrap_or_else(|e| panic!("the fuzz core opens: {e}"));
        Mutex::new(core)
    });
    let mut core = core.lock().unwrap_or_else(|p| p.into_inner());
    core.submit(bytes)
}
