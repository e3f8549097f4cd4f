//! `concordat`: the Concordat command-line tool: keys, genesis, transactions, verified queries
//! and the demo smoke test. Every command takes `--output json`.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
