//! A flood of invalid submissions does not stop honest work (issue 11, defects 3, 4 and 7).
//!
//! Four real validator processes on 127.0.0.1. Eight flooding clients (two per validator, each
//! on its own connection) post transactions with invalid signatures as fast as the nodes
//! answer, while `concordat demo --count 500` registers 500 parties through node 0. Before the
//! fixes, blocks every 20-40 ms outran the demo's fixed expiry, later nonces were stranded
//! behind the gap, and API submissions shared one queue with peer consensus messages: the demo
//! committed 284-299 of 500. Now every one of the 500 must commit, every flooded submission
//! must be refused with a 4xx and the documented JSON error, and the refused ones must leave
//! no trace in the chain (no nonce used, no transaction in any block).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_primitives::SecretKey;
use concordat_tests::net::*;

#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    refused_4xx: AtomicU64,
    other: AtomicU64,
}

/// A registration claiming the registrar as signer, signed by another key.
fn forged(registrar: &SecretKey, chain: &str, n: u64) -> Vec<u8> {
    let tx = Transaction {
        chain_id: chain.into(),
        signer: registrar.public_key(),
        nonce: n,
        expiry_height: 1_000_000,
        call: Call::Party(PartyCall::Register {
            uscc: synthetic_uscc(9, u32::try_from(n % 1_000_000).unwrap_or(0)),
            name: format!("flood {n}"),
            legal_rep_ref: None,
            registered_address: "nowhere".into(),
        }),
    };
    let other = SecretKey::from_seed([77; 32]);
    let signature = other.sign(&tx.signing_bytes());
    SignedTransaction { tx, signature }.to_bytes()
}

#[test]
fn invalid_signature_flood_on_four_validators_does_not_stop_a_500_transaction_demo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let mut nodes = bft_network(&net, 4, 0, "");
    for n in &mut nodes {
        n.start();
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    assert!(
        wait_height(&urls, 1, Duration::from_secs(30)),
        "the network did not start"
    );
    let registrar = registrar_key(&net);
    let chain = load_genesis(&net).chain_id;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    // Two flooding clients per validator (eight in all), each on its own connection.
    let flooders: Vec<_> = urls
        .iter()
        .chain(urls.iter())
        .enumerate()
        .map(|(i, url)| {
            let (url, stop, tally) = (url.clone(), stop.clone(), tally.clone());
            let (registrar, chain) = (registrar.clone(), chain.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let mut n = (i as u64) << 40;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = forged(&registrar, &chain, n);
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                    match agent
                        .post(&format!("{url}/v1/txs"))
                        .set("Content-Type", "application/octet-stream")
                        .send_bytes(&body)
                    {
                        Err(ureq::Error::Status(code, r)) if (400..500).contains(&code) => {
                            let v: serde_json::Value = r.into_json().unwrap_or_default();
                            if v["error"]["code"].is_string() {
                                tally.refused_4xx.fetch_add(1, Ordering::Relaxed);
                            } else {
                                tally.other.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        _ => {
                            tally.other.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    // Let the flood reach full speed first.
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let sent_before = tally.sent.load(Ordering::Relaxed);
    let out = std::process::Command::new(bin("concordat"))
        .args(["demo", "--node", &urls[0], "--home"])
        .arg(&net)
        .args(["--count", "500", "--output", "json"])
        .output()
        .expect("concordat demo");
    let took = started.elapsed();
    let flooded = tally.sent.load(Ordering::Relaxed) - sent_before;
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        f.join().expect("flooder");
    }
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo: serde_json::Value = serde_json::from_slice(&out.stdout).expect("demo json");
    let rate = flooded as f64 / took.as_secs_f64();
    eprintln!(
        "demo: {} of 500 committed in {:.1} s under a flood of {flooded} invalid submissions \
         ({rate:.0}/s); refused with a JSON 4xx: {}, other answers: {}",
        demo["committed"],
        took.as_secs_f64(),
        tally.refused_4xx.load(Ordering::Relaxed),
        tally.other.load(Ordering::Relaxed),
    );
    assert_eq!(demo["committed"], 500, "{demo}");
    assert_eq!(
        tally.other.load(Ordering::Relaxed),
        0,
        "every flooded submission is refused with a 4xx and its JSON error"
    );
    assert!(
        flooded > 1_000,
        "the flood was too weak to mean anything ({flooded} requests)"
    );

    // Nothing refused reached a block: the registrar's nonce moved by exactly the demo's 500
    // (plus its own setup transactions, all committed), on every node alike.
    let last = demo["tx_hashes"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|h| h.as_str())
        .expect("tx hashes")
        .to_string();
    for url in &urls {
        assert!(
            wait_committed(url, &last, Duration::from_secs(30)).is_some(),
            "{url} never committed the demo's last transaction"
        );
    }
    let key = registrar.public_key().to_hex();
    for url in &urls {
        let (code, v) = get(&format!("{url}/v1/state/nonce/{key}"));
        assert_eq!(code, 200, "{v}");
        assert_eq!(
            v["value"], 500,
            "{url}: the registrar's nonce moved by exactly the demo's 500: {v}"
        );
    }
    for n in &mut nodes {
        n.stop();
    }
}
