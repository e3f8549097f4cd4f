//! Deterministic simulation of a Concordat validator cluster, running the node's real code.
//!
//! N validators (3, 4, 6 or 7 in the suite, equal or weighted voting power) each run the
//! node's own [`concordat_node::bft::BftDriver`] and core over an in-memory store, inside one
//! process: blocks with real transactions are built, re-executed by the contract modules,
//! committed and synced exactly as in the daemon. A seeded `ChaCha8Rng` drives a simulated
//! network (per-message delay, loss, duplication, partitions that start and heal), a virtual
//! clock with timeouts, crash-restart and whole-network restarts (only the last completed
//! `Persist` and the committed blocks survive), block sync through the driver (certificates
//! and execution verified), client transactions, and Byzantine behaviours ([`Behaviour`]).
//!
//! Invariants are checked after every step ([`check`]); liveness is checked after the fault
//! window: every honest node must reach the target height within a bound of virtual time.
//!
//! Seeds: `CONCORDAT_SIM_SEED=<n>` runs exactly one seed, `CONCORDAT_SIM_SEEDS=<count>` runs
//! `count` seeds per scenario (see [`seeds`]). A failure panics with the seed and the command
//! that replays it. See `docs/TESTING.md`.

pub mod check;
pub mod cluster;

pub use check::{Invariant, Violation};
pub use cluster::{Cluster, Report, SIM_CHAIN};

use concordat_consensus::{Backoff, TimeoutConfig};

/// What a Byzantine validator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behaviour {
    /// Signs, for every message its engine sends, a conflicting one (another block, or nil)
    /// with its key directly, and sends each peer one of the two at random.
    Equivocate,
    /// Sends nothing, or only to one fixed peer.
    Withhold,
    /// Proposes blocks that honest nodes find invalid.
    InvalidProposals,
    /// Two node instances with the same key (put them in different partitions).
    Twins,
    /// Proposes with proof-of-lock rounds at or above the proposal's round, or stale ones.
    BadPolRound,
    /// Serves block sync with weak certificates (precommits it saw for a block that was not
    /// committed, plus its own: at most 2/3 of the power) or forged ones.
    ForgedSync,
    /// An admitted observer (not a validator) sending block bodies under proposals it signed
    /// itself, as fast as it can.
    BodyFlood,
}

/// A scripted partition: from `start_ms` to `end_ms`, node instance `i` is in group
/// `groups[i]`; only nodes of one group talk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpec {
    /// Start (virtual ms).
    pub start_ms: u64,
    /// Heal (virtual ms).
    pub end_ms: u64,
    /// Group per node instance (twins count as two instances, in key order).
    pub groups: Vec<u8>,
}

/// One simulation run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The seed of every random choice.
    pub seed: u64,
    /// Number of validators.
    pub validators: usize,
    /// Voting power per validator (missing entries: 1).
    pub powers: Vec<u64>,
    /// Observer instances (keys outside the set), after the validators; give them a
    /// behaviour in `byzantine` by their key index (`validators + i`).
    pub observers: usize,
    /// Byzantine validators by key index.
    pub byzantine: Vec<(usize, Behaviour)>,
    /// Minimum message delay (ms).
    pub min_delay_ms: u64,
    /// Maximum message delay (ms).
    pub max_delay_ms: u64,
    /// Probability that a message is lost (during the fault window).
    pub loss: f64,
    /// Extra probability that a precommit is lost (during the fault window): validators lock
    /// on blocks that then are not decided, and later rounds run with those locks held.
    pub precommit_loss: f64,
    /// Probability that a message is delivered twice (during the fault window).
    pub duplication: f64,
    /// Random partitions during the fault window.
    pub random_partitions: bool,
    /// Scripted partitions.
    pub partitions: Vec<PartitionSpec>,
    /// Number of crash-restarts during the fault window.
    pub crashes: u32,
    /// Probability that an honest validator crashes just after it signs a precommit for a
    /// block (it has locked on it), during the fault window; it restarts 0.2-1.5 s later
    /// from what it persisted. At most 8 such crashes a run.
    pub crash_on_lock: f64,
    /// Whole-network restarts during the fault window: every instance stops within
    /// `restart_spread_ms` and all start again.
    pub restart_all: u32,
    /// Spread of the stops (and of the starts) of a whole-network restart.
    pub restart_spread_ms: u64,
    /// Whole-network restarts stop gracefully (after a step) instead of crashing (possibly
    /// in the middle of one).
    pub graceful_restarts: bool,
    /// Client transactions (party registrations) submitted during the fault window.
    pub txs: usize,
    /// A transaction with a nonce gap and a far expiry is pending from the start.
    pub nonce_gap: bool,
    /// If set, honest nodes may commit at most this many blocks in any second of virtual
    /// time (a Liveness violation otherwise: the chain spins).
    pub max_blocks_per_second: Option<u64>,
    /// The proposer's wait for an includable transaction before an empty block.
    pub empty_block_interval_ms: u64,
    /// A height without a commit for this long re-sends and relays (the daemon's 2 s).
    pub resend_after_ms: u64,
    /// Length of the fault window (virtual ms); then partitions heal, loss stops and crashed
    /// nodes restart (Byzantine nodes keep misbehaving).
    pub fault_window_ms: u64,
    /// After the fault window honest nodes must decide this many more heights...
    pub extra_heights: u64,
    /// ...and at least up to this height...
    pub min_heights: u64,
    /// ...within this much virtual time.
    pub liveness_bound_ms: u64,
    /// Whether missing the target height within the bound is a violation (safety-only runs
    /// set this to `false`).
    pub check_liveness: bool,
    /// Tick period (ms): owed proposals, stall re-send, block sync.
    pub tick_ms: u64,
    /// Consensus timeouts.
    pub timeouts: TimeoutConfig,
}

impl Config {
    /// A faultless cluster of `validators` with defaults tuned for the simulation.
    pub fn new(seed: u64, validators: usize) -> Config {
        Config {
            seed,
            validators,
            powers: Vec::new(),
            observers: 0,
            byzantine: Vec::new(),
            min_delay_ms: 1,
            max_delay_ms: 40,
            loss: 0.0,
            precommit_loss: 0.0,
            duplication: 0.0,
            random_partitions: false,
            partitions: Vec::new(),
            crashes: 0,
            crash_on_lock: 0.0,
            restart_all: 0,
            restart_spread_ms: 0,
            graceful_restarts: true,
            txs: 6,
            nonce_gap: false,
            max_blocks_per_second: None,
            empty_block_interval_ms: 100,
            resend_after_ms: 600,
            fault_window_ms: 1_500,
            extra_heights: 2,
            min_heights: 3,
            liveness_bound_ms: 120_000,
            check_liveness: true,
            tick_ms: 100,
            timeouts: TimeoutConfig {
                propose: Backoff {
                    base_ms: 300,
                    per_round_ms: 100,
                },
                prevote: Backoff {
                    base_ms: 150,
                    per_round_ms: 100,
                },
                precommit: Backoff {
                    base_ms: 150,
                    per_round_ms: 100,
                },
            },
        }
    }

    /// Adds loss, duplication, delay jitter and random partitions.
    pub fn with_network_faults(mut self) -> Config {
        self.loss = 0.15;
        self.duplication = 0.1;
        self.max_delay_ms = 120;
        self.random_partitions = true;
        self
    }
}

/// Runs one seed of `cfg` and returns its report (with the first violation, if any).
pub fn run(cfg: Config) -> Report {
    Cluster::new(cfg).run()
}

/// The seeds to run for a scenario whose default count is `default`:
/// `CONCORDAT_SIM_SEED=<n>` gives exactly `[n]`; `CONCORDAT_SIM_SEEDS=<count>` gives
/// `count` seeds; otherwise `default` seeds. Seeds of different scenarios start at `base`.
///
/// # Panics
/// If one of the variables is set but not a number.
pub fn seeds(base: u64, default: u64) -> Vec<u64> {
    if let Ok(s) = std::env::var("CONCORDAT_SIM_SEED") {
        let seed: u64 = s
            .trim()
            .parse()
            .expect("CONCORDAT_SIM_SEED must be an unsigned integer");
        return vec![seed];
    }
    let count = match std::env::var("CONCORDAT_SIM_SEEDS") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("CONCORDAT_SIM_SEEDS must be an unsigned integer"),
        Err(_) => default,
    };
    (base..base.saturating_add(count)).collect()
}

/// Runs `scenario(seed)` for every seed of [`seeds`], panicking at the first failure with the
/// seed and the replay command. Returns the reports.
///
/// # Panics
/// On the first violation.
pub fn campaign(
    name: &str,
    test: &str,
    base: u64,
    default: u64,
    scenario: impl Fn(u64) -> Config,
) -> Vec<Report> {
    let mut reports = Vec::new();
    for seed in seeds(base, default) {
        let report = run(scenario(seed));
        if let Some(v) = &report.violation {
            panic!(
                "simulation scenario {name}: seed {seed} failed: {v}\n\
                 replay: CONCORDAT_SIM_SEED={seed} cargo test -p concordat-tests --test sim \
                 {test} -- --nocapture\nreport: {report:?}"
            );
        }
        reports.push(report);
    }
    reports
}
