//! Writes the fuzz targets' seed inputs (`fuzz/seeds/<target>/`) from the golden values and the
//! fixtures: well-formed examples of every format, so that libFuzzer mutates real structure
//! rather than start from nothing. Rerun after a format change (scripts/fuzz.sh reads them):
//!
//! ```text
//! cargo run -p concordat-tests --example fuzz_seeds
//! ```

use std::path::{Path, PathBuf};

use concordat_client::bundle::{AnyBundle, Claim, CompactClaim};
use concordat_consensus::{Message, SignedVote};
use concordat_contracts::kinds;
use concordat_node::net::{WireRequest, WireResponse};
use concordat_primitives::encoding::to_bytes;
use concordat_tests::{block, certificate, genesis, key, transaction, CHAIN_ID};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("seed dir");
    std::fs::write(d.join(name), bytes).expect("seed file");
}

fn tagged(tag: u8, bytes: &[u8]) -> Vec<u8> {
    [&[tag][..], bytes].concat()
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("fuzz/seeds");
    let fixtures = root.join("tests/fixtures");
    let _ = std::fs::remove_dir_all(&out);

    // Genesis files: the golden chain (which the targets trust) and the localnet fixture.
    write(
        &out,
        "genesis",
        "golden.json",
        genesis().to_spec().to_json().as_bytes(),
    );
    let localnet = std::fs::read(fixtures.join("bundles/genesis.json")).expect("fixture");
    write(&out, "genesis", "localnet.json", &localnet);

    // Transactions: the golden one, and the same call at the signer's first nonce.
    let tx = transaction();
    let mut first = tx.tx.clone();
    first.nonce = 0;
    let first = first.sign(&key(1));
    write(&out, "tx", "golden", &tx.to_bytes());
    write(&out, "tx", "nonce0", &first.to_bytes());
    write(&out, "block", "golden", &block().to_bytes());
    let cert = certificate();
    write(&out, "certificate", "golden", &to_bytes(&cert));

    // Peer messages (0: request, 1: response, otherwise a bare consensus message).
    let vote = cert.vote();
    let signed = SignedVote {
        validator: key(101).public_key(),
        signature: key(101).sign(&vote.signing_bytes(CHAIN_ID)),
        vote,
    };
    let requests = [
        ("txs", WireRequest::Txs(vec![first.to_bytes()])),
        ("status", WireRequest::Status),
        ("get_blocks", WireRequest::GetBlocks { from: 1, max: 16 }),
        (
            "vote",
            WireRequest::Consensus(Message::Vote(signed.clone())),
        ),
    ];
    for (name, r) in requests {
        write(
            &out,
            "p2p",
            &format!("request_{name}"),
            &tagged(0, &to_bytes(&r)),
        );
    }
    let responses = [
        ("ack", WireResponse::Ack),
        (
            "status",
            WireResponse::Status {
                height: 1,
                genesis: genesis().hash(),
            },
        ),
        (
            "blocks",
            WireResponse::Blocks(vec![(block(), cert.clone())]),
        ),
    ];
    for (name, r) in responses {
        write(
            &out,
            "p2p",
            &format!("response_{name}"),
            &tagged(1, &to_bytes(&r)),
        );
    }
    write(
        &out,
        "p2p",
        "message_vote",
        &tagged(2, &to_bytes(&Message::Vote(signed))),
    );

    // API bodies (0: JSON submit, 1: raw submit, otherwise an EPCIS capture).
    let json = serde_json::json!({"tx": hex::encode(first.to_bytes())}).to_string();
    write(&out, "api_body", "submit_json", &tagged(0, json.as_bytes()));
    write(
        &out,
        "api_body",
        "submit_raw",
        &tagged(1, &first.to_bytes()),
    );

    // EPCIS documents, and one as a capture with its headers.
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("tests/epcis/fixtures"))
        .expect("epcis fixtures")
        .flatten()
        .map(|e| e.path())
        .collect();
    docs.sort();
    for (i, path) in docs.iter().enumerate() {
        let doc = std::fs::read(path).expect("epcis fixture");
        write(&out, "epcis", &format!("doc{i}"), &doc);
        if i == 0 {
            let head = format!(
                "concordat-signer: {}\nconcordat-nonce: 0\nconcordat-expiry-height: 100\nconcordat-signature: {}\n\n",
                key(3).public_key().to_hex(),
                "00".repeat(64)
            );
            let capture = [head.as_bytes(), &doc].concat();
            write(&out, "api_body", "capture", &tagged(2, &capture));
        }
    }

    // Bundles (against the localnet genesis), and the record values and state proofs in them.
    let names = kinds::names();
    // Both formats: version 1 in bundles/, its compact form (version 2) in bundles/v2/.
    let mut bundles: Vec<(PathBuf, &str)> = Vec::new();
    for (dir, suffix) in [("bundles", ""), ("bundles/v2", ".v2")] {
        bundles.extend(
            std::fs::read_dir(fixtures.join(dir))
                .expect("bundle fixtures")
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "bundle"))
                .map(|p| (p, suffix)),
        );
    }
    bundles.sort();
    for (path, suffix) in bundles {
        let file = std::fs::read(&path).expect("bundle fixture");
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let stem = format!("{stem}{suffix}");
        let stem = stem.as_str();
        write(&out, "bundle", stem, &file);
        let bytes = concordat_client::bundle::bundle_bytes_of_file(&file).expect("bundle file");
        let state = match AnyBundle::from_bytes(&bytes).expect("fixture bundle decodes") {
            AnyBundle::Full(b) => match b.claim {
                Claim::State {
                    kind, value, proof, ..
                } => Some((kind, value, proof)),
                _ => None,
            },
            AnyBundle::Compact(b) => match b.claim {
                CompactClaim::State {
                    kind, value, proof, ..
                } => Some((kind, value, proof)),
                _ => None,
            },
        };
        if let Some((kind, value, proof)) = state {
            write(&out, "state_proof", stem, &proof);
            // The record is the same in both forms: written once.
            let kind_index = names.iter().position(|n| *n == kind);
            if let (Some(value), Some(i), "") = (value, kind_index, suffix) {
                let tag = u8::try_from(i).expect("fewer than 256 kinds");
                write(&out, "record", stem, &tagged(tag, &value));
            }
        }
    }

    // The node's configuration with every default.
    write(
        &out,
        "config",
        "default.toml",
        concordat_node::config::Config::default_toml().as_bytes(),
    );
    println!("seeds written to {}", out.display());
}
