//! An outside key redialling a validator (issue 11, item 8): every attempt is refused at the
//! handshake and counted (`concordat_p2p_refused_total`), but logged only at the 1st, 2nd,
//! 4th, 8th... refusal, so it cannot flood the validator's log. The outsider is a real node
//! process with the network's genesis and a key no validator admits; it redials every second.

use std::time::{Duration, Instant};

use concordat_primitives::SecretKey;
use concordat_tests::net::*;

const REFUSAL: &str = "connection refused: key not in the validator/observer set";

#[test]
fn an_outside_key_redialling_is_counted_every_time_and_logged_rarely() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("net");
    let mut nodes = bft_network(&path, 1, 0, "");
    nodes[0].start();
    let url = nodes[0].url();

    let home = path.join("outsider");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::copy(path.join("genesis.json"), home.join("genesis.json")).expect("genesis");
    let key = SecretKey::from_seed([77; 32]);
    let file = serde_json::json!({
        "type": "ed25519",
        "public_key": key.public_key().to_hex(),
        "secret_key": hex::encode(key.seed()),
    });
    std::fs::write(home.join("node_key"), file.to_string()).expect("key");
    let target = format!(
        "{}@127.0.0.1:{}",
        nodes[0].key().public_key().to_hex(),
        nodes[0].p2p_port
    );
    std::fs::write(
        home.join("config.toml"),
        format!("[p2p]\npeers = [\"{target}\"]\n"),
    )
    .expect("config");
    let mut outsider = Node::new(home);
    outsider.start();

    let deadline = Instant::now() + Duration::from_secs(60);
    while metric(&url, "concordat_p2p_refused_total") < 9 {
        assert!(
            Instant::now() < deadline,
            "the outsider's dials were not refused 9 times within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    outsider.stop();
    std::thread::sleep(Duration::from_millis(500));
    let refused = metric(&url, "concordat_p2p_refused_total");
    let log = std::fs::read_to_string(nodes[0].home.join("node-1.log")).expect("log");
    let warned = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(REFUSAL))
        .count();
    // Logged at refusals 1, 2, 4, 8, ...: floor(log2(refused)) + 1 lines.
    let expected = (u64::BITS - refused.leading_zeros()) as usize;
    assert_eq!(
        warned, expected,
        "{refused} refusals should give {expected} WARN lines, the log has {warned}"
    );
    assert!(refused >= 9 && warned < refused as usize);
}
