//! Transactions: decoding, signature check, hash, and the node's whole admission path.
#![no_main]
use concordat_contracts::SignedTransaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = SignedTransaction::from_bytes(data);
    if let Ok(tx) = &decoded {
        assert_eq!(tx.to_bytes(), data, "accepted a non-canonical transaction");
        let _ = tx.verify_signature();
        let _ = tx.hash();
    }
    if concordat_fuzz::admit(data).is_ok() {
        assert!(decoded.is_ok(), "admitted bytes that do not decode");
    }
});
