//! Deterministic simulation of validator clusters running the node's real driver and core
//! (see `concordat_tests::sim` and `docs/TESTING.md`). Each test is one scenario run over many
//! seeds; invariants are checked after every step. `CONCORDAT_SIM_SEED=<n>` replays one seed,
//! `CONCORDAT_SIM_SEEDS=<count>` sets the number of seeds per scenario.

use concordat_tests::sim::{self, Behaviour, Config, Invariant, PartitionSpec, Report};

fn summary(name: &str, reports: &[Report]) {
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let heights: usize = reports.iter().map(|r| r.heights).sum();
    let crashes: u64 = reports.iter().map(|r| r.crashes).sum();
    let evidence: u64 = reports.iter().map(|r| r.evidence).sum();
    let synced: u64 = reports.iter().map(|r| r.synced).sum();
    let rejected: u64 = reports.iter().map(|r| r.sync_rejected).sum();
    let txs: u64 = reports.iter().map(|r| r.txs_committed).sum();
    let refusals: u64 = reports.iter().map(|r| r.signing_refusals).sum();
    let max_round = reports.iter().map(|r| r.max_round).max().unwrap_or(0);
    eprintln!(
        "{name}: {} seeds, {events} events, {heights} heights decided, max round {max_round}, \
         {crashes} crashes, {synced} heights synced, {rejected} synced blocks refused, \
         {evidence} evidence, {txs} txs committed, {refusals} signing refusals",
        reports.len()
    );
}

/// Every seed of a faulty scenario must actually exercise faults somewhere in the campaign.
fn net_scenario(seed: u64, n: usize) -> Config {
    Config::new(seed, n).with_network_faults()
}

#[test]
fn four_validators_loss_delay_duplication_partitions() {
    let r = sim::campaign(
        "net4",
        "four_validators_loss_delay_duplication_partitions",
        0,
        300,
        |s| net_scenario(s, 4),
    );
    summary("net4", &r);
}

#[test]
fn seven_validators_loss_delay_duplication_partitions() {
    let r = sim::campaign(
        "net7",
        "seven_validators_loss_delay_duplication_partitions",
        10_000,
        80,
        |s| net_scenario(s, 7),
    );
    summary("net7", &r);
}

fn crash_scenario(seed: u64, n: usize) -> Config {
    let mut cfg = Config::new(seed, n).with_network_faults();
    cfg.random_partitions = false;
    cfg.crashes = 3;
    cfg.fault_window_ms = 3_000;
    cfg
}

#[test]
fn four_validators_crash_restart() {
    let r = sim::campaign(
        "crash4",
        "four_validators_crash_restart",
        20_000,
        200,
        |s| crash_scenario(s, 4),
    );
    summary("crash4", &r);
    assert!(r.iter().map(|r| r.crashes).sum::<u64>() > 0);
}

#[test]
fn seven_validators_crash_restart() {
    let r = sim::campaign(
        "crash7",
        "seven_validators_crash_restart",
        30_000,
        40,
        |s| crash_scenario(s, 7),
    );
    summary("crash7", &r);
}

fn byzantine(seed: u64, n: usize, byz: &[(usize, Behaviour)]) -> Config {
    let mut cfg = Config::new(seed, n).with_network_faults();
    cfg.byzantine = byz.to_vec();
    cfg
}

#[test]
fn one_equivocator_of_four() {
    let r = sim::campaign("equivocate4", "one_equivocator_of_four", 40_000, 100, |s| {
        byzantine(s, 4, &[((s % 4) as usize, Behaviour::Equivocate)])
    });
    summary("equivocate4", &r);
    assert!(
        r.iter().map(|r| r.evidence).sum::<u64>() > 0,
        "no evidence seen"
    );
}

#[test]
fn one_withholder_of_four() {
    let r = sim::campaign("withhold4", "one_withholder_of_four", 50_000, 100, |s| {
        byzantine(s, 4, &[((s % 4) as usize, Behaviour::Withhold)])
    });
    summary("withhold4", &r);
}

#[test]
fn one_invalid_proposer_of_four() {
    let r = sim::campaign(
        "invalid4",
        "one_invalid_proposer_of_four",
        60_000,
        100,
        |s| byzantine(s, 4, &[((s % 4) as usize, Behaviour::InvalidProposals)]),
    );
    summary("invalid4", &r);
}

/// Key 3 runs twice; the twins start in different halves of a partition.
fn twins_scenario(seed: u64) -> Config {
    let mut cfg = byzantine(seed, 4, &[(3, Behaviour::Twins)]);
    cfg.random_partitions = seed % 2 == 0;
    // Instances: keys 0, 1, 2, then key 3 twice.
    cfg.partitions = vec![PartitionSpec {
        start_ms: 0,
        end_ms: 1_000,
        groups: vec![0, 0, 1, 0, 1],
    }];
    cfg
}

#[test]
fn one_twin_pair_of_four() {
    let r = sim::campaign("twins4", "one_twin_pair_of_four", 70_000, 100, |s| {
        twins_scenario(s)
    });
    summary("twins4", &r);
}

#[test]
fn two_byzantine_of_seven() {
    let behaviours = [
        Behaviour::Equivocate,
        Behaviour::Withhold,
        Behaviour::InvalidProposals,
        Behaviour::Twins,
    ];
    let r = sim::campaign("byz7", "two_byzantine_of_seven", 80_000, 40, |s| {
        let a = behaviours[(s % 4) as usize];
        let b = behaviours[((s / 4) % 4) as usize];
        byzantine(s, 7, &[(1, a), (5, b)])
    });
    summary("byz7", &r);
}

#[test]
fn same_seed_same_trace_hash() {
    for seed in [1, 2, 3] {
        let a = sim::run(crash_scenario(seed, 4));
        let b = sim::run(crash_scenario(seed, 4));
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(a.events, b.events, "seed {seed}");
        let t = sim::run(twins_scenario(seed));
        assert_eq!(t.trace_hash, sim::run(twins_scenario(seed)).trace_hash);
    }
    let a = sim::run(net_scenario(5, 4));
    let b = sim::run(net_scenario(6, 4));
    assert_ne!(a.trace_hash, b.trace_hash);
}

/// Control: with f + 1 = 2 Byzantine keys of 4 (both twins), a partition gives each half a
/// quorum; the checker MUST report an agreement violation (this proves it can fail).
#[test]
fn control_f_plus_one_twins_break_agreement() {
    let mut found = None;
    let mut tried = 0;
    for seed in 0..50 {
        tried += 1;
        let mut cfg = Config::new(90_000 + seed, 4);
        cfg.byzantine = vec![(2, Behaviour::Twins), (3, Behaviour::Twins)];
        // Instances: key 0, key 1, key 2 (twice), key 3 (twice).
        cfg.partitions = vec![PartitionSpec {
            start_ms: 0,
            end_ms: 5_000,
            groups: vec![0, 1, 0, 1, 0, 1],
        }];
        cfg.fault_window_ms = 5_000;
        let report = sim::run(cfg);
        if let Some(v) = report.violation {
            assert_eq!(v.invariant, Invariant::Agreement, "{v}");
            eprintln!("control: seed {} reports {v}", 90_000 + seed);
            found = Some(v);
            break;
        }
    }
    assert!(
        found.is_some(),
        "the checker found no violation with f+1 Byzantine in {tried} seeds"
    );
}

/// The node's real restarts: every validator stops at once (gracefully, or by crash in the
/// middle of a step), or one after another, and all start again; the chain must resume every
/// time. Defect 1 of issue 11: a restarted validator whose safety rules refused a different
/// vote at the step it had signed sent nothing, and the network halted for good.
fn restart_scenario(seed: u64, graceful: bool, spread_ms: u64) -> Config {
    let mut cfg = Config::new(seed, 4);
    cfg.restart_all = 2;
    cfg.graceful_restarts = graceful;
    cfg.restart_spread_ms = spread_ms;
    cfg.fault_window_ms = 4_000;
    cfg.txs = 12;
    cfg
}

#[test]
fn four_validators_all_stop_gracefully_at_once() {
    let r = sim::campaign(
        "restart-graceful",
        "four_validators_all_stop_gracefully_at_once",
        100_000,
        60,
        |s| restart_scenario(s, true, 0),
    );
    summary("restart-graceful", &r);
}

/// A graceful restart of every validator must resume from what each re-sends at start alone:
/// the stall relay is off here (`resend_after_ms` never comes). A validator restarted at step
/// prevote with only its own prevote schedules no timeout (line 34 needs 2f+1 prevotes), so a
/// driver that forgot to re-send its saved messages at start leaves the four waiting for each
/// other for good (caught: see docs/TESTING.md).
#[test]
fn a_whole_network_restart_resumes_without_the_stall_relay() {
    let r = sim::campaign(
        "restart-norelay",
        "a_whole_network_restart_resumes_without_the_stall_relay",
        200_000,
        60,
        |s| {
            let mut cfg = restart_scenario(s, true, 0);
            cfg.resend_after_ms = u64::MAX;
            cfg
        },
    );
    summary("restart-norelay", &r);
}

#[test]
fn four_validators_all_crash_at_once() {
    let r = sim::campaign(
        "restart-crash",
        "four_validators_all_crash_at_once",
        110_000,
        60,
        |s| restart_scenario(s, false, 0),
    );
    summary("restart-crash", &r);
}

#[test]
fn four_validators_restart_one_after_another() {
    let r = sim::campaign(
        "restart-rolling",
        "four_validators_restart_one_after_another",
        120_000,
        60,
        |s| {
            let mut cfg = restart_scenario(s, s % 2 == 0, 400);
            cfg = cfg.with_network_faults();
            cfg.random_partitions = false;
            cfg
        },
    );
    summary("restart-rolling", &r);
}

/// Defect 3 of issue 11: one transaction with a nonce gap made proposers build empty blocks as
/// fast as they could. With a 100 ms empty-block interval, at most ~10 blocks a second (plus
/// the blocks that carry the other transactions).
#[test]
fn a_nonce_gap_does_not_make_the_chain_spin() {
    let r = sim::campaign(
        "nonce-gap",
        "a_nonce_gap_does_not_make_the_chain_spin",
        130_000,
        40,
        |s| {
            let mut cfg = Config::new(s, 4);
            cfg.nonce_gap = true;
            cfg.txs = 0;
            cfg.max_blocks_per_second = Some(12);
            cfg.fault_window_ms = 3_000;
            cfg
        },
    );
    summary("nonce-gap", &r);
}

/// Defect 5 of issue 11: an admitted observer sending bodies under its own proposals must not
/// push out the real proposal's body (before, every height waited for the re-send fallback).
#[test]
fn an_observer_flooding_bodies_does_not_slow_the_chain() {
    let base = |s| {
        let mut cfg = Config::new(s, 4);
        cfg.observers = 1;
        cfg.extra_heights = 6;
        cfg
    };
    let quiet = sim::campaign(
        "flood-control",
        "an_observer_flooding_bodies_does_not_slow_the_chain",
        140_000,
        20,
        base,
    );
    let flooded = sim::campaign(
        "flood",
        "an_observer_flooding_bodies_does_not_slow_the_chain",
        140_000,
        20,
        |s| {
            let mut cfg = base(s);
            cfg.byzantine = vec![(4, Behaviour::BodyFlood)];
            cfg
        },
    );
    summary("flood", &flooded);
    let median = |r: &[Report]| {
        let mut v: Vec<u64> = r.iter().map(|r| r.ms_per_height_after_faults).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let (q, f) = (median(&quiet), median(&flooded));
    eprintln!("ms per height: quiet {q}, with the flooding observer {f}");
    assert!(
        f <= q * 3 / 2 + 20,
        "the flood slowed heights from {q} ms to {f} ms"
    );
    assert!(
        flooded.iter().map(|r| r.bodies_dropped).sum::<u64>() > 0,
        "the flood never reached a validator"
    );
}

#[test]
fn one_bad_pol_round_proposer_of_four() {
    let r = sim::campaign(
        "badpol4",
        "one_bad_pol_round_proposer_of_four",
        150_000,
        60,
        |s| byzantine(s, 4, &[((s % 4) as usize, Behaviour::BadPolRound)]),
    );
    summary("badpol4", &r);
}

#[test]
fn one_sync_forger_of_four_with_crashes() {
    let r = sim::campaign(
        "forgedsync4",
        "one_sync_forger_of_four_with_crashes",
        160_000,
        60,
        |s| {
            let mut cfg = crash_scenario(s, 4);
            cfg.byzantine = vec![((s % 4) as usize, Behaviour::ForgedSync)];
            cfg
        },
    );
    summary("forgedsync4", &r);
    assert!(
        r.iter().map(|r| r.sync_rejected).sum::<u64>() > 0,
        "no forged certificate was ever offered"
    );
}

/// "Lock, decide, crash the locked nodes": half the precommits are lost during the faults (so
/// validators lock on blocks that are not decided and later rounds run with the locks held),
/// honest validators crash just after they precommit a block (they hold a lock) and restart
/// from what they persisted, while one Byzantine
/// validator equivocates, runs as twins, or re-proposes stale proofs-of-lock (a block that
/// had a polka in an earlier round) and claims vr >= round to some peers. The locking
/// invariant (`Invariant::Locking`) judges every honest vote against the lock its own
/// signatures imply, so a node that forgets its lock on restart, or takes a stale or
/// too-new proof-of-lock, is caught even when no fork follows.
fn lock_crash_scenario(s: u64) -> Config {
    let behaviours = [
        Behaviour::Equivocate,
        Behaviour::Twins,
        Behaviour::BadPolRound,
        Behaviour::BadPolRound,
    ];
    let b = behaviours[(s % 4) as usize];
    let key = if b == Behaviour::Twins {
        3
    } else {
        ((s / 4) % 4) as usize
    };
    let mut cfg = byzantine(s, 4, &[(key, b)]);
    cfg.random_partitions = b != Behaviour::Twins || s % 2 == 0;
    if b == Behaviour::Twins {
        cfg.partitions = vec![PartitionSpec {
            start_ms: 0,
            end_ms: 1_000,
            groups: vec![0, 0, 1, 0, 1],
        }];
    }
    cfg.crash_on_lock = 0.3;
    cfg.precommit_loss = 0.5;
    cfg.fault_window_ms = 3_000;
    cfg
}

#[test]
fn lock_decide_crash_the_locked_nodes() {
    let r = sim::campaign(
        "lockcrash4",
        "lock_decide_crash_the_locked_nodes",
        190_000,
        100,
        lock_crash_scenario,
    );
    summary("lockcrash4", &r);
    assert!(
        r.iter().map(|r| r.crashes).sum::<u64>() > 0,
        "no locked node crashed"
    );
}

/// Weighted voting power with a total divisible by 3, so that exactly 2/3 occurs: powers
/// [1, 1, 1, 3] (a quorum needs 5 of 6), one small Byzantine validator of every kind.
fn weighted_scenario(s: u64) -> Config {
    let behaviours = [
        Behaviour::Equivocate,
        Behaviour::Withhold,
        Behaviour::Twins,
        Behaviour::BadPolRound,
        Behaviour::ForgedSync,
    ];
    let mut cfg = byzantine(
        s,
        4,
        &[((s % 3) as usize, behaviours[((s / 3) % 5) as usize])],
    );
    cfg.powers = vec![1, 1, 1, 3];
    cfg.crashes = 2;
    cfg
}

#[test]
fn weighted_power_one_byzantine_of_four() {
    let r = sim::campaign(
        "weighted4",
        "weighted_power_one_byzantine_of_four",
        170_000,
        60,
        weighted_scenario,
    );
    summary("weighted4", &r);
}

/// Exactly one third of the power is Byzantine (a twin of 3 equal validators, or of power 2 of
/// 6): beyond the fault bound, so liveness is not checked, but a correct quorum rule (more than
/// 2/3) still cannot fork, while "at least 2/3" would. Catches a weakened quorum.
#[test]
fn one_third_byzantine_cannot_fork_a_strict_quorum() {
    let r = sim::campaign(
        "third3",
        "one_third_byzantine_cannot_fork_a_strict_quorum",
        180_000,
        60,
        |s| {
            let (n, powers, twin) = if s % 2 == 0 {
                (3, vec![1, 1, 1], 2)
            } else {
                (4, vec![1, 1, 2, 2], 3)
            };
            let mut cfg = Config::new(s, n);
            cfg.powers = powers;
            cfg.byzantine = vec![(twin, Behaviour::Twins)];
            // Instances: the honest keys, then the twin twice, in different halves; each half
            // holds exactly 2/3 of the power with the twin.
            let groups = if n == 3 {
                vec![0, 1, 0, 1]
            } else {
                vec![0, 0, 1, 0, 1]
            };
            cfg.partitions = vec![PartitionSpec {
                start_ms: 0,
                end_ms: 3_000,
                groups,
            }];
            cfg.fault_window_ms = 3_000;
            cfg.check_liveness = false;
            cfg.liveness_bound_ms = 5_000;
            cfg
        },
    );
    summary("third3", &r);
}

/// Seeds at which the previous simulation (engine-level, with its own driver) stalled for
/// good on main before issue 11's fixes, kept as regression runs of the same scenarios.
#[test]
fn pinned_seeds_of_issue_11() {
    let one = |seed: u64, cfg: Config| {
        let report = sim::run(cfg);
        assert!(
            report.violation.is_none(),
            "seed {seed}: {:?}",
            report.violation
        );
    };
    one(20_353, crash_scenario(20_353, 4));
    one(
        50_113,
        byzantine(50_113, 4, &[((50_113 % 4) as usize, Behaviour::Withhold)]),
    );
    let behaviours = [
        Behaviour::Equivocate,
        Behaviour::Withhold,
        Behaviour::InvalidProposals,
        Behaviour::Twins,
    ];
    let s = 80_295u64;
    one(
        s,
        byzantine(
            s,
            7,
            &[
                (1, behaviours[(s % 4) as usize]),
                (5, behaviours[((s / 4) % 4) as usize]),
            ],
        ),
    );
    one(70_535, twins_scenario(70_535));
    // Found by this simulation while fixing the above: locked validators that all restarted
    // lost the locked block (120002); an equivocator's made-up values crowded out the
    // proof-of-lock's (170011); a restarted node one round ahead had lost its precommit of
    // the round before, which the others needed to time out (171514).
    one(120_002, {
        let mut cfg = restart_scenario(120_002, true, 400).with_network_faults();
        cfg.random_partitions = false;
        cfg
    });
    one(170_011, weighted_scenario(170_011));
    one(171_514, weighted_scenario(171_514));
    one(
        41_160,
        byzantine(41_160, 4, &[((41_160 % 4) as usize, Behaviour::Equivocate)]),
    );
}
