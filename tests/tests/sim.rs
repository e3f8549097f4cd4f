//! Deterministic simulation of validator clusters (see `concordat_tests::sim` and
//! `docs/TESTING.md`). Each test is one scenario run over many seeds; invariants are checked
//! after every step. `CONCORDAT_SIM_SEED=<n>` replays one seed, `CONCORDAT_SIM_SEEDS=<count>`
//! sets the number of seeds per scenario.

use concordat_tests::sim::{self, Behaviour, Config, Invariant, PartitionSpec, Report};

fn summary(name: &str, reports: &[Report]) {
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let heights: usize = reports.iter().map(|r| r.heights).sum();
    let crashes: u64 = reports.iter().map(|r| r.crashes).sum();
    let evidence: u64 = reports.iter().map(|r| r.evidence).sum();
    let synced: u64 = reports.iter().map(|r| r.synced).sum();
    let max_round = reports.iter().map(|r| r.max_round).max().unwrap_or(0);
    eprintln!(
        "{name}: {} seeds, {events} events, {heights} heights decided, max round {max_round}, \
         {crashes} crashes, {synced} heights synced, {evidence} evidence",
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

/// Equivocators and twins, checked for liveness too. (Before equivocating votes counted for
/// their own value — `consensus::votekeeper` — some seeds stalled here: a proof-of-lock seen
/// by one honest node could never complete at the others.)
fn byzantine_checked(cfg: Config) -> Config {
    cfg
}

#[test]
fn one_equivocator_of_four() {
    let r = sim::campaign("equivocate4", "one_equivocator_of_four", 40_000, 100, |s| {
        byzantine_checked(byzantine(
            s,
            4,
            &[((s % 4) as usize, Behaviour::Equivocate)],
        ))
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
        byzantine_checked(twins_scenario(s))
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
        byzantine_checked(byzantine(s, 7, &[(1, a), (5, b)]))
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

#[test]
fn one_equivocator_of_four_liveness() {
    sim::campaign(
        "equivocate4-live",
        "one_equivocator_of_four_liveness",
        40_000,
        100,
        |s| byzantine(s, 4, &[((s % 4) as usize, Behaviour::Equivocate)]),
    );
}

#[test]
fn one_twin_pair_of_four_liveness() {
    sim::campaign(
        "twins4-live",
        "one_twin_pair_of_four_liveness",
        70_000,
        100,
        twins_scenario,
    );
}
