//! EPCIS 2.0 JSON(-LD) capture documents, as a capture transaction's document is parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = concordat_contracts::logistics::epcis::parse_document(text);
    }
});
