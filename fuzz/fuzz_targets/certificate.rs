//! Commit certificates: decoding, then verification against the genesis validator set.
#![no_main]
use concordat_consensus::CommitCertificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(cert) = concordat_fuzz::canonical::<CommitCertificate>(data) else {
        return;
    };
    let genesis = concordat_fuzz::genesis();
    let set = genesis
        .validator_set()
        .expect("the genesis has a validator set");
    let _ = cert.verify(
        &genesis.chain_id,
        &set,
        cert.height,
        &cert.block_hash,
        concordat_fuzz::rng(),
    );
});
