//! The node core over in-memory storage: admission codes, mempool limits, block production,
//! and deterministic roots for the same inputs.

use std::sync::Arc;

use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_genesis::{demo_spec, Genesis};
use concordat_node::core::{ConsensusConfig, Input, NodeCore, Output, SoloDecider};
use concordat_node::mempool::MempoolConfig;
use concordat_node::store::{MemStore, NodeStore};
use concordat_primitives::{PublicKey, SecretKey};

use concordat_testkit::key;

fn genesis() -> Genesis {
    let members: Vec<PublicKey> = (1..=5).map(|i| key(i).public_key()).collect();
    demo_spec(
        "concordat-test",
        "2026-11-28T00:00:00+08:00",
        &members,
        &[key(100).public_key()],
    )
    .validate()
    .expect("valid")
}

fn core(mempool: MempoolConfig) -> NodeCore<MemStore> {
    NodeCore::open(
        Arc::new(MemStore::new()),
        &genesis(),
        key(100),
        ConsensusConfig::default(),
        mempool,
        Box::new(SoloDecider::new(key(100))),
        [7; 32],
    )
    .expect("opens")
}

fn uscc(n: u32) -> String {
    let first17 = format!("91110105MA{n:07}");
    let c = concordat_contracts::ids::uscc_check_char(first17.as_bytes()).expect("charset");
    format!("{first17}{c}")
}

fn reg(signer: &SecretKey, nonce: u64, n: u32) -> SignedTransaction {
    Transaction {
        chain_id: "concordat-test".into(),
        signer: signer.public_key(),
        nonce,
        expiry_height: 50,
        call: Call::Party(PartyCall::Register {
            uscc: uscc(n),
            name: "样例".into(),
            legal_rep_ref: None,
            registered_address: "样例路".into(),
        }),
    }
    .sign(signer)
}

#[test]
fn submissions_commit_in_nonce_order_even_when_sent_out_of_order() {
    let mut c = core(MempoolConfig::default());
    let registrar = key(1);
    for nonce in [2u64, 0, 1] {
        c.submit(&reg(&registrar, nonce, nonce as u32).to_bytes())
            .expect("admitted");
    }
    let out = c.handle(Input::Tick {
        now_ms: 1_800_000_000_000,
    });
    let Some(Output::Committed { height, tx_hashes }) = out
        .into_iter()
        .find(|o| matches!(o, Output::Committed { .. }))
    else {
        panic!("no block")
    };
    assert_eq!(height, 1);
    assert_eq!(tx_hashes.len(), 3);
    assert!(c.mempool().is_empty());
    assert_eq!(c.tip().height, 1);
    // Nothing pending: no empty block.
    assert!(c
        .handle(Input::Tick {
            now_ms: 1_800_000_001_000
        })
        .is_empty());
}

#[test]
fn a_gap_in_nonces_waits() {
    let mut c = core(MempoolConfig::default());
    c.submit(&reg(&key(1), 1, 1).to_bytes()).expect("admitted");
    assert!(
        c.handle(Input::Tick {
            now_ms: 1_800_000_000_000
        })
        .is_empty(),
        "nonce 1 cannot go before 0"
    );
    c.submit(&reg(&key(1), 0, 0).to_bytes()).expect("admitted");
    assert!(!c
        .handle(Input::Tick {
            now_ms: 1_800_000_000_100
        })
        .is_empty());
    assert_eq!(c.mempool().len(), 0);
}

#[test]
fn mempool_limits_have_stable_codes_and_change_nothing() {
    let mut c = core(MempoolConfig {
        max_txs: 3,
        max_bytes: 1 << 20,
        max_per_signer: 2,
        max_expiry_blocks: 100,
    });
    let r = key(1);
    c.submit(&reg(&r, 0, 0).to_bytes()).expect("ok");
    c.submit(&reg(&r, 1, 1).to_bytes()).expect("ok");
    assert_eq!(
        c.submit(&reg(&r, 2, 2).to_bytes())
            .expect_err("window")
            .code,
        "NONCE_TOO_HIGH"
    );
    assert_eq!(
        c.submit(&reg(&r, 1, 1).to_bytes()).expect_err("dup").code,
        "DUPLICATE"
    );
    assert_eq!(
        c.submit(&reg(&r, 1, 9).to_bytes())
            .expect_err("same nonce")
            .code,
        "DUPLICATE"
    );
    let other = key(2); // Tianjin registrar
    c.submit(&reg(&other, 0, 3).to_bytes()).expect("ok");
    assert_eq!(
        c.submit(&reg(&other, 1, 4).to_bytes())
            .expect_err("full")
            .code,
        "MEMPOOL_FULL"
    );
    let mut far = reg(&r, 5, 5).tx;
    far.nonce = 0;
    far.expiry_height = 10_000;
    assert_eq!(
        c.submit(&far.sign(&r).to_bytes()).expect_err("far").code,
        "EXPIRY_TOO_FAR"
    );
    assert_eq!(c.mempool().len(), 3);
    let before = c.tip().clone();
    assert_eq!(c.submit(b"junk").expect_err("junk").code, "MALFORMED");
    assert_eq!(c.tip(), &before);
}

#[test]
fn the_same_inputs_give_the_same_chain() {
    let run = || {
        let mut c = core(MempoolConfig::default());
        for i in 0..50u32 {
            c.submit(&reg(&key(1 + (i % 2) as u8), u64::from(i / 2), i).to_bytes())
                .expect("ok");
            if i % 7 == 0 {
                c.handle(Input::Tick {
                    now_ms: 1_800_000_000_000 + u64::from(i),
                });
            }
        }
        c.handle(Input::Tick {
            now_ms: 1_900_000_000_000,
        });
        c.tip().clone()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.height >= 2);
    assert_eq!(a.tx_log_size, 50);
}

#[test]
fn reopening_over_the_same_store_resumes_and_refuses_another_genesis() {
    let store = Arc::new(MemStore::new());
    let open = |s: Arc<MemStore>, g: &Genesis| {
        NodeCore::open(
            s,
            g,
            key(100),
            ConsensusConfig::default(),
            MempoolConfig::default(),
            Box::new(SoloDecider::new(key(100))),
            [7; 32],
        )
    };
    let mut c = open(store.clone(), &genesis()).expect("opens");
    c.submit(&reg(&key(1), 0, 0).to_bytes()).expect("ok");
    c.handle(Input::Tick {
        now_ms: 1_800_000_000_000,
    });
    let tip = c.tip().clone();
    drop(c);
    let c = open(store.clone(), &genesis()).expect("reopens");
    assert_eq!(c.tip(), &tip);
    assert_eq!(store.tip().expect("read"), Some(tip));
    let mut other = genesis();
    other.chain_id = "concordat-other".into();
    assert!(open(store, &other).is_err());
}

#[test]
fn a_batch_pins_each_refusal_to_its_own_transaction() {
    let mut c = core(MempoolConfig::default());
    let r = key(1);
    let good0 = reg(&r, 0, 0).to_bytes();
    let mut bad = reg(&r, 1, 1);
    bad.signature.0[5] ^= 1;
    let bad = bad.to_bytes();
    let good2 = reg(&r, 2, 2).to_bytes();
    let results = c.submit_batch(&[&good0, &bad, &good2, &good0, b"junk"]);
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().expect_err("bad sig").code,
        "BAD_SIGNATURE"
    );
    assert!(results[2].is_ok());
    assert_eq!(results[3].as_ref().expect_err("dup").code, "DUPLICATE");
    assert_eq!(results[4].as_ref().expect_err("junk").code, "MALFORMED");
    assert_eq!(c.mempool().len(), 2);
    // Nonce 1 is missing, so only nonce 0 commits.
    c.handle(Input::Tick {
        now_ms: 1_800_000_000_000,
    });
    assert_eq!(c.tip().tx_log_size, 1);
}

fn certificate_for(
    header: &concordat_primitives::ledger::Header,
    set: &concordat_primitives::ledger::ValidatorSet,
) -> concordat_consensus::CommitCertificate {
    let vote = concordat_consensus::Vote {
        kind: concordat_consensus::VoteKind::Precommit,
        height: header.height,
        round: 0,
        block_hash: Some(header.hash()),
    };
    let sig = key(100).sign(&vote.signing_bytes("concordat-test"));
    concordat_consensus::CommitCertificate::from_signatures(
        set,
        header.height,
        0,
        header.hash(),
        &[(key(100).public_key(), sig)],
    )
    .expect("member")
}

#[test]
fn a_validator_accepts_exactly_the_block_its_own_execution_produces() {
    let mut proposer = core(MempoolConfig::default());
    let mut validator = core(MempoolConfig::default());
    for n in 0..5u32 {
        proposer
            .submit(&reg(&key(1), u64::from(n), n).to_bytes())
            .expect("ok");
    }
    let executed = proposer.build_block(1_800_000_000_000).expect("a block");
    let block = executed.block.clone();
    assert_eq!(block.txs.len(), 5);

    // Tampered copies are refused with a reason.
    let mut bad_root = block.clone();
    bad_root.header.state_root = concordat_primitives::Hash::digest(b"other");
    assert!(validator
        .validate_block(&bad_root)
        .expect_err("root")
        .contains("does not match execution"));
    let mut bad_sig = block.clone();
    bad_sig.txs[2].signature.0[0] ^= 1;
    assert!(
        validator.validate_block(&bad_sig).is_err(),
        "a bad signature must be refused (txs_root or signature)"
    );
    let mut bad_parent = block.clone();
    bad_parent.header.parent_hash = concordat_primitives::Hash::ZERO;
    assert!(validator
        .validate_block(&bad_parent)
        .expect_err("parent")
        .contains("does not extend"));
    let mut old_time = block.clone();
    old_time.header.time_ms = 0;
    assert!(validator
        .validate_block(&old_time)
        .expect_err("time")
        .contains("not after"));
    let mut dropped_tx = block.clone();
    dropped_tx.txs.pop();
    assert!(validator.validate_block(&dropped_tx).is_err());

    // The honest block validates, and committing it on both gives the same tip.
    let checked = validator.validate_block(&block).expect("valid");
    let set = validator.validator_set().clone();
    let cert = certificate_for(&block.header, &set);
    validator.commit_executed(checked, cert.clone());
    proposer.commit_executed(executed, cert);
    assert_eq!(validator.tip(), proposer.tip());
    assert_eq!(validator.tip().tx_log_size, 5);
    // The proposer's mempool was pruned by the commit.
    assert!(proposer.mempool().is_empty());
}

fn reg_expiring(signer: &SecretKey, nonce: u64, n: u32, expiry_height: u64) -> SignedTransaction {
    let mut tx = reg(signer, nonce, n).tx;
    tx.expiry_height = expiry_height;
    tx.sign(signer)
}

/// Issue 11, defect 4: a transaction whose expiry has passed is never put in a block (where it
/// would fail as EXPIRED and use up its nonce); it leaves the mempool with the commit of its
/// last height, not only on a tick.
#[test]
fn expired_transactions_are_dropped_at_commit_and_never_proposed() {
    let mut c = core(MempoolConfig::default());
    let other = core(MempoolConfig::default());
    // Expires after height 1 (valid at height 1 only).
    c.submit(&reg_expiring(&key(1), 0, 1, 1).to_bytes())
        .expect("admitted");
    // Height 1 is decided without it (another validator's empty proposal).
    let empty = other.build_proposal(1_800_000_000_000);
    assert!(empty.block.txs.is_empty());
    let executed = c.validate_block(&empty.block).expect("valid");
    let cert = certificate_for(&empty.block.header, c.validator_set());
    c.commit_executed(executed, cert);
    assert_eq!(c.tip().height, 1);
    assert!(
        c.mempool().is_empty(),
        "the expired transaction left with the commit"
    );
    // A transaction that is still pending but expired cannot be selected either.
    c.submit(&reg_expiring(&key(1), 0, 2, 2).to_bytes())
        .expect("admitted at height 2");
    c.submit(&reg_expiring(&key(1), 1, 3, 50).to_bytes())
        .expect("admitted");
    let p = c.build_proposal(1_800_000_000_100);
    assert_eq!(p.block.txs.len(), 2, "both valid at height 2");
    let mut c2 = core(MempoolConfig::default());
    c2.submit(&reg_expiring(&key(1), 0, 4, 1).to_bytes())
        .expect("admitted");
    c2.submit(&reg_expiring(&key(1), 1, 5, 50).to_bytes())
        .expect("admitted");
    let e = other.build_proposal(1_800_000_000_000);
    let ex = c2.validate_block(&e.block).expect("valid");
    let cert = certificate_for(&e.block.header, c2.validator_set());
    c2.commit_executed(ex, cert);
    let p = c2.build_proposal(1_800_000_000_200);
    assert!(
        p.block.txs.is_empty(),
        "nonce 0 expired, so nonce 1 waits behind it: {:?}",
        p.block.txs
    );
    assert!(!c2.has_ready_txs());
}

/// A proposed block's time may be at most MAX_CLOCK_DRIFT_MS ahead of the validator's clock
/// (block times only grow: one at u64::MAX would freeze the chain).
#[test]
fn a_block_from_the_far_future_is_refused() {
    use concordat_node::core::MAX_CLOCK_DRIFT_MS;
    let c = core(MempoolConfig::default());
    let now = 1_800_000_000_000u64;
    let ahead = c.build_proposal(now + MAX_CLOCK_DRIFT_MS + 1);
    let err = c
        .validate_proposal(&ahead.block, now)
        .expect_err("too far ahead");
    assert!(err.contains("ahead of this node's clock"), "{err}");
    let fine = c.build_proposal(now + MAX_CLOCK_DRIFT_MS);
    c.validate_proposal(&fine.block, now)
        .expect("within the drift");
    let max = c.build_proposal(u64::MAX);
    assert_eq!(max.block.header.time_ms, u64::MAX);
    assert!(c.validate_proposal(&max.block, now).is_err());
}
