//! `concordat`: the Concordat command-line tool (keys, genesis; transactions, queries and
//! proofs arrive with later issues). Every command takes `--output json`.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
