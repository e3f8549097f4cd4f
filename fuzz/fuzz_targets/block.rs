//! Blocks: decoding with the size limit and shape check (txs root), header hash.
#![no_main]
use concordat_contracts::block::Block;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::from_bytes(data) {
        assert_eq!(block.to_bytes(), data, "accepted a non-canonical block");
        let _ = block.header.hash();
        for tx in &block.txs {
            let _ = tx.verify_signature();
        }
    }
});
