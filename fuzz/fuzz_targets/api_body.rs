//! API bodies: `POST /v1/txs` as JSON (first byte 0) or raw bytes (1), and
//! `POST /v1/epcis/capture` (otherwise: header lines `name: value`, a blank line, the document);
//! what the API accepts goes on to admission.
#![no_main]
use concordat_node::api::{capture_tx, submit_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which {
        0 | 1 => {
            if let Ok(bytes) = submit_body(which == 0, rest) {
                let _ = concordat_fuzz::admit(&bytes);
            }
        }
        _ => {
            let split = rest
                .windows(2)
                .position(|w| w == b"\n\n")
                .unwrap_or(rest.len());
            let head = String::from_utf8_lossy(&rest[..split]).into_owned();
            let body = rest.get(split + 2..).unwrap_or_default();
            let headers: Vec<(&str, &str)> =
                head.lines().filter_map(|l| l.split_once(':')).collect();
            let lookup = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                    .map(|(_, v)| *v)
            };
            let chain = &concordat_fuzz::genesis().chain_id;
            if let Ok(stx) = capture_tx(chain, lookup, body) {
                let _ = concordat_fuzz::admit(&stx.to_bytes());
            }
        }
    }
});
