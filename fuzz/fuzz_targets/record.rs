//! Stored records of every kind as the API and the verifier decode them (the first byte picks
//! the kind), and every kind's id rule on the same bytes as text. The typed decoders (the API)
//! and the record schema's interpreter (the verifiers, ADR 0024) are compared on every input:
//! whatever the typed decoder takes, the schema decodes to the same JSON.
#![no_main]
use concordat_contracts::kinds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let names = kinds::names();
    let kind = names[usize::from(which) % names.len()];
    let typed = kinds::decode(kind, rest);
    let schema = concordat_client::records::decode(kind, rest);
    if let Ok(t) = &typed {
        assert_eq!(
            schema.as_ref().ok(),
            Some(t),
            "{kind}: the schema decodes otherwise"
        );
    }
    if let Ok(id) = std::str::from_utf8(rest) {
        let _ = kinds::query_key(kind, id);
    }
});
