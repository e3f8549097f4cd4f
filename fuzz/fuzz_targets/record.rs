//! Stored records of every kind as the API and the verifier decode them (the first byte picks
//! the kind), and every kind's id rule on the same bytes as text.
#![no_main]
use concordat_contracts::kinds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let names = kinds::names();
    let kind = names[usize::from(which) % names.len()];
    let _ = kinds::decode(kind, rest);
    if let Ok(id) = std::str::from_utf8(rest) {
        let _ = kinds::query_key(kind, id);
    }
});
