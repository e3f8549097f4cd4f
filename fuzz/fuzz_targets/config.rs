//! The node's `config.toml`: parsing and every check `concordat-node` makes at start.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = concordat_node::config::Config::parse(text, "config.toml");
    }
});
