//! Genesis files: parsing, validation, and for a valid one its hash, state root and a round
//! trip through its JSON.
#![no_main]
use concordat_genesis::GenesisSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = GenesisSpec::from_json(text) else {
        return;
    };
    let Ok(genesis) = spec.validate() else {
        return;
    };
    let _ = genesis.state_root();
    let again = GenesisSpec::from_json(&genesis.to_spec().to_json())
        .and_then(|s| s.validate())
        .expect("a valid genesis's own JSON is valid");
    assert_eq!(
        again.hash(),
        genesis.hash(),
        "the genesis JSON round trip changed its hash"
    );
});
