//! The consensus safety state survives reopening the RocksDB store.

use concordat_consensus::{SafetyRules, SafetyState, Vote, VoteKind};
use concordat_node::rocks::RocksStore;
use concordat_primitives::{Hash, SecretKey};

#[test]
fn safety_state_round_trips_through_rocksdb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RocksStore::open(dir.path()).expect("open");
    assert_eq!(store.load_safety().expect("load"), SafetyState::default());
    let key = SecretKey::from_seed([9; 32]);
    let mut rules =
        SafetyRules::new("concordat-test", key.clone(), SafetyState::default()).expect("rules");
    let vote = Vote {
        kind: VoteKind::Prevote,
        height: 3,
        round: 1,
        block_hash: Some(Hash::digest(b"b")),
    };
    rules.sign_vote(vote, None).expect("signs");
    store.persist_safety(rules.state()).expect("persist");
    let saved = rules.state().clone();
    drop(store);
    let reopened = RocksStore::open(dir.path()).expect("reopen");
    let loaded = reopened.load_safety().expect("load");
    assert_eq!(loaded, saved);
    // After the restart the rules refuse to sign a different value at the same step.
    let mut again = SafetyRules::new("concordat-test", key, loaded).expect("rules");
    let other = Vote {
        block_hash: Some(Hash::digest(b"other")),
        ..vote
    };
    assert!(again.sign_vote(other, None).is_err());
}
